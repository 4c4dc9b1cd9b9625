//! The status of HTTP spans follows OpenTelemetry's stable HTTP span conventions: a failing
//! status code makes the status Error with no description (the code says it all, and the
//! conventions forbid repeating it), and `error.type` carries the code; a reason that says
//! more than the code is kept. Checked on the SDK data handed to an exporter.

mod support;

use std::time::Duration;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use tracing::field::Empty;

fn attr<'a>(s: &'a SpanData, key: &str) -> Option<&'a Value> {
    s.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// A span shaped like taskwire-reqwest's client span (or the server middlewares' request
/// span), answered with `code` and failed with `reason`.
fn http_span(name: &'static str, code: u16, reason: &'static str) {
    let span = match name {
        "http.client.request" => tracing::info_span!(
            "http.client.request",
            task.name = "GET",
            http.response.status_code = Empty,
            error.type = Empty,
        ),
        _ => tracing::info_span!(
            "http.server.request",
            task.name = "GET /users/{id}",
            http.response.status_code = Empty,
            error.type = Empty,
        ),
    };
    let _entered = span.enter();
    span.record("http.response.status_code", code);
    span.record("error.type", code.to_string().as_str());
    taskwire_tasks::fail(reason);
}

#[test]
fn a_failing_status_code_is_an_error_without_a_repeated_description() {
    let exporter = InMemorySpanExporter::default();
    let (subscriber, guard) =
        support::under_tasks(taskwire_otel::layer().with_span_exporter(exporter.clone()));
    tracing::subscriber::with_default(subscriber, || {
        http_span("http.client.request", 404, "HTTP 404 Not Found");
        http_span("http.server.request", 500, "HTTP 500 Internal Server Error");
        http_span("http.server.request", 503, "database is down");
    });
    assert!(guard.flush_within(Duration::from_secs(10)));
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 3, "{spans:#?}");

    let client = &spans[0];
    assert_eq!(client.span_kind, SpanKind::Client);
    assert_eq!(
        client.status,
        Status::Error {
            description: "".into()
        }
    );
    assert_eq!(attr(client, "error.type"), Some(&Value::from("404")));
    assert_eq!(
        attr(client, "http.response.status_code"),
        Some(&Value::I64(404))
    );

    let server = &spans[1];
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(
        server.status,
        Status::Error {
            description: "".into()
        }
    );

    // A reason that says more than the code stays.
    assert_eq!(
        spans[2].status,
        Status::Error {
            description: "database is down".into()
        }
    );
}
