//! The one resource layer: what every record resource shares.
//!
//! A record resource (regions, reps, partners, ...) implements [`Resource`]: its id and
//! input types, its list filters, who may see which records (its scope), how a request
//! becomes a record, and its operations, each declared once as an [`Op`] in
//! [`Resource::OPS`]. From that one declaration the layer gives the resource
//!
//! - its routes ([`configure`]), served by the generic handlers in [`handlers`],
//! - its OpenAPI operations ([`document`], in `doc.rs`), and
//! - its rows of the authorisation policy ([`policy_rows`], read by
//!   [`crate::auth::POLICY`]).
//!
//! utoipa cannot document generic handlers (its `#[utoipa::path]` needs one concrete
//! function per operation: utoipa issue #637), so the operations are built from the
//! declaration at run time and added to the document by a modifier; they come out as the
//! attribute wrote them, which the committed-spec test checks byte for byte.
//!
//! Operations that are not plain create/list/get/update/delete (transitions, CSV imports,
//! scorecards) stay hand-written in their resource's module.

mod csv;
mod doc;
mod handlers;
mod refs;

use super::Serial;
use std::fmt::Display;
use std::str::FromStr;

use actix_web::web;
use chanlab_shared::{
    Activity, Assessment, Contract, Goal, Partner, Region, Rep, SalesRecord, ValidationError,
};
use serde::de::DeserializeOwned;
use utoipa::{IntoParams, ToSchema};

use super::{Cursor, default_field};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::storage::{Kind, Record, Store};

pub(crate) use csv::{CsvResource, configure_csv};
pub(crate) use refs::Refs;

/// The five operations the layer serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    /// `POST /things`.
    Create,
    /// `GET /things`.
    List,
    /// `GET /things/{id}`.
    Get,
    /// `PUT /things/{id}`.
    Update,
    /// `DELETE /things/{id}`.
    Delete,
    /// `POST /things/import`, a CSV file ([`CsvResource`]).
    Import,
    /// `GET /things/export.csv` ([`CsvResource`]).
    Export,
}

/// One operation of a resource, declared once: its id (the OpenAPI operation id and the
/// policy's key), its summary in the spec, who may call it, and what it can answer beyond
/// what every operation of its verb answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op {
    /// Which of the five operations.
    pub verb: Verb,
    /// The operation id, e.g. `create_region`.
    pub id: &'static str,
    /// The summary of the spec (what the first paragraph of the handler's doc comment said).
    pub summary: &'static str,
    /// The spec's description, when the summary needs more.
    pub description: Option<&'static str>,
    /// Access of admin, channel_manager, regional_manager, rep, viewer and trainee, as in
    /// [`crate::auth::POLICY`].
    pub access: [Access; 6],
    /// Whether the operation can answer 409 (a duplicate, a record still referenced, a
    /// currency or stage conflict).
    pub conflict: bool,
}

impl Op {
    /// An operation that cannot answer 409.
    pub(crate) const fn new(
        verb: Verb,
        id: &'static str,
        access: [Access; 6],
        summary: &'static str,
    ) -> Op {
        Op {
            verb,
            id,
            summary,
            description: None,
            access,
            conflict: false,
        }
    }

    /// The operation, documented with a description below its summary.
    pub(crate) const fn described(self, description: &'static str) -> Op {
        Op {
            description: Some(description),
            ..self
        }
    }

    /// The operation, documented with a 409.
    pub(crate) const fn conflicts(self) -> Op {
        Op {
            conflict: true,
            ..self
        }
    }

    /// Whether the operation can answer 409: as declared, and every create, update and
    /// import, since every record kind carries a unique `external_id`.
    pub(crate) const fn answers_conflict(&self) -> bool {
        self.conflict || matches!(self.verb, Verb::Create | Verb::Update | Verb::Import)
    }
}

/// A list query's page parameters, which every list takes beside its filters.
pub(crate) trait Paged {
    /// `limit` and `after`, as given.
    fn cursor(&self) -> Cursor;
}

impl Paged for Cursor {
    fn cursor(&self) -> Cursor {
        self.clone()
    }
}

/// Implements [`Paged`] for list queries with `limit` and `after` fields of their own (a
/// query cannot embed [`Cursor`]: serde's `flatten` and `deny_unknown_fields` do not mix).
macro_rules! paged {
    ($($query:ty),+ $(,)?) => {
        $(impl $crate::routes::layer::Paged for $query {
            fn cursor(&self) -> $crate::routes::Cursor {
                $crate::routes::Cursor {
                    limit: self.limit,
                    after: self.after.clone(),
                }
            }
        })+
    };
}
pub(crate) use paged;

