//! Backup (export), restore (import) and verification of a PostgreSQL store, in the portable
//! format of [`crate::storage::portable`], so records move between sled and PostgreSQL.
//!
//! An export reads one REPEATABLE READ snapshot, so it is consistent while commits go on
//! (and blocks none of them), in the sled export's order: records by kind then id, then
//! remembered responses by key. An import writes into an empty store in one transaction:
//! a refused or broken file leaves the store as empty as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write as IoWrite};

use tokio_postgres::IsolationLevel;
use tokio_postgres::types::Json;

use super::commit::Meta;
use super::{PostgresStorage, db};
use crate::storage::portable::{Counts, Entry, EntryMeta, FORMAT, Line, VerifyReport};
use crate::storage::{Fault, Kind, StorageError};

/// Rows fetched per round trip while streaming.
const BATCH: i32 = 500;

fn entry(row: &tokio_postgres::Row) -> Result<Entry, StorageError> {
    let (kind, id): (String, String) = (row.get(0), row.get(1));
    let data: Vec<u8> = row.get(3);
    let Json(meta): Json<Meta> = row.get(4);
    let data = serde_json::from_slice(&data)
        .map_err(|e| StorageError::with_fault(Fault::Corrupt, format!("{kind} {id}: {e}")))?;
    Ok(Entry {
        kind,
        id,
        version: row.get::<_, i64>(2) as u64,
        meta: EntryMeta {
            indexes: meta.indexes,
            unique: meta.unique,
            refs: meta.refs,
        },
        data,
    })
}

const RECORDS: &str = "SELECT kind, id, version, data, meta FROM records ORDER BY kind, id";
const REMEMBERED: &str = "SELECT key, response, at FROM remembered ORDER BY key";

