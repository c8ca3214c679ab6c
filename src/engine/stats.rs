//! Counters and latency histograms. Each worker writes only its own `WorkerStats`: a single writer, so
//! recording is a plain load and store (no locked instruction, no shared cache line on the hot path);
//! `stats()` merges them when asked, and may read a value one update behind.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Sub-buckets per power of two: 8 gives every bucket a width of at most 12.5% of its value.
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Buckets cover 0 ns up to 2^64 ns.
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB;

/// A log-linear histogram of durations in nanoseconds, written by one thread, read by any.
pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }
}

/// Adds to a counter that only the calling thread writes.
pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(by), Relaxed);
}

fn bucket_of(ns: u64) -> usize {
    if ns < SUB as u64 {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros(); // >= SUB_BITS
    let shift = exp - SUB_BITS;
    let sub = ((ns >> shift) as usize) & (SUB - 1);
    ((shift + 1) as usize) * SUB + sub
}

/// The lowest value that falls into bucket `b`.
fn bucket_floor(b: usize) -> u64 {
    if b < SUB {
        return b as u64;
    }
    let shift = (b / SUB - 1) as u32;
    ((SUB + b % SUB) as u64) << shift
}

impl Histogram {
    /// Records one duration. Only the histogram's owning thread may call it (see the module docs).
    pub(crate) fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        bump(&self.buckets[bucket_of(ns)], 1);
        bump(&self.count, 1);
        bump(&self.sum, ns);
        if ns < self.min.load(Relaxed) {
            self.min.store(ns, Relaxed);
        }
        if ns > self.max.load(Relaxed) {
            self.max.store(ns, Relaxed);
        }
    }

    /// Adds `other`'s counts into this one.
    pub(crate) fn absorb(&self, other: &Histogram) {
        for (mine, theirs) in self.buckets.iter().zip(other.buckets.iter()) {
            mine.fetch_add(theirs.load(Relaxed), Relaxed);
        }
        self.count.fetch_add(other.count.load(Relaxed), Relaxed);
        self.sum.fetch_add(other.sum.load(Relaxed), Relaxed);
        self.min.fetch_min(other.min.load(Relaxed), Relaxed);
        self.max.fetch_max(other.max.load(Relaxed), Relaxed);
    }

    pub(crate) fn summary(&self) -> LatencySummary {
        let count = self.count.load(Relaxed);
        if count == 0 {
            return LatencySummary::default();
        }
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let min = self.min.load(Relaxed);
        let max = self.max.load(Relaxed);
        let percentile = |p: f64| {
            let rank = ((p / 100.0) * count as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (b, &c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return bucket_floor(b).clamp(min, max);
                }
            }
            max
        };
        LatencySummary {
            count,
            min_ns: min,
            max_ns: max,
            mean_ns: self.sum.load(Relaxed) as f64 / count as f64,
            p50_ns: percentile(50.0),
            p90_ns: percentile(90.0),
            p99_ns: percentile(99.0),
        }
    }
}

/// A histogram's summary, in nanoseconds. Percentiles are a bucket's lower bound: within 12.5% below
/// the true value, and never outside `[min, max]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub min_ns: u64,
    pub max_ns: u64,
    pub mean_ns: f64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
}

/// What one worker (or the retired workers together) recorded.
#[derive(Default)]
pub(crate) struct WorkerStats {
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) timed_out: AtomicU64,
    pub(crate) busy_ns: AtomicU64,
    pub(crate) run_time: Histogram,
    pub(crate) wait_time: Histogram,
}

impl WorkerStats {
    pub(crate) fn absorb(&self, other: &WorkerStats) {
        for (mine, theirs) in [
            (&self.completed, &other.completed),
            (&self.failed, &other.failed),
            (&self.cancelled, &other.cancelled),
            (&self.timed_out, &other.timed_out),
            (&self.busy_ns, &other.busy_ns),
        ] {
            mine.fetch_add(theirs.load(Relaxed), Relaxed);
        }
        self.run_time.absorb(&other.run_time);
        self.wait_time.absorb(&other.wait_time);
    }
}

/// A snapshot of a pool's counters (see `ThreadPool::stats`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolStats {
    /// Worker threads alive.
    pub threads: usize,
    /// Of those, waiting for work.
    pub idle: usize,
    /// Script consumers (JS-task Workers) attached.
    pub script_workers: usize,
    /// Jobs running now, on threads and script consumers.
    pub running: usize,
    /// Jobs accepted and not started (withdrawn ones excluded).
    pub queued: usize,
    /// Jobs that finished with a result.
    pub completed: u64,
    /// Jobs that finished with an error or a panic.
    pub failed: u64,
    /// Jobs aborted, destroyed or orphaned, queued or running.
    pub cancelled: u64,
    /// Jobs stopped by their timeout.
    pub timed_out: u64,
    /// Time from start to finish of every job that ran.
    pub run_time: LatencySummary,
    /// Time from being queued to starting, of every job that ran.
    pub wait_time: LatencySummary,
    /// Busy time of all threads and script consumers over their lifetime so far, from 0 to 1.
    pub utilization: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_floors_round_trip() {
        let mut last = 0;
        for ns in [0u64, 1, 7, 8, 9, 15, 16, 17, 100, 1_000, 123_456, 1 << 40, u64::MAX] {
            let b = bucket_of(ns);
            assert!(b >= last, "bucket of {ns} went down");
            assert!(bucket_floor(b) <= ns);
            assert!(b + 1 >= BUCKETS || bucket_floor(b + 1) > ns, "{ns} is past its bucket");
            last = b;
        }
    }

    #[test]
    fn percentiles_match_a_sorted_reference_within_a_bucket() {
        let h = Histogram::default();
        let values: Vec<u64> = (1..=1000).map(|i| i * 997 % 100_003).collect();
        for &v in &values {
            h.record(Duration::from_nanos(v));
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert_eq!(s.min_ns, sorted[0]);
        assert_eq!(s.max_ns, sorted[999]);
        for (p, got) in [(50, s.p50_ns), (90, s.p90_ns), (99, s.p99_ns)] {
            let want = sorted[p * 10 - 1];
            assert!(got <= want && got as f64 >= want as f64 * 0.875, "p{p}: {got} vs {want}");
        }
        let mean = values.iter().sum::<u64>() as f64 / 1000.0;
        assert!((s.mean_ns - mean).abs() < 1e-6);
    }
}
