//! A conformance suite for [`Store`] implementations: the rules of [`crate::store`], checked
//! through the trait alone, so every backend (SQLite here, MongoDB later, a user's own) runs
//! the same tests.
//!
//! Each check takes a factory that returns a fresh, empty store, and panics (like `assert!`)
//! when the store breaks a rule. Call [`run_all`] from a test:
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use taskwire_tickets::{conformance, Sqlite, Store};
//! conformance::run_all(&|| Box::new(Sqlite::open_in_memory().unwrap()) as Box<dyn Store>);
//! # }
//! ```
//!
//! The concurrency check, [`concurrent_writers_add_up`], needs several handles on one
//! database (threads standing for processes): give it a function that opens one more handle on
//! the same, initially empty, database each time it is called.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use taskwire_tickets::{conformance, Sqlite, Store};
//! let path = std::env::temp_dir().join(format!("tw-conc-doc-{}.db", std::process::id()));
//! # let _ = std::fs::remove_file(&path);
//! conformance::concurrent_writers_add_up(&|| Box::new(Sqlite::open(&path).unwrap()) as Box<dyn Store>);
//! # let _ = std::fs::remove_file(&path);
//! # }
//! ```

use crate::store::{
    Batch, GroupUpdate, JsonText, Level, ListQuery, Mute, OccurrenceQuery, Sample, Status, Store,
    TagCount, TicketId, TicketSeed, Timestamp, OTHER_TAG_VALUE,
};

mod listing;
pub use listing::{
    hourly_counts_add_each_write_to_its_newest_hour,
    list_filters_by_level_service_release_title_and_range, list_filters_sorts_and_pages,
};

mod written;

mod history;
pub use history::status_history_keeps_every_change_in_order;

mod hours;
pub use hours::{
    a_backlog_of_expired_hours_is_worked_off_over_writes,
    hourly_counts_older_than_the_retention_are_pruned,
};

pub use written::write_reports_created_regressed_and_unmuted;

/// Makes a fresh, empty store.
pub type Factory<'a> = &'a dyn Fn() -> Box<dyn Store>;

/// Opens one more handle on a shared database (every call the same database).
pub type Opener<'a> = &'a (dyn Fn() -> Box<dyn Store> + Sync);

/// Runs every check.
pub fn run_all(make: Factory<'_>) {
    counts_are_exact_sums(make);
    first_and_last_seen_widen_and_title_is_kept(make);
    list_filters_sorts_and_pages(make);
    list_filters_by_level_service_release_title_and_range(make);
    hourly_counts_add_each_write_to_its_newest_hour(make);
    hourly_counts_older_than_the_retention_are_pruned(make);
    a_backlog_of_expired_hours_is_worked_off_over_writes(make);
    missing_tickets_are_none_or_false(make);
    first_sample_and_newest_n_are_kept(make);
    occurrences_page_both_ways(make);
    tags_are_summed_and_capped(make);
    resolved_ticket_regresses_on_a_newer_occurrence(make);
    resolved_in_a_release_regresses_only_from_another_release(make);
    mute_until_a_time(make);
    mute_for_n_more_occurrences(make);
    mute_forever_and_reopen(make);
    delete_removes_samples_and_tags(make);
    write_once_applies_each_key_once(make);
    write_reports_created_regressed_and_unmuted(make);
    status_history_keeps_every_change_in_order(make);
}

fn t(us: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + us)
}

fn update(fp: &str, count: u64, first: i64, last: i64) -> GroupUpdate {
    let mut seed = TicketSeed::new(Level::ERROR, "app::db");
    seed.service = Some("checkout".into());
    seed.module = Some("app::db".into());
    seed.file = Some("src/db.rs".into());
    seed.line = Some(42);
    let mut u = GroupUpdate::new(fp, seed, count, t(first), t(last));
    u.title = Some(format!("title of {fp}"));
    u
}

