//! Webhooks against a local receiver: signatures verify with the secret shown once, each
//! event type arrives once for its action, failures are retried with growing intervals,
//! a hanging receiver holds up no request, paused subscriptions wait, redelivery sends
//! again, and an event committed before a SIGKILL arrives after the restart.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use awc::http::Method;
use chanlab_api::simulation::RunLimits;
use chanlab_api::startup::Settings;
use chanlab_api::webhooks::{RetrySchedule, signature};
use serde_json::{Value, json};

use crate::helpers::{TestApp, backend, rules, spawn_app_on};

/// What the receiver does with a request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reply {
    /// Answers this status.
    Status(u16),
    /// Never answers (until the test ends).
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    at: Instant,
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A plain HTTP/1.1 receiver on a thread per connection: answers each request with the next
/// planned [`Reply`] (200 once the plan is used up) and records it.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) fn start(plan: &[Reply]) -> Self {
        Self::on(TcpListener::bind("127.0.0.1:0").unwrap(), plan)
    }

    fn on(listener: TcpListener, plan: &[Reply]) -> Self {
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let p = Arc::new(Mutex::new(plan.iter().copied().collect::<VecDeque<_>>()));
        let g = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (g, p) = (g.clone(), p.clone());
                std::thread::spawn(move || serve(stream, &g, &p));
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            got,
        }
    }

    pub(crate) fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until `done` holds of what arrived.
    pub(crate) async fn until(
        &self,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.got();
            if done(&got) {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what}: only {} deliveries arrived: {:?}",
                got.len(),
                got.iter()
                    .map(|r| r.json()["type"].clone())
                    .collect::<Vec<_>>()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub(crate) fn serve(
    stream: impl Read + Write,
    got: &Mutex<Vec<Received>>,
    plan: &Mutex<VecDeque<Reply>>,
) {
    let mut reader = BufReader::new(stream);
    let mut headers = Vec::new();
    let mut line = String::new();
    // A connection that never sends a request (a refused TLS handshake) is not one.
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    got.lock().unwrap().push(Received {
        at: Instant::now(),
        headers,
        body,
    });
    let reply = plan
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Status(200));
    match reply {
        Reply::Status(s) => {
            let stream = reader.get_mut();
            let _ = write!(
                stream,
                "HTTP/1.1 {s} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.flush();
        }
        Reply::Hang => std::thread::sleep(Duration::from_secs(600)),
    }
}

/// A server whose failed deliveries are retried after `base`, doubling.
async fn app_retrying_after(base: Duration) -> TestApp {
    let settings = Settings {
        webhook_retries: RetrySchedule { base },
        metrics: true,
        ..Settings::from(RunLimits::default())
    };
    spawn_app_on(backend(), settings, |_| {}).await
}

/// Subscribes `url` to `events`; the created subscription with its secret.
pub(crate) async fn subscribe(app: &TestApp, url: &str, events: &[&str], paused: bool) -> Value {
    let res = app
        .post(
            "/webhooks",
            &json!({"url": url, "events": events, "paused": paused}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

/// The delivery log of subscription `id`.
pub(crate) async fn deliveries(app: &TestApp, id: &str) -> Vec<Value> {
    let res = app.get(&format!("/webhooks/{id}/deliveries")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["items"].as_array().unwrap().clone()
}

/// The delivery log of subscription `id` once every delivery in it is delivered (the
/// outcome is stored just after the receiver answered).
pub(crate) async fn settled(app: &TestApp, id: &str) -> Vec<Value> {
    for _ in 0..300 {
        let log = deliveries(app, id).await;
        if log.iter().all(|d| d["status"] == "delivered") {
            return log;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the deliveries of {id} were not all delivered: {:?}",
        deliveries(app, id).await
    );
}

/// Waits until subscription `webhook` has a delivery and returns its id.
pub(crate) async fn first_delivery(app: &TestApp, webhook: &str) -> String {
    for _ in 0..300 {
        if let Some(d) = deliveries(app, webhook).await.first() {
            return d["id"].as_str().unwrap().to_owned();
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery for webhook {webhook}");
}

/// Asserts `r` carries a valid signature by `secret`, as a receiver checks it.
pub(crate) fn assert_signed(r: &Received, secret: &str) {
    let timestamp: i64 = r.header("Chanlab-Webhook-Timestamp").parse().unwrap();
    let age = chrono::Utc::now().timestamp() - timestamp;
    assert!((0..300).contains(&age), "signed {age} s ago");
    assert_eq!(
        r.header("Chanlab-Webhook-Signature"),
        signature(secret, timestamp, &r.body)
    );
    assert_ne!(
        r.header("Chanlab-Webhook-Signature"),
        signature("whsec_wrong", timestamp, &r.body)
    );
    let body = r.json();
    assert_eq!(r.header("Chanlab-Webhook-Id"), body["id"].as_str().unwrap());
    assert!(body["occurred_at"].is_string() && body["data"].is_object());
}

pub(crate) const ALL: &[&str] = &[
    "partner.stage_changed",
    "spec.published",
    "run.finished",
    "import.finished",
    "training.session_finished",
    "goal.created",
];

/// What [`cause_every_event`] did, for checking each event's data.
pub(crate) struct Caused {
    /// The prospect moved to negotiating (`partner.stage_changed`).
    pub(crate) partner: String,
    /// The finished run (`run.finished`).
    pub(crate) run: String,
    /// The training session played out (`training.session_finished`).
    pub(crate) session: Value,
    /// The goal created (`goal.created`).
    pub(crate) goal: String,
}

/// Does one action of each event type in [`ALL`], in its order: a stage change, a spec
/// published, a run finished, an import of two regions, a training session finished, a
/// goal created.
pub(crate) async fn cause_every_event(app: &TestApp) -> Caused {
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let prospect = app.partner(&region, Some(&rep), "B", "prospect").await;
    let moved = app
        .post(
            &format!("/partners/{prospect}/transitions"),
            &json!({"to": "negotiating"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let spec = app.create("/process-specs", &rules()).await;
    let published = app
        .post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    let scenario = crate::runs::scenario(app, &crate::scenarios::small_scenario(4)).await;
    let run = crate::runs::finished_run(app, &scenario).await;
    let import = app
        .send(
            Method::POST,
            "/regions/import",
            Some(&app.admin),
            &[],
            Some((
                "text/csv",
                b"name,regional_manager\nImported,Astrid\nOther,Bo\n".to_vec(),
            )),
        )
        .await;
    assert_eq!(import.status, 201, "{}", import.text());
    let session = crate::training::start(app, &app.admin, "unmeasured-process", 7).await;
    crate::training::play_out(app, &app.admin, &session, 0).await;
    let goal = app
        .create(
            "/goals",
            &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits", "target": {"count": 6}, "strategy": "manual"}),
        )
        .await;
    Caused {
        partner: prospect,
        run,
        session,
        goal,
    }
}

#[actix_web::test]
async fn each_event_type_is_delivered_once_for_its_action_and_signed() {
    let app = app_retrying_after(Duration::from_millis(200)).await;
    let receiver = Receiver::start(&[]);
    let hook = subscribe(&app, &receiver.url, ALL, false).await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));

    let caused = cause_every_event(&app).await;

    receiver
        .until("one of each event", |g| g.len() >= ALL.len())
        .await;
    // Time for any second delivery to show up before counting.
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let got = receiver.got();
    let types: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    for t in ALL {
        assert_eq!(
            types.iter().filter(|x| x == t).count(),
            1,
            "{t} once: {types:?}"
        );
    }
    assert_eq!(got.len(), ALL.len(), "{types:?}");
    for r in &got {
        assert_signed(r, secret);
    }
    let data = |t: &str| {
        got.iter()
            .map(Received::json)
            .find(|b| b["type"] == t)
            .unwrap()["data"]
            .clone()
    };
    assert_eq!(data("partner.stage_changed")["id"], caused.partner.as_str());
    assert_eq!(data("partner.stage_changed")["stage"], "negotiating");
    assert_eq!(data("spec.published")["status"], "published");
    assert_eq!(data("run.finished")["id"], caused.run.as_str());
    assert_eq!(data("run.finished")["status"], "done");
    assert_eq!(
        data("import.finished"),
        json!({"kind": "region", "count": 2, "matched": []})
    );
    assert_eq!(
        data("training.session_finished")["id"],
        caused.session["id"]
    );
    assert!(
        data("training.session_finished")
            .get("owner_hash")
            .is_none()
    );
    assert_eq!(data("goal.created")["id"], caused.goal.as_str());
    // The log says each was delivered at the first attempt.
    let log = settled(&app, hook["id"].as_str().unwrap()).await;
    assert_eq!(log.len(), ALL.len());
    for d in &log {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["response_status"], 200);
    }
}

#[actix_web::test]
async fn subscriptions_are_checked_listed_without_secrets_and_admin_only() {
    let app = app_retrying_after(Duration::from_millis(200)).await;
    let bad = app
        .post(
            "/webhooks",
            &json!({"url": "ftp://example.com/x", "events": ["goal.created", "goal.deleted"]}),
        )
        .await;
    let problem = bad.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["url", "events[1]"]);
    assert_eq!(
        app.get("/webhooks").await.json()["items"],
        json!([]),
        "nothing written"
    );
    let hook = subscribe(
        &app,
        "https://crm.example.com/hooks",
        &["goal.created"],
        false,
    )
    .await;
    let id = hook["id"].as_str().unwrap();
    for text in [
        app.get("/webhooks").await.text(),
        app.get(&format!("/webhooks/{id}")).await.text(),
    ] {
        assert!(text.contains(id), "{text}");
        assert!(
            !text.contains("whsec_") && !text.contains("secret"),
            "{text}"
        );
    }
    let audit = app.get("/audit?kind=webhook").await.text();
    assert!(audit.contains(id) && !audit.contains("whsec_"), "{audit}");
    let viewer = app.token("viewer", None, None).await;
    let refused = app
        .send(Method::GET, "/webhooks", Some(&viewer), &[], None)
        .await;
    refused.problem(403);
    let gone = app
        .send(
            Method::DELETE,
            &format!("/webhooks/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    assert_eq!(app.get(&format!("/webhooks/{id}")).await.status, 404);
    assert_eq!(
        app.get(&format!("/webhooks/{id}/deliveries")).await.status,
        404
    );
}

#[actix_web::test]
async fn a_failing_receiver_is_retried_with_growing_intervals_until_it_succeeds() {
    let base = Duration::from_millis(400);
    let app = app_retrying_after(base).await;
    let receiver = Receiver::start(&[Reply::Status(500), Reply::Status(500), Reply::Status(503)]);
    let hook = subscribe(&app, &receiver.url, &["goal.created"], false).await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    app.create(
        "/goals",
        &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits", "target": {"count": 6}, "strategy": "manual"}),
    )
    .await;
    let got = receiver.until("four attempts", |g| g.len() >= 4).await;
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    for (n, gap) in gaps.iter().enumerate() {
        // The n-th retry waits base × 2^n, less at most 20 % jitter.
        let least = base.mul_f64(0.8 * f64::from(1u32 << n));
        assert!(
            *gap >= least,
            "retry {} after {gap:?}, before {least:?}",
            n + 1
        );
    }
    assert!(gaps[2] > gaps[0], "the intervals grow: {gaps:?}");
    let ids: Vec<Value> = got.iter().map(|r| r.json()["id"].clone()).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "the same event each time");
    let log = settled(&app, hook["id"].as_str().unwrap()).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["attempts"], 4);
    assert_eq!(log[0]["response_status"], 200);
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.got().len(), 4, "nothing after the success");
    let metrics = app
        .send(awc::http::Method::GET, "/metrics", None, &[], None)
        .await
        .text();
    for (outcome, n) in [("failed", 3), ("delivered", 1)] {
        let line = format!("chanlab_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}");
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
}

#[actix_web::test]
async fn a_hanging_receiver_holds_up_no_request_and_no_other_subscription() {
    use chanlab_api::webhooks::deliver::MAX_IN_FLIGHT_PER_SUBSCRIPTION;
    let app = app_retrying_after(Duration::from_millis(200)).await;
    let hanging = Receiver::start(&[Reply::Hang; 64]);
    let healthy = Receiver::start(&[]);
    let hook = subscribe(&app, &hanging.url, &["goal.created"], false).await;
    subscribe(&app, &healthy.url, &["goal.created"], false).await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let goal = json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits", "target": {"count": 6}, "strategy": "manual"});
    for _ in 0..20 {
        app.create("/goals", &goal).await;
    }
    // As many deliveries as one subscription may have in flight are now hanging.
    hanging
        .until("the deliveries hang", |g| {
            g.len() >= MAX_IN_FLIGHT_PER_SUBSCRIPTION
        })
        .await;
    let started = Instant::now();
    for _ in 0..20 {
        let res = app.get("/goals?limit=5").await;
        assert_eq!(res.status, 200);
        app.create("/goals", &goal).await;
    }
    // The other subscription gets every event while the first's deliveries hang.
    healthy
        .until("every goal at the healthy receiver", |g| g.len() == 40)
        .await;
    let took = started.elapsed();
    // All of it happened while the deliveries were still hanging: none has timed out yet
    // (the log shows no error), so nothing waited for them.
    let log = deliveries(&app, hook["id"].as_str().unwrap()).await;
    assert!(
        log.iter().all(|d| d["last_error"].is_null()),
        "the requests finished before any hanging delivery timed out ({took:?})"
    );
    assert!(took < chanlab_api::webhooks::TIMEOUT, "{took:?}");
    assert_eq!(
        hanging.got().len(),
        MAX_IN_FLIGHT_PER_SUBSCRIPTION,
        "no more deliveries to one subscription in flight than the bound"
    );
}

#[actix_web::test]
async fn a_paused_subscription_gets_nothing_until_resumed_and_redelivery_sends_again() {
    let app = app_retrying_after(Duration::from_millis(200)).await;
    let receiver = Receiver::start(&[]);
    let hook = subscribe(&app, &receiver.url, &["goal.created"], true).await;
    let id = hook["id"].as_str().unwrap();
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    app.create(
        "/goals",
        &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits", "target": {"count": 6}, "strategy": "manual"}),
    )
    .await;
    let delivery = first_delivery(&app, id).await;
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.got().is_empty(), "paused: nothing sent");
    let held = deliveries(&app, id).await;
    assert_eq!(held[0]["status"], "pending");
    assert_eq!(held[0]["attempts"], 0);

    let resumed = app
        .put(
            &format!("/webhooks/{id}"),
            &json!({"url": receiver.url, "events": ["goal.created"], "paused": false}),
        )
        .await;
    assert_eq!(resumed.status, 200, "{}", resumed.text());
    assert_eq!(resumed.json()["paused"], false);
    let got = receiver.until("the held delivery", |g| g.len() == 1).await;
    assert_signed(&got[0], hook["secret"].as_str().unwrap());

    let again = app
        .post(
            &format!("/webhooks/{id}/deliveries/{delivery}/redeliver"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status, 202, "{}", again.text());
    let got = receiver.until("the redelivery", |g| g.len() == 2).await;
    assert_eq!(got[0].json()["id"], got[1].json()["id"], "the same event");
    let log = settled(&app, id).await;
    assert_eq!(log[0]["attempts"], 1, "counted afresh since the redelivery");
    let unknown = app
        .post(
            &format!("/webhooks/{id}/deliveries/{delivery}x/redeliver"),
            &json!({}),
        )
        .await;
    unknown.problem(404);
}

#[actix_web::test]
async fn an_event_committed_before_a_sigkill_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let token = crate::restart::admin_token(dir.path());
    // The receiver's port, down while the first server runs.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let more = ["--webhook-retry-base-ms", "200"];
    let mut first = crate::restart::start_with(dir.path(), &more);
    let client = awc::Client::default();
    let post = async |server: &crate::restart::Server, path: &str, body: Value| {
        let mut res = client
            .post(format!("{}{path}", server.address))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send_json(&body)
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        res.json::<Value>().await.unwrap()
    };
    let url = format!("http://127.0.0.1:{port}/hooks");
    let hook = post(
        &first,
        "/webhooks",
        json!({"url": url, "events": ["goal.created"]}),
    )
    .await;
    let region = post(
        &first,
        "/regions",
        json!({"name": "N", "regional_manager": "A"}),
    )
    .await;
    let rep = post(&first, "/reps", json!({"name": "Lars", "region_id": region["id"], "hired_on": "2025-03-01", "status": "active"})).await;
    let goal = post(&first, "/goals", json!({"scope": {"kind": "rep", "id": rep["id"]}, "period": "2026-Q4", "metric": "visits", "target": {"count": 6}, "strategy": "manual"})).await;
    first.child.kill().expect("SIGKILL the server");
    first.child.wait().unwrap();

    let receiver = Receiver::on(TcpListener::bind(("127.0.0.1", port)).unwrap(), &[]);
    let mut second = crate::restart::start_with(dir.path(), &more);
    let got = receiver.until("the goal's event", |g| !g.is_empty()).await;
    assert_eq!(got[0].json()["type"], "goal.created");
    assert_eq!(got[0].json()["data"]["id"], goal["id"]);
    assert_signed(&got[0], hook["secret"].as_str().unwrap());
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}
