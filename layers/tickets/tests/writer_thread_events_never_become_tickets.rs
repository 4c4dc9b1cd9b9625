//! Events raised on the writer thread (a database driver logging from inside the store) are
//! ignored, so they never loop back into tickets. This needs the global default subscriber
//! (the writer thread has no scoped one), so it has its own test binary.

use taskwire_tickets::store::{Batch, ListQuery, WriteError, Written};
use taskwire_tickets::{Sqlite, TicketReader, TicketWriter};
use tracing_subscriber::prelude::*;

/// A store that logs an error on every write, like a chatty driver. The layer needs only the
/// write side.
struct Chatty(Sqlite);

impl TicketWriter for Chatty {
    fn write(&mut self, batch: &Batch) -> Result<Written, WriteError> {
        tracing::error!(groups = batch.groups.len(), "driver: slow write");
        self.0.write(batch)
    }
}

#[test]
fn driver_events_on_the_writer_thread_are_ignored() {
    let dir = std::env::temp_dir().join(format!("tw-tickets-suppress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tickets.db");
    let _ = std::fs::remove_file(&path);
    let (layer, guard) = taskwire_tickets::layer(Chatty(Sqlite::open(&path).unwrap())).build();
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
