//! How long an idle instance of one pool is kept: learned from the pool's idle gaps, bounded by
//! `--idle-timeout`.
//!
//! This is the hybrid histogram policy of "Serverless in the Wild" (Shahrad et al., ATC'20), per pool:
//! every time a request arrives at a pool with nothing in flight, the gap since the pool went idle goes
//! into a histogram of [`BINS`] bins spanning the bound. Once it holds [`MIN_SAMPLES`] gaps, the keep-alive
//! is the upper edge of the bin holding the 99th percentile, plus a 10% margin: an instance is kept as long
//! as the next call is likely, and a function called every few seconds no longer holds memory for the
//! whole bound. When the histogram cannot tell (too few gaps, or most gaps longer than the bound, where the
//! paper falls back to a time-series forecast), the bound itself is the keep-alive. Counts halve when the
//! histogram is full ([`AGE_AT`] gaps), so the policy follows a function whose pattern changes.
//!
//! The paper's other half, unloading an instance after each call and pre-warming it just before the 5th
//! percentile of the gaps, is not done: on one machine a kept instance costs only memory, which the budget
//! already reclaims under pressure (LRU eviction), while a pre-warm that guesses early costs a start. A
//! periodic caller whose period is under the bound (a timer every minute) keeps its instance warm, since its
//! gaps all fall in one bin.

use std::time::Duration;

/// Bins of the histogram over `[0, bound)`.
pub(crate) const BINS: usize = 60;
/// Gaps needed before the histogram is trusted.
pub(crate) const MIN_SAMPLES: u32 = 8;
/// Counts halve when this many gaps were seen.
const AGE_AT: u32 = 1024;
/// More gaps than this share beyond the bound: the histogram does not describe the function.
const OUT_OF_RANGE_SHARE: f64 = 0.5;

#[derive(Debug, Clone)]
pub(crate) struct KeepAlive {
    bound: Duration,
    bins: [u32; BINS],
    out_of_range: u32,
}

impl KeepAlive {
    pub fn new(bound: Duration) -> KeepAlive {
        KeepAlive { bound: bound.max(Duration::from_millis(1)), bins: [0; BINS], out_of_range: 0 }
    }

    fn bin_width(&self) -> Duration {
        self.bound / BINS as u32
    }

    fn total(&self) -> u32 {
        self.bins.iter().sum::<u32>() + self.out_of_range
    }

    /// The pool was idle this long before a request arrived.
    pub fn record_gap(&mut self, gap: Duration) {
        if gap >= self.bound {
            self.out_of_range += 1;
        } else {
            let bin = (gap.as_nanos() / self.bin_width().as_nanos().max(1)) as usize;
            self.bins[bin.min(BINS - 1)] += 1;
        }
        if self.total() >= AGE_AT {
            self.bins.iter_mut().for_each(|c| *c /= 2);
            self.out_of_range /= 2;
        }
    }

    /// How long an idle instance of this pool is kept now.
    pub fn keep_alive(&self) -> Duration {
        let total = self.total();
        if total < MIN_SAMPLES || f64::from(self.out_of_range) > f64::from(total) * OUT_OF_RANGE_SHARE {
            return self.bound;
        }
        // The 99th percentile over all gaps, those beyond the bound included.
        let wanted = (f64::from(total) * 0.99).ceil() as u32;
        let mut seen = 0;
        for (i, count) in self.bins.iter().enumerate() {
            seen += count;
            if seen >= wanted {
                let edge = self.bin_width() * (i as u32 + 1);
                return edge.mul_f64(1.1).min(self.bound);
            }
        }
        self.bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn too_few_gaps_keep_the_bound() {
        let mut k = KeepAlive::new(300 * SEC);
        for _ in 0..MIN_SAMPLES - 1 {
            k.record_gap(SEC);
        }
        assert_eq!(k.keep_alive(), 300 * SEC);
    }

    #[test]
    fn frequent_calls_keep_an_instance_just_past_their_gaps() {
        let mut k = KeepAlive::new(300 * SEC);
        for _ in 0..50 {
            k.record_gap(12 * SEC);
        }
        // 12 s falls in the bin [10 s, 15 s): keep 15 s plus 10%.
        assert_eq!(k.keep_alive(), Duration::from_millis(16_500));
    }

    #[test]
    fn the_tail_decides_not_the_mean() {
        let mut k = KeepAlive::new(300 * SEC);
        for _ in 0..97 {
            k.record_gap(SEC);
        }
        for _ in 0..3 {
            k.record_gap(100 * SEC);
        }
        // 3% of the gaps are 100 s: the 99th percentile is there.
        assert_eq!(k.keep_alive(), Duration::from_millis(115_500));
    }

    #[test]
    fn gaps_beyond_the_bound_fall_back_to_the_bound() {
        let mut k = KeepAlive::new(60 * SEC);
        for _ in 0..20 {
            k.record_gap(600 * SEC);
        }
        for _ in 0..5 {
            k.record_gap(SEC);
        }
        assert_eq!(k.keep_alive(), 60 * SEC);
    }

    #[test]
    fn old_gaps_fade_so_a_changed_pattern_takes_over() {
        let mut k = KeepAlive::new(300 * SEC);
        for _ in 0..1000 {
            k.record_gap(200 * SEC);
        }
        assert_eq!(k.keep_alive(), Duration::from_millis(225_500).min(300 * SEC));
        for _ in 0..6000 {
            k.record_gap(SEC);
        }
        assert_eq!(k.keep_alive(), Duration::from_millis(5_500));
    }
}
