//! The listing checks: filters, sorting, paging and the per-hour counts the UI draws.

use super::{hours_around, id_of, t, update, write, Factory};
use crate::store::{hour_of, Level, ListQuery, Sort, Status, Store, TagCount, TicketId};

/// `list` filters by status and time, sorts by count or last seen, and pages; `count` agrees.
pub fn list_filters_sorts_and_pages(make: Factory<'_>) {
    let mut s = make();
    write(
        &mut *s,
        vec![
            update("a", 5, 0, 100),
            update("b", 50, 0, 300),
            update("c", 1, 0, 200),
            update("d", 20, 0, 50),
        ],
    );
    let fps = |s: &dyn Store, q: &ListQuery| -> Vec<String> {
        s.list(q)
            .unwrap_or_else(|e| panic!("list failed: {e}"))
            .into_iter()
            .map(|t| t.fingerprint)
            .collect()
    };
    assert_eq!(fps(&*s, &ListQuery::default()), ["b", "c", "a", "d"]);
    let by_count = ListQuery::default().with_sort(Sort::Count);
    assert_eq!(fps(&*s, &by_count), ["b", "d", "a", "c"]);
    assert_eq!(fps(&*s, &by_count.clone().with_limit(2)), ["b", "d"]);
    assert_eq!(
        fps(&*s, &by_count.clone().with_limit(2).with_offset(2)),
        ["a", "c"]
    );
    assert_eq!(
        fps(&*s, &by_count.clone().with_offset(10)),
        Vec::<String>::new()
    );
    let since = ListQuery::default().with_since(t(100));
    assert_eq!(fps(&*s, &since), ["b", "c", "a"]);
    assert_eq!(s.count(&since).ok(), Some(3));
    let c = id_of(&*s, "c");
    assert_eq!(s.resolve(c, None, t(400)).ok(), Some(true));
    let open = ListQuery::default().with_status(Status::Open);
    assert_eq!(fps(&*s, &open), ["b", "a", "d"]);
    assert_eq!(s.count(&open).ok(), Some(3));
    assert_eq!(
        fps(&*s, &ListQuery::default().with_status(Status::Resolved)),
        ["c"]
    );
    assert_eq!(
        fps(
            &*s,
            &ListQuery::default()
                .with_status(Status::Open)
                .with_since(t(100))
                .with_sort(Sort::Count)
        ),
        ["b", "a"]
    );
}

