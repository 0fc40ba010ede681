//! Crash durability: several clients write concurrently to the real `chanlab serve`, the
//! server is SIGKILLed at a random moment, started again on the same data directory, and
//! every write that was answered 2xx must be there, byte for byte; the store must open and
//! answer `/readyz`. Many rounds, each killed at a different point. With
//! `CHANLAB_TEST_BACKEND=postgres` the servers run on a fresh PostgreSQL schema instead of a
//! data directory (the server process is killed, not PostgreSQL).
//!
//! The kill point is a number of acknowledged writes drawn at random (printed as a seed;
//! `CHANLAB_CRASH_SEED=<n>` replays a run), so a round is killed while requests and sled
//! flushes are in flight, not between them.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::rc::Rc;
use std::time::Duration;

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, backend};
use crate::restart::{Server, admin_token, admin_token_on_database, start, start_on_database};

/// Where the killed servers keep the records, kept for the whole test.
enum Records {
    Dir(tempfile::TempDir),
    Database(chanlab_api::storage::postgres::scratch::Scratch),
}

impl Records {
    fn new() -> Self {
        match backend() {
            Backend::Sled => Records::Dir(tempfile::tempdir().unwrap()),
            Backend::Postgres => Records::Database(crate::helpers::postgres().0),
        }
    }

    fn token(&self) -> String {
        match self {
            Records::Dir(d) => admin_token(d.path()),
            Records::Database(s) => admin_token_on_database(s.url()),
        }
    }

    fn start(&self) -> Server {
        match self {
            Records::Dir(d) => start(d.path()),
            Records::Database(s) => start_on_database(s.url()),
        }
    }
}

const ROUNDS: usize = 20;
const CLIENTS: usize = 4;

/// A small deterministic generator (SplitMix64), so a failing run can be replayed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the clients were told was written.
#[derive(Default)]
struct Acknowledged {
    /// Created activities: id → the body the server answered.
    activities: BTreeMap<String, Value>,
    /// Per client: its region and the highest update number answered 200.
    regions: BTreeMap<usize, (String, u64)>,
    /// How many updates were answered 200.
    updates: usize,
    /// Answers that were neither 2xx nor a dropped connection (must stay empty).
    unexpected: Vec<String>,
}

async fn send(
    client: &awc::Client,
    address: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let req = client
        .request(method, format!("{address}{path}"))
        .insert_header(("Authorization", format!("Bearer {token}")));
    let mut res = match body {
        Some(b) => req.send_json(b).await,
        None => req.send().await,
    }
    .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let bytes = res.body().limit(8 << 20).await.map_err(|e| e.to_string())?;
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, value))
}

/// One client's writes until the server goes away: new activities with notes naming the
/// round, client and sequence number, alternating with renames of the client's own region.
#[allow(clippy::too_many_arguments)]
async fn writer(
    client: awc::Client,
    address: String,
    token: String,
    round: usize,
    me: usize,
    rep: String,
    partner: String,
    acks: Rc<RefCell<Acknowledged>>,
    acked: Rc<Cell<u64>>,
    running: Rc<Cell<usize>>,
) {
    write_until_killed(
        client, address, token, round, me, rep, partner, &acks, &acked,
    )
    .await;
    running.set(running.get() - 1);
}

#[allow(clippy::too_many_arguments)]
async fn write_until_killed(
    client: awc::Client,
    address: String,
    token: String,
    round: usize,
    me: usize,
    rep: String,
    partner: String,
    acks: &RefCell<Acknowledged>,
    acked: &Cell<u64>,
) {
    let region = acks.borrow().regions[&me].0.clone();
    // Update numbers grow across rounds, so the last acknowledged one is the highest.
    for seq in (round as u64 * 1_000_000 + 1).. {
        let (method, path, body) = if seq % 2 == 1 {
            let notes = format!("round {round} client {me} write {seq}");
            (
                Method::POST,
                "/activities".to_owned(),
                json!({"rep_id": rep, "partner_id": partner, "date": "2026-11-12", "kind": "visit", "outcome": "completed", "notes": notes}),
            )
        } else {
            (
                Method::PUT,
                format!("/regions/{region}"),
                json!({"name": format!("client {me} update {seq}"), "regional_manager": "Astrid Berg"}),
            )
        };
        match send(&client, &address, &token, method, &path, Some(&body)).await {
            // The server was killed: this write and every later one is unacknowledged.
            Err(_) => return,
            Ok((201, created)) => {
                let id = created["id"].as_str().unwrap().to_owned();
                acks.borrow_mut().activities.insert(id, created);
            }
            Ok((200, _)) => {
                let mut a = acks.borrow_mut();
                let entry = a.regions.get_mut(&me).unwrap();
                entry.1 = entry.1.max(seq);
                a.updates += 1;
            }
            Ok((status, answer)) => {
                acks.borrow_mut()
                    .unexpected
                    .push(format!("{path}: {status} {answer}"));
                return;
            }
        }
        acked.set(acked.get() + 1);
    }
}

