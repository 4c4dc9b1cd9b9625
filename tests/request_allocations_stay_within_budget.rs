//! The whole stack (tasks, metrics, tickets into SQLite, json) allocates about one block per
//! span on the request workload of `benches/request.rs`: the span's extension box holding its
//! `SpanData`. Span field values live in one text buffer per span, and the buffers of closed
//! spans are reused by the next ones; the metrics layer's timing lives in `SpanData`; JSON lines
//! are rendered into reused per-thread buffers. What is left besides the four extension boxes
//! comes with the failing request (1 in 10): the task's failure reason, and the tickets
//! layer's note of the error in the enclosing spans.
//!
//! The tickets writer runs once an hour here, so that no sample is built during the counted
//! requests: a sample (built at most a few times per group and writer period, 100 ms by
//! default) allocates its strings and its queue slot, and how many fall in a counted region
//! depends on the machine's speed. The `metrics` facade has no recorder here.
//!
//! A counting global allocator counts the allocations (and reallocations) made on the test's
//! own thread inside the counted region, so the two tests of this file do not see each other.
#![cfg(all(feature = "tickets", feature = "metrics"))]

#[path = "../benches/support/request_workload.rs"]
mod request_workload;

use std::time::Duration;

use request_workload::{request, taskwire_by_hand};
use taskwire_test_support::alloc::count;
use taskwire_test_support::{CountingAllocator, Discard, TempDir};
use tracing::Dispatch;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const REQUESTS: u64 = 1_000;

/// Allocations per 1,000 requests the stack may make: measured 4,450 to 4,460 (4 extension
/// boxes per request, 0.4 per request from the failing ones, a few histogram slots), plus a
/// small margin.
const BUDGET: u64 = 4_600;

/// Warms up (buffers grow to size, call sites are resolved, the tickets groups exist), then
/// counts the allocations of [`REQUESTS`] requests.
fn allocations_of_requests(dispatch: &Dispatch) -> u64 {
    tracing::dispatcher::with_default(dispatch, || {
        let mut n = 1;
        for _ in 0..200 {
            request(n);
            n += 1;
        }
        let ((), counted) = count(|| {
            for _ in 0..REQUESTS {
                request(n);
                n += 1;
            }
        });
        counted.total()
    })
}

#[test]
fn a_request_through_the_stack_by_hand_stays_within_the_allocation_budget() {
    let dir = TempDir::new("request-allocations-hand");
    let store = taskwire_tickets::Sqlite::open(dir.join("tickets.db")).expect("store");
    let (tickets, _guard) = taskwire_tickets::layer(store)
        .with_service("bench")
        .with_flush_interval(Duration::from_secs(3600))
        .build();
    let dispatch = taskwire_by_hand(tickets, Discard);
    let allocations = allocations_of_requests(&dispatch);
    assert!(
        allocations <= BUDGET,
        "{allocations} heap allocations over {REQUESTS} requests; the budget is {BUDGET}"
    );
}

#[test]
fn a_request_through_the_builder_stays_within_the_allocation_budget() {
    let dir = TempDir::new("request-allocations-builder");
    let (dispatch, _guard) = taskwire::builder()
        .service("bench")
        .tasks(taskwire_tasks::layer())
        .metrics(taskwire_metrics::layer())
        .tickets_layer(
            taskwire_tickets::layer(
                taskwire_tickets::Sqlite::open(dir.join("tickets.db")).expect("store"),
            )
            .with_flush_interval(Duration::from_secs(3600)),
        )
        .json(Discard)
        .log_bridge(false)
        .build()
        .expect("build");
    let allocations = allocations_of_requests(&dispatch);
    assert!(
        allocations <= BUDGET,
        "{allocations} heap allocations over {REQUESTS} requests; the budget is {BUDGET}"
    );
}
