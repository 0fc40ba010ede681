//! Two `chanlab serve` processes on one PostgreSQL database, each client's requests
//! alternating between them: the concurrency guarantees hold across instances (If-Match
//! read-modify-write, one Idempotency-Key from many clients, unique values, a delete racing
//! new references). PostgreSQL only, on either run of the suite; fails without
//! `CHANLAB_TEST_DATABASE_URL`, saying how to start a server.

use std::collections::BTreeSet;

use awc::http::Method;
use chanlab_api::auth::{RoleName, TokenRequest, create_token_blocking};
use chanlab_api::storage::Store;
use chanlab_api::storage::postgres::scratch::Scratch;
use chanlab_shared::Name;
use serde_json::{Value, json};

use crate::helpers::{Answer, postgres};
use crate::restart::{Server, start_on_database_with};

/// Two servers on one fresh schema, an admin token, a client.
pub(crate) struct Pair {
    pub(crate) servers: [Server; 2],
    pub(crate) admin: String,
    client: awc::Client,
    _schema: Scratch,
}

impl Drop for Pair {
    fn drop(&mut self) {
        for s in &mut self.servers {
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
    }
}

impl Pair {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// Two servers started with `more` `chanlab serve` arguments each.
    pub(crate) fn start_with(more: &[&str]) -> Self {
        let (schema, storage) = postgres();
        let admin = create_token_blocking(
            &Store::new(std::sync::Arc::new(storage)),
            &TokenRequest {
                role: RoleName::Admin,
                region_id: None,
                rep_id: None,
                label: Name::parse("test admin").unwrap(),
                expires_at: None,
            },
            None,
        )
        .expect("admin token")
        .token;
        let servers = [
            start_on_database_with(schema.url(), more),
            start_on_database_with(schema.url(), more),
        ];
        Self {
            servers,
            admin,
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .finish(),
            _schema: schema,
        }
    }

    /// A request to server `n % 2` as admin.
    pub(crate) async fn send(
        &self,
        n: usize,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        self.send_as(n, &self.admin, method, path, headers, body)
            .await
    }

    /// A request to server `n % 2` with `token`.
    pub(crate) async fn send_as(
        &self,
        n: usize,
        token: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.servers[n % 2].address))
            .insert_header(("Authorization", format!("Bearer {token}")));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .expect("request");
        let body = res.body().limit(1 << 24).await.expect("body").to_vec();
        Answer {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body,
        }
    }

    pub(crate) async fn create(&self, n: usize, path: &str, body: &Value) -> String {
        let res = self.send(n, Method::POST, path, &[], Some(body)).await;
        assert_eq!(res.status, 201, "POST {path}: {}", res.text());
        res.json()["id"].as_str().unwrap().to_owned()
    }
}

fn region() -> Value {
    json!({"name": "Nordics", "regional_manager": "Astrid Berg"})
}

