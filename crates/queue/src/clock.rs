//! The queue's time, in epoch milliseconds as the store keeps it.
//!
//! Wall-clock milliseconds at start plus tokio's monotonic time since: leases, backoff and event age follow
//! `tokio::time::pause`/`advance` in tests, and a step of the wall clock (NTP, a suspended laptop) cannot
//! expire every running job's lease at once.

use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    wall_ms_at_start: i64,
    start: Instant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock { wall_ms_at_start: ferric_types::time::now_ms(), start: Instant::now() }
    }

    pub fn now_ms(&self) -> i64 {
        self.wall_ms_at_start + i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX / 2)
    }
}
