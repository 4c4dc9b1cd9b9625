//! After `install()` the tickets writer belongs to the process, and the process's exit (`main`
//! returning) is its shutdown: the final flush is retried until the shutdown timeout and what
//! the store still refuses is spooled beside the database, for the next process to replay. A
//! real program (`examples/install_then_exit.rs`) runs while this test holds SQLite's write
//! lock, and exits; a second run, without the lock, replays the spool.

#![cfg(feature = "tickets")]

mod support;

use taskwire_test_support::TempDir;

use std::process::Command;
use std::time::{Duration, Instant};

use taskwire::tickets::store::ListQuery;
use taskwire::tickets::TicketReader;

/// The tickets layer's default shutdown timeout.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

fn run(file: &std::path::Path, mode: &str) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let out = Command::new(support::example_binary("install_then_exit"))
        .arg(file)
        .arg(mode)
        .arg("10")
        .env_remove("RUST_LOG")
        .output()
        .expect("the example starts");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{mode}: {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (out, took)
}

fn spool_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("the folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("spool") && !n.ends_with(".tmp"))
        .collect()
}

#[test]
fn a_locked_store_at_exit_is_spooled_and_replayed_by_the_next_process() {
    let dir = TempDir::new("installed-tickets-spool");
    let file = dir.path().join("program.jsonl");
    let db = dir.path().join("program.jsonl.tickets.db");
    drop(taskwire::tickets::Sqlite::open(&db).expect("a fresh tickets database"));

    // Another connection holds the write lock for the whole first run.
    let lock = rusqlite::Connection::open(&db).expect("a second connection");
    lock.execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let (first, took) = run(&file, "let_underscore");
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        took < SHUTDOWN_TIMEOUT + Duration::from_secs(5),
        "the exit took {took:?} (stderr: {stderr})"
    );
    let spooled = spool_files(dir.path());
    assert_eq!(
        spooled.len(),
        1,
        "one spool file (stderr: {stderr}): {spooled:?}"
    );
    lock.execute_batch("ROLLBACK").expect("release the lock");
    drop(lock);

    // The next process's writer replays the spool once, and adds its own occurrence.
    let (second, _) = run(&file, "let_guard");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        spool_files(dir.path()).is_empty(),
        "the spool was replayed (stderr: {stderr})"
    );
    let store = taskwire::tickets::Sqlite::open(&db).expect("the tickets database");
    let tickets = store.list(&ListQuery::default()).expect("list");
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(
        tickets[0].count, 2,
        "one occurrence per run, none lost or doubled"
    );
}
