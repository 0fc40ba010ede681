//! The training sandbox: every bundled exercise loads and plays to the end, the lesson each
//! debrief teaches holds in the simulator, and a session carries on from where it left off.

use chanlab_sim::stats::Moments;
use chanlab_sim::training::{self, Session, TrainingError};

#[test]
fn there_are_five_exercises_each_on_its_own_mechanism() {
    let all = training::bundled();
    assert_eq!(all.len(), 5);
    let mut mechanisms: Vec<&str> = all.iter().map(|e| e.file.mechanism.as_str()).collect();
    mechanisms.dedup();
    assert_eq!(mechanisms.len(), 5);
}

/// The policy the debrief recommends beats the trap on the exercise's own score, with the
/// 95% interval of the paired difference above zero.
#[test]
fn every_lesson_holds() {
    let mut report = Vec::new();
    let mut failed = false;
    for e in training::bundled() {
        let session = Session::new(&e, None, None).unwrap();
        let rec = e.policy(&e.file.lesson.recommended).unwrap();
        let trap = e.policy(&e.file.lesson.trap).unwrap();
        let a = session.policy_scores(&rec).unwrap();
        let b = session.policy_scores(&trap).unwrap();
        let mut d = Moments::new();
        for (x, y) in a.iter().zip(&b) {
            d.add(x - y);
        }
        let (lo, hi) = d.interval95().unwrap();
        report.push(format!(
            "{}: recommended − trap = {:.3} [{lo:.3}, {hi:.3}]",
            e.file.id,
            d.mean().unwrap()
        ));
        failed |= lo <= 0.0;
    }
    assert!(!failed, "lessons that do not hold:\n{}", report.join("\n"));
}

#[test]
fn a_session_plays_to_the_end_and_carries_on_from_where_it_left_off() {
    let e = training::find("stretch-goal-trap").unwrap();
    let mut s = Session::new(&e, Some(9), Some(8)).unwrap();
    let defaults = e.defaults();
    let first = s.play(&defaults).unwrap();
    assert_eq!(first.round, 1);
    assert_eq!(first.months, [0, 2]);
    let rec = e.policy(&e.file.lesson.recommended).unwrap();
    for _ in 1..e.file.rounds {
        s.play(&rec).unwrap();
    }
    assert!(s.finished());
    // Round 1 is the same after three more rounds were played with other decisions.
    let history = s.history().unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(history[0], first);
    assert!(matches!(s.play(&rec), Err(TrainingError::Finished { .. })));
    let debrief = s.debrief().unwrap();
    assert!((0.0..=1.0).contains(&debrief.percentile));
    assert!(debrief.best.score >= debrief.naive.score);
    assert!(debrief.score.p5 <= debrief.score.mean && debrief.score.mean <= debrief.score.p95);
    // The same seed and decisions give the same debrief.
    let again = Session::replay(&e, Some(9), Some(8), s.decisions()).unwrap();
    assert_eq!(again.debrief().unwrap(), debrief);
}

#[test]
fn the_debrief_names_the_mechanism_of_the_trap() {
    let e = training::find("stretch-goal-trap").unwrap();
    let mut s = Session::new(&e, None, Some(20)).unwrap();
    let trap = e.policy(&e.file.lesson.trap).unwrap();
    for _ in 0..e.file.rounds {
        s.play(&trap).unwrap();
    }
    let d = s.debrief().unwrap();
    assert!(d.versus_recommended[2] < 0.0, "{:?}", d.versus_recommended);
    assert!(
        d.findings.iter().any(|f| f.contains("out of reach")),
        "{:#?}",
        d.findings
    );
    assert!(d.percentile < 0.5);
}

#[test]
fn bad_decisions_are_refused_with_what_is_allowed() {
    let e = training::find("unmeasured-process").unwrap();
    let mut given = std::collections::BTreeMap::new();
    given.insert("assessment".to_owned(), "maybe".to_owned());
    let err = e.policy(&given).unwrap_err().to_string();
    assert!(
        err.contains("assessment") && err.contains("no, yes"),
        "{err}"
    );
    given.clear();
    given.insert("colour".to_owned(), "red".to_owned());
    let err = e.policy(&given).unwrap_err().to_string();
    assert!(
        err.contains("colour") && err.contains("assessment, pay"),
        "{err}"
    );
    let mut s = Session::new(&e, None, Some(4)).unwrap();
    assert!(s.play(&[0]).is_err());
    assert!(s.play(&[0, 5]).is_err());
    assert!(matches!(
        s.debrief(),
        Err(TrainingError::NotFinished { played: 0, .. })
    ));
    assert!(Session::new(&e, None, Some(1)).is_err());
}

#[test]
fn every_exercise_plays_on_a_channel_kept_in_another_currency() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("exercises");
    let mut played = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut file: toml::Table = toml::from_str(&text).unwrap();
        let patch = file
            .entry("scenario_patch")
            .or_insert(toml::Value::Table(Default::default()));
        patch
            .as_table_mut()
            .unwrap()
            .insert("currency".into(), toml::Value::String("USD".into()));
        let e = training::load(&toml::to_string(&file).unwrap()).unwrap();
        assert_eq!(e.scenario().file().currency.code(), "USD");
        let mut session = Session::new(&e, None, None).unwrap();
        session.play(&e.defaults()).unwrap();
        // Every choice's spec is valid in USD too (the choices are restated with the spec).
        let last: Vec<usize> = e
            .file
            .decisions
            .iter()
            .map(|d| d.choices.len() - 1)
            .collect();
        session.play(&last).unwrap();
        played += 1;
    }
    assert_eq!(played, 5);
}