impl PostgresStorage {
    /// Writes every record and remembered response to `out` as JSON lines, from one
    /// snapshot. Returns the counts written.
    pub fn export(&self, out: &mut dyn IoWrite) -> Result<Counts, StorageError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Line>, StorageError>>(4);
        let pool = self.inner.pool.clone();
        self.inner.rt.spawn(async move {
            let result = async {
                let mut client = pool.get().await.map_err(super::pool_error)?;
                let t = client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .await
                    .map_err(db)?;
                for (n, sql) in [RECORDS, REMEMBERED].into_iter().enumerate() {
                    let stmt = t.prepare(sql).await.map_err(db)?;
                    let portal = t.bind(&stmt, &[]).await.map_err(db)?;
                    loop {
                        let rows = t.query_portal(&portal, BATCH).await.map_err(db)?;
                        let done = rows.len() < BATCH as usize;
                        let lines = rows
                            .iter()
                            .map(|row| {
                                if n == 0 {
                                    entry(row).map(Line::Record)
                                } else {
                                    let remembered: String = row.get(0);
                                    let bytes: Vec<u8> = row.get(1);
                                    let at: i64 = row.get(2);
                                    serde_json::from_slice(&bytes)
                                        .map(|response| Line::Remembered {
                                            remembered: remembered.clone(),
                                            response,
                                            at: Some(at),
                                        })
                                        .map_err(|e| {
                                            StorageError::with_fault(
                                                Fault::Corrupt,
                                                format!("remembered {remembered}: {e}"),
                                            )
                                        })
                                }
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        if tx.send(Ok(lines)).is_err() {
                            return Ok(()); // the writer gave up
                        }
                        if done {
                            break;
                        }
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                let _ = tx.send(Err(e));
            }
        });
        let io = |e: std::io::Error| StorageError::io(&e, "writing the backup");
        let line = |out: &mut dyn IoWrite, l: &Line| -> Result<(), StorageError> {
            serde_json::to_writer(&mut *out, l).map_err(|e| StorageError::new(e.to_string()))?;
            out.write_all(b"\n").map_err(io)
        };
        line(
            out,
            &Line::Header {
                chanlab_backup: FORMAT,
                chanlab_version: env!("CARGO_PKG_VERSION").to_owned(),
            },
        )?;
        let mut counts = Counts::default();
        for batch in rx {
            for l in batch? {
                match &l {
                    Line::Record(_) => counts.records += 1,
                    _ => counts.remembered += 1,
                }
                line(out, &l)?;
            }
        }
        line(out, &Line::End { end: counts })?;
        out.flush().map_err(io)?;
        Ok(counts)
    }

    /// Restores a backup read from `input` into this database, which must hold no records;
    /// one transaction, so a damaged or truncated backup (refused naming its line) or a
    /// failure half-way leaves it empty.
    pub fn import(&self, input: &mut dyn BufRead) -> Result<Counts, String> {
        let (entries, remembered) = read_backup(input)?;
        let counts = Counts {
            records: entries.len() as u64,
            remembered: remembered.len() as u64,
        };
        let pool = self.inner.pool.clone();
        let done = self.inner.rt.run(async move {
            let mut client = pool.get().await.map_err(|e| e.to_string())?;
            let t = client.transaction().await.map_err(|e| db(e).message)?;
            let held: bool = t
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM records) OR EXISTS (SELECT 1 FROM remembered)",
                    &[],
                )
                .await
                .map_err(|e| db(e).message)?
                .get(0);
            if held {
                return Err("the database already holds records; restore into an empty one".into());
            }
            // The jobs a backup holds queued or running were abandoned with the server
            // that ran them: restored, they are not queued again (migration 2's trigger
            // reads this), and a read marks them interrupted.
            t.batch_execute("SET LOCAL chanlab.restoring = 'on'")
                .await
                .map_err(|e| db(e).message)?;
            insert_all(&t, &entries, &remembered)
                .await
                .map_err(|e| db(e).message)?;
            t.commit().await.map_err(|e| db(e).message)
        });
        done.map_err(|e| e.message)??;
        Ok(counts)
    }

    /// Checks every record decodes and every index entry, unique value and reference count
    /// agrees with the records' declarations, from one snapshot.
    pub fn verify(&self) -> Result<VerifyReport, StorageError> {
        let pool = self.inner.pool.clone();
        self.inner.rt.run(async move {
            let mut client = pool.get().await.map_err(super::pool_error)?;
            let t = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(db)?;
            let mut report = VerifyReport::default();
            let mut expected = Expected::default();
            let mut counts_stored = BTreeMap::new();
            let stmt = t
                .prepare("SELECT kind, id, data, meta, refcount FROM records ORDER BY kind, id")
                .await
                .map_err(db)?;
            let portal = t.bind(&stmt, &[]).await.map_err(db)?;
            loop {
                let rows = t.query_portal(&portal, BATCH).await.map_err(db)?;
                for row in &rows {
                    let (kind, id): (String, String) = (row.get(0), row.get(1));
                    report.counts.records += 1;
                    let data: Vec<u8> = row.get(2);
                    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&data) {
                        report
                            .problems
                            .push(format!("{kind} {id}: its JSON is damaged ({e})"));
                    }
                    let Json(meta): Json<Meta> = row.get(3);
                    expected.add(&kind, &id, &meta);
                    let n: i64 = row.get(4);
                    if n != 0 {
                        counts_stored.insert((kind, id), n as u64);
                    }
                }
                if rows.len() < BATCH as usize {
                    break;
                }
            }
            let stored_entries: BTreeSet<[String; 4]> = t
                .query("SELECT kind, name, value, id FROM index_entries", &[])
                .await
                .map_err(db)?
                .iter()
                .map(|r| [r.get(0), r.get(1), r.get(2), r.get(3)])
                .collect();
            let stored_unique: BTreeMap<[String; 3], String> = t
                .query("SELECT kind, name, value, id FROM unique_values", &[])
                .await
                .map_err(db)?
                .iter()
                .map(|r| ([r.get(0), r.get(1), r.get(2)], r.get(3)))
                .collect();
            let remembered: i64 = t
                .query_one("SELECT count(*) FROM remembered", &[])
                .await
                .map_err(db)?
                .get(0);
            report.counts.remembered = remembered as u64;
            expected.compare(
                &stored_entries,
                &stored_unique,
                &counts_stored,
                &mut report.problems,
            );
            Ok(report)
        })?
    }
}

