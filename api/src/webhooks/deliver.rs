//! The deliverer: a thread of its own, off the HTTP workers, that fans outbox events out to
//! subscriptions and sends the due deliveries, at most [`MAX_IN_FLIGHT`] at once and
//! [`MAX_IN_FLIGHT_PER_SUBSCRIPTION`] to one subscription, each with a
//! [`TIMEOUT`]: a receiver that hangs or fails holds a few places for at most
//! that long, never an HTTP worker, and leaves the rest to the other subscriptions.
//!
//! Where several instances share the store, each runs a deliverer; a delivery is sent by
//! the one whose claim commits (a put expecting the version it read), and the claim pushes
//! `next_attempt_at` past the attempt's timeout, so an instance that dies mid-attempt
//! leaves the delivery to be retried by any after that.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::{
    Delivery, DeliveryOutcome, DeliveryStatus, ID_HEADER, PENDING, RetrySchedule, SIGNATURE_HEADER,
    TIMEOUT, TIMESTAMP_HEADER, Webhook, note_delivery,
};
use crate::audit;
use crate::events::OutboxEvent;
use crate::state::AppState;
use crate::storage::{CommitError, Expect, Kind, StorageError, Store, Write, store_put};

/// Deliveries sent at once by one instance.
pub const MAX_IN_FLIGHT: usize = 16;
/// Deliveries to one subscription sent at once by one instance: a receiver that hangs
/// holds this many places, and the others stay free for the other subscriptions.
pub const MAX_IN_FLIGHT_PER_SUBSCRIPTION: usize = 4;
/// How often the outbox and the due deliveries are looked at.
const POLL: Duration = Duration::from_millis(250);
/// Outbox events fanned out per look.
const FAN_OUT_BATCH: usize = 100;
/// How far a claim pushes `next_attempt_at`: past the attempt's timeout, with room.
const LEASE: Duration = Duration::from_secs(60);

/// Starts the deliverer for the server of `state`; it stops once the server's state is
/// dropped.
pub(crate) fn start(
    state: &Arc<AppState>,
    schedule: RetrySchedule,
    tls: Arc<rustls::ClientConfig>,
) -> std::io::Result<()> {
    let weak = Arc::downgrade(state);
    std::thread::Builder::new()
        .name("chanlab-webhooks".to_owned())
        .spawn(move || actix_web::rt::System::new().block_on(run(weak, schedule, tls)))
        .map(drop)
}

async fn run(weak: Weak<AppState>, schedule: RetrySchedule, tls: Arc<rustls::ClientConfig>) {
    let client = Rc::new(
        awc::Client::builder()
            .timeout(TIMEOUT)
            .connector(awc::Connector::new().rustls_0_23(tls))
            .finish(),
    );
    let places = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let busy = Rc::new(RefCell::new(HashMap::new()));
    loop {
        let Some(store) = weak.upgrade().map(|s| s.store.clone()) else {
            return;
        };
        if let Err(e) = tick(&store, &schedule, &client, &places, &busy).await {
            tracing::warn!(error = %e, "webhook deliveries could not be served; trying again");
        }
        drop(store);
        actix_web::rt::time::sleep(POLL).await;
    }
}

/// Runs blocking storage work off this thread's executor, where deliveries are in flight.
async fn blocking<T: Send + 'static>(
    store: &Store,
    work: impl FnOnce(&Store) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    let store = store.clone();
    actix_web::rt::task::spawn_blocking(move || work(&store))
        .await
        .map_err(|e| StorageError::new(format!("a webhook storage task failed: {e}")))?
}

async fn tick(
    store: &Store,
    schedule: &RetrySchedule,
    client: &Rc<awc::Client>,
    places: &Arc<tokio::sync::Semaphore>,
    busy: &Rc<RefCell<Busy>>,
) -> Result<(), StorageError> {
    let schedule = *schedule;
    blocking(store, move |s| fan_out(s, &schedule)).await?;
    let free = places.available_permits();
    if free == 0 {
        return Ok(());
    }
    let sending = busy.borrow().clone();
    let claimed = blocking(store, move |s| claim_due(s, free, sending)).await?;
    for (delivery, version, hook) in claimed {
        let Ok(place) = places.clone().try_acquire_owned() else {
            break;
        };
        *busy.borrow_mut().entry(hook.id).or_insert(0) += 1;
        let (client, store, busy) = (client.clone(), store.clone(), busy.clone());
        actix_web::rt::spawn(async move {
            let _place = place;
            let _sending = Sending(busy, hook.id);
            let answer = send(&client, &hook, &delivery).await;
            let done = blocking(&store, move |s| {
                record(s, &delivery, version, answer, &schedule)
            })
            .await;
            if let Err(e) = done {
                tracing::warn!(error = %e, "a webhook delivery's outcome could not be stored; it is tried again");
            }
        });
    }
    Ok(())
}

/// Deliveries in flight here, per subscription.
type Busy = HashMap<Uuid, usize>;

/// One delivery in flight to a subscription, counted in [`Busy`] until dropped.
struct Sending(Rc<RefCell<Busy>>, Uuid);

impl Drop for Sending {
    fn drop(&mut self) {
        let mut busy = self.0.borrow_mut();
        if let Some(n) = busy.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                busy.remove(&self.1);
            }
        }
    }
}

