//! [`OtelBuilder`]: where to export, what the resource says, and the queue's bounds.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::logs::LogExporter;
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::Resource;
use taskwire_core::Redactor;

use crate::layer::OtelLayer;
use crate::record::Limits;
use crate::transport::{LastFailure, Transport};
use crate::worker::{self, LogSink, OtelGuard, Shared, SinkFactory, SpanSink, WorkerConfig};

/// Configures the export. Made by [`layer()`](crate::layer); [`OtelBuilder::build`] starts the
/// export thread and returns the layer and its guard.
///
/// Where to send, in order: [`with_endpoint`](Self::with_endpoint); otherwise the standard
/// variables `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` (used as
/// written) and `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL: `/v1/traces` and `/v1/logs` are
/// appended); otherwise `http://localhost:4318`. `OTEL_EXPORTER_OTLP_HEADERS` and
/// `OTEL_EXPORTER_OTLP_TIMEOUT` are honoured too. The protocol is OTLP over HTTP with protobuf.
///
/// The service: `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) when
/// set, so that operators can name a deployment without a rebuild; otherwise
/// [`with_service_name`](Self::with_service_name); otherwise `unknown_service`.
pub struct OtelBuilder {
    endpoint: Option<String>,
    service_name: Option<String>,
    service_version: Option<String>,
    attributes: Vec<KeyValue>,
    redactor: Redactor,
    limits: Limits,
    events: bool,
    logs: bool,
    queue_capacity: usize,
    batch_size: usize,
    interval: Duration,
    timeout: Option<Duration>,
    shutdown_timeout: Duration,
    span_exporter: Option<SinkFactory<dyn SpanSink>>,
    log_exporter: Option<SinkFactory<dyn LogSink>>,
    #[cfg(feature = "metrics")]
    metrics: Option<(taskwire_metrics::MetricsHandle, Option<Duration>)>,
}

