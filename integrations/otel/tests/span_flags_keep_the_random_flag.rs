//! The W3C trace flags a task carries reach OpenTelemetry unchanged: the span's trace flags
//! (which OTLP exports as the low byte of `Span.flags`) and the log records' trace flags keep
//! the random-trace-id bit (`0x02`) beside the sampled bit, for a trace taskwire started and for
//! one imported with or without it. A `tracestate` with W3C Level 2 keys that OpenTelemetry's
//! own check refuses keeps its other members.

mod support;

use std::time::Duration;

use opentelemetry::logs::AnyValue;
use opentelemetry::trace::TraceFlags;
use opentelemetry_sdk::logs::InMemoryLogExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[test]
fn span_and_log_flags_carry_the_random_bit() {
    let spans = InMemorySpanExporter::default();
    let logs = InMemoryLogExporter::default();
    let (subscriber, guard) = support::under_tasks(
        taskwire_otel::layer()
            .with_span_exporter(spans.clone())
            .with_log_exporter(logs.clone()),
    );
    tracing::subscriber::with_default(subscriber, || {
        {
            let _root = tracing::info_span!("started_here").entered();
            tracing::info!("in started_here");
        }
        for (name, flags) in [("imported_01", "01"), ("imported_03", "03")] {
            let header = format!("00-12345678901234567890123456789012-1234567890123456-{flags}");
            let span =
                taskwire_tasks::import(&header, tracing::info_span!("request", task.name = name));
            let _e = span.enter();
            tracing::info!(task = name, "in imported");
        }
    });
    assert!(guard.flush_within(Duration::from_secs(10)));
    let spans = spans.get_finished_spans().expect("spans");
    let flags_of = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("span {name} in {spans:#?}"))
            .span_context
            .trace_flags()
    };
    assert_eq!(flags_of("started_here"), TraceFlags::new(0x03));
    assert_eq!(flags_of("imported_01"), TraceFlags::new(0x01));
    assert_eq!(flags_of("imported_03"), TraceFlags::new(0x03));

    let logs = logs.get_emitted_logs().expect("logs");
    let mut log_flags: Vec<u8> = logs
        .iter()
        .filter(|l| {
            matches!(l.record.body(), Some(AnyValue::String(m)) if m.as_str().starts_with("in "))
        })
        .filter_map(|l| l.record.trace_context().and_then(|c| c.trace_flags))
        .map(TraceFlags::to_u8)
        .collect();
    log_flags.sort_unstable();
    assert_eq!(log_flags, [0x01, 0x03, 0x03], "{logs:#?}");
}

#[test]
fn level_2_tracestate_keys_do_not_cost_the_other_members() {
    let spans = InMemorySpanExporter::default();
    let (subscriber, guard) =
        support::under_tasks(taskwire_otel::layer().with_span_exporter(spans.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let carrier = [
            (
                "traceparent",
                "00-12345678901234567890123456789012-1234567890123456-03",
            ),
            ("tracestate", "rojo=1,foo@=2,congo=3,a@b@c=4"),
        ];
        let span = taskwire_tasks::import_from(&carrier[..], tracing::info_span!("request"));
        let _e = span.enter();
    });
    assert!(guard.flush_within(Duration::from_secs(10)));
    let spans = spans.get_finished_spans().expect("spans");
    let state = spans[0].span_context.trace_state();
    assert_eq!(state.get("rojo"), Some("1"));
    assert_eq!(state.get("congo"), Some("3"));
}
