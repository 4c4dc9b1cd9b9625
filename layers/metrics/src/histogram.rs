//! [`Histogram`]: a log-linear histogram of `u64` values (nanoseconds, in this crate) with at
//! most 1/128 (0.79 %) relative error, lock-free recording, and memory allocated one octave at a
//! time, only for the octaves that are used.
//!
//! Values below 64 have a bucket each. From 64 on, every power of two (octave) is split into 64
//! equal buckets, so a bucket is never wider than 1/64 of its lower bound, and the midpoint
//! that stands for a value is within 1/128 of it. Values from 2<sup>46</sup> ns (19.5 hours) up
//! share the top bucket.
//!
//! ```
//! use taskwire_metrics::histogram::{Histogram, HistogramSnapshot};
//!
//! let h = Histogram::new();
//! for v in 1..=1000_u64 {
//!     h.record(v * 1_000); // 1 µs .. 1 ms, in nanoseconds
//! }
//! let mut s = HistogramSnapshot::new();
//! s.add(&h);
//! assert_eq!(s.count(), 1000);
//! let p99 = s.value_at_quantile(0.99);
//! assert!((p99 - 990_000.0).abs() / 990_000.0 <= 1.0 / 128.0);
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

#[cfg(doc)]
use crate::stripe;
use crate::stripe::STRIPES;

/// Buckets per octave, as a power of two.
const SUB_BITS: u32 = 6;
/// Buckets per octave (and per chunk).
const SUB: usize = 1 << SUB_BITS;
/// Values at or above `1 << MAX_BITS` are counted in the top bucket.
const MAX_BITS: u32 = 46;
/// Chunk 0 holds values 0..64 exactly; chunk `c >= 1` holds the octave `[2^(c+5), 2^(c+6))`.
pub(crate) const CHUNKS: usize = (MAX_BITS - SUB_BITS + 1) as usize;

/// The largest value with a bucket of its own octave; larger values are counted in the top
/// bucket (whose midpoint then understates them).
pub const MAX_TRACKABLE: u64 = (1 << MAX_BITS) - 1;

/// The largest relative error of a value read back from a bucket: 1/128.
pub const MAX_RELATIVE_ERROR: f64 = 1.0 / 128.0;

/// The chunk and bucket of `v`.
#[inline]
fn index(v: u64) -> (usize, usize) {
    if v < SUB as u64 {
        return (0, v as usize);
    }
    let v = v.min(MAX_TRACKABLE);
    let msb = 63 - v.leading_zeros(); // >= SUB_BITS
    let chunk = (msb - SUB_BITS + 1) as usize;
    let sub = ((v >> (msb - SUB_BITS)) as usize) & (SUB - 1);
    (chunk, sub)
}

/// The lowest value of bucket `sub` of chunk `chunk`, and the bucket's width.
#[inline]
fn bucket_bounds(chunk: usize, sub: usize) -> (u64, u64) {
    if chunk == 0 {
        (sub as u64, 1)
    } else {
        let shift = chunk as u32 - 1;
        (((SUB + sub) as u64) << shift, 1 << shift)
    }
}

/// The value that stands for bucket `sub` of chunk `chunk`: the middle of the integers it holds.
#[inline]
fn bucket_value(chunk: usize, sub: usize) -> f64 {
    let (low, width) = bucket_bounds(chunk, sub);
    low as f64 + (width - 1) as f64 / 2.0
}

struct Chunk([AtomicU64; SUB]);

impl Chunk {
    fn new() -> Box<Chunk> {
        Box::new(Chunk(std::array::from_fn(|_| AtomicU64::new(0))))
    }
}

/// A log-linear histogram with atomic counters: [`record`](Histogram::record) takes `&self`, never
/// locks, and allocates only the first time a value falls into an octave (512 bytes).
///
/// Read it through a [`HistogramSnapshot`], which can merge several histograms.
pub struct Histogram {
    chunks: [OnceLock<Box<Chunk>>; CHUNKS],
    /// Bit `c` is set once chunk `c` is allocated.
    mask: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("octaves", &self.mask.load(Ordering::Relaxed).count_ones())
            .finish_non_exhaustive()
    }
}

