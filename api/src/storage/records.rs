//! What each record declares to the storage: its key, its secondary index entries (the list
//! filters), its unique values and the records it references.

use chanlab_shared::{
    Activity, Assessment, Contract, ExternalId, Goal, Partner, ProcessSpec, Region, Rep,
    SalesRecord, Scope,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Kind;
use crate::auth::TokenRecord;
use crate::records::{
    BacktestOutput, BacktestRecord, RunInput, RunOutput, RunRecord, ScenarioRecord, SpecVersion,
    TransitionRecord,
};
use crate::training::TrainingSessionRecord;

/// A value stored in one collection.
pub trait Record: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The collection.
    const KIND: Kind;
    /// The key within the collection (the id).
    fn key(&self) -> String;
    /// Secondary index entries `(index, value)`.
    fn indexes(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Values no other record of the collection may hold.
    fn unique(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The records this one names, which must exist and cannot be deleted while it does.
    fn refs(&self) -> Vec<(Kind, String)> {
        Vec::new()
    }
}

/// The values enums take in secondary indexes. They are on disk in every data directory and
/// database, so they are spelled out here rather than derived from `Debug` or `Display`:
/// renaming a variant, or changing how it prints, must not leave stored index entries that
/// no lookup finds. The strings are what earlier releases stored (`Debug` for tiers and
/// spec statuses, the snake_case wire name for stages and activity kinds); the tests below
/// pin every one of them.
pub(crate) mod index_key {
    use chanlab_shared::{ActivityKind, LifecycleStage, SpecStatus, Tier};

    /// A partner's tier, as the `tier` index stores it.
    pub(crate) const fn tier(tier: Tier) -> &'static str {
        match tier {
            Tier::A => "A",
            Tier::B => "B",
            Tier::C => "C",
        }
    }

    /// A partner's lifecycle stage, as the `stage` index stores it.
    pub(crate) const fn stage(stage: LifecycleStage) -> &'static str {
        match stage {
            LifecycleStage::Prospect => "prospect",
            LifecycleStage::Negotiating => "negotiating",
            LifecycleStage::Contracted => "contracted",
            LifecycleStage::Active => "active",
            LifecycleStage::AtRisk => "at_risk",
            LifecycleStage::Churned => "churned",
            LifecycleStage::Lost => "lost",
        }
    }

    /// An activity's kind, as the `kind` index stores it.
    pub(crate) const fn activity_kind(kind: ActivityKind) -> &'static str {
        match kind {
            ActivityKind::Visit => "visit",
            ActivityKind::Training => "training",
            ActivityKind::BusinessReview => "business_review",
            ActivityKind::RecruitingCall => "recruiting_call",
            ActivityKind::Negotiation => "negotiation",
        }
    }

    /// A spec version's status, as the `status` index stores it.
    pub(crate) const fn spec_status(status: SpecStatus) -> &'static str {
        match status {
            SpecStatus::Draft => "Draft",
            SpecStatus::Published => "Published",
            SpecStatus::Retired => "Retired",
        }
    }
}

/// `entries` and, for a record with an external id, its `external_id` entry: the index an
/// `external_id` list filter reads and the unique value that keeps it one record's.
fn with_external(
    mut entries: Vec<(String, String)>,
    external: &Option<ExternalId>,
) -> Vec<(String, String)> {
    if let Some(external) = external {
        entries.push(entry(EXTERNAL_ID, external));
    }
    entries
}

/// The index and unique value of a record's external id.
pub(crate) const EXTERNAL_ID: &str = "external_id";

fn entry(index: &str, value: impl ToString) -> (String, String) {
    (index.to_owned(), value.to_string())
}

/// The index value of a goal's or assessment's scope: `rep:<id>`, `partner:<id>`, `region:<id>`.
pub(crate) fn scope_key(scope: Scope) -> String {
    match scope {
        Scope::Rep(id) => format!("rep:{id}"),
        Scope::Partner(id) => format!("partner:{id}"),
        Scope::Region(id) => format!("region:{id}"),
    }
}

fn scope_ref(scope: Scope) -> (Kind, String) {
    match scope {
        Scope::Rep(id) => (Kind::Rep, id.to_string()),
        Scope::Partner(id) => (Kind::Partner, id.to_string()),
        Scope::Region(id) => (Kind::Region, id.to_string()),
    }
}