/// What a list reads: the most selective index, and the filters every record it yields
/// must pass.
pub(crate) struct ListPlan<R> {
    /// `(index, value)` to scan, or `None` for the whole collection.
    pub index: Option<(&'static str, String)>,
    /// The query's filters (the layer adds the caller's scope).
    pub keep: Box<dyn Fn(&R) -> bool + Send + Sync>,
}

/// The index a list reads for an `external_id` filter: at most one record holds it, so
/// it is always the most selective.
pub(crate) fn external_index(
    external: &Option<chanlab_shared::ExternalId>,
) -> Option<(&'static str, String)> {
    external
        .as_ref()
        .map(|e| (crate::storage::EXTERNAL_ID, e.to_string()))
}

/// A record collection served by the generic handlers.
///
/// The defaults fit a resource whose callers have full access or none: a record is in
/// scope only for [`Access::Yes`], so a resource whose policy grants [`Access::Own`] must
/// say what "own" means in [`Resource::in_scope`].
pub(crate) trait Resource: Record + ToSchema {
    /// The noun in problems and path errors: `region`, `sales_record`.
    const NAME: &'static str;
    /// The noun in the spec's sentences: `region`, `sales record`.
    const NOUN: &'static str;
    /// The noun's plural in the spec's sentences: `regions`, `sales records`.
    const PLURAL: &'static str;
    /// The collection's path, e.g. `/regions`; records are at `/regions/{id}`.
    const PATH: &'static str;
    /// The OpenAPI tag.
    const TAG: &'static str;
    /// The operations this resource has, each declared once.
    const OPS: &'static [Op];

    /// The record's id.
    type Id: FromStr<Err = ValidationError> + Display + Copy + Send + 'static;
    /// What a client sends to create or replace a record.
    type Input: DeserializeOwned + ToSchema + Send + 'static;
    /// The list's query parameters.
    type Query: DeserializeOwned + IntoParams + Paged + Send + 'static;
    /// The list's page, for the spec only (the handler writes `items` and `next`).
    type Page: ToSchema;
    /// A request checked before the stored record is read (most resources: the record).
    type Draft: Send + 'static;
    /// What the scope check needs beyond the caller (activities: the reps of a regional
    /// manager's region); `()` for most.
    type Context: Default + Send + 'static;

    /// Whether [`Resource::context`] scans the store, so reads that need it run on the
    /// blocking pool.
    const CONTEXT_SCANS: bool = false;

    /// A fresh id for a created record.
    fn new_id() -> Self::Id;

    /// Checks `input` as far as it can be checked without the stored record.
    fn draft(id: Self::Id, input: Self::Input) -> Result<Self::Draft, ApiError>;

    /// The record to store: from the draft alone on create, against the stored record on
    /// update (`current`).
    fn finish(draft: Self::Draft, current: Option<&Self>) -> Result<Self, ApiError>;

    /// The scope check of what the caller asks to write, before anything is read: a 403
    /// naming what is outside the caller's scope. It looks at the request alone, so its
    /// answer says nothing about stored records; a check that reads them belongs in
    /// [`Resource::check_write`], answering as if an out-of-scope record did not exist.
    fn check_draft(
        _caller: &Caller,
        _access: Access,
        _draft: &Self::Draft,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Whether the caller (granted `access` by the policy) may see or touch `record`.
    fn in_scope(_caller: &Caller, access: Access, _record: &Self, _ctx: &Self::Context) -> bool {
        access == Access::Yes
    }

    /// What [`Resource::in_scope`] needs for this caller. Blocking when
    /// [`Resource::CONTEXT_SCANS`].
    fn context(_store: &Store, _caller: &Caller) -> Result<Self::Context, ApiError> {
        Ok(Self::Context::default())
    }

    /// The index and filters of a list query, checked in the order the parameters are
    /// documented; a filter outside the caller's scope is a 403.
    fn list_plan(
        query: Self::Query,
        caller: &Caller,
        access: Access,
    ) -> Result<ListPlan<Self>, ApiError>;

    /// The request field that names a reference of `kind` the storage found missing.
    fn field_of(kind: Kind) -> String {
        default_field(kind)
    }

    /// A lock that creates and updates hold while they check and commit, for checks that
    /// read records no version or unique value guards (see `write_serialised`).
    fn write_lock() -> Option<&'static Serial> {
        None
    }

    /// Whether a create (`creating`) or update of `draft` needs [`Resource::write_lock`]:
    /// a write that cannot break the rule the lock guards need not wait for it (a partner
    /// without an owner rep, a new rep).
    fn locks(_draft: &Self::Draft, _creating: bool) -> bool {
        true
    }

