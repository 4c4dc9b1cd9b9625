//! In steady state the JSON layer renders and writes an event without a single heap
//! allocation: span fields are rendered when recorded, per-callsite decisions are cached, and the
//! line is built in a reused per-thread buffer.
//!
//! The workload is the benchmark's (`benches/json.rs`): an `info!` with a message and five
//! fields (an `i64`, an `f64`, a `bool`, a 20-character `&str` and a `Display` value via `%`)
//! inside two nested, entered spans of three fields each, written to a no-op `MakeWriter`.
//!
//! The same holds for the builder's stack with two JSON outputs: the event is rendered once
//! and the same bytes are written to both, through a reused per-thread tap.
//!
//! A counting global allocator sees every allocation of this test binary; only those made on
//! a test's own thread inside the counted region are counted (allocations and reallocations),
//! so the tests of this file do not see each other's allocations.

#[path = "../benches/support/json_workload.rs"]
mod json_workload;

use json_workload::{event, in_spans};
use taskwire_test_support::alloc::calls_after_warm_up;
use taskwire_test_support::{CountingAllocator, Discard};
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Warms up, then counts the allocations of 1,000 events inside two nested spans.
fn allocations_of_events() -> u64 {
    in_spans(|| calls_after_warm_up(EVENTS, event))
}

const EVENTS: usize = 1000;

#[test]
fn a_json_event_in_steady_state_allocates_nothing() {
    let subscriber =
        tracing_subscriber::registry().with(taskwire_json::layer().with_writer(Discard));
    let allocations = tracing::subscriber::with_default(subscriber, allocations_of_events);
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations over {EVENTS} events; expected none"
    );
}

#[test]
fn a_builder_event_to_two_outputs_allocates_nothing() {
    let (dispatch, _guard) = taskwire::builder()
        .json(Discard)
        .json(Discard)
        .build()
        .expect("build");
    let allocations = tracing::dispatcher::with_default(&dispatch, allocations_of_events);
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations over {EVENTS} events; expected none"
    );
}
