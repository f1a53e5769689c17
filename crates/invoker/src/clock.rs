//! The invoker's time. Idle reaping, the LRU order of the memory budget, bounded waiting, start and
//! invocation timeouts all read it here and nowhere else (no `std::time::Instant` in this crate).
//!
//! It is tokio's clock, not a trait: the timeouts have to be tokio timers anyway, and tokio's clock is the
//! one `tokio::time::pause()`/`advance()` move, so a second, injectable notion of "now" could only
//! disagree with the timers. Tests pause tokio; production pays nothing (without tokio's `test-util`
//! feature `Instant::now` is the OS clock).

use std::future::Future;
use std::time::Duration;

pub(crate) use tokio::time::Instant;

/// A handle on the clock; free to copy.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock;

impl Clock {
    pub fn now(&self) -> Instant {
        Instant::now()
    }

    pub async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    /// `future`, or `Err` once `duration` has passed.
    pub fn timeout<F: Future>(&self, duration: Duration, future: F) -> tokio::time::Timeout<F> {
        tokio::time::timeout(duration, future)
    }
}
