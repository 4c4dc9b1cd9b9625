//! The guard's `flush()` exports what is queued, waiting at most the builder's shutdown timeout
//! (the bound its drop uses too), and `shutdown()` returns the final counts: the same guard
//! shape as the tickets writer's.

mod support;

use std::time::Duration;

use opentelemetry_sdk::trace::InMemorySpanExporter;

#[test]
fn flush_exports_what_is_queued_and_shutdown_returns_the_final_counts() {
    let spans = InMemorySpanExporter::default();
    let (subscriber, guard) = support::under_tasks(
        taskwire_otel::layer()
            .with_span_exporter(spans.clone())
            // Far above a loaded machine's export time: the flush returns when done, not at it.
            .with_shutdown_timeout(Duration::from_secs(30)),
    );
    tracing::subscriber::with_default(subscriber, || {
        let _first = tracing::info_span!("first").entered();
    });
    guard.flush().expect("flushed within the shutdown timeout");
    let names = |spans: &InMemorySpanExporter| -> Vec<String> {
        let finished = spans.get_finished_spans().expect("spans");
        finished.iter().map(|s| s.name.to_string()).collect()
    };
    assert_eq!(names(&spans), ["first"]);
    let stats = guard.shutdown();
    assert_eq!(stats.spans_exported, 1, "{stats}");
}
