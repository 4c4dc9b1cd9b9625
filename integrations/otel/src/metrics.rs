//! taskwire-metrics' in-app aggregates as OTLP metrics (feature `metrics`).
//!
//! The OpenTelemetry SDK's periodic reader (its own thread) collects observable instruments
//! whose callbacks read one [`Snapshot`](taskwire_metrics::Snapshot) per collection and
//! exports them with opentelemetry-otlp. What maps to what:
//!
//! | taskwire-metrics | OTLP metric | type |
//! |---|---|---|
//! | counter series (`taskwire_events_total`, …) | same name, same labels | monotonic sum (u64) |
//! | histogram series (`taskwire_span_duration_seconds`, …) | `{name}_count`, `{name}_sum` | monotonic sums |
//! | its sliding window | `{name}_window` with a `quantile` label (`0.5`, `0.95`, `0.99`, `1` = max) | gauge (f64) |
//!
//! The snapshot holds percentiles over a window rather than bucket counts, so durations are
//! exported as count, sum and windowed quantiles (what an OTLP summary carries), not as an
//! OTLP histogram.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry::metrics::{AsyncInstrument, Meter, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::Resource;
use taskwire_metrics::{names, MetricsHandle, Snapshot};

/// One snapshot per collection, shared by every instrument's callback.
struct Cache {
    handle: MetricsHandle,
    last: Mutex<Option<(Instant, Arc<Snapshot>)>>,
}

impl Cache {
    fn snapshot(&self) -> Arc<Snapshot> {
        // The reader's thread does export I/O: taskwire ignores its events.
        taskwire_core::suppress::suppress_current_thread();
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match &*last {
            Some((at, s)) if at.elapsed() < Duration::from_millis(200) => s.clone(),
            _ => {
                let s = Arc::new(self.handle.snapshot());
                *last = Some((Instant::now(), s.clone()));
                s
            }
        }
    }
}

fn attributes(labels: &taskwire_metrics::LabelSet) -> Vec<KeyValue> {
    labels
        .iter()
        .map(|(k, v)| KeyValue::new(k.to_owned(), v.to_owned()))
        .collect()
}

/// Registers the observable instruments on `meter`.
fn register(meter: &Meter, cache: &Arc<Cache>) {
    let counters = [
        names::EVENTS,
        names::ERRORS,
        names::TASK_FAILURES,
        names::DROPPED_LABEL_SETS,
    ];
    for name in counters {
        let c = cache.clone();
        meter
            .u64_observable_counter(name)
            .with_callback(move |o: &dyn AsyncInstrument<u64>| {
                for s in c.snapshot().counters.iter().filter(|s| s.metric == name) {
                    o.observe(s.count, &attributes(&s.labels));
                }
            })
            .build();
    }
    for name in names::HISTOGRAMS {
        let c = cache.clone();
        meter
            .u64_observable_counter(format!("{name}_count"))
            .with_callback(move |o: &dyn AsyncInstrument<u64>| {
                for s in c.snapshot().timers.iter().filter(|s| s.metric == name) {
                    o.observe(s.count, &attributes(&s.labels));
                }
            })
            .build();
        let c = cache.clone();
        meter
            .f64_observable_counter(format!("{name}_sum"))
            .with_unit("s")
            .with_callback(move |o: &dyn AsyncInstrument<f64>| {
                for s in c.snapshot().timers.iter().filter(|s| s.metric == name) {
                    o.observe(s.sum_seconds, &attributes(&s.labels));
                }
            })
            .build();
        let c = cache.clone();
        meter
            .f64_observable_gauge(format!("{name}_window"))
            .with_unit("s")
            .with_callback(move |o: &dyn AsyncInstrument<f64>| {
                for s in c.snapshot().timers.iter().filter(|s| s.metric == name) {
                    if s.window.count == 0 {
                        continue;
                    }
                    let base = attributes(&s.labels);
                    for (q, v) in [
                        ("0.5", s.window.p50),
                        ("0.95", s.window.p95),
                        ("0.99", s.window.p99),
                        ("1", s.window.max),
                    ] {
                        let mut a = base.clone();
                        a.push(KeyValue::new("quantile", q));
                        o.observe(v, &a);
                    }
                }
            })
            .build();
    }
}

/// Starts the periodic export of `handle`'s snapshot to `endpoint` (a full `/v1/metrics` URL
/// when set in code; `None`: the OTLP environment variables decide).
pub(crate) fn start(
    handle: MetricsHandle,
    endpoint: Option<String>,
    interval: Option<Duration>,
    timeout: Option<Duration>,
    resource: Resource,
) -> Result<SdkMeterProvider, crate::InitError> {
    let mut b = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary);
    if let Some(url) = endpoint {
        b = b.with_endpoint(url);
    }
    if let Some(t) = timeout {
        b = b.with_timeout(t);
    }
    let exporter = b
        .build()
        .map_err(|e| crate::InitError::new("building the OTLP metric exporter", e))?;
    let mut reader = PeriodicReader::builder(exporter);
    if let Some(i) = interval {
        reader = reader.with_interval(i);
    }
    let provider = SdkMeterProvider::builder()
        .with_reader(reader.build())
        .with_resource(resource)
        .build();
    let cache = Arc::new(Cache {
        handle,
        last: Mutex::new(None),
    });
    register(&provider.meter("taskwire"), &cache);
    Ok(provider)
}
