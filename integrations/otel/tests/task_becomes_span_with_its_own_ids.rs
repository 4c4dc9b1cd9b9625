//! What a task becomes, checked on the SDK data handed to an exporter (no collector needed):
//! ids, parent, name, kind, status, attributes, events. The same mapping is checked end to end
//! against a real collector in `collector_receives_tasks_as_spans.rs`.

use std::time::Duration;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use tracing_subscriber::prelude::*;

fn attr<'a>(s: &'a SpanData, key: &str) -> Option<&'a Value> {
    s.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// An export layer whose spans go to an in-memory exporter.
fn to_memory() -> (
    InMemorySpanExporter,
    taskwire_otel::OtelLayer,
    taskwire_otel::OtelGuard,
) {
    let exporter = InMemorySpanExporter::default();
    let (otel, guard) = taskwire_otel::layer()
        .with_span_exporter(exporter.clone())
        .build()
        .expect("starts");
    (exporter, otel, guard)
}

#[test]
fn task_tree_keeps_taskwire_ids_status_fields_and_events() {
    let (exporter, otel, guard) = to_memory();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(otel);
    let (root, child) = tracing::subscriber::with_default(subscriber, || {
        let root = tracing::info_span!("checkout", order = 7_u64, password = "hunter2");
        let _r = root.enter();
        let root_ctx = taskwire_tasks::current().expect("task");
        let child_ctx = {
            let child = tracing::info_span!(
                "charge",
                task.name = "charge card",
                amount = 19.99_f64,
                big = u64::MAX
            );
            let _c = child.enter();
            tracing::info!(attempt = 1_i64, "calling the bank");
            tracing::error!("card declined");
            taskwire_tasks::current().expect("task")
        };
        (root_ctx, child_ctx)
    });
    assert!(guard.flush_within(Duration::from_secs(10)));
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let c = spans
        .iter()
        .find(|s| s.name == "charge card")
        .expect("child");
    let r = spans.iter().find(|s| s.name == "checkout").expect("root");

    assert_eq!(
        r.span_context.trace_id().to_string(),
        root.trace_id().to_string()
    );
    assert_eq!(
        r.span_context.span_id().to_string(),
        root.span_id().to_string()
    );
    assert_eq!(r.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    assert_eq!(
        c.span_context.trace_id().to_string(),
        root.trace_id().to_string()
    );
    assert_eq!(
        c.span_context.span_id().to_string(),
        child.span_id().to_string()
    );
    assert_eq!(c.parent_span_id.to_string(), root.span_id().to_string());
    assert!(c.span_context.is_sampled());
    assert_eq!(c.span_kind, SpanKind::Internal);

    // Outcome → status; a failed child does not fail its parent.
    assert_eq!(
        c.status,
        Status::Error {
            description: "card declined".into()
        }
    );
    assert_eq!(r.status, Status::Unset);
    assert_eq!(attr(c, "task.outcome"), Some(&Value::from("failed")));
    assert_eq!(attr(r, "task.outcome"), Some(&Value::from("succeeded")));
    assert_eq!(attr(r, "task.failed_children"), Some(&Value::I64(1)));
    assert_eq!(attr(c, "task.errors"), Some(&Value::I64(1)));

    // Fields → attributes, redacted; task.name is the name, not an attribute.
    assert_eq!(attr(r, "order"), Some(&Value::I64(7)));
    assert_eq!(attr(r, "password"), Some(&Value::from("[redacted]")));
    assert_eq!(attr(c, "amount"), Some(&Value::F64(19.99)));
    assert_eq!(attr(c, "big"), Some(&Value::from(u64::MAX.to_string())));
    assert_eq!(attr(c, "task.name"), None);

    // Events inside → span events; the tasks layer's own task.end records are not repeated.
    let names: Vec<_> = c.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(names, ["calling the bank", "card declined"]);
    let first = &c.events[0];
    assert!(first
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "attempt" && kv.value == Value::I64(1)));
    assert!(r.events.is_empty(), "{:?}", r.events);

    // Timing: the child lies within the root.
    assert!(c.start_time >= r.start_time && c.end_time <= r.end_time);
    assert!(r.end_time >= r.start_time);

    let stats = guard.shutdown();
    assert_eq!(stats.spans_exported, 2);
    assert_eq!(stats.spans_dropped(), 0);
}

