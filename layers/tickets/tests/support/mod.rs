#![allow(clippy::unwrap_used)] // helpers outside #[test] fns
//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use taskwire_tickets::store::{
    Batch, GroupUpdate, Level, ListQuery, Occurrence, OccurrenceQuery, Sort, TagCount, Ticket,
    TicketSeed, Timestamp,
};
use taskwire_tickets::{Sqlite, TicketReader, TicketWriter};

/// A fresh folder under the system's temporary folder, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "taskwire-tickets-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.0.join("tickets.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every ticket of the database, highest count first.
pub(crate) fn tickets(path: &Path) -> Vec<Ticket> {
    Sqlite::open(path)
        .unwrap()
        .list(
            &ListQuery::default()
                .with_sort(Sort::Count)
                .with_limit(10_000),
        )
        .unwrap()
}

pub(crate) fn samples(path: &Path, t: &Ticket) -> Vec<Occurrence> {
    Sqlite::open(path)
        .unwrap()
        .occurrences(t.id, &OccurrenceQuery::oldest().with_limit(1000))
        .unwrap()
}

pub(crate) fn tags(path: &Path, t: &Ticket) -> Vec<TagCount> {
    Sqlite::open(path).unwrap().tags(t.id).unwrap()
}

/// Writes `count` occurrences of fingerprint `fp` (an ERROR of target `app`, now) to `store`.
pub(crate) fn write_count(store: &mut impl TicketWriter, fp: &str, count: u64) {
    let t = Timestamp::now();
    let seed = TicketSeed::new(Level::ERROR, "app");
    store
        .write(&Batch::new(vec![GroupUpdate::new(fp, seed, count, t, t)]))
        .unwrap();
}
