//! A process that exits while its MongoDB server is down loses no count: its final flush gives
//! up after the shutdown timeout, the process exits soon after, what is left is spooled in the
//! store's spool folder, and the next writer on the same database (once the server is back)
//! replays it exactly once, even when that replay is cut short by `kill -9`. The test runs a
//! SecantusDB server of its own (`TASKWIRE_TEST_SECANTUSD`, exported by
//! scripts/services/mongodb.sh) so it can stop and restart it.

#[path = "support/child.rs"]
mod child;
mod mongo_support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use child::{child, expect, wait_exit};
use mongo_support::OwnServer;
use taskwire_test_support::services::{free_port, unique_db};
use taskwire_tickets::store::{ListQuery, TicketReader};
use taskwire_tickets::MongoDb;
use tracing_subscriber::prelude::*;

const CHILD_URI: &str = "TASKWIRE_TICKETS_MONGO_SPOOL_URI";
const CHILD_SPOOL: &str = "TASKWIRE_TICKETS_MONGO_SPOOL_DIR";
const CHILD_EVENTS: &str = "TASKWIRE_TICKETS_MONGO_SPOOL_EVENTS";
const CHILD_SITES: &str = "TASKWIRE_TICKETS_MONGO_SPOOL_SITES";
const CHILD_TIMEOUT_MS: &str = "TASKWIRE_TICKETS_MONGO_SPOOL_TIMEOUT_MS";
const REPLAY_URI: &str = "TASKWIRE_TICKETS_MONGO_REPLAY_URI";

fn store(uri: &str, spool: &str) -> MongoDb {
    MongoDb::builder(uri)
        .with_spool_dir(spool)
        .open()
        .expect("the store opens")
}

fn emit(events: u64, sites: u64) {
    for i in 0..events {
        tracing::error!(fingerprint = i % sites, i, "failure {i}");
    }
}

/// The process that exits while the server is down: counts `events` errors and flushes them
/// (server up), says `flushed`, waits for a line on stdin (the server is stopped meanwhile),
/// counts as many again, drops the guard and reports how long that took and what it spooled.
#[test]
fn child_counts_then_exits() {
    let Ok(uri) = std::env::var(CHILD_URI) else {
        return;
    };
    let var = |k: &str| -> u64 { std::env::var(k).unwrap().parse().unwrap() };
    let (events, sites) = (var(CHILD_EVENTS), var(CHILD_SITES));
    let (layer, guard) = taskwire_tickets::layer(store(&uri, &std::env::var(CHILD_SPOOL).unwrap()))
        .with_max_groups(100_000)
        .with_shutdown_timeout(Duration::from_millis(var(CHILD_TIMEOUT_MS)))
        .build();
    let stats = guard.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || emit(events, sites));
    guard.flush().unwrap();
    println!("flushed");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    tracing::dispatcher::with_default(&dispatch, || emit(events, sites));
    let t = Instant::now();
    drop(guard);
    println!("dropped_ms {}", t.elapsed().as_millis());
    println!("spooled {}", stats.events_spooled());
}

/// The next process: installs a layer on the store (which replays the spool) and flushes.
#[test]
fn child_replays() {
    let Ok(uri) = std::env::var(REPLAY_URI) else {
        return;
    };
    println!("start");
    let (layer, guard) =
        taskwire_tickets::layer(store(&uri, &std::env::var(CHILD_SPOOL).unwrap())).build();
    let _subscriber = tracing_subscriber::registry().with(layer);
    guard.flush().unwrap();
    println!("done {}", guard.stats().events_replayed());
}

/// A fresh folder (for the server's data and the spool), removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let dir = std::env::temp_dir().join(format!("tw-mongo-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the folder can be created");
        Folder(dir)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn spool_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |rd| {
        rd.flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("mongodb-") && !name.ends_with(".tmp")
            })
            .count()
    })
}

fn counts(uri: &str, spool: &str) -> Vec<u64> {
    let store = store(uri, spool);
    let tickets = store
        .list(&ListQuery::default().with_limit(10_000))
        .expect("the store answers");
    tickets.iter().map(|t| t.count).collect()
}

