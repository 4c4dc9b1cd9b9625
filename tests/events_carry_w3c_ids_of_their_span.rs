//! Events inside a span carry W3C ids: `trace_id` (32 lowercase hex), `span_id` (16 lowercase
//! hex) of the innermost span, and `parent_span_id` of its parent; a tree shares its root's
//! trace id, separate roots get different ones, and events outside spans carry none of them.

mod support;

use taskwire_test_support::json_line::{self, by_msg, str_of};
use taskwire_test_support::Capture;

use std::collections::HashSet;

const ID_KEYS: [&str; 3] = ["trace_id", "span_id", "parent_span_id"];

#[test]
fn nested_spans_share_the_trace_and_chain_their_span_ids() {
    let records = support::capture(|| {
        tracing::info!("outside");
        let root = tracing::info_span!("root");
        let _r = root.enter();
        tracing::info!("in root");
        let child = tracing::info_span!("child");
        let _c = child.enter();
        tracing::info!("in child");
        let _g = tracing::info_span!("grandchild").entered();
        tracing::info!("in grandchild");
    });
    let outside = by_msg(&records, "outside");
    for k in ID_KEYS {
        assert!(
            !outside.contains_key(k),
            "{k} outside any span: {outside:?}"
        );
    }

    let root = by_msg(&records, "in root");
    let child = by_msg(&records, "in child");
    let grandchild = by_msg(&records, "in grandchild");
    for r in [root, child, grandchild] {
        assert!(json_line::is_hex_id(str_of(r, "trace_id"), 32), "{r:?}");
        assert!(json_line::is_hex_id(str_of(r, "span_id"), 16), "{r:?}");
        assert_eq!(
            r["trace_id"], root["trace_id"],
            "children share the root's trace id"
        );
    }
    assert!(
        !root.contains_key("parent_span_id"),
        "a root has no parent: {root:?}"
    );
    assert_eq!(child["parent_span_id"], root["span_id"]);
    assert_eq!(grandchild["parent_span_id"], child["span_id"]);
    let span_ids: HashSet<&str> = [root, child, grandchild]
        .iter()
        .map(|r| str_of(r, "span_id"))
        .collect();
    assert_eq!(span_ids.len(), 3, "every span has its own id");
}

#[test]
fn events_of_one_span_carry_the_same_ids() {
    let records = support::capture(|| {
        let _s = tracing::info_span!("s").entered();
        tracing::info!("a");
        tracing::warn!("b");
    });
    for k in ["trace_id", "span_id"] {
        assert_eq!(records[0][k], records[1][k]);
    }
}

#[test]
fn separate_roots_get_different_trace_ids() {
    let records = support::capture(|| {
        for _ in 0..50 {
            let _s = tracing::info_span!("root").entered();
            tracing::info!("x");
        }
        // An explicit `parent: None` starts a new trace even inside another span.
        let _outer = tracing::info_span!("outer").entered();
        tracing::info!("in outer");
        let _detached = tracing::info_span!(parent: None, "detached").entered();
        tracing::info!("in detached");
    });
    let traces: HashSet<&str> = records.iter().map(|r| str_of(r, "trace_id")).collect();
    assert_eq!(
        traces.len(),
        records.len(),
        "every root starts its own trace"
    );
    let detached = by_msg(&records, "in detached");
    assert!(!detached.contains_key("parent_span_id"));
    assert_ne!(
        detached["trace_id"],
        by_msg(&records, "in outer")["trace_id"]
    );
}

#[test]
fn an_explicit_parent_and_a_closed_span_decide_the_ids() {
    let records = support::capture(|| {
        let parent = tracing::info_span!("parent");
        let child = tracing::info_span!(parent: &parent, "child");
        tracing::info!(parent: &child, "explicit");
        tracing::info!("implicit outside");
        {
            let _c = child.enter();
            tracing::info!("entered");
        }
        drop(child);
        let _p = parent.enter();
        tracing::info!("parent again");
    });
    let explicit = by_msg(&records, "explicit");
    let entered = by_msg(&records, "entered");
    let parent_again = by_msg(&records, "parent again");
    assert_eq!(explicit["span_id"], entered["span_id"]);
    assert_eq!(explicit["parent_span_id"], parent_again["span_id"]);
    assert_eq!(explicit["trace_id"], parent_again["trace_id"]);
    for k in ID_KEYS {
        assert!(!by_msg(&records, "implicit outside").contains_key(k));
    }
}

#[test]
fn spans_on_other_threads_get_their_own_trace_unless_parented() {
    let buf = Capture::default();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        support::json(&buf),
    ));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("root");
        let _r = root.enter();
        tracing::info!("main");
        std::thread::scope(|s| {
            s.spawn(|| {
                tracing::dispatcher::with_default(&dispatch, || {
                    let _c = tracing::info_span!(parent: &root, "child").entered();
                    tracing::info!("parented");
                    let _o = tracing::info_span!(parent: None, "orphan").entered();
                    tracing::info!("orphan");
                });
            });
        });
    });
    let records = buf.records();
    let main = by_msg(&records, "main");
    assert_eq!(by_msg(&records, "parented")["trace_id"], main["trace_id"]);
    assert_eq!(
        by_msg(&records, "parented")["parent_span_id"],
        main["span_id"]
    );
    assert_ne!(by_msg(&records, "orphan")["trace_id"], main["trace_id"]);
}

#[test]
fn a_child_shares_its_parents_trace_when_another_layers_filter_hides_the_parent() {
    // The first layer's filter hides the DEBUG parent, so it cannot see the parent when it
    // captures the WARN child; the ids it gives the child must still be the parent's trace.
    let (filtered, full) = (Capture::default(), Capture::default());
    let subscriber = tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::layer::SubscriberExt::with(
            tracing_subscriber::registry(),
            tracing_subscriber::Layer::with_filter(
                support::json(&filtered),
                tracing_subscriber::filter::LevelFilter::WARN,
            ),
        ),
        support::json(&full),
    );
    tracing::subscriber::with_default(subscriber, || {
        let _parent = tracing::debug_span!("parent").entered();
        tracing::warn!("in parent");
        let _child = tracing::warn_span!("child").entered();
        tracing::warn!("in child");
    });
    let records = full.records();
    let parent = by_msg(&records, "in parent");
    let child = by_msg(&records, "in child");
    assert_eq!(child["trace_id"], parent["trace_id"], "{records:?}");
    assert_eq!(child["parent_span_id"], parent["span_id"], "{records:?}");
}
