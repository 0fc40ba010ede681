//! Webhooks: subscriptions to [`EventType`]s, one delivery record per event and
//! subscription, signatures, and the retry schedule. The deliverer that sends them is
//! [`deliver`].
//!
//! Every event is in the outbox from the commit of its change ([`crate::events`]); the
//! deliverer fans each one out to the subscriptions that want it (deliveries written and the
//! outbox record deleted in one commit), then sends each delivery until the receiver
//! answers 2xx or the retry window closes. Delivery is at least once: receivers
//! de-duplicate on the event's id (`Chanlab-Webhook-Id`).

pub mod deliver;
pub mod retention;
pub mod tls;

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::hex;
use crate::error::ApiError;
use crate::events::{EventType, OutboxEvent};
use crate::problem::FieldError;
use crate::storage::{Kind, Record, StorageError};

/// The header naming the event's id: receivers de-duplicate on it.
pub const ID_HEADER: &str = "Chanlab-Webhook-Id";
/// The header with the Unix time (seconds) the delivery was signed at.
pub const TIMESTAMP_HEADER: &str = "Chanlab-Webhook-Timestamp";
/// The header with the signature: `v1=` and the hex HMAC-SHA256 of `{timestamp}.{body}`.
pub const SIGNATURE_HEADER: &str = "Chanlab-Webhook-Signature";
/// How long a receiver may take to answer before the attempt counts as failed.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest URL a subscription may have.
const MAX_URL: usize = 2048;
/// The longest description.
const MAX_DESCRIPTION: usize = 500;

/// A subscription as stored: with its signing secret, which no answer but the create shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// Its id (a UUIDv7).
    pub id: Uuid,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The events it receives.
    pub events: Vec<EventType>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A paused subscription's deliveries wait until it is resumed.
    pub paused: bool,
    /// The signing secret (`whsec_` and 64 hex digits); the audit trail leaves `secret` out.
    pub secret: String,
    /// The secret a rotation replaced, still signing beside the new one until
    /// `previous_until` so receivers can switch without missing a delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
    /// Until when `previous_secret` signs too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_until: Option<DateTime<Utc>>,
    /// When it was created: it receives the events committed from then on.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl Record for Webhook {
    const KIND: Kind = Kind::Webhook;
    fn key(&self) -> String {
        self.id.to_string()
    }
}

/// A subscription as answered: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    /// Its id.
    pub id: Uuid,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The events it receives.
    pub events: Vec<EventType>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether its deliveries wait (`PUT` with `paused: false` resumes it).
    pub paused: bool,
    /// Until when the secret a rotation replaced still signs too (absent: only the current
    /// one signs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        Self {
            id: w.id,
            url: w.url.clone(),
            events: w.events.clone(),
            description: w.description.clone(),
            paused: w.paused,
            previous_secret_until: w.previous(Utc::now()).and(w.previous_until),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

impl Webhook {
    /// The replaced secret, while it still signs at `now`.
    fn previous(&self, now: DateTime<Utc>) -> Option<&str> {
        match (&self.previous_secret, self.previous_until) {
            (Some(secret), Some(until)) if until > now => Some(secret),
            _ => None,
        }
    }

    /// The `Chanlab-Webhook-Signature` of `body` signed at `timestamp`: `v1=` with the
    /// current secret, then `,v1=` with the replaced one while it still signs.
    pub(crate) fn signatures(&self, timestamp: i64, body: &[u8], now: DateTime<Utc>) -> String {
        let mut header = signature(&self.secret, timestamp, body);
        if let Some(previous) = self.previous(now) {
            header.push(',');
            header.push_str(&signature(previous, timestamp, body));
        }
        header
    }
}

/// How long a replaced secret signs beside the new one unless the rotation says otherwise.
pub const DEFAULT_PREVIOUS_HOURS: u16 = 24;
/// The longest it may (a week).
pub const MAX_PREVIOUS_HOURS: u16 = 168;

/// `POST /webhooks/{id}/rotate-secret`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// Hours the replaced secret goes on signing beside the new one (0 to 168; default
    /// 24); 0 stops it at once (a leaked secret).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 168)]
    pub keep_previous_hours: Option<u16>,
}

/// A new subscription with its secret: shown this once, keep it to verify signatures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    /// The subscription.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The signing secret (`whsec_...`): shown only in this answer.
    pub secret: String,
}

/// A subscription to create or replace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// An `http://` or `https://` URL that accepts POSTed JSON.
    pub url: String,
    /// The events to receive, at least one.
    #[schema(value_type = Vec<EventType>)]
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether deliveries wait (default false).
    #[serde(default)]
    pub paused: bool,
}

