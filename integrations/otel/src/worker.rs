//! The bounded queue between the application's threads and the export thread, the export
//! thread itself, its counters, and the guard that flushes it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry::logs::LoggerProvider as _;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::convert::{self, Clock};
use crate::record::{Arena, FinishedSpan, LogItem};
use crate::transport::LastFailure;

/// An exporter of spans, object-safe (the SDK's trait returns `impl Future`).
pub(crate) trait SpanSink: Send {
    fn export(&mut self, batch: Vec<SpanData>) -> OTelSdkResult;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
}

impl<E: SpanExporter + 'static> SpanSink for E {
    fn export(&mut self, batch: Vec<SpanData>) -> OTelSdkResult {
        futures_executor::block_on(SpanExporter::export(self, batch))
    }
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(self, timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }
}

/// An exporter of log records, object-safe.
pub(crate) trait LogSink: Send {
    fn export(&mut self, batch: LogBatch<'_>) -> OTelSdkResult;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
}

impl<E: LogExporter + 'static> LogSink for E {
    fn export(&mut self, batch: LogBatch<'_>) -> OTelSdkResult {
        futures_executor::block_on(LogExporter::export(self, batch))
    }
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        LogExporter::shutdown_with_timeout(self, timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        LogExporter::set_resource(self, resource);
    }
}

/// Builds the exporters on the export thread (the blocking HTTP client must not be made on
/// an async runtime's thread).
pub(crate) type SinkFactory<T> =
    Box<dyn FnOnce() -> Result<Box<T>, Box<dyn std::error::Error + Send + Sync>> + Send>;

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

/// State shared by the layer (producer) and the export thread (consumer).
pub(crate) struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the export thread: a full batch, a flush, the shutdown.
    wake: Condvar,
    /// Wakes flushers when a flush is done.
    flushed: Condvar,
    span_capacity: usize,
    log_capacity: usize,
    batch_size: usize,
    pub(crate) counters: Counters,
}

/// The most bytes of field strings the queue holds (beyond that, spans are dropped as when
/// it is full), so that hostile values cannot grow it without bound.
const MAX_QUEUED_BYTES: usize = 32 << 20;

#[derive(Default)]
pub(crate) struct Queue {
    spans: Vec<FinishedSpan>,
    /// The queued spans' fields and strings.
    pub(crate) arena: Arena,
    logs: Vec<LogItem>,
    /// Flushes asked for and done, as generations.
    flush_requested: u64,
    flush_done: u64,
    shutdown: bool,
    /// The export thread has exited.
    stopped: bool,
    /// Spans and log records the export thread took from the queue and has not yet counted
    /// as exported or failed.
    held_spans: u64,
    held_logs: u64,
    /// The guard gave up waiting for the export thread and counted everything still queued or
    /// held as lost; the thread counts nothing more.
    abandoned: bool,
}

/// Counters, shared.
#[derive(Default, Debug)]
pub(crate) struct Counters {
    spans_exported: AtomicU64,
    spans_dropped_queue_full: AtomicU64,
    spans_failed: AtomicU64,
    spans_lost_at_shutdown: AtomicU64,
    logs_exported: AtomicU64,
    logs_dropped_queue_full: AtomicU64,
    logs_failed: AtomicU64,
    logs_lost_at_shutdown: AtomicU64,
    export_errors: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// What the exporter did so far: spans and log records exported, dropped because the queue
/// was full (the export thread fell behind, or the collector is slow), dropped because their
/// export failed (the collector was down or refused them), and lost at shutdown (still queued,
/// or in an export that had not finished, when the shutdown timeout ran out). Every span the
/// layer took is in exactly one of these counts once the guard has stopped.
///
/// ```
/// let stats = taskwire_otel::ExportStats::default();
/// assert_eq!(stats.spans_dropped(), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Spans the collector accepted.
    pub spans_exported: u64,
    /// Spans dropped because the queue was full.
    pub spans_dropped_queue_full: u64,
    /// Spans dropped because their export failed.
    pub spans_failed: u64,
    /// Spans still queued or being exported when the shutdown timeout ran out.
    pub spans_lost_at_shutdown: u64,
    /// Log records the collector accepted.
    pub logs_exported: u64,
    /// Log records dropped because the queue was full.
    pub logs_dropped_queue_full: u64,
    /// Log records dropped because their export failed.
    pub logs_failed: u64,
    /// Log records still queued or being exported when the shutdown timeout ran out.
    pub logs_lost_at_shutdown: u64,
    /// Failed export calls.
    pub export_errors: u64,
    /// The last export error, if any.
    pub last_error: Option<String>,
}

impl ExportStats {
    /// Spans lost, whatever the reason.
    pub fn spans_dropped(&self) -> u64 {
        self.spans_dropped_queue_full + self.spans_failed + self.spans_lost_at_shutdown
    }

    /// Log records lost, whatever the reason.
    pub fn logs_dropped(&self) -> u64 {
        self.logs_dropped_queue_full + self.logs_failed + self.logs_lost_at_shutdown
    }
}

