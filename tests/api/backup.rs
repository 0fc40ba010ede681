//! Backup while writing, then restore and verify: `GET /admin/backup` taken while clients
//! write is a consistent store (it restores with `chanlab restore` and passes `chanlab
//! verify`), holds every write acknowledged before it was asked for, and the restored
//! server answers the same records. Only an admin may take one.

use std::process::Command;

use serde_json::json;

use crate::helpers::spawn_app;

fn chanlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .output()
        .expect("run chanlab")
}

#[actix_web::test]
async fn a_backup_taken_while_writing_restores_to_a_store_that_verifies() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let mut before = Vec::new();
    for i in 0..20 {
        before.push(app.partner(&region, None, "B", "active").await);
        if i % 5 == 0 {
            app.rep(&region).await;
        }
    }
    // Writers keep creating activities while the backup is read.
    let rep = app.rep(&region).await;
    let writers = (0..3).map(|w| {
        let (client, address, admin) = (app.client.clone(), app.address.clone(), app.admin.clone());
        let (rep, partner) = (rep.clone(), before[w].clone());
        actix_web::rt::spawn(async move {
            let mut acknowledged = 0;
            for i in 0..30 {
                let body = json!({"rep_id": rep, "partner_id": partner, "date": "2026-11-12", "kind": "visit", "outcome": "completed", "notes": format!("writer {w} write {i}")});
                let res = client
                    .post(format!("{address}/activities"))
                    .insert_header(("Authorization", format!("Bearer {admin}")))
                    .send_json(&body)
                    .await;
                if res.is_ok_and(|r| r.status().as_u16() == 201) {
                    acknowledged += 1;
                }
            }
            acknowledged
        })
    });
    let writers: Vec<_> = writers.collect();
    let backup = app.get("/admin/backup").await;
    assert_eq!(backup.status, 200, "{}", backup.text());
    assert_eq!(
        backup.header("content-type").as_deref(),
        Some("application/x-ndjson")
    );
    for w in writers {
        assert!(w.await.unwrap() > 0);
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.jsonl");
    std::fs::write(&file, &backup.body).unwrap();
    let restored = dir.path().join("restored");
    let out = chanlab(&[
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = chanlab(&["verify", "--data-dir", restored.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("every record decodes"), "{said}");

    // Every partner written before the backup is in it, at its version.
    let text = String::from_utf8(backup.body.clone()).unwrap();
    for id in &before {
        assert!(
            text.contains(&format!("\"id\":\"{id}\"")),
            "partner {id} missing"
        );
    }
    // A backup of the restored directory is the same file: nothing lost or added.
    let again = dir.path().join("again.jsonl");
    let out = chanlab(&[
        "backup",
        "--data-dir",
        restored.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&again).unwrap(), backup.body);
}

#[actix_web::test]
async fn only_an_admin_takes_a_backup_and_a_bad_file_restores_nothing() {
    let app = spawn_app().await;
    let viewer = app.token("viewer", None, None).await;
    let res = app
        .send(
            awc::http::Method::GET,
            "/admin/backup",
            Some(&viewer),
            &[],
            None,
        )
        .await;
    res.problem(403);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-backup.jsonl");
    std::fs::write(&file, "{\"partners\": []}\n").unwrap();
    let target = dir.path().join("target");
    let out = chanlab(&[
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") && err.contains("fix:"), "{err}");
    assert!(
        !target.exists(),
        "a refused restore leaves no directory behind"
    );
}

#[test]
fn backup_and_verify_of_a_directory_without_records_say_so_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let out_file = dir.path().join("b.jsonl");
    for args in [
        vec!["verify", "--data-dir", missing.to_str().unwrap()],
        vec![
            "backup",
            "--data-dir",
            missing.to_str().unwrap(),
            "--out",
            out_file.to_str().unwrap(),
        ],
    ] {
        let out = chanlab(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no records here") && err.contains("fix:"),
            "{err}"
        );
        assert!(!missing.exists(), "{args:?} created the directory");
        assert!(!out_file.exists());
    }
}
