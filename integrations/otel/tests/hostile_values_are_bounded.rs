//! Hostile field values (a megabyte string, binary-looking bytes, too many fields or events)
//! are cut to the configured limits before they are queued, and what the collector receives
//! is bounded accordingly; nothing panics.

mod support;

use std::time::Duration;

use opentelemetry_sdk::trace::InMemorySpanExporter;
use taskwire_otel::Limits;

const BINARY: &str = "\u{0}\u{1}\u{2}\u{7f}\u{1b}[31m\u{fffd}\u{feff}\u{202e}ok";

#[test]
fn huge_and_binary_values_reach_the_collector_bounded() {
    let (otel, log) = support::to_collector("otel-hostile");
    let (subscriber, guard) = support::under_tasks(otel.with_limits(Limits {
        max_value_len: 1000,
        ..Limits::default()
    }));
    let huge = "é".repeat(1 << 20);
    let ctx = tracing::subscriber::with_default(subscriber, || {
        let _t = tracing::info_span!(
            "hostile",
            task.name = huge.as_str(),
            huge = huge.as_str(),
            binary = BINARY,
            debug = ?vec![0_u8; 100_000]
        )
        .entered();
        tracing::error!(payload = huge.as_str(), "{}", huge);
        taskwire_tasks::current().expect("task")
    });
    let stats = support::flush_and_shut_down(guard);
    assert_eq!(stats.spans_exported, 1, "{stats}");

    let id = ctx.span_id().to_string();
    let got = support::wait_for(&log, Duration::from_secs(10), |r| r.span(&id).is_some());
    let span = got.span(&id).expect("hostile span received");
    assert!(span.name.len() <= 1000, "name of {} bytes", span.name.len());
    assert!(span.name.ends_with('…'));
    let huge_attr = span.attr("huge").expect("huge attribute");
    // `Str(` + at most 1000 bytes + `)`
    assert!(huge_attr.len() <= 1005, "{} bytes", huge_attr.len());
    assert!(span.attr("debug").expect("debug").len() <= 1005);
    assert_eq!(span.attr("binary"), Some(format!("Str({BINARY})").as_str()));
    assert!(span.status_message.len() <= 1000);
    assert_eq!(span.events.len(), 1);
    assert!(span.events[0].name.len() <= 1000);
}

#[test]
fn too_many_fields_and_events_are_dropped_and_counted() {
    let exporter = InMemorySpanExporter::default();
    let (subscriber, guard) = support::under_tasks(
        taskwire_otel::layer()
            .with_span_exporter(exporter.clone())
            .with_limits(Limits {
                max_attributes: 3,
                max_events: 10,
                ..Limits::default()
            }),
    );
    tracing::subscriber::with_default(subscriber, || {
        let _t = tracing::info_span!("wide", a = 1, b = 2, c = 3, d = 4, e = 5).entered();
        for i in 0..1000 {
            tracing::info!(i, x = 1, y = 2, z = 3, "tick");
        }
    });
    assert!(guard.flush_within(Duration::from_secs(10)));
    let spans = exporter.get_finished_spans().expect("spans");
    let s = &spans[0];
    assert_eq!(s.dropped_attributes_count, 2);
    assert_eq!(s.events.len(), 10);
    assert_eq!(s.events.dropped_count, 990);
    assert_eq!(s.events[0].dropped_attributes_count, 1);
}
