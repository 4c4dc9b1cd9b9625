//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use taskwire_tickets::store::{
    Batch, GroupUpdate, Level, ListQuery, Occurrence, OccurrenceQuery, Sort, TagCount, Ticket,
    TicketSeed, Timestamp,
};
use taskwire_tickets::{Sqlite, TicketReader, TicketWriter};

pub(crate) use taskwire_test_support::TempDir;

/// Where a test keeps its tickets database.
pub(crate) trait TicketsDb {
    /// `tickets.db` in the folder.
    fn db(&self) -> PathBuf;
}

impl TicketsDb for TempDir {
    fn db(&self) -> PathBuf {
        self.join("tickets.db")
    }
}

/// Every ticket of the database, highest count first.
pub(crate) fn tickets(path: &Path) -> Vec<Ticket> {
    Sqlite::open(path)
        .expect("the store opens")
        .list(
            &ListQuery::default()
                .with_sort(Sort::Count)
                .with_limit(10_000),
        )
        .expect("the store opens")
}

pub(crate) fn samples(path: &Path, t: &Ticket) -> Vec<Occurrence> {
    Sqlite::open(path)
        .expect("the store opens")
        .occurrences(t.id, &OccurrenceQuery::oldest().with_limit(1000))
        .expect("the store opens")
}

pub(crate) fn tags(path: &Path, t: &Ticket) -> Vec<TagCount> {
    Sqlite::open(path)
        .expect("the store opens")
        .tags(t.id)
        .expect("the store opens")
}

/// Writes `count` occurrences of fingerprint `fp` (an ERROR of target `app`, now) to `store`.
pub(crate) fn write_count(store: &mut impl TicketWriter, fp: &str, count: u64) {
    let t = Timestamp::now();
    let seed = TicketSeed::new(Level::ERROR, "app");
    store
        .write(&Batch::new(vec![GroupUpdate::new(fp, seed, count, t, t)]))
        .expect("the write succeeds");
}

/// Makes the database at `path` what an older schema version wrote: a current database with
/// one ticket (`f`, count 2), then `undo` (the SQL that removes what `version` lacked) and
/// `version` recorded as its schema version. Returns a raw connection to it.
pub(crate) fn older_database(path: &Path, version: u32, undo: &str) -> rusqlite::Connection {
    let mut store = Sqlite::open(path).expect("a fresh database");
    write_count(&mut store, "f", 2);
    drop(store);
    let raw = rusqlite::Connection::open(path).expect("the database opens raw");
    raw.execute_batch(undo).expect("the undo SQL runs");
    raw.execute(
        "UPDATE taskwire_meta SET value = ?1 WHERE key = 'schema_version'",
        [version.to_string()],
    )
    .expect("the version is set");
    raw
}

/// The schema version the database records.
pub(crate) fn schema_version(raw: &rusqlite::Connection) -> String {
    raw.query_row(
        "SELECT value FROM taskwire_meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .expect("the schema version is stored")
}
