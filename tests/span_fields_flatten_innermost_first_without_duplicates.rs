//! The fields of every enclosing span are flattened into each event: the innermost span wins
//! over its ancestors, an event field wins over any span field, a key is never written twice,
//! and `Span::record` (of a field declared `Empty`, or re-recording one) shows in later events.

mod support;

use taskwire_test_support::json_line;
use taskwire_test_support::Capture;

use serde_json::json;
use tracing::field::Empty;

#[test]
fn three_levels_innermost_wins_and_the_event_beats_every_span() {
    let records = support::capture(|| {
        let outer = tracing::info_span!("outer", shared = "outer", mid_and_out = "outer", o = 1);
        let _o = outer.enter();
        let middle =
            tracing::info_span!("middle", shared = "middle", mid_and_out = "middle", m = 2);
        let _m = middle.enter();
        let inner = tracing::info_span!("inner", shared = "inner", i = 3);
        let _i = inner.enter();
        tracing::info!(e = 4, "plain");
        tracing::info!(shared = "event", m = "event", "event beats spans");
    });
    assert_eq!(records.len(), 2);

    let r = &records[0];
    assert_eq!(r["msg"], json!("plain"));
    assert_eq!(r["shared"], json!("inner"), "the innermost span wins");
    assert_eq!(r["mid_and_out"], json!("middle"), "the nearer span wins");
    assert_eq!(
        (&r["o"], &r["m"], &r["i"], &r["e"]),
        (&json!(1), &json!(2), &json!(3), &json!(4))
    );

    let r = &records[1];
    assert_eq!(
        r["shared"],
        json!("event"),
        "an event field beats every span field"
    );
    assert_eq!(r["m"], json!("event"));
    assert_eq!((&r["o"], &r["i"]), (&json!(1), &json!(3)));
    assert_eq!(r["mid_and_out"], json!("middle"));
}

#[test]
fn a_span_that_is_not_entered_contributes_nothing() {
    let records = support::capture(|| {
        let _outer = tracing::info_span!("outer", a = 1).entered();
        let sibling = tracing::info_span!("sibling", b = 2);
        tracing::info!("x");
        drop(sibling);
    });
    assert_eq!(records[0]["a"], json!(1));
    assert!(!records[0].contains_key("b"), "{:?}", records[0]);
}

#[test]
fn an_explicit_parent_gives_its_fields_to_the_event() {
    let records = support::capture(|| {
        let parent = tracing::info_span!("parent", p = "yes");
        let _other = tracing::info_span!("other", p = "no", q = 1).entered();
        tracing::info!(parent: &parent, "explicit");
    });
    assert_eq!(records[0]["p"], json!("yes"));
    assert!(!records[0].contains_key("q"));
}

#[test]
fn recorded_fields_show_in_later_events_once() {
    let records = support::capture(|| {
        let outer = tracing::info_span!("outer", late = Empty, x = 1, o = "outer");
        let _o = outer.enter();
        let inner = tracing::info_span!("inner", late_inner = Empty, x = 10);
        let _i = inner.enter();
        tracing::info!("before");
        outer.record("late", "now");
        inner.record("late_inner", 5);
        tracing::info!("after record");
        inner.record("x", "re-recorded");
        outer.record("o", 2.5);
        tracing::info!("after re-record");
        inner.record("x", false);
        tracing::info!(late = "event", "event still wins");
    });
    assert_eq!(records.len(), 4);

    let r = &records[0];
    assert!(
        !r.contains_key("late"),
        "an Empty field is not written: {r:?}"
    );
    assert!(!r.contains_key("late_inner"), "{r:?}");
    assert_eq!(r["x"], json!(10));

    let r = &records[1];
    assert_eq!(r["late"], json!("now"));
    assert_eq!(r["late_inner"], json!(5));

    let r = &records[2];
    assert_eq!(
        r["x"],
        json!("re-recorded"),
        "re-recording replaces the value"
    );
    assert_eq!(r["o"], json!(2.5));
    assert_eq!(r["late"], json!("now"));

    let r = &records[3];
    assert_eq!(r["x"], json!(false));
    assert_eq!(r["late"], json!("event"));
}

#[test]
fn recording_into_a_parent_is_seen_by_events_of_its_children() {
    let records = support::capture(|| {
        let root = tracing::info_span!("root", request = Empty);
        let child = tracing::info_span!(parent: &root, "child", step = 1);
        root.record("request", "r-1");
        let _c = child.enter();
        tracing::info!("in child");
    });
    assert_eq!(records[0]["request"], json!("r-1"));
    assert_eq!(records[0]["step"], json!(1));
}

#[test]
fn each_record_keeps_one_copy_of_each_key_however_often_it_is_recorded() {
    let buf = Capture::default();
    support::with_layer(support::json(&buf), || {
        let a = tracing::info_span!("a", k = 1, only_a = Empty);
        let _a = a.enter();
        let b = tracing::info_span!("b", k = 2);
        let _b = b.enter();
        let c = tracing::info_span!("c", k = 3);
        let _c = c.enter();
        for v in 0..5 {
            a.record("k", v);
            b.record("k", v);
            c.record("k", v);
            a.record("only_a", v);
        }
        tracing::info!(k = "event", "dup check");
    });
    let lines = buf.lines();
    assert_eq!(lines.len(), 1);
    // parse_line fails on any repeated key.
    let r = json_line::parse_line(&lines[0]);
    assert_eq!(r["k"], json!("event"));
    assert_eq!(r["only_a"], json!(4));
    assert_eq!(lines[0].matches("\"k\":").count(), 1);
    assert_eq!(lines[0].matches("\"only_a\":").count(), 1);
}
