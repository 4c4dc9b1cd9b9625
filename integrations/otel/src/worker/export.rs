//! The export thread: its settings, how it starts, and its loop that takes batches from the
//! queue, converts them and hands them to the exporters, reporting failures once.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry::logs::LoggerProvider as _;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::logs::{LogBatch, SdkLoggerProvider};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

use crate::convert::{self, Clock};
use crate::record::{Arena, FinishedSpan, LogItem};
use crate::transport::LastFailure;

use super::queue::{lock, Shared, Signal};
use super::sink::{LogSink, SinkFactory, SpanSink};

/// Settings of the export thread.
pub(crate) struct WorkerConfig {
    pub(crate) spans: SinkFactory<dyn SpanSink>,
    pub(crate) logs: Option<SinkFactory<dyn LogSink>>,
    pub(crate) resource: Resource,
    pub(crate) scope: InstrumentationScope,
    pub(crate) interval: Duration,
    pub(crate) batch_size: usize,
    pub(crate) max_value_len: usize,
    pub(crate) traces_endpoint: String,
    pub(crate) logs_endpoint: String,
    /// Why the last request of the span and log exporters failed, when taskwire's transport
    /// sends them.
    pub(crate) span_failures: LastFailure,
    pub(crate) log_failures: LastFailure,
}

/// An export error, said precisely: the transport's reason (timeout, refused, other) when it
/// knows one, else the exporter's own message (an HTTP status, a refused payload, …).
struct Reason<'a, E>(&'a E, Option<crate::transport::Failure>);

impl<E: fmt::Display> fmt::Display for Reason<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.1 {
            Some(why) => write!(f, "{why}"),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Starts the export thread; returns once its exporters are built (or failed to build).
pub(crate) fn start(
    shared: Arc<Shared>,
    config: WorkerConfig,
) -> Result<mpsc::Receiver<()>, crate::InitError> {
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let spawned = thread::Builder::new()
        .name("taskwire-otel".into())
        .spawn(move || {
            taskwire_core::suppress::suppress_current_thread();
            let built = (config.spans)().and_then(|spans| {
                let logs = match config.logs {
                    Some(f) => Some(f()?),
                    None => None,
                };
                Ok((spans, logs))
            });
            let (spans, logs) = match built {
                Ok(v) => {
                    let _ = ready_tx.send(Ok(()));
                    v
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    lock(&shared.queue).stopped = true;
                    return;
                }
            };
            let mut worker = Worker {
                shared: &shared,
                spans,
                logs,
                logger: SdkLoggerProvider::builder().build().logger("taskwire"),
                scope: config.scope,
                interval: config.interval,
                batch_size: config.batch_size.max(1),
                max_value_len: config.max_value_len,
                traces_endpoint: config.traces_endpoint,
                logs_endpoint: config.logs_endpoint,
                span_failures: config.span_failures,
                log_failures: config.log_failures,
                failing: false,
                dropped_at_failure: 0,
                reported_full: false,
            };
            worker.spans.set_resource(&config.resource);
            if let Some(l) = &mut worker.logs {
                l.set_resource(&config.resource);
            }
            worker.run();
            lock(&shared.queue).stopped = true;
            shared.flushed.notify_all();
            let _ = done_tx.send(());
        });
    if let Err(e) = spawned {
        return Err(crate::InitError::new("spawning the export thread", e));
    }
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(done_rx),
        Ok(Err(e)) => Err(crate::InitError::boxed("building the OTLP exporter", e)),
        Err(e) => Err(crate::InitError::new("starting the export thread", e)),
    }
}

struct Worker<'a> {
    shared: &'a Shared,
    spans: Box<dyn SpanSink>,
    logs: Option<Box<dyn LogSink>>,
    logger: opentelemetry_sdk::logs::SdkLogger,
    scope: InstrumentationScope,
    interval: Duration,
    batch_size: usize,
    max_value_len: usize,
    traces_endpoint: String,
    logs_endpoint: String,
    span_failures: LastFailure,
    log_failures: LastFailure,
    /// The last export failed; the next success is reported.
    failing: bool,
    /// Items lost when the current failure started.
    dropped_at_failure: u64,
    reported_full: bool,
}

