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