impl WebhookRequest {
    /// The URL and events, checked: a 422 naming `url`, `events` or `events[N]`.
    pub fn checked(&self) -> Result<Vec<EventType>, ApiError> {
        let mut errors = Vec::new();
        let mut bad = |field: String, message: String| errors.push(FieldError { field, message });
        if let Err(why) = check_url(&self.url) {
            bad("url".to_owned(), why);
        }
        if self.events.is_empty() {
            bad(
                "events".to_owned(),
                format!("name at least one event; known: {}", known_events()),
            );
        }
        let mut events = Vec::new();
        for (i, name) in self.events.iter().enumerate() {
            match serde_json::from_value::<EventType>(Value::String(name.clone())) {
                Ok(e) if events.contains(&e) => {
                    bad(format!("events[{i}]"), format!("{name} is listed twice"));
                }
                Ok(e) => events.push(e),
                Err(_) => bad(
                    format!("events[{i}]"),
                    format!("no event is called {name}; known: {}", known_events()),
                ),
            }
        }
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            bad(
                "description".to_owned(),
                format!("at most {MAX_DESCRIPTION} characters"),
            );
        }
        if errors.is_empty() {
            Ok(events)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// The event names, for messages.
fn known_events() -> String {
    EVENTS
        .iter()
        .map(|e| serde_json::to_value(e).expect("events serialise"))
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every event type.
pub const EVENTS: &[EventType] = &[
    EventType::PartnerStageChanged,
    EventType::SpecPublished,
    EventType::RunFinished,
    EventType::ImportFinished,
    EventType::TrainingSessionFinished,
    EventType::GoalCreated,
];

/// Why `url` cannot be a receiver's, if it cannot.
fn check_url(url: &str) -> Result<(), String> {
    let expected = "expected an absolute http:// or https:// URL such as https://crm.example.com/hooks/chanlab";
    if url.len() > MAX_URL {
        return Err(format!("at most {MAX_URL} characters"));
    }
    let uri: actix_web::http::Uri = url
        .parse()
        .map_err(|e| format!("{url} is not a URL ({e}); {expected}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(()),
        _ => Err(format!("{url}: {expected}")),
    }
}

/// A fresh signing secret.
pub fn new_secret() -> Result<String, StorageError> {
    use rand::TryRng;
    let mut bytes = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StorageError::new(format!("the system random source failed: {e}")))?;
    Ok(format!("whsec_{}", hex(&bytes)))
}

/// The `Chanlab-Webhook-Signature` value of `body` sent at `timestamp` (Unix seconds):
/// `v1=` and the hex HMAC-SHA256, keyed with the whole secret, of `{timestamp}.{body}`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2_11::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex(&mac.finalize().into_bytes()))
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet answered 2xx; `next_attempt_at` says when it is tried (again).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Still failing when the retry window closed; `POST .../redeliver` tries again.
    Failed,
}

/// One event's delivery to one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// `{event id}.{webhook id}`: time-ordered, one per event and subscription.
    pub id: String,
    /// The subscription.
    pub webhook_id: Uuid,
    /// The event's id (`Chanlab-Webhook-Id`, the body's `id`).
    pub event_id: Uuid,
    /// The event's type.
    #[serde(rename = "type")]
    pub event: EventType,
    /// When the change was committed.
    pub occurred_at: DateTime<Utc>,
    /// The body's `data`: the record the event is about.
    #[schema(value_type = crate::events::EventData)]
    pub data: Value,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made since it was created or redelivered.
    pub attempts: u32,
    /// When it is tried next (pending only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the last attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status the receiver last answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<u16>,
    /// Why the last attempt failed (a status, a timeout, a refused connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the receiver answered 2xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// After this, a failing delivery is not retried (`failed`).
    pub give_up_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// The index of deliveries still to send.
pub(crate) const PENDING: (&str, &str) = ("due", "pending");

impl Record for Delivery {
    const KIND: Kind = Kind::Delivery;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn indexes(&self) -> Vec<(String, String)> {
        let mut v = vec![("webhook".to_owned(), self.webhook_id.to_string())];
        if self.status == DeliveryStatus::Pending {
            v.push((PENDING.0.to_owned(), PENDING.1.to_owned()));
        }
        v
    }
}

impl Delivery {
    /// The delivery of `event` to `webhook`, due at once.
    pub(crate) fn of(
        event: &OutboxEvent,
        webhook: &Webhook,
        schedule: &RetrySchedule,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: format!("{}.{}", event.id, webhook.id),
            webhook_id: webhook.id,
            event_id: event.id,
            event: event.event,
            occurred_at: event.occurred_at,
            data: event.data.clone(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            last_attempt_at: None,
            response_status: None,
            last_error: None,
            delivered_at: None,
            give_up_at: now + schedule.window(),
            created_at: now,
        }
    }

    /// The JSON body POSTed: `{id, type, occurred_at, data}`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": self.event_id,
            "type": self.event,
            "occurred_at": self.occurred_at,
            "data": self.data,
        }))
        .expect("events serialise")
    }

    /// The same delivery due again at once, with a fresh retry window as long as its first
    /// (manual redelivery).
    pub(crate) fn redelivered(&self, now: DateTime<Utc>) -> Self {
        Self {
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            delivered_at: None,
            give_up_at: now + (self.give_up_at - self.created_at),
            ..self.clone()
        }
    }
}

