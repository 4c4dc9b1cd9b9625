//! `TicketsGuard::shutdown` is the guard's drop made explicit: the final flush commits every
//! count, the returned stats say so, and events after it are counted in memory only.

mod support;

use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

#[test]
fn shutdown_commits_everything_and_reports_it() {
    let dir = TempDir::new("shutdown");
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap())
        // No periodic commit before the shutdown: it is the shutdown that writes.
        .with_flush_interval(std::time::Duration::from_secs(3600))
        .build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..5 {
            tracing::error!(i, "job {i} failed");
        }
    });
    let stats = guard.shutdown();
    assert_eq!(stats.events_stored(), 5);
    assert_eq!(tickets(&dir.db())[0].count, 5);
    // The writer is stopped: a later event is counted in memory, never written.
    tracing::dispatcher::with_default(&dispatch, || tracing::error!(i = 5, "job 5 failed"));
    assert_eq!(stats.events_stored(), 5);
    assert_eq!(tickets(&dir.db())[0].count, 5);
}