impl Histogram {
    /// An empty histogram; it allocates nothing until values are recorded.
    pub fn new() -> Self {
        Histogram {
            chunks: std::array::from_fn(|_| OnceLock::new()),
            mask: AtomicU64::new(0),
        }
    }

    /// Counts one `value`.
    #[inline]
    pub fn record(&self, value: u64) {
        self.record_n(value, 1);
    }

    /// Counts `value` `n` times.
    #[inline]
    pub fn record_n(&self, value: u64, n: u64) {
        let (c, s) = index(value);
        let chunk = match self.chunks[c].get() {
            Some(chunk) => chunk,
            None => self.allocate(c),
        };
        chunk.0[s].fetch_add(n, Ordering::Relaxed);
    }

    #[cold]
    fn allocate(&self, c: usize) -> &Chunk {
        let chunk = self.chunks[c].get_or_init(Chunk::new);
        self.mask.fetch_or(1 << c, Ordering::Release);
        chunk
    }

    /// Sets every counter to zero. Memory already allocated is kept for reuse.
    pub fn clear(&self) {
        let mut mask = self.mask.load(Ordering::Acquire);
        while mask != 0 {
            let c = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if let Some(chunk) = self.chunks[c].get() {
                for b in &chunk.0 {
                    b.store(0, Ordering::Relaxed);
                }
            }
        }
    }

    /// The bytes this histogram holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.mask.load(Ordering::Relaxed).count_ones() as usize * std::mem::size_of::<Chunk>()
    }
}

/// The histograms of a window's slots, stored octave by octave: an octave's buckets for every
/// slot are allocated together (`slots × 64` 32-bit counters) the first time a value falls into
/// it, so a window costs one table of octaves instead of one per slot. A slot's bucket counts
/// up to 2<sup>32</sup> - 1 values.
///
/// Each thread counts in its [stripe](crate::stripe) of the histogram, so that threads timing
/// spans of one name at once do not write one cache line; a stripe's octave is allocated when
/// a thread of that stripe first needs it (one stripe in a single-threaded process), and
/// readers add the stripes up.
pub(crate) struct SlottedHistogram {
    stripes: [Stripe; STRIPES],
    slots: usize,
}

/// One stripe's octaves.
struct Stripe {
    chunks: [OnceLock<Box<[AtomicU32]>>; CHUNKS],
    /// Bit `c` is set once chunk `c` is allocated.
    mask: AtomicU64,
}

impl SlottedHistogram {
    pub(crate) fn new(slots: usize) -> Self {
        SlottedHistogram {
            stripes: std::array::from_fn(|_| Stripe {
                chunks: std::array::from_fn(|_| OnceLock::new()),
                mask: AtomicU64::new(0),
            }),
            slots,
        }
    }

