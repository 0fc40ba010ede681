//! A resource's OpenAPI operations, built from its declaration.
//!
//! Each operation comes out as the `#[utoipa::path]` attribute of the hand-written handler
//! wrote it (same parameters, bodies, responses and security, field for field), so
//! `openapi/openapi.json` did not change when the handlers became generic; the
//! committed-spec test (`tests/cli/openapi.rs`) holds it there.

use std::borrow::Cow;

use utoipa::openapi::header::Header;
use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterIn, Paths};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder, Responses};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Required, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::{CsvResource, Op, Resource, Verb};
use crate::routes::ImportReport;

/// Adds `R`'s input and page schemas, and the schemas they refer to, to the document's
/// components: a resource's schemas come with its declaration too, not from a list in
/// `openapi.rs`.
pub(crate) fn schemas<R: Resource>(openapi: &mut OpenApi) {
    let mut found = vec![
        (R::Input::name().into_owned(), R::Input::schema()),
        (R::Page::name().into_owned(), R::Page::schema()),
    ];
    R::Input::schemas(&mut found);
    R::Page::schemas(&mut found);
    let components = openapi.components.get_or_insert_with(Default::default);
    components.schemas.extend(found);
}

/// Adds every declared operation of `R` to `paths`.
fn document<R: Resource>(paths: &mut Paths) {
    let item = format!("{}/{{id}}", R::PATH);
    for op in R::OPS {
        let (path, method, operation) = match op.verb {
            Verb::Create => (R::PATH.to_owned(), HttpMethod::Post, create::<R>(op)),
            Verb::List => (R::PATH.to_owned(), HttpMethod::Get, list::<R>(op)),
            Verb::Get => (item.clone(), HttpMethod::Get, get::<R>(op)),
            Verb::Update => (item.clone(), HttpMethod::Put, update::<R>(op)),
            Verb::Delete => (item.clone(), HttpMethod::Delete, delete::<R>(op)),
            // Only CSV resources declare these, in `CSV_OPS`, which `document_csv` reads.
            Verb::Import | Verb::Export => continue,
        };
        paths.add_path_operation(path, vec![method], operation);
    }
}

/// Adds every declared operation of `R`, its import and export included, to `paths`.
pub(crate) fn document_csv<R: CsvResource>(paths: &mut Paths) {
    document::<R>(paths);
    for op in R::CSV_OPS {
        match op.verb {
            Verb::Import => paths.add_path_operation(
                format!("{}/import", R::PATH),
                vec![HttpMethod::Post],
                import::<R>(op),
            ),
            Verb::Export => paths.add_path_operation(
                format!("{}/export.csv", R::PATH),
                vec![HttpMethod::Get],
                export::<R>(op),
            ),
            _ => {}
        }
    }
}

/// The statuses every operation of a verb answers with a shared problem response, by the
/// response's component name. 409 is added where the declaration says so.
fn problems(verb: Verb) -> &'static [(&'static str, &'static str)] {
    const BAD_REQUEST: (&str, &str) = ("400", "BadRequest");
    const UNAUTHORIZED: (&str, &str) = ("401", "Unauthorized");
    const FORBIDDEN: (&str, &str) = ("403", "Forbidden");
    const NOT_FOUND: (&str, &str) = ("404", "NotFound");
    const PRECONDITION: (&str, &str) = ("412", "PreconditionFailed");
    const TOO_LARGE: (&str, &str) = ("413", "PayloadTooLarge");
    const MEDIA_TYPE: (&str, &str) = ("415", "UnsupportedMediaType");
    const UNPROCESSABLE: (&str, &str) = ("422", "Unprocessable");
    match verb {
        Verb::Create => &[
            BAD_REQUEST,
            UNAUTHORIZED,
            FORBIDDEN,
            TOO_LARGE,
            MEDIA_TYPE,
            UNPROCESSABLE,
        ],
        Verb::List => &[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN],
        Verb::Get => &[UNAUTHORIZED, FORBIDDEN, NOT_FOUND],
        Verb::Update => &[
            BAD_REQUEST,
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            PRECONDITION,
            TOO_LARGE,
            MEDIA_TYPE,
            UNPROCESSABLE,
        ],
        Verb::Delete => &[UNAUTHORIZED, FORBIDDEN, NOT_FOUND, PRECONDITION],
        Verb::Import => &[
            BAD_REQUEST,
            UNAUTHORIZED,
            FORBIDDEN,
            TOO_LARGE,
            MEDIA_TYPE,
            UNPROCESSABLE,
        ],
        Verb::Export => &[UNAUTHORIZED, FORBIDDEN],
    }
}

/// The operation's skeleton: tag, summary, id, the verb's problem responses plus `success`,
/// and the bearer token.
fn operation(
    tag: &str,
    op: &Op,
    parameters: Vec<Parameter>,
    (status, success): (&str, Response),
) -> Operation {
    let mut responses = Responses::new();
    responses
        .responses
        .insert(status.to_owned(), RefOr::T(success));
    let conflict = op.answers_conflict().then_some(("409", "Conflict"));
    for (status, name) in problems(op.verb).iter().copied().chain(conflict) {
        responses
            .responses
            .insert(status.to_owned(), RefOr::Ref(Ref::from_response_name(name)));
    }
    let mut operation = Operation::new();
    operation.tags = Some(vec![tag.to_owned()]);
    operation.summary = Some(op.summary.to_owned());
    operation.description = op.description.map(str::to_owned);
    operation.operation_id = Some(op.id.to_owned());
    operation.parameters =
        (!parameters.is_empty()).then(|| parameters.into_iter().map(RefOr::T).collect());
    operation.responses = responses;
    operation.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    operation
}

