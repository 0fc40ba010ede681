//! One commit as one PostgreSQL transaction: the same checks, in the same order, as the sled
//! backend's, each decided under a row lock or a unique index (see the module above).

use std::collections::{BTreeMap, HashMap, HashSet};

use deadpool_postgres::Transaction;
use serde::{Deserialize, Serialize};
use tokio_postgres::IsolationLevel;
use tokio_postgres::types::Json;

use super::super::{CommitError, Expect, Kind, Remember, Write};

/// Why one attempt failed: refused (nothing written, the caller's answer), a claim that
/// vanished under it (run again), or the database failed (retried when it is a deadlock).
pub(super) enum Failure {
    Refused(CommitError),
    Again,
    Db(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Db(e)
    }
}

type Attempt<T> = Result<T, Failure>;

fn refuse<T>(e: CommitError) -> Attempt<T> {
    Err(Failure::Refused(e))
}

/// What a record declared, as stored in `records.meta` (and in the portable format).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(super) struct Meta {
    #[serde(default)]
    pub(super) indexes: Vec<(String, String)>,
    #[serde(default)]
    pub(super) unique: Vec<(String, String)>,
    #[serde(default)]
    pub(super) refs: Vec<(String, String)>,
}

/// Runs every write in one transaction and commits it; nothing is kept on any failure.
pub(super) async fn once(
    client: &mut deadpool_postgres::Object,
    writes: &[Write],
    remember: Option<&Remember>,
    force_sync: bool,
) -> Attempt<Vec<u64>> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    if force_sync {
        tx.batch_execute("SET LOCAL synchronous_commit TO on")
            .await?;
    }
    if let Some(r) = remember {
        // A new key is inserted; an expired one is taken over (the row locked, as a
        // concurrent claimer waits for it); a live one is left, and its response replayed.
        let claim = tx
            .prepare_cached(
                "INSERT INTO remembered (key, response, at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET response = excluded.response, at = excluded.at \
                 WHERE remembered.at < $4",
            )
            .await?;
        if tx
            .execute(&claim, &[&r.key, &r.response, &r.at, &r.expired_before])
            .await?
            == 0
        {
            let row = tx
                .query_opt("SELECT response FROM remembered WHERE key = $1", &[&r.key])
                .await?;
            return match row {
                Some(row) => refuse(CommitError::Replayed(row.get(0))),
                // The sweep removed it since the claim looked: run again.
                None => Err(Failure::Again),
            };
        }
    }
    let mut versions = Vec::new();
    let mut tally = Tally::default();
    let mut rest = writes;
    while !rest.is_empty() {
        let creates = rest.iter().take_while(|w| w.is_create()).count();
        if creates >= MANY {
            for chunk in rest[..creates].chunks(MANY_CHUNK) {
                create_many(&tx, &mut tally, chunk).await?;
            }
            versions.extend(std::iter::repeat_n(1, creates));
            rest = &rest[creates..];
            continue;
        }
        let w = &rest[0];
        match w {
            Write::Put { .. } => versions.push(put(&tx, &mut tally, w).await?),
            Write::Delete { kind, id, expect } => {
                delete(&tx, &mut tally, *kind, id, *expect).await?
            }
        }
        rest = &rest[1..];
    }
    tally.apply(&tx).await?;
    tx.commit().await?;
    Ok(versions)
}

fn check_expect(kind: Kind, id: &str, expect: Expect, found: Option<u64>) -> Attempt<()> {
    let (kind, id) = (kind, id.to_owned());
    match (expect, found) {
        (Expect::Absent, Some(_)) => refuse(CommitError::AlreadyExists { kind, id }),
        (Expect::Present | Expect::Version(_), None) => refuse(CommitError::NotFound { kind, id }),
        (Expect::Version(expected), Some(current)) if expected != current => {
            refuse(CommitError::Stale {
                kind,
                id,
                expected,
                current,
            })
        }
        _ => Ok(()),
    }
}

