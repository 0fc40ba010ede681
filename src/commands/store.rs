//! `chanlab backup`, `chanlab restore` and `chanlab verify`: a data directory or a
//! PostgreSQL database to a portable backup file and back, and a check that every record and
//! index agrees (the format is in `api/src/storage/portable.rs`). sled lets one process open
//! a directory: with the server running, take the backup from it (`GET /admin/backup`). A
//! database can be backed up while servers run on it (one consistent snapshot).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use chanlab_api::startup::open_storage;
use chanlab_api::storage::postgres::{DEFAULT_POOL_SIZE, redact};
use chanlab_api::storage::{Counts, PostgresStorage, SledStorage, VerifyReport};

use super::Outcome;

/// Where the records are: a sled data directory, or a PostgreSQL database. Declared once
/// for every command that opens the records (`serve`, `backup`, `verify`, `restore`,
/// `token create`), flattened into each.
#[derive(Debug, clap::Args)]
pub(crate) struct DataDir {
    /// The data directory (sled); `serve` creates it if missing. One process at a time.
    #[arg(long, env = "CHANLAB_DATA_DIR", default_value = "./chanlab-data")]
    pub(crate) data_dir: PathBuf,
    /// The PostgreSQL database instead of a data directory
    /// (postgres://user:password@host:port/db): migrated by `serve` at start; any number of
    /// servers may share it, and the other commands may run while they do.
    #[arg(
        long,
        env = "CHANLAB_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true,
        conflicts_with = "data_dir"
    )]
    pub(crate) database_url: Option<String>,
}

/// An opened store of either backend.
enum Opened {
    Sled(SledStorage),
    Postgres(PostgresStorage),
}

impl Opened {
    fn export(&self, out: &mut dyn Write) -> Result<Counts, chanlab_api::storage::StorageError> {
        match self {
            Opened::Sled(s) => s.export(out),
            Opened::Postgres(p) => p.export(out),
        }
    }

    fn verify(&self) -> Result<VerifyReport, chanlab_api::storage::StorageError> {
        match self {
            Opened::Sled(s) => s.verify(),
            Opened::Postgres(p) => p.verify(),
        }
    }
}

/// Connects to the database at `url`, or says why not.
fn connect(url: &str) -> Result<PostgresStorage, String> {
    PostgresStorage::connect(url, DEFAULT_POOL_SIZE.min(4)).map_err(|e| {
        format!(
            "error: {}: cannot open the database: {}\n  fix: check the URL, that the server runs and that the role may log in",
            redact(url),
            e.message
        )
    })
}

/// Opens where `dir` points for a command that reads (a missing sled store is not made).
fn open_existing(dir: &DataDir, what: &str) -> anyhow::Result<Option<(Opened, String)>> {
    if let Some(url) = &dir.database_url {
        return Ok(match connect(url) {
            Ok(p) => Some((Opened::Postgres(p), redact(url))),
            Err(message) => {
                writeln!(io::stderr().lock(), "{message}")?;
                None
            }
        });
    }
    if !holds_records(&dir.data_dir)? {
        return Ok(None);
    }
    Ok(match open(&dir.data_dir, what) {
        Ok(s) => Some((Opened::Sled(s), dir.data_dir.display().to_string())),
        Err(message) => {
            writeln!(io::stderr().lock(), "{message}")?;
            None
        }
    })
}

/// `chanlab backup`.
#[derive(Debug, clap::Args)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    pub(crate) dir: DataDir,
    /// The backup file to write (JSON lines); `-` for standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}

/// `chanlab restore`.
#[derive(Debug, clap::Args)]
pub(crate) struct RestoreArgs {
    /// A file written by `chanlab backup` or `GET /admin/backup`.
    pub(crate) file: PathBuf,
    /// Where to restore: a new or empty data directory, or a database holding no records.
    #[command(flatten)]
    pub(crate) to: DataDir,
}

/// Opens `dir` for a command, or says why not and what to do.
fn open(dir: &std::path::Path, what: &str) -> Result<SledStorage, String> {
    open_storage(dir).map_err(|e| open_error(dir, what, &e.to_string()))
}

/// Why `dir` could not be opened, `text` being the storage's words, and what to do.
fn open_error(dir: &std::path::Path, what: &str, text: &str) -> String {
    if text.contains("another chanlab process") {
        format!(
            "error: {}: another process (a running `chanlab serve`?) holds the data directory\n  fix: stop it first, or {what}",
            dir.display()
        )
    } else {
        format!("error: {}: cannot open the records: {text}", dir.display())
    }
}

/// Whether `dir` holds a store; if not, says so (a command that reads must not create one).
fn holds_records(dir: &std::path::Path) -> io::Result<bool> {
    if dir.join("db").exists() {
        return Ok(true);
    }
    writeln!(
        io::stderr().lock(),
        "error: {}: no records here (no sled database)\n  fix: pass the server's --data-dir",
        dir.display()
    )?;
    Ok(false)
}

