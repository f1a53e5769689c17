//! Scale-out by cost: when every instance of a pool is busy, does a request wait for a slot or start a
//! new instance?
//!
//! A new instance costs a cold start (tens of ms for Node.js, more with an initializer), memory, and cache
//! misses on a machine with few cores; a slot of a busy instance frees after the function's service time.
//! So a request starts an instance only when its expected wait is longer than the expected cold start,
//! both learned from this pool: an exponentially weighted mean of how long requests held a slot, and of
//! how long instances took to start. A 200 µs function under a burst of 16 connections then queues for
//! well under a millisecond instead of starting 16 processes, while a slow function still scales out.
//!
//! Until the pool has measured a request, the service time is taken as the longest-running request in
//! flight (a lower bound, re-read while the request waits), so the first burst waits for the first
//! instance rather than starting one per arrival, and still scales out once that lower bound says a wait
//! would outlast a start. The same bound overrides the mean once a request in flight has run longer
//! than a cold start (a slow or stuck call); shorter stragglers are CPU contention, which more instances
//! on the same cores would only worsen.

use std::time::Duration;

/// Weight of the newest sample in the running means: about the last ten samples count.
const WEIGHT: f64 = 0.2;

/// The cold start assumed before this pool has measured one.
pub(crate) const START_PRIOR: Duration = Duration::from_millis(100);

/// What this pool has learned about its function.
#[derive(Debug, Default, Clone)]
pub(crate) struct Estimates {
    service: Option<Duration>,
    start: Option<Duration>,
}

fn blend(mean: Option<Duration>, sample: Duration) -> Duration {
    match mean {
        None => sample,
        Some(mean) => mean.mul_f64(1.0 - WEIGHT) + sample.mul_f64(WEIGHT),
    }
}

impl Estimates {
    /// A request held a slot this long (from acquiring it to releasing it).
    pub fn record_service(&mut self, held: Duration) {
        self.service = Some(blend(self.service, held));
    }

    /// An instance took this long from the decision to start it to its `ready`.
    pub fn record_start(&mut self, took: Duration) {
        self.start = Some(blend(self.start, took));
    }

    pub fn service(&self) -> Option<Duration> {
        self.service
    }

    /// The expected cold start of this pool.
    pub fn start(&self) -> Duration {
        self.start.unwrap_or(START_PRIOR)
    }
}

/// A pool with no free slot, as one waiting request sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Busy {
    /// Slots of live instances (all taken).
    pub slots: usize,
    /// Slots of instances being started (each will serve waiters once ready).
    pub starting_slots: usize,
    /// Requests waiting in this pool that arrived before this one.
    pub ahead: usize,
    /// How long the oldest request in flight has been running.
    pub longest_running: Duration,
}

/// How long this request expects to wait for a slot; `None` when there is nothing to wait for.
pub(crate) fn expected_wait(busy: Busy, estimates: &Estimates) -> Option<Duration> {
    let capacity = busy.slots + busy.starting_slots;
    if capacity == 0 {
        return None;
    }
    // The measured mean, unless a request in flight has already run longer than a start would take (a
    // slow or stuck call the mean has not seen yet). Shorter outliers are the machine being busy, and a
    // new instance would not make the machine less busy.
    let service = match estimates.service() {
        Some(mean) if busy.longest_running <= estimates.start() => mean,
        Some(mean) => mean.max(busy.longest_running),
        None => busy.longest_running,
    };
    // Slots free at `capacity / service`; this request is served after the `ahead` before it.
    let position = u32::try_from(busy.ahead + 1).unwrap_or(u32::MAX);
    Some(service.saturating_mul(position) / u32::try_from(capacity).unwrap_or(u32::MAX))
}

/// Whether this request should start an instance (limits permitting) rather than wait.
pub(crate) fn should_start(busy: Busy, estimates: &Estimates) -> bool {
    match expected_wait(busy, estimates) {
        None => true,
        Some(wait) => wait > estimates.start(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn busy(slots: usize, starting_slots: usize, ahead: usize) -> Busy {
        Busy { slots, starting_slots, ahead, longest_running: Duration::ZERO }
    }

    fn learned(service: Duration, start: Duration) -> Estimates {
        let mut e = Estimates::default();
        e.record_service(service);
        e.record_start(start);
        e
    }

    #[test]
    fn a_short_function_queues_rather_than_starting_an_instance() {
        let e = learned(MS / 5, 50 * MS);
        // 15 requests ahead on one busy instance: ~3 ms of waiting against a 50 ms start.
        assert!(!should_start(busy(1, 0, 15), &e));
        assert_eq!(expected_wait(busy(1, 0, 15), &e), Some(16 * MS / 5));
    }

    #[test]
    fn a_slow_function_scales_out() {
        let e = learned(200 * MS, 50 * MS);
        assert!(should_start(busy(1, 0, 0), &e));
        // Enough slots make the wait short again.
        assert!(!should_start(busy(8, 0, 0), &e));
    }

    #[test]
    fn nothing_to_wait_for_means_start() {
        assert!(should_start(busy(0, 0, 3), &Estimates::default()));
    }

    #[test]
    fn the_first_burst_waits_for_the_instance_being_started() {
        // Nothing measured yet, nothing running yet: queue behind the start in progress.
        assert!(!should_start(busy(0, 1, 15), &Estimates::default()));
    }

    #[test]
    fn a_long_running_request_bounds_the_unknown_service_time_from_below() {
        let mut b = busy(1, 0, 0);
        b.longest_running = 30 * MS;
        assert!(!should_start(b, &Estimates::default()), "30 ms < the 100 ms prior start");
        b.longest_running = 150 * MS;
        assert!(should_start(b, &Estimates::default()));
    }

    #[test]
    fn a_straggler_shorter_than_a_start_is_contention_not_a_reason_to_scale() {
        let e = learned(MS / 2, 70 * MS);
        let mut b = busy(1, 0, 14);
        b.longest_running = 6 * MS;
        assert!(!should_start(b, &e), "15 × 0.5 ms is the wait, not 15 × 6 ms");
        b.longest_running = 80 * MS;
        assert!(should_start(b, &e), "a call past the start time counts");
    }

    #[test]
    fn the_means_follow_recent_samples() {
        let mut e = learned(100 * MS, 100 * MS);
        for _ in 0..40 {
            e.record_service(MS);
        }
        assert!(e.service().is_some_and(|s| s < 2 * MS), "{:?}", e.service());
        assert_eq!(e.start(), 100 * MS);
    }
}
