//! References in CSV files: a cell that names another record by its id, its external id
//! or its name, and the names an export writes beside the ids.
//!
//! An import reads each referenced collection once ([`Refs::load`]) into maps, so a file
//! of 100,000 rows resolves its references in time linear in the rows and the records
//! referenced, never row by stored record. A cell is matched, in this order, as an id, as
//! an external id, then as a name that exactly one record has in the cell's scope (a region
//! by its name; a rep by its name within the row's region when the row has one). Two
//! records of one name in the scope make the cell ambiguous and an unmatched cell unknown:
//! both a 422 naming `rows[<line>].<column>`, the ambiguity listing the candidates' ids.
//! An import sees only the records in its caller's scope ([`Refs::load_for`]), so a cell
//! naming one outside it is unknown, like a cell naming nothing.

use std::collections::HashMap;
use std::str::FromStr;

use chanlab_shared::{ExternalId, Partner, Region, Rep};

use super::Resource;
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::problem::FieldError;
use crate::routes::csv_io::{Matched, MatchedBy, Row};
use crate::storage::{Kind, Store};

/// One referenced record: its name and the scope its name is unique in.
struct Target {
    name: String,
    scope: Option<String>,
}

/// The records of one collection by id, external id and name.
struct Lookup {
    noun: &'static str,
    by_id: HashMap<String, Target>,
    by_external: HashMap<String, String>,
    by_name: HashMap<String, Vec<String>>,
}

impl Lookup {
    /// Every record of `T`, described by `describe` as (name, scope, external id).
    fn build<T: Resource>(
        store: &Store,
        noun: &'static str,
        seen: Option<(&Caller, Access)>,
        describe: impl Fn(&T) -> (String, Option<String>, Option<&ExternalId>),
    ) -> Result<Self, ApiError> {
        let mut lookup = Lookup {
            noun,
            by_id: HashMap::new(),
            by_external: HashMap::new(),
            by_name: HashMap::new(),
        };
        for record in store.all::<T>(None)? {
            if let Some((caller, access)) = seen
                && !T::in_scope(caller, access, &record, &T::Context::default())
            {
                continue;
            }
            let id = record.key();
            let (name, scope, external) = describe(&record);
            if let Some(external) = external {
                lookup
                    .by_external
                    .insert(external.as_str().to_owned(), id.clone());
            }
            lookup
                .by_name
                .entry(name.clone())
                .or_default()
                .push(id.clone());
            lookup.by_id.insert(id, Target { name, scope });
        }
        Ok(lookup)
    }

    /// The id `text` names (in `scope`, for a name) and how, or why it names none.
    fn resolve(&self, text: &str, scope: Option<&str>) -> Result<(String, MatchedBy), String> {
        if self.by_id.contains_key(text) {
            return Ok((text.to_owned(), MatchedBy::Id));
        }
        if let Some(id) = self.by_external.get(text) {
            return Ok((id.clone(), MatchedBy::ExternalId));
        }
        let named: Vec<&String> = self
            .by_name
            .get(text)
            .into_iter()
            .flatten()
            .filter(|id| scope.is_none() || self.by_id[id.as_str()].scope.as_deref() == scope)
            .collect();
        let within = scope.map_or(String::new(), |s| format!(" in region {s}"));
        match named.as_slice() {
            [one] => Ok(((*one).clone(), MatchedBy::Name)),
            [] => Err(format!(
                "no {} has the id, external id or name {text:?}{within}",
                self.noun
            )),
            many => {
                let ids: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
                Err(format!(
                    "{} {}s are called {text:?}{within}: {}; write the id or the external id of the one you mean",
                    many.len(),
                    self.noun,
                    ids.join(", ")
                ))
            }
        }
    }
}

/// The referenced collections of one import or export, and what the import's cells
/// matched.
pub(crate) struct Refs {
    lookups: HashMap<Kind, Lookup>,
    /// The cells that matched by external id or name, in file order.
    pub(crate) matched: Vec<Matched>,
}

