//! While another connection holds an exclusive lock, the writer retries with backoff; once the
//! lock is released everything is committed, with exact counts.

mod support;

use std::time::{Duration, Instant};

use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

#[test]
fn writes_wait_for_a_lock_and_lose_nothing() {
    let dir = TempDir::new("locked");
    let (layer, guard) = taskwire_tickets::layer(
        Sqlite::builder(dir.db())
            .with_busy_timeout(Duration::from_millis(50))
            .open()
            .unwrap(),
    )
    .with_busy_retry(Duration::from_secs(30))
    .build();
    let stats = guard.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));

    let other = rusqlite::Connection::open(dir.db()).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();

    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..1000 {
            tracing::error!(i, "while locked");
        }
    });
    std::thread::scope(|s| {
        let flushing = s.spawn(|| guard.flush());
        // Wait (without sleeping) until the writer has met the lock at least once.
        let deadline = Instant::now() + Duration::from_secs(60);
        while stats.busy_retries() == 0 {
            assert!(Instant::now() < deadline, "the writer never met the lock");
            std::thread::yield_now();
        }
        assert_eq!(stats.events_stored(), 0);
        other.execute_batch("COMMIT").unwrap();
        flushing.join().unwrap().unwrap();
    });
    let t = tickets(&dir.db());
    assert_eq!(t[0].count, 1000);
    assert!(stats.busy_retries() >= 1);
    assert_eq!(stats.events_stored(), 1000);
}
