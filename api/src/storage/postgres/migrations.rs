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
pub(super) const MIGRATIONS: &[(i32, &str, &str)] = &[(
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
)];

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
