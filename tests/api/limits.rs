//! Resource limits: a huge CSV, deeply nested JSON, a client that trickles its request head,
//! one that trickles its body and a simulation run too large for the cap each get a clear 4xx
//! or are cut off, write nothing, and while each abusive request (or a heavy run) is in
//! flight another client's GET is answered.
//!
//! The abusive clients are raw TCP sockets on their own threads, so the tests control
//! exactly what reaches the server and when.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use awc::http::Method;
use chanlab_api::extract::{BODY_TIMEOUT, CSV_LIMIT, JSON_LIMIT};
use chanlab_api::startup::HEAD_TIMEOUT;

use crate::helpers::{TestApp, spawn_app};

/// Long enough that a server which never cuts a slow client off fails the test instead of
/// hanging it; far beyond the server's own limits, so a slow machine does not matter.
const GIVE_UP: Duration = Duration::from_secs(120);

fn connect(app: &TestApp) -> TcpStream {
    let stream = TcpStream::connect(app.address.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(GIVE_UP)).unwrap();
    stream.set_write_timeout(Some(GIVE_UP)).unwrap();
    stream
}

/// Reads what the server sends until it closes the connection (or resets it, or
/// [`GIVE_UP`] passes); returns it as text.
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                // One answer is all we wait for: stop once its body is complete.
                if answer_complete(&out) {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn answer_complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .is_some_and(|n| body.len() >= n)
}

/// Runs `abuse` on its own thread; once it reports (through the sender) that its request
/// is in flight, a normal GET must be answered 200; then returns what `abuse` returned.
async fn while_in_flight<T: Send + 'static>(
    app: &TestApp,
    abuse: impl FnOnce(mpsc::Sender<()>) -> T + Send + 'static,
) -> T {
    let (in_flight, started) = mpsc::channel();
    let handle = std::thread::spawn(move || abuse(in_flight));
    actix_web::rt::task::spawn_blocking(move || started.recv_timeout(GIVE_UP))
        .await
        .unwrap()
        .expect("the abusive request started");
    let normal = app.get("/regions").await;
    assert_eq!(
        normal.status,
        200,
        "another client is served meanwhile: {}",
        normal.text()
    );
    actix_web::rt::task::spawn_blocking(move || handle.join().unwrap())
        .await
        .unwrap()
}

fn head(app: &TestApp, method: &str, path: &str, extra: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n{extra}\r\n",
        app.admin
    )
}

async fn partners(app: &TestApp) -> usize {
    app.get("/partners").await.json()["items"]
        .as_array()
        .unwrap()
        .len()
}

#[actix_web::test]
async fn a_csv_declared_larger_than_the_limit_is_a_413_from_its_head() {
    let app = spawn_app().await;
    let request = head(
        &app,
        "POST",
        "/partners/import",
        &format!(
            "Content-Type: text/csv\r\nContent-Length: {}\r\n",
            CSV_LIMIT + 1
        ),
    );

    let mut s = connect(&app);

    let answer = while_in_flight(&app, move |in_flight| {
        s.write_all(request.as_bytes()).unwrap();
        in_flight.send(()).unwrap();
        read_until_closed(&mut s)
    })
    .await;

    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert_eq!(partners(&app).await, 0);
}

#[actix_web::test]
async fn a_huge_chunked_csv_is_cut_off_at_the_limit_while_others_are_served() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let mut s = connect(&app);
    let request = head(
        &app,
        "POST",
        "/partners/import",
        "Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n",
    );
    // Valid rows, so only the size is wrong: 9 MiB of them, 1 MiB per chunk, no declared
    // length for the server to refuse up front.
    let row = format!(",Acme AB,agent,C,{region},,\n");
    let chunk = {
        let mut c = String::from("id,name,kind,tier,region_id,owner_rep_id,stage\n");
        while c.len() < 1 << 20 {
            c += &row;
        }
        c
    };

    let answer = while_in_flight(&app, move |in_flight| {
        s.write_all(request.as_bytes()).unwrap();
        for i in 0..9 {
            let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
            if s.write_all(framed.as_bytes()).is_err() {
                break; // the server stopped reading: cut off
            }
            if i == 2 {
                in_flight.send(()).unwrap();
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
        read_until_closed(&mut s)
    })
    .await;

    // Either the 413 arrived, or the connection was cut before the client could read it
    // (its unread upload makes the server's close a reset): both are a refusal.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 413"),
        "{answer}"
    );
    assert_eq!(partners(&app).await, 0, "nothing was imported");
}

