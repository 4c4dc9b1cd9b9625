//! Eight threads hitting one call site that has never been seen, at once: one ticket, and its
//! count is exactly the number of events (Logbook loses some here).

mod support;

use std::sync::{Arc, Barrier};

use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

fn new_site(t: usize, i: usize) {
    tracing::error!(t, i, "worker {t} failed on item {i}");
}

#[test]
fn eight_threads_one_ticket_exact_count() {
    const THREADS: usize = 8;
    const EACH: usize = 20_000;
    let dir = TempDir::new("race");
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap()).build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let dispatch = dispatch.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    barrier.wait();
                    for i in 0..EACH {
                        new_site(t, i);
                    }
                });
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    guard.flush().unwrap();
    let all = tickets(&dir.db());
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].count, (THREADS * EACH) as u64);
    assert_eq!(guard.stats().events_stored(), (THREADS * EACH) as u64);
}
