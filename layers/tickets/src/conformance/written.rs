//! The check of what a write reports ([`Written`]), which alerts are raised from.

use super::{id_of, t, update, Factory};
use crate::store::{Batch, Change, GroupUpdate, Mute, Status, Store, Written, WrittenTicket};

fn write(store: &mut dyn Store, groups: Vec<GroupUpdate>) -> Written {
    store
        .write(&Batch::new(groups))
        .unwrap_or_else(|e| panic!("write failed: {e}"))
}

fn one(written: &Written) -> WrittenTicket {
    match written.tickets() {
        [w] => *w,
        other => panic!("a write of one group reported {other:?}"),
    }
}

/// A write reports, per group in its order, the ticket's id, its status afterwards and the
/// change it made: created, regressed, unmuted, or none.
pub fn write_reports_created_regressed_and_unmuted(make: Factory<'_>) {
    let mut s = make();
    let w = write(&mut *s, vec![update("a", 1, 0, 10), update("b", 1, 0, 10)]);
    let ids = [id_of(&*s, "a"), id_of(&*s, "b")];
    let got: Vec<_> = w
        .tickets()
        .iter()
        .map(|w| (w.id, w.status, w.change))
        .collect();
    assert_eq!(
        got,
        [
            (ids[0], Status::Open, Some(Change::Created)),
            (ids[1], Status::Open, Some(Change::Created)),
        ]
    );
    let w = one(&write(&mut *s, vec![update("a", 1, 20, 20)]));
    assert_eq!((w.id, w.status, w.change), (ids[0], Status::Open, None));

    assert_eq!(s.resolve(ids[0], None, t(100)).ok(), Some(true));
    let w = one(&write(&mut *s, vec![update("a", 1, 50, 50)]));
    assert_eq!((w.status, w.change), (Status::Resolved, None));
    let w = one(&write(&mut *s, vec![update("a", 1, 150, 150)]));
    assert_eq!(
        (w.status, w.change),
        (Status::Open, Some(Change::Regressed))
    );

    assert_eq!(s.mute(ids[1], Mute::Count(1)).ok(), Some(true));
    let w = one(&write(&mut *s, vec![update("b", 1, 200, 200)]));
    assert_eq!((w.status, w.change), (Status::Muted, None));
    let w = one(&write(&mut *s, vec![update("b", 1, 210, 210)]));
    assert_eq!((w.status, w.change), (Status::Open, Some(Change::Unmuted)));
}
