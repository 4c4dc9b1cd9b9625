//! Once a recent-tasks ring has gone round, keeping a task in it allocates nothing: a task's
//! lifecycle makes the same heap calls with the ring as without one.

use taskwire_test_support::alloc::{assert_installed, calls_after_warm_up};
use taskwire_test_support::CountingAllocator;
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn lifecycle_calls(layer: taskwire_tasks::TasksLayer) -> u64 {
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        calls_after_warm_up(200, || {
            let _root = tracing::info_span!("request", route = "/orders", status = 200).entered();
            let _child = tracing::info_span!("query").entered();
        })
    })
}

#[test]
fn a_warm_ring_adds_no_heap_calls_to_a_task() {
    assert_installed();
    let without = lifecycle_calls(taskwire_tasks::layer());
    let recent = taskwire_tasks::RecentTasks::new(4);
    let with = lifecycle_calls(taskwire_tasks::layer().with_recent(recent.clone()));
    assert_eq!(recent.len(), 4);
    assert_eq!(
        with, without,
        "heap calls for 200 lifecycles: with a ring {with}, without {without}"
    );
}
