//! A database of schema version 1 (no hourly counts) is migrated by a writable open: it gains
//! the `hours` table, keeps its tickets, records the migration, and counts hours from then on.
//! A read-only open leaves it as it is and says how to migrate.

mod support;

use support::{TempDir, TicketsDb};
use taskwire_tickets::store::{hour_of, ErrorKind, ListQuery, Timestamp};
use taskwire_tickets::{Sqlite, TicketReader};

#[test]
fn version_1_database_gains_hourly_counts_on_a_writable_open() {
    let dir = TempDir::new("migrate-v1");
    // What version 1 wrote: no hours table.
    let raw = support::older_database(&dir.db(), 1, "DROP TABLE taskwire_hours;");

    let err = Sqlite::open_read_only(dir.db()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(
        err.to_string().contains("open it for writing once"),
        "{err}"
    );

    let mut store = Sqlite::open(dir.db()).unwrap();
    assert_eq!(store.count(&ListQuery::default()).unwrap(), 1);
    let id = store.find("f").unwrap().unwrap().id;
    let now = hour_of(Timestamp::now());
    assert_eq!(store.hourly(&[id], now - 48, now + 1).unwrap(), []);
    support::write_count(&mut store, "f", 3);
    let hours = store.hourly(&[id], now - 48, now + 1).unwrap();
    assert_eq!(hours.iter().map(|h| h.count).sum::<u64>(), 3);
    assert_eq!(store.find("f").unwrap().unwrap().count, 5);

    assert_eq!(
        support::schema_version(&raw),
        taskwire_tickets::store::sqlite::SCHEMA_VERSION.to_string()
    );
    let migrated: i64 = raw
        .query_row(
            "SELECT COUNT(*) FROM taskwire_meta WHERE key = 'migration_2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(migrated, 1);
}
