//! The last hour of one function line, minute by minute, for the console's charts: a fixed ring of 60
//! per-minute buckets, so memory per line is bounded whatever the traffic.
//!
//! Durations go into a sparse log-scale histogram per minute (10% wide bins, at most [`BINS`] of them),
//! so p50 and p99 are within 5% of the true value and clamped to the minute's exact minimum and maximum
//! (one invocation reports its own duration). Written here rather than taken from a crate: the
//! well-known sketches (HDR, DDSketch) allocate kilobytes per histogram, times 60 minutes times every
//! function line.

use serde::Serialize;

/// Seconds per bucket.
pub const BUCKET_SECONDS: i64 = 60;
/// Buckets kept: one hour.
pub const BUCKETS: usize = 60;
const BUCKET_MS: i64 = BUCKET_SECONDS * 1000;

/// Histogram bins: `[FLOOR_MS·GROWTH^i, FLOOR_MS·GROWTH^(i+1))`; 256 bins of 10% reach past a day.
const BINS: usize = 256;
const FLOOR_MS: f64 = 0.01;
const GROWTH: f64 = 1.1;

/// What `Metrics::history` returns: serialized as the console reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionHistory {
    pub bucket_seconds: i64,
    /// Oldest first; minutes without traffic are zero buckets.
    pub buckets: Vec<HistoryBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryBucket {
    /// The minute's start, epoch milliseconds.
    pub start_ms: i64,
    pub invocations: u64,
    /// Invocations that ended in a function error (handled, unhandled or timed out).
    pub errors: u64,
    /// Invocations refused for want of an instance (not counted in `invocations`).
    pub throttles: u64,
    pub cold_starts: u64,
    /// `None` when the minute had no invocation.
    pub duration_p50_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    /// The most live instances seen in the minute.
    pub instances: u64,
}

/// What one invocation adds to its minute.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Invocation { error: bool, cold: bool, duration_ms: f64 },
    Throttle,
    Instances(u64),
}

#[derive(Debug, Clone, Default)]
struct Minute {
    /// Minutes since the epoch; a slot holding an older minute is stale.
    minute: i64,
    invocations: u64,
    errors: u64,
    throttles: u64,
    cold_starts: u64,
    instances: u64,
    durations: Durations,
}

/// A sparse log-scale histogram of milliseconds with the exact extremes.
#[derive(Debug, Clone, Default)]
struct Durations {
    /// `(bin, count)`, sorted by bin.
    bins: Vec<(u16, u64)>,
    count: u64,
    min: f64,
    max: f64,
}

impl Durations {
    fn add(&mut self, ms: f64, count: u64) {
        let ms = if ms.is_finite() { ms.max(0.0) } else { 0.0 };
        self.add_bin(bin_of(ms), count);
        self.extremes(ms, ms);
        self.count += count;
    }

    fn add_bin(&mut self, bin: u16, count: u64) {
        match self.bins.binary_search_by_key(&bin, |(b, _)| *b) {
            Ok(i) => self.bins[i].1 += count,
            Err(i) => self.bins.insert(i, (bin, count)),
        }
    }

    fn extremes(&mut self, min: f64, max: f64) {
        if self.count == 0 {
            (self.min, self.max) = (min, max);
        } else {
            self.min = self.min.min(min);
            self.max = self.max.max(max);
        }
    }

    fn merge(&mut self, other: &Durations) {
        if other.count == 0 {
            return;
        }
        self.extremes(other.min, other.max);
        for &(bin, count) in &other.bins {
            self.add_bin(bin, count);
        }
        self.count += other.count;
    }

    fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        // The extremes are exact: p99 of fewer than 100 invocations is their maximum.
        if rank == self.count {
            return Some(round3(self.max));
        }
        if rank == 1 {
            return Some(round3(self.min));
        }
        let mut seen = 0;
        let bin = self.bins.iter().find(|(_, count)| {
            seen += count;
            seen >= rank
        })?;
        let middle = FLOOR_MS * GROWTH.powf(f64::from(bin.0) + 0.5);
        Some(round3(middle.clamp(self.min, self.max)))
    }
}

fn bin_of(ms: f64) -> u16 {
    if ms <= FLOOR_MS {
        return 0;
    }
    ((ms / FLOOR_MS).ln() / GROWTH.ln()).floor().clamp(0.0, (BINS - 1) as f64) as u16
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// One function line's hour.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    slots: Vec<Minute>,
    /// The last minute anything was recorded, so an idle line can give its place to a new one.
    pub last_minute: i64,
}

impl Ring {
    pub fn new() -> Ring {
        Ring { slots: vec![Minute { minute: i64::MIN, ..Minute::default() }; BUCKETS], last_minute: i64::MIN }
    }

    pub fn record(&mut self, now_ms: i64, event: Event) {
        let minute = now_ms.div_euclid(BUCKET_MS);
        let slot = &mut self.slots[minute.rem_euclid(BUCKETS as i64) as usize];
        if slot.minute != minute {
            *slot = Minute { minute, ..Minute::default() };
        }
        match event {
            Event::Invocation { error, cold, duration_ms } => {
                slot.invocations += 1;
                slot.errors += u64::from(error);
                slot.cold_starts += u64::from(cold);
                slot.durations.add(duration_ms, 1);
            }
            Event::Throttle => slot.throttles += 1,
            Event::Instances(n) => slot.instances = slot.instances.max(n),
        }
        if !matches!(event, Event::Instances(0)) {
            self.last_minute = self.last_minute.max(minute);
        }
    }

    /// Whether nothing was recorded in the last hour.
    pub fn is_stale(&self, now_ms: i64) -> bool {
        self.last_minute <= now_ms.div_euclid(BUCKET_MS) - BUCKETS as i64
    }
}