/// References counted once per record, in declared order.
fn dedup(refs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in refs {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// The record's version and declarations, locked until the transaction ends.
async fn lock_record(
    tx: &Transaction<'_>,
    kind: &str,
    id: &str,
) -> Attempt<Option<(u64, Meta, i64)>> {
    let stmt = tx
        .prepare_cached(
            "SELECT version, meta, refcount FROM records WHERE kind = $1 AND id = $2 FOR UPDATE",
        )
        .await?;
    Ok(tx.query_opt(&stmt, &[&kind, &id]).await?.map(|row| {
        let Json(meta): Json<Meta> = row.get(1);
        (row.get::<_, i64>(0) as u64, meta, row.get::<_, i64>(2))
    }))
}

/// Removes the index entries and unique values a record holds.
async fn release(tx: &Transaction<'_>, kind: &str, id: &str) -> Attempt<()> {
    let entries = tx
        .prepare_cached("DELETE FROM index_entries WHERE kind = $1 AND id = $2")
        .await?;
    tx.execute(&entries, &[&kind, &id]).await?;
    let unique = tx
        .prepare_cached("DELETE FROM unique_values WHERE kind = $1 AND id = $2")
        .await?;
    tx.execute(&unique, &[&kind, &id]).await?;
    Ok(())
}

/// The reference counts a commit changes, applied once per record at its end.
///
/// Why not an `UPDATE` per reference: 100,000 partners imported into one region updated
/// the region's row 100,000 times in one transaction, and each update has to walk the
/// row's chain of versions made by the ones before it in the same transaction, so the
/// commit grew quadratically (over 20 minutes for an 8 MiB import).
#[derive(Default)]
struct Tally {
    /// Records found (and locked) by this commit, so each is looked up once.
    locked: HashSet<(String, String)>,
    /// The change to each record's count.
    deltas: BTreeMap<(String, String), i64>,
}

impl Tally {
    /// Adds `delta` to the reference count of `(kind, id)`, locking its row the first
    /// time; whether it exists.
    async fn adjust(
        &mut self,
        tx: &Transaction<'_>,
        kind: &str,
        id: &str,
        delta: i64,
    ) -> Attempt<bool> {
        let key = (kind.to_owned(), id.to_owned());
        if !self.locked.contains(&key) {
            let stmt = tx
                .prepare_cached("SELECT 1 FROM records WHERE kind = $1 AND id = $2 FOR UPDATE")
                .await?;
            if tx.query_opt(&stmt, &[&kind, &id]).await?.is_none() {
                return Ok(false);
            }
            self.locked.insert(key.clone());
        }
        *self.deltas.entry(key).or_default() += delta;
        Ok(true)
    }

    /// What this commit has added to the count of `(kind, id)` so far.
    fn pending(&self, kind: &str, id: &str) -> i64 {
        let key = (kind.to_owned(), id.to_owned());
        self.deltas.get(&key).copied().unwrap_or(0)
    }

    /// Forgets a record this commit deleted: a later reference to it must find it absent.
    fn deleted(&mut self, kind: &str, id: &str) {
        let key = (kind.to_owned(), id.to_owned());
        self.locked.remove(&key);
        self.deltas.remove(&key);
    }

    async fn apply(&self, tx: &Transaction<'_>) -> Attempt<()> {
        let stmt = tx
            .prepare_cached(
                "UPDATE records SET refcount = GREATEST(refcount + $3, 0) \
                 WHERE kind = $1 AND id = $2",
            )
            .await?;
        for ((kind, id), delta) in self.deltas.iter().filter(|(_, d)| **d != 0) {
            tx.execute(&stmt, &[kind, id, delta]).await?;
        }
        Ok(())
    }
}

async fn put(tx: &Transaction<'_>, tally: &mut Tally, w: &Write) -> Attempt<u64> {
    let Write::Put {
        kind,
        id,
        expect,
        data,
        indexes,
        unique,
        refs,
    } = w
    else {
        unreachable!("put is only called with Write::Put")
    };
    let k = kind.name();
    let old = lock_record(tx, k, id).await?;
    let old_version = old.as_ref().map(|(v, _, _)| *v);
    check_expect(*kind, id, *expect, old_version)?;
    let old_meta = old.map(|(_, m, _)| m).unwrap_or_default();
    if old_version.is_some() {
        release(tx, k, id).await?;
    }
    let claim = tx
        .prepare_cached(
            "INSERT INTO unique_values (kind, name, value, id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let holder = tx
        .prepare_cached("SELECT id FROM unique_values WHERE kind = $1 AND name = $2 AND value = $3")
        .await?;
    for (name, value) in unique {
        if tx.execute(&claim, &[&k, name, value, id]).await? == 0 {
            let existing: Option<String> = tx
                .query_opt(&holder, &[&k, name, value])
                .await?
                .map(|r| r.get(0));
            match existing {
                Some(existing) if existing != *id => {
                    return refuse(CommitError::Duplicate {
                        kind: *kind,
                        name: name.clone(),
                        value: value.clone(),
                        existing,
                    });
                }
                Some(_) => {}
                // Released by its holder meanwhile: run the whole commit again.
                None => return Err(Failure::Again),
            }
        }
    }
    if !indexes.is_empty() {
        let (names, values): (Vec<&str>, Vec<&str>) = indexes
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .unzip();
        let stmt = tx
            .prepare_cached(
                "INSERT INTO index_entries (kind, name, value, id) \
                 SELECT $1, n, v, $4 FROM unnest($2::text[], $3::text[]) AS t(n, v) \
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        tx.execute(&stmt, &[&k, &names, &values, id]).await?;
    }
    let new_refs: Vec<(String, String)> = refs
        .iter()
        .map(|(rk, rid)| (rk.name().to_owned(), rid.clone()))
        .collect();
    for (i, (rk, rid)) in new_refs.iter().enumerate() {
        let r = (rk.clone(), rid.clone());
        if old_meta.refs.contains(&r) || new_refs[..i].contains(&r) {
            continue;
        }
        if !tally.adjust(tx, rk, rid, 1).await? {
            return refuse(CommitError::MissingReference {
                kind: refs[i].0,
                id: rid.clone(),
            });
        }
    }
    for r in dedup(&old_meta.refs) {
        if !new_refs.contains(&r) {
            tally.adjust(tx, &r.0, &r.1, -1).await?;
        }
    }
    let version = old_version.unwrap_or(0) + 1;
    let meta = Json(Meta {
        indexes: indexes.clone(),
        unique: unique.clone(),
        refs: new_refs,
    });
    let v = version as i64;
    if old_version.is_some() {
        let stmt = tx
            .prepare_cached(
                "UPDATE records SET version = $3, data = $4, meta = $5 WHERE kind = $1 AND id = $2",
            )
            .await?;
        tx.execute(&stmt, &[&k, id, &v, data, &meta]).await?;
    } else {
        // A concurrent create of the same id waits here for the other to finish, then
        // finds its row.
        let stmt = tx
            .prepare_cached(
                "INSERT INTO records (kind, id, version, data, meta) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        if tx.execute(&stmt, &[&k, id, &v, data, &meta]).await? == 0 {
            return refuse(CommitError::AlreadyExists {
                kind: *kind,
                id: id.clone(),
            });
        }
    }
    Ok(version)
}

/// Runs of at least this many creates are written a chunk at a time ([`create_many`]).
const MANY: usize = 64;
/// Records per statement of [`create_many`].
const MANY_CHUNK: usize = 1_000;

/// The creates of `chunk` in four statements instead of three or more each: a 100,000-row
/// import made 300,000 round trips (33 s on this machine) one record at a time. The
/// checks are [`put`]'s: an id already stored is `AlreadyExists`, a unique value another
/// record holds is `Duplicate`, a reference to a record that is not stored (or comes later
/// in the commit) is `MissingReference`.
async fn create_many(tx: &Transaction<'_>, tally: &mut Tally, chunk: &[Write]) -> Attempt<()> {
    let mut kinds = Vec::with_capacity(chunk.len());
    let mut ids = Vec::with_capacity(chunk.len());
    let mut datas = Vec::with_capacity(chunk.len());
    let mut metas = Vec::with_capacity(chunk.len());
    // Columns (kind, name, value, id) of the unique values and of the index entries.
    let mut unique_cols: [Vec<&str>; 4] = Default::default();
    let mut index_cols: [Vec<&str>; 4] = Default::default();
    for w in chunk {
        let Write::Put {
            kind,
            id,
            data,
            indexes,
            unique,
            refs,
            ..
        } = w
        else {
            unreachable!("create_many is only given creates")
        };
        let k = kind.name();
        for (name, value) in unique {
            for (col, v) in unique_cols.iter_mut().zip([k, name, value, id]) {
                col.push(v);
            }
        }
        for (name, value) in indexes {
            for (col, v) in index_cols.iter_mut().zip([k, name, value, id]) {
                col.push(v);
            }
        }
        kinds.push(k);
        ids.push(id.as_str());
        datas.push(data.as_slice());
        metas.push(Json(Meta {
            indexes: indexes.clone(),
            unique: unique.clone(),
            refs: refs
                .iter()
                .map(|(rk, rid)| (rk.name().to_owned(), rid.clone()))
                .collect(),
        }));
    }
    claim_many(tx, &unique_cols).await?;
    tx.execute(
        "INSERT INTO index_entries (kind, name, value, id) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
         ON CONFLICT DO NOTHING",
        &[
            &index_cols[0],
            &index_cols[1],
            &index_cols[2],
            &index_cols[3],
        ],
    )
    .await?;
    // A concurrent create of one of these ids waits here for the other to finish.
    let stored: HashSet<String> = tx
        .query(
            "INSERT INTO records (kind, id, version, data, meta) \
             SELECT k, i, 1, d, m FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[]) \
             AS t(k, i, d, m) ON CONFLICT DO NOTHING RETURNING kind || '/' || id",
            &[&kinds, &ids, &datas, &metas],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for (w, (k, id)) in chunk.iter().zip(kinds.iter().zip(&ids)) {
        if !stored.contains(&format!("{k}/{id}")) {
            let Write::Put { kind, .. } = w else {
                unreachable!()
            };
            return refuse(CommitError::AlreadyExists {
                kind: *kind,
                id: (*id).to_owned(),
            });
        }
    }
    reference_many(tx, tally, chunk, &kinds, &ids).await
}

/// Claims the unique values `(kind, name, value, id)` of [`create_many`]'s records, or
/// refuses with the record that holds one already.
async fn claim_many(tx: &Transaction<'_>, [uk, un, uv, ui]: &[Vec<&str>; 4]) -> Attempt<()> {
    let claimed: HashSet<(String, String, String)> = tx
        .query(
            "INSERT INTO unique_values (kind, name, value, id) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
             ON CONFLICT DO NOTHING RETURNING kind, name, value",
            &[&uk, &un, &uv, &ui],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    for i in 0..uk.len() {
        if claimed.contains(&(uk[i].to_owned(), un[i].to_owned(), uv[i].to_owned())) {
            continue;
        }
        let holder = tx
            .query_opt(
                "SELECT id FROM unique_values WHERE kind = $1 AND name = $2 AND value = $3",
                &[&uk[i], &un[i], &uv[i]],
            )
            .await?;
        match holder.map(|r| r.get::<_, String>(0)) {
            Some(existing) if existing == ui[i] => {}
            Some(existing) => {
                return refuse(CommitError::Duplicate {
                    kind: Kind::from_name(uk[i]).expect("a kind of this commit"),
                    name: un[i].to_owned(),
                    value: uv[i].to_owned(),
                    existing,
                });
            }
            None => return Err(Failure::Again),
        }
    }
    Ok(())
}

/// Counts the references of [`create_many`]'s records (stored by then), each to a record
/// stored before or written earlier in the commit.
async fn reference_many(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    chunk: &[Write],
    kinds: &[&str],
    ids: &[&str],
) -> Attempt<()> {
    // References in order: to a record stored before, or earlier in this commit.
    let mut place: HashMap<(&str, &str), usize> = HashMap::with_capacity(chunk.len());
    for (i, key) in kinds.iter().zip(ids).enumerate() {
        place.entry((*key.0, *key.1)).or_insert(i);
    }
    for (i, w) in chunk.iter().enumerate() {
        let Write::Put { refs, .. } = w else {
            unreachable!()
        };
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (rk, rid) in refs {
            let r = (rk.name(), rid.as_str());
            if seen.contains(&r) {
                continue;
            }
            seen.push(r);
            let later = place.get(&r).is_some_and(|&p| p >= i);
            if later || !tally.adjust(tx, r.0, r.1, 1).await? {
                return refuse(CommitError::MissingReference {
                    kind: *rk,
                    id: rid.clone(),
                });
            }
        }
    }
    Ok(())
}

async fn delete(
    tx: &Transaction<'_>,
    tally: &mut Tally,
    kind: Kind,
    id: &str,
    expect: Expect,
) -> Attempt<()> {
    let k = kind.name();
    let Some((version, meta, stored)) = lock_record(tx, k, id).await? else {
        return refuse(CommitError::NotFound {
            kind,
            id: id.to_owned(),
        });
    };
    check_expect(kind, id, expect, Some(version))?;
    let count = (stored + tally.pending(k, id)).max(0);
    if count > 0 {
        return refuse(CommitError::Referenced {
            kind,
            id: id.to_owned(),
            count: count as u64,
        });
    }
    release(tx, k, id).await?;
    for (rk, rid) in dedup(&meta.refs) {
        tally.adjust(tx, &rk, &rid, -1).await?;
    }
    let stmt = tx
        .prepare_cached("DELETE FROM records WHERE kind = $1 AND id = $2")
        .await?;
    tx.execute(&stmt, &[&k, &id]).await?;
    tally.deleted(k, id);
    Ok(())
}