/// Every acknowledged write is on the restarted server, intact.
async fn check(client: &awc::Client, server: &Server, token: &str, acks: &Acknowledged) {
    let (status, _) = send(client, &server.address, token, Method::GET, "/readyz", None)
        .await
        .unwrap();
    assert_eq!(status, 200, "the store opened and answers after the kill");

    // Through the list (a scan of the store and its order) ...
    let mut listed = BTreeMap::new();
    let mut next = Some("/activities?limit=500".to_owned());
    while let Some(path) = next {
        let (status, page) = send(client, &server.address, token, Method::GET, &path, None)
            .await
            .unwrap();
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().unwrap() {
            listed.insert(item["id"].as_str().unwrap().to_owned(), item.clone());
        }
        next = page["next"].as_str().map(str::to_owned);
    }
    let mut lost = Vec::new();
    for (id, body) in &acks.activities {
        match listed.get(id) {
            Some(stored) if stored == body => {}
            Some(stored) => panic!("activity {id} changed: acknowledged {body}, stored {stored}"),
            None => lost.push(id.clone()),
        }
    }
    // ... and point reads of the regions, whose last acknowledged update must be there (a
    // later, unacknowledged one may be too: it reached the disk, its answer did not).
    for (client_no, (region, last)) in &acks.regions {
        let (status, stored) = send(
            client,
            &server.address,
            token,
            Method::GET,
            &format!("/regions/{region}"),
            None,
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "region {region}: {stored}");
        let name = stored["name"].as_str().unwrap();
        let n: u64 = name
            .strip_prefix(&format!("client {client_no} update "))
            .map_or(0, |n| n.parse().unwrap());
        if n < *last {
            lost.push(format!(
                "region {region}: update {last} was acknowledged, the store has {name:?}"
            ));
        }
    }
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
}

#[actix_web::test]
async fn every_acknowledged_write_survives_sigkill_at_random_moments() {
    let seed = std::env::var("CHANLAB_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let mut rng = SplitMix(seed);
    let records = Records::new();
    let token = records.token();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();

    let mut server = records.start();
    let post = |server: &Server, path: &'static str, body: Value| {
        let client = client.clone();
        let address = server.address.clone();
        let token = token.clone();
        async move {
            let (status, created) =
                send(&client, &address, &token, Method::POST, path, Some(&body))
                    .await
                    .unwrap();
            assert_eq!(status, 201, "{created}");
            created["id"].as_str().unwrap().to_owned()
        }
    };
    let home = post(
        &server,
        "/regions",
        json!({"name": "Nordics", "regional_manager": "Astrid Berg"}),
    )
    .await;
    let rep = post(&server, "/reps", json!({"name": "Lars Holm", "region_id": home, "hired_on": "2025-03-01", "status": "active"})).await;
    let partner = post(
        &server,
        "/partners",
        json!({"name": "Acme", "kind": "agent", "tier": "A", "region_id": home}),
    )
    .await;
    let acks = Rc::new(RefCell::new(Acknowledged::default()));
    for c in 0..CLIENTS {
        let region = post(
            &server,
            "/regions",
            json!({"name": format!("client {c} update 0"), "regional_manager": "Astrid Berg"}),
        )
        .await;
        acks.borrow_mut().regions.insert(c, (region, 0));
    }

    let mut kill_points = Vec::new();
    let mut acknowledged = 0;
    for round in 0..ROUNDS {
        // Kill after 0 to 200 acknowledged writes: sometimes before the first answer.
        let kill_after = rng.below(201);
        kill_points.push(kill_after);
        let acked = Rc::new(Cell::new(0u64));
        let running = Rc::new(Cell::new(CLIENTS));
        let writers = (0..CLIENTS).map(|me| {
            writer(
                client.clone(),
                server.address.clone(),
                token.clone(),
                round,
                me,
                rep.clone(),
                partner.clone(),
                acks.clone(),
                acked.clone(),
                running.clone(),
            )
        });
        let killer = async {
            // Poll the count the writers advance; they run while this one waits.
            while acked.get() < kill_after && running.get() > 0 {
                actix_web::rt::time::sleep(Duration::from_micros(200)).await;
            }
            server.child.kill().expect("SIGKILL the server");
            server.child.wait().unwrap();
        };
        futures_util::future::join(futures_util::future::join_all(writers), killer).await;
        assert!(
            acks.borrow().unexpected.is_empty(),
            "answers other than 2xx before the kill: {:?}",
            acks.borrow().unexpected
        );

        assert!(
            acked.get() >= kill_after,
            "round {round} reached its kill point"
        );
        acknowledged += acked.get();

        server = records.start();
        // The writers are done: take what they recorded while the check awaits.
        let recorded = acks.take();
        check(&client, &server, &token, &recorded).await;
        *acks.borrow_mut() = recorded;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let acks = acks.borrow();
    assert_eq!(
        acks.activities.len() + acks.updates,
        acknowledged as usize,
        "every acknowledged write was recorded for checking"
    );
    let _ = writeln!(
        std::io::stderr(),
        "crash durability: {ROUNDS} SIGKILL rounds with {CLIENTS} clients (seed {seed}; killed \
         after {kill_points:?} acknowledged writes): {acknowledged} acknowledged writes ({} \
         creates, checked byte for byte after every restart; {} updates, the last of each \
         client's checked), 0 lost",
        acks.activities.len(),
        acks.updates,
    );
}
