use crate::helpers::{chanlab, repo_root};

/// The committed `openapi/openapi.json` is what the code generates. When a schema changes on
/// purpose, regenerate it with `cargo run -- openapi > openapi/openapi.json`, or run this test
/// with `UPDATE_OPENAPI=1`.
#[test]
fn the_committed_openapi_document_matches_the_code() {
    let run = chanlab(&["openapi"]);
    assert!(run.status.success(), "{}", run.stderr);
    let path = repo_root().join("openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &run.stdout).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == run.stdout,
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json` \
         (or this test with UPDATE_OPENAPI=1) and commit the result"
    );
}

#[test]
fn the_openapi_document_is_valid_json_for_openapi_3_1() {
    let run = chanlab(&["openapi"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
}
