//! Three processes writing the same ten call sites into one MongoDB database at once: one
//! ticket per fingerprint, and every count is the exact sum. The test binary re-runs itself as
//! the writers.

use std::process::Command;
use std::time::Duration;

use taskwire_tickets::store::{ListQuery, OccurrenceQuery, TicketReader};
use taskwire_tickets::MongoDb;
use tracing_subscriber::prelude::*;

const CHILD_ENV: &str = "TASKWIRE_TICKETS_THREE_PROCESSES_URI";
const EACH: usize = 20_000;
const PROCESSES: usize = 3;

fn shared_call_site(i: usize) {
    tracing::error!(fingerprint = i % 10, i, "shared failure {i}");
}

/// The writer process: not a test on its own (returns at once without the variable).
#[test]
fn child_writer() {
    let Ok(uri) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (layer, guard) = taskwire_tickets::layer(MongoDb::open(&uri).unwrap())
        .with_flush_interval(Duration::from_millis(10))
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..EACH {
            shared_call_site(i);
            if i % 2000 == 0 {
                // Interleave commits with the other processes'.
                guard.flush().unwrap();
            }
        }
    });
    guard.flush().unwrap();
}

#[test]
fn three_writers_one_ticket_per_fingerprint_exact_counts() {
    let uri = taskwire_test_support::services::fresh_mongodb_uri("threeprocs");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "child_writer", "--test-threads=1"])
                .env(CHILD_ENV, &uri)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let store = MongoDb::open(&uri).unwrap();
    let tickets = store.list(&ListQuery::default().with_limit(100)).unwrap();
    assert_eq!(tickets.len(), 10, "{tickets:#?}");
    for t in &tickets {
        assert_eq!(t.count, (PROCESSES * EACH / 10) as u64, "{}", t.fingerprint);
        let samples = store
            .occurrences(t.id, &OccurrenceQuery::newest().with_limit(100))
            .unwrap();
        assert!(samples.len() <= 21, "{}", samples.len());
        assert_eq!(samples.iter().filter(|o| o.first).count(), 1);
        let hosts: u64 = store
            .tags(t.id)
            .unwrap()
            .iter()
            .filter(|g| g.key == "host")
            .map(|g| g.count)
            .sum();
        assert_eq!(hosts, t.count, "tag counts are exact too");
    }
}