impl Record for Region {
    const KIND: Kind = Kind::Region;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn unique(&self) -> Vec<(String, String)> {
        with_external(Vec::new(), &self.external_id)
    }
    fn indexes(&self) -> Vec<(String, String)> {
        with_external(Vec::new(), &self.external_id)
    }
}

impl Record for Rep {
    const KIND: Kind = Kind::Rep;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn unique(&self) -> Vec<(String, String)> {
        with_external(Vec::new(), &self.external_id)
    }
    fn indexes(&self) -> Vec<(String, String)> {
        with_external(vec![entry("region", self.region_id)], &self.external_id)
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        vec![(Kind::Region, self.region_id.to_string())]
    }
}

impl Record for Partner {
    const KIND: Kind = Kind::Partner;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn unique(&self) -> Vec<(String, String)> {
        with_external(Vec::new(), &self.external_id)
    }
    fn indexes(&self) -> Vec<(String, String)> {
        let mut v = vec![
            entry("region", self.region_id),
            entry("tier", index_key::tier(self.tier)),
            entry("stage", index_key::stage(self.stage())),
        ];
        if let Some(rep) = self.owner_rep_id {
            v.push(entry("owner_rep", rep));
        }
        with_external(v, &self.external_id)
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        let mut v = vec![(Kind::Region, self.region_id.to_string())];
        if let Some(rep) = self.owner_rep_id {
            v.push((Kind::Rep, rep.to_string()));
        }
        v
    }
}

impl Record for TransitionRecord {
    const KIND: Kind = Kind::Transition;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn indexes(&self) -> Vec<(String, String)> {
        vec![entry("partner", self.partner_id)]
    }
}

impl Record for Contract {
    const KIND: Kind = Kind::Contract;
    fn key(&self) -> String {
        self.id().to_string()
    }
    fn unique(&self) -> Vec<(String, String)> {
        with_external(Vec::new(), &self.external_id)
    }
    fn indexes(&self) -> Vec<(String, String)> {
        with_external(vec![entry("partner", self.partner_id())], &self.external_id)
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        vec![(Kind::Partner, self.partner_id().to_string())]
    }
}

impl Record for Activity {
    const KIND: Kind = Kind::Activity;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn unique(&self) -> Vec<(String, String)> {
        with_external(Vec::new(), &self.external_id)
    }
    fn indexes(&self) -> Vec<(String, String)> {
        with_external(
            vec![
                entry("rep", self.rep_id),
                entry("partner", self.partner_id),
                entry("kind", index_key::activity_kind(self.kind)),
            ],
            &self.external_id,
        )
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        vec![
            (Kind::Rep, self.rep_id.to_string()),
            (Kind::Partner, self.partner_id.to_string()),
        ]
    }
}

impl Record for SalesRecord {
    const KIND: Kind = Kind::Sales;
    fn key(&self) -> String {
        self.id().to_string()
    }
    fn indexes(&self) -> Vec<(String, String)> {
        with_external(vec![entry("partner", self.partner_id())], &self.external_id)
    }
    fn unique(&self) -> Vec<(String, String)> {
        with_external(
            vec![entry(
                "partner_month",
                format!("{}/{}", self.partner_id(), self.month()),
            )],
            &self.external_id,
        )
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        vec![(Kind::Partner, self.partner_id().to_string())]
    }
}

impl Record for Goal {
    const KIND: Kind = Kind::Goal;
    fn key(&self) -> String {
        self.id().to_string()
    }
    fn unique(&self) -> Vec<(String, String)> {
        with_external(Vec::new(), &self.external_id)
    }
    fn indexes(&self) -> Vec<(String, String)> {
        with_external(
            vec![
                entry("scope", scope_key(self.scope())),
                entry("period", self.period()),
            ],
            &self.external_id,
        )
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        let mut v = vec![scope_ref(self.scope())];
        if let Some(spec) = self.process_spec_id() {
            v.push((Kind::Spec, spec.to_string()));
        }
        v
    }
}

impl Record for ProcessSpec {
    const KIND: Kind = Kind::Spec;
    fn key(&self) -> String {
        self.id.to_string()
    }
}

impl Record for SpecVersion {
    const KIND: Kind = Kind::SpecVersion;
    fn key(&self) -> String {
        SpecVersion::key_of(self.0.id, self.0.version.get())
    }
    fn indexes(&self) -> Vec<(String, String)> {
        vec![
            entry("spec", self.0.id),
            entry("status", index_key::spec_status(self.0.status)),
        ]
    }
}

