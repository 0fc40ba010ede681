//! An acknowledged write survives the server being killed (SIGKILL, no shutdown) and
//! started again on the same data directory: the real `chanlab` binary, twice.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;

/// A `chanlab serve` process and where it listens.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) address: String,
    /// The server's log lines so far (stderr, read as it comes).
    pub(crate) log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Starts the real binary on `dir`, on a free port, and waits until it listens.
pub(crate) fn start(dir: &std::path::Path) -> Server {
    start_under(&[], dir)
}

/// [`start`] with more `chanlab serve` arguments.
pub(crate) fn start_with(dir: &std::path::Path, more: &[&str]) -> Server {
    let mut args: Vec<&std::ffi::OsStr> = vec!["--data-dir".as_ref(), dir.as_os_str()];
    args.extend(more.iter().map(std::ffi::OsStr::new));
    launch(&[], &args)
}

/// [`start`], with the binary run by `wrapper` (a program and its arguments, such as
/// `strace -o FILE`), or directly when `wrapper` is empty.
pub(crate) fn start_under(wrapper: &[&str], dir: &std::path::Path) -> Server {
    launch(
        wrapper,
        &[std::ffi::OsStr::new("--data-dir"), dir.as_os_str()],
    )
}

/// The real binary serving the PostgreSQL database at `url`, on a free port, once it
/// listens.
pub(crate) fn start_on_database(url: &str) -> Server {
    start_on_database_with(url, &[])
}

/// [`start_on_database`] with more `chanlab serve` arguments (`--max-runs 1`).
pub(crate) fn start_on_database_with(url: &str, more: &[&str]) -> Server {
    let mut args: Vec<&std::ffi::OsStr> = vec!["--database-url".as_ref(), url.as_ref()];
    args.extend(more.iter().map(std::ffi::OsStr::new));
    launch(&[], &args)
}

/// `chanlab serve` with `storage` (the arguments naming where the records are), run by
/// `wrapper` if any.
fn launch(wrapper: &[&str], storage: &[&std::ffi::OsStr]) -> Server {
    let binary = env!("CARGO_BIN_EXE_chanlab");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let mut child = command
        .args(["serve", "--bind", "127.0.0.1:0", "--workers", "2"])
        .args(storage)
        .env_remove("CHANLAB_DATABASE_URL")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chanlab serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the server logs where it listens")
            .expect("stderr");
        if let Some(rest) = line.split("port=").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .parse::<u16>()
                .expect("a port");
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    Server {
        child,
        address: format!("http://127.0.0.1:{port}"),
        log,
    }
}

/// An admin token made with `chanlab token create` on a stopped server's `dir`.
pub(crate) fn admin_token(dir: &std::path::Path) -> String {
    token_in(&[std::ffi::OsStr::new("--data-dir"), dir.as_os_str()])
}

/// An admin token made with `chanlab token create` in the PostgreSQL database at `url`.
pub(crate) fn admin_token_on_database(url: &str) -> String {
    token_in(&["--database-url".as_ref(), url.as_ref()])
}

fn token_in(storage: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(["token", "create", "--role", "admin"])
        .args(storage)
        .env_remove("CHANLAB_DATABASE_URL")
        .output()
        .expect("chanlab token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn post(
    client: &awc::Client,
    server: &Server,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut res = client
        .post(format!("{}{path}", server.address))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&body)
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 201);
    res.json().await.unwrap()
}

#[actix_web::test]
async fn acknowledged_writes_survive_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let token = admin_token(dir.path());
    let client = awc::Client::default();
    let mut first = start(dir.path());
    let region = post(
        &client,
        &first,
        &token,
        "/regions",
        json!({"name": "Nordics", "regional_manager": "A"}),
    )
    .await;
    let region_id = region["id"].as_str().unwrap().to_owned();
    let rep = post(&client, &first, &token, "/reps", json!({"name": "Lars", "region_id": region_id, "hired_on": "2025-03-01", "status": "active"})).await;
    let partner = post(
        &client,
        &first,
        &token,
        "/partners",
        json!({"name": "Acme", "kind": "agent", "tier": "A", "region_id": region_id}),
    )
    .await;
    let mut activities = Vec::new();
    for day in 1..=20 {
        let a = post(&client, &first, &token, "/activities", json!({"rep_id": rep["id"], "partner_id": partner["id"], "date": format!("2026-11-{day:02}"), "kind": "visit", "outcome": "completed"})).await;
        activities.push(a["id"].as_str().unwrap().to_owned());
    }

    first.child.kill().expect("SIGKILL the server");
    first.child.wait().unwrap();
    let mut second = start(dir.path());

    let mut res = client
        .get(format!("{}/activities?limit=100", second.address))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    let stored: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(stored, activities);
    let mut res = client
        .get(format!("{}/regions/{region_id}", second.address))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["name"],
        "Nordics"
    );
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}