/// The hour ending with the current minute, summed over `rings` (each line's instances added up).
pub(crate) fn summarize<'a>(now_ms: i64, rings: impl IntoIterator<Item = &'a Ring>) -> FunctionHistory {
    let current = now_ms.div_euclid(BUCKET_MS);
    let first = current - BUCKETS as i64 + 1;
    let mut sums: Vec<Minute> = (first..=current).map(|minute| Minute { minute, ..Minute::default() }).collect();
    for ring in rings {
        for slot in ring.slots.iter().filter(|s| (first..=current).contains(&s.minute)) {
            let sum = &mut sums[(slot.minute - first) as usize];
            sum.invocations += slot.invocations;
            sum.errors += slot.errors;
            sum.throttles += slot.throttles;
            sum.cold_starts += slot.cold_starts;
            sum.instances += slot.instances;
            sum.durations.merge(&slot.durations);
        }
    }
    let buckets = sums
        .into_iter()
        .map(|m| HistoryBucket {
            start_ms: m.minute * BUCKET_MS,
            invocations: m.invocations,
            errors: m.errors,
            throttles: m.throttles,
            cold_starts: m.cold_starts,
            duration_p50_ms: m.durations.quantile(0.5),
            duration_p99_ms: m.durations.quantile(0.99),
            instances: m.instances,
        })
        .collect();
    FunctionHistory { bucket_seconds: BUCKET_SECONDS, buckets }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_733_140_800_000;

    fn call(ms: f64) -> Event {
        Event::Invocation { error: false, cold: false, duration_ms: ms }
    }

    #[test]
    fn the_hour_is_sixty_buckets_oldest_first_with_empty_minutes_zero() {
        let mut ring = Ring::new();
        ring.record(T0 + 5_000, Event::Invocation { error: true, cold: true, duration_ms: 1.2 });
        ring.record(T0 + 6_000, call(9.0));
        ring.record(T0 + 7_000, call(3.0));
        ring.record(T0 + 8_000, Event::Throttle);
        ring.record(T0 + 9_000, Event::Instances(1));
        let history = summarize(T0 + 2 * 60_000 + 1, [&ring]);
        assert_eq!(history.buckets.len(), 60);
        assert_eq!(history.buckets[59].start_ms, T0 + 2 * 60_000, "the current minute is last");
        let bucket = &history.buckets[57];
        assert_eq!(bucket.start_ms, T0);
        assert_eq!((bucket.invocations, bucket.errors, bucket.throttles, bucket.cold_starts), (3, 1, 1, 1));
        assert_eq!(bucket.instances, 1);
        let p50 = bucket.duration_p50_ms.expect("p50");
        assert!((p50 - 3.0).abs() <= 0.15, "{p50}");
        assert_eq!(bucket.duration_p99_ms, Some(9.0), "clamped to the exact maximum");
        let empty = &history.buckets[58];
        assert_eq!((empty.invocations, empty.duration_p50_ms, empty.duration_p99_ms), (0, None, None));
    }

    #[test]
    fn one_invocation_reports_its_own_duration_and_the_json_is_the_consoles() {
        let mut ring = Ring::new();
        ring.record(T0, Event::Invocation { error: true, cold: true, duration_ms: 1.2 });
        let history = summarize(T0, [&ring]);
        let json = serde_json::to_value(&history).expect("json");
        assert_eq!(json["bucketSeconds"], 60);
        assert_eq!(
            json["buckets"][59],
            serde_json::json!({"startMs": T0, "invocations": 1, "errors": 1, "throttles": 0, "coldStarts": 1,
                               "durationP50Ms": 1.2, "durationP99Ms": 1.2, "instances": 0})
        );
        assert_eq!(json["buckets"][0]["durationP50Ms"], serde_json::Value::Null);
    }

    #[test]
    fn a_minute_older_than_the_hour_is_forgotten_and_its_slot_reused() {
        let mut ring = Ring::new();
        ring.record(T0, call(1.0));
        assert!(!ring.is_stale(T0 + 59 * 60_000));
        assert!(ring.is_stale(T0 + 60 * 60_000), "an hour later nothing of it is shown");
        let later = T0 + 60 * 60_000;
        ring.record(later, call(2.0));
        let history = summarize(later, [&ring]);
        assert_eq!(history.buckets.iter().map(|b| b.invocations).sum::<u64>(), 1, "the old minute's slot was reset");
        assert_eq!(history.buckets[59].duration_p50_ms, Some(2.0));
    }

    #[test]
    fn lines_sum_and_percentiles_merge_across_them() {
        let (mut a, mut b) = (Ring::new(), Ring::new());
        for _ in 0..99 {
            a.record(T0, call(10.0));
        }
        b.record(T0, call(1000.0));
        b.record(T0, call(1000.0));
        a.record(T0, Event::Instances(2));
        b.record(T0, Event::Instances(1));
        let bucket = summarize(T0, [&a, &b]).buckets[59].clone();
        assert_eq!((bucket.invocations, bucket.instances), (101, 3));
        let p50 = bucket.duration_p50_ms.expect("p50");
        assert!((p50 - 10.0).abs() <= 0.5, "{p50}");
        let p99 = bucket.duration_p99_ms.expect("p99");
        assert!((p99 - 1000.0).abs() <= 50.0, "{p99}");
    }

    #[test]
    fn any_duration_lands_in_a_bounded_bin() {
        assert_eq!(bin_of(0.0), 0);
        assert_eq!(bin_of(f64::MAX) as usize, BINS - 1);
        let mut d = Durations::default();
        for ms in [0.0, 0.5, 1e9, f64::NAN] {
            d.add(ms, 1);
        }
        assert!(d.bins.len() <= BINS && d.quantile(1.0).is_some());
    }
}
