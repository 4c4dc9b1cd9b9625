//! The owner rule: one capture writes a span's data, every other taskwire layer reads it. A
//! span field, at creation or recorded later with `Span::record`, is formatted once however
//! many taskwire layers are stacked (a `Debug` impl that counts its calls proves it), with the
//! capture layer installed and in a hand-built stack without it; and every layer writes the
//! same value and ids.

mod support;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;
use taskwire_test_support::json_line::{self, str_of};
use taskwire_test_support::Capture;
use tracing_subscriber::layer::SubscriberExt;

/// Counts how often it is formatted.
#[derive(Clone, Default)]
struct Counted(Arc<AtomicUsize>);

impl fmt::Debug for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str("counted")
    }
}

/// Creates a span with a counted field, records a second counted field, writes an event inside;
/// returns how often each was formatted.
fn run(subscriber: impl tracing::Subscriber + Send + Sync + 'static) -> (usize, usize) {
    let (at_creation, recorded) = (Counted::default(), Counted::default());
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!(
            "job",
            created = ?at_creation,
            later = tracing::field::Empty
        );
        let _e = span.enter();
        span.record("later", tracing::field::debug(&recorded));
        tracing::info!("inside");
    });
    (
        at_creation.0.load(Ordering::SeqCst),
        recorded.0.load(Ordering::SeqCst),
    )
}

fn check_both_wrote_the_same(a: &Capture, b: &Capture) {
    let (ra, rb) = (a.records(), b.records());
    let (ea, eb) = (
        ra.iter().find(|r| r["msg"] == json!("inside")).expect("a"),
        rb.iter().find(|r| r["msg"] == json!("inside")).expect("b"),
    );
    for key in ["created", "later", "trace_id", "span_id"] {
        assert_eq!(ea.get(key), eb.get(key), "{key}: {ea:?} vs {eb:?}");
    }
    assert_eq!(ea["later"], json!("counted"));
}

#[test]
#[cfg(feature = "metrics")]
fn with_the_capture_layer_each_field_is_formatted_once() {
    let (a, b) = (Capture::default(), Capture::default());
    let subscriber = tracing_subscriber::registry()
        .with(taskwire::capture())
        .with(taskwire::tasks::layer())
        .with(support::json(&a))
        .with(taskwire::metrics::layer().with_label_fields(["created"]))
        .with(support::json(&b));
    assert_eq!(run(subscriber), (1, 1));
    check_both_wrote_the_same(&a, &b);
}

#[test]
fn without_the_capture_layer_each_field_is_formatted_once() {
    let (a, b) = (Capture::default(), Capture::default());
    let subscriber = tracing_subscriber::registry()
        .with(taskwire::tasks::layer())
        .with(support::json(&a))
        .with(support::json(&b));
    assert_eq!(run(subscriber), (1, 1));
    check_both_wrote_the_same(&a, &b);
}

#[test]
fn a_hand_built_stack_without_the_capture_layer_gets_ids_and_fields() {
    let buf = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire::tasks::layer().all_tasks())
        .with(support::json(&buf));
    tracing::subscriber::with_default(subscriber, || {
        let _outer = tracing::info_span!("outer", order = 7).entered();
        let inner = tracing::info_span!("inner", step = tracing::field::Empty);
        let _i = inner.enter();
        inner.record("step", "pay");
        tracing::info!("inside");
    });
    let records = buf.records();
    let event = records
        .iter()
        .find(|r| r["msg"] == json!("inside"))
        .expect("the event");
    assert_eq!(event["order"], json!(7));
    assert_eq!(event["step"], json!("pay"));
    assert!(json_line::is_hex_id(str_of(event, "trace_id"), 32));
    assert!(json_line::is_hex_id(str_of(event, "span_id"), 16));
    // The tasks layer (the innermost, so the capturer) times the spans for its records.
    let ends: Vec<_> = records
        .iter()
        .filter(|r| r["msg"] == json!("task.end"))
        .collect();
    assert_eq!(ends.len(), 2, "{records:?}");
    assert_eq!(ends[0]["span_id"], event["span_id"]);
    assert_eq!(ends[1]["span_id"], ends[0]["parent_span_id"]);
    assert!(ends.iter().all(|e| e["trace_id"] == event["trace_id"]));
}
