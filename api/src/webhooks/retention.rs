//! How long the delivery log keeps a finished delivery: the log is for looking into a
//! receiver's recent trouble and redelivering, not an archive, so a delivered or failed
//! delivery goes once its event is older than the retention ([`DEFAULT_LOG_KEPT`], `chanlab
//! serve --webhook-log-days`). The sweeper ([`crate::sweep`]) deletes them; a pending one
//! is never deleted (its retry window is far shorter than any retention).

use chrono::{DateTime, TimeDelta, Utc};

use super::{Delivery, DeliveryStatus};
use crate::storage::{CommitError, Expect, Kind, StorageError, Store, Write};

/// How long a finished delivery stays in the log by default: 30 days (Stripe shows 30
/// days of events).
pub const DEFAULT_LOG_KEPT: TimeDelta = TimeDelta::days(30);

/// Deliveries looked at per page of the scan.
const PAGE: usize = 500;
/// Deliveries deleted per commit.
const PER_COMMIT: usize = 100;

/// Deletes up to `limit` finished deliveries of events that occurred before `before`,
/// oldest first, and returns how many. A delivery's id starts with its event's
/// time-ordered id, so the scan goes oldest first and stops at the first newer event
/// rather than reading the whole log. Blocking; not yet durable.
pub(crate) fn forget_before(
    store: &Store,
    before: DateTime<Utc>,
    limit: usize,
) -> Result<u64, StorageError> {
    let mut after: Option<String> = None;
    let mut gone = Vec::new();
    'scan: loop {
        let page = store.list::<Delivery>(None, after.as_deref(), PAGE, &|_| true)?;
        for d in &page.items {
            if d.occurred_at >= before || gone.len() == limit {
                break 'scan;
            }
            if d.status != DeliveryStatus::Pending {
                gone.push(d.id.clone());
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut deleted = 0;
    for chunk in gone.chunks(PER_COMMIT) {
        // Read again for the versions: a redelivery meanwhile makes one pending, and keeps it.
        let mut writes = Vec::with_capacity(chunk.len());
        for id in chunk {
            if let Some((d, version)) = store.get::<Delivery>(id)?
                && d.status != DeliveryStatus::Pending
            {
                writes.push(Write::Delete {
                    kind: Kind::Delivery,
                    id: id.clone(),
                    expect: Expect::Version(version),
                });
            }
        }
        if writes.is_empty() {
            continue;
        }
        match store.commit(&writes, None) {
            Ok(_) => deleted += writes.len() as u64,
            Err(CommitError::Storage(e)) => return Err(e),
            // One changed or went since the read: this batch waits for the next sweep.
            Err(_) => {}
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use uuid::Uuid;

    use super::*;
    use crate::events::EventType;
    use crate::storage::{SledStorage, store_put};

    /// A delivery of an event `days` after a fixed day, in `status`; made in call order,
    /// so ids sort like the events' times, as the deliverer's do.
    fn delivery(days: i64, status: DeliveryStatus) -> Delivery {
        let occurred_at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::days(days);
        let event_id = Uuid::now_v7();
        let webhook_id = Uuid::now_v7();
        Delivery {
            id: format!("{event_id}.{webhook_id}"),
            webhook_id,
            event_id,
            event: EventType::GoalCreated,
            occurred_at,
            data: serde_json::json!({}),
            status,
            attempts: 1,
            next_attempt_at: None,
            last_attempt_at: None,
            response_status: None,
            last_error: None,
            delivered_at: None,
            give_up_at: occurred_at + TimeDelta::days(1),
            created_at: occurred_at,
        }
    }

    #[test]
    fn finished_deliveries_of_old_events_go_oldest_first_and_pending_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Arc::new(SledStorage::open(dir.path()).unwrap()));
        let log = [
            delivery(0, DeliveryStatus::Delivered),
            delivery(1, DeliveryStatus::Failed),
            delivery(2, DeliveryStatus::Pending),
            delivery(3, DeliveryStatus::Delivered),
            delivery(40, DeliveryStatus::Delivered),
        ];
        let writes: Vec<_> = log.iter().map(|d| store_put(d, Expect::Absent)).collect();
        store.commit(&writes, None).unwrap();
        let ids = |store: &Store| -> Vec<String> {
            store
                .all::<Delivery>(None)
                .unwrap()
                .into_iter()
                .map(|d| d.id)
                .collect()
        };
        let cut = log[0].occurred_at + TimeDelta::days(10);

        assert_eq!(
            forget_before(&store, cut, 1).unwrap(),
            1,
            "at most the limit"
        );
        assert_eq!(
            ids(&store),
            [&log[1].id, &log[2].id, &log[3].id, &log[4].id].map(String::clone)
        );
        assert_eq!(forget_before(&store, cut, 100).unwrap(), 2);
        assert_eq!(
            ids(&store),
            [&log[2].id, &log[4].id].map(String::clone),
            "pending and recent stay"
        );
        assert_eq!(forget_before(&store, cut, 100).unwrap(), 0);
    }
}
