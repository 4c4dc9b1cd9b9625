//! MongoDB going away never costs a count: the application starts while the server is down,
//! and a server stopped in the middle of 10,000 errors and started again (same port, same
//! data) ends up with every one of them, counted once. The test runs SecantusDB servers of its
//! own (`TASKWIRE_TEST_SECANTUSD`, exported by scripts/services/mongodb.sh).

mod mongo_support;

use std::time::{Duration, Instant};

use mongo_support::OwnServer;
use taskwire_test_support::services::{free_port, unique_db};
use taskwire_tickets::store::{ErrorKind, ListQuery, OccurrenceQuery, TicketReader};
use taskwire_tickets::{MongoDb, TicketsGuard};
use tracing_subscriber::prelude::*;

fn site(i: usize) {
    tracing::error!(fingerprint = i % 10, i, "failure {i}");
}

fn storage(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-mongo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the folder can be created");
    dir.join("data")
}

/// Flushes until the store takes it (the driver reconnects within its server selection time).
fn flush_until_stored(guard: &TicketsGuard) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match guard.flush() {
            Ok(()) => return,
            Err(e) => {
                assert!(Instant::now() < deadline, "still failing after 90 s: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

fn check_counts(uri: &str, total: u64) {
    let store = MongoDb::open(uri).expect("the store opens");
    let tickets = store
        .list(&ListQuery::default().with_limit(100))
        .expect("the store answers");
    assert_eq!(tickets.len(), 10, "one ticket per fingerprint");
    let counts: Vec<u64> = tickets.iter().map(|t| t.count).collect();
    assert!(counts.iter().all(|c| *c == total / 10), "{counts:?}");
    for t in &tickets {
        let samples = store
            .occurrences(t.id, &OccurrenceQuery::newest().with_limit(100))
            .expect("the store answers");
        assert!(
            !samples.is_empty() && samples.len() <= 21,
            "{}",
            samples.len()
        );
        assert_eq!(samples.iter().filter(|o| o.first).count(), 1);
    }
}

#[test]
fn a_server_stopped_mid_burst_and_restarted_gets_every_count() {
    let data = storage("outage");
    let mut server = OwnServer::new(free_port(), &data);
    server.start();
    let uri = server.uri(&unique_db("outage"));
    let (layer, guard) = taskwire_tickets::layer(MongoDb::open(&uri).unwrap())
        .with_flush_interval(Duration::from_millis(20))
        .build();
    let stats = guard.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let mut slowest = Duration::ZERO;
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..10_000 {
            let t = Instant::now();
            site(i);
            slowest = slowest.max(t.elapsed());
            if i == 3_000 {
                guard.flush().unwrap();
                server.stop();
            }
            if i == 7_000 {
                server.start();
            }
            if i % 100 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    flush_until_stored(&guard);
    assert!(stats.write_failures() > 0, "the outage was seen");
    assert_eq!(stats.events_stored(), 10_000);
    // The callers never waited for the network.
    assert!(slowest < Duration::from_millis(100), "{slowest:?}");
    check_counts(&uri, 10_000);
}

#[test]
fn the_application_starts_while_mongodb_is_down() {
    let data = storage("down");
    let mut server = OwnServer::new(free_port(), &data);
    let uri = server.uri(&unique_db("down"));
    let start = Instant::now();
    let (layer, guard) = taskwire_tickets::layer(MongoDb::open(&uri).unwrap()).build();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "open waited for the server"
    );
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let emit = |from: usize| {
        tracing::dispatcher::with_default(&dispatch, || {
            for i in from..from + 500 {
                site(i);
            }
        });
    };
    let t = Instant::now();
    emit(0);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "events waited for the server"
    );
    let err = guard.flush().unwrap_err();
    assert_eq!(err.kind(), Some(ErrorKind::Unavailable), "{err}");
    emit(500);
    server.start();
    flush_until_stored(&guard);
    check_counts(&uri, 1_000);
}
