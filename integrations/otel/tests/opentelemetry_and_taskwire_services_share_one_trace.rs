//! Interop with plain OpenTelemetry, both directions, against a real collector: a service
//! instrumented with tracing-opentelemetry and OpenTelemetry's W3C propagator calls a taskwire
//! service, which calls an OpenTelemetry service back (and the same chain started by taskwire).
//! Each service runs on its own thread with its own subscriber and its own exporter; the calls
//! carry `traceparent` in a header map, as HTTP would. The collector must hold one trace whose
//! parent links go from service to service.

mod support;

use std::collections::HashMap;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::prelude::*;

type Headers = HashMap<String, String>;

/// A request: headers in, the callee's span id out.
struct Call {
    headers: Headers,
    reply: mpsc::Sender<String>,
}

/// One service of a chain: where it exports, its name, the calls it receives and the service
/// it calls (if any).
struct Hop {
    url: String,
    name: &'static str,
    calls: mpsc::Receiver<Call>,
    next: Option<mpsc::Sender<Call>>,
}

impl Hop {
    /// Answers each call inside the span `open` makes from the caller's headers: calls the
    /// next service (if any) with the headers `inject` writes for the span, waits for it, then
    /// replies with the span id `own_id` reads.
    fn serve(
        self,
        open: impl Fn(&Headers) -> tracing::Span,
        own_id: impl Fn(&tracing::Span) -> String,
        inject: impl Fn(&tracing::Span, &mut Headers),
    ) {
        for call in self.calls {
            let span = open(&call.headers);
            let _e = span.enter();
            let own = own_id(&span);
            if let Some(next) = &self.next {
                let mut headers = Headers::new();
                inject(&span, &mut headers);
                let (tx, rx) = mpsc::channel();
                next.send(Call { headers, reply: tx }).expect("send");
                rx.recv().expect("reply");
            }
            let _ = call.reply.send(own);
        }
    }
}

/// A service instrumented with plain tracing-opentelemetry: it continues the caller's trace
/// with OpenTelemetry's propagator.
fn otel_service(hop: Hop) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let name = hop.name;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/traces", hop.url))
            .build()
            .expect("OTLP exporter");
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(name).build())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer(name)));
        let propagator = TraceContextPropagator::new();
        tracing::subscriber::with_default(subscriber, || {
            hop.serve(
                |headers| {
                    let span = tracing::info_span!("otel.handle", service = name);
                    let _ = span.set_parent(propagator.extract(headers));
                    span
                },
                |span| span.context().span().span_context().span_id().to_string(),
                |span, headers| propagator.inject_context(&span.context(), headers),
            );
        });
        provider
            .force_flush()
            .expect("OpenTelemetry service flushed to the collector");
        let _ = provider.shutdown();
    })
}

/// A service instrumented with taskwire and exported by taskwire-otel.
fn taskwire_service(hop: Hop) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let (otel, guard) = taskwire_otel::layer()
            .with_endpoint(hop.url.clone())
            .with_service_name(hop.name)
            .build()
            .expect("taskwire-otel");
        let subscriber = tracing_subscriber::registry()
            .with(taskwire_tasks::layer())
            .with(otel);
        tracing::subscriber::with_default(subscriber, || {
            hop.serve(
                |headers| taskwire_tasks::import_from(headers, tracing::info_span!("tw.handle")),
                |_| {
                    taskwire_tasks::current()
                        .expect("task")
                        .span_id()
                        .to_string()
                },
                |_, headers| {
                    taskwire_tasks::inject_current(headers);
                },
            );
        });
        assert!(guard.flush_within(Duration::from_secs(15)));
        let stats = guard.shutdown();
        assert_eq!(stats.spans_dropped(), 0, "{stats}");
    })
}

type Spawn = fn(Hop) -> thread::JoinHandle<()>;

/// Runs `first → second → third` once against the collector `scripts/test` started; returns the
/// three span ids and what the collector received.
fn chain(services: [(Spawn, &'static str); 3]) -> ([String; 3], support::Received) {
    let (url, log) = taskwire_test_support::services::otel_collector();
    let url = url.as_str();
    let (tx3, rx3) = mpsc::channel();
    let (tx2, rx2) = mpsc::channel();
    let (tx1, rx1) = mpsc::channel();
    let hop = |i: usize, calls, next| Hop {
        url: url.to_owned(),
        name: services[i].1,
        calls,
        next,
    };
    let h3 = (services[2].0)(hop(2, rx3, None));
    let h2 = (services[1].0)(hop(1, rx2, Some(tx3)));
    let h1 = (services[0].0)(hop(0, rx1, Some(tx2)));

    // The first service's call arrives without a traceparent: it starts the trace. Its own
    // span id comes back; the others are found through their parent links.
    let (reply, first) = mpsc::channel();
    tx1.send(Call {
        headers: Headers::new(),
        reply,
    })
    .expect("send");
    let first_id = first.recv().expect("reply");
    drop(tx1);
    h1.join().expect("first service");
    h2.join().expect("second service");
    h3.join().expect("third service");

    let got = support::wait_for(&log, Duration::from_secs(15), |r| {
        r.span(&first_id)
            .is_some_and(|s| r.trace(&s.trace_id).len() >= 3)
    });
    let first = got.span(&first_id).unwrap_or_else(|| {
        panic!("the first service's span {first_id} never reached the collector")
    });
    let trace = first.trace_id.clone();
    let spans = got.trace(&trace);
    assert_eq!(spans.len(), 3, "one trace of three spans: {spans:#?}");
    assert_eq!(
        first.parent_id, "",
        "the first span is the root: {first:#?}"
    );
    let second = spans
        .iter()
        .find(|s| s.parent_id == first.id)
        .unwrap_or_else(|| panic!("no span whose parent is {}: {spans:#?}", first.id));
    let third = spans
        .iter()
        .find(|s| s.parent_id == second.id)
        .unwrap_or_else(|| panic!("no span whose parent is {}: {spans:#?}", second.id));
    for (s, (_, service)) in [first, *second, *third].iter().zip(services) {
        assert_eq!(
            s.resource_attr("service.name"),
            Some(format!("Str({service})").as_str()),
            "{s:#?}"
        );
    }
    let ids = [first.id.clone(), second.id.clone(), third.id.clone()];
    (ids, got)
}

#[test]
fn opentelemetry_calls_taskwire_calls_opentelemetry_one_trace() {
    let ([_, tw, _], got) = chain([
        (otel_service, "interop-otel-front"),
        (taskwire_service, "interop-taskwire-middle"),
        (otel_service, "interop-otel-back"),
    ]);
    let tw = got.span(&tw).expect("taskwire span");
    assert_eq!(tw.name, "tw.handle");
    assert_eq!(
        tw.kind, "SPAN_KIND_SERVER",
        "continued from another process: {tw:#?}"
    );
}

#[test]
fn taskwire_calls_opentelemetry_calls_taskwire_one_trace() {
    let ([first, otel, _], got) = chain([
        (taskwire_service, "interop-taskwire-front"),
        (otel_service, "interop-otel-middle"),
        (taskwire_service, "interop-taskwire-back"),
    ]);
    assert_eq!(got.span(&first).expect("first").name, "tw.handle");
    assert_eq!(got.span(&otel).expect("middle").name, "otel.handle");
}