pub(crate) fn backup(args: BackupArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let Some((store, source)) = open_existing(
        &args.dir,
        "take the backup from the server: curl -H \"Authorization: Bearer $TOKEN\" http://HOST/admin/backup > FILE",
    )?
    else {
        return Ok(Outcome::InvalidInput);
    };
    let counts = if args.out.as_os_str() == "-" {
        store.export(out)?
    } else {
        // Written beside the target and renamed, so a failed backup never leaves a partial
        // file under the name asked for.
        let partial = args.out.with_extension("partial");
        let mut file = BufWriter::new(
            File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?,
        );
        let counts = store.export(&mut file)?;
        let file = file.into_inner().context("writing the backup")?;
        file.sync_all().context("syncing the backup")?;
        std::fs::rename(&partial, &args.out)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        counts
    };
    writeln!(
        io::stderr().lock(),
        "backed up {} records and {} remembered responses from {source}",
        counts.records,
        counts.remembered,
    )?;
    Ok(Outcome::Success)
}

pub(crate) fn restore(args: RestoreArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let file = match File::open(&args.file) {
        Ok(f) => f,
        Err(e) => {
            writeln!(
                io::stderr().lock(),
                "error: {}: cannot read it ({e})",
                args.file.display()
            )?;
            return Ok(Outcome::InvalidInput);
        }
    };
    if let Some(url) = &args.to.database_url {
        return restore_postgres(url, file, out);
    }
    let fresh = !args.to.data_dir.join("db").exists();
    let store = match open(&args.to.data_dir, "restore into another directory") {
        Ok(s) => s,
        Err(message) => {
            writeln!(io::stderr().lock(), "{message}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    match store.import(&mut BufReader::new(file)) {
        Ok(counts) => {
            writeln!(
                out,
                "restored {} records and {} remembered responses into {}",
                counts.records,
                counts.remembered,
                args.to.data_dir.display()
            )?;
            Ok(Outcome::Success)
        }
        Err(message) => {
            drop(store);
            if fresh {
                // Nothing of a refused restore is kept: the directory it made goes too.
                let _ = std::fs::remove_dir_all(&args.to.data_dir);
            }
            writeln!(
                io::stderr().lock(),
                "error: {}: {message}\n  fix: restore a complete file written by `chanlab backup`, into a new or empty --data-dir",
                args.file.display()
            )?;
            Ok(Outcome::InvalidInput)
        }
    }
}

/// `chanlab verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) dir: DataDir,
    /// `--format json`: the counts and every problem, as one object.
    #[command(flatten)]
    pub(crate) format: crate::cli::FormatArg,
}

pub(crate) fn verify(args: VerifyArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let what = "run it on a copy restored from `GET /admin/backup`";
    let report = if args.dir.database_url.is_some() {
        let Some((store, _)) = open_existing(&args.dir, what)? else {
            return Ok(Outcome::InvalidInput);
        };
        store.verify()?
    } else {
        // Not `open_existing`: that refuses a damaged store, whose problems are what
        // `verify` is for.
        let dir = &args.dir.data_dir;
        if !holds_records(dir)? {
            return Ok(Outcome::InvalidInput);
        }
        match SledStorage::verify_dir(dir) {
            Ok(report) => report,
            Err(e) => {
                writeln!(io::stderr().lock(), "{}", open_error(dir, what, &e.message))?;
                return Ok(Outcome::InvalidInput);
            }
        }
    };
    let outcome = if report.problems.is_empty() {
        Outcome::Success
    } else {
        Outcome::ChecksFailed
    };
    if args.format.format == crate::cli::OutputFormat::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(outcome);
    }
    for problem in &report.problems {
        writeln!(
            out,
            "{}: {problem}",
            super::term::paint(super::term::BAD, "problem")
        )?;
    }
    writeln!(
        out,
        "{} records and {} remembered responses checked: {}",
        report.counts.records,
        report.counts.remembered,
        if report.problems.is_empty() {
            "every record decodes, every index entry, unique value and reference count agrees"
                .to_owned()
        } else {
            format!("{} problems; restore from a backup", report.problems.len())
        }
    )?;
    Ok(outcome)
}

fn restore_postgres(url: &str, file: File, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let store = match connect(url) {
        Ok(s) => s,
        Err(message) => {
            writeln!(io::stderr().lock(), "{message}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    match store.import(&mut BufReader::new(file)) {
        Ok(counts) => {
            writeln!(
                out,
                "restored {} records and {} remembered responses into {}",
                counts.records,
                counts.remembered,
                redact(url)
            )?;
            Ok(Outcome::Success)
        }
        Err(message) => {
            writeln!(
                io::stderr().lock(),
                "error: {message}\n  fix: restore a complete file written by `chanlab backup`, into a database that holds no records (nothing was written)"
            )?;
            Ok(Outcome::InvalidInput)
        }
    }
}
