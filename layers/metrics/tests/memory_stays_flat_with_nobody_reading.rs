//! 10 million spans (and events) with nobody reading the metrics: once every series and
//! window slot has seen its values, the layer allocates nothing that it keeps; and a span costs
//! one allocation (its start time in the registry's extensions, which tracing-subscriber
//! boxes), freed when it closes. Measured with a counting global allocator (this file is its own
//! test binary so no other test disturbs it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use taskwire_metrics::ManualClock;
use tracing_subscriber::prelude::*;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// Allocations made by this thread.
    static ALLOCS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter only
// observes sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SPANS: u64 = 10_000_000;

#[test]
fn ten_million_spans_keep_memory_flat() {
    let clock = ManualClock::new();
    let layer = taskwire_metrics::layer()
        .with_clock(clock.clone())
        .with_label_fields(["user"])
        .with_busy_time(true)
        .with_max_label_sets(200);
    let metrics = layer.handle();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    // Durations over 7 octaves, a different mix in every window slot.
    let durations: Vec<u64> = (0..64).map(|i| 1_000 << (i % 7) | i).collect();
    let mut after_warmup = 0;
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..SPANS {
            let d = durations[(i as usize * 7 + (i / 1_000) as usize) % durations.len()];
            if i % 8 == 0 {
                // 1000 distinct users: 200 series, the rest overflow.
                let _s = tracing::info_span!("login", user = (i / 8) % 1_000).entered();
                clock.advance(Duration::from_nanos(d));
            } else {
                let _s = tracing::info_span!("query").entered();
                clock.advance(Duration::from_nanos(d));
            }
            if i % 64 == 0 {
                tracing::info!("tick");
            }
            if i % 50_000 == 0 {
                // Time moves on: rate ticks and window slots turn over many times.
                clock.advance(Duration::from_secs(5));
            }
            if i == SPANS / 10 {
                after_warmup = LIVE.load(Ordering::Relaxed);
            }
        }
    });
    let end = LIVE.load(Ordering::Relaxed);

    // Steady state, fixed labels: one allocation per span, the registry extension.
    let allocs = || ALLOCS.with(std::cell::Cell::get);
    let per_span = tracing::dispatcher::with_default(&dispatch, || {
        let before = allocs();
        for i in 0..100_000_u64 {
            let _s = tracing::info_span!("query").entered();
            clock.advance(Duration::from_nanos(durations[i as usize % 64]));
        }
        (allocs() - before) as f64 / 100_000.0
    });
    eprintln!("{per_span} allocations per span");
    assert!(per_span <= 1.001, "{per_span} allocations per span");
    let growth = end - after_warmup;
    eprintln!(
        "live heap after warm-up {after_warmup} B, after {SPANS} spans {end} B, growth {growth} B; \
         {} span label sets, {} B of histograms",
        metrics.span_label_sets(),
        metrics.histogram_bytes()
    );
    assert_eq!(metrics.span_label_sets(), 200);
    assert!(
        growth.abs() < 16 * 1024,
        "the live heap grew by {growth} bytes over 9M spans"
    );
    // And what was counted is all there.
    let s = metrics.snapshot();
    let total: u64 = s.tasks.iter().map(|t| t.count).sum();
    assert_eq!(total, SPANS + 100_000);
}
