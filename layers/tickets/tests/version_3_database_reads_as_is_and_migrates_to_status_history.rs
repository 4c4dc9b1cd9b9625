//! A database of schema version 3 (before the status history) opened read-only is read as it
//! is, its history empty, the file unchanged; a writable open migrates it to the current
//! version, and status changes are recorded from then on.

mod support;

use support::{TempDir, TicketsDb};
use taskwire_tickets::store::sqlite::SCHEMA_VERSION;
use taskwire_tickets::store::{ListQuery, StatusChange, Timestamp};
use taskwire_tickets::{Sqlite, TicketReader, TicketTriage};

#[test]
fn version_3_reads_read_only_unchanged_and_a_writable_open_adds_the_history() {
    let dir = TempDir::new("migrate-v3");
    // What version 3 wrote: no history table.
    let raw = support::older_database(&dir.db(), 3, "DROP TABLE taskwire_history;");
    let bytes = std::fs::read(dir.db()).unwrap();

    let ro = Sqlite::open_read_only(dir.db()).unwrap();
    assert_eq!(ro.count(&ListQuery::default()).unwrap(), 1);
    let id = ro.find("f").unwrap().unwrap().id;
    assert_eq!(ro.history(id).unwrap(), []);
    drop(ro);
    assert_eq!(support::schema_version(&raw), "3");
    assert!(
        std::fs::read(dir.db()).unwrap() == bytes,
        "the file changed"
    );

    let mut store = Sqlite::open(dir.db()).unwrap();
    assert_eq!(support::schema_version(&raw), SCHEMA_VERSION.to_string());
    assert!(store.resolve(id, None, Timestamp::now()).unwrap());
    let h = store.history(id).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].change, StatusChange::Resolved { release: None });
}
