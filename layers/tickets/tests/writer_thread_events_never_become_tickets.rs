//! Events raised on the writer thread (a database driver logging from inside the store) are
//! ignored, so they never loop back into tickets. This needs the global default subscriber
//! (the writer thread has no scoped one), so it has its own test binary.

use taskwire_tickets::store::{
    Batch, ListQuery, Mute, Occurrence, OccurrenceQuery, QueryError, TagCount, Ticket, TicketId,
    Timestamp, UpdateError, WriteError,
};
use taskwire_tickets::{Sqlite, Store};
use tracing_subscriber::prelude::*;

/// A store that logs an error on every write, like a chatty driver.
struct Chatty(Sqlite);

impl Store for Chatty {
    fn write(&mut self, batch: &Batch) -> Result<(), WriteError> {
        tracing::error!(groups = batch.groups.len(), "driver: slow write");
        self.0.write(batch)
    }
    fn list(&self, q: &ListQuery) -> Result<Vec<Ticket>, QueryError> {
        self.0.list(q)
    }
    fn count(&self, q: &ListQuery) -> Result<u64, QueryError> {
        self.0.count(q)
    }
    fn get(&self, id: TicketId) -> Result<Option<Ticket>, QueryError> {
        self.0.get(id)
    }
    fn find(&self, fp: &str) -> Result<Option<Ticket>, QueryError> {
        self.0.find(fp)
    }
    fn occurrences(
        &self,
        id: TicketId,
        q: &OccurrenceQuery,
    ) -> Result<Vec<Occurrence>, QueryError> {
        self.0.occurrences(id, q)
    }
    fn tags(&self, id: TicketId) -> Result<Vec<TagCount>, QueryError> {
        self.0.tags(id)
    }
    fn resolve(
        &mut self,
        id: TicketId,
        r: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, UpdateError> {
        self.0.resolve(id, r, at)
    }
    fn mute(&mut self, id: TicketId, m: Mute) -> Result<bool, UpdateError> {
        self.0.mute(id, m)
    }
    fn reopen(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        self.0.reopen(id)
    }
    fn delete(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        self.0.delete(id)
    }
}

#[test]
fn driver_events_on_the_writer_thread_are_ignored() {
    let dir = std::env::temp_dir().join(format!("tw-tickets-suppress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tickets.db");
    let _ = std::fs::remove_file(&path);
    let layer = taskwire_tickets::layer(Chatty(Sqlite::open(&path).unwrap()));
    let guard = layer.guard();
    tracing_subscriber::registry().with(layer).init();
    for _ in 0..3 {
        tracing::error!("application failure");
        guard.flush().unwrap();
    }
    guard.flush().unwrap();
    let tickets = Sqlite::open(&path)
        .unwrap()
        .list(&ListQuery::default())
        .unwrap();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    assert_eq!(tickets[0].title, "application failure");
    assert_eq!(tickets[0].count, 3);
    drop(guard);
    let _ = std::fs::remove_dir_all(&dir);
}
