//! The bounded queue between the application's threads and the export thread, and the
//! counters of what became of every span and log record put into it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::record::{Arena, FinishedSpan, LogItem};

use super::stats::ExportStats;

/// State shared by the layer (producer) and the export thread (consumer).
pub(crate) struct Shared {
    pub(super) queue: Mutex<Queue>,
    /// Wakes the export thread: a full batch, a flush, the shutdown.
    pub(super) wake: Condvar,
    /// Wakes flushers when a flush is done.
    pub(super) flushed: Condvar,
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
    pub(super) spans: Vec<FinishedSpan>,
    /// The queued spans' fields and strings.
    pub(crate) arena: Arena,
    pub(super) logs: Vec<LogItem>,
    /// Flushes asked for and done, as generations.
    pub(super) flush_requested: u64,
    pub(super) flush_done: u64,
    pub(super) shutdown: bool,
    /// The export thread has exited.
    pub(super) stopped: bool,
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
    pub(super) export_errors: AtomicU64,
    pub(super) last_error: Mutex<Option<String>>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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

    pub(super) fn request_shutdown(&self) {
        lock(&self.queue).shutdown = true;
        self.wake.notify_one();
    }

    /// Gives up on the export thread (it did not stop in time): new spans are refused, and
    /// every span and log record still queued or held by the thread is counted as lost, once.
    /// Returns how many spans and log records that was.
    pub(super) fn abandon(&self) -> (u64, u64) {
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
    pub(super) fn take_into(
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
    pub(super) fn settle(&self, signal: Signal, n: usize, ok: bool) -> bool {
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

/// Which queue a count is about.
#[derive(Clone, Copy, Debug)]
pub(super) enum Signal {
    Spans,
    Logs,
}
