//! The sweeper: a thread of each server that deletes the idempotent responses older than
//! the window ([`Store::sweep_expired`]), so the store does not grow with every keyed write
//! ever made. Expiry itself does not wait for it: a response older than the window is
//! never replayed, swept or not ([`Store::recall`]).
//!
//! Every instance sharing a PostgreSQL store sweeps; their deletes skip each other's rows
//! (`FOR UPDATE SKIP LOCKED`), so the work is shared rather than repeated. The thread ends
//! once the server's state is dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

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

/// Starts the sweeper of `state`; it stops when `state` goes.
pub(crate) fn start(state: &Arc<AppState>) -> std::io::Result<()> {
    let weak = Arc::downgrade(state);
    let every = interval(state.store.idempotency_window());
    std::thread::Builder::new()
        .name("chanlab-sweep".to_owned())
        .spawn(move || run(&weak, every))
        .map(drop)
}

fn run(weak: &Weak<AppState>, every: Duration) {
    loop {
        std::thread::sleep(every);
        let Some(state) = weak.upgrade() else { return };
        sweep(&state.store);
    }
}

/// One sweep, logged.
fn sweep(store: &Store) {
    match store.sweep_expired() {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "expired idempotency keys swept"),
        Err(e) => {
            tracing::warn!(error = %e, "the idempotency keys could not be swept; trying again")
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
