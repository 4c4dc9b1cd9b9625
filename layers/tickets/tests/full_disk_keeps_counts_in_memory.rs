//! When the disk is full (simulated with a size limit, so SQLite returns SQLITE_FULL), the
//! failure is counted, samples give way first, counts stay in memory and are committed once
//! there is room again.

mod support;

use std::time::Duration;

use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::store::ErrorKind;
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

fn page_count(c: &rusqlite::Connection) -> u64 {
    c.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0))
        .expect("the SQL runs") as u64
}

#[test]
fn counts_survive_a_full_disk() {
    let dir = TempDir::new("full");
    drop(Sqlite::open(dir.db()).unwrap());
    let admin = rusqlite::Connection::open(dir.db()).unwrap();
    admin.busy_timeout(Duration::from_secs(10)).unwrap();
    admin
        .execute_batch(
            "CREATE TABLE filler (b BLOB); INSERT INTO filler VALUES (zeroblob(400000));",
        )
        .unwrap();
    let page_size: u64 = admin
        .query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
        .unwrap() as u64;
    // Room for one more page: not enough for hundreds of tickets.
    let limit = (page_count(&admin) + 1) * page_size;
    let store = Sqlite::builder(dir.db())
        .with_max_size(limit)
        .open()
        .unwrap();
    let (layer, guard) = taskwire_tickets::layer(store).build();
    let stats = guard.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let emit = || {
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..300 {
                for _ in 0..3 {
                    tracing::error!(fingerprint = i, payload = %"p".repeat(2000), "failure {i}");
                }
            }
        })
    };
    emit();
    let err = guard.flush().unwrap_err();
    assert_eq!(err.kind(), Some(ErrorKind::Full), "{err}");
    assert!(stats.disk_full() >= 2, "with samples, then counts only");
    assert!(stats.samples_dropped() > 0);
    assert_eq!(stats.events_stored(), 0);

    // More events while full: counted in memory too.
    emit();

    // Make room.
    admin.execute_batch("DROP TABLE filler").unwrap();
    guard.flush().unwrap();
    let t = tickets(&dir.db());
    assert_eq!(t.len(), 300);
    assert!(
        t.iter().all(|t| t.count == 6),
        "{:?}",
        t.iter().map(|t| t.count).collect::<Vec<_>>()
    );
    assert_eq!(stats.events_stored(), 1800);
}