    /// Checks `next` against other stored records before a create or update (`replacing`
    /// is the id of the record it replaces), and against the caller's scope where that
    /// depends on them (a rep logs activities only with partners it owns). Blocking; runs
    /// under [`Resource::write_lock`].
    fn check_write(
        _store: &Store,
        _caller: &Caller,
        _access: Access,
        _next: &Self,
        _replacing: Option<Self::Id>,
    ) -> Result<(), ApiError> {
        Ok(())
    }
}

/// The operation of `ops` for `verb`.
fn op(ops: &'static [Op], verb: Verb) -> Option<&'static Op> {
    ops.iter().find(|op| op.verb == verb)
}

/// Registers `R`'s declared operations at `R::PATH` and `R::PATH/{id}`. A resource with
/// routes of its own below `R::PATH` (`/reps/import`) registers those first, since
/// `/{id}` would match them.
pub(crate) fn configure<R: Resource>(cfg: &mut web::ServiceConfig) {
    let mut collection = super::resource(R::PATH);
    if op(R::OPS, Verb::List).is_some() {
        collection = collection.route(web::get().to(handlers::list::<R>));
    }
    if op(R::OPS, Verb::Create).is_some() {
        collection = collection.route(web::post().to(handlers::create::<R>));
    }
    let mut item = super::resource(&format!("{}/{{id}}", R::PATH));
    if op(R::OPS, Verb::Get).is_some() {
        item = item.route(web::get().to(handlers::get::<R>));
    }
    if op(R::OPS, Verb::Update).is_some() {
        item = item.route(web::put().to(handlers::update::<R>));
    }
    if op(R::OPS, Verb::Delete).is_some() {
        item = item.route(web::delete().to(handlers::delete::<R>));
    }
    cfg.service(collection).service(item);
}

/// A resource as the registry keeps it: its operations and how to document them.
pub(crate) struct Declared {
    /// The collection's path. Read by the test that checks each declared operation is
    /// documented where the layer serves it; the routes and the document take it from `R`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub path: &'static str,
    /// The create/list/get/update/delete operations.
    pub ops: &'static [Op],
    /// The CSV operations, if it has them.
    pub csv_ops: &'static [Op],
    /// Adds the operations to an OpenAPI document.
    pub document: fn(&mut utoipa::openapi::path::Paths),
    /// Adds the input and page schemas to an OpenAPI document.
    pub schemas: fn(&mut utoipa::openapi::OpenApi),
}

/// `R` in the registry, with its CSV operations (every record resource has them).
const fn declare_csv<R: CsvResource>() -> Declared {
    Declared {
        path: R::PATH,
        ops: R::OPS,
        csv_ops: R::CSV_OPS,
        document: doc::document_csv::<R>,
        schemas: doc::schemas::<R>,
    }
}

/// Every resource served by the layer.
pub(crate) const RESOURCES: &[Declared] = &[
    declare_csv::<Region>(),
    declare_csv::<Rep>(),
    declare_csv::<Partner>(),
    declare_csv::<Contract>(),
    declare_csv::<Activity>(),
    declare_csv::<SalesRecord>(),
    declare_csv::<Goal>(),
    declare_csv::<Assessment>(),
];

/// The policy rows of every operation declared through the layer.
pub(crate) fn policy_rows() -> impl Iterator<Item = (&'static str, [Access; 6])> {
    RESOURCES
        .iter()
        .flat_map(|r| r.ops.iter().chain(r.csv_ops))
        .map(|op| (op.id, op.access))
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi;

    /// The method and path at which the layer serves `verb` for a collection at `path`.
    fn served_at(verb: Verb, path: &str) -> (&'static str, String) {
        match verb {
            Verb::Create => ("post", path.to_owned()),
            Verb::List => ("get", path.to_owned()),
            Verb::Get => ("get", format!("{path}/{{id}}")),
            Verb::Update => ("put", format!("{path}/{{id}}")),
            Verb::Delete => ("delete", format!("{path}/{{id}}")),
            Verb::Import => ("post", format!("{path}/import")),
            Verb::Export => ("get", format!("{path}/export.csv")),
        }
    }

    #[test]
    fn every_declared_operation_is_documented_where_it_is_served() {
        let doc = serde_json::to_value(crate::openapi::ApiDoc::openapi()).unwrap();
        for resource in RESOURCES {
            let ops: Vec<&Op> = resource.ops.iter().chain(resource.csv_ops).collect();
            for (i, op) in ops.iter().enumerate() {
                assert!(
                    !ops[..i].iter().any(|o| o.verb == op.verb),
                    "{} declares {:?} twice",
                    resource.path,
                    op.verb
                );
                let (method, path) = served_at(op.verb, resource.path);
                let documented = &doc["paths"][&path][method];
                assert_eq!(documented["operationId"], op.id, "{method} {path}");
                assert_eq!(documented["summary"], op.summary, "{method} {path}");
                let conflict = documented["responses"].get("409").is_some();
                assert_eq!(conflict, op.answers_conflict(), "{method} {path}: 409");
            }
        }
    }

    #[test]
    fn csv_operations_are_declared_only_in_csv_ops() {
        for resource in RESOURCES {
            assert!(
                resource
                    .ops
                    .iter()
                    .all(|op| !matches!(op.verb, Verb::Import | Verb::Export)),
                "{}: import and export belong in CSV_OPS",
                resource.path
            );
            assert!(
                resource
                    .csv_ops
                    .iter()
                    .all(|op| matches!(op.verb, Verb::Import | Verb::Export)),
                "{}: CSV_OPS holds only import and export",
                resource.path
            );
        }
    }
}
