//! CSV import and export: spreadsheets and CRMs are where channel data lives.
//!
//! An import reads the whole file, checks every row, and either writes all of it in one
//! commit or nothing; the rejection lists every bad cell as `rows[<line>].<column>`, where
//! `<line>` is the line number in the file (the header is line 1).
//!
//! Spreadsheets write files in more than one way, and both are read: the delimiter is
//! whichever of `,`, `;` and tab the header line holds most of (Excel in most of Europe
//! writes `;`), and a UTF-8 byte order mark is skipped.
//!
//! Formula-like cells: a cell that starts with `=`, `+`, `-`, `@`, tab or carriage return
//! is run as a formula by a spreadsheet that opens the file (OWASP's CSV injection), so an
//! export writes such a cell with a `'` in front, which spreadsheets show as text. An
//! import reads that `'` back off (a cell whose text after its leading `'`s starts with
//! one of those characters loses one `'`), so an exported file imports as the records it
//! came from; any other cell is read as written, and a formula in it is stored as text and
//! never evaluated by chanlab.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chanlab_shared::ValidationError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::{CSV_LIMIT, read_limited};
use crate::problem::FieldError;
use crate::storage::{Expect, Record, Write, store_put};

/// A `text/csv` request body (or the same bytes as `application/octet-stream`, the
/// alternative client generators can send: [`crate::media`]).
#[derive(Debug)]
pub struct CsvBody(pub web::Bytes);

impl FromRequest for CsvBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_csv = crate::media::is_upload(req, "text/csv");
        let read = read_limited(req, payload, CSV_LIMIT);
        Box::pin(async move {
            if !is_csv {
                return Err(ApiError::UnsupportedMediaType(
                    "send the file as text/csv (or application/octet-stream)".to_owned(),
                ));
            }
            Ok(CsvBody(read.await?))
        })
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"imported": 2, "ids": ["019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03", "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a13"], "matched": [{"field": "rows[3].region_id", "by": "name", "id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01"}]}))]
pub struct ImportReport {
    /// How many rows were imported (all of them).
    pub imported: usize,
    /// The ids of the imported records, in file order.
    pub ids: Vec<String>,
    /// The reference cells that named a record by its external id or its name rather than
    /// its id, in file order, with the record each matched (a cell holding the id is not
    /// listed).
    #[serde(default)]
    pub matched: Vec<Matched>,
}

/// How a reference cell named the record it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The record's id.
    Id,
    /// The record's `external_id`.
    ExternalId,
    /// The record's name, unique in its scope.
    Name,
}

/// A reference cell of an import and the record it matched.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Matched {
    /// The cell, e.g. `rows[3].region_id`.
    pub field: String,
    /// What the cell held.
    pub by: MatchedBy,
    /// The id of the record it matched.
    pub id: String,
}

/// The writes and the 201 answer of an import whose every row passed its checks: each
/// record is created (it must not exist yet) and the report lists their ids in file order.
pub(crate) fn imported<T: Record>(
    records: &[(usize, T)],
    matched: Vec<Matched>,
) -> (Vec<Write>, super::Outcome) {
    let writes = records
        .iter()
        .map(|(_, r)| store_put(r, Expect::Absent))
        .collect();
    let report = ImportReport {
        imported: records.len(),
        ids: records.iter().map(|(_, r)| r.key()).collect(),
        matched,
    };
    let outcome = super::Outcome {
        status: 201,
        version: None,
        body: Some(serde_json::to_value(report).expect("reports serialise")),
        location: None,
    };
    (writes, outcome)
}

/// One data row of a CSV file.
#[derive(Debug)]
pub(crate) struct Row {
    /// Line number in the file (the header is line 1).
    pub line: usize,
    header: std::sync::Arc<[String]>,
    record: csv::StringRecord,
}

impl Row {
    /// The trimmed cell of `column`, empty when absent, without the `'` an export puts
    /// before a formula-like cell ([`unformula`]).
    pub(crate) fn cell(&self, column: &str) -> &str {
        self.header
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.get(i))
            .map_or("", |s| unformula(s.trim()))
    }

    /// Parses a required cell, recording an error on failure.
    pub(crate) fn required<T>(
        &self,
        column: &str,
        errors: &mut Vec<FieldError>,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Option<T> {
        let text = self.cell(column);
        if text.is_empty() {
            self.error(errors, column, "this column is required");
            return None;
        }
        match parse(text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(errors, column, e.message());
                None
            }
        }
    }

    /// Parses an optional cell (empty means absent), recording an error on failure.
    pub(crate) fn optional<T>(
        &self,
        column: &str,
        errors: &mut Vec<FieldError>,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Result<Option<T>, ()> {
        let text = self.cell(column);
        if text.is_empty() {
            return Ok(None);
        }
        match parse(text) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                self.error(errors, column, e.message());
                Err(())
            }
        }
    }

    /// Records an error on `column` of this row.
    pub(crate) fn error(
        &self,
        errors: &mut Vec<FieldError>,
        column: &str,
        message: impl Into<String>,
    ) {
        errors.push(FieldError {
            field: format!("rows[{}].{column}", self.line),
            message: message.into(),
        });
    }
}

