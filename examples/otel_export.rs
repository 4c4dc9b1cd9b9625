//! Exports taskwire's tasks (and its records, as logs) to an OpenTelemetry collector, Jaeger or
//! Tempo over OTLP/HTTP.
//!
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 OTEL_SERVICE_NAME=checkout \
//!     cargo run --example otel_export --features otel
//! ```
//!
//! Without `OTEL_EXPORTER_OTLP_ENDPOINT` it exports to `http://localhost:4318`. A collector that
//! is not there costs the program nothing: the spans are dropped, counted, and the count is
//! printed at the end. See `docs/opentelemetry.md`.

use std::time::Duration;

use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME are read here.
    let (otel, guard) = taskwire::otel::layer()
        .with_service_name("otel-export-example")
        .with_service_version(env!("CARGO_PKG_VERSION"))
        .with_logs(true)
        .build()?;
    let subscriber = tracing_subscriber::registry()
        // INFO and above: the exporter's HTTP client logs at DEBUG and TRACE on its own
        // thread (taskwire-otel ignores those; the JSON layer would print them).
        .with(tracing_subscriber::filter::LevelFilter::INFO)
        .with(taskwire::tasks::layer())
        .with(taskwire::json::layer().with_writer(std::io::stderr))
        .with(otel);
    tracing::subscriber::set_global_default(subscriber)?;

    // One request handled by this service: a task with two children, one of which fails.
    let traceparent = {
        let _request = tracing::info_span!(
            "http.server.request",
            task.name = "POST /checkout",
            http.request.method = "POST",
            user_id = 42_u64,
            password = "never exported",
        )
        .entered();
        {
            let _cart = tracing::info_span!("load cart", items = 3_i64).entered();
            std::thread::sleep(Duration::from_millis(5));
            tracing::info!(items = 3_i64, "cart loaded");
        }
        {
            let _charge = tracing::info_span!("charge", amount = 19.99_f64).entered();
            std::thread::sleep(Duration::from_millis(10));
            tracing::error!(code = "card_declined", "payment refused");
        }
        // The header another service would receive to continue this trace.
        taskwire::tasks::current()
            .map(|t| t.traceparent())
            .unwrap_or_default()
    };

    // The same trace continued as if in another process.
    {
        let span = taskwire::tasks::import(&traceparent, tracing::info_span!("send receipt"));
        let _e = span.enter();
        tracing::info!("receipt queued");
    }

    // Dropping the guard exports what is still queued; its counts say what reached the
    // collector.
    let stats = guard.shutdown();
    eprintln!("trace {}: {stats}", &traceparent.get(3..35).unwrap_or("?"));
    Ok(())
}
