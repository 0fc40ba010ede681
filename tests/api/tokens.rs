//! Tokens like a trusted API's: listed without their secrets, revoked and rotated with
//! effect at the next request (on another instance too), expiring, and refused once their
//! rep has left.

use std::time::Duration;

use awc::http::Method;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::instances::Pair;

/// A token of `role` made through the API: (id, secret).
async fn made(app: &TestApp, body: Value) -> (String, String) {
    let res = app.post("/tokens", &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let v = res.json();
    (
        v["id"].as_str().unwrap().to_owned(),
        v["token"].as_str().unwrap().to_owned(),
    )
}

async fn status_as(app: &TestApp, token: &str, path: &str) -> u16 {
    app.send(Method::GET, path, Some(token), &[], None)
        .await
        .status
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn an_admin_lists_every_token_and_the_others_only_their_own_never_a_secret() {
    let app = spawn_app().await;
    let (viewer_id, viewer) = made(&app, json!({"role": "viewer", "label": "bi"})).await;
    let (cm_id, cm) = made(&app, json!({"role": "channel_manager", "label": "cm"})).await;

    let all = app.get("/tokens").await;
    assert_eq!(all.status, 200, "{}", all.text());
    let listed = ids(&all.json());
    assert_eq!(
        listed.len(),
        3,
        "the test admin, the viewer and the channel manager"
    );
    assert!(listed.contains(&viewer_id) && listed.contains(&cm_id));
    let text = all.text();
    for secret in [&viewer, &cm, &app.admin] {
        assert!(
            !text.contains(secret.as_str()),
            "a list never shows a secret"
        );
        assert!(
            !text.contains(&chanlab_api::auth::hash_token(secret)),
            "nor its hash"
        );
    }
    for item in all.json()["items"].as_array().unwrap() {
        assert!(
            item.get("hash").is_none() && item.get("token").is_none(),
            "{item}"
        );
    }

    let own = app
        .send(Method::GET, "/tokens", Some(&viewer), &[], None)
        .await;
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(
        ids(&own.json()),
        vec![viewer_id],
        "a viewer sees only its own token"
    );
}

#[actix_web::test]
async fn a_revoked_token_fails_at_its_next_request_and_others_tokens_are_out_of_reach() {
    let app = spawn_app().await;
    let (a_id, a) = made(&app, json!({"role": "viewer", "label": "a"})).await;
    let (b_id, b) = made(&app, json!({"role": "viewer", "label": "b"})).await;
    assert_eq!(status_as(&app, &a, "/regions").await, 200);

    // A viewer cannot revoke another's token, and learns nothing of it: 404 as for an
    // unknown id, and the token still works.
    let other = app
        .send(
            Method::DELETE,
            &format!("/tokens/{b_id}"),
            Some(&a),
            &[],
            None,
        )
        .await;
    assert_eq!(other.status, 404, "{}", other.text());
    assert_eq!(status_as(&app, &b, "/regions").await, 200);

    // An admin revokes a; its next request is refused.
    let revoked = app
        .send(
            Method::DELETE,
            &format!("/tokens/{a_id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let refused = app.send(Method::GET, "/regions", Some(&a), &[], None).await;
    assert_eq!(refused.status, 401);
    assert!(refused.text().contains("not known"), "{}", refused.text());
    let again = app
        .send(
            Method::DELETE,
            &format!("/tokens/{a_id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(again.status, 404);

    // b revokes itself.
    let own = app
        .send(
            Method::DELETE,
            &format!("/tokens/{b_id}"),
            Some(&b),
            &[],
            None,
        )
        .await;
    assert_eq!(own.status, 204, "{}", own.text());
    assert_eq!(status_as(&app, &b, "/regions").await, 401);
    assert_eq!(
        ids(&app.get("/tokens").await.json()).len(),
        1,
        "only the admin's is left"
    );
}

#[actix_web::test]
async fn a_rotated_token_keeps_its_grant_and_its_old_secret_fails() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let (id, old) = made(
        &app,
        json!({"role": "regional_manager", "region_id": region, "label": "rm"}),
    )
    .await;
    let rotated = app
        .send(
            Method::POST,
            &format!("/tokens/{id}/rotate"),
            Some(&old),
            &[],
            None,
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let body = rotated.json();
    let new = body["token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(
        new.starts_with("chl_") && new.len() == 68,
        "the documented prefix and length"
    );
    assert_eq!(
        (body["id"].as_str(), body["role"].as_str()),
        (Some(id.as_str()), Some("regional_manager"))
    );
    assert_eq!(body["region_id"], json!(region));

    assert_eq!(
        status_as(&app, &old, &format!("/regions/{region}")).await,
        401
    );
    assert_eq!(
        status_as(&app, &new, &format!("/regions/{region}")).await,
        200
    );
    let listed = app.get("/tokens").await.json();
    let entry = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == json!(id))
        .cloned()
        .unwrap();
    assert!(entry["rotated_at"].is_string(), "{entry}");
}

#[actix_web::test]
async fn an_expired_token_is_refused_and_an_expiry_in_the_past_names_the_field() {
    let app = spawn_app().await;
    let past = (Utc::now() - TimeDelta::seconds(5)).to_rfc3339();
    let refused = app
        .post(
            "/tokens",
            &json!({"role": "viewer", "label": "late", "expires_at": past}),
        )
        .await;
    assert_eq!(refused.problem(422)["errors"][0]["field"], "expires_at");

    let soon = Utc::now() + TimeDelta::milliseconds(1500);
    let (_, token) = made(
        &app,
        json!({"role": "viewer", "label": "brief", "expires_at": soon.to_rfc3339()}),
    )
    .await;
    assert_eq!(status_as(&app, &token, "/regions").await, 200);
    let wait = (soon - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(100);
    actix_web::rt::time::sleep(wait).await;
    let expired = app
        .send(Method::GET, "/regions", Some(&token), &[], None)
        .await;
    assert_eq!(expired.status, 401);
    assert!(expired.text().contains("expired"), "{}", expired.text());
}

#[actix_web::test]
async fn a_reps_token_stops_working_when_the_rep_leaves() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let token = app.token("rep", None, Some(&rep)).await;
    let path = "/partners".to_owned();
    assert_eq!(status_as(&app, &token, &path).await, 200);

    let left = app
        .put(
            &format!("/reps/{rep}"),
            &json!({"name": "Lars Holm", "region_id": region, "hired_on": "2025-03-01",
                    "status": "departed", "left_on": "2025-09-30"}),
        )
        .await;
    assert_eq!(left.status, 200, "{}", left.text());
    let refused = app.send(Method::GET, &path, Some(&token), &[], None).await;
    assert_eq!(refused.status, 401);
    assert!(refused.text().contains("has left"), "{}", refused.text());
}

#[actix_web::test]
async fn a_tokens_last_use_is_recorded() {
    let app = spawn_app().await;
    let (id, token) = made(&app, json!({"role": "viewer", "label": "bi"})).await;
    let last_used = |page: Value| -> Option<DateTime<Utc>> {
        page["items"]
            .as_array()?
            .iter()
            .find(|t| t["id"] == json!(id))?["last_used_at"]
            .as_str()
            .map(|s| s.parse().unwrap())
    };
    assert_eq!(
        last_used(app.get("/tokens").await.json()),
        None,
        "never used yet"
    );
    let before = Utc::now() - TimeDelta::seconds(1);
    assert_eq!(status_as(&app, &token, "/regions").await, 200);
    // The use is written off the request's path; give it a moment.
    let mut seen = None;
    for _ in 0..50 {
        seen = last_used(app.get("/tokens").await.json());
        if seen.is_some() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.expect("last_used_at is written after a use");
    assert!(seen >= before && seen <= Utc::now(), "{seen}");
}

/// PostgreSQL: two `chanlab serve` on one database, both started with a default token
/// lifetime. A token made on one has that lifetime; revoked on one, it fails on the other
/// at its next request.
#[actix_web::test]
async fn a_revocation_on_one_instance_counts_at_the_next_request_on_the_other() {
    let pair = Pair::start_with(&["--token-lifetime-days", "2"]);
    let made = pair
        .send(
            0,
            Method::POST,
            "/tokens",
            &[],
            Some(&json!({"role": "viewer", "label": "bi"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let body = made.json();
    let (id, token) = (
        body["id"].as_str().unwrap(),
        body["token"].as_str().unwrap(),
    );
    let expires: DateTime<Utc> = body["expires_at"]
        .as_str()
        .expect("a default expiry")
        .parse()
        .unwrap();
    let two_days = Utc::now() + TimeDelta::days(2);
    assert!((expires - two_days).num_seconds().abs() < 60, "{expires}");

    for n in 0..2 {
        let ok = pair
            .send_as(n, token, Method::GET, "/regions", &[], None)
            .await;
        assert_eq!(ok.status, 200, "server {n}: {}", ok.text());
    }
    let revoked = pair
        .send(0, Method::DELETE, &format!("/tokens/{id}"), &[], None)
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    for n in [1, 0] {
        let refused = pair
            .send_as(n, token, Method::GET, "/regions", &[], None)
            .await;
        assert_eq!(refused.status, 401, "server {n}: a revoked token");
    }
}

fn chanlab(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .output()
        .expect("run chanlab")
}

fn listed(dir: &str) -> Vec<Value> {
    let out = chanlab(&["token", "list", "--format", "json", "--data-dir", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("a JSON array")
}

#[test]
fn the_command_line_lists_rotates_and_revokes_tokens_on_a_data_directory() {
    // The first admin token is made on a new data directory, as the README's set-up does.
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let admin = chanlab(&["token", "create", "--role", "admin", "--data-dir", dir]);
    assert!(
        admin.status.success(),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );

    let made = chanlab(&[
        "token",
        "create",
        "--role",
        "viewer",
        "--label",
        "bi",
        "--expires-in-days",
        "3",
        "--data-dir",
        dir,
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let secret = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let tokens = listed(dir);
    assert_eq!(tokens.len(), 2, "the admin and the viewer: {tokens:?}");
    let viewer = tokens
        .iter()
        .find(|t| t["role"] == "viewer")
        .unwrap()
        .clone();
    let expires: DateTime<Utc> = viewer["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (expires - (Utc::now() + TimeDelta::days(3)))
            .num_seconds()
            .abs()
            < 60
    );
    let id = viewer["id"].as_str().unwrap();
    let text = chanlab(&["token", "list", "--data-dir", dir]);
    let table = String::from_utf8(text.stdout).unwrap();
    assert!(
        table.starts_with("id") && table.contains(id) && !table.contains(&secret),
        "{table}"
    );

    let rotated = chanlab(&["token", "rotate", id, "--data-dir", dir]);
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let new = String::from_utf8(rotated.stdout).unwrap().trim().to_owned();
    assert!(new.starts_with("chl_") && new != secret);

    let revoked = chanlab(&["token", "revoke", id, "--data-dir", dir]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    assert_eq!(listed(dir).len(), 1, "only the admin's is left");

    for (bad, says) in [("not-an-id", "token list"), (id, "no token")] {
        let out = chanlab(&["token", "revoke", bad, "--data-dir", dir]);
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(!out.status.success(), "revoking {bad} again fails");
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[actix_web::test]
async fn a_region_named_by_a_token_is_deleted_only_after_the_token_is_revoked() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let (id, _) = made(
        &app,
        json!({"role": "regional_manager", "region_id": region, "label": "rm"}),
    )
    .await;
    let path = format!("/regions/{region}");
    let held = app
        .send(Method::DELETE, &path, Some(&app.admin), &[], None)
        .await;
    assert_eq!(held.status, 409, "{}", held.text());
    assert_eq!(app.get(&path).await.status, 200, "nothing was deleted");
    let revoked = app
        .send(
            Method::DELETE,
            &format!("/tokens/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(revoked.status, 204);
    let deleted = app
        .send(Method::DELETE, &path, Some(&app.admin), &[], None)
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
}

/// Every answer carries an `X-Request-Id` (the client's when it sent a plausible one), a
/// problem body quotes it, and the server's log line names it and the token's id.
#[test]
fn a_request_id_is_echoed_in_the_answer_the_problem_and_the_log_with_the_token() {
    let data = tempfile::tempdir().unwrap();
    let admin = crate::restart::admin_token(data.path());
    let mut server = crate::restart::start(data.path());
    let admin_id = actix_web::rt::System::new().block_on(async {
        let client = awc::Client::default();
        let get = |path: &str, id: Option<&str>| {
            let mut req = client
                .get(format!("{}{path}", server.address))
                .insert_header(("Authorization", format!("Bearer {admin}")));
            if let Some(id) = id {
                req = req.insert_header(("X-Request-Id", id.to_owned()));
            }
            req.send()
        };
        let header = |res: &awc::ClientResponse<_>| {
            res.headers()
                .get("x-request-id")
                .expect("every answer has an X-Request-Id")
                .to_str()
                .unwrap()
                .to_owned()
        };
        let mut fresh = get("/tokens", None).await.unwrap();
        let made = header(&fresh);
        assert!(
            uuid::Uuid::parse_str(&made).is_ok(),
            "a fresh id is a UUID: {made}"
        );
        let page: Value = serde_json::from_slice(&fresh.body().await.unwrap()).unwrap();
        let admin_id = page["items"][0]["id"].as_str().unwrap().to_owned();

        let mut echoed = get("/regions", Some("trace-42.a:b")).await.unwrap();
        assert_eq!(header(&echoed), "trace-42.a:b");
        let _ = echoed.body().await;

        let mut problem = get("/regions/not-a-region", Some("lookup-7"))
            .await
            .unwrap();
        assert_eq!(problem.status(), 404);
        assert_eq!(header(&problem), "lookup-7");
        let body: Value = serde_json::from_slice(&problem.body().await.unwrap()).unwrap();
        assert_eq!(body["request_id"], "lookup-7", "{body}");

        let mut odd = get("/regions", Some("two words")).await.unwrap();
        let replaced = header(&odd);
        assert!(
            uuid::Uuid::parse_str(&replaced).is_ok(),
            "an implausible id is replaced: {replaced}"
        );
        let _ = odd.body().await;
        admin_id
    });
    let wanted = |l: &String| {
        l.contains("request_id=trace-42.a:b") && l.contains(&format!("token={admin_id}"))
    };
    let mut found = false;
    for _ in 0..50 {
        found = server.log.lock().unwrap().iter().any(wanted);
        if found {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
    assert!(
        found,
        "a log line with the request id and the token id:\n{}",
        server.log.lock().unwrap().join("\n")
    );
}

/// `--log-format json`: every log line is one JSON object; the request's names its id and
/// token.
#[test]
fn json_logs_are_one_object_a_line_and_name_the_request_and_token() {
    use std::io::{BufRead, BufReader};
    let data = tempfile::tempdir().unwrap();
    let admin = crate::restart::admin_token(data.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--log-format",
            "json",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "info")
        .env_remove("CHANLAB_DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut parsed = Vec::new();
    let port = loop {
        let line = lines.next().expect("a log line").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        parsed.push(v.clone());
        if let Some(p) = v["fields"]["port"].as_u64() {
            break p;
        }
    };
    let status = actix_web::rt::System::new().block_on(async {
        awc::Client::default()
            .get(format!("http://127.0.0.1:{port}/regions"))
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .insert_header(("X-Request-Id", "json-1"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    let request = loop {
        let line = lines.next().expect("the request's log line").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["fields"]["request_id"] == "json-1" {
            break v;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(request["fields"]["status"], 200, "{request}");
    assert!(
        uuid::Uuid::parse_str(request["fields"]["token"].as_str().unwrap()).is_ok(),
        "{request}"
    );
    assert!(parsed.iter().all(|v| v["level"].is_string()), "{parsed:?}");
}
