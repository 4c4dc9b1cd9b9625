//! Hourly counts are kept for the batch's retention, and pruned during normal writes.

use std::time::Duration;

use super::{hours_around, id_of, t, update, Factory};
use crate::store::{hour_of, Batch, GroupUpdate, Store, TicketId};

const H: i64 = 3_600_000_000;

/// Writes `groups` as one batch that keeps `hours` hours of hourly counts.
fn write_keeping(store: &mut dyn Store, groups: Vec<GroupUpdate>, hours: u64) {
    let mut b = Batch::new(groups);
    b.hourly_retention = Duration::from_secs(hours * 3600);
    store
        .write(&b)
        .unwrap_or_else(|e| panic!("write failed: {e}"));
}

/// The hourly counts of `ids` within 50 hours of `h0`, as (ticket, hour - h0, count).
fn hours_of(s: &dyn Store, ids: &[TicketId], h0: i64) -> Vec<(TicketId, i64, u64)> {
    hours_around(s, ids, h0, -50, 50)
}

/// A write deletes the hourly counts of hours older than the retention before its newest
/// occurrence, of every ticket (written in that batch or not), and keeps the hour at the
/// retention's edge; the tickets and their counts stay.
pub fn hourly_counts_older_than_the_retention_are_pruned(make: Factory<'_>) {
    let mut s = make();
    let h0 = hour_of(t(0));
    let start = h0 * H - t(0).as_micros();
    write_keeping(
        &mut *s,
        vec![update("a", 3, start, start), update("b", 1, start, start)],
        2,
    );
    write_keeping(&mut *s, vec![update("c", 1, start + H, start + H)], 2);
    // Hour h0 + 2, kept for 2 hours: hour h0 is at the edge and stays.
    write_keeping(
        &mut *s,
        vec![update("c", 2, start + 2 * H, start + 2 * H)],
        2,
    );
    let (a, b, c) = (id_of(&*s, "a"), id_of(&*s, "b"), id_of(&*s, "c"));
    let mut expected = vec![(a, 0, 3), (b, 0, 1), (c, 1, 1), (c, 2, 2)];
    expected.sort_by_key(|&(id, hour, _)| (id, hour));
    assert_eq!(
        hours_of(&*s, &[a, b, c], h0),
        expected,
        "within the retention"
    );
    // Hour h0 + 3: hour h0 is older than 2 hours, for a and b, which were not written.
    write_keeping(
        &mut *s,
        vec![update("c", 4, start + 3 * H, start + 3 * H)],
        2,
    );
    assert_eq!(
        hours_of(&*s, &[a, b, c], h0),
        [(c, 1, 1), (c, 2, 2), (c, 3, 4)],
        "hour h0 pruned"
    );
    let a_ticket = s.get(a).ok().flatten().expect("a is kept");
    assert_eq!(a_ticket.count, 3);
}

/// However many expired hours there are, writes work them off: a bounded number per write,
/// all of them after a few writes.
pub fn a_backlog_of_expired_hours_is_worked_off_over_writes(make: Factory<'_>) {
    let mut s = make();
    let h0 = hour_of(t(0));
    let start = h0 * H - t(0).as_micros();
    let names: Vec<String> = (0..40).map(|i| format!("old-{i}")).collect();
    for hour in 0..3 {
        let at = start + hour * H;
        write_keeping(
            &mut *s,
            names.iter().map(|n| update(n, 1, at, at)).collect(),
            24 * 365,
        );
    }
    let ids: Vec<TicketId> = names.iter().map(|n| id_of(&*s, n)).collect();
    assert_eq!(hours_of(&*s, &ids, h0).len(), 120);
    // A month later, keeping a day: every old hour expires.
    let later = start + 30 * 24 * H;
    let mut writes = 0;
    while !hours_of(&*s, &ids, h0).is_empty() {
        writes += 1;
        assert!(writes <= 20, "expired hours still there after 20 writes");
        write_keeping(&mut *s, vec![update("new", 1, later, later)], 24);
    }
    let new = id_of(&*s, "new");
    assert_eq!(
        hours_of(&*s, &[new], h0 + 30 * 24),
        [(new, 0, writes)],
        "the new ticket's hour stays"
    );
}
