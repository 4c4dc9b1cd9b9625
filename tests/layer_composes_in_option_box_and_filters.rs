//! The JSON layer can be chosen at run time: it works inside `Option<L>` (`Some` writes, `None`
//! writes nothing), boxed as `Box<dyn Layer<S> + Send + Sync>`, and under per-layer filters
//! (events below the filter are not written); two JSON layers in one stack share one span
//! capture and both write the same span fields and ids.

mod support;

use taskwire_test_support::json_line;
use taskwire_test_support::Capture;

use serde_json::json;
use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

fn emit_sample() {
    let _s = tracing::info_span!("s", job = 7).entered();
    tracing::info!("info");
    tracing::warn!("warn");
}

#[test]
fn some_layer_writes() {
    let buf = Capture::default();
    support::with_layer(Some(support::json(&buf)), emit_sample);
    let records = buf.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["job"], json!(7));
}

#[test]
fn none_layer_writes_nothing_and_does_not_break_the_stack() {
    let buf = Capture::default();
    let other = Capture::default();
    let none: Option<taskwire::json::JsonLayer<Capture>> = None;
    let subscriber = tracing_subscriber::registry()
        .with(none)
        .with(support::json(&other));
    tracing::subscriber::with_default(subscriber, emit_sample);
    assert!(buf.text().is_empty());
    let records = other.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["job"], json!(7));
}

#[test]
fn boxed_layer_writes() {
    let buf = Capture::default();
    let boxed: Box<dyn Layer<Registry> + Send + Sync> = Box::new(support::json(&buf));
    support::with_layer(boxed, emit_sample);
    let records = buf.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["job"], json!(7));
    assert_eq!(records[1]["level"], json!("WARN"));
}

#[test]
fn a_vec_of_boxed_layers_writes_to_each() {
    let (a, b) = (Capture::default(), Capture::default());
    let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> =
        vec![Box::new(support::json(&a)), Box::new(support::json(&b))];
    support::with_layer(layers, emit_sample);
    assert_eq!(a.records().len(), 2);
    assert_eq!(b.records().len(), 2);
}

#[test]
fn a_level_filter_drops_events_below_it() {
    let buf = Capture::default();
    support::with_layer(support::json(&buf).with_filter(LevelFilter::WARN), || {
        emit_sample();
        tracing::error!("error");
        tracing::debug!("debug");
    });
    let records = buf.records();
    let levels: Vec<_> = records.iter().map(|r| r["level"].clone()).collect();
    assert_eq!(levels, [json!("WARN"), json!("ERROR")]);
}

#[test]
fn a_targets_filter_drops_other_targets() {
    let buf = Capture::default();
    let filter = Targets::new()
        .with_target("keep", Level::TRACE)
        .with_target("quiet", Level::ERROR);
    support::with_layer(support::json(&buf).with_filter(filter), || {
        tracing::trace!(target: "keep", "kept trace");
        tracing::info!(target: "drop", "dropped");
        tracing::warn!(target: "quiet", "dropped warn");
        tracing::error!(target: "quiet", "kept error");
    });
    let msgs: Vec<_> = buf.records().iter().map(|r| r["msg"].clone()).collect();
    assert_eq!(msgs, [json!("kept trace"), json!("kept error")]);
}

#[test]
fn a_filtered_boxed_optional_layer_still_writes_span_fields() {
    let buf = Capture::default();
    let layer: Option<Box<dyn Layer<Registry> + Send + Sync>> =
        Some(Box::new(support::json(&buf).with_filter(LevelFilter::INFO)));
    support::with_layer(layer, || {
        let _s = tracing::info_span!("s", job = 7).entered();
        tracing::debug!("dropped");
        tracing::info!("kept");
    });
    let records = buf.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["job"], json!(7));
}

#[test]
fn two_layers_share_the_span_capture_and_write_the_same_fields() {
    let (a, b) = (Capture::default(), Capture::default());
    let subscriber = tracing_subscriber::registry()
        .with(support::json(&a))
        .with(support::json(&b).with_service("second"));
    tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::info_span!("outer", o = 1, late = tracing::field::Empty);
        let _o = outer.enter();
        let _i = tracing::info_span!("inner", i = "x").entered();
        tracing::info!("first");
        outer.record("late", 5);
        outer.record("o", 2);
        tracing::info!("second");
    });
    let (ra, rb) = (a.records(), b.records());
    assert_eq!(ra.len(), 2);
    assert_eq!(rb.len(), 2);
    for (x, y) in ra.iter().zip(&rb) {
        for key in ["o", "i", "late", "trace_id", "span_id", "parent_span_id"] {
            assert_eq!(x.get(key), y.get(key), "{key}: {x:?} vs {y:?}");
        }
    }
    assert_eq!(ra[0]["o"], json!(1));
    assert_eq!(ra[0]["i"], json!("x"));
    assert!(!ra[0].contains_key("late"));
    assert_eq!(rb[1]["late"], json!(5));
    assert_eq!(rb[1]["o"], json!(2));
    assert_eq!(rb[1]["service"], json!("second"));
    assert!(!ra[1].contains_key("service"));
}

#[test]
fn a_second_layer_captures_spans_the_first_layers_filter_rejects() {
    let (a, b) = (Capture::default(), Capture::default());
    let subscriber = tracing_subscriber::registry()
        .with(support::json(&a).with_filter(LevelFilter::WARN))
        .with(support::json(&b));
    tracing::subscriber::with_default(subscriber, || {
        let s = tracing::debug_span!("debug span", d = 1, late = tracing::field::Empty);
        let _s = s.enter();
        s.record("late", "recorded");
        tracing::warn!("warn");
    });
    let rb = b.records();
    assert_eq!(rb[0]["d"], json!(1));
    assert_eq!(rb[0]["late"], json!("recorded"));
    assert!(json_line::is_hex_id(
        json_line::str_of(&rb[0], "span_id"),
        16
    ));
    // The first layer's filter hides the span from it, so its record has no span context.
    let ra = a.records();
    assert_eq!(ra.len(), 1);
    assert!(!ra[0].contains_key("d"));
}
