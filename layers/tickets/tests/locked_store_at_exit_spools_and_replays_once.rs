//! A process that exits while another connection holds SQLite's write lock loses no count: its
//! final flush retries until the shutdown timeout, the process exits soon after, what is left
//! is spooled beside the database, and the next writer on the database replays it exactly once,
//! even when that replay is cut short by `kill -9` or a spool file is replayed twice.

#[path = "support/child.rs"]
mod child;
mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use child::{child, expect, wait_exit};
use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

const CHILD_DB: &str = "TASKWIRE_TICKETS_SPOOL_DB";
const CHILD_EVENTS: &str = "TASKWIRE_TICKETS_SPOOL_EVENTS";
const CHILD_SITES: &str = "TASKWIRE_TICKETS_SPOOL_SITES";
const CHILD_TIMEOUT_MS: &str = "TASKWIRE_TICKETS_SPOOL_TIMEOUT_MS";
const CHILD_LAYERS: &str = "TASKWIRE_TICKETS_SPOOL_LAYERS";
const REPLAY_DB: &str = "TASKWIRE_TICKETS_REPLAY_DB";

/// The process that exits under the lock: opens the store with one or more layers (each its
/// own writer, so each spools its own file), says `ready`, waits for a line on stdin, counts
/// its errors in each, drops the guards and reports the longest drop and what was spooled.
#[test]
fn child_counts_then_exits() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let var = |k: &str| -> u64 { std::env::var(k).unwrap().parse().unwrap() };
    let (events, sites, timeout) = (var(CHILD_EVENTS), var(CHILD_SITES), var(CHILD_TIMEOUT_MS));
    let mut writers = Vec::new();
    for _ in 0..var(CHILD_LAYERS) {
        let (layer, guard) = taskwire_tickets::layer(Sqlite::open(&path).unwrap())
            .with_max_groups(100_000)
            .with_shutdown_timeout(Duration::from_millis(timeout))
            .build();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        writers.push((guard, dispatch));
    }
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let (mut longest, mut spooled) = (Duration::ZERO, 0);
    for (guard, dispatch) in writers {
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..events {
                tracing::error!(fingerprint = i % sites, i, "failure {i}");
            }
        });
        let stats = guard.stats();
        let t = Instant::now();
        drop(guard);
        longest = longest.max(t.elapsed());
        spooled += stats.events_spooled();
    }
    println!("dropped_ms {}", longest.as_millis());
    println!("spooled {spooled}");
}

/// The next process: installs a layer on the store (which replays the spool) and flushes.
#[test]
fn child_replays() {
    let Ok(path) = std::env::var(REPLAY_DB) else {
        return;
    };
    let store = Sqlite::open(&path).unwrap();
    println!("start");
    let (layer, guard) = taskwire_tickets::layer(store).build();
    let _subscriber = tracing_subscriber::registry().with(layer);
    guard.flush().unwrap();
    println!("done {}", guard.stats().events_replayed());
}

/// Waits for `child` to exit, at most `limit`; returns how long it took.
fn spool_files(db: &Path) -> Vec<PathBuf> {
    let dir = db.parent().expect("a file path has a parent folder");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the file can be read")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("tickets.db-taskwire_spool-"))
                .is_some_and(|id| id.len() == 16)
        })
        .collect();
    files.sort();
    files
}

/// Every count in the database, read without the write lock (another connection may hold it).
fn total(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).expect("the database opens");
    conn.query_row(
        "SELECT COALESCE(SUM(count), 0) FROM taskwire_tickets",
        [],
        |r| r.get::<_, i64>(0),
    )
    .expect("the SQL runs")
    .unsigned_abs()
}

/// Runs the counting child with `layers` writers, takes the write lock once they are open, and
/// lets the child count and exit; checks that it spooled every count and exits, and returns
/// the longest guard drop and the held lock.
fn exit_under_lock(
    db: &Path,
    layers: u64,
    events: u64,
    sites: u64,
    timeout: Duration,
) -> (Duration, Lock) {
    let (mut c, mut out) = child(
        "child_counts_then_exits",
        &[
            (CHILD_DB, db.display().to_string()),
            (CHILD_LAYERS, layers.to_string()),
            (CHILD_EVENTS, events.to_string()),
            (CHILD_SITES, sites.to_string()),
            (CHILD_TIMEOUT_MS, timeout.as_millis().to_string()),
        ],
    );
    expect(&mut out, "ready");
    let lock = Lock::take(db);
    writeln!(c.stdin.as_mut().expect("the child's stdin is piped"), "go")
        .expect("the child reads its standard input");
    let dropped: u64 = expect(&mut out, "dropped_ms").parse().expect("a number");
    let spooled: u64 = expect(&mut out, "spooled").parse().expect("a number");
    wait_exit(&mut c, Duration::from_secs(60));
    assert_eq!(spooled, events * layers, "every count is spooled");
    (Duration::from_millis(dropped), lock)
}