#[actix_web::test]
async fn if_match_updates_through_two_instances_each_apply_once() {
    let pair = Pair::start();
    let region = pair.create(0, "/regions", &region()).await;
    let path = format!(
        "/partners/{}",
        pair.create(
            1,
            "/partners",
            &json!({"name": "P", "kind": "agent", "tier": "A", "region_id": region}),
        )
        .await
    );
    const CLIENTS: usize = 6;
    const UPDATES: usize = 3;
    let clients = (0..CLIENTS).map(|c| {
        let (pair, path) = (&pair, &path);
        async move {
            let mut request = c;
            for u in 0..UPDATES {
                loop {
                    // Read from one instance, write through the other.
                    let current = pair.send(request, Method::GET, path, &[], None).await;
                    request += 1;
                    assert_eq!(current.status, 200, "{}", current.text());
                    let etag = current.header("etag").unwrap();
                    let mut body = current.json();
                    body["name"] = json!(format!("{} c{c}u{u}", body["name"].as_str().unwrap()));
                    for read_only in ["id", "stage", "created_by", "updated_by"] {
                        body.as_object_mut().unwrap().remove(read_only);
                    }
                    let put = pair
                        .send(
                            request,
                            Method::PUT,
                            path,
                            &[("If-Match", &etag)],
                            Some(&body),
                        )
                        .await;
                    request += 1;
                    match put.status {
                        200 => break,
                        412 => continue,
                        other => panic!("PUT: {other} {}", put.text()),
                    }
                }
            }
        }
    });
    futures_util::future::join_all(clients).await;
    let last = pair.send(0, Method::GET, &path, &[], None).await.json();
    let tags: Vec<String> = last["name"]
        .as_str()
        .unwrap()
        .split(' ')
        .skip(1)
        .map(str::to_owned)
        .collect();
    let expected: BTreeSet<String> = (0..CLIENTS)
        .flat_map(|c| (0..UPDATES).map(move |u| format!("c{c}u{u}")))
        .collect();
    assert_eq!(
        tags.len(),
        CLIENTS * UPDATES,
        "no update lost or doubled: {tags:?}"
    );
    assert_eq!(tags.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[actix_web::test]
async fn one_idempotency_key_through_two_instances_makes_one_record() {
    let pair = Pair::start();
    let region = pair.create(0, "/regions", &region()).await;
    let body = json!({"name": "Acme", "kind": "agent", "tier": "A", "region_id": region});
    let posts = (0..16).map(|n| {
        pair.send(
            n,
            Method::POST,
            "/partners",
            &[("Idempotency-Key", "acme-signup-1")],
            Some(&body),
        )
    });
    let answers = futures_util::future::join_all(posts).await;
    assert!(
        answers.iter().all(|a| a.status == 201),
        "{:?}",
        answers
            .iter()
            .map(|a| (a.status, a.text()))
            .collect::<Vec<_>>()
    );
    let ids: BTreeSet<String> = answers
        .iter()
        .map(|a| a.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "every answer names the same record: {ids:?}");
    let replayed = answers
        .iter()
        .filter(|a| a.header("idempotent-replayed").as_deref() == Some("true"))
        .count();
    assert_eq!(replayed, 15, "all but the first are replays");
    for n in 0..2 {
        let listed = pair
            .send(n, Method::GET, "/partners", &[], None)
            .await
            .json();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    }
}

#[actix_web::test]
async fn a_unique_month_posted_through_two_instances_is_stored_once() {
    let pair = Pair::start();
    let region = pair.create(0, "/regions", &region()).await;
    let partner = pair
        .create(
            1,
            "/partners",
            &json!({"name": "P", "kind": "agent", "tier": "A", "region_id": region, "stage": "active"}),
        )
        .await;
    let body = json!({"partner_id": partner, "month": "2027-01",
        "sell_in": {"amount_minor": 100_000, "currency": "EUR"},
        "sell_through": {"amount_minor": 90_000, "currency": "EUR"}});
    let posts = (0..12).map(|n| pair.send(n, Method::POST, "/sales-records", &[], Some(&body)));
    let answers = futures_util::future::join_all(posts).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{:?}",
        answers
            .iter()
            .map(|a| (a.status, a.text()))
            .collect::<Vec<_>>()
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let listed = pair
        .send(1, Method::GET, "/sales-records", &[], None)
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

#[actix_web::test]
async fn a_delete_racing_new_references_through_two_instances_leaves_none_dangling() {
    let pair = Pair::start();
    for round in 0..4 {
        let region = pair.create(round, "/regions", &region()).await;
        let rep = |n: usize| {
            let body = json!({"name": "Lars Holm", "region_id": region, "hired_on": "2025-03-01", "status": "active"});
            let pair = &pair;
            async move { pair.send(n, Method::POST, "/reps", &[], Some(&body)).await }
        };
        let path = format!("/regions/{region}");
        let delete = pair.send(round + 1, Method::DELETE, &path, &[], None);
        let (deleted, reps) =
            futures_util::future::join(delete, futures_util::future::join_all((0..8).map(rep)))
                .await;
        let created = reps.iter().filter(|a| a.status == 201).count();
        let listed = pair
            .send(
                round,
                Method::GET,
                &format!("/reps?region_id={region}"),
                &[],
                None,
            )
            .await
            .json();
        let stored = listed["items"].as_array().unwrap().len();
        assert_eq!(stored, created, "{listed}");
        match deleted.status {
            204 => {
                assert_eq!(created, 0, "a rep names a deleted region");
                assert_eq!(
                    pair.send(round, Method::GET, &path, &[], None).await.status,
                    404
                );
            }
            409 => assert!(
                created > 0,
                "the delete was refused for references that do not exist"
            ),
            other => panic!("DELETE {path}: {other} {}", deleted.text()),
        }
        for refused in reps.iter().filter(|a| a.status != 201) {
            assert!(
                matches!(refused.status, 404 | 409 | 422),
                "{} {}",
                refused.status,
                refused.text()
            );
        }
    }
}

#[actix_web::test]
async fn sales_in_two_currencies_posted_through_two_instances_keep_each_partner_in_one() {
    let pair = Pair::start();
    let region = pair.create(0, "/regions", &region()).await;
    for round in 0..4 {
        let partner = pair
            .create(
                round,
                "/partners",
                &json!({"name": format!("P{round}"), "kind": "agent", "tier": "A", "region_id": region, "stage": "active"}),
            )
            .await;
        // Twelve months at once, every other in another currency, every other instance.
        let posts = (0..12).map(|n| {
            let currency = if n % 2 == 0 { "EUR" } else { "USD" };
            let body = json!({"partner_id": partner, "month": format!("2027-{:02}", n + 1),
                "sell_in": {"amount_minor": 100_000, "currency": currency},
                "sell_through": {"amount_minor": 90_000, "currency": currency}});
            let pair = &pair;
            async move {
                pair.send(n / 2 + n, Method::POST, "/sales-records", &[], Some(&body))
                    .await
            }
        });
        let answers = futures_util::future::join_all(posts).await;
        assert!(
            answers.iter().all(|a| a.status == 201 || a.status == 409),
            "{:?}",
            answers
                .iter()
                .map(|a| (a.status, a.text()))
                .collect::<Vec<_>>()
        );
        let stored = pair
            .send(
                round + 1,
                Method::GET,
                &format!("/sales-records?partner_id={partner}&limit=100"),
                &[],
                None,
            )
            .await
            .json();
        assert_eq!(
            crate::concurrency::currencies(&stored).len(),
            1,
            "partner {partner}: {stored}"
        );
        let created = answers.iter().filter(|a| a.status == 201).count();
        assert_eq!(stored["items"].as_array().unwrap().len(), created);
    }
}

#[actix_web::test]
async fn rounds_played_through_two_instances_at_once_are_each_played_once() {
    let pair = Pair::start();
    let res = pair
        .send(
            0,
            Method::POST,
            "/training/sessions",
            &[],
            Some(&json!({"exercise": "stretch-goal-trap", "seed": 1, "replications": 500})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let session = res.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/training/sessions/{session}/rounds");
    // More requests at once than the exercise has rounds, through both instances: each
    // answered 200 played a round of its own, in order; the others are 409s (a round in
    // play, or the session finished), never a second copy of a round or a 412.
    let plays = (0..8).map(|n| {
        let (pair, path) = (&pair, &path);
        async move {
            pair.send(n, Method::POST, path, &[], Some(&json!({})))
                .await
        }
    });
    let answers = futures_util::future::join_all(plays).await;
    assert!(
        answers.iter().all(|a| [200, 409].contains(&a.status)),
        "{:?}",
        answers
            .iter()
            .map(|a| (a.status, a.text()))
            .collect::<Vec<_>>()
    );
    let mut played: Vec<u64> = answers
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.json()["rounds_played"].as_u64().unwrap())
        .collect();
    played.sort_unstable();
    let read = pair
        .send(
            1,
            Method::GET,
            &format!("/training/sessions/{session}"),
            &[],
            None,
        )
        .await
        .json();
    let stored = read["rounds"].as_array().unwrap().len() as u64;
    assert_eq!(played, (1..=stored).collect::<Vec<_>>(), "{read}");
    assert!(stored >= 1);
}
