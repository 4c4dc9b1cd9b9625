//! Opening under other connections' locks: a database whose schema is current opens while
//! another connection writes (no write lock is taken), a lock held on the whole file is waited
//! for up to the open timeout, and processes that start together on a fresh file all succeed.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::{TempDir, TicketsDb};
use taskwire_tickets::store::{
    Batch, ErrorKind, GroupUpdate, Level, ListQuery, TicketSeed, Timestamp,
};
use taskwire_tickets::{Sqlite, TicketReader, TicketWriter};

const CHILD_ENV: &str = "TASKWIRE_TICKETS_OPEN_TOGETHER_DB";
const PROCESSES: usize = 8;
const ROUNDS: usize = 10;

/// Holds a lock of `behavior` (`IMMEDIATE` or `EXCLUSIVE`) on `path` from the moment it sends
/// on `locked` until `release` receives (or is dropped).
fn hold_lock(
    path: &Path,
    behavior: &'static str,
    release: mpsc::Receiver<()>,
) -> std::thread::JoinHandle<()> {
    let path = path.to_owned();
    let (locked_tx, locked_rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(&path).expect("the database opens");
        c.execute_batch(&format!(
            "BEGIN {behavior}; CREATE TABLE IF NOT EXISTS app (x); INSERT INTO app VALUES (1);"
        ))
        .expect("the SQL runs");
        locked_tx.send(()).expect("the other side is alive");
        let _ = release.recv();
        c.execute_batch("COMMIT").expect("the SQL runs");
    });
    locked_rx.recv().expect("the other side is alive");
    h
}

/// A database of another application, in SQLite's default rollback-journal mode, where an
/// exclusive lock keeps every other connection out, readers included.
fn rollback_mode_database(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.path().join("app.db");
    let c = rusqlite::Connection::open(&path).expect("the database opens");
    c.execute_batch("PRAGMA journal_mode = DELETE; CREATE TABLE users (id INTEGER);")
        .expect("the SQL runs");
    path
}

#[test]
fn a_current_schema_opens_while_another_connection_holds_the_write_lock() {
    let dir = TempDir::new("open-while-writing");
    drop(Sqlite::open(dir.db()).unwrap());
    let (release, rx) = mpsc::channel();
    let holder = hold_lock(&dir.db(), "IMMEDIATE", rx);
    // The lock is held for as long as these opens take: they must not need it, not even for
    // an instant (an open timeout of zero).
    let store = Sqlite::open(dir.db()).unwrap();
    assert_eq!(store.count(&ListQuery::default()).unwrap(), 0);
    let store = Sqlite::builder(dir.db())
        .with_open_timeout(Duration::ZERO)
        .open()
        .unwrap();
    assert_eq!(store.count(&ListQuery::default()).unwrap(), 0);
    let store = Sqlite::open_read_only(dir.db()).unwrap();
    assert_eq!(store.count(&ListQuery::default()).unwrap(), 0);
    release.send(()).unwrap();
    holder.join().unwrap();
}

#[test]
fn open_waits_for_a_lock_longer_than_the_statement_busy_timeout() {
    let dir = TempDir::new("open-waits");
    let path = rollback_mode_database(&dir);
    let (release, rx) = mpsc::channel();
    let holder = hold_lock(&path, "EXCLUSIVE", rx);
    // The other connection keeps the whole file for 1.5 s, longer than the 1 s a statement
    // waits, shorter than the 5 s an open waits.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        release.send(()).unwrap();
    });
    let mut store = Sqlite::open(&path).unwrap();
    support::write_count(&mut store, "f", 1);
    releaser.join().unwrap();
    holder.join().unwrap();
    let app: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM app", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app, 1, "the other connection's transaction committed");
}

#[test]
fn a_lock_held_past_the_open_timeout_fails_as_busy() {
    let dir = TempDir::new("open-timeout");
    let path = rollback_mode_database(&dir);
    let (release, rx) = mpsc::channel();
    let holder = hold_lock(&path, "EXCLUSIVE", rx);
    let err = Sqlite::builder(&path)
        .with_open_timeout(Duration::from_millis(300))
        .open()
        .unwrap_err();
    release.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    let text = err.to_string();
    assert!(text.contains("open timeout"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    // Nothing was changed while it waited.
    let c = rusqlite::Connection::open(&path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
}

/// One of the processes that open together: not a test on its own (returns at once without
/// the variable). It waits for its standard input to close, the start signal, then opens.
#[test]
fn child_opener() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut start = Vec::new();
    std::io::stdin().read_to_end(&mut start).unwrap();
    let mut store = Sqlite::open(&path).unwrap_or_else(|e| panic!("open failed: {e}"));
    let t = Timestamp::now();
    store
        .write(&Batch::new(vec![GroupUpdate::new(
            "shared",
            TicketSeed::new(Level::ERROR, "app"),
            1,
            t,
            t,
        )]))
        .unwrap_or_else(|e| panic!("write failed: {e}"));
}

#[test]
fn eight_processes_starting_together_on_a_fresh_file_all_succeed() {
    let exe = std::env::current_exe().unwrap();
    for round in 0..ROUNDS {
        let dir = TempDir::new("open-together");
        let db = dir.db();
        let mut children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                Command::new(&exe)
                    .args(["--exact", "child_opener", "--test-threads=1", "--nocapture"])
                    .env(CHILD_ENV, &db)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // Every child is running and waiting: close their inputs, all at once.
        for c in &mut children {
            drop(c.stdin.take());
        }
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: a process failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let store = Sqlite::open_read_only(&db).unwrap();
        let t = store.find("shared").unwrap().unwrap();
        assert_eq!(t.count, PROCESSES as u64, "round {round}");
        let c = rusqlite::Connection::open(&db).unwrap();
        let meta: Vec<(String, String)> = c
            .prepare("SELECT key, value FROM taskwire_meta ORDER BY key")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let keys: Vec<&str> = meta.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["created_at", "schema_version"], "round {round}");
        assert_eq!(
            meta[1].1,
            taskwire_tickets::store::sqlite::SCHEMA_VERSION.to_string()
        );
    }
}

#[test]
fn any_timeout_is_accepted_even_beyond_what_sqlite_takes() {
    let dir = TempDir::new("long-timeouts");
    for t in [
        Duration::ZERO,
        Duration::from_secs(30 * 86_400),
        Duration::MAX,
    ] {
        let store = Sqlite::builder(dir.db())
            .with_busy_timeout(t)
            .with_open_timeout(t)
            .open()
            .unwrap();
        assert_eq!(store.count(&ListQuery::default()).unwrap(), 0);
        drop(store);
        let store = Sqlite::builder(dir.db())
            .with_busy_timeout(t)
            .with_open_timeout(t)
            .open_read_only()
            .unwrap();
        assert_eq!(store.count(&ListQuery::default()).unwrap(), 0);
    }
}