#[actix_web::test]
async fn deeply_nested_and_oversized_json_is_refused_and_the_server_stays_up() {
    let app = spawn_app().await;
    let depth = 100_000;
    let bodies = [
        // Nested where a string is expected, as arrays and as objects.
        format!(
            "{{\"name\": {}{}, \"regional_manager\": \"A\"}}",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
        format!(
            "{{\"name\": \"N\", \"regional_manager\": {}1{}}}",
            "{\"a\":".repeat(depth / 5),
            "}".repeat(depth / 5)
        ),
        // Never closed.
        "[".repeat(JSON_LIMIT - 1),
        // Over the size limit.
        format!(
            "{{\"name\": \"{}\", \"regional_manager\": \"A\"}}",
            "x".repeat(JSON_LIMIT)
        ),
    ];

    for body in bodies {
        let deep = app.send(
            Method::POST,
            "/regions",
            Some(&app.admin),
            &[],
            Some(("application/json", body.into_bytes())),
        );
        let normal = app.get("/regions");
        let (deep, normal) = futures_util::future::join(deep, normal).await;

        assert!(
            [400, 413, 422].contains(&deep.status),
            "{} {}",
            deep.status,
            deep.text()
        );
        deep.problem(deep.status);
        assert_eq!(normal.status, 200);
    }
    assert_eq!(
        app.get("/healthz").await.status,
        200,
        "the process is alive"
    );
    assert_eq!(
        app.get("/regions").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[actix_web::test]
async fn a_client_that_trickles_its_request_head_is_cut_off() {
    let app = spawn_app().await;
    let mut s = connect(&app);
    let mut writer = s.try_clone().unwrap();

    let (answer, waited) = while_in_flight(&app, move |in_flight| {
        let started = Instant::now();
        writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            .unwrap();
        in_flight.send(()).unwrap();
        // One header byte every 100 ms, never finishing the head, until the server hangs
        // up (a write fails) or the reader below has seen the connection end.
        let trickle = std::thread::spawn(move || {
            for b in b"X-Slow: ".iter().cycle() {
                if writer.write_all(&[*b]).is_err() || started.elapsed() > GIVE_UP {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let answer = read_until_closed(&mut s);
        let waited = started.elapsed();
        let _ = s.shutdown(std::net::Shutdown::Both);
        trickle.join().unwrap();
        (answer, waited)
    })
    .await;

    assert!(
        waited < GIVE_UP,
        "the server cut the connection off (its limit is {HEAD_TIMEOUT:?})"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[actix_web::test]
async fn a_client_that_trickles_its_body_gets_a_408_and_writes_nothing() {
    let app = spawn_app().await;
    let mut s = connect(&app);
    let body = br#"{"name": "Nordics", "regional_manager": "Astrid Berg"}"#;
    let request = head(
        &app,
        "POST",
        "/regions",
        &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ),
    );
    let mut writer = s.try_clone().unwrap();

    let (answer, waited) = while_in_flight(&app, move |in_flight| {
        let started = Instant::now();
        writer.write_all(request.as_bytes()).unwrap();
        writer.write_all(&body[..1]).unwrap();
        in_flight.send(()).unwrap();
        // One byte a second: the whole body would take longer than the server allows.
        let trickle = std::thread::spawn(move || {
            for b in &body[1..] {
                if started.elapsed() > GIVE_UP {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
                if writer.write_all(&[*b]).is_err() {
                    break;
                }
            }
        });
        let answer = read_until_closed(&mut s);
        let waited = started.elapsed();
        let _ = s.shutdown(std::net::Shutdown::Both);
        trickle.join().unwrap();
        (answer, waited)
    })
    .await;

    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "cut off after {waited:?} (the limit is {BODY_TIMEOUT:?}): {answer}"
    );
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert_eq!(
        app.get("/regions").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// A run request too large for the cap is refused at once, naming the field, and a heavy
/// run that is allowed takes a background thread, not the server: reads and the refusal are
/// answered while it runs.
#[actix_web::test]
async fn a_too_large_run_is_refused_and_a_heavy_run_does_not_stop_other_clients() {
    let app = spawn_app().await;
    let region = |name: &str| {
        serde_json::json!({"name": name, "reps": 4, "backing": 0.7,
            "partners": {"A": 5, "B": 20, "C": 35}, "prospects": 10})
    };
    let scenario = app
        .create(
            "/scenarios",
            &serde_json::json!({
                "name": "Heavy",
                "horizon_months": 12,
                "replications": 10,
                "seed": 1,
                "channel": {"regions": [region("North"), region("South")]},
                "specs": [{"bundled": "flat-growth"}, {"bundled": "ratchet"}]
            }),
        )
        .await;
    let runs = format!("/scenarios/{scenario}/runs");
    let heavy = app
        .post(&runs, &serde_json::json!({"replications": 200_000}))
        .await;
    assert_eq!(heavy.status, 202, "{}", heavy.text());
    let heavy = heavy.json()["id"].as_str().unwrap().to_owned();

    let too_large = app
        .post(&runs, &serde_json::json!({"replications": 50_000_000}))
        .await;
    let problem = too_large.problem(422);
    assert_eq!(problem["errors"][0]["field"], "replications");
    let before = partners(&app).await;
    assert_eq!(app.get("/healthz").await.status, 200);
    let status = app.get(&format!("/runs/{heavy}")).await.json()["status"].clone();
    assert!(
        status == "queued" || status == "running",
        "the heavy run should still be going: {status}"
    );
    assert_eq!(partners(&app).await, before);
    app.send(
        Method::DELETE,
        &format!("/runs/{heavy}"),
        Some(&app.admin),
        &[],
        None,
    )
    .await;
}
