//! The span a JSON record belongs to is the one the registry considers current, even though the
//! JSON layer tracks entered spans itself (to avoid the registry's per-event thread-local lookup,
//! see `layers/json/src/entered.rs`): re-entered spans, spans exited out of order, explicit
//! parents, root events, per-layer filters, several threads and nested dispatchers.
//!
//! The oracle is tracing-subscriber's own JSON formatter in the same subscriber, whose `span`
//! key comes from `Context::lookup_current`. Every span has a field `which` holding its name, so
//! the JSON record's flattened `which` (innermost span wins) names the span it was attached to.

use serde_json::Value;
use taskwire_test_support::Capture;
use tracing::{info, info_span, Dispatch};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// tracing-subscriber's JSON formatter, writing the current span (from `lookup_current`).
fn oracle<S>(buf: Capture) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(buf)
}

/// The JSON layer and the oracle, both behind `filter` (`None`: no per-layer filter).
fn subscriber(filter: Option<fn(&tracing::Metadata<'_>) -> bool>) -> (Dispatch, Capture, Capture) {
    let (ours, theirs) = (Capture::default(), Capture::default());
    let json = taskwire_json::layer().with_writer(ours.clone());
    let dispatch = match filter {
        None => Dispatch::new(
            tracing_subscriber::registry()
                .with(json)
                .with(oracle(theirs.clone())),
        ),
        Some(f) => Dispatch::new(
            tracing_subscriber::registry()
                .with(json.with_filter(filter_fn(f)))
                .with(oracle(theirs.clone()).with_filter(filter_fn(f))),
        ),
    };
    (dispatch, ours, theirs)
}

/// The span each record was attached to, by our layer and by the oracle, record by record.
fn attached(ours: &Capture, oracle: &Capture) -> Vec<(Option<String>, Option<String>)> {
    let (ours, oracle) = (ours.json_lines(), oracle.json_lines());
    assert_eq!(ours.len(), oracle.len(), "both layers see every event");
    ours.iter()
        .zip(&oracle)
        .map(|(o, r)| {
            (
                o.get("which").and_then(Value::as_str).map(str::to_owned),
                r.get("span")
                    .and_then(|s| s.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            )
        })
        .collect()
}

fn assert_same(ours: &Capture, oracle: &Capture, want: &[Option<&str>]) {
    let got = attached(ours, oracle);
    for (i, ((o, r), w)) in got.iter().zip(want).enumerate() {
        assert_eq!(
            o.as_deref(),
            r.as_deref(),
            "record {i}: ours vs the registry's"
        );
        assert_eq!(o.as_deref(), *w, "record {i}");
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn reentered_and_out_of_order_spans_follow_the_registry() {
    let (dispatch, ours, oracle) = subscriber(None);
    tracing::dispatcher::with_default(&dispatch, || {
        let a = info_span!("a", which = "a");
        let b = info_span!("b", which = "b");
        info!("outside");
        let ga = a.enter();
        info!("in a");
        let gb = b.enter();
        info!("in b");
        {
            // Re-entering `a` inside `b`: a duplicate, so `b` stays current.
            let _again = a.enter();
            info!("a re-entered in b");
        }
        info!("back in b");
        // Exit `a` while `b` is still entered.
        drop(ga);
        info!("a exited first");
        drop(gb);
        info!("all exited");
    });
    assert_same(
        &ours,
        &oracle,
        &[
            None,
            Some("a"),
            Some("b"),
            Some("b"),
            Some("b"),
            Some("b"),
            None,
        ],
    );
}

#[test]
fn explicit_parents_and_root_events_ignore_the_entered_spans() {
    let (dispatch, ours, oracle) = subscriber(None);
    tracing::dispatcher::with_default(&dispatch, || {
        let a = info_span!("a", which = "a");
        let b = info_span!(parent: None, "b", which = "b");
        let _gb = b.enter();
        info!(parent: &a, "explicit parent a");
        info!(parent: None, "root");
        info!("contextual");
    });
    let got = attached(&ours, &oracle);
    assert_eq!(got[0].0.as_deref(), Some("a"));
    // The oracle's `span` key is always the *current* span; for explicit parents only our
    // record can be checked, against the parent given.
    assert_eq!(got[1].0, None, "a root event has no span");
    assert_eq!(got[2], (Some("b".into()), Some("b".into())));
    let ours = ours.json_lines();
    assert!(ours[1].get("trace_id").is_none(), "{:?}", ours[1]);
}

#[test]
fn a_span_hidden_by_the_layers_filter_leaves_its_enabled_ancestor_current() {
    let (dispatch, ours, oracle) = subscriber(Some(|m| m.name() != "hidden"));
    tracing::dispatcher::with_default(&dispatch, || {
        let _a = info_span!("a", which = "a").entered();
        let _h = info_span!("hidden", which = "hidden").entered();
        info!("in hidden");
        let _c = info_span!("c", which = "c").entered();
        info!("in c");
    });
    assert_same(&ours, &oracle, &[Some("a"), Some("c")]);
}

#[test]
fn threads_and_nested_dispatchers_keep_their_own_current_span() {
    let (dispatch, ours, oracle) = subscriber(None);
    std::thread::scope(|s| {
        for name in ["t1", "t2"] {
            let dispatch = &dispatch;
            s.spawn(move || {
                tracing::dispatcher::with_default(dispatch, || {
                    let _s = info_span!("thread", which = name).entered();
                    for _ in 0..100 {
                        info!("in thread span");
                    }
                });
            });
        }
    });
    for (o, r) in attached(&ours, &oracle) {
        assert!(o.is_some() && r.as_deref() == Some("thread"), "{o:?} {r:?}");
    }

    // A span entered under one dispatcher is not current under another one on the same thread.
    let (outer, outer_ours, outer_oracle) = subscriber(None);
    let (inner, inner_ours, inner_oracle) = subscriber(None);
    tracing::dispatcher::with_default(&outer, || {
        let _a = info_span!("a", which = "a").entered();
        tracing::dispatcher::with_default(&inner, || info!("inner dispatcher"));
        info!("outer dispatcher");
    });
    assert_same(&inner_ours, &inner_oracle, &[None]);
    assert_same(&outer_ours, &outer_oracle, &[Some("a")]);
}
