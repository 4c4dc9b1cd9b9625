//! An event without a message, like the one `#[instrument(err)]` emits (`error = %e` alone),
//! is titled by its error, as Sentry titles an exception by its value.

use taskwire_tickets::store::{ListQuery, TicketReader};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct Declined(u32);

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payment for order {} declined", self.0)
    }
}

#[tracing::instrument(err)]
fn charge(order: u32) -> Result<(), Declined> {
    Err(Declined(order))
}

#[test]
fn instrument_err_events_are_titled_by_the_error() {
    let dir = std::env::temp_dir().join(format!("tw-error-title-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tickets.db");
    let _ = std::fs::remove_file(&path);
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(&path).unwrap()).build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for order in [7, 8, 9] {
            let _ = charge(order);
        }
    });
    drop(guard);
    let tickets = Sqlite::open(&path)
        .unwrap()
        .list(&ListQuery::default())
        .unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].count, 3);
    assert_eq!(tickets[0].title, "payment for order <num> declined");
    let _ = std::fs::remove_dir_all(&dir);
}