impl Record for Assessment {
    const KIND: Kind = Kind::Assessment;
    fn key(&self) -> String {
        self.id().to_string()
    }
    fn unique(&self) -> Vec<(String, String)> {
        with_external(Vec::new(), &self.external_id)
    }
    fn indexes(&self) -> Vec<(String, String)> {
        with_external(
            vec![
                entry("scope", scope_key(self.scope())),
                entry("period", self.period()),
            ],
            &self.external_id,
        )
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        vec![
            scope_ref(self.scope()),
            (
                Kind::SpecVersion,
                SpecVersion::key_of(self.process_spec_id(), self.spec_version().get()),
            ),
        ]
    }
}

impl Record for TokenRecord {
    const KIND: Kind = Kind::Token;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn indexes(&self) -> Vec<(String, String)> {
        vec![entry("hash", &self.hash)]
    }
    fn unique(&self) -> Vec<(String, String)> {
        vec![entry("hash", &self.hash)]
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        let mut v = Vec::new();
        if let Some(region) = self.region_id {
            v.push((Kind::Region, region.to_string()));
        }
        if let Some(rep) = self.rep_id {
            v.push((Kind::Rep, rep.to_string()));
        }
        v
    }
}

impl Record for ScenarioRecord {
    const KIND: Kind = Kind::Scenario;
    fn key(&self) -> String {
        self.id.to_string()
    }
}

impl Record for RunRecord {
    const KIND: Kind = Kind::Run;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn indexes(&self) -> Vec<(String, String)> {
        vec![
            entry("scenario", self.scenario_id),
            entry("status", self.status.as_str()),
        ]
    }
    fn refs(&self) -> Vec<(Kind, String)> {
        vec![(Kind::Scenario, self.scenario_id.to_string())]
    }
}

impl Record for RunOutput {
    const KIND: Kind = Kind::RunResult;
    fn key(&self) -> String {
        self.run_id.to_string()
    }
}

impl Record for RunInput {
    const KIND: Kind = Kind::RunInput;
    fn key(&self) -> String {
        self.run_id.to_string()
    }
}

impl Record for BacktestRecord {
    const KIND: Kind = Kind::Backtest;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn indexes(&self) -> Vec<(String, String)> {
        vec![entry("status", self.status.as_str())]
    }
}

impl Record for BacktestOutput {
    const KIND: Kind = Kind::BacktestResult;
    fn key(&self) -> String {
        self.backtest_id.to_string()
    }
}

impl Record for TrainingSessionRecord {
    const KIND: Kind = Kind::TrainingSession;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn indexes(&self) -> Vec<(String, String)> {
        let mut v = vec![
            entry("owner", &self.owner_hash),
            entry("exercise", &self.exercise),
        ];
        // The leaderboard reads only finished sessions.
        if self.debrief.is_some() {
            v.push(entry("finished", &self.exercise));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chanlab_shared::{ActivityKind, LifecycleStage, SpecStatus, Tier};

    /// The stored strings, byte for byte: a data directory written by any earlier release
    /// holds exactly these, so a change here is a storage migration, not a refactor.
    #[test]
    fn index_keys_are_the_strings_already_on_disk() {
        let tiers: Vec<&str> = Tier::ALL.iter().map(|t| index_key::tier(*t)).collect();
        assert_eq!(tiers, ["A", "B", "C"]);
        let stages: Vec<&str> = LifecycleStage::ALL
            .iter()
            .map(|s| index_key::stage(*s))
            .collect();
        assert_eq!(
            stages,
            [
                "prospect",
                "negotiating",
                "contracted",
                "active",
                "at_risk",
                "churned",
                "lost"
            ]
        );
        for kind in [
            ActivityKind::Visit,
            ActivityKind::Training,
            ActivityKind::BusinessReview,
            ActivityKind::RecruitingCall,
            ActivityKind::Negotiation,
        ] {
            // What `Display` printed when the index was built from it.
            assert_eq!(index_key::activity_kind(kind), kind.to_string());
        }
        for (status, stored) in [
            (SpecStatus::Draft, "Draft"),
            (SpecStatus::Published, "Published"),
            (SpecStatus::Retired, "Retired"),
        ] {
            assert_eq!(index_key::spec_status(status), stored);
            // What `{:?}` printed when the index was built from it.
            assert_eq!(format!("{status:?}"), stored);
        }
        for tier in Tier::ALL {
            assert_eq!(index_key::tier(tier), format!("{tier:?}"));
        }
        for stage in LifecycleStage::ALL {
            assert_eq!(index_key::stage(stage), stage.to_string());
        }
    }
}
