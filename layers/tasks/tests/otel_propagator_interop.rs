//! taskwire and OpenTelemetry's own `TraceContextPropagator` continue each other's traces,
//! with no OpenTelemetry exporter or tracer provider installed.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_subscriber::prelude::*;

#[test]
fn taskwire_continues_what_opentelemetry_emits() {
    let otel_trace = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let otel_span = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    let state = TraceState::from_key_value([("vendor", "v1")]).unwrap();
    let cx = Context::new().with_remote_span_context(SpanContext::new(
        otel_trace,
        otel_span,
        TraceFlags::SAMPLED,
        true,
        state,
    ));
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);

    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    tracing::subscriber::with_default(subscriber, || {
        let span = taskwire_tasks::import_from(&carrier, tracing::info_span!("handle"));
        let _e = span.enter();
        let ctx = taskwire_tasks::current().expect("inside a task");
        assert_eq!(
            ctx.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_ne!(ctx.span_id().to_string(), "00f067aa0ba902b7");
        assert!(ctx.sampled());
        assert_eq!(ctx.tracestate(), Some("vendor=v1"));
        // The task's parent is OpenTelemetry's span.
        let subscriber_parent = span
            .with_subscriber(|(id, d)| {
                taskwire_core::span::with_span_data(d, id, |data| data.parent_span_id())
            })
            .flatten()
            .flatten();
        assert_eq!(
            subscriber_parent.map(|p| p.to_string()).as_deref(),
            Some("00f067aa0ba902b7")
        );
    });
}

#[test]
fn opentelemetry_continues_what_taskwire_emits() {
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    let (carrier, trace, span_id) = tracing::subscriber::with_default(subscriber, || {
        let _task = tracing::info_span!("checkout").entered();
        let ctx = taskwire_tasks::current().expect("inside a task");
        let mut carrier: HashMap<String, String> = HashMap::new();
        ctx.inject(&mut carrier);
        (
            carrier,
            ctx.trace_id().to_string(),
            ctx.span_id().to_string(),
        )
    });
    let cx = TraceContextPropagator::new().extract(&carrier);
    let remote = cx.span().span_context().clone();
    assert!(remote.is_valid());
    assert!(remote.is_remote());
    assert!(remote.is_sampled());
    assert_eq!(remote.trace_id().to_string(), trace);
    assert_eq!(remote.span_id().to_string(), span_id);
}

#[test]
fn unsampled_flag_round_trips_through_opentelemetry() {
    let cx = Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
        SpanId::from_hex("b7ad6b7169203331").unwrap(),
        TraceFlags::default(),
        true,
        TraceState::default(),
    ));
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    let out = tracing::subscriber::with_default(subscriber, || {
        let span = taskwire_tasks::import_from(&carrier, tracing::info_span!("handle"));
        let _e = span.enter();
        let mut out: HashMap<String, String> = HashMap::new();
        taskwire_tasks::inject_current(&mut out);
        out
    });
    let back = TraceContextPropagator::new().extract(&out);
    assert!(!back.span().span_context().is_sampled());
    assert_eq!(
        back.span().span_context().trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
}

/// OpenTelemetry's propagator implements Level 1: what it makes of taskwire's Level 2 headers
/// is what docs/propagation.md tells a Level 1 peer to expect.
#[test]
fn a_level_1_peer_reads_the_random_flag_as_a_sampled_trace_and_drops_it() {
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    let (carrier, trace) = tracing::subscriber::with_default(subscriber, || {
        let _task = tracing::info_span!("checkout").entered();
        let ctx = taskwire_tasks::current().expect("inside a task");
        let mut carrier: HashMap<String, String> = HashMap::new();
        ctx.inject(&mut carrier);
        (carrier, ctx.trace_id().to_string())
    });
    assert!(carrier["traceparent"].ends_with("-03"), "{carrier:?}");
    let cx = TraceContextPropagator::new().extract(&carrier);
    let remote = cx.span().span_context().clone();
    assert!(remote.is_valid() && remote.is_sampled());
    assert_eq!(remote.trace_id().to_string(), trace);
    // Sent onward by the Level 1 peer: sampled, the random flag gone.
    let mut onward: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut onward);
    assert!(onward["traceparent"].ends_with("-01"), "{onward:?}");

    // A Level 2 key makes this Level 1 parser drop the whole tracestate; the trace continues.
    let carrier: HashMap<String, String> = [
        (
            "traceparent".to_owned(),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03".to_owned(),
        ),
        ("tracestate".to_owned(), "foo@@bar=1,rojo=2".to_owned()),
    ]
    .into();
    let cx = TraceContextPropagator::new().extract(&carrier);
    assert!(cx.span().span_context().is_valid());
    assert_eq!(cx.span().span_context().trace_state().header(), "");
}
