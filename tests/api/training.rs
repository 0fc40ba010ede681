//! The training sandbox over HTTP: every bundled exercise played to the end through the
//! API, bad choices and finished sessions refused, sessions kept to the token that made
//! them, and the leaderboard.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, spawn_app};

/// A token of `role` labelled `label`.
async fn token(app: &TestApp, role: &str, label: &str) -> String {
    let res = app
        .post("/tokens", &json!({"role": role, "label": label}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["token"].as_str().unwrap().to_owned()
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> Answer {
    app.send(Method::GET, path, Some(token), &[], None).await
}

/// Starts a session of `exercise` as `token` with 4 replications; returns its body.
pub(crate) async fn start(app: &TestApp, token: &str, exercise: &str, seed: u64) -> Value {
    let res = app
        .json_as(
            token,
            Method::POST,
            "/training/sessions",
            &json!({"exercise": exercise, "seed": seed, "replications": 4}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    assert_eq!(
        res.header("location").unwrap(),
        format!("/training/sessions/{}", body["id"].as_str().unwrap())
    );
    body
}

async fn play(app: &TestApp, token: &str, session: &str, decisions: Value) -> Answer {
    app.json_as(
        token,
        Method::POST,
        &format!("/training/sessions/{session}/rounds"),
        &json!({ "decisions": decisions }),
    )
    .await
}

/// Plays every round of `session`, round `r` taking choice `r + shift` (modulo) of each
/// decision; returns the last answer.
pub(crate) async fn play_out(app: &TestApp, token: &str, session: &Value, shift: usize) -> Value {
    let id = session["id"].as_str().unwrap();
    let rounds = session["rounds_total"].as_u64().unwrap() as usize;
    let mut last = Value::Null;
    for r in 0..rounds {
        let mut decisions = serde_json::Map::new();
        for d in session["decisions"].as_array().unwrap() {
            let choices = d["choices"].as_array().unwrap();
            let pick = &choices[(r + shift) % choices.len()];
            decisions.insert(d["id"].as_str().unwrap().into(), pick["id"].clone());
        }
        let res = play(app, token, id, Value::Object(decisions.clone())).await;
        assert_eq!(res.status, 200, "round {}: {}", r + 1, res.text());
        let body = res.json();
        assert_eq!(body["report"]["round"], r + 1);
        assert_eq!(body["rounds_played"], r + 1);
        let taken: Vec<(String, String)> = body["report"]["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["decision"].as_str().unwrap().to_owned(),
                    t["choice"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (d, c) in &decisions {
            assert!(taken.contains(&(d.clone(), c.as_str().unwrap().to_owned())));
        }
        assert!(!body["report"]["metrics"].as_array().unwrap().is_empty());
        let last_round = r + 1 == rounds;
        assert_eq!(body["finished"], last_round);
        assert_eq!(body["debrief"].is_object(), last_round, "{body}");
        assert_eq!(body["score"].is_number(), last_round, "{body}");
        last = body;
    }
    last
}

#[actix_web::test]
async fn exercises_are_listed_without_their_lesson() {
    let app = spawn_app().await;
    let trainee = token(&app, "trainee", "Ada").await;

    let list = get_as(&app, &trainee, "/exercises").await;
    assert_eq!(list.status, 200, "{}", list.text());
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 5);
    for e in &items {
        for key in [
            "id",
            "title",
            "mechanism",
            "rounds",
            "round_months",
            "scoring",
        ] {
            assert!(!e[key].is_null(), "{key} missing from {e}");
        }
        assert!(!e["decisions"][0]["choices"].as_array().unwrap().is_empty());
    }
    let one = get_as(&app, &trainee, "/exercises/unmeasured-process").await;
    assert_eq!(one.status, 200);
    let body = one.json();
    assert!(body["briefing"].as_str().unwrap().contains("regional"));
    for text in [list.text(), one.text()] {
        for secret in [
            "\"recommended\"",
            "\"trap\"",
            "\"lesson\"",
            "A mandate nobody measures",
        ] {
            assert!(!text.contains(secret), "{secret} shown before the end");
        }
    }
    get_as(&app, &trainee, "/exercises/no-such-exercise")
        .await
        .problem(404);
    get_as(&app, &trainee, "/exercises/no-such-exercise/leaderboard")
        .await
        .problem(404);
}

#[actix_web::test]
async fn every_bundled_exercise_plays_to_the_end_with_a_score_and_debrief() {
    let app = spawn_app().await;
    let trainee = token(&app, "trainee", "Ada").await;
    let exercises = get_as(&app, &trainee, "/exercises").await.json();

    for (i, e) in exercises["items"].as_array().unwrap().iter().enumerate() {
        let id = e["id"].as_str().unwrap();
        let session = start(&app, &trainee, id, 11).await;
        assert_eq!(session["exercise"], id);
        assert_eq!(session["rounds_played"], 0);
        assert_eq!(session["seed"], 11);
        assert_eq!(session["replications"], 4);
        assert_eq!(session["player"], "Ada");
        assert!(!session["briefing"].as_str().unwrap().is_empty());
        assert_eq!(session["decisions"], e["decisions"]);
        assert!(session["debrief"].is_null());

        let last = play_out(&app, &trainee, &session, i).await;
        let debrief = &last["debrief"];
        let percentile = debrief["percentile"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&percentile), "{debrief}");
        assert!(debrief["best"]["score"].is_number(), "{debrief}");
        assert!(debrief["recommended"]["choices"].is_object(), "{debrief}");
        assert!(!debrief["lesson"].as_str().unwrap().is_empty());
        assert!(debrief["findings"].is_array());
        assert_eq!(last["score"], debrief["score"]["mean"]);

        // The session keeps every round and the debrief; reading it simulates nothing.
        let sid = session["id"].as_str().unwrap();
        let read = get_as(&app, &trainee, &format!("/training/sessions/{sid}")).await;
        assert_eq!(read.status, 200, "{}", read.text());
        let read = read.json();
        assert_eq!(read["finished"], true);
        assert_eq!(read["rounds_played"], read["rounds_total"]);
        assert_eq!(
            read["rounds"].as_array().unwrap().len() as u64,
            e["rounds"].as_u64().unwrap()
        );
        assert_eq!(
            read["rounds"].as_array().unwrap().last().unwrap(),
            &last["report"]
        );
        assert_eq!(&read["debrief"], debrief);
        assert_eq!(read["score"], last["score"]);

        // A finished session plays no more.
        let again = play(&app, &trainee, sid, json!({})).await;
        let problem = again.problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("finished"));
    }
}

#[actix_web::test]
async fn a_bad_choice_is_refused_naming_the_decision_and_plays_nothing() {
    let app = spawn_app().await;
    let trainee = token(&app, "trainee", "Ada").await;
    let session = start(&app, &trainee, "unmeasured-process", 3).await;
    let sid = session["id"].as_str().unwrap();

    let bad = play(&app, &trainee, sid, json!({"assessment": "maybe"})).await;
    let problem = bad.problem(422);
    assert_eq!(problem["errors"][0]["field"], "decisions.assessment");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no, yes")
    );
    let unknown = play(&app, &trainee, sid, json!({"colour": "red"})).await;
    assert_eq!(
        unknown.problem(422)["errors"][0]["field"],
        "decisions.colour"
    );
    let wrong_type = play(&app, &trainee, sid, json!({"assessment": 1})).await;
    assert_eq!(
        wrong_type.problem(422)["errors"][0]["field"],
        "decisions.assessment"
    );
    let read = get_as(&app, &trainee, &format!("/training/sessions/{sid}"))
        .await
        .json();
    assert_eq!(read["rounds_played"], 0);

    // An empty body takes every default.
    let defaults = app
        .send(
            Method::POST,
            &format!("/training/sessions/{sid}/rounds"),
            Some(&trainee),
            &[],
            None,
        )
        .await;
    assert_eq!(defaults.status, 200, "{}", defaults.text());
    let taken = &defaults.json()["report"]["decisions"];
    assert_eq!(taken[0]["choice"], "no");
    assert_eq!(taken[1]["choice"], "none");

    for (body, field) in [
        (json!({"exercise": "nope"}), "exercise"),
        (
            json!({"exercise": "unmeasured-process", "replications": 1}),
            "replications",
        ),
        (
            json!({"exercise": "unmeasured-process", "replications": 100000}),
            "replications",
        ),
        (
            json!({"exercise": "unmeasured-process", "colour": 1}),
            "colour",
        ),
    ] {
        let res = app
            .json_as(&trainee, Method::POST, "/training/sessions", &body)
            .await;
        assert_eq!(res.problem(422)["errors"][0]["field"], field, "{body}");
    }
    let missing = "/training/sessions/019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01";
    get_as(&app, &trainee, missing).await.problem(404);
    app.json_as(
        &trainee,
        Method::POST,
        &format!("{missing}/rounds"),
        &json!({}),
    )
    .await
    .problem(404);
    get_as(&app, &trainee, "/training/sessions/not-an-id")
        .await
        .problem(404);
}

#[actix_web::test]
async fn a_session_belongs_to_its_token_and_a_trainer_reads_them_all() {
    let app = spawn_app().await;
    let ada = token(&app, "trainee", "Ada").await;
    let bob = token(&app, "trainee", "Bob").await;
    let trainer = token(&app, "channel_manager", "Trainer").await;
    let session = start(&app, &ada, "stretch-goal-trap", 5).await;
    let sid = session["id"].as_str().unwrap();
    let path = format!("/training/sessions/{sid}");

    // Another trainee's session is, to Bob, one that does not exist.
    get_as(&app, &bob, &path).await.problem(404);
    play(&app, &bob, sid, json!({})).await.problem(404);
    let bobs = get_as(&app, &bob, "/training/sessions").await.json();
    assert!(bobs["items"].as_array().unwrap().is_empty(), "{bobs}");
    let adas = get_as(&app, &ada, "/training/sessions").await.json();
    assert_eq!(adas["items"][0]["id"], sid);

    let read = get_as(&app, &trainer, &path).await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["player"], "Ada");
    let all = get_as(
        &app,
        &trainer,
        "/training/sessions?exercise=stretch-goal-trap",
    )
    .await
    .json();
    assert_eq!(all["items"][0]["id"], sid);
    let none = get_as(
        &app,
        &trainer,
        "/training/sessions?exercise=recruit-or-farm",
    )
    .await
    .json();
    assert!(none["items"].as_array().unwrap().is_empty());
    // Reading is not playing: a trainer plays only its own sessions.
    play(&app, &trainer, sid, json!({})).await.problem(403);

    // A trainee touches no records.
    get_as(&app, &ada, "/partners").await.problem(403);
    app.json_as(
        &ada,
        Method::POST,
        "/regions",
        &json!({"name": "Norden", "regional_manager": "Astrid"}),
    )
    .await
    .problem(403);
}

#[actix_web::test]
async fn a_retried_round_with_the_same_idempotency_key_plays_once() {
    let app = spawn_app().await;
    let ada = token(&app, "trainee", "Ada").await;
    let session = start(&app, &ada, "quarter-end-games", 2).await;
    let sid = session["id"].as_str().unwrap();
    let path = format!("/training/sessions/{sid}/rounds");
    let send = || {
        app.send(
            Method::POST,
            &path,
            Some(&ada),
            &[("Idempotency-Key", "round-1")],
            Some(("application/json", b"{}".to_vec())),
        )
    };
    let first = send().await;
    assert_eq!(first.status, 200, "{}", first.text());
    let second = send().await;
    assert_eq!(second.status, 200);
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(second.json(), first.json());
    let read = get_as(&app, &ada, &format!("/training/sessions/{sid}"))
        .await
        .json();
    assert_eq!(read["rounds_played"], 1);
}

#[actix_web::test]
async fn the_leaderboard_lists_finished_sessions_best_first() {
    let app = spawn_app().await;
    let ada = token(&app, "trainee", "Ada").await;
    let bob = token(&app, "trainee", "Bob").await;
    let exercise = "unmeasured-process";
    let a = start(&app, &ada, exercise, 8).await;
    let b = start(&app, &bob, exercise, 8).await;
    let unfinished = start(&app, &bob, exercise, 8).await;
    play_out(&app, &ada, &a, 0).await;
    play_out(&app, &bob, &b, 1).await;
    play(&app, &bob, unfinished["id"].as_str().unwrap(), json!({})).await;

    let board = get_as(&app, &ada, &format!("/exercises/{exercise}/leaderboard")).await;
    assert_eq!(board.status, 200, "{}", board.text());
    let board = board.json();
    assert_eq!(board["exercise"], exercise);
    assert_eq!(board["sessions"], 2);
    let entries = board["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| e["session_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&a["id"].as_str().unwrap()) && ids.contains(&b["id"].as_str().unwrap()));
    assert!(entries[0]["score"].as_f64().unwrap() >= entries[1]["score"].as_f64().unwrap());
    assert_eq!(entries[0]["rank"], 1);
    assert_eq!(entries[1]["rank"], 2);
    let mut players: Vec<&str> = entries
        .iter()
        .map(|e| e["player"].as_str().unwrap())
        .collect();
    players.sort_unstable();
    assert_eq!(players, ["Ada", "Bob"]);
    for e in entries {
        assert!((0.0..=1.0).contains(&e["percentile"].as_f64().unwrap()));
        assert!(e["finished_at"].is_string());
    }
    let top = get_as(
        &app,
        &ada,
        &format!("/exercises/{exercise}/leaderboard?limit=1"),
    )
    .await
    .json();
    assert_eq!(top["entries"].as_array().unwrap().len(), 1);
    assert_eq!(top["entries"][0], entries[0]);
    let other = get_as(&app, &ada, "/exercises/recruit-or-farm/leaderboard")
        .await
        .json();
    assert!(other["entries"].as_array().unwrap().is_empty());
}

/// `chanlab token create --role trainee` on a stopped server's data directory.
fn cli_token(dir: &std::path::Path, role: &str, label: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args([
            "token",
            "create",
            "--role",
            role,
            "--label",
            label,
            "--data-dir",
        ])
        .arg(dir)
        .output()
        .expect("chanlab token create")
}

#[actix_web::test]
async fn a_cli_trainee_token_plays_and_the_session_survives_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let refused = cli_token(dir.path(), "apprentice", "x");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("trainee"));
    let made = cli_token(dir.path(), "trainee", "Ada Lovelace");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let trainee = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .finish();
    let auth = ("Authorization", format!("Bearer {trainee}"));

    let mut first = crate::restart::start(dir.path());
    let mut res = client
        .post(format!("{}/training/sessions", first.address))
        .insert_header(auth.clone())
        .send_json(&json!({"exercise": "ratchet-sandbagging", "replications": 4}))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let session: Value = res.json().await.unwrap();
    assert_eq!(session["player"], "Ada Lovelace");
    let path = format!("/training/sessions/{}", session["id"].as_str().unwrap());
    let mut res = client
        .post(format!("{}{path}/rounds", first.address))
        .insert_header(auth.clone())
        .send_json(&json!({}))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let round: Value = res.json().await.unwrap();
    first.child.kill().expect("SIGKILL the server");
    first.child.wait().unwrap();

    let mut second = crate::restart::start(dir.path());
    let mut res = client
        .get(format!("{}{path}", second.address))
        .insert_header(auth.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["rounds_played"], 1);
    assert_eq!(read["rounds"][0], round["report"]);
    let res = client
        .get(format!("{}/partners", second.address))
        .insert_header(auth)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}
