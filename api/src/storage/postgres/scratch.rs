//! Scratch schemas for tests: each test gets a schema of its own in the database named by
//! [`TEST_DATABASE_URL`], reached through a URL whose `search_path` is that schema, and the
//! schema is dropped with the [`Scratch`]. So tests run in parallel on one server.

use tokio_postgres::NoTls;

/// The variable naming the tests' PostgreSQL database (a role that may create schemas in it).
pub const TEST_DATABASE_URL: &str = "CHANLAB_TEST_DATABASE_URL";

/// A schema made for one test, dropped (with everything in it) when this is dropped.
#[derive(Debug)]
pub struct Scratch {
    base: String,
    schema: String,
    url: String,
}

/// What to do when the tests find no server: they fail, saying this.
pub fn how_to_start() -> String {
    format!(
        "{TEST_DATABASE_URL} is not set, and the PostgreSQL tests need a server. Start one with \
         `source .ci/postgres.sh` (it installs PostgreSQL from Debian's packages if missing, \
         starts it, creates the role and database, and exports {TEST_DATABASE_URL}), or set \
         {TEST_DATABASE_URL} to a postgres:// URL of a database where the role may create schemas"
    )
}

/// `sql` run on a connection of its own, on a thread of its own (callable from anywhere,
/// in a runtime or not).
fn run_sql(url: &str, sql: String) -> Result<(), String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .map_err(|e| format!("connecting to {}: {e}", super::redact(&url)))?;
            let conn = tokio::spawn(connection);
            let result = client.batch_execute(&sql).await.map_err(|e| e.to_string());
            drop(client);
            let _ = conn.await;
            result
        })
    })
    .join()
    .map_err(|_| "the scratch schema thread panicked".to_owned())?
}

/// `base` with `search_path` set to `schema`, in the form `base` is in.
fn with_search_path(base: &str, schema: &str) -> String {
    if base.starts_with("postgres://") || base.starts_with("postgresql://") {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-csearch_path%3D{schema}")
    } else {
        format!("{base} options='-csearch_path={schema}'")
    }
}

impl Scratch {
    /// A fresh schema in the database [`TEST_DATABASE_URL`] names; an error saying how to
    /// start a server when the variable is unset.
    pub fn create() -> Result<Self, String> {
        let base = std::env::var(TEST_DATABASE_URL).map_err(|_| how_to_start())?;
        let schema = format!("chanlab_test_{}", uuid::Uuid::now_v7().simple());
        run_sql(&base, format!("CREATE SCHEMA {schema}"))?;
        Ok(Self {
            url: with_search_path(&base, &schema),
            base,
            schema,
        })
    }

    /// The URL to connect with: the test database, with the scratch schema first in the
    /// search path.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = run_sql(
            &self.base,
            format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
        ) {
            tracing::warn!(schema = %self.schema, error = %e, "cannot drop a scratch schema");
        }
    }
}
