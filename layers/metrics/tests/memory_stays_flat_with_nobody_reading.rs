//! 10 million spans (and events) with nobody reading the metrics: once every series and
//! window slot has seen its values, the layer allocates nothing that it keeps; and a span costs
//! one allocation (its start time in the registry's extensions, which tracing-subscriber
//! boxes), freed when it closes. Measured with a counting global allocator (this file is its own
//! test binary so no other test disturbs it).

use std::time::Duration;

use taskwire_metrics::ManualClock;
use taskwire_test_support::alloc::{count, live_bytes};
use taskwire_test_support::CountingAllocator;
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

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
                after_warmup = live_bytes();
            }
        }
    });
    let end = live_bytes();

    // Steady state, fixed labels: one allocation per span, the registry extension.
    let ((), counted) = tracing::dispatcher::with_default(&dispatch, || {
        count(|| {
            for i in 0..100_000_u64 {
                let _s = tracing::info_span!("query").entered();
                clock.advance(Duration::from_nanos(durations[i as usize % 64]));
            }
        })
    });
    let per_span = counted.allocs as f64 / 100_000.0;
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
