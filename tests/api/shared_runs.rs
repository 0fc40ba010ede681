//! Simulation runs on a store two `chanlab serve` processes share (PostgreSQL): a run waits
//! in the database's queue until an instance with room claims it, its progress and
//! cancellation work through either instance, the queue as a whole is bounded, a waiting run
//! is cancelled at once, and the run of an instance killed mid-run is marked interrupted by
//! the other. PostgreSQL only, on either run of the suite.

use std::time::{Duration, Instant};

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::Answer;
use crate::instances::Pair;
use crate::runs::busy_scenario;

/// Asks server `n` to run `scenario`: the answer.
async fn ask_run(pair: &Pair, n: usize, scenario: &str) -> Answer {
    pair.send(
        n,
        Method::POST,
        &format!("/scenarios/{scenario}/runs"),
        &[],
        Some(&json!({})),
    )
    .await
}

/// A run of `scenario` posted to server `n`: its id.
async fn post_run(pair: &Pair, n: usize, scenario: &str) -> String {
    let res = ask_run(pair, n, scenario).await;
    assert_eq!(res.status, 202, "{}", res.text());
    res.json()["id"].as_str().unwrap().to_owned()
}

/// The run as server `n` answers it.
async fn read(pair: &Pair, n: usize, run: &str) -> Value {
    let res = pair
        .send(n, Method::GET, &format!("/runs/{run}"), &[], None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

/// Reads the run through server `n` until `until` holds (`secs` at most); the last body.
async fn wait(
    pair: &Pair,
    n: usize,
    run: &str,
    secs: u64,
    until: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let body = read(pair, n, run).await;
        if until(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "run {run} never got there: {body}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn status(body: &Value) -> &str {
    body["status"].as_str().unwrap()
}

fn done(body: &Value) -> u64 {
    body["progress"]["done"].as_u64().unwrap()
}

/// Sends `signal` (`-STOP`, `-CONT`) to server `n`.
fn signal(pair: &Pair, n: usize, signal: &str) {
    let pid = pair.servers[n].child.id().to_string();
    // The shell's `kill` builtin: /bin/kill (procps) may be missing on a minimal machine.
    let ok = std::process::Command::new("sh")
        .args(["-c", &format!("kill {signal} {pid}")])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {signal} {pid}");
}

#[actix_web::test]
async fn runs_beyond_one_instances_room_run_on_the_other_and_either_follows_and_cancels_them() {
    let pair = Pair::start_with(&["--max-runs", "1"]);
    let scenario = pair.create(0, "/scenarios", &busy_scenario(200_000)).await;
    // Both accepted by server 0, which runs one at a time: the other must be server 1's.
    let runs = [
        post_run(&pair, 0, &scenario).await,
        post_run(&pair, 0, &scenario).await,
    ];
    for run in &runs {
        wait(&pair, 1, run, 30, |r| status(r) == "running" && done(r) > 0).await;
    }
    // The queue holds as many as the two instances run: a third is refused.
    let third = ask_run(&pair, 1, &scenario).await;
    let problem = third.problem(429);
    assert!(third.header("retry-after").is_some(), "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("sharing this database"),
        "{problem}"
    );
    // Progress read through either instance moves on, whichever runs it.
    for run in &runs {
        for n in [0, 1] {
            let before = done(&read(&pair, n, run).await);
            wait(&pair, n, run, 30, |r| done(r) > before).await;
        }
    }
    // Each cancelled through the instance that did not accept it... and through the one
    // that did: one of the two is always the other instance.
    for (run, n) in runs.iter().zip([1, 0]) {
        let res = pair
            .send(n, Method::DELETE, &format!("/runs/{run}"), &[], None)
            .await;
        assert_eq!(res.status, 202, "{}", res.text());
    }
    for run in &runs {
        let end = wait(&pair, 0, run, 30, |r| status(r) != "running").await;
        assert_eq!(status(&end), "cancelled", "{end}");
        assert!(done(&end) > 0 && done(&end) < 200_000, "{end}");
        assert_eq!(read(&pair, 1, run).await, end, "the instances disagree");
    }
}

#[actix_web::test]
async fn a_waiting_run_is_cancelled_at_once_and_a_killed_instances_run_is_interrupted_by_the_other()
{
    let mut pair = Pair::start_with(&["--max-runs", "1"]);
    let scenario = pair.create(0, "/scenarios", &busy_scenario(200_000)).await;
    // Server 1 frozen: alive in the database for a few seconds more, but claiming nothing.
    signal(&pair, 1, "-STOP");
    let running = post_run(&pair, 0, &scenario).await;
    wait(&pair, 0, &running, 30, |r| status(r) == "running").await;
    let waiting = post_run(&pair, 0, &scenario).await;
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(status(&read(&pair, 0, &waiting).await), "queued");
    let res = pair
        .send(0, Method::DELETE, &format!("/runs/{waiting}"), &[], None)
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    assert_eq!(status(&res.json()), "cancelled", "{}", res.text());
    signal(&pair, 1, "-CONT");
    assert_eq!(status(&read(&pair, 1, &waiting).await), "cancelled");
    assert_eq!(done(&read(&pair, 1, &waiting).await), 0);
    // The cancel is the caller's write, in the trail with the status it changed.
    let trail = pair
        .send(
            1,
            Method::GET,
            &format!("/audit?kind=run&record_id={waiting}"),
            &[],
            None,
        )
        .await
        .json();
    let cancel = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["operation"] == "DELETE /runs/{id}")
        .unwrap_or_else(|| panic!("no entry of the cancel: {trail}"));
    assert_eq!(cancel["action"], "updated", "{cancel}");
    let status_change = cancel["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "status")
        .unwrap_or_else(|| panic!("no status change: {cancel}"));
    assert_eq!(
        (&status_change["before"], &status_change["after"]),
        (&json!("queued"), &json!("cancelled")),
        "{cancel}"
    );

    // Server 0 killed mid-run: server 1 finds it silent and marks its run interrupted.
    pair.servers[0].child.kill().unwrap();
    pair.servers[0].child.wait().unwrap();
    let end = wait(&pair, 1, &running, 60, |r| status(r) != "running").await;
    assert_eq!(status(&end), "interrupted", "{end}");
    assert!(
        end["error"].as_str().unwrap().contains("stopped answering"),
        "{end}"
    );
    // And the survivor runs new work.
    let next = post_run(&pair, 1, &scenario).await;
    wait(&pair, 1, &next, 30, |r| status(r) == "running").await;
}
