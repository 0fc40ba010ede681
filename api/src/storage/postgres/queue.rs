//! The run queue in PostgreSQL (`storage::queue`): the `run_queue` and `instances` tables of
//! migration 2. Every time is the database server's (`now()`), so the instances' clocks
//! never have to agree.

use uuid::Uuid;

use super::super::queue::{Cancel, Entry, Job, Report, RunQueue, STALE_AFTER};
use super::super::{Kind, StorageError};
use super::{PostgresStorage, db};

/// `STALE_AFTER` in seconds, as the queries take it (`make_interval(secs => $n)`).
fn stale_secs() -> f64 {
    STALE_AFTER.as_secs_f64()
}

/// A job read back from the queue; a kind this binary does not know is a damaged row.
fn job(kind: String, id: String) -> Result<Job, StorageError> {
    match Kind::from_name(&kind) {
        Some(kind @ (Kind::Run | Kind::Backtest)) => Ok(Job { kind, id }),
        _ => Err(StorageError::with_fault(
            super::super::Fault::Corrupt,
            format!("the run queue holds an entry of kind {kind:?} ({id})"),
        )),
    }
}

impl RunQueue for PostgresStorage {
    fn heartbeat(&self, instance: Uuid) -> Result<(), StorageError> {
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "INSERT INTO instances (id, seen_at) VALUES ($1, now()) \
                     ON CONFLICT (id) DO UPDATE SET seen_at = now()",
                )
                .await
                .map_err(db)?;
            client.execute(&stmt, &[&instance]).await.map_err(db)?;
            Ok(())
        })
    }

    fn live_instances(&self) -> Result<u64, StorageError> {
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "SELECT count(*) FROM instances \
                     WHERE seen_at > now() - make_interval(secs => $1)",
                )
                .await
                .map_err(db)?;
            let row = client
                .query_one(&stmt, &[&stale_secs()])
                .await
                .map_err(db)?;
            Ok(row.get::<_, i64>(0) as u64)
        })
    }

    fn active(&self) -> Result<u64, StorageError> {
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached("SELECT count(*) FROM run_queue")
                .await
                .map_err(db)?;
            let row = client.query_one(&stmt, &[]).await.map_err(db)?;
            Ok(row.get::<_, i64>(0) as u64)
        })
    }

    fn claim(&self, instance: Uuid) -> Result<Option<Job>, StorageError> {
        let claimed = self.with_client(move |client| async move {
            // The inner SELECT locks the oldest waiting entry no other claimer holds; one
            // being claimed concurrently is skipped rather than waited for, so claimers
            // never queue behind each other and never take the same job.
            let stmt = client
                .prepare_cached(
                    "UPDATE run_queue SET owner = $1, claimed_at = now() \
                     WHERE (kind, id) = (SELECT kind, id FROM run_queue WHERE owner IS NULL \
                                         ORDER BY queued_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
                     RETURNING kind, id",
                )
                .await
                .map_err(db)?;
            let row = client.query_opt(&stmt, &[&instance]).await.map_err(db)?;
            Ok(row.map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))))
        })?;
        claimed.map(|(k, id)| job(k, id)).transpose()
    }

    fn report(&self, instance: Uuid, running: &[(Job, u64)]) -> Result<Report, StorageError> {
        let kinds: Vec<String> = running.iter().map(|(j, _)| j.kind.name().into()).collect();
        let ids: Vec<String> = running.iter().map(|(j, _)| j.id.clone()).collect();
        let done: Vec<i64> = running
            .iter()
            .map(|(_, d)| i64::try_from(*d).unwrap_or(i64::MAX))
            .collect();
        let held = running.iter().map(|(j, _)| j.clone()).collect::<Vec<_>>();
        let rows = self.with_client(move |client| async move {
            if !ids.is_empty() {
                let stmt = client
                    .prepare_cached(
                        "UPDATE run_queue q SET done = GREATEST(q.done, v.done) \
                         FROM unnest($2::text[], $3::text[], $4::int8[]) AS v(kind, id, done) \
                         WHERE q.kind = v.kind AND q.id = v.id AND q.owner = $1",
                    )
                    .await
                    .map_err(db)?;
                client
                    .execute(&stmt, &[&instance, &kinds, &ids, &done])
                    .await
                    .map_err(db)?;
            }
            let stmt = client
                .prepare_cached("SELECT kind, id, cancel FROM run_queue WHERE owner = $1")
                .await
                .map_err(db)?;
            let rows = client.query(&stmt, &[&instance]).await.map_err(db)?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1), r.get(2)))
                .collect::<Vec<(String, String, bool)>>())
        })?;
        let mut report = Report::default();
        for (kind, id, cancel) in rows {
            let job = job(kind, id)?;
            if !held.contains(&job) {
                report.strays.push(job);
            } else if cancel {
                report.cancel.push(job);
            }
        }
        Ok(report)
    }

    fn entry(&self, job: &Job) -> Result<Option<Entry>, StorageError> {
        let (kind, id) = (job.kind.name(), job.id.clone());
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "SELECT q.owner, q.done, q.cancel, \
                            COALESCE(i.seen_at > now() - make_interval(secs => $3), false) \
                     FROM run_queue q LEFT JOIN instances i ON i.id = q.owner \
                     WHERE q.kind = $1 AND q.id = $2",
                )
                .await
                .map_err(db)?;
            let row = client
                .query_opt(&stmt, &[&kind, &id, &stale_secs()])
                .await
                .map_err(db)?;
            Ok(row.map(|r| Entry {
                owner: r.get(0),
                done: r.get::<_, i64>(1).max(0) as u64,
                cancel: r.get(2),
                owner_alive: r.get(3),
            }))
        })
    }

    fn cancel(&self, instance: Uuid, job: &Job) -> Result<Cancel, StorageError> {
        let (kind, id) = (job.kind.name(), job.id.clone());
        self.with_client(move |client| async move {
            // A waiting job is claimed by the canceller, who then stores it cancelled; an
            // UPDATE waits for a concurrent claimer's row lock and re-checks `owner IS NULL`,
            // so exactly one of the two gets it.
            let take = client
                .prepare_cached(
                    "UPDATE run_queue SET owner = $1, claimed_at = now(), cancel = true \
                     WHERE kind = $2 AND id = $3 AND owner IS NULL",
                )
                .await
                .map_err(db)?;
            if client
                .execute(&take, &[&instance, &kind, &id])
                .await
                .map_err(db)?
                > 0
            {
                return Ok(Cancel::ClaimedWaiting);
            }
            let ask = client
                .prepare_cached("UPDATE run_queue SET cancel = true WHERE kind = $1 AND id = $2")
                .await
                .map_err(db)?;
            Ok(
                if client.execute(&ask, &[&kind, &id]).await.map_err(db)? > 0 {
                    Cancel::Asked
                } else {
                    Cancel::Gone
                },
            )
        })
    }

    fn take_orphans(&self, instance: Uuid) -> Result<Vec<Job>, StorageError> {
        let rows = self.with_client(move |client| async move {
            // Two instances taking the same orphan: the second waits for the first's row
            // lock, re-checks, finds a live owner, and leaves it.
            let stmt = client
                .prepare_cached(
                    "UPDATE run_queue q SET owner = $1, claimed_at = now() \
                     WHERE q.owner IS NOT NULL AND q.owner <> $1 AND NOT EXISTS ( \
                         SELECT 1 FROM instances i WHERE i.id = q.owner \
                         AND i.seen_at > now() - make_interval(secs => $2)) \
                     RETURNING q.kind, q.id",
                )
                .await
                .map_err(db)?;
            let rows = client
                .query(&stmt, &[&instance, &stale_secs()])
                .await
                .map_err(db)?;
            // Instances silent for a day are gone for good: their rows only grow the table.
            client
                .execute(
                    "DELETE FROM instances WHERE seen_at < now() - interval '1 day'",
                    &[],
                )
                .await
                .map_err(db)?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
                .collect::<Vec<_>>())
        })?;
        rows.into_iter().map(|(k, id)| job(k, id)).collect()
    }
}
