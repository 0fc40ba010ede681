//! The records API's handler and storage path, in process: a request goes through routing,
//! token lookup, extraction, the blocking pool and sled, without a socket. `benches/load.sh`
//! measures the same over HTTP with wrk. Run with `cargo bench --bench api`; the README lists
//! figures measured on the project's 2-core machine.

use std::hint::black_box;
use std::sync::Arc;

use actix_web::{App, test, web};
use chanlab_api::auth::{RoleName, TokenRequest, create_token_blocking};
use chanlab_api::startup::{app_config, open_storage};
use chanlab_api::state::AppState;
use chanlab_api::storage::Store;
use chanlab_shared::{Name, Partner};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn handlers(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::new(Arc::new(open_storage(dir.path()).expect("storage")));
    let token = create_token_blocking(
        &store,
        &TokenRequest {
            role: RoleName::Admin,
            region_id: None,
            rep_id: None,
            label: Name::parse("bench").unwrap(),
            expires_at: None,
        },
        None,
    )
    .expect("token")
    .token;
    let auth = ("Authorization", format!("Bearer {token}"));
    let rt = actix_web::rt::System::new();
    let app = rt.block_on(test::init_service(
        App::new().configure(app_config(web::Data::new(AppState::new(store.clone())))),
    ));
    let post = |path: &str, body: serde_json::Value| {
        let req = test::TestRequest::post()
            .uri(path)
            .insert_header(auth.clone())
            .set_json(body)
            .to_request();
        let res: serde_json::Value = rt.block_on(test::call_and_read_body_json(&app, req));
        res["id"].as_str().expect("created").to_owned()
    };
    let region = post(
        "/regions",
        json!({"name": "Nordics", "regional_manager": "Astrid"}),
    );
    let rep = post(
        "/reps",
        json!({"name": "Lars", "region_id": region, "hired_on": "2025-03-01", "status": "active"}),
    );
    let mut partner = String::new();
    for i in 0..200 {
        partner = post(
            "/partners",
            json!({"name": format!("Partner {i}"), "kind": "reseller", "tier": "B", "region_id": region, "owner_rep_id": rep, "stage": "active"}),
        );
    }
    let activity = json!({"rep_id": rep, "partner_id": partner, "date": "2026-11-12", "kind": "visit", "outcome": "completed"});

    let mut group = c.benchmark_group("api");
    group.bench_function("get_partner_by_id", |b| {
        b.iter(|| {
            let req = test::TestRequest::get()
                .uri(&format!("/partners/{partner}"))
                .insert_header(auth.clone())
                .to_request();
            let res = rt.block_on(test::call_service(&app, req));
            assert!(res.status().is_success());
            black_box(res)
        })
    });
    group.bench_function("list_50_partners", |b| {
        b.iter(|| {
            let req = test::TestRequest::get()
                .uri("/partners?limit=50")
                .insert_header(auth.clone())
                .to_request();
            let res = rt.block_on(test::call_service(&app, req));
            assert!(res.status().is_success());
            black_box(res)
        })
    });
    group.bench_function("post_activity_durable", |b| {
        b.iter(|| {
            let req = test::TestRequest::post()
                .uri("/activities")
                .insert_header(auth.clone())
                .set_json(&activity)
                .to_request();
            let res = rt.block_on(test::call_service(&app, req));
            assert_eq!(res.status().as_u16(), 201);
            black_box(res)
        })
    });
    group.bench_function("storage_get_partner", |b| {
        b.iter(|| black_box(store.get::<Partner>(black_box(&partner)).expect("read")))
    });
    group.finish();
}

criterion_group!(benches, handlers);
criterion_main!(benches);
