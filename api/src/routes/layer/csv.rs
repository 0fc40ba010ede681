//! CSV import and export for a resource: the generic handlers and their declaration.
//!
//! A resource with CSV implements [`CsvResource`]: its columns, how a record becomes a row
//! and a row a record, and what an import checks against the store. The handlers keep
//! what every import promised: every row is checked before anything is written, the
//! problems name `rows[<line>].<column>`, and all rows are imported or none.
//!
//! An import runs on the blocking pool, never on an HTTP worker: the file is parsed there,
//! then its references are resolved, its rows checked and its records committed in one
//! piece of blocking work ([`crate::routes::write_with_events`], whose commit carries the
//! `import.finished` event). Every check is a map or set
//! lookup per row, so an import's time grows linearly with its rows. At most
//! [`crate::state::MAX_IMPORTS`] run at once; one more is a 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};

use super::handlers::allow;
use super::refs::Refs;
use super::{Op, Resource, Verb};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::events;
use crate::extract::IdempotencyKey;
use crate::metrics::ImportOutcome;
use crate::problem::FieldError;
use crate::routes::csv_io::{self, CsvBody, Row};
use crate::routes::write_with_events;
use crate::state::AppState;
use crate::storage::{Kind, Store};

/// A resource whose records are imported and exported as CSV, at `R::PATH/import` and
/// `R::PATH/export.csv`.
pub(crate) trait CsvResource: Resource {
    /// The import and export operations, declared once like the others.
    const CSV_OPS: &'static [Op];
    /// The columns, in the order an export writes them.
    const COLUMNS: &'static [&'static str];
    /// The columns an import may leave out of its header (files written before they
    /// existed still import, `id` for a file of new records such as a CRM's, and the name
    /// columns an export writes beside the ids).
    const OPTIONAL_COLUMNS: &'static [&'static str] = &[];
    /// The export's file name.
    const FILE_NAME: &'static str;
    /// The collections the rows refer to, read once per import or export ([`Refs`]).
    const REFERENCES: &'static [Kind] = &[];

    /// The record as an exported row, in [`CsvResource::COLUMNS`] order; `refs` has the
    /// names of the records it refers to.
    fn to_row(&self, refs: &Refs) -> Vec<String>;

    /// The record of an import row, or `None` when a cell does not parse; every problem
    /// goes to `errors`. References are resolved through `refs`.
    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        caller: &Caller,
        access: Access,
        refs: &mut Refs,
    ) -> Option<Self>;

    /// The column of the row to name when two rows (or a row and a stored record) hold
    /// the unique value `name` ([`crate::storage::Record::unique`]).
    fn unique_column(name: &str) -> &str {
        name
    }

    /// Checks the parsed records against the store beyond what every import checks (new
    /// ids and external ids), inside the import's commit (under
    /// [`Resource::write_lock`]). Blocking.
    fn check_import(_store: &Store, _records: &[(usize, Self)]) -> Result<(), ApiError> {
        Ok(())
    }

    /// Whether an import of `rows` needs [`Resource::write_lock`] (see [`Resource::locks`]).
    fn import_locks(_rows: &[Row]) -> bool {
        true
    }

    /// The index an export reads for this caller; the layer keeps only the records in
    /// the caller's scope either way.
    fn export_index(_caller: &Caller, _access: Access) -> Option<(&'static str, String)> {
        None
    }
}

/// Registers `R`'s import and export. Call before [`super::configure`]: `R::PATH/{id}`
/// would match `import`.
pub(crate) fn configure_csv<R: CsvResource>(cfg: &mut web::ServiceConfig) {
    for op in R::CSV_OPS {
        match op.verb {
            Verb::Import => {
                cfg.service(
                    crate::routes::resource(&format!("{}/import", R::PATH))
                        .route(web::post().to(import::<R>)),
                );
            }
            Verb::Export => {
                cfg.service(
                    crate::routes::resource(&format!("{}/export.csv", R::PATH))
                        .route(web::get().to(export::<R>)),
                );
            }
            _ => {}
        }
    }
}

/// `POST R::PATH/import`: every row checked, then all imported or none (201 with the ids).
/// Counted in the server's metrics by how it ended.
async fn import<R: CsvResource>(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    let mut rows = 0;
    let answer = import_rows::<R>(&state, caller, req, idem, body, &mut rows).await;
    let outcome = match &answer {
        // A replayed answer imported nothing this time.
        Ok(a) if a.headers().contains_key("idempotent-replayed") => None,
        Ok(_) => Some((ImportOutcome::Imported, rows as u64)),
        Err(ApiError::TooManyRequests { .. }) => Some((ImportOutcome::Busy, 0)),
        Err(_) => Some((ImportOutcome::Refused, 0)),
    };
    if let Some((outcome, rows)) = outcome {
        state.store.metrics().csv_import(R::NAME, outcome, rows);
    }
    answer
}