/// What the records' declarations say should be stored beside them.
#[derive(Default)]
struct Expected {
    entries: BTreeSet<[String; 4]>,
    unique: BTreeMap<[String; 3], String>,
    counts: BTreeMap<(String, String), u64>,
}

impl Expected {
    fn add(&mut self, kind: &str, id: &str, meta: &Meta) {
        for (name, value) in &meta.indexes {
            self.entries
                .insert([kind.into(), name.clone(), value.clone(), id.into()]);
        }
        for (name, value) in &meta.unique {
            self.unique
                .insert([kind.into(), name.clone(), value.clone()], id.into());
        }
        let mut seen = BTreeSet::new();
        for r in &meta.refs {
            if seen.insert(r) {
                *self.counts.entry(r.clone()).or_default() += 1;
            }
        }
    }

    fn compare(
        &self,
        entries: &BTreeSet<[String; 4]>,
        unique: &BTreeMap<[String; 3], String>,
        counts: &BTreeMap<(String, String), u64>,
        problems: &mut Vec<String>,
    ) {
        for e in self.entries.difference(entries) {
            problems.push(format!("missing index entry {}", e.join(" / ")));
        }
        for e in entries.difference(&self.entries) {
            problems.push(format!("stray index entry {}", e.join(" / ")));
        }
        for (k, id) in &self.unique {
            match unique.get(k) {
                None => problems.push(format!("missing unique value {} / {id}", k.join(" / "))),
                Some(s) if s != id => {
                    problems.push(format!("wrong unique value {} / {s}", k.join(" / ")))
                }
                Some(_) => {}
            }
        }
        for (k, id) in unique {
            if !self.unique.contains_key(k) {
                problems.push(format!("stray unique value {} / {id}", k.join(" / ")));
            }
        }
        for (k, n) in &self.counts {
            if counts.get(k) != Some(n) {
                problems.push(format!("wrong reference count of {} {}", k.0, k.1));
            }
        }
        for k in counts.keys().filter(|k| !self.counts.contains_key(*k)) {
            problems.push(format!("stray reference count of {} {}", k.0, k.1));
        }
    }
}

type Parsed = (Vec<Entry>, Vec<(String, Vec<u8>, i64)>);

/// Every line of a backup, checked (header, trailer, counts) before anything is written.
fn read_backup(input: &mut dyn BufRead) -> Result<Parsed, String> {
    let (mut entries, mut remembered) = (Vec::new(), Vec::new());
    let mut ended = None;
    for (n, text) in input.lines().enumerate() {
        let at = n + 1;
        let text = text.map_err(|e| format!("line {at}: cannot read: {e}"))?;
        let line: Line = serde_json::from_str(&text)
            .map_err(|e| format!("line {at}: not a chanlab backup line ({e})"))?;
        match (at, line, ended) {
            (_, _, Some(_)) => return Err(format!("line {at}: lines after the end")),
            (1, Line::Header { chanlab_backup, .. }, _) if chanlab_backup == FORMAT => {}
            (1, _, _) => {
                return Err(format!(
                    "line 1: not a chanlab backup header (format {FORMAT} expected)"
                ));
            }
            (_, Line::Record(e), _) => {
                if Kind::from_name(&e.kind).is_none() {
                    return Err(format!("line {at}: no collection named {:?}", e.kind));
                }
                entries.push(e);
            }
            (
                _,
                Line::Remembered {
                    remembered: key,
                    response,
                    at,
                },
                _,
            ) => {
                let bytes = serde_json::to_vec(&response).map_err(|e| e.to_string())?;
                let at = at.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
                remembered.push((key, bytes, at));
            }
            (_, Line::End { end }, _) => ended = Some(end),
            (_, Line::Header { .. }, _) => return Err(format!("line {at}: a second header")),
        }
    }
    let counts = Counts {
        records: entries.len() as u64,
        remembered: remembered.len() as u64,
    };
    match ended {
        Some(end) if end == counts => Ok((entries, remembered)),
        Some(end) => Err(format!(
            "the backup says it holds {} records and {} responses but has {} and {}",
            end.records, end.remembered, counts.records, counts.remembered
        )),
        None => Err("the backup has no end line: it is truncated".into()),
    }
}

