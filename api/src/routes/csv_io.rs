//! CSV import and export: spreadsheets and CRMs are where channel data lives.
//!
//! An import reads the whole file, checks every row, and either writes all of it in one
//! commit or nothing; the rejection lists every bad cell as `rows[<line>].<column>`, where
//! `<line>` is the line number in the file (the header is line 1).

use std::collections::HashMap;
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

/// A `text/csv` request body.
#[derive(Debug)]
pub struct CsvBody(pub web::Bytes);

impl FromRequest for CsvBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_csv = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("text/csv")
            })
            .unwrap_or(false);
        let read = read_limited(req, payload, CSV_LIMIT);
        Box::pin(async move {
            if !is_csv {
                return Err(ApiError::UnsupportedMediaType(
                    "send the file as text/csv".to_owned(),
                ));
            }
            Ok(CsvBody(read.await?))
        })
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"imported": 2, "ids": ["019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03", "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a13"]}))]
pub struct ImportReport {
    /// How many rows were imported (all of them).
    pub imported: usize,
    /// The ids of the imported records, in file order.
    pub ids: Vec<String>,
}

/// The writes and the 201 answer of an import whose every row passed its checks: each
/// record is created (it must not exist yet) and the report lists their ids in file order.
pub(crate) fn imported<T: Record>(records: &[(usize, T)]) -> (Vec<Write>, super::Outcome) {
    let writes = records
        .iter()
        .map(|(_, r)| store_put(r, Expect::Absent))
        .collect();
    let report = ImportReport {
        imported: records.len(),
        ids: records.iter().map(|(_, r)| r.key()).collect(),
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
    cells: HashMap<String, String>,
}

impl Row {
    /// The trimmed cell of `column`, empty when absent.
    pub(crate) fn cell(&self, column: &str) -> &str {
        self.cells.get(column).map_or("", |s| s.trim())
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

/// Reads the file: a header with every column of `columns` (others are refused), then
/// rows. The header may also carry the `optional` columns: files written before a column
/// was added still import, and a missing optional cell reads as empty.
pub(crate) fn read_with_optional(
    bytes: &[u8],
    columns: &[&str],
    optional: &[&str],
) -> Result<Vec<Row>, ApiError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("the CSV header could not be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut errors = Vec::new();
    for h in &headers {
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
        let cells = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .collect();
        rows.push(Row { line, cells });
    }
    if rows.is_empty() {
        return Err(ApiError::field("rows", "the file has a header but no rows"));
    }
    Ok(rows)
}

/// A `text/csv` download of `rows` under `columns`.
pub(crate) fn respond(filename: &str, columns: &[&str], rows: Vec<Vec<String>>) -> HttpResponse {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns).expect("writing CSV to memory");
    for row in rows {
        writer.write_record(row).expect("writing CSV to memory");
    }
    let bytes = writer.into_inner().expect("writing CSV to memory");
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
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
