//! Two processes writing the same call site into one SQLite file at the same time: one ticket,
//! and its count is the exact sum. The test binary re-runs itself as the two writers.

mod support;

use std::process::Command;

use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

const CHILD_ENV: &str = "TASKWIRE_TICKETS_TWO_PROCESSES_DB";
const EACH: usize = 30_000;

fn shared_call_site(i: usize) {
    tracing::error!(i, "shared failure {i}");
}

/// The writer process: not a test on its own (returns at once without the variable).
#[test]
fn child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(&path).unwrap())
        .with_flush_interval(std::time::Duration::from_millis(5))
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..EACH {
            shared_call_site(i);
            if i % 1000 == 0 {
                // Interleave commits with the other process's.
                guard.flush().unwrap();
            }
        }
    });
    guard.flush().unwrap();
}

#[test]
fn two_writers_one_ticket_exact_count() {
    let dir = TempDir::new("two-procs");
    // Create the schema first, so both children only write.
    drop(Sqlite::open(dir.db()).unwrap());
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "child_writer", "--test-threads=1"])
                .env(CHILD_ENV, dir.db())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let t = tickets(&dir.db());
    assert_eq!(t.len(), 1, "{t:#?}");
    assert_eq!(t[0].count, 2 * EACH as u64);
}