/// Inserts records, their entries and the remembered responses, a chunk per statement,
/// then sets every reference count from the records' declarations.
async fn insert_all(
    t: &deadpool_postgres::Transaction<'_>,
    entries: &[Entry],
    remembered: &[(String, Vec<u8>, i64)],
) -> Result<(), tokio_postgres::Error> {
    let records = t
        .prepare(
            "INSERT INTO records (kind, id, version, data, meta) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::bytea[], $5::jsonb[])",
        )
        .await?;
    let index = t
        .prepare(
            "INSERT INTO index_entries (kind, name, value, id) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let unique = t
        .prepare(
            "INSERT INTO unique_values (kind, name, value, id) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])",
        )
        .await?;
    for chunk in entries.chunks(1000) {
        let kinds: Vec<&str> = chunk.iter().map(|e| e.kind.as_str()).collect();
        let ids: Vec<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
        let versions: Vec<i64> = chunk.iter().map(|e| e.version as i64).collect();
        let data: Vec<Vec<u8>> = chunk
            .iter()
            .map(|e| serde_json::to_vec(&e.data).expect("a JSON value serialises"))
            .collect();
        let metas: Vec<Json<Meta>> = chunk
            .iter()
            .map(|e| {
                Json(Meta {
                    indexes: e.meta.indexes.clone(),
                    unique: e.meta.unique.clone(),
                    refs: e.meta.refs.clone(),
                })
            })
            .collect();
        t.execute(&records, &[&kinds, &ids, &versions, &data, &metas])
            .await?;
        for (stmt, pick) in [(&index, 0), (&unique, 1)] {
            let mut cols: [Vec<&str>; 4] = Default::default();
            for e in chunk {
                let pairs = if pick == 0 {
                    &e.meta.indexes
                } else {
                    &e.meta.unique
                };
                for (name, value) in pairs {
                    cols[0].push(&e.kind);
                    cols[1].push(name);
                    cols[2].push(value);
                    cols[3].push(&e.id);
                }
            }
            t.execute(stmt, &[&cols[0], &cols[1], &cols[2], &cols[3]])
                .await?;
        }
    }
    let stmt = t
        .prepare(
            "INSERT INTO remembered (key, response, at) \
             SELECT * FROM unnest($1::text[], $2::bytea[], $3::int8[])",
        )
        .await?;
    for chunk in remembered.chunks(1000) {
        let keys: Vec<&str> = chunk.iter().map(|r| r.0.as_str()).collect();
        let responses: Vec<&[u8]> = chunk.iter().map(|r| r.1.as_slice()).collect();
        let times: Vec<i64> = chunk.iter().map(|r| r.2).collect();
        t.execute(&stmt, &[&keys, &responses, &times]).await?;
    }
    t.batch_execute(
        r#"UPDATE records r SET refcount = c.n FROM (
               SELECT (ref->>0) COLLATE "C" AS kind, (ref->>1) COLLATE "C" AS id,
                      count(DISTINCT (s.kind, s.id)) AS n
               FROM records s, jsonb_array_elements(s.meta->'refs') AS ref
               GROUP BY 1, 2
           ) c
           WHERE r.kind = c.kind AND r.id = c.id"#,
    )
    .await
}