impl Refs {
    /// Reads each of `kinds` (regions, reps, partners) once, for an export's names.
    /// Blocking.
    pub(crate) fn load(store: &Store, kinds: &[Kind]) -> Result<Self, ApiError> {
        Self::load_seen(store, kinds, None)
    }

    /// [`Refs::load`] for an import by `caller`, granted `access`: only the records in its
    /// scope can be named (a rep's cells name only its own partners, a regional manager's
    /// only its region), so a cell naming one outside it is unknown, exactly as a cell
    /// naming no record: the answer tells nothing of records the caller may not see.
    /// Blocking.
    pub(crate) fn load_for(
        store: &Store,
        kinds: &[Kind],
        caller: &Caller,
        access: Access,
    ) -> Result<Self, ApiError> {
        Self::load_seen(store, kinds, Some((caller, access)))
    }

    fn load_seen(
        store: &Store,
        kinds: &[Kind],
        seen: Option<(&Caller, Access)>,
    ) -> Result<Self, ApiError> {
        let mut lookups = HashMap::new();
        for kind in kinds {
            let lookup = match kind {
                Kind::Region => Lookup::build(store, "region", seen, |r: &Region| {
                    (r.name.to_string(), None, r.external_id.as_ref())
                })?,
                Kind::Rep => Lookup::build(store, "rep", seen, |r: &Rep| {
                    (
                        r.name.to_string(),
                        Some(r.region_id.to_string()),
                        r.external_id.as_ref(),
                    )
                })?,
                Kind::Partner => Lookup::build(store, "partner", seen, |p: &Partner| {
                    (p.name.to_string(), None, p.external_id.as_ref())
                })?,
                other => {
                    return Err(ApiError::Internal(format!(
                        "CSV references to {} are not supported",
                        other.name()
                    )));
                }
            };
            lookups.insert(*kind, lookup);
        }
        Ok(Refs {
            lookups,
            matched: Vec::new(),
        })
    }

    /// The name of the `kind` record `id`, for an export's name column; empty when the
    /// record is unknown (it cannot be: a stored record's references exist).
    pub(crate) fn name(&self, kind: Kind, id: impl std::fmt::Display) -> String {
        self.lookups
            .get(&kind)
            .and_then(|l| l.by_id.get(&id.to_string()))
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }

    /// The `kind` record the cell of `column` names (a rep's name within `scope`, a region
    /// id), recording an error when it names none or several. `Ok(None)` for an empty cell.
    pub(crate) fn optional<I: FromStr>(
        &mut self,
        row: &Row,
        column: &str,
        kind: Kind,
        scope: Option<&str>,
        errors: &mut Vec<FieldError>,
    ) -> Result<Option<I>, ()> {
        let text = row.cell(column);
        if text.is_empty() {
            return Ok(None);
        }
        let Some(lookup) = self.lookups.get(&kind) else {
            row.error(errors, column, "this reference cannot be resolved");
            return Err(());
        };
        match lookup.resolve(text, scope) {
            Ok((id, by)) => {
                let parsed = id.parse::<I>().map_err(|_| {
                    row.error(errors, column, format!("the stored id {id} does not parse"));
                })?;
                if by != MatchedBy::Id {
                    self.matched.push(Matched {
                        field: format!("rows[{}].{column}", row.line),
                        by,
                        id,
                    });
                }
                Ok(Some(parsed))
            }
            Err(message) => {
                row.error(errors, column, message);
                Err(())
            }
        }
    }

    /// [`Refs::optional`] for a cell that must not be empty.
    pub(crate) fn required<I: FromStr>(
        &mut self,
        row: &Row,
        column: &str,
        kind: Kind,
        scope: Option<&str>,
        errors: &mut Vec<FieldError>,
    ) -> Option<I> {
        match self.optional(row, column, kind, scope, errors) {
            Ok(Some(id)) => Some(id),
            Ok(None) => {
                row.error(errors, column, "this column is required");
                None
            }
            Err(()) => None,
        }
    }
}
