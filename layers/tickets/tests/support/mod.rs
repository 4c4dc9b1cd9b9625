//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use taskwire_tickets::store::{
    Batch, GroupUpdate, Level, ListQuery, Occurrence, OccurrenceQuery, Sort, TagCount, Ticket,
    TicketSeed, Timestamp,
};
use taskwire_tickets::{Sqlite, Store};

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

/// A batch of one ERROR group `fingerprint` (service `app`), seen `count` times at `t`.
pub(crate) fn one_error_group(fingerprint: &str, count: u64, t: Timestamp) -> Batch {
    Batch::new(vec![GroupUpdate::new(
        fingerprint,
        TicketSeed::new(Level::ERROR, "app"),
        count,
        t,
        t,
    )])
}

/// Writes [`one_error_group`] `fingerprint`, seen `count` times now, into the SQLite store at
/// `path`, and closes it.
pub(crate) fn store_one_error_group(path: &Path, fingerprint: &str, count: u64) {
    Sqlite::open(path)
        .expect("the store opens")
        .write(&one_error_group(fingerprint, count, Timestamp::now()))
        .expect("the write succeeds");
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
