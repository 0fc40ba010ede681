//! The generic create, list, get, update and delete handlers.
//!
//! Each takes its extractors in the order the hand-written handlers did (token, then
//! headers, then body), so a request with several faults gets the same problem as before;
//! then checks the policy, parses the id and the body into domain values, and goes through
//! the one write path (`write.rs`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::{Paged, Resource, Verb, op};
use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::routes::{
    Outcome, created, delete_record, json_with_etag, next_link, read_one, update_record, write,
    write_serialised,
};
use crate::state::AppState;
use crate::storage::{Expect, Store, Write, store_put};

/// A page as every list answers it (the `...Page` schemas document it per resource).
#[derive(Serialize)]
struct PageBody<T> {
    items: Vec<T>,
    next: Option<String>,
}

/// Checks the policy for `R`'s operation `verb` in `ops`. The routes exist only for
/// declared operations, so a missing declaration is a bug, answered 500 rather than a panic.
pub(super) fn allow<R: Resource>(
    caller: &Caller,
    ops: &'static [super::Op],
    verb: Verb,
) -> Result<Access, ApiError> {
    let op = op(ops, verb).ok_or_else(|| {
        ApiError::Internal(format!("{} has no {verb:?} operation declared", R::NAME))
    })?;
    caller.allow(op.id)
}

/// The answer for a stored record outside the caller's scope: an unknown id's 404.
fn out_of_scope<R: Resource>(id: impl std::fmt::Display) -> ApiError {
    crate::auth::hidden(R::NAME, id)
}

/// Runs a create or update through the write path, holding `R`'s lock when it has one
/// and the write needs it (`locks`).
pub(super) async fn write_record<R, F>(
    state: &AppState,
    caller: &Caller,
    idem: IdempotencyKey,
    req: &HttpRequest,
    raw: &[u8],
    locks: bool,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    R: Resource,
    F: FnOnce(&Store) -> Result<(Vec<Write>, Outcome), ApiError> + Send + 'static,
{
    match R::write_lock().filter(|_| locks) {
        Some(lock) => {
            write_serialised(state, caller, idem, req, raw, R::field_of, lock, work).await
        }
        None => write(state, caller, idem, req, raw, R::field_of, work).await,
    }
}

/// `POST R::PATH`: creates a record and answers 201 with its `Location`.
pub(super) async fn create<R: Resource>(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<R::Input>,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::OPS, Verb::Create)?;
    let draft = R::draft(R::new_id(), body.value)?;
    R::check_draft(&caller, access, &draft)?;
    let locks = R::locks(&draft, true);
    let record = R::finish(draft, None)?;
    let location = format!("{}/{}", R::PATH, record.key());
    let c = caller.clone();
    write_record::<R, _>(&state, &caller, idem, &req, &body.raw, locks, move |s| {
        R::check_write(s, &c, access, &record, None)?;
        Ok((
            vec![store_put(&record, Expect::Absent)],
            created(&record, location),
        ))
    })
    .await
}

/// `GET R::PATH`: a page of the records the query and the caller's scope select.
pub(super) async fn list<R: Resource>(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<R::Query>,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::OPS, Verb::List)?;
    let cursor = query.cursor();
    let limit = cursor.limit()?;
    let plan = R::list_plan(query.into_inner(), &caller, access)?;
    let c = caller.clone();
    let page = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            let ctx = R::context(s, &c)?;
            Ok(s.list::<R>(
                plan.index.as_ref().map(|(i, v)| (*i, v.as_str())),
                cursor.after.as_deref(),
                limit,
                &|r: &R| (plan.keep)(r) && R::in_scope(&c, access, r, &ctx),
            )?)
        })
        .await??;
    Ok(HttpResponse::Ok().json(PageBody {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

/// `GET R::PATH/{id}`: one record with its ETag.
pub(super) async fn get<R: Resource>(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::OPS, Verb::Get)?;
    let id: R::Id = path_id(R::NAME, &id)?;
    if access == Access::Yes {
        // Full access: the stored JSON goes out as it is, undecoded.
        return read_one::<R>(&state.store, access, R::NAME, &id.to_string(), |_| true);
    }
    if !R::CONTEXT_SCANS {
        let ctx = R::context(&state.store, &caller)?;
        return read_one::<R>(&state.store, access, R::NAME, &id.to_string(), |r| {
            R::in_scope(&caller, access, r, &ctx)
        });
    }
    // The scope needs a scan (the reps of a region): read on the blocking pool.
    let c = caller.clone();
    let (found, ctx) = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            Ok((s.get::<R>(&id.to_string())?, R::context(s, &c)?))
        })
        .await??;
    let (record, version) = found.ok_or_else(|| ApiError::NotFound {
        kind: R::NAME,
        id: id.to_string(),
    })?;
    if !R::in_scope(&caller, access, &record, &ctx) {
        return Err(out_of_scope::<R>(id));
    }
    Ok(json_with_etag(&record, version))
}

/// `PUT R::PATH/{id}`: replaces a record after checking `If-Match`.
pub(super) async fn update<R: Resource>(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Body<R::Input>,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::OPS, Verb::Update)?;
    let id: R::Id = path_id(R::NAME, &id)?;
    let draft = R::draft(id, body.value)?;
    R::check_draft(&caller, access, &draft)?;
    let locks = R::locks(&draft, false);
    let c = caller.clone();
    write_record::<R, _>(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        locks,
        move |s| {
            update_record::<R>(
                s,
                &id.to_string(),
                &if_match,
                R::NAME,
                |current| {
                    // Without the context, as the hand-written handlers did: no policy row
                    // lets a caller whose scope needs it (a regional manager on activities)
                    // write.
                    if R::in_scope(&c, access, current, &R::Context::default()) {
                        Ok(())
                    } else {
                        Err(out_of_scope::<R>(id))
                    }
                },
                |current| {
                    let next = R::finish(draft, Some(current))?;
                    R::check_write(s, &c, access, &next, Some(id))?;
                    Ok(next)
                },
            )
        },
    )
    .await
}

/// `DELETE R::PATH/{id}`: deletes a record after checking `If-Match`; the storage refuses
/// (409) while other records refer to it. Deletes take no lock: removing a record cannot
/// break a rule that [`Resource::check_write`] guards.
pub(super) async fn delete<R: Resource>(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let access = allow::<R>(&caller, R::OPS, Verb::Delete)?;
    let id: R::Id = path_id(R::NAME, &id)?;
    let c = caller.clone();
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        R::field_of,
        move |s| {
            delete_record::<R>(s, &id.to_string(), &if_match, R::NAME, |current| {
                if R::in_scope(&c, access, current, &R::Context::default()) {
                    Ok(())
                } else {
                    Err(out_of_scope::<R>(id))
                }
            })
        },
    )
    .await
}
