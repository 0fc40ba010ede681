//! Writing synthesized records (`chanlab records synthesize --data-dir`) into a store: the
//! demo data set of the README's tour and the ground truth of the calibration tests.

use chanlab_sim::synthesize::SyntheticRecords;

use crate::records::SpecVersion;
use crate::storage::{Expect, Store, Write, store_put};

/// Why synthesized records were not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntheticError {
    /// The store already holds records: synthetic ones would mix with them.
    #[error(
        "the data directory already holds records ({0} regions); synthesize into a new directory"
    )]
    NotEmpty(usize),
    /// The store refused the write or could not be read.
    #[error("{0}")]
    Storage(String),
}

/// Writes every record of `records` in one atomic commit and flushes it, into a store that
/// holds no regions yet. Returns the number of records written.
pub fn write_synthetic(store: &Store, records: &SyntheticRecords) -> Result<usize, SyntheticError> {
    let regions = store
        .all::<chanlab_shared::Region>(None)
        .map_err(|e| SyntheticError::Storage(e.to_string()))?;
    if !regions.is_empty() {
        return Err(SyntheticError::NotEmpty(regions.len()));
    }
    // Referenced records first: the store checks references inside the commit.
    let mut writes: Vec<Write> = Vec::new();
    writes.extend(records.regions.iter().map(|r| store_put(r, Expect::Absent)));
    writes.extend(records.reps.iter().map(|r| store_put(r, Expect::Absent)));
    writes.extend(
        records
            .partners
            .iter()
            .map(|r| store_put(r, Expect::Absent)),
    );
    writes.push(store_put(&records.spec, Expect::Absent));
    writes.push(store_put(
        &SpecVersion(records.spec.clone()),
        Expect::Absent,
    ));
    writes.extend(
        records
            .stage_changes
            .iter()
            .map(|r| store_put(r, Expect::Absent)),
    );
    writes.extend(records.sales.iter().map(|r| store_put(r, Expect::Absent)));
    writes.extend(
        records
            .activities
            .iter()
            .map(|r| store_put(r, Expect::Absent)),
    );
    writes.extend(records.goals.iter().map(|r| store_put(r, Expect::Absent)));
    writes.extend(
        records
            .assessments
            .iter()
            .map(|r| store_put(r, Expect::Absent)),
    );
    // A demo data set standing in for a CRM's history, written like a restore: straight to
    // the store, so no audit entries, stamps or events (a subscriber would otherwise hear
    // of goals nobody set).
    store
        .commit(&writes, None)
        .map_err(|e| SyntheticError::Storage(e.to_string()))?;
    store
        .flush_blocking()
        .map_err(|e| SyntheticError::Storage(e.to_string()))?;
    Ok(writes.len())
}
