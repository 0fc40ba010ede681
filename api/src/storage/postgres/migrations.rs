//! The schema, as numbered migrations compiled into the binary and applied at start.
//!
//! `chanlab_migrations` records each version applied. Applying takes a transaction-scoped
//! advisory lock first, so instances starting together apply each migration once; each
//! migration runs in that one transaction with its row, so a failed one leaves nothing. A
//! database at a newer version than this binary knows is refused (an older binary must not
//! write to a schema it does not understand).

use super::super::StorageError;
use super::db;

/// `(version, what it does, SQL)`, in order. Never edit one that has shipped: add another.
pub(super) const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "records, index entries, unique values, remembered responses",
        r#"
CREATE TABLE records (
    kind     text COLLATE "C" NOT NULL,
    id       text COLLATE "C" NOT NULL,
    version  bigint NOT NULL CHECK (version > 0),
    data     bytea NOT NULL,
    meta     jsonb NOT NULL,
    refcount bigint NOT NULL DEFAULT 0 CHECK (refcount >= 0),
    PRIMARY KEY (kind, id)
);
CREATE TABLE index_entries (
    kind  text COLLATE "C" NOT NULL,
    name  text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    id    text COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, name, value, id)
);
CREATE INDEX index_entries_by_record ON index_entries (kind, id);
CREATE TABLE unique_values (
    kind  text COLLATE "C" NOT NULL,
    name  text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    id    text COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, name, value)
);
CREATE INDEX unique_values_by_record ON unique_values (kind, id);
CREATE TABLE remembered (
    key      text COLLATE "C" PRIMARY KEY,
    response bytea NOT NULL
);
CREATE TABLE probe (
    id int PRIMARY KEY,
    at timestamptz NOT NULL
);
"#,
    ),
    (
        2,
        "the run queue and the instances that claim from it",
        RUN_QUEUE,
    ),
    (
        3,
        "remembered responses carry when they were remembered, for their expiry",
        // Responses remembered before this migration are given its time (ms since the
        // epoch): they expire one window after the upgrade.
        r#"
ALTER TABLE remembered ADD COLUMN at bigint NOT NULL
    DEFAULT (floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint;
ALTER TABLE remembered ALTER COLUMN at DROP DEFAULT;
CREATE INDEX remembered_by_time ON remembered (at);
"#,
    ),
];

/// The run queue (`storage::queue`): an entry per job from the commit that accepts it
/// (a run's input, or a backtest stored queued) to the commit that stores how it ended (its
/// record no longer queued or running) or deletes it, kept by triggers in the same
/// transaction as those commits. A restore sets `chanlab.restoring` so that the jobs of a
/// backup, abandoned with the server they ran on, are not queued again.
const RUN_QUEUE: &str = r#"
CREATE TABLE instances (
    id      uuid PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
CREATE TABLE run_queue (
    kind       text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    owner      uuid,
    claimed_at timestamptz,
    done       bigint NOT NULL DEFAULT 0,
    cancel     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kind, id)
);
CREATE INDEX run_queue_waiting ON run_queue (queued_at) WHERE owner IS NULL;
CREATE INDEX run_queue_by_owner ON run_queue (owner);
CREATE FUNCTION chanlab_follow_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM run_queue WHERE kind = OLD.kind AND id = OLD.id;
        RETURN OLD;
    END IF;
    IF current_setting('chanlab.restoring', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND NEW.kind = 'run_input' THEN
        INSERT INTO run_queue (kind, id) VALUES ('run', NEW.id) ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'INSERT' AND NEW.kind = 'backtest'
          AND convert_from(NEW.data, 'UTF8')::jsonb ->> 'status' = 'queued' THEN
        INSERT INTO run_queue (kind, id) VALUES ('backtest', NEW.id) ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' AND NEW.kind IN ('run', 'backtest')
          AND convert_from(NEW.data, 'UTF8')::jsonb ->> 'status' NOT IN ('queued', 'running') THEN
        DELETE FROM run_queue WHERE kind = NEW.kind AND id = NEW.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER records_follow_jobs AFTER INSERT OR UPDATE ON records
    FOR EACH ROW WHEN (NEW.kind IN ('run', 'run_input', 'backtest'))
    EXECUTE FUNCTION chanlab_follow_jobs();
CREATE TRIGGER records_forget_jobs AFTER DELETE ON records
    FOR EACH ROW WHEN (OLD.kind IN ('run', 'backtest'))
    EXECUTE FUNCTION chanlab_follow_jobs();
"#;

/// An arbitrary constant: the advisory lock that migrations are applied under.
const LOCK: i64 = 0x0063_6861_6e6c_6162; // "chanlab" in ASCII

/// Applies every migration the database lacks. Returns the schema version now.
pub(super) async fn apply(client: &mut deadpool_postgres::Object) -> Result<i32, StorageError> {
    let tx = client.transaction().await.map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS chanlab_migrations (
             version    int PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(db)?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(max(version), 0) FROM chanlab_migrations",
            &[],
        )
        .await
        .map_err(db)?
        .get(0);
    let newest = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > newest {
        return Err(StorageError::new(format!(
            "the database's schema is at version {current}, newer than this chanlab knows \
             ({newest}); run a newer chanlab"
        )));
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.batch_execute(sql).await.map_err(|e| {
            let mut e = db(e);
            e.message = format!("migration {version} ({name}): {}", e.message);
            e
        })?;
        tx.execute(
            "INSERT INTO chanlab_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(current.max(newest))
}
