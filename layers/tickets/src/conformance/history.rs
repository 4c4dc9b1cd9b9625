//! The status history: every change, by triage or by occurrences, in the order made.

use super::{id_of, t, update, write, Factory};
use crate::store::{Mute, StatusChange, StatusEvent, TicketId, Timestamp};

/// The changes of ticket `id`.
fn changes(s: &dyn crate::store::Store, id: TicketId) -> Vec<StatusEvent> {
    s.history(id)
        .unwrap_or_else(|e| panic!("history failed: {e}"))
}

/// Resolve, a regression, a count mute, the occurrence that ends it, and a reopen are each
/// recorded with their time and details, in the order they were made; a ticket that never
/// changed, a missing one and a deleted one have none.
pub fn status_history_keeps_every_change_in_order(make: Factory<'_>) {
    let mut s = make();
    write(&mut *s, vec![update("a", 1, 0, 10), update("b", 1, 0, 10)]);
    let (a, b) = (id_of(&*s, "a"), id_of(&*s, "b"));
    assert_eq!(changes(&*s, a), []);
    assert_eq!(s.resolve(a, Some("1.0"), t(100)).ok(), Some(true));
    let mut newer = update("a", 1, 200, 200);
    newer.release = Some("1.1".into());
    write(&mut *s, vec![newer]);
    let before = Timestamp::now();
    assert_eq!(s.mute(a, Mute::Count(2)).ok(), Some(true));
    write(&mut *s, vec![update("a", 3, 300, 300)]);
    assert_eq!(s.reopen(a).ok(), Some(true));
    let after = Timestamp::now();
    let h = changes(&*s, a);
    let kinds: Vec<&str> = h.iter().map(|e| e.change.kind()).collect();
    assert_eq!(
        kinds,
        ["resolved", "regressed", "muted", "unmuted", "reopened"],
        "{h:?}"
    );
    assert_eq!(
        h[0],
        StatusEvent::new(
            t(100),
            StatusChange::Resolved {
                release: Some("1.0".into())
            }
        )
    );
    assert_eq!(h[1], StatusEvent::new(t(200), StatusChange::Regressed));
    assert_eq!(h[2].change, StatusChange::Muted(Mute::Count(2)));
    assert!(h[2].at >= before && h[2].at <= after, "{h:?}");
    assert_eq!(h[3], StatusEvent::new(t(300), StatusChange::Unmuted));
    assert!(h[4].at >= before && h[4].at <= after, "{h:?}");
    let by_triage: Vec<bool> = h.iter().map(|e| e.change.by_triage()).collect();
    assert_eq!(by_triage, [true, false, true, false, true]);

    // A mute until a time and a mute forever keep their condition.
    assert_eq!(s.mute(b, Mute::Until(t(5_000))).ok(), Some(true));
    assert_eq!(s.mute(b, Mute::Forever).ok(), Some(true));
    assert_eq!(s.resolve(b, None, t(6_000)).ok(), Some(true));
    let hb: Vec<StatusChange> = changes(&*s, b).into_iter().map(|e| e.change).collect();
    assert_eq!(
        hb,
        [
            StatusChange::Muted(Mute::Until(t(5_000))),
            StatusChange::Muted(Mute::Forever),
            StatusChange::Resolved { release: None },
        ]
    );

    // Nothing for a missing ticket; deleting a ticket deletes its history.
    let missing = TicketId(a.0.max(b.0) + 1000);
    assert_eq!(s.resolve(missing, None, t(1)).ok(), Some(false));
    assert_eq!(changes(&*s, missing), []);
    assert_eq!(s.delete(a).ok(), Some(true));
    assert_eq!(changes(&*s, a), []);
}