impl Worker<'_> {
    fn run(&mut self) {
        let mut spans = Vec::with_capacity(self.batch_size);
        let mut arena = Arena::default();
        let mut logs = Vec::new();
        let mut deadline = Instant::now() + self.interval;
        loop {
            let (flush_generation, shutdown) = {
                let mut q = lock(&self.shared.queue);
                loop {
                    if q.shutdown
                        || q.flush_requested > q.flush_done
                        || q.spans.len() >= self.batch_size
                        || q.logs.len() >= self.batch_size
                    {
                        break;
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    q = self
                        .shared
                        .wake
                        .wait_timeout(q, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                // Swap in the emptied buffers, which keep their capacity, so producers do not
                // grow a fresh vector after each batch.
                Shared::take_into(&mut q, &mut spans, &mut arena, &mut logs);
                (q.flush_requested, q.shutdown)
            };
            deadline = Instant::now() + self.interval;
            self.export_spans(&mut spans, &arena);
            arena.clear();
            self.export_logs(&mut logs);
            self.report_queue_full();
            {
                let mut q = lock(&self.shared.queue);
                if flush_generation > q.flush_done {
                    q.flush_done = flush_generation;
                }
            }
            self.shared.flushed.notify_all();
            if shutdown {
                // Whatever arrived during the last export goes too.
                let (mut rest_spans, mut rest_arena, mut rest_logs) = Default::default();
                {
                    let mut q = lock(&self.shared.queue);
                    q.stopped = true;
                    Shared::take_into(&mut q, &mut rest_spans, &mut rest_arena, &mut rest_logs);
                }
                self.export_spans(&mut rest_spans, &rest_arena);
                self.export_logs(&mut rest_logs);
                let timeout = Duration::from_secs(5);
                let _ = self.spans.shutdown(timeout);
                if let Some(l) = &mut self.logs {
                    let _ = l.shutdown(timeout);
                }
                return;
            }
        }
    }

    fn export_spans(&mut self, spans: &mut Vec<FinishedSpan>, arena: &Arena) {
        while !spans.is_empty() {
            let clock = Clock::now();
            let n = spans.len().min(self.batch_size);
            let batch: Vec<SpanData> = spans
                .drain(..n)
                .map(|s| convert::span(s, arena, clock, &self.scope, self.max_value_len))
                .collect();
            self.span_failures.take();
            let result = self.spans.export(batch);
            if !self.shared.settle(Signal::Spans, n, result.is_ok()) {
                // Abandoned at shutdown: the rest was counted as lost.
                spans.clear();
                return;
            }
            match result {
                Ok(()) => self.succeeded(),
                Err(e) => {
                    let endpoint = self.traces_endpoint.clone();
                    let why = self.span_failures.take();
                    self.failed("spans", n, &endpoint, &Reason(&e, why));
                }
            }
        }
    }

    fn export_logs(&mut self, logs: &mut Vec<LogItem>) {
        let Some(mut sink) = self.logs.take() else {
            // Without a logs exporter the layer queues no log records.
            logs.clear();
            return;
        };
        while !logs.is_empty() {
            let n = logs.len().min(self.batch_size);
            let records: Vec<_> = logs
                .drain(..n)
                .map(|l| convert::log(l, &self.logger))
                .collect();
            let refs: Vec<_> = records.iter().map(|r| (r, &self.scope)).collect();
            self.log_failures.take();
            let result = sink.export(LogBatch::new(&refs));
            if !self.shared.settle(Signal::Logs, n, result.is_ok()) {
                // Abandoned at shutdown: the rest was counted as lost.
                logs.clear();
                break;
            }
            match result {
                Ok(()) => self.succeeded(),
                Err(e) => {
                    let endpoint = self.logs_endpoint.clone();
                    let why = self.log_failures.take();
                    self.failed("log records", n, &endpoint, &Reason(&e, why));
                }
            }
        }
        self.logs = Some(sink);
    }

    fn lost(&self) -> u64 {
        let s = self.shared.stats();
        s.spans_dropped() + s.logs_dropped()
    }

    fn failed(&mut self, what: &str, n: usize, endpoint: &str, e: &dyn fmt::Display) {
        let c = &self.shared.counters;
        c.export_errors.fetch_add(1, Ordering::Relaxed);
        let message = format!("exporting {what} to {endpoint} failed: {e}");
        *lock(&c.last_error) = Some(message.clone());
        if !self.failing {
            self.failing = true;
            // This batch is already counted; it is the first one lost.
            self.dropped_at_failure = self.lost().saturating_sub(n as u64);
            eprintln!(
                "taskwire-otel: {message}; dropping and counting what cannot be exported until it works again"
            );
        }
    }

    fn succeeded(&mut self) {
        if self.failing {
            self.failing = false;
            let lost = self.lost().saturating_sub(self.dropped_at_failure);
            eprintln!(
                "taskwire-otel: export works again; {lost} spans and log records were dropped meanwhile ({})",
                self.shared.stats()
            );
        }
    }

    fn report_queue_full(&mut self) {
        if self.reported_full {
            return;
        }
        let s = self.shared.stats();
        if s.spans_dropped_queue_full + s.logs_dropped_queue_full > 0 {
            self.reported_full = true;
            eprintln!(
                "taskwire-otel: the export queue is full (the collector is slow or down); new spans and records are dropped and counted (reported once)"
            );
        }
    }
}