/// Commits `writes` as the system, taking a refused expectation for another instance's
/// work done first (`None`). Blocking.
fn commit_as_system(store: &Store, writes: &[Write]) -> Result<Option<Vec<u64>>, StorageError> {
    match audit::commit(store, None, writes, None, Vec::new()) {
        Ok(v) => Ok(Some(v)),
        Err(CommitError::Storage(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Turns each outbox event into a delivery per subscription that wants it (and was there
/// when the change was committed), deleting the event in the same commit. Blocking.
fn fan_out(store: &Store, schedule: &RetrySchedule) -> Result<(), StorageError> {
    let events = store
        .list::<OutboxEvent>(None, None, FAN_OUT_BATCH, &|_| true)?
        .items;
    if events.is_empty() {
        return Ok(());
    }
    let hooks = store.all::<Webhook>(None)?;
    let now = Utc::now();
    for event in events {
        let mut writes = vec![Write::Delete {
            kind: Kind::Outbox,
            id: event.id.to_string(),
            expect: Expect::Present,
        }];
        writes.extend(
            hooks
                .iter()
                .filter(|h| h.events.contains(&event.event) && h.created_at <= event.occurred_at)
                .map(|h| store_put(&Delivery::of(&event, h, schedule, now), Expect::Absent)),
        );
        commit_as_system(store, &writes)?;
    }
    Ok(())
}

/// Claims up to `limit` due deliveries of active subscriptions, at most
/// [`MAX_IN_FLIGHT_PER_SUBSCRIPTION`] per subscription counting those `sending` already:
/// each claim counts the attempt and moves `next_attempt_at` a lease ahead, committed only
/// if no one changed the delivery since it was read. Deliveries of deleted subscriptions
/// are dropped. Blocking.
fn claim_due(
    store: &Store,
    limit: usize,
    mut sending: Busy,
) -> Result<Vec<(Delivery, u64, Webhook)>, StorageError> {
    let now = Utc::now();
    let hooks: HashMap<Uuid, Webhook> = store
        .all::<Webhook>(None)?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let due = store.list::<Delivery>(Some(PENDING), None, usize::MAX, &|d| {
        d.next_attempt_at.is_some_and(|t| t <= now)
            && hooks.get(&d.webhook_id).is_none_or(|h| !h.paused)
    })?;
    let mut room = |hook: Uuid| {
        let n = sending.entry(hook).or_insert(0);
        *n += 1;
        *n <= MAX_IN_FLIGHT_PER_SUBSCRIPTION
    };
    let mut claimed = Vec::new();
    for d in due.items {
        if claimed.len() == limit {
            break;
        }
        let Some((current, version)) = store.get::<Delivery>(&d.id)? else {
            continue;
        };
        let Some(hook) = hooks.get(&current.webhook_id) else {
            let gone = Write::Delete {
                kind: Kind::Delivery,
                id: current.id.clone(),
                expect: Expect::Version(version),
            };
            commit_as_system(store, &[gone])?;
            continue;
        };
        if current.status != DeliveryStatus::Pending
            || current.next_attempt_at.is_none_or(|t| t > now)
            || !room(hook.id)
        {
            continue;
        }
        let attempt = Delivery {
            attempts: current.attempts + 1,
            last_attempt_at: Some(now),
            next_attempt_at: Some(now + LEASE),
            ..current
        };
        if let Some(v) = commit_as_system(store, &[store_put(&attempt, Expect::Version(version))])?
        {
            claimed.push((attempt, v[0], hook.clone()));
        }
    }
    Ok(claimed)
}

/// What a receiver answered: its status, or why there was none.
type Answer = Result<u16, String>;

/// POSTs the delivery, signed with the subscription's secret.
async fn send(client: &awc::Client, hook: &Webhook, delivery: &Delivery) -> Answer {
    let body = delivery.body();
    let timestamp = Utc::now().timestamp();
    let signed = hook.signatures(timestamp, &body, Utc::now());
    let answer = client
        .post(hook.url.as_str())
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("User-Agent", "chanlab-webhooks"))
        .insert_header((ID_HEADER, delivery.event_id.to_string()))
        .insert_header((TIMESTAMP_HEADER, timestamp.to_string()))
        .insert_header((SIGNATURE_HEADER, signed))
        .timeout(TIMEOUT)
        .send_body(body)
        .await;
    match answer {
        Ok(res) => Ok(res.status().as_u16()),
        Err(e) => Err(e.to_string()),
    }
}

/// Stores an attempt's outcome on the claimed delivery (at `version`, unless a redelivery
/// replaced it meanwhile): delivered on a 2xx, otherwise retried after the schedule's delay
/// or, past the window, failed. Blocking.
fn record(
    store: &Store,
    delivery: &Delivery,
    version: u64,
    answer: Answer,
    schedule: &RetrySchedule,
) -> Result<(), StorageError> {
    let now = Utc::now();
    let mut next = delivery.clone();
    let outcome = match answer {
        Ok(status) if (200..300).contains(&status) => {
            next.response_status = Some(status);
            next.last_error = None;
            next.delivered_at = Some(now);
            DeliveryOutcome::Delivered
        }
        failed => {
            next.last_error = Some(match &failed {
                Ok(status) => {
                    next.response_status = Some(*status);
                    format!("the receiver answered {status}")
                }
                Err(why) => why.clone(),
            });
            let retry_at = now
                + chrono::TimeDelta::from_std(schedule.delay(&delivery.id, delivery.attempts))
                    .unwrap_or(chrono::TimeDelta::MAX);
            if retry_at > delivery.give_up_at {
                DeliveryOutcome::Failed
            } else {
                next.next_attempt_at = Some(retry_at);
                DeliveryOutcome::Retrying
            }
        }
    };
    next.status = match outcome {
        DeliveryOutcome::Delivered => DeliveryStatus::Delivered,
        DeliveryOutcome::Retrying => DeliveryStatus::Pending,
        DeliveryOutcome::Failed => DeliveryStatus::Failed,
    };
    if next.status != DeliveryStatus::Pending {
        next.next_attempt_at = None;
    }
    note_delivery(store, outcome);
    commit_as_system(store, &[store_put(&next, Expect::Version(version))])?;
    Ok(())
}