/// JSON whose schema is the component `name`.
fn json(name: Cow<'static, str>) -> Content {
    Content::new(Some(Ref::from_schema_name(name)))
}

/// A header or parameter whose value is a string.
fn string() -> RefOr<Schema> {
    String::schema()
}

/// An optional header's string, as the attribute writes `Option<String>` (a type list, not
/// the `oneOf` of `optional_string()`).
fn optional_string() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .into()
}

/// The request body: `R::Input` as JSON.
fn input<R: Resource>() -> RefOr<RequestBody> {
    RefOr::T(
        RequestBodyBuilder::new()
            .content("application/json", json(R::Input::name()))
            .required(Some(Required::True))
            .build(),
    )
}

/// A success response carrying the record, with its ETag (and `Location` on create).
fn record<R: Resource>(description: &str, location: bool) -> Response {
    let mut response = ResponseBuilder::new()
        .description(description)
        .header("ETag", Header::new(string()));
    if location {
        response = response.header("Location", Header::new(string()));
    }
    response
        .content("application/json", json(R::name()))
        .build()
}

/// The `{id}` path parameter.
fn id_param<R: Resource>() -> Parameter {
    header_or_path(
        "id",
        ParameterIn::Path,
        format!("The {}'s id.", R::NOUN),
        Required::True,
        string(),
    )
}

/// The optional `If-Match` header of an update or delete.
fn if_match<R: Resource>() -> Parameter {
    header_or_path(
        "If-Match",
        ParameterIn::Header,
        format!("The ETag last read; 412 if the {} changed since.", R::NOUN),
        Required::False,
        optional_string(),
    )
}

fn header_or_path(
    name: &str,
    at: ParameterIn,
    description: String,
    required: Required,
    schema: RefOr<Schema>,
) -> Parameter {
    let mut parameter = Parameter::new(name);
    parameter.parameter_in = at;
    parameter.description = Some(description);
    parameter.required = required;
    parameter.schema = Some(schema);
    parameter
}

/// The optional `Idempotency-Key` header of a create or import; `what` is what a retry
/// does not do again.
fn idempotency_key(what: &str) -> Parameter {
    header_or_path(
        "Idempotency-Key",
        ParameterIn::Header,
        format!("Retrying with the same key returns the first result and {what}."),
        Required::False,
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .min_length(Some(1))
            .max_length(Some(crate::extract::IDEMPOTENCY_KEY_MAX))
            .pattern(Some(crate::extract::IDEMPOTENCY_KEY_PATTERN))
            .into(),
    )
}

fn create<R: Resource>(op: &Op) -> Operation {
    let mut operation = operation(
        R::TAG,
        op,
        vec![idempotency_key("creates nothing new")],
        ("201", record::<R>("Created.", true)),
    );
    operation.request_body = Some(input::<R>());
    operation
}

fn list<R: Resource>(op: &Op) -> Operation {
    let page = ResponseBuilder::new()
        .description(format!("A page of {}.", R::PLURAL))
        .content("application/json", json(R::Page::name()))
        .build();
    operation(R::TAG, op, R::Query::into_params(|| None), ("200", page))
}

fn get<R: Resource>(op: &Op) -> Operation {
    let description = format!("The {}.", R::NOUN);
    operation(
        R::TAG,
        op,
        vec![id_param::<R>()],
        ("200", record::<R>(&description, false)),
    )
}

fn update<R: Resource>(op: &Op) -> Operation {
    let mut operation = operation(
        R::TAG,
        op,
        vec![id_param::<R>(), if_match::<R>()],
        ("200", record::<R>("Updated.", false)),
    );
    operation.request_body = Some(input::<R>());
    operation
}

fn delete<R: Resource>(op: &Op) -> Operation {
    operation(
        R::TAG,
        op,
        vec![id_param::<R>(), if_match::<R>()],
        ("204", Response::new("Deleted.")),
    )
}

fn import<R: CsvResource>(op: &Op) -> Operation {
    let required: Vec<&str> = R::COLUMNS
        .iter()
        .copied()
        .filter(|c| !R::OPTIONAL_COLUMNS.contains(c))
        .collect();
    let optional = if R::OPTIONAL_COLUMNS.is_empty() {
        String::new()
    } else {
        format!(" and optionally {}", R::OPTIONAL_COLUMNS.join(","))
    };
    let report = ResponseBuilder::new()
        .description("Every row was imported.")
        .content("application/json", json(ImportReport::name()))
        .build();
    let mut operation = operation(
        R::TAG,
        op,
        vec![idempotency_key("imports nothing new")],
        ("201", report),
    );
    operation.request_body = Some(RefOr::T(
        RequestBodyBuilder::new()
            .description(Some(format!("Columns: {}{optional}.", required.join(","))))
            .content("text/csv", Content::new(Some(string())))
            .required(Some(Required::True))
            .build(),
    ));
    operation
}

fn export<R: CsvResource>(op: &Op) -> Operation {
    let file = ResponseBuilder::new()
        .description(format!("The {} as CSV.", R::PLURAL))
        .content("text/csv", Content::new(Some(string())))
        .build();
    operation(R::TAG, op, Vec::new(), ("200", file))
}