/// Runs the counting child, stopping `server` between its two halves; checks it exits within
/// the timeout plus one attempt (the server selection timeout, 2 s) and spooled the second half.
fn exit_while_down(server: &mut OwnServer, uri: &str, spool: &str, events: u64, sites: u64) {
    let timeout = Duration::from_secs(1);
    let (mut c, mut out) = child(
        "child_counts_then_exits",
        &[
            (CHILD_URI, uri.to_owned()),
            (CHILD_SPOOL, spool.to_owned()),
            (CHILD_EVENTS, events.to_string()),
            (CHILD_SITES, sites.to_string()),
            (CHILD_TIMEOUT_MS, timeout.as_millis().to_string()),
        ],
    );
    expect(&mut out, "flushed");
    server.stop();
    writeln!(c.stdin.as_mut().expect("the child's stdin is piped"), "go")
        .expect("the child reads its standard input");
    let dropped = Duration::from_millis(expect(&mut out, "dropped_ms").parse().expect("a number"));
    let spooled: u64 = expect(&mut out, "spooled").parse().expect("a number");
    wait_exit(&mut c, Duration::from_secs(60));
    assert!(
        dropped < timeout + Duration::from_secs(2) + Duration::from_millis(1500),
        "the final flush took {dropped:?} with a {timeout:?} timeout"
    );
    assert_eq!(
        spooled, events,
        "the half counted while the server was down is spooled"
    );
}

#[test]
fn a_server_down_at_exit_spools_and_the_next_writer_replays_exactly() {
    let data = Folder::new("spool-down");
    let spool_dir = data.0.join("spool");
    let spool = spool_dir.display().to_string();
    let mut server = OwnServer::new(free_port(), &data.0.join("data"));
    server.start();
    let uri = server.uri(&unique_db("spooldown"));
    exit_while_down(&mut server, &uri, &spool, 10_000, 10);
    assert_eq!(
        spool_files(&spool_dir),
        1,
        "one spool file in the configured folder"
    );

    server.start();
    assert_eq!(counts(&uri, &spool), vec![1_000; 10], "the first half only");
    let (layer, guard) = taskwire_tickets::layer(store(&uri, &spool)).build();
    let _subscriber = tracing_subscriber::registry().with(layer);
    guard.flush().unwrap();
    assert_eq!(guard.stats().events_replayed(), 10_000);
    assert_eq!(counts(&uri, &spool), vec![2_000; 10]);
    assert_eq!(spool_files(&spool_dir), 0, "the replayed file is removed");
}

#[test]
fn a_replay_cut_short_by_kill_9_counts_once() {
    let data = Folder::new("spool-kill9");
    let spool_dir = data.0.join("spool");
    let spool = spool_dir.display().to_string();
    let mut server = OwnServer::new(free_port(), &data.0.join("data"));
    server.start();
    let uri = server.uri(&unique_db("spoolkill"));
    // Many tickets, so the replay's updates take several commands and a kill can land between.
    let (events, sites) = (2_000, 1_000);
    exit_while_down(&mut server, &uri, &spool, events, sites);
    server.start();

    let mut cut_mid_replay = 0;
    let mut delay = Duration::from_millis(50);
    loop {
        let (mut c, mut out) = child(
            "child_replays",
            &[(REPLAY_URI, uri.clone()), (CHILD_SPOOL, spool.clone())],
        );
        expect(&mut out, "start");
        // Once kills have landed mid-replay (or the replay is slow on a loaded machine), the
        // next replay runs to its end: the test needs cuts, and then one replay that finishes.
        let finished = if cut_mid_replay >= 3 || delay >= Duration::from_secs(20) {
            wait_exit(&mut c, Duration::from_secs(900));
            true
        } else {
            std::thread::sleep(delay);
            let finished = c.try_wait().unwrap().is_some();
            let _ = c.kill();
            let _ = c.wait();
            finished
        };
        let total: u64 = counts(&uri, &spool).iter().sum();
        assert!(
            total <= 2 * events,
            "{total} > {}: counted twice",
            2 * events
        );
        if finished {
            break;
        }
        if total > events && total < 2 * events {
            cut_mid_replay += 1;
        }
        delay = delay * 5 / 4;
    }
    eprintln!(
        "replays killed after applying part of the spool: {cut_mid_replay}, last delay {delay:?}"
    );
    assert!(
        cut_mid_replay > 0,
        "no kill landed in the middle of the replay"
    );
    let c = counts(&uri, &spool);
    assert_eq!(c.len(), sites as usize);
    assert!(c.iter().all(|n| *n == 2 * events / sites), "{c:?}");
    // Tag counts are exact too (tags are written after the tickets, in their own commands).
    let store = store(&uri, &spool);
    for t in store.list(&ListQuery::default().with_limit(20)).unwrap() {
        let level: u64 = store
            .tags(t.id)
            .unwrap()
            .iter()
            .filter(|g| g.key == "level")
            .map(|g| g.count)
            .sum();
        assert_eq!(level, t.count, "ticket {}", t.id);
    }
    assert_eq!(spool_files(&spool_dir), 0);
}