impl fmt::Display for ExportStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "spans: {} exported, {} dropped (queue full {}, export failed {}, lost at shutdown {}); log records: {} exported, {} dropped (queue full {}, export failed {}, lost at shutdown {}); {} failed exports",
            self.spans_exported,
            self.spans_dropped(),
            self.spans_dropped_queue_full,
            self.spans_failed,
            self.spans_lost_at_shutdown,
            self.logs_exported,
            self.logs_dropped(),
            self.logs_dropped_queue_full,
            self.logs_failed,
            self.logs_lost_at_shutdown,
            self.export_errors
        )
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(span_capacity: usize, log_capacity: usize, batch_size: usize) -> Self {
        Shared {
            queue: Mutex::new(Queue {
                spans: Vec::with_capacity(batch_size.min(span_capacity)),
                ..Queue::default()
            }),
            wake: Condvar::new(),
            flushed: Condvar::new(),
            span_capacity,
            log_capacity,
            batch_size,
            counters: Counters::default(),
        }
    }

    /// Locks the queue for one more span, or counts a drop and returns `None` when it is
    /// full; never waits on the export. The caller appends the span's fields to the arena
    /// and hands the guard to [`Shared::commit_span`].
    #[inline]
    pub(crate) fn reserve_span(&self) -> Option<MutexGuard<'_, Queue>> {
        let q = lock(&self.queue);
        if q.spans.len() >= self.span_capacity
            || q.arena.bytes.len() >= MAX_QUEUED_BYTES
            || q.stopped
        {
            drop(q);
            self.counters
                .spans_dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(q)
    }

    /// Queues the span whose fields were just appended under `q`.
    #[inline]
    pub(crate) fn commit_span(&self, mut q: MutexGuard<'_, Queue>, span: FinishedSpan) {
        q.spans.push(span);
        let full_batch = q.spans.len() == self.batch_size;
        drop(q);
        if full_batch {
            self.wake.notify_one();
        }
    }

    /// Queues a log record; never blocks on the export. A full queue drops it (counted).
    pub(crate) fn push_log(&self, item: LogItem) {
        let mut q = lock(&self.queue);
        if q.logs.len() >= self.log_capacity || q.stopped {
            drop(q);
            self.counters
                .logs_dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        q.logs.push(item);
        let full_batch = q.logs.len() == self.batch_size;
        drop(q);
        if full_batch {
            self.wake.notify_one();
        }
    }

    pub(crate) fn stats(&self) -> ExportStats {
        let c = &self.counters;
        ExportStats {
            spans_exported: c.spans_exported.load(Ordering::Relaxed),
            spans_dropped_queue_full: c.spans_dropped_queue_full.load(Ordering::Relaxed),
            spans_failed: c.spans_failed.load(Ordering::Relaxed),
            spans_lost_at_shutdown: c.spans_lost_at_shutdown.load(Ordering::Relaxed),
            logs_exported: c.logs_exported.load(Ordering::Relaxed),
            logs_dropped_queue_full: c.logs_dropped_queue_full.load(Ordering::Relaxed),
            logs_failed: c.logs_failed.load(Ordering::Relaxed),
            logs_lost_at_shutdown: c.logs_lost_at_shutdown.load(Ordering::Relaxed),
            export_errors: c.export_errors.load(Ordering::Relaxed),
            last_error: lock(&c.last_error).clone(),
        }
    }

    /// Asks the export thread to export everything queued so far and waits for it, at most
    /// `timeout`. Returns whether it finished in time.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut q = lock(&self.queue);
        if q.stopped {
            return q.spans.is_empty() && q.logs.is_empty();
        }
        q.flush_requested += 1;
        let generation = q.flush_requested;
        self.wake.notify_one();
        while q.flush_done < generation && !q.stopped {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            q = self
                .flushed
                .wait_timeout(q, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        q.flush_done >= generation
    }

    fn request_shutdown(&self) {
        lock(&self.queue).shutdown = true;
        self.wake.notify_one();
    }

    /// Gives up on the export thread (it did not stop in time): new spans are refused, and
    /// every span and log record still queued or held by the thread is counted as lost, once.
    /// Returns how many spans and log records that was.
    fn abandon(&self) -> (u64, u64) {
        let mut q = lock(&self.queue);
        if q.abandoned {
            return (0, 0);
        }
        q.abandoned = true;
        q.stopped = true;
        let spans = q.spans.len() as u64 + q.held_spans;
        let logs = q.logs.len() as u64 + q.held_logs;
        q.spans.clear();
        q.arena.clear();
        q.logs.clear();
        q.held_spans = 0;
        q.held_logs = 0;
        let c = &self.counters;
        c.spans_lost_at_shutdown.fetch_add(spans, Ordering::Relaxed);
        c.logs_lost_at_shutdown.fetch_add(logs, Ordering::Relaxed);
        drop(q);
        self.flushed.notify_all();
        (spans, logs)
    }

    /// Takes the queued spans, their arena and the log records into the export thread's
    /// buffers (swapping in the emptied ones, which keep their capacity), and counts them as
    /// held until [`Shared::settle`] says what became of them.
    fn take_into(
        q: &mut Queue,
        spans: &mut Vec<FinishedSpan>,
        arena: &mut Arena,
        logs: &mut Vec<LogItem>,
    ) {
        std::mem::swap(&mut q.spans, spans);
        std::mem::swap(&mut q.arena, arena);
        std::mem::swap(&mut q.logs, logs);
        q.held_spans += spans.len() as u64;
        q.held_logs += logs.len() as u64;
    }

    /// Counts `n` held items as exported (`ok`) or failed. Returns `false`, counting nothing,
    /// once the guard has abandoned the thread (it counted them as lost already).
    fn settle(&self, signal: Signal, n: usize, ok: bool) -> bool {
        let mut q = lock(&self.queue);
        if q.abandoned {
            return false;
        }
        let n = n as u64;
        let c = &self.counters;
        let counter = match (signal, ok) {
            (Signal::Spans, true) => &c.spans_exported,
            (Signal::Spans, false) => &c.spans_failed,
            (Signal::Logs, true) => &c.logs_exported,
            (Signal::Logs, false) => &c.logs_failed,
        };
        match signal {
            Signal::Spans => q.held_spans = q.held_spans.saturating_sub(n),
            Signal::Logs => q.held_logs = q.held_logs.saturating_sub(n),
        }
        counter.fetch_add(n, Ordering::Relaxed);
        drop(q);
        true
    }
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

/// Which queue a count is about.
#[derive(Clone, Copy, Debug)]
enum Signal {
    Spans,
    Logs,
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

/// Flushes and stops the export thread when dropped: everything queued is exported (within the
/// shutdown timeout) and a summary is printed to stderr if anything was lost. Keep it alive as
/// long as the subscriber, typically in `main`:
///
/// ```no_run
/// # fn main() -> Result<(), taskwire_otel::InitError> {
/// let (otel, _guard) = taskwire_otel::layer().build()?;
/// # drop(otel);
/// # Ok(())
/// # }
/// ```
///
/// Dropping it early (binding it to `_`) stops the export at once: later spans are dropped.
#[must_use = "dropping the guard stops the export; keep it alive as long as the subscriber"]
pub struct OtelGuard {
    pub(crate) shared: Arc<Shared>,
    pub(crate) done: Option<mpsc::Receiver<()>>,
    pub(crate) shutdown_timeout: Duration,
    #[cfg(feature = "metrics")]
    pub(crate) meter_provider: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl fmt::Debug for OtelGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelGuard")
            .field("stats", &self.shared.stats())
            .finish_non_exhaustive()
    }
}

impl OtelGuard {
    /// Exports everything queued so far, waiting at most the shutdown timeout
    /// ([`OtelBuilder::with_shutdown_timeout`](crate::OtelBuilder::with_shutdown_timeout), 5 s
    /// by default). A failed export still counts as done (see [`OtelGuard::stats`]).
    pub fn flush(&self) -> Result<(), FlushError> {
        if self.flush_within(self.shutdown_timeout) {
            Ok(())
        } else {
            Err(FlushError {
                waited: self.shutdown_timeout,
            })
        }
    }

    /// Like [`OtelGuard::flush`], waiting at most `timeout`. Returns whether it was done in
    /// time.
    pub fn flush_within(&self, timeout: Duration) -> bool {
        #[cfg(feature = "metrics")]
        if let Some(p) = &self.meter_provider {
            if let Err(e) = p.force_flush() {
                eprintln!("taskwire-otel: exporting metrics failed: {e}");
            }
        }
        self.shared.flush(timeout)
    }

    /// What was exported and dropped so far.
    pub fn stats(&self) -> ExportStats {
        self.shared.stats()
    }

    /// Flushes and stops the export thread, waiting at most the shutdown timeout; returns the
    /// final counts. Dropping the guard does the same.
    pub fn shutdown(mut self) -> ExportStats {
        self.stop();
        self.shared.stats()
    }

    fn stop(&mut self) {
        #[cfg(feature = "metrics")]
        if let Some(p) = self.meter_provider.take() {
            // Exports once more, then stops the reader's thread.
            let _ = p.shutdown_with_timeout(self.shutdown_timeout);
        }
        let Some(done) = self.done.take() else { return };
        self.shared.request_shutdown();
        if done.recv_timeout(self.shutdown_timeout).is_err() {
            let (spans, logs) = self.shared.abandon();
            eprintln!(
                "taskwire-otel: the export did not finish within {:?}; {spans} spans and {logs} log records still queued or being exported are lost",
                self.shutdown_timeout
            );
        }
        let stats = self.shared.stats();
        if stats.spans_dropped() + stats.logs_dropped() > 0 {
            eprintln!("taskwire-otel: at shutdown: {stats}");
        }
    }
}

/// Why [`OtelGuard::flush`] did not finish: the export took longer than the shutdown timeout
/// (a slow or unreachable collector). What is queued stays queued.
#[derive(Debug)]
pub struct FlushError {
    waited: Duration,
}

impl FlushError {
    /// How long the flush waited.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot flush the OTLP export: not done within {:?}",
            self.waited
        )
    }
}

impl std::error::Error for FlushError {}

impl Drop for OtelGuard {
    fn drop(&mut self) {
        self.stop();
    }
}