async fn import_rows<R: CsvResource>(
    state: &web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: CsvBody,
    count: &mut usize,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::CSV_OPS, Verb::Import)?;
    // Held until the import's blocking work is done, even if the client goes away.
    let permit = Arc::new(state.imports.enter()?);
    let bytes = body.0.clone();
    let held = permit.clone();
    let rows = state
        .store
        .run(move |_| {
            let _held = held;
            let required: Vec<&str> = R::COLUMNS
                .iter()
                .copied()
                .filter(|c| !R::OPTIONAL_COLUMNS.contains(c))
                .collect();
            csv_io::read_with_optional(&bytes, &required, R::OPTIONAL_COLUMNS)
        })
        .await??;
    *count = rows.len();
    let c = caller.clone();
    let in_work = permit.clone();
    let locks = R::import_locks(&rows);
    let answer = write_with_events(
        state,
        &caller,
        idem,
        &req,
        &body.0,
        R::field_of,
        R::write_lock().filter(|_| locks),
        move |s| {
            let _held = in_work;
            let mut refs = Refs::load_for(s, R::REFERENCES, &c, access)?;
            let records = read_records::<R>(s, &rows, &c, access, &mut refs)?;
            R::check_import(s, &records)?;
            let finished = events::import_finished(R::KIND, records.len(), &refs.matched);
            let (writes, outcome) = csv_io::imported(&records, refs.matched);
            Ok((writes, outcome, vec![finished]))
        },
    )
    .await;
    // The place is given back once the records are committed and flushed (the closure's
    // copy covers a client that goes away while it runs).
    drop(permit);
    answer
}

/// The records of `rows`: each parsed, no id or unique value twice in the file, and none
/// already stored. A 422 naming every bad cell otherwise. Blocking.
fn read_records<R: CsvResource>(
    s: &Store,
    rows: &[Row],
    caller: &Caller,
    access: Access,
    refs: &mut Refs,
) -> Result<Vec<(usize, R)>, ApiError> {
    let mut errors = Vec::new();
    let mut records: Vec<(usize, R)> = Vec::with_capacity(rows.len());
    let mut ids: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    let mut unique: HashMap<(String, String), usize> = HashMap::new();
    for row in rows {
        let Some(record) = R::from_row(row, &mut errors, caller, access, refs) else {
            continue;
        };
        if let Some(first) = ids.insert(record.key(), row.line) {
            row.error(
                &mut errors,
                "id",
                format!("this id appears twice in the file (first on line {first})"),
            );
        }
        for (name, value) in record.unique() {
            let column = R::unique_column(&name).to_owned();
            if let Some(first) = unique.insert((name, value.clone()), row.line) {
                row.error(
                    &mut errors,
                    &column,
                    format!("{value} appears twice in the file (first on line {first})"),
                );
            }
        }
        records.push((row.line, record));
    }
    let rows_by_line: HashMap<usize, &Row> = rows.iter().map(|r| (r.line, r)).collect();
    for (line, record) in &records {
        let error = |column: &str, message: String| FieldError {
            field: format!("rows[{line}].{column}"),
            message,
        };
        let id = record.key();
        // A row without an id got a fresh UUIDv7, which no stored record can hold.
        let given = rows_by_line
            .get(line)
            .is_some_and(|row| !row.cell("id").is_empty());
        if given && s.get::<R>(&id)?.is_some() {
            errors.push(error(
                "id",
                format!("a {} with id {id} already exists", R::NAME),
            ));
        }
        for (name, value) in record.unique() {
            if name != "external_id" {
                continue;
            }
            if let Some(other) = s.all::<R>(Some(("external_id", &value)))?.first() {
                errors.push(error(
                    "external_id",
                    format!(
                        "the {} {} already has external id {value}",
                        R::NAME,
                        other.key()
                    ),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        errors.sort_by_key(|e| line_of(&e.field));
        Err(ApiError::Validation(errors))
    }
}

/// The line of a `rows[<line>].<column>` field, to list problems in file order.
fn line_of(field: &str) -> usize {
    field
        .strip_prefix("rows[")
        .and_then(|f| f.split(']').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `GET R::PATH/export.csv`: every record in the caller's scope, in the import's columns,
/// with the names of the records each refers to beside their ids.
async fn export<R: CsvResource>(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::CSV_OPS, Verb::Export)?;
    let c = caller.clone();
    let bytes = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            let ctx = R::context(s, &c)?;
            let index = R::export_index(&c, access);
            let records = s
                .list::<R>(
                    index.as_ref().map(|(i, v)| (*i, v.as_str())),
                    None,
                    usize::MAX,
                    &|r: &R| R::in_scope(&c, access, r, &ctx),
                )?
                .items;
            let refs = Refs::load(s, R::REFERENCES)?;
            let rows = records.iter().map(|r| r.to_row(&refs)).collect();
            Ok(csv_io::encode(R::COLUMNS, rows))
        })
        .await??;
    Ok(csv_io::download(&req, R::FILE_NAME, bytes))
}