#[test]
fn unsampled_tasks_are_not_exported_and_server_kind_is_inferred() {
    let (exporter, otel, guard) = to_memory();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(otel);
    tracing::subscriber::with_default(subscriber, || {
        // Unsampled by the caller: no span.
        let s = taskwire_tasks::import(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
            tracing::info_span!("ignored"),
        );
        drop(s.enter());
        drop(s);
        // Sampled by the caller: a server span with a remote parent.
        let s = taskwire_tasks::import(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203332-01",
            tracing::info_span!("handle", otel.status_code = "ok"),
        );
        drop(s.enter());
        drop(s);
        let s = tracing::info_span!("publish", otel.kind = "producer");
        drop(s.enter());
    });
    assert!(guard.flush_within(Duration::from_secs(10)));
    let spans = exporter.get_finished_spans().expect("spans");
    let names: Vec<_> = spans.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(names, ["handle", "publish"]);
    assert_eq!(spans[0].span_kind, SpanKind::Server);
    assert!(spans[0].parent_span_is_remote);
    assert_eq!(spans[0].parent_span_id.to_string(), "b7ad6b7169203332");
    assert_eq!(spans[0].status, Status::Ok);
    assert_eq!(spans[1].span_kind, SpanKind::Producer);
}

#[test]
fn works_alone_boxed_or_optional_and_behind_a_per_layer_filter() {
    use tracing_subscriber::{filter, Layer, Registry};

    // Alone (it captures the spans itself), boxed, as an `Option`, filtered.
    let (exporter, otel, guard) = to_memory();
    let boxed: Box<dyn Layer<Registry> + Send + Sync> =
        Box::new(otel.with_filter(filter::filter_fn(|m| m.target() != "noise")));
    let subscriber = tracing_subscriber::registry().with(Some(boxed));
    let (outer_id, inner_id) = tracing::subscriber::with_default(subscriber, || {
        let _o = tracing::info_span!("outer").entered();
        let outer = taskwire_tasks::current().expect("captured by the otel layer alone");
        let _n = tracing::info_span!(target: "noise", "hidden").entered();
        let _i = tracing::info_span!("inner").entered();
        let inner = taskwire_tasks::current().expect("task");
        (outer, inner)
    });
    assert!(guard.flush_within(Duration::from_secs(10)));
    let spans = exporter.get_finished_spans().expect("spans");
    let names: Vec<_> = spans.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(names, ["inner", "outer"]);
    assert_eq!(
        spans[0].parent_span_id.to_string(),
        outer_id.span_id().to_string(),
        "the filtered-out span is skipped in the tree"
    );
    assert_eq!(
        spans[0].span_context.span_id().to_string(),
        inner_id.span_id().to_string()
    );
    assert!(spans[1].end_time >= spans[1].start_time);
}

#[test]
fn spans_captured_first_by_another_layer_still_get_their_duration() {
    // The JSON layer is innermost and captures each span first, without timing; the export
    // layer needs the times of sampled spans and adds them.
    let (exporter, otel, guard) = to_memory();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_json::layer().with_writer(std::io::sink))
        .with(otel);
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("timed").entered();
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(3) {}
    });
    assert!(guard.flush_within(Duration::from_secs(10)));
    let spans = exporter.get_finished_spans().expect("spans");
    let s = spans.iter().find(|s| s.name == "timed").expect("span");
    let took = s
        .end_time
        .duration_since(s.start_time)
        .expect("ends after it starts");
    assert!(took >= Duration::from_millis(3), "{took:?}");
}
