//! A process killed with SIGKILL in the middle of a burst of errors leaves a database that
//! passes `PRAGMA integrity_check` and holds at least everything it had flushed.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::{TempDir, TicketsDb};
use taskwire_tickets::store::{ListQuery, TicketReader};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

const CHILD_ENV: &str = "TASKWIRE_TICKETS_KILL9_DB";

/// The victim: bursts errors forever, printing the count after each successful flush.
#[test]
fn child_bursts_until_killed() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(&path).unwrap())
        .with_flush_interval(std::time::Duration::from_millis(2))
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let mut total: u64 = 0;
        loop {
            for i in 0..2000u64 {
                tracing::error!(i, blob = %"b".repeat(300), "burst item {i}");
                if i % 3 == 0 {
                    tracing::warn!(fingerprint = i % 50, "side failure {i}");
                    total += 1;
                }
                total += 1;
            }
            guard.flush().unwrap();
            println!("flushed {total}");
        }
    });
}

#[test]
fn killed_writer_leaves_flushed_counts_intact() {
    let dir = TempDir::new("kill9");
    drop(Sqlite::open(dir.db()).unwrap());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_bursts_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.db())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut flushed = 0u64;
    let mut seen = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("flushed ") {
            flushed = n.trim().parse().unwrap();
            seen += 1;
            if seen == 5 {
                break;
            }
        }
    }
    assert_eq!(seen, 5, "the child stopped early");
    // SIGKILL, mid-burst: the child goes on emitting and committing after each line.
    child.kill().unwrap();
    child.wait().unwrap();

    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let store = Sqlite::open(dir.db()).unwrap();
    let total: u64 = store
        .list(&ListQuery::default().with_limit(1000))
        .unwrap()
        .iter()
        .map(|t| t.count)
        .sum();
    assert!(total >= flushed, "stored {total} < flushed {flushed}");
}