fn sample(at: i64, message: &str) -> Sample {
    let mut s = Sample::new(t(at));
    s.level = Some(Level::ERROR);
    s.message = message.to_owned();
    s.fields = JsonText::rendered(format!("{{\"n\":{at}}}"));
    s.trace_id = Some("4bf92f3577b34da6a3ce929d0e0e4736".into());
    s.span_id = Some("00f067aa0ba902b7".into());
    s.host = "host-1".into();
    s.pid = 7;
    s.thread = "main".into();
    s
}

fn write(store: &mut dyn Store, groups: Vec<GroupUpdate>) {
    store
        .write(&Batch::new(groups))
        .unwrap_or_else(|e| panic!("write failed: {e}"));
}

fn id_of(store: &dyn Store, fp: &str) -> TicketId {
    store
        .find(fp)
        .unwrap_or_else(|e| panic!("find failed: {e}"))
        .unwrap_or_else(|| panic!("no ticket for {fp}"))
        .id
}

/// The hourly counts of `ids` in the hours `from..=to` after `h0` (negative: before), as
/// (ticket, hour - h0, count).
fn hours_around(
    s: &dyn Store,
    ids: &[TicketId],
    h0: i64,
    from: i64,
    to: i64,
) -> Vec<(TicketId, i64, u64)> {
    s.hourly(ids, h0 + from, h0 + to)
        .unwrap_or_else(|e| panic!("hourly failed: {e}"))
        .into_iter()
        .map(|h| (h.ticket, h.hour - h0, h.count))
        .collect()
}

fn status(store: &dyn Store, fp: &str) -> Status {
    store
        .find(fp)
        .ok()
        .flatten()
        .map(|t| t.status)
        .unwrap_or_else(|| panic!("no ticket for {fp}"))
}

/// Updates of one fingerprint make one ticket whose count is their exact sum.
pub fn counts_are_exact_sums(make: Factory<'_>) {
    let mut s = make();
    write(&mut *s, vec![update("a", 3, 0, 10), update("b", 1, 5, 5)]);
    write(&mut *s, vec![update("a", 4, 20, 30)]);
    write(&mut *s, vec![update("a", u64::from(u32::MAX), 40, 40)]);
    let a = s.find("a").ok().flatten().expect("ticket a");
    assert_eq!(a.count, 7 + u64::from(u32::MAX));
    assert_eq!(s.count(&ListQuery::default()).ok(), Some(2));
    assert_eq!(a.status, Status::Open);
    assert_eq!(a.seed.level, Level::ERROR);
    assert_eq!(a.seed.service.as_deref(), Some("checkout"));
    assert_eq!(a.seed.target, "app::db");
    assert_eq!(a.seed.file.as_deref(), Some("src/db.rs"));
    assert_eq!(a.seed.line, Some(42));
    assert_eq!(s.get(a.id).ok().flatten().map(|x| x.count), Some(a.count));
}

/// First seen only moves back, last seen only forward; a title is set once (an empty one is
/// filled later).
pub fn first_and_last_seen_widen_and_title_is_kept(make: Factory<'_>) {
    let mut s = make();
    let mut u = update("a", 1, 100, 200);
    u.title = None;
    write(&mut *s, vec![u]);
    assert_eq!(
        s.find("a").ok().flatten().map(|x| x.title),
        Some(String::new())
    );
    let mut u = update("a", 1, 50, 150);
    u.title = Some("first title".into());
    write(&mut *s, vec![u]);
    let mut u = update("a", 1, 120, 300);
    u.title = Some("second title".into());
    write(&mut *s, vec![u]);
    let a = s.find("a").ok().flatten().expect("ticket a");
    assert_eq!(a.first_seen, t(50));
    assert_eq!(a.last_seen, t(300));
    assert_eq!(a.title, "first title");
}

/// Lookups of missing tickets return `None`; status changes on them return `false`.
pub fn missing_tickets_are_none_or_false(make: Factory<'_>) {
    let mut s = make();
    let id = TicketId(987_654);
    assert!(s.get(id).ok().flatten().is_none());
    assert!(s.find("nope").ok().flatten().is_none());
    assert_eq!(s.resolve(id, None, t(0)).ok(), Some(false));
    assert_eq!(s.mute(id, Mute::Forever).ok(), Some(false));
    assert_eq!(s.reopen(id).ok(), Some(false));
    assert_eq!(s.delete(id).ok(), Some(false));
    assert_eq!(
        s.occurrences(id, &OccurrenceQuery::newest()).ok(),
        Some(vec![])
    );
    assert_eq!(s.tags(id).ok(), Some(vec![]));
}