/// Holds SQLite's write lock on `db` (WAL: readers go on) until dropped.
struct Lock(rusqlite::Connection);

impl Lock {
    fn take(db: &Path) -> Lock {
        let c = rusqlite::Connection::open(db).expect("the database opens");
        c.execute_batch("BEGIN IMMEDIATE").expect("the SQL runs");
        Lock(c)
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

#[test]
fn a_lock_held_past_the_timeout_spools_and_the_next_writer_replays_exactly() {
    let dir = TempDir::new("spool-lock");
    drop(Sqlite::open(dir.db()).unwrap());
    let timeout = Duration::from_secs(1);
    let (dropped, lock) = exit_under_lock(&dir.db(), 1, 150_000, 10, timeout);
    // The timeout, plus one attempt that started just before it (SQLite's busy timeout: 1 s),
    // plus writing the spool.
    assert!(
        dropped >= timeout && dropped < timeout + Duration::from_secs(2),
        "the final flush took {dropped:?} with a {timeout:?} timeout"
    );
    assert_eq!(
        spool_files(&dir.db()).len(),
        1,
        "one spool file beside the database"
    );
    assert_eq!(total(&dir.db()), 0, "nothing got past the lock");
    drop(lock);

    // The next writer on the database replays the spool as it starts.
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap()).build();
    let _subscriber = tracing_subscriber::registry().with(layer);
    guard.flush().unwrap();
    assert_eq!(guard.stats().events_replayed(), 150_000);
    let t = tickets(&dir.db());
    assert_eq!(t.len(), 10);
    assert!(t.iter().all(|t| t.count == 15_000), "{t:?}");
    assert!(
        spool_files(&dir.db()).is_empty(),
        "the replayed file is removed"
    );

    // Another writer finds nothing left to replay.
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap()).build();
    let _subscriber = tracing_subscriber::registry().with(layer);
    guard.flush().unwrap();
    assert_eq!(guard.stats().events_replayed(), 0);
    assert_eq!(total(&dir.db()), 150_000);
}

#[test]
fn a_spool_file_replayed_twice_counts_once() {
    let dir = TempDir::new("spool-twice");
    drop(Sqlite::open(dir.db()).unwrap());
    let (_, lock) = exit_under_lock(&dir.db(), 1, 1_000, 7, Duration::from_millis(100));
    drop(lock);
    let files = spool_files(&dir.db());
    assert_eq!(files.len(), 1);
    let copy = std::fs::read(&files[0]).unwrap();

    let replay = || {
        let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap()).build();
        let _subscriber = tracing_subscriber::registry().with(layer);
        guard.flush().unwrap();
        guard.stats().events_replayed()
    };
    assert_eq!(replay(), 1_000);
    assert_eq!(total(&dir.db()), 1_000);
    // As if the process had died after committing the replay and before removing the file.
    std::fs::write(&files[0], &copy).unwrap();
    assert_eq!(replay(), 0, "the batch's key is recorded with its counts");
    assert_eq!(total(&dir.db()), 1_000);
    assert!(spool_files(&dir.db()).is_empty());
}

#[test]
fn a_replay_cut_short_by_kill_9_counts_once() {
    let dir = TempDir::new("spool-kill9");
    drop(Sqlite::open(dir.db()).unwrap());
    // Several spool files of many tickets each, so a replay takes a while.
    let (files, sites, per_file) = (4, 2_000, 6_000);
    let (_, lock) = exit_under_lock(
        &dir.db(),
        files,
        per_file,
        sites,
        Duration::from_millis(100),
    );
    drop(lock);
    assert_eq!(spool_files(&dir.db()).len(), files as usize);
    let expected = files * per_file;

    // Replays killed after a growing delay, until one gets to the end.
    let mut cut_mid_replay = 0;
    let mut delay = Duration::ZERO;
    loop {
        let (mut c, mut out) = child(
            "child_replays",
            &[(REPLAY_DB, dir.db().display().to_string())],
        );
        expect(&mut out, "start");
        std::thread::sleep(delay);
        let finished = c.try_wait().unwrap().is_some();
        let _ = c.kill();
        let _ = c.wait();
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let stored = total(&dir.db());
        assert!(stored <= expected, "{stored} > {expected}: counted twice");
        if finished {
            break;
        }
        if stored > 0 && !spool_files(&dir.db()).is_empty() {
            cut_mid_replay += 1;
        }
        delay += Duration::from_millis(3);
        assert!(delay < Duration::from_secs(60), "the replay never finished");
    }
    eprintln!("replays killed between two spool files: {cut_mid_replay}, last delay {delay:?}");
    assert!(
        cut_mid_replay > 0,
        "no kill landed between the first and the last spool file"
    );
    assert_eq!(total(&dir.db()), expected);
    assert!(spool_files(&dir.db()).is_empty());
    let t = tickets(&dir.db());
    assert_eq!(t.len(), sites as usize);
    assert!(t.iter().all(|t| t.count == expected / sites));
}
