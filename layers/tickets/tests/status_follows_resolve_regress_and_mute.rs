//! Status transitions through the layer: a resolved ticket regresses on a new occurrence (from
//! another release when resolved in one); a muted ticket counts without reopening until its
//! condition ends.

mod support;

use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::store::{Mute, Status, Timestamp};
use taskwire_tickets::{Sqlite, TicketReader, TicketTriage};
use tracing_subscriber::prelude::*;

fn emit(dir: &TempDir, release: &str, n: usize) {
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).expect("the store opens"))
        .with_release(release)
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..n {
            failing_call();
        }
    });
    guard.flush().expect("the writer flushes");
}

fn failing_call() {
    tracing::error!("upstream returned 503");
}

#[test]
fn resolved_ticket_regresses_on_a_new_occurrence() {
    let dir = TempDir::new("regress");
    emit(&dir, "1.0", 3);
    let t = &tickets(&dir.db())[0];
    let mut admin = Sqlite::open(dir.db()).unwrap();
    assert!(admin.resolve(t.id, None, Timestamp::now()).unwrap());
    emit(&dir, "1.0", 1);
    let t = admin.get(t.id).unwrap().unwrap();
    assert_eq!(t.status, Status::Open);
    assert!(t.regressed_at.is_some());
    assert!(t.regressed_at > t.resolved_at);
    assert_eq!(t.count, 4);
}

#[test]
fn resolved_in_a_release_regresses_only_from_another_release() {
    let dir = TempDir::new("regress-release");
    emit(&dir, "1.0", 2);
    let t = &tickets(&dir.db())[0];
    let mut admin = Sqlite::open(dir.db()).unwrap();
    assert!(admin.resolve(t.id, Some("1.0"), Timestamp::now()).unwrap());
    emit(&dir, "1.0", 5);
    let after = admin.get(t.id).unwrap().unwrap();
    assert_eq!((after.status, after.count), (Status::Resolved, 7));
    emit(&dir, "1.1", 1);
    let after = admin.get(t.id).unwrap().unwrap();
    assert_eq!((after.status, after.count), (Status::Open, 8));
    assert!(after.regressed_at.is_some());
}

#[test]
fn muted_ticket_counts_until_its_condition_ends() {
    let dir = TempDir::new("mute");
    emit(&dir, "1.0", 1);
    let t = &tickets(&dir.db())[0];
    let mut admin = Sqlite::open(dir.db()).unwrap();
    assert!(admin.mute(t.id, Mute::Count(10)).unwrap());
    emit(&dir, "1.0", 10);
    let m = admin.get(t.id).unwrap().unwrap();
    assert_eq!(
        (m.status, m.count, m.mute),
        (Status::Muted, 11, Some(Mute::Count(0)))
    );
    emit(&dir, "1.0", 1);
    let m = admin.get(t.id).unwrap().unwrap();
    assert_eq!(
        (m.status, m.count, m.regressed_at),
        (Status::Open, 12, None)
    );

    assert!(admin.mute(t.id, Mute::Until(Timestamp::now())).unwrap());
    emit(&dir, "1.0", 1);
    assert_eq!(admin.get(t.id).unwrap().unwrap().status, Status::Open);
}
