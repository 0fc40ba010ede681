//! Webhooks to an `https://` receiver: delivered and signed when its certificate chains to
//! an authority the server trusts (`--webhook-ca-file`, here a test authority made by
//! rcgen), refused with the reason in the delivery log when it does not.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chanlab_api::simulation::RunLimits;
use chanlab_api::startup::Settings;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;

use crate::helpers::{TestApp, backend, spawn_app_on};
use crate::webhooks::{Receiver, assert_signed, deliveries, serve, settled, subscribe};

/// A certificate authority and a receiver certificate for 127.0.0.1 it signed.
struct Pki {
    ca_pem: String,
    leaf: rustls::pki_types::CertificateDer<'static>,
    leaf_key: Vec<u8>,
}

fn pki(name: &str) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, name);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        leaf: leaf.der().clone(),
        leaf_key: leaf_key.serialize_der(),
    }
}

/// A receiver speaking TLS with `pki`'s certificate, answering 200.
fn tls_receiver(pki: &Pki) -> Receiver {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![pki.leaf.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.leaf_key.clone())),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let (g, config) = (g.clone(), config.clone());
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let tls = rustls::StreamOwned::new(conn, stream);
                serve(tls, &g, &Mutex::new(VecDeque::new()));
            });
        }
    });
    Receiver {
        url: format!("https://127.0.0.1:{port}/hooks"),
        got,
    }
}

/// A server trusting `ca_pem` for webhook receivers.
async fn app_trusting(ca_pem: &str) -> TestApp {
    let settings = Settings {
        webhook_ca_pem: Some(Arc::from(ca_pem.as_bytes())),
        ..Settings::from(RunLimits::default())
    };
    spawn_app_on(backend(), settings, |_| {}).await
}

/// Creates a goal (a `goal.created` event); its id.
async fn a_goal(app: &TestApp) -> String {
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    app.create(
        "/goals",
        &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits",
            "target": {"count": 6}, "strategy": "manual"}),
    )
    .await
}

#[actix_web::test]
async fn an_https_receiver_with_a_trusted_certificate_gets_signed_deliveries() {
    let trusted = pki("chanlab test CA");
    let receiver = tls_receiver(&trusted);
    let app = app_trusting(&trusted.ca_pem).await;
    let hook = subscribe(&app, &receiver.url, &["goal.created"], false).await;
    let goal = a_goal(&app).await;

    let got = receiver
        .until("one delivery over TLS", |g| !g.is_empty())
        .await;
    assert_signed(&got[0], hook["secret"].as_str().unwrap());
    assert_eq!(got[0].json()["data"]["id"], goal.as_str());
    let log = settled(&app, hook["id"].as_str().unwrap()).await;
    assert_eq!(log[0]["response_status"], 200, "{log:?}");
}

#[actix_web::test]
async fn an_https_receiver_whose_certificate_is_not_trusted_is_refused_with_the_reason() {
    let other = pki("an authority the server does not know");
    let receiver = tls_receiver(&other);
    let app = app_trusting(&pki("chanlab test CA").ca_pem).await;
    let hook = subscribe(&app, &receiver.url, &["goal.created"], false).await;
    a_goal(&app).await;

    let id = hook["id"].as_str().unwrap();
    let mut log = Vec::new();
    for _ in 0..200 {
        log = deliveries(&app, id).await;
        if log.first().is_some_and(|d| d["last_error"].is_string()) {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let error = log[0]["last_error"].as_str().unwrap_or_default();
    assert_eq!(log[0]["status"], "pending", "{log:?}");
    assert!(
        error.to_lowercase().contains("certificate") || error.to_lowercase().contains("tls"),
        "the log says why: {error:?}"
    );
    assert!(receiver.got().is_empty(), "nothing was sent in clear");
}

#[test]
fn a_webhook_ca_file_that_is_missing_or_holds_no_certificate_stops_the_server_naming_it_and_the_fix()
 {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("roots.pem");
    let missing = dir.path().join("missing.pem");
    std::fs::write(&pem, "not a certificate\n").unwrap();
    for (file, why) in [(&pem, "no PEM certificate"), (&missing, "No such file")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_chanlab"))
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .arg("--webhook-ca-file")
            .arg(file)
            .env_remove("CHANLAB_DATABASE_URL")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        for part in [file.display().to_string().as_str(), why, "fix:"] {
            assert!(stderr.contains(part), "{part:?} missing: {stderr}");
        }
    }
}
