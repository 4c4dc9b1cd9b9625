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

#[test]
fn later_events_and_children_reuse_nothing_stale() {
    let buf = Capture::default();
    support::with_layer(support::json(&buf), || {
        let outer = tracing::info_span!("outer", shared = "outer", o = 1, late = Empty);
        let _o = outer.enter();
        tracing::info!("outer first");
        {
            let inner = tracing::info_span!("inner", shared = "inner", i = 2);
            let _i = inner.enter();
            tracing::info!("inner first");
            tracing::info!(o = "event", "the event beats a kept span field");
            outer.record("late", "now");
            tracing::info!("after a record into the parent");
            inner.record("shared", "re-recorded");
            tracing::info!("after a record into the span");
        }
        let sibling = tracing::info_span!("sibling", s = 3);
        let _s = sibling.enter();
        tracing::info!("sibling");
    });
    let records: Vec<_> = buf
        .lines()
        .iter()
        .map(|l| json_line::parse_line(l))
        .collect();
    assert_eq!(records.len(), 6);
    assert_eq!(records[0]["shared"], json!("outer"));
    assert_eq!(
        (&records[1]["shared"], &records[1]["o"]),
        (&json!("inner"), &json!(1))
    );
    assert_eq!(
        (&records[2]["shared"], &records[2]["o"]),
        (&json!("inner"), &json!("event"))
    );
    assert!(!records[2].contains_key("late"), "{:?}", records[2]);
    assert_eq!(records[3]["late"], json!("now"));
    assert_eq!(records[4]["shared"], json!("re-recorded"));
    assert_eq!(records[4]["i"], json!(2));
    let r = &records[5];
    assert_eq!(
        (&r["shared"], &r["s"], &r["late"]),
        (&json!("outer"), &json!(3), &json!("now"))
    );
    assert!(!r.contains_key("i"), "{r:?}");
}

#[test]
fn a_deep_scope_flattens_every_level_innermost_first() {
    let buf = Capture::default();
    support::with_layer(support::json(&buf), || {
        let mut guards = Vec::new();
        for level in 0..40_u64 {
            let span = tracing::info_span!("level", shared = level, depth = Empty);
            span.record("depth", level);
            guards.push(span.entered());
        }
        tracing::info!("deep");
        tracing::info!(depth = "event", "deep again");
    });
    let lines = buf.lines();
    assert_eq!(lines.len(), 2);
    let (a, b) = (
        json_line::parse_line(&lines[0]),
        json_line::parse_line(&lines[1]),
    );
    assert_eq!((&a["shared"], &a["depth"]), (&json!(39), &json!(39)));
    assert_eq!((&b["shared"], &b["depth"]), (&json!(39), &json!("event")));
}

#[test]
fn span_fields_beat_static_fields_in_every_event() {
    let buf = Capture::default();
    let layer = support::json(&buf)
        .with_static_field("region", "static")
        .with_static_field("zone", "static");
    support::with_layer(layer, || {
        let _o = tracing::info_span!("outer", region = "outer").entered();
        tracing::info!("first");
        tracing::info!("second");
        let _i = tracing::info_span!("inner", zone = "inner").entered();
        tracing::info!("child");
    });
    let lines = buf.lines();
    assert_eq!(lines.len(), 3);
    for (line, zone) in lines.iter().zip(["static", "static", "inner"]) {
        let r = json_line::parse_line(line);
        assert_eq!(
            (&r["region"], &r["zone"]),
            (&json!("outer"), &json!(zone)),
            "{line}"
        );
    }
}

#[test]
fn a_record_into_a_local_parent_reaches_a_child_in_another_trace() {
    // Two traces whose ids fall in different generation buckets (their low bits differ): the
    // child's kept flattening holds its local parent's fields, from the other trace.
    let records = support::capture(|| {
        let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let local = taskwire::tasks::import(parent, tracing::info_span!("local", v = "first"));
        let _l = local.enter();
        let remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let child = taskwire::tasks::import(remote, tracing::info_span!("imported", c = 1));
        let _c = child.enter();
        tracing::info!("before");
        local.record("v", "second");
        tracing::info!("after");
    });
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0]["trace_id"],
        json!("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(
        (&records[0]["v"], &records[0]["c"]),
        (&json!("first"), &json!(1))
    );
    assert_eq!(
        records[1]["v"],
        json!("second"),
        "a record into the local parent, in another trace, reaches the child's events"
    );
}

#[test]
fn a_record_on_another_thread_reaches_the_next_event_of_a_child() {
    use std::sync::mpsc;
    let buf = Capture::default();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        support::json(&buf),
    ));
    let rounds = 20_u64;
    let (to_recorder, recorder_gets) = mpsc::channel::<u64>();
    let (to_logger, logger_gets) = mpsc::channel::<()>();
    let shared =
        tracing::dispatcher::with_default(&dispatch, || tracing::info_span!("shared", v = 0_u64));
    std::thread::scope(|s| {
        // The recorder writes each value into the shared span when asked, then answers.
        let recorder_span = shared.clone();
        s.spawn(move || {
            for v in recorder_gets {
                recorder_span.record("v", v);
                if to_logger.send(()).is_err() {
                    return;
                }
            }
        });
        tracing::dispatcher::with_default(&dispatch, || {
            let child = tracing::info_span!(parent: &shared, "child", c = 1);
            let _c = child.enter();
            for v in 1..=rounds {
                tracing::info!(round = v, "before");
                to_recorder.send(v).expect("the recorder runs");
                logger_gets.recv().expect("the recorder answers");
                tracing::info!(round = v, "after");
            }
        });
        drop(to_recorder);
    });
    let records = buf.records();
    assert_eq!(records.len() as u64, 2 * rounds);
    for (i, r) in records.iter().enumerate() {
        let round = i as u64 / 2 + 1;
        let want = if i % 2 == 0 { round - 1 } else { round };
        assert_eq!(
            (&r["round"], &r["v"]),
            (&json!(round), &json!(want)),
            "line {i}: the value recorded on the other thread before it"
        );
    }
}
