//! The sweeper: a thread of each server that deletes the idempotent responses older than
//! the window ([`Store::sweep_expired`]) and the finished webhook deliveries older than the
//! delivery log keeps them ([`crate::webhooks::retention`]), so the store does not grow
//! with every keyed write and every event ever made. Expiry itself does not wait for it: a
//! response older than the window is never replayed, swept or not ([`Store::recall`]).
//!
//! Every instance sharing a PostgreSQL store sweeps; their deletes skip each other's rows
//! (`FOR UPDATE SKIP LOCKED`), so the work is shared rather than repeated. The thread ends
//! once the server's state is dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::TimeDelta;

use crate::state::AppState;
use crate::storage::Store;

/// The longest pause between two sweeps.
const AT_MOST_EVERY: Duration = Duration::from_secs(10 * 60);
/// The shortest (for windows of seconds, in tests).
const AT_LEAST_EVERY: Duration = Duration::from_secs(1);

/// How long the sweeper waits between sweeps for `window`: half the window, so an expired
/// response lives at most one and a half windows, between one second and ten minutes.
pub fn interval(window: Duration) -> Duration {
    (window / 2).clamp(AT_LEAST_EVERY, AT_MOST_EVERY)
}

/// Finished deliveries deleted per sweep at most (the rest wait for the next one).
const DELIVERIES_PER_SWEEP: usize = 10_000;

/// Starts the sweeper of `state`, keeping finished webhook deliveries for `log_kept`; it
/// stops when `state` goes.
pub(crate) fn start(state: &Arc<AppState>, log_kept: TimeDelta) -> std::io::Result<()> {
    let weak = Arc::downgrade(state);
    let every = interval(state.store.idempotency_window());
    std::thread::Builder::new()
        .name("chanlab-sweep".to_owned())
        .spawn(move || run(&weak, every, log_kept))
        .map(drop)
}

fn run(weak: &Weak<AppState>, every: Duration, log_kept: TimeDelta) {
    loop {
        std::thread::sleep(every);
        let Some(state) = weak.upgrade() else { return };
        sweep(&state.store, log_kept);
    }
}

/// One sweep, logged.
fn sweep(store: &Store, log_kept: TimeDelta) {
    match store.sweep_expired() {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "expired idempotency keys swept"),
        Err(e) => {
            tracing::warn!(error = %e, "the idempotency keys could not be swept; trying again")
        }
    }
    let before = chrono::Utc::now() - log_kept;
    let deliveries = crate::webhooks::retention::forget_before(store, before, DELIVERIES_PER_SWEEP)
        .and_then(|n| match n {
            0 => Ok(0),
            n => store.flush_blocking().map(|()| n),
        });
    match deliveries {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            deleted = n,
            "finished webhook deliveries past the log's retention swept"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "the webhook delivery log could not be swept; trying again")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_every_half_window_within_bounds() {
        assert_eq!(interval(Duration::from_secs(24 * 3600)), AT_MOST_EVERY);
        assert_eq!(interval(Duration::from_secs(600)), Duration::from_secs(300));
        assert_eq!(interval(Duration::from_millis(10)), AT_LEAST_EVERY);
    }
}
