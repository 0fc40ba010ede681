//! Synthetic records: a simulated history written as records, with its truth beside it.

use std::collections::{BTreeMap, HashMap};

use chanlab_shared::{LifecycleStage, Month, RepStatus};
use chanlab_sim::synthesize::synthesize;
use chanlab_sim::{bundled, files::Format, scenario};

fn mid_size() -> scenario::Scenario {
    let text = bundled::find_scenario("mid-size").unwrap().text;
    scenario::parse(text, Format::Toml, &|_| Err("no files".into())).unwrap()
}

#[test]
fn synthesized_records_hold_every_month_of_every_selling_partner_and_repeat_for_a_seed() {
    let s = mid_size();
    let a = synthesize(&s, 24, 5).unwrap();
    let b = synthesize(&s, 24, 5).unwrap();
    assert_eq!(a, b, "the same seed gives the same records, ids included");
    assert_ne!(a.sales, synthesize(&s, 24, 6).unwrap().sales);

    assert_eq!(a.regions.len(), 4);
    let first = Month::new(2027, 1).unwrap();
    let last = first.plus(23).unwrap();
    assert!(
        a.sales
            .iter()
            .all(|r| first <= r.month() && r.month() <= last)
    );
    let mut per_month: BTreeMap<Month, usize> = BTreeMap::new();
    for r in &a.sales {
        *per_month.entry(r.month()).or_default() += 1;
    }
    assert_eq!(per_month.len(), 24);
    assert!(per_month[&first] >= 350, "{}", per_month[&first]);
    // Stage changes are legal moves, dated inside the records, and replay to the stage each
    // partner ends in.
    let mut stage: HashMap<_, _> = HashMap::new();
    for c in &a.stage_changes {
        assert!(c.from.can_move_to(c.to), "{} → {}", c.from, c.to);
        let now = stage.entry(c.partner_id).or_insert(c.from);
        assert_eq!(*now, c.from, "moves chain");
        *now = c.to;
        let m = Month::of_date(c.on).unwrap();
        assert!(first <= m && m <= last);
    }
    for p in &a.partners {
        if let Some(s) = stage.get(&p.id) {
            assert_eq!(*s, p.stage());
        }
    }
    assert!(
        a.stage_changes
            .iter()
            .any(|c| c.to == LifecycleStage::Negotiating)
    );
    // Departed reps have a leaving date after their hiring date; every seat has a rep.
    let departed: Vec<_> = a
        .reps
        .iter()
        .filter(|r| r.status == RepStatus::Departed)
        .collect();
    assert!(!departed.is_empty());
    assert!(
        departed
            .iter()
            .all(|r| r.left_on.is_some_and(|d| d >= r.hired_on))
    );
    assert!(a.reps.iter().all(|r| r.check_dates().is_ok()));
    assert!(a.reps.len() >= 32 + departed.len() - 32.min(departed.len()));
    // Goals and assessments per filled seat and quarter; activities by the seat's rep.
    assert!(a.goals.len() > 32 * 6, "{}", a.goals.len());
    assert_eq!(a.goals.len(), a.assessments.len());
    assert!(a.activities.len() > 1000);
    assert_eq!(a.truth.partners.len(), a.partners.len());
}
