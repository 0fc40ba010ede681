//! Large CSV imports: an 8 MiB file runs off the HTTP workers (other requests are served
//! while it runs), and imports beyond the server's limit are refused with 429.
//! benches/import.sh measures the time, the memory and `/healthz`'s latency meanwhile.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use awc::http::Method;
use chanlab_api::simulation::RunLimits;
use chanlab_api::storage::{
    CommitError, Kind, RawRecord, Remember, SledStorage, Storage, StorageError, Write,
};

use crate::csv_kinds::import;
use crate::helpers::{TestApp, spawn_app, spawn_app_over};

/// A partners file of `rows` new partners in `region`: 7.8 MiB, near the 8 MiB limit, for
/// 100,000 rows.
fn partners_file(region: &str, rows: usize) -> String {
    let mut csv = String::from("name,kind,tier,region_id,stage\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "Partner {i:07} Handels AB,reseller,B,{region},active\n"
        ));
    }
    csv
}

#[actix_web::test]
async fn an_eight_mebibyte_import_leaves_the_server_answering_meanwhile() {
    // On sled whatever the suite's backend: the bulk commit under test is sled's, and the
    // suite's PostgreSQL run already takes most of CI's time.
    let app = crate::helpers::spawn_sled_app().await;
    let region = app.region("Nordics").await;
    let rows = 100_000;
    let csv = partners_file(&region, rows);
    assert!(csv.len() > 7 * 1024 * 1024 && csv.len() < 8 * 1024 * 1024);

    let done = Cell::new(false);
    let answered_meanwhile = Cell::new(0);
    // A debug build takes longer than the suite's client waits (5 s).
    let patient = awc::Client::builder()
        .timeout(Duration::from_secs(300))
        .finish();
    let importing = async {
        let mut res = patient
            .post(format!("{}/partners/import", app.address))
            .insert_header(("Authorization", format!("Bearer {}", app.admin)))
            .insert_header(("Content-Type", "text/csv"))
            .send_body(csv)
            .await
            .expect("the import answers");
        let body = res.body().limit(64 * 1024 * 1024).await.expect("a body");
        done.set(true);
        (res.status().as_u16(), body)
    };
    let probing = async {
        while !done.get() {
            let res = app.send(Method::GET, "/healthz", None, &[], None).await;
            assert_eq!(res.status, 200, "{}", res.text());
            if !done.get() {
                answered_meanwhile.set(answered_meanwhile.get() + 1);
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (res, ()) = futures_util::future::join(importing, probing).await;

    let (status, body) = res;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["imported"], rows);
    assert!(
        answered_meanwhile.get() > 0,
        "no /healthz was answered while the import ran"
    );
    let page = app
        .get(&format!("/partners?region_id={region}&limit=1"))
        .await;
    assert_eq!(page.json()["items"][0]["stage"], "active");
}

/// Sled whose commits of partners wait while `held` is set: an import then stays in
/// progress until the test lets it go.
struct HeldPartnerCommits {
    inner: Arc<SledStorage>,
    held: Arc<(Mutex<bool>, Condvar)>,
    /// How many partner commits are waiting now.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Storage for HeldPartnerCommits {
    fn get(&self, kind: Kind, id: &str) -> Result<Option<RawRecord>, StorageError> {
        self.inner.get(kind, id)
    }
    fn scan(
        &self,
        kind: Kind,
        filter: Option<(&str, &str)>,
        after: Option<&str>,
        visit: &mut dyn FnMut(RawRecord) -> bool,
    ) -> Result<(), StorageError> {
        self.inner.scan(kind, filter, after, visit)
    }
    fn commit(
        &self,
        writes: &[Write],
        remember: Option<&Remember>,
    ) -> Result<Vec<u64>, CommitError> {
        let partners = writes.iter().any(|w| {
            matches!(
                w,
                Write::Put {
                    kind: Kind::Partner,
                    ..
                }
            )
        });
        if partners {
            let (lock, released) = &*self.held;
            let mut held = lock.lock().unwrap();
            if *held {
                self.waiting
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                while *held {
                    held = released.wait(held).unwrap();
                }
                self.waiting
                    .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        self.inner.commit(writes, remember)
    }
    fn recall(&self, key: &str, since: i64) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.recall(key, since)
    }
    fn flush(&self) -> Result<(), StorageError> {
        self.inner.flush()
    }
}

/// Lets held commits go.
fn release(held: &Arc<(Mutex<bool>, Condvar)>) {
    *held.0.lock().unwrap() = false;
    held.1.notify_all();
}

/// Waits until `waiting` imports are held in their commits (so both are in progress: an
/// import keeps its place through its commit), then sends one small import and returns its
/// answer. The probe imports regions, whose commits are not held.
async fn probe_once_held(
    app: &TestApp,
    waiting: &std::sync::atomic::AtomicUsize,
) -> crate::helpers::Answer {
    // Generous: on a loaded machine the two imports take a while to reach their commits.
    for _ in 0..2000 {
        if waiting.load(std::sync::atomic::Ordering::SeqCst) == 2 {
            let file = "name,regional_manager\nProbe,Karin Lund\n".to_owned();
            return import(app, "/regions/import", file).await;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the two imports never reached their commits");
}

/// On sled whatever the suite's backend: the commits are held by a wrapper of sled.
#[actix_web::test]
async fn an_import_beyond_the_limit_is_a_429_with_retry_after_and_then_imports() {
    let held = Arc::new((Mutex::new(false), Condvar::new()));
    let gate = held.clone();
    let waiting = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = waiting.clone();
    let app = spawn_app_over(RunLimits::default(), move |sled| {
        Arc::new(HeldPartnerCommits {
            inner: sled,
            held: gate,
            waiting: counted,
        })
    })
    .await;
    let region = app.region("Nordics").await;
    *held.0.lock().unwrap() = true;

    // Two imports wait in their commits; a third, while they do, is refused.
    let first = import(&app, "/partners/import", partners_file(&region, 3));
    let second = import(&app, "/partners/import", partners_file(&region, 4));
    let third = async {
        let res = probe_once_held(&app, &waiting).await;
        release(&held);
        res
    };
    let (first, second, third) = futures_util::future::join3(first, second, third).await;

    let problem = third.problem(429);
    assert_eq!(problem["title"], "Too many imports at once");
    assert_eq!(third.header("retry-after").as_deref(), Some("3"));
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(second.status, 201, "{}", second.text());
    // With the others done, the next import is accepted.
    let after = import(&app, "/partners/import", partners_file(&region, 2)).await;
    assert_eq!(after.status, 201, "{}", after.text());
    let listed = app.get("/partners?limit=500").await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 3 + 4 + 2);
}

/// Each import gives its place back when it ends: imports one after another are never
/// refused.
#[actix_web::test]
async fn the_limit_does_not_refuse_an_import_when_none_is_running() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    for n in 1..=3 {
        let res = import(&app, "/partners/import", partners_file(&region, n)).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
}