    /// Counts `value` in `slot`, in stripe `stripe` (this thread's [`stripe::index`]).
    #[inline]
    pub(crate) fn record(&self, stripe: usize, slot: usize, value: u64) {
        let (c, s) = index(value);
        let stripe = &self.stripes[stripe % STRIPES];
        let chunk = match stripe.chunks[c].get() {
            Some(chunk) => chunk,
            None => self.allocate(stripe, c),
        };
        if let Some(b) = chunk.get(slot * SUB + s) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[cold]
    fn allocate<'a>(&self, stripe: &'a Stripe, c: usize) -> &'a [AtomicU32] {
        let chunk = stripe.chunks[c]
            .get_or_init(|| (0..self.slots * SUB).map(|_| AtomicU32::new(0)).collect());
        stripe.mask.fetch_or(1 << c, Ordering::Release);
        chunk
    }

    /// The buckets of `slot` in each stripe's octaves that have some.
    fn slot_chunks(&self, slot: usize) -> impl Iterator<Item = (usize, &[AtomicU32])> {
        self.stripes.iter().flat_map(move |stripe| {
            let mask = stripe.mask.load(Ordering::Acquire);
            (0..CHUNKS)
                .filter(move |c| mask & (1 << c) != 0)
                .filter_map(move |c| {
                    let chunk = stripe.chunks[c].get()?;
                    Some((c, chunk.get(slot * SUB..(slot + 1) * SUB)?))
                })
        })
    }

    pub(crate) fn clear(&self, slot: usize) {
        for (_, buckets) in self.slot_chunks(slot) {
            for b in buckets {
                b.store(0, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn add_to(&self, slot: usize, snap: &mut HistogramSnapshot) {
        for (c, buckets) in self.slot_chunks(slot) {
            snap.add_chunk(
                c,
                buckets.iter().map(|b| u64::from(b.load(Ordering::Relaxed))),
            );
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let octaves: usize = self
            .stripes
            .iter()
            .map(|s| s.mask.load(Ordering::Relaxed).count_ones() as usize)
            .sum();
        octaves * self.slots * SUB * std::mem::size_of::<AtomicU32>()
    }
}

/// Plain (non-atomic) counts of one or more merged [`Histogram`]s, to query.
///
/// It holds one counter per possible bucket (21 KiB), so reuse one for many reads: [`clear`](Self::clear)
/// only touches the octaves that were used.
#[derive(Clone)]
pub struct HistogramSnapshot {
    counts: Box<[[u64; SUB]; CHUNKS]>,
    mask: u64,
    total: u64,
}

impl Default for HistogramSnapshot {
    fn default() -> Self {
        HistogramSnapshot::new()
    }
}

impl std::fmt::Debug for HistogramSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistogramSnapshot")
            .field("count", &self.total)
            .finish_non_exhaustive()
    }
}

impl HistogramSnapshot {
    /// An empty snapshot.
    pub fn new() -> Self {
        HistogramSnapshot {
            counts: Box::new([[0; SUB]; CHUNKS]),
            mask: 0,
            total: 0,
        }
    }

    /// Adds the current counts of `h`.
    pub fn add(&mut self, h: &Histogram) {
        let mut mask = h.mask.load(Ordering::Acquire);
        while mask != 0 {
            let c = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if let Some(chunk) = h.chunks[c].get() {
                self.add_chunk(c, chunk.0.iter().map(|b| b.load(Ordering::Relaxed)));
            }
        }
    }

    /// Adds the 64 bucket counts of chunk `c`.
    fn add_chunk(&mut self, c: usize, counts: impl Iterator<Item = u64>) {
        let mut sum = 0;
        for (d, v) in self.counts[c].iter_mut().zip(counts) {
            *d += v;
            sum += v;
        }
        if sum > 0 {
            self.mask |= 1 << c;
            self.total += sum;
        }
    }

    /// Adds the counts of another snapshot.
    pub fn merge(&mut self, other: &HistogramSnapshot) {
        let mut mask = other.mask;
        while mask != 0 {
            let c = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            for (d, s) in self.counts[c].iter_mut().zip(&other.counts[c]) {
                *d += s;
            }
        }
        self.mask |= other.mask;
        self.total += other.total;
    }

    /// Back to empty.
    pub fn clear(&mut self) {
        let mut mask = self.mask;
        while mask != 0 {
            let c = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            self.counts[c] = [0; SUB];
        }
        self.mask = 0;
        self.total = 0;
    }

    /// The number of values counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Non-empty buckets in ascending order, as (the value that stands for the bucket, count).
    pub fn iter(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        (0..CHUNKS)
            .filter(move |c| self.mask & (1 << c) != 0)
            .flat_map(move |c| {
                self.counts[c]
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(move |(s, n)| (bucket_value(c, s), *n))
            })
    }

    /// The value at quantile `q` (0.0 ..= 1.0) by the nearest-rank rule: the smallest value with
    /// at least `ceil(q * count)` values at or below it. Within 1/128 of the exact value; 0 when
    /// empty.
    pub fn value_at_quantile(&self, q: f64) -> f64 {
        let mut out = [0.0];
        self.values_at_quantiles(&[q], &mut out);
        out[0]
    }

    /// [`value_at_quantile`](Self::value_at_quantile) for each of `qs` (ascending) in one pass;
    /// `out` has the same length.
    pub fn values_at_quantiles(&self, qs: &[f64], out: &mut [f64]) {
        out.iter_mut().for_each(|o| *o = 0.0);
        if self.total == 0 {
            return;
        }
        let rank = |q: f64| -> u64 {
            let r = (q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64;
            r.clamp(1, self.total)
        };
        let mut i = 0;
        let mut seen = 0_u64;
        for (v, n) in self.iter() {
            seen += n;
            while i < qs.len() && rank(qs[i]) <= seen {
                out[i] = v;
                i += 1;
            }
            if i == qs.len() {
                return;
            }
        }
    }

    /// The mean and standard deviation (population) of the bucket values; `(0, 0)` when empty.
    pub fn mean_stddev(&self) -> (f64, f64) {
        if self.total == 0 {
            return (0.0, 0.0);
        }
        let n = self.total as f64;
        let mean = self.iter().map(|(v, c)| v * c as f64).sum::<f64>() / n;
        let var = self
            .iter()
            .map(|(v, c)| (v - mean) * (v - mean) * c as f64)
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_that_holds_it() {
        let mut v = 0_u64;
        while v < MAX_TRACKABLE {
            for x in [v, v + 1, v.saturating_mul(2).saturating_sub(1)] {
                let x = x.min(MAX_TRACKABLE);
                let (c, s) = index(x);
                let (low, width) = bucket_bounds(c, s);
                assert!(low <= x && x < low + width, "{x} not in [{low}, +{width})");
                let mid = bucket_value(c, s);
                assert!((mid - x as f64).abs() <= x as f64 * MAX_RELATIVE_ERROR);
            }
            v = if v == 0 { 1 } else { v * 3 / 2 + 1 };
        }
    }

    #[test]
    fn top_bucket_takes_huge_values() {
        let h = Histogram::new();
        h.record(u64::MAX);
        let mut s = HistogramSnapshot::new();
        s.add(&h);
        assert_eq!(s.count(), 1);
        assert!(s.value_at_quantile(1.0) > (MAX_TRACKABLE / 2) as f64);
    }

    #[test]
    fn small_values_are_exact() {
        let h = Histogram::new();
        for v in 0..128 {
            h.record(v);
        }
        let mut s = HistogramSnapshot::new();
        s.add(&h);
        assert_eq!(s.value_at_quantile(0.5), 63.0);
        assert_eq!(s.value_at_quantile(1.0), 127.0);
        assert_eq!(s.value_at_quantile(0.0), 0.0);
    }

    #[test]
    fn clear_and_merge() {
        let a = Histogram::new();
        let b = Histogram::new();
        a.record(10);
        b.record_n(1_000_000, 3);
        let mut s = HistogramSnapshot::new();
        s.add(&a);
        let mut t = HistogramSnapshot::new();
        t.add(&b);
        s.merge(&t);
        assert_eq!(s.count(), 4);
        a.clear();
        s.clear();
        s.add(&a);
        assert_eq!(s.count(), 0);
        assert_eq!(a.heap_bytes(), 512);
    }

    #[test]
    fn threads_recording_at_once_are_all_counted_across_stripes() {
        let h = SlottedHistogram::new(2);
        std::thread::scope(|s| {
            for t in 0..8_u64 {
                let h = &h;
                s.spawn(move || {
                    for v in 0..1_000_u64 {
                        h.record(crate::stripe::index(), 1, 1_000 + v * (t + 1));
                    }
                });
            }
        });
        let mut s = HistogramSnapshot::new();
        h.add_to(1, &mut s);
        assert_eq!(s.count(), 8_000);
        h.add_to(0, &mut s);
        assert_eq!(s.count(), 8_000, "slot 0 holds nothing");
        h.clear(1);
        s.clear();
        h.add_to(1, &mut s);
        assert_eq!(s.count(), 0, "cleared in every stripe");
    }

    #[test]
    fn slots_are_separate() {
        let h = SlottedHistogram::new(3);
        h.record(0, 0, 5);
        h.record(0, 2, 5);
        h.record(0, 2, 1 << 20);
        let mut s = HistogramSnapshot::new();
        h.add_to(2, &mut s);
        assert_eq!(s.count(), 2);
        h.clear(2);
        s.clear();
        h.add_to(2, &mut s);
        h.add_to(1, &mut s);
        assert_eq!(s.count(), 0);
        h.add_to(0, &mut s);
        assert_eq!(s.count(), 1);
        assert_eq!(h.heap_bytes(), 2 * 3 * 64 * 4, "one thread: one stripe");
    }
}
