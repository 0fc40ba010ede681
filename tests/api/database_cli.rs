//! The commands with `--database-url`: `serve` refuses it beside `--data-dir`, and an
//! unreachable database is a clear error; `token create`, `backup`, `restore` and `verify`
//! work on PostgreSQL, and a backup restored into another database backs up to the same
//! bytes. PostgreSQL only, on either run of the suite.

use std::process::{Command, Output};
use std::sync::Arc;

use chanlab_api::storage::Store;
use chanlab_api::synthetic::write_synthetic;

use crate::helpers::{postgres, synthetic};

fn chanlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .env_remove("CHANLAB_DATABASE_URL")
        .env_remove("CHANLAB_DATA_DIR")
        .output()
        .expect("run chanlab")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn serve_takes_a_data_directory_or_a_database_not_both() {
    let out = chanlab(&[
        "serve",
        "--data-dir",
        "./somewhere",
        "--database-url",
        "postgres://u:p@127.0.0.1/db",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(err.contains("--database-url"), "{err}");
}

#[test]
fn serve_on_an_unreachable_database_says_so_without_the_password() {
    let out = chanlab(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        "postgres://chanlab:s3cret@127.0.0.1:1/none",
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_ne!(out.status.code(), Some(101), "a panic: {}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open the database postgres://chanlab@127.0.0.1:1/none"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "the password leaks: {err}");
}

#[test]
fn a_database_backs_up_restores_into_another_and_verifies() {
    let (source, storage) = postgres();
    let written = write_synthetic(&Store::new(Arc::new(storage)), &synthetic(3, 1)).unwrap();
    let token = chanlab(&[
        "token",
        "create",
        "--role",
        "admin",
        "--database-url",
        source.url(),
    ]);
    assert!(token.status.success(), "{}", text(&token));
    assert!(String::from_utf8_lossy(&token.stdout).trim().len() > 20);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.jsonl");
    let file = file.to_str().unwrap();
    let out = chanlab(&["backup", "--database-url", source.url(), "--out", file]);
    assert!(out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        // The records, the admin's token and the token's audit entry.
        err.contains(&format!("backed up {} records", written + 2)),
        "{err}"
    );

    let (target, _) = postgres();
    let out = chanlab(&["restore", file, "--database-url", target.url()]);
    assert!(out.status.success(), "{}", text(&out));
    let out = chanlab(&["verify", "--database-url", target.url()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("every record decodes"),
        "{}",
        text(&out)
    );
    let again = dir.path().join("again.jsonl");
    let again = again.to_str().unwrap();
    let out = chanlab(&["backup", "--database-url", target.url(), "--out", again]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(file).unwrap(), std::fs::read(again).unwrap());

    // A second restore into the same database is refused and writes nothing.
    let out = chanlab(&["restore", file, "--database-url", target.url()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already holds records"),
        "{}",
        text(&out)
    );
}