/// `list` and `count` filter by level, service, release (a `release` tag value), title text
/// (ASCII letters in any case, no wildcards) and a seen range (last seen at or after `since`,
/// first seen at or before `until`), each alone and combined.
pub fn list_filters_by_level_service_release_title_and_range(make: Factory<'_>) {
    let mut s = make();
    let titled = |fp: &str, title: &str, first: i64, last: i64| {
        let mut u = update(fp, 1, first, last);
        u.title = Some(title.to_owned());
        u
    };
    let mut a = titled("a", "Timeout talking to db", 0, 100);
    a.tags.push(TagCount {
        key: "release".into(),
        value: "1.0".into(),
        count: 1,
    });
    let mut b = titled("b", "payment declined: 100% of 5_ items", 50, 300);
    b.seed.level = Level::WARN;
    b.tags.push(TagCount {
        key: "release".into(),
        value: "2.0".into(),
        count: 1,
    });
    let mut c = titled("c", "db TIMEOUT on \u{e9}t\u{e9}", 200, 400);
    c.seed.service = Some("billing".into());
    c.tags.push(TagCount {
        key: "host".into(),
        value: "1.0".into(),
        count: 1,
    });
    write(&mut *s, vec![a, b, c]);
    let fps = |q: &ListQuery| -> Vec<String> {
        let mut v: Vec<String> = s
            .list(q)
            .unwrap_or_else(|e| panic!("list failed: {e}"))
            .into_iter()
            .map(|t| t.fingerprint)
            .collect();
        v.sort();
        assert_eq!(s.count(q).ok(), Some(v.len() as u64), "count of {q:?}");
        v
    };
    let q = ListQuery::default;
    assert_eq!(fps(&q().with_level(Level::WARN)), ["b"]);
    assert_eq!(fps(&q().with_level(Level::ERROR)), ["a", "c"]);
    assert_eq!(fps(&q().with_service("billing")), ["c"]);
    assert_eq!(fps(&q().with_service("checkout")), ["a", "b"]);
    assert_eq!(fps(&q().with_service("none")), Vec::<String>::new());
    assert_eq!(
        fps(&q().with_release("1.0")),
        ["a"],
        "a host tag is no release"
    );
    assert_eq!(fps(&q().with_release("2.0")), ["b"]);
    assert_eq!(fps(&q().with_release("3.0")), Vec::<String>::new());
    assert_eq!(fps(&q().with_search("timeout")), ["a", "c"]);
    assert_eq!(fps(&q().with_search("TimeOut")), ["a", "c"]);
    assert_eq!(fps(&q().with_search("100%")), ["b"]);
    assert_eq!(fps(&q().with_search("%")), ["b"], "no wildcard");
    assert_eq!(fps(&q().with_search("5_ i")), ["b"]);
    assert_eq!(fps(&q().with_search("_")), ["b"], "no wildcard");
    assert_eq!(
        fps(&q().with_search(".*")),
        Vec::<String>::new(),
        "no pattern"
    );
    assert_eq!(fps(&q().with_search("\u{e9}t\u{e9}")), ["c"]);
    assert_eq!(fps(&q().with_search("")), ["a", "b", "c"]);
    assert_eq!(fps(&q().with_until(t(50))), ["a", "b"]);
    assert_eq!(fps(&q().with_since(t(150)).with_until(t(250))), ["b", "c"]);
    assert_eq!(
        fps(&q()
            .with_search("timeout")
            .with_service("checkout")
            .with_release("1.0")
            .with_level(Level::ERROR)),
        ["a"]
    );
}

/// Each write adds its count to its ticket's hour of its newest occurrence; `hourly` returns
/// the hours in the asked range with counts, by ticket then hour; deleting a ticket drops its
/// hours.
pub fn hourly_counts_add_each_write_to_its_newest_hour(make: Factory<'_>) {
    let mut s = make();
    const H: i64 = 3_600_000_000;
    // `t(0)` is some time into an hour: find the hour's start.
    let h0 = hour_of(t(0));
    let start = h0 * H - t(0).as_micros();
    write(
        &mut *s,
        vec![
            update("a", 3, start, start + 10),
            update("b", 1, start, start),
        ],
    );
    write(&mut *s, vec![update("a", 4, start + 20, start + 30)]);
    // Spans two hours: counted in the hour of its newest occurrence.
    write(&mut *s, vec![update("a", 5, start + 40, start + 2 * H + 5)]);
    write(&mut *s, vec![update("b", 7, start + 3 * H, start + 3 * H)]);
    let (a, b) = (id_of(&*s, "a"), id_of(&*s, "b"));
    let mut expected = vec![(a, 0, 7), (a, 2, 5), (b, 0, 1), (b, 3, 7)];
    expected.sort_by_key(|&(id, hour, _)| (id, hour));
    assert_eq!(hours_around(&*s, &[b, a], h0, -5, 5), expected);
    assert_eq!(hours_around(&*s, &[a], h0, 1, 2), [(a, 2, 5)]);
    assert_eq!(
        hours_around(&*s, &[TicketId(a.0.max(b.0) + 1000)], h0, -5, 5),
        []
    );
    assert_eq!(s.delete(a).ok(), Some(true));
    assert_eq!(
        hours_around(&*s, &[a, b], h0, -5, 5),
        [(b, 0, 1), (b, 3, 7)]
    );
    write(&mut *s, vec![update("a", 2, start + 5, start + 5)]);
    let a2 = id_of(&*s, "a");
    assert_eq!(hours_around(&*s, &[a2], h0, -5, 5), [(a2, 0, 2)]);
}