/// When failed attempts are retried: `base × 2^(n-1)` after the n-th failure, capped at
/// `120 × base`, ±20 % jitter, until `2880 × base` after the delivery was created. With the
/// default base of 30 s: 30 s, 1 min, 2 min, ... capped at 1 h, for 24 h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The first retry's delay.
    pub base: Duration,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(30),
        }
    }
}

impl RetrySchedule {
    /// How long a delivery is retried.
    pub fn window(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(self.base * 2880).unwrap_or(chrono::TimeDelta::MAX)
    }

    /// The delay after the `attempts`-th failed attempt of delivery `id`. The jitter is
    /// drawn from the id and the attempt, so that deliveries failing together spread out.
    pub fn delay(&self, id: &str, attempts: u32) -> Duration {
        use sha2::{Digest, Sha256};
        let doubled = self
            .base
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
        let capped = doubled.min(self.base * 120);
        let h = Sha256::digest(format!("{id}.{attempts}").as_bytes());
        let unit = f64::from(u16::from_be_bytes([h[0], h[1]])) / f64::from(u16::MAX);
        capped.mul_f64(0.8 + 0.4 * unit)
    }
}

/// Counts an attempt's outcome in the server's metrics
/// (`chanlab_webhook_deliveries_total{outcome}`): a failed attempt that will be retried is
/// `failed`, one after which the event is given up on `abandoned`.
pub(crate) fn note_delivery(store: &crate::storage::Store, outcome: DeliveryOutcome) {
    use crate::metrics::WebhookOutcome;
    store.metrics().webhook_delivery(match outcome {
        DeliveryOutcome::Delivered => WebhookOutcome::Delivered,
        DeliveryOutcome::Retrying => WebhookOutcome::Failed,
        DeliveryOutcome::Failed => WebhookOutcome::Abandoned,
    });
}

/// What one attempt came to, for `note_delivery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed and will be retried.
    Retrying,
    /// It failed and the retry window is closed.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // RFC 4231-style check against an independent value: HMAC-SHA256("key", "1.{}").
        let sig = signature("key", 1, b"{}");
        assert!(sig.starts_with("v1="));
        assert_eq!(sig.len(), 3 + 64);
        assert_ne!(sig, signature("key", 2, b"{}"), "the timestamp is signed");
        assert_ne!(sig, signature("other", 1, b"{}"), "the secret keys it");
        // HMAC-SHA256 test vector (RFC 4231 test case 2): key "Jefe".
        let mut mac = hmac::Hmac::<sha2_11::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_double_from_the_base_with_jitter_and_a_cap() {
        let s = RetrySchedule::default();
        let d1 = s.delay("d", 1).as_secs_f64();
        let d2 = s.delay("d", 2).as_secs_f64();
        let d10 = s.delay("d", 10).as_secs_f64();
        assert!((24.0..=36.0).contains(&d1), "{d1}");
        assert!((48.0..=72.0).contains(&d2), "{d2}");
        assert!(
            (2880.0..=4320.0).contains(&d10),
            "capped at 1 h ± 20 %: {d10}"
        );
        assert_eq!(s.window(), chrono::TimeDelta::hours(24));
        let spread: std::collections::HashSet<u128> = (0..20)
            .map(|i| s.delay(&format!("d{i}"), 3).as_millis())
            .collect();
        assert!(spread.len() > 10, "jitter spreads deliveries: {spread:?}");
    }

    #[test]
    fn a_request_names_each_bad_field() {
        let req = WebhookRequest {
            url: "ftp://example.com/x".to_owned(),
            events: vec!["run.finished".to_owned(), "run.started".to_owned()],
            description: None,
            paused: false,
        };
        let Err(ApiError::Validation(errors)) = req.checked() else {
            panic!("rejected")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events[1]"]);
        let ok = WebhookRequest {
            url: "https://crm.example.com/hooks".to_owned(),
            events: vec!["goal.created".to_owned()],
            ..req
        };
        assert_eq!(ok.checked().unwrap(), [EventType::GoalCreated]);
        assert!(new_secret().unwrap().starts_with("whsec_"));
    }
}