/// Parses an enum cell by its snake_case name, e.g. `at_risk`.
pub(crate) fn enum_cell<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ValidationError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|e| {
        let msg = e.to_string();
        ValidationError::new("", msg)
    })
}

/// Parses a date cell, e.g. `2025-03-01`.
pub(crate) fn date_cell(text: &str) -> Result<NaiveDate, ValidationError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ValidationError::new(
            "",
            format!("expected a date such as 2025-03-01, found {text:?}"),
        )
    })
}

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `text`, after any leading `'`s, starts like a formula.
fn formula_like(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// An exported cell: `'` in front when a spreadsheet would read it as a formula.
pub(crate) fn neutralise(cell: String) -> String {
    if formula_like(&cell) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// An imported cell with the `'` that [`neutralise`] adds read back off.
pub(crate) fn unformula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// The file without its UTF-8 byte order mark, and its delimiter: whichever of `,`, `;`
/// and tab its header line holds most of outside quotes (`,` when none).
pub(crate) fn sniff(bytes: &[u8]) -> (&[u8], u8) {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in body {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    // The first of the most frequent, so a tie (or no delimiter at all) reads as `,`.
    let delimiter = counts
        .iter()
        .fold((b',', 0), |best, c| if c.1 > best.1 { *c } else { best })
        .0;
    (body, delimiter)
}

/// Reads the file: a header with every column of `columns` (others are refused), then
/// rows. The header may also carry the `optional` columns: files written before a column
/// was added still import, and a missing optional cell reads as empty. The delimiter and
/// a byte order mark are detected ([`sniff`]). Blocking: 8 MiB is read on the blocking
/// pool, not on an HTTP worker.
pub(crate) fn read_with_optional(
    bytes: &[u8],
    columns: &[&str],
    optional: &[&str],
) -> Result<Vec<Row>, ApiError> {
    let (body, delimiter) = sniff(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(body);
    let headers: std::sync::Arc<[String]> = reader
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("the CSV header could not be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut errors = Vec::new();
    for h in headers.iter() {
        if !columns.contains(&h.as_str()) && !optional.contains(&h.as_str()) {
            let also = if optional.is_empty() {
                String::new()
            } else {
                format!(" and optionally {}", optional.join(","))
            };
            errors.push(FieldError {
                field: format!("rows[1].{h}"),
                message: format!(
                    "unknown column; expected the columns {}{also}",
                    columns.join(",")
                ),
            });
        }
    }
    for c in columns {
        if !headers.iter().any(|h| h == c) {
            errors.push(FieldError {
                field: format!("rows[1].{c}"),
                message: "this column is missing from the header".to_owned(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            ApiError::BadRequest(format!(
                "the CSV file is malformed near line {}: {e}",
                i + 2
            ))
        })?;
        let line = record.position().map_or(i + 2, |p| p.line() as usize);
        rows.push(Row {
            line,
            header: headers.clone(),
            record,
        });
    }
    if rows.is_empty() {
        return Err(ApiError::field("rows", "the file has a header but no rows"));
    }
    Ok(rows)
}

/// `rows` under `columns` as a CSV file, formula-like cells neutralised ([`neutralise`]).
/// Blocking for a large export: call it on the blocking pool.
pub(crate) fn encode(columns: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns).expect("writing CSV to memory");
    for row in rows {
        writer
            .write_record(row.into_iter().map(neutralise))
            .expect("writing CSV to memory");
    }
    writer.into_inner().expect("writing CSV to memory")
}

/// A `text/csv` download of `bytes` ([`encode`]) named `filename` (labelled
/// `application/octet-stream` for a request that prefers it: [`crate::media::answer_type`]).
pub(crate) fn download(req: &HttpRequest, filename: &str, bytes: Vec<u8>) -> HttpResponse {
    let content_type = match crate::media::answer_type(req, "text/csv") {
        "text/csv" => "text/csv; charset=utf-8",
        other => other,
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(bytes)
}

/// A money amount as a CSV cell: the plain decimal, e.g. `1250.00`.
pub(crate) fn decimal(money: chanlab_shared::Money) -> String {
    money
        .to_string()
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// An external id as an exported cell (empty for none).
pub(crate) fn external_cell(external: &Option<chanlab_shared::ExternalId>) -> String {
    external.as_ref().map(|e| e.to_string()).unwrap_or_default()
}