impl fmt::Debug for OtelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelBuilder")
            .field("endpoint", &self.endpoint)
            .field("service_name", &self.service_name)
            .field("service_version", &self.service_version)
            .field("limits", &self.limits)
            .field("events", &self.events)
            .field("logs", &self.logs)
            .field("queue_capacity", &self.queue_capacity)
            .field("batch_size", &self.batch_size)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl Default for OtelBuilder {
    fn default() -> Self {
        OtelBuilder {
            endpoint: None,
            service_name: None,
            service_version: None,
            attributes: Vec::new(),
            redactor: Redactor::default(),
            limits: Limits::default(),
            events: true,
            logs: false,
            queue_capacity: env_usize("OTEL_BSP_MAX_QUEUE_SIZE").unwrap_or(2048),
            batch_size: env_usize("OTEL_BSP_MAX_EXPORT_BATCH_SIZE").unwrap_or(512),
            interval: env_usize("OTEL_BSP_SCHEDULE_DELAY").map_or(Duration::from_secs(1), |ms| {
                Duration::from_millis(ms as u64)
            }),
            timeout: None,
            shutdown_timeout: Duration::from_secs(5),
            span_exporter: None,
            log_exporter: None,
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl OtelBuilder {
    /// The collector's OTLP/HTTP base URL, e.g. `http://collector:4318`: spans go to
    /// `{endpoint}/v1/traces`, log records to `{endpoint}/v1/logs`. Overrides the
    /// `OTEL_EXPORTER_OTLP_*ENDPOINT` variables.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The `service.name` resource attribute, unless `OTEL_SERVICE_NAME` (or `service.name`
    /// in `OTEL_RESOURCE_ATTRIBUTES`) says otherwise.
    #[must_use]
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The `service.version` resource attribute (taskwire's `release`), unless
    /// `OTEL_RESOURCE_ATTRIBUTES` sets it.
    #[must_use]
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = Some(version.into());
        self
    }

    /// Sets the service name and version only where this builder has none yet: for a wrapper
    /// (taskwire's umbrella builder) that knows the service but lets the caller's own
    /// [`with_service_name`](Self::with_service_name) win.
    #[must_use]
    pub fn with_service_defaults(mut self, name: Option<&str>, version: Option<&str>) -> Self {
        if self.service_name.is_none() {
            self.service_name = name.map(str::to_owned);
        }
        if self.service_version.is_none() {
            self.service_version = version.map(str::to_owned);
        }
        self
    }

    /// Adds a resource attribute (`deployment.environment.name`, `service.namespace`, …).
    /// `OTEL_RESOURCE_ATTRIBUTES` adds more; on a clash, this one wins.
    #[must_use]
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.attributes
            .push(KeyValue::new(key.into(), value.into()));
        self
    }

    /// Also exports each event as an OTLP log record carrying the trace and span ids of the
    /// task it occurred in, with the event's fields and its tasks' fields as attributes (what
    /// taskwire's JSON layer writes). Default: off.
    #[must_use]
    pub fn with_logs(mut self, enabled: bool) -> Self {
        self.logs = enabled;
        self
    }

    /// Attaches the events that occur inside a task to its span as span events. Default: on.
    #[must_use]
    pub fn with_span_events(mut self, enabled: bool) -> Self {
        self.events = enabled;
        self
    }

    /// Redacts with `redactor` event fields, and span fields when the layer captures them
    /// itself (no capture layer below it; see [`taskwire_core::span`]).
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Size limits on values, attributes and events (see [`Limits`]).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How many spans (and, separately, log records) may wait for export; beyond that new ones
    /// are dropped and counted. Default: `OTEL_BSP_MAX_QUEUE_SIZE` or 2048.
    #[must_use]
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Spans per export request. Default: `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` or 512.
    #[must_use]
    pub fn with_batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// The longest a finished span waits before it is exported (a full batch goes at once).
    /// Default: `OTEL_BSP_SCHEDULE_DELAY` (milliseconds) or 1 s.
    #[must_use]
    pub fn with_export_interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How long one export request may take. Default: `OTEL_EXPORTER_OTLP_TIMEOUT` or 10 s.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long dropping the guard waits for the last export. Default: 5 s.
    #[must_use]
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Exports spans with `exporter` instead of OTLP over HTTP: any OpenTelemetry SDK span
    /// exporter that needs no async runtime (stdout, in-memory for tests, your own). It runs
    /// on the export thread, which polls its futures to completion.
    #[must_use]
    pub fn with_span_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.span_exporter = Some(Box::new(
            move || Ok(Box::new(exporter) as Box<dyn SpanSink>),
        ));
        self
    }

    /// Exports log records with `exporter` instead of OTLP over HTTP (implies
    /// [`with_logs(true)`](Self::with_logs)).
    #[must_use]
    pub fn with_log_exporter<E: LogExporter + 'static>(mut self, exporter: E) -> Self {
        self.logs = true;
        self.log_exporter = Some(Box::new(move || Ok(Box::new(exporter) as Box<dyn LogSink>)));
        self
    }

    /// Also exports taskwire-metrics' aggregates (read through `handle`) as OTLP metrics,
    /// every `interval` (default: `OTEL_METRIC_EXPORT_INTERVAL` or 60 s), to
    /// `{endpoint}/v1/metrics`. Counters become monotonic sums; span durations become
    /// `_count` and `_sum` sums and `_window` quantile gauges (see `docs/opentelemetry.md`).
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn with_metrics(
        mut self,
        handle: taskwire_metrics::MetricsHandle,
        interval: Option<Duration>,
    ) -> Self {
        self.metrics = Some((handle, interval));
        self
    }

    /// The resource every span and record carries: service, version, host, process, SDK, and
    /// what `OTEL_RESOURCE_ATTRIBUTES` adds.
    fn resource(&self) -> Resource {
        let env_attributes = std::env::var("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default();
        let env_has = |key: &str| {
            env_attributes
                .split(',')
                .any(|kv| kv.split('=').next().map(str::trim) == Some(key))
        };
        let mut b = Resource::builder();
        if env_nonempty("OTEL_SERVICE_NAME").is_none() && !env_has("service.name") {
            if let Some(name) = &self.service_name {
                b = b.with_service_name(name.clone());
            }
        }
        if !env_has("service.version") {
            if let Some(v) = &self.service_version {
                b = b.with_attribute(KeyValue::new("service.version", v.clone()));
            }
        }
        if !env_has("host.name") {
            b = b.with_attribute(KeyValue::new(
                "host.name",
                taskwire_core::process::hostname().to_owned(),
            ));
        }
        b = b.with_attribute(KeyValue::new(
            "process.pid",
            i64::from(taskwire_core::process::pid()),
        ));
        b.with_attributes(self.attributes.iter().cloned()).build()
    }

    /// Where a signal goes, as the exporter resolves it (for messages).
    fn endpoint_for(&self, signal_var: &str, path: &str) -> String {
        if let Some(base) = &self.endpoint {
            return join(base, path);
        }
        if let Some(url) = env_nonempty(signal_var) {
            return url;
        }
        let base = env_nonempty("OTEL_EXPORTER_OTLP_ENDPOINT")
            .unwrap_or_else(|| "http://localhost:4318".to_owned());
        join(&base, path)
    }

    /// Starts the export thread (and builds the OTLP exporters on it). Fails when an
    /// endpoint is not a valid URL or the thread cannot start; a collector that is down is no
    /// error: spans are dropped and counted until it answers.
    pub fn build(self) -> Result<(OtelLayer, OtelGuard), InitError> {
        let resource = self.resource();
        let traces_endpoint = self.endpoint_for("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces");
        let logs_endpoint = self.endpoint_for("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "/v1/logs");
        #[cfg(feature = "metrics")]
        let metrics_endpoint =
            self.endpoint_for("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "/v1/metrics");
        let explicit = self.endpoint.is_some();
        let timeout = self.timeout;
        let span_failures = LastFailure::default();
        let log_failures = LastFailure::default();
        let span_transport = span_failures.clone();
        let spans = self.span_exporter.unwrap_or_else(|| {
            let url = traces_endpoint.clone();
            Box::new(move || {
                let transport = Transport::new(
                    export_timeout(timeout, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"),
                    span_transport,
                )?;
                let b = opentelemetry_otlp::SpanExporter::builder().with_http();
                let b = otlp_http(b, transport, explicit.then_some(url), timeout);
                Ok(Box::new(b.build()?) as Box<dyn SpanSink>)
            })
        });
        let logs = match (self.logs, self.log_exporter) {
            (_, Some(f)) => Some(f),
            (true, None) => {
                let url = logs_endpoint.clone();
                let log_transport = log_failures.clone();
                Some(Box::new(move || {
                    let transport = Transport::new(
                        export_timeout(timeout, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"),
                        log_transport,
                    )?;
                    let b = opentelemetry_otlp::LogExporter::builder().with_http();
                    let b = otlp_http(b, transport, explicit.then_some(url), timeout);
                    Ok(Box::new(b.build()?) as Box<dyn LogSink>)
                }) as SinkFactory<dyn LogSink>)
            }
            (false, None) => None,
        };
        let logs_on = logs.is_some();
        #[cfg(feature = "metrics")]
        let meter_provider = match self.metrics {
            Some((handle, interval)) => Some(crate::metrics::start(
                handle,
                explicit.then_some(metrics_endpoint),
                interval,
                timeout,
                resource.clone(),
            )?),
            None => None,
        };
        let shared = Arc::new(Shared::new(
            self.queue_capacity,
            self.queue_capacity,
            self.batch_size,
        ));
        let done = worker::start(
            shared.clone(),
            WorkerConfig {
                spans,
                logs,
                resource,
                scope: InstrumentationScope::builder("taskwire")
                    .with_version(env!("CARGO_PKG_VERSION"))
                    .build(),
                interval: self.interval,
                batch_size: self.batch_size,
                max_value_len: self.limits.max_value_len,
                traces_endpoint,
                logs_endpoint,
                span_failures,
                log_failures,
            },
        )?;
        let layer = OtelLayer::new(
            self.redactor,
            shared.clone(),
            self.limits,
            self.events,
            logs_on,
        );
        let guard = OtelGuard {
            shared,
            done: Some(done),
            shutdown_timeout: self.shutdown_timeout,
            #[cfg(feature = "metrics")]
            meter_provider,
        };
        Ok((layer, guard))
    }
}

/// How long one export request may take: `with_timeout`, else the signal's variable, else
/// `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds), else 10 s (the rule of opentelemetry-otlp, whose
/// client taskwire's transport replaces).
/// Sets up an OTLP/HTTP exporter builder (spans or logs) the same way: taskwire's transport,
/// binary protobuf, the endpoint when one was given explicitly, and the timeout if set.
fn otlp_http<B: WithExportConfig + WithHttpConfig>(
    b: B,
    transport: Transport,
    endpoint: Option<String>,
    timeout: Option<Duration>,
) -> B {
    let mut b = b
        .with_http_client(transport)
        .with_protocol(Protocol::HttpBinary);
    if let Some(url) = endpoint {
        b = b.with_endpoint(url);
    }
    if let Some(t) = timeout {
        b = b.with_timeout(t);
    }
    b
}

fn export_timeout(explicit: Option<Duration>, signal_var: &str) -> Duration {
    let from_env = |name: &str| {
        env_nonempty(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_millis)
    };
    explicit
        .or_else(|| from_env(signal_var))
        .or_else(|| from_env("OTEL_EXPORTER_OTLP_TIMEOUT"))
        .unwrap_or(Duration::from_secs(10))
}

fn join(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// Starting the export failed: an endpoint that is not a URL, or a thread that could not
/// start.
#[derive(Debug)]
pub struct InitError {
    context: &'static str,
    source: Box<dyn Error + Send + Sync>,
}

impl InitError {
    pub(crate) fn new(context: &'static str, source: impl Error + Send + Sync + 'static) -> Self {
        InitError {
            context,
            source: Box::new(source),
        }
    }

    pub(crate) fn boxed(context: &'static str, source: Box<dyn Error + Send + Sync>) -> Self {
        InitError { context, source }
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "taskwire-otel: {} failed: {}", self.context, self.source)
    }
}

impl Error for InitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}
