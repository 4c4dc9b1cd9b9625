//! A second run of the program (a new layer and store on the same file) adds to the tickets of
//! the first: same ticket, exact sum, first seen kept, status kept.

mod support;

use support::{samples, tickets, TempDir, TicketsDb};
use taskwire_tickets::store::{Mute, Status};
use taskwire_tickets::{Sqlite, TicketTriage};
use tracing_subscriber::prelude::*;

fn run(dir: &TempDir, n: usize) {
    let (layer, _guard) =
        taskwire_tickets::layer(Sqlite::open(dir.db()).expect("the store opens")).build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..n {
            tracing::error!(i, "job {i} crashed");
        }
    });
    // The guard's drop flushes.
}

#[test]
fn counts_add_up_across_restarts() {
    let dir = TempDir::new("restart");
    run(&dir, 5);
    let first = tickets(&dir.db()).remove(0);
    assert_eq!(first.count, 5);
    Sqlite::open(dir.db())
        .unwrap()
        .mute(first.id, Mute::Forever)
        .unwrap();
    run(&dir, 7);
    let all = tickets(&dir.db());
    assert_eq!(all.len(), 1);
    let t = &all[0];
    assert_eq!((t.id, t.count, t.status), (first.id, 12, Status::Muted));
    assert_eq!(t.first_seen, first.first_seen);
    assert!(t.last_seen > first.last_seen);
    let kept = samples(&dir.db(), t);
    assert!(kept[0].first);
    assert_eq!(kept[0].sample.message, "job 0 crashed");
    assert_eq!(kept.iter().filter(|o| o.first).count(), 1);
}
