//! CSV import and export for a resource: the generic handlers and their declaration.
//!
//! A resource with CSV implements [`CsvResource`]: its columns, how a record becomes a row
//! and a row a record, and what an import checks against the store. The handlers keep
//! what every import promised: every row is checked before anything is written, the
//! problems name `rows[<line>].<column>`, and all rows are imported or none.

use actix_web::{HttpRequest, HttpResponse, web};

use super::handlers::{allow, write_record};
use super::{Op, Resource, Verb};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::extract::IdempotencyKey;
use crate::problem::FieldError;
use crate::routes::csv_io::{self, CsvBody, Row};
use crate::state::AppState;
use crate::storage::Store;

/// A resource whose records are imported and exported as CSV, at `R::PATH/import` and
/// `R::PATH/export.csv`.
pub(crate) trait CsvResource: Resource {
    /// The import and export operations, declared once like the others.
    const CSV_OPS: &'static [Op];
    /// The columns, in the order an export writes them.
    const COLUMNS: &'static [&'static str];
    /// The columns an import may leave out of its header (files written before they
    /// existed still import).
    const OPTIONAL_COLUMNS: &'static [&'static str] = &[];
    /// The export's file name.
    const FILE_NAME: &'static str;

    /// The record as an exported row, in [`CsvResource::COLUMNS`] order.
    fn to_row(&self) -> Vec<String>;

    /// The record of an import row, or `None` when a cell does not parse; every problem
    /// goes to `errors`. `earlier` are the file's records before this row, for values
    /// the file may not repeat.
    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        caller: &Caller,
        access: Access,
        earlier: &[(usize, Self)],
    ) -> Option<Self>;

    /// Checks the parsed records against the store, inside the import's commit (under
    /// [`Resource::write_lock`]). Blocking.
    fn check_import(store: &Store, records: &[(usize, Self)]) -> Result<(), ApiError>;

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
async fn import<R: CsvResource>(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::CSV_OPS, Verb::Import)?;
    let required: Vec<&str> = R::COLUMNS
        .iter()
        .copied()
        .filter(|c| !R::OPTIONAL_COLUMNS.contains(c))
        .collect();
    let rows = csv_io::read_with_optional(&body.0, &required, R::OPTIONAL_COLUMNS)?;
    let mut errors = Vec::new();
    let mut records: Vec<(usize, R)> = Vec::new();
    for row in &rows {
        if let Some(record) = R::from_row(row, &mut errors, &caller, access, &records) {
            records.push((row.line, record));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    write_record::<R, _>(&state, &caller, idem, &req, &body.0, move |s| {
        R::check_import(s, &records)?;
        Ok(csv_io::imported(&records))
    })
    .await
}

/// `GET R::PATH/export.csv`: every record in the caller's scope, in the import's columns.
async fn export<R: CsvResource>(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::CSV_OPS, Verb::Export)?;
    let c = caller.clone();
    let records = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            let ctx = R::context(s, &c)?;
            let index = R::export_index(&c, access);
            Ok(s.list::<R>(
                index.as_ref().map(|(i, v)| (*i, v.as_str())),
                None,
                usize::MAX,
                &|r: &R| R::in_scope(&c, access, r, &ctx),
            )?)
        })
        .await??
        .items;
    let rows = records.iter().map(R::to_row).collect();
    Ok(csv_io::respond(R::FILE_NAME, R::COLUMNS, rows))
}
