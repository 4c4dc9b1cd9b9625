//! In steady state the console layer renders and writes an event without a heap allocation:
//! span fields are captured once, and the line is built in reused per-thread buffers. The
//! workload is the JSON benchmark's (`benches/support/json_workload.rs`, also the console
//! benchmark's): an `info!` with a message and five fields inside two nested spans of three
//! fields each, written to a no-op writer, in both styles and in colour.

#[path = "../../../benches/support/json_workload.rs"]
mod json_workload;

use json_workload::{event, in_spans};
use taskwire_console::{ColorWhen, Style};
use taskwire_test_support::alloc::calls_after_warm_up;
use taskwire_test_support::{CountingAllocator, Discard};
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const EVENTS: usize = 1000;

/// Warms up, then counts the allocations of 1,000 events inside two nested spans.
fn allocations_of_events(style: Style) -> u64 {
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_core::span::capture())
        .with(
            taskwire_console::layer()
                .with_writer(Discard)
                .with_color(ColorWhen::Always)
                .with_style(style),
        );
    tracing::subscriber::with_default(subscriber, || {
        in_spans(|| calls_after_warm_up(EVENTS, event))
    })
}

#[test]
fn a_compact_console_event_in_steady_state_allocates_nothing() {
    let allocations = allocations_of_events(Style::Compact);
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations over {EVENTS} events"
    );
}

#[test]
fn a_pretty_console_event_in_steady_state_allocates_nothing() {
    let allocations = allocations_of_events(Style::Pretty);
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations over {EVENTS} events"
    );
}
