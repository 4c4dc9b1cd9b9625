//! Counters split in stripes, so that threads recording into one series at once do not write
//! one cache line: each thread adds to the stripe of its own index, readers add the stripes up.
//!
//! With one shared counter, two threads closing spans of the same name passed the line back
//! and forth on every span, and two threads did less work than one
//! (`benches/request_threads.rs`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stripes per counter (a power of two): threads beyond it share stripes.
pub(crate) const STRIPES: usize = 4;

/// A value on cache lines of its own (two, for the adjacent-line prefetcher).
#[repr(align(128))]
#[derive(Debug, Default)]
pub(crate) struct Padded<T>(pub(crate) T);

/// This thread's stripe: threads take the stripes in turn as they first record.
#[inline]
pub(crate) fn index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.try_with(|s| *s).unwrap_or(0)
}

/// A `u64` counter in [`STRIPES`] stripes.
#[derive(Debug, Default)]
pub(crate) struct StripedU64([Padded<AtomicU64>; STRIPES]);

impl StripedU64 {
    /// Adds `n` in this thread's stripe.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.add_at(index(), n);
    }

    /// Adds `n` in stripe `stripe` (this thread's [`index`], read once for several counters).
    #[inline]
    pub(crate) fn add_at(&self, stripe: usize, n: u64) {
        self.0[stripe % STRIPES].0.fetch_add(n, Ordering::Relaxed);
    }

    /// The sum of the stripes; `order` applies to each load.
    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> u64 {
        self.0
            .iter()
            .fold(0u64, |sum, s| sum.wrapping_add(s.0.load(order)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_adding_at_once_are_all_counted() {
        let c = StripedU64::default();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        c.add(3);
                    }
                });
            }
        });
        assert_eq!(c.load(Ordering::Relaxed), 8 * 10_000 * 3);
    }

    #[test]
    fn a_thread_keeps_its_stripe_and_threads_spread_over_them() {
        let stripes: Vec<usize> = (0..4 * STRIPES)
            .map(|_| {
                std::thread::spawn(|| {
                    let first = index();
                    assert_eq!(index(), first, "a thread's stripe does not change");
                    first
                })
                .join()
                .unwrap_or(usize::MAX)
            })
            .collect();
        assert!(stripes.iter().all(|&s| s < STRIPES), "{stripes:?}");
        let mut distinct = stripes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(
            distinct.len() > 1,
            "every thread on one stripe: {stripes:?}"
        );
    }
}