/// Per ticket the first sample is kept forever, plus the newest N; counts do not depend on
/// samples.
pub fn first_sample_and_newest_n_are_kept(make: Factory<'_>) {
    let mut s = make();
    let mut n = 0;
    for batch in 0..5 {
        let mut u = update("a", 1000, batch * 100, batch * 100 + 99);
        for i in 0..7 {
            let at = batch * 100 + i;
            u.samples.push(sample(at, &format!("message {at}")));
            n += 1;
        }
        let mut b = Batch::new(vec![u]);
        b.samples_per_ticket = 4;
        s.write(&b).unwrap_or_else(|e| panic!("write failed: {e}"));
    }
    assert_eq!(n, 35);
    let id = id_of(&*s, "a");
    let all = s
        .occurrences(id, &OccurrenceQuery::oldest().with_limit(100))
        .unwrap_or_else(|e| panic!("occurrences failed: {e}"));
    let times: Vec<i64> = all
        .iter()
        .map(|o| o.sample.time.as_micros() - t(0).as_micros())
        .collect();
    assert_eq!(times, [0, 403, 404, 405, 406]);
    assert!(all[0].first);
    assert!(all[1..].iter().all(|o| !o.first));
    assert_eq!(all[0].sample.message, "message 0");
    assert_eq!(all[0].sample.fields, "{\"n\":0}");
    assert_eq!(
        all[0].sample.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(all[0].ticket, id);
    assert_eq!(s.get(id).ok().flatten().map(|x| x.count), Some(5000));
}

/// Occurrences come newest first or oldest first, a page at a time.
pub fn occurrences_page_both_ways(make: Factory<'_>) {
    let mut s = make();
    let mut u = update("a", 5, 0, 4);
    for i in 0..5 {
        u.samples.push(sample(i, &format!("m{i}")));
    }
    write(&mut *s, vec![u]);
    let id = id_of(&*s, "a");
    let msgs = |q: OccurrenceQuery| -> Vec<String> {
        s.occurrences(id, &q)
            .unwrap_or_else(|e| panic!("occurrences failed: {e}"))
            .into_iter()
            .map(|o| o.sample.message)
            .collect()
    };
    assert_eq!(
        msgs(OccurrenceQuery::newest()),
        ["m4", "m3", "m2", "m1", "m0"]
    );
    assert_eq!(msgs(OccurrenceQuery::oldest().with_limit(2)), ["m0", "m1"]);
    assert_eq!(
        msgs(OccurrenceQuery::newest().with_limit(2).with_offset(1)),
        ["m3", "m2"]
    );
}

/// Tag counts add up per value; beyond the cap, new values count as `(other)`.
pub fn tags_are_summed_and_capped(make: Factory<'_>) {
    let mut s = make();
    let tag = |k: &str, v: &str, c: u64| TagCount {
        key: k.into(),
        value: v.into(),
        count: c,
    };
    let mut u = update("a", 6, 0, 1);
    u.tags = vec![
        tag("route", "/a", 3),
        tag("route", "/b", 2),
        tag("host", "h1", 6),
    ];
    let mut b = Batch::new(vec![u]);
    b.max_tag_values = 2;
    s.write(&b).unwrap_or_else(|e| panic!("write failed: {e}"));
    let mut u = update("a", 4, 2, 3);
    u.tags = vec![
        tag("route", "/a", 1),
        tag("route", "/c", 3),
        tag("host", "h1", 4),
    ];
    let mut b = Batch::new(vec![u]);
    b.max_tag_values = 2;
    s.write(&b).unwrap_or_else(|e| panic!("write failed: {e}"));
    let id = id_of(&*s, "a");
    let got = s.tags(id).unwrap_or_else(|e| panic!("tags failed: {e}"));
    assert_eq!(
        got,
        vec![
            tag("host", "h1", 10),
            tag("route", "/a", 4),
            tag("route", OTHER_TAG_VALUE, 3),
            tag("route", "/b", 2),
        ]
    );
}

/// A resolved ticket reopens as a regression on an occurrence newer than its resolution; an
/// older one (counted late) only counts.
pub fn resolved_ticket_regresses_on_a_newer_occurrence(make: Factory<'_>) {
    let mut s = make();
    write(&mut *s, vec![update("a", 1, 0, 10)]);
    let id = id_of(&*s, "a");
    assert_eq!(s.resolve(id, None, t(100)).ok(), Some(true));
    let r = s.get(id).ok().flatten().expect("ticket");
    assert_eq!(r.status, Status::Resolved);
    assert_eq!(r.resolved_at, Some(t(100)));
    write(&mut *s, vec![update("a", 2, 50, 90)]);
    assert_eq!(status(&*s, "a"), Status::Resolved);
    write(&mut *s, vec![update("a", 1, 150, 150)]);
    let r = s.get(id).ok().flatten().expect("ticket");
    assert_eq!(r.status, Status::Open);
    assert_eq!(r.regressed_at, Some(t(150)));
    assert_eq!(r.count, 4);
}

/// A ticket resolved in a release regresses only from another release.
pub fn resolved_in_a_release_regresses_only_from_another_release(make: Factory<'_>) {
    let mut s = make();
    write(&mut *s, vec![update("a", 1, 0, 10)]);
    let id = id_of(&*s, "a");
    assert_eq!(s.resolve(id, Some("1.0"), t(100)).ok(), Some(true));
    assert_eq!(
        s.get(id).ok().flatten().and_then(|x| x.resolved_in_release),
        Some("1.0".into())
    );
    let mut u = update("a", 3, 200, 210);
    u.release = Some("1.0".into());
    write(&mut *s, vec![u]);
    assert_eq!(status(&*s, "a"), Status::Resolved);
    let mut u = update("a", 1, 300, 300);
    u.release = Some("1.1".into());
    write(&mut *s, vec![u]);
    let r = s.get(id).ok().flatten().expect("ticket");
    assert_eq!(r.status, Status::Open);
    assert_eq!(r.regressed_at, Some(t(300)));
    assert_eq!(r.count, 5);
}

/// A ticket muted until a time keeps counting, and reopens (not as a regression) with the
/// first occurrence at or after that time.
pub fn mute_until_a_time(make: Factory<'_>) {
    let mut s = make();
    write(&mut *s, vec![update("a", 1, 0, 0)]);
    let id = id_of(&*s, "a");
    assert_eq!(s.mute(id, Mute::Until(t(1000))).ok(), Some(true));
    let m = s.get(id).ok().flatten().expect("ticket");
    assert_eq!(
        (m.status, m.mute),
        (Status::Muted, Some(Mute::Until(t(1000))))
    );
    write(&mut *s, vec![update("a", 10, 100, 999)]);
    let m = s.get(id).ok().flatten().expect("ticket");
    assert_eq!((m.status, m.count), (Status::Muted, 11));
    write(&mut *s, vec![update("a", 1, 1000, 1000)]);
    let m = s.get(id).ok().flatten().expect("ticket");
    assert_eq!(
        (m.status, m.mute, m.regressed_at),
        (Status::Open, None, None)
    );
}

/// A ticket muted for N more occurrences absorbs N, and reopens with the one after.
pub fn mute_for_n_more_occurrences(make: Factory<'_>) {
    let mut s = make();
    write(&mut *s, vec![update("a", 5, 0, 0)]);
    let id = id_of(&*s, "a");
    assert_eq!(s.mute(id, Mute::Count(3)).ok(), Some(true));
    assert_eq!(
        s.get(id).ok().flatten().and_then(|x| x.mute),
        Some(Mute::Count(3))
    );
    write(&mut *s, vec![update("a", 2, 1, 1)]);
    assert_eq!(
        s.get(id).ok().flatten().and_then(|x| x.mute),
        Some(Mute::Count(1))
    );
    write(&mut *s, vec![update("a", 1, 2, 2)]);
    assert_eq!(status(&*s, "a"), Status::Muted);
    write(&mut *s, vec![update("a", 1, 3, 3)]);
    let m = s.get(id).ok().flatten().expect("ticket");
    assert_eq!((m.status, m.count, m.mute), (Status::Open, 9, None));
}

/// A ticket muted forever stays muted whatever comes; reopen opens it and clears mute and
/// resolution.
pub fn mute_forever_and_reopen(make: Factory<'_>) {
    let mut s = make();
    write(&mut *s, vec![update("a", 1, 0, 0)]);
    let id = id_of(&*s, "a");
    assert_eq!(s.mute(id, Mute::Forever).ok(), Some(true));
    write(&mut *s, vec![update("a", 1000, 1, i64::from(u32::MAX))]);
    let m = s.get(id).ok().flatten().expect("ticket");
    assert_eq!(
        (m.status, m.mute, m.count),
        (Status::Muted, Some(Mute::Forever), 1001)
    );
    assert_eq!(s.reopen(id).ok(), Some(true));
    let m = s.get(id).ok().flatten().expect("ticket");
    assert_eq!((m.status, m.mute), (Status::Open, None));
    assert_eq!(s.resolve(id, Some("2.0"), t(10)).ok(), Some(true));
    assert_eq!(s.reopen(id).ok(), Some(true));
    let m = s.get(id).ok().flatten().expect("ticket");
    assert_eq!((m.resolved_at, m.resolved_in_release), (None, None));
}

/// Deleting a ticket removes its samples and tags; the same fingerprint then starts afresh.
pub fn delete_removes_samples_and_tags(make: Factory<'_>) {
    let mut s = make();
    let mut u = update("a", 2, 0, 1);
    u.samples.push(sample(0, "m"));
    u.tags.push(TagCount {
        key: "host".into(),
        value: "h".into(),
        count: 2,
    });
    write(&mut *s, vec![u, update("b", 1, 0, 0)]);
    let id = id_of(&*s, "a");
    assert_eq!(s.delete(id).ok(), Some(true));
    assert!(s.get(id).ok().flatten().is_none());
    assert_eq!(
        s.occurrences(id, &OccurrenceQuery::newest()).ok(),
        Some(vec![])
    );
    assert_eq!(s.tags(id).ok(), Some(vec![]));
    assert_eq!(s.count(&ListQuery::default()).ok(), Some(1));
    write(&mut *s, vec![update("a", 1, 5, 5)]);
    assert_eq!(s.find("a").ok().flatten().map(|x| x.count), Some(1));
}

/// [`TicketWriter::write_once`] applies a `(key, batch)` once however often it is written, and
/// other keys as usual. Skipped for a store without a spool that refuses `write_once` (the
/// trait's default).
pub fn write_once_applies_each_key_once(make: Factory<'_>) {
    let mut s = make();
    let mut batch = Batch::new(vec![update("once", 3, 0, 1)]);
    batch.groups[0].tags = vec![TagCount {
        key: "level".into(),
        value: "ERROR".into(),
        count: 3,
    }];
    match s.write_once(&batch, 7) {
        Err(e)
            if s.spool_path().is_none() && e.kind() == crate::store::ErrorKind::InvalidConfig =>
        {
            return
        }
        first => assert!(first.expect("write_once"), "a new key is applied"),
    }
    assert!(
        !s.write_once(&batch, 7).expect("write_once again"),
        "a known key is skipped"
    );
    assert!(s.write_once(&batch, 8).expect("write_once, other key"));
    let ticket = s.find("once").expect("find").expect("the ticket");
    assert_eq!(ticket.count, 6, "two keys, each counted once");
    let tags = s.tags(ticket.id).expect("tags");
    assert_eq!(tags.iter().map(|t| t.count).sum::<u64>(), 6);
}

/// Several writers (one handle and thread each, like processes) write overlapping batches at
/// once: counts are exact sums with one ticket per fingerprint, a resolved ticket regresses, a
/// muted one stays muted and counts, samples stay within the first plus N, and tag values stop
/// at the cap with every count kept.
pub fn concurrent_writers_add_up(open: Opener<'_>) {
    const WRITERS: u64 = 4;
    const ROUNDS: u64 = 25;
    let fps = ["c0", "c1", "c2", "c3", "c4", "c5", "resolved", "muted"];
    {
        let mut s = open();
        write(
            &mut *s,
            vec![update("resolved", 1, 0, 0), update("muted", 1, 0, 0)],
        );
        let r = id_of(&*s, "resolved");
        assert_eq!(s.resolve(r, None, t(10)).ok(), Some(true));
        let m = id_of(&*s, "muted");
        assert_eq!(s.mute(m, Mute::Forever).ok(), Some(true));
    }
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            scope.spawn(move || {
                let mut s = open();
                for round in 0..ROUNDS {
                    let at = 100 + (round * WRITERS + w) as i64;
                    let groups = fps
                        .iter()
                        .map(|fp| {
                            let mut u = update(fp, w + 1, at, at);
                            u.samples.push(sample(at, &format!("{fp} w{w} r{round}")));
                            u.tags = vec![
                                TagCount {
                                    key: "writer".into(),
                                    value: format!("w{w}"),
                                    count: w + 1,
                                },
                                TagCount {
                                    key: "host".into(),
                                    value: "h".into(),
                                    count: w + 1,
                                },
                            ];
                            u
                        })
                        .collect();
                    let mut b = Batch::new(groups);
                    b.samples_per_ticket = 5;
                    b.max_tag_values = 2;
                    // a busy store is retried with the same batch, as the layer's writer does
                    let mut backoff = std::time::Duration::from_millis(10);
                    loop {
                        match s.write(&b) {
                            Err(e) if e.kind() == crate::store::ErrorKind::Busy => {
                                std::thread::sleep(backoff);
                                backoff = (backoff * 2).min(std::time::Duration::from_millis(500));
                            }
                            other => {
                                other.unwrap_or_else(|e| panic!("writer {w} round {round}: {e}"));
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    let s = open();
    let per_fp: u64 = (1..=WRITERS).sum::<u64>() * ROUNDS;
    let all = s
        .list(&ListQuery::default().with_limit(100))
        .unwrap_or_else(|e| panic!("list failed: {e}"));
    assert_eq!(all.len(), fps.len(), "one ticket per fingerprint");
    for fp in fps {
        let tk = s.find(fp).ok().flatten().expect("ticket");
        let base = u64::from(fp == "resolved" || fp == "muted");
        assert_eq!(tk.count, per_fp + base, "{fp}");
        let occ = s
            .occurrences(tk.id, &OccurrenceQuery::oldest().with_limit(100))
            .unwrap_or_else(|e| panic!("occurrences failed: {e}"));
        assert_eq!(
            occ.iter().filter(|o| o.first).count(),
            1,
            "{fp}: one first sample"
        );
        assert_eq!(occ.len(), 6, "{fp}: the first and the newest 5");
        let newest: Vec<i64> = occ[1..].iter().map(|o| o.sample.time.as_micros()).collect();
        let last = t(100 + (ROUNDS * WRITERS) as i64 - 1).as_micros();
        assert_eq!(
            newest,
            (last - 4..=last).collect::<Vec<_>>(),
            "{fp}: newest 5"
        );
        let tags = s.tags(tk.id).unwrap_or_else(|e| panic!("tags failed: {e}"));
        let writer: Vec<&TagCount> = tags.iter().filter(|t| t.key == "writer").collect();
        assert_eq!(
            writer.iter().filter(|t| t.value != OTHER_TAG_VALUE).count(),
            2,
            "{fp}: the cap of 2 values holds: {writer:?}"
        );
        assert_eq!(writer.iter().map(|t| t.count).sum::<u64>(), per_fp, "{fp}");
        assert_eq!(
            tags.iter().find(|t| t.key == "host").map(|t| t.count),
            Some(per_fp),
            "{fp}"
        );
        match fp {
            "resolved" => {
                assert_eq!(tk.status, Status::Open);
                assert!(tk.regressed_at.is_some_and(|r| r >= t(100)));
            }
            "muted" => assert_eq!(tk.status, Status::Muted),
            _ => assert_eq!(tk.status, Status::Open),
        }
    }
}
