//! What the application holds: [`TicketsGuard`] (flush on demand, final flush on drop),
//! [`Stats`] (the writer's counters) and [`FlushError`].

use std::fmt;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::Shared;
use crate::alerts::AlertCounters;
use crate::store::{ErrorKind, WriteError};

/// Counters about the layer's work. Read them through [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct StatsInner {
    pub(super) events: AtomicU64,
    pub(super) events_stored: AtomicU64,
    pub(super) samples_queued: AtomicU64,
    pub(super) samples_dropped: AtomicU64,
    pub(super) samples_stored: AtomicU64,
    pub(super) commits: AtomicU64,
    pub(super) write_failures: AtomicU64,
    pub(super) busy_retries: AtomicU64,
    pub(super) disk_full: AtomicU64,
    pub(super) events_spooled: AtomicU64,
    pub(super) events_replayed: AtomicU64,
    /// The alerts' own counters, shared with their delivery thread.
    pub(crate) alerts: Arc<AlertCounters>,
}

/// A handle on the layer's counters (cheap to clone).
///
/// ```
/// let (layer, guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?).build();
/// let stats = layer.stats();
/// assert_eq!(stats.samples_dropped(), 0);
/// # drop(guard);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Stats {
    pub(crate) inner: Arc<StatsInner>,
}

impl Stats {
    /// Occurrences collected by the writer so far.
    pub fn events(&self) -> u64 {
        self.inner.events.load(Ordering::Relaxed)
    }
    /// Occurrences committed to the store (the rest are still in memory, or were spooled at
    /// shutdown: [`Stats::events_spooled`]).
    pub fn events_stored(&self) -> u64 {
        self.inner.events_stored.load(Ordering::Relaxed)
    }
    /// Samples handed to the writer.
    pub fn samples_queued(&self) -> u64 {
        self.inner.samples_queued.load(Ordering::Relaxed)
    }
    /// Samples lost to overload: a full queue, a stopped writer, or a full disk (their counts
    /// are kept).
    pub fn samples_dropped(&self) -> u64 {
        self.inner.samples_dropped.load(Ordering::Relaxed)
    }
    /// Samples written to the store (before pruning to the newest N).
    pub fn samples_stored(&self) -> u64 {
        self.inner.samples_stored.load(Ordering::Relaxed)
    }
    /// Transactions committed.
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }
    /// Writes that failed (retried later; counts kept).
    pub fn write_failures(&self) -> u64 {
        self.inner.write_failures.load(Ordering::Relaxed)
    }
    /// Retries after a busy (locked) database.
    pub fn busy_retries(&self) -> u64 {
        self.inner.busy_retries.load(Ordering::Relaxed)
    }
    /// Writes that failed because the disk (or the size limit) was full.
    pub fn disk_full(&self) -> u64 {
        self.inner.disk_full.load(Ordering::Relaxed)
    }
    /// Occurrences the final flush could not write before its deadline and wrote to a spool
    /// file instead (replayed by the next writer on the same store).
    pub fn events_spooled(&self) -> u64 {
        self.inner.events_spooled.load(Ordering::Relaxed)
    }
    /// Occurrences this writer replayed from spool files (left by earlier processes) into the
    /// store.
    pub fn events_replayed(&self) -> u64 {
        self.inner.events_replayed.load(Ordering::Relaxed)
    }
    /// Alerts raised and queued for delivery ([`crate::alerts`]).
    pub fn alerts_raised(&self) -> u64 {
        self.inner.alerts.raised.load(Ordering::Relaxed)
    }
    /// Alerts dropped because the delivery queue was full.
    pub fn alerts_dropped(&self) -> u64 {
        self.inner.alerts.dropped.load(Ordering::Relaxed)
    }
    /// Alerts held back by the per-ticket interval
    /// ([`Alerts::with_min_interval`](crate::alerts::Alerts::with_min_interval)).
    pub fn alerts_limited(&self) -> u64 {
        self.inner.alerts.limited.load(Ordering::Relaxed)
    }
    /// Deliveries done: one per alert and callback or webhook that took it.
    pub fn alerts_delivered(&self) -> u64 {
        self.inner.alerts.delivered.load(Ordering::Relaxed)
    }
    /// Deliveries given up: a webhook that failed every retry (or answered a 4xx), a callback
    /// that panicked.
    pub fn alert_failures(&self) -> u64 {
        self.inner.alerts.failures.load(Ordering::Relaxed)
    }
    /// Webhook posts retried.
    pub fn alert_retries(&self) -> u64 {
        self.inner.alerts.retries.load(Ordering::Relaxed)
    }
}

/// Why [`TicketsGuard::flush`] did not commit everything.
#[derive(Debug)]
pub struct FlushError {
    message: String,
    kind: Option<ErrorKind>,
    source: Option<WriteError>,
}

impl FlushError {
    pub(super) fn stopped() -> Self {
        FlushError {
            message: "the writer thread is not running".into(),
            kind: None,
            source: None,
        }
    }

    pub(super) fn write(e: WriteError) -> Self {
        FlushError {
            message: "the store rejected the batch; its counts stay in memory and are retried"
                .into(),
            kind: Some(e.kind()),
            source: Some(e),
        }
    }

    /// The store's failure kind, or `None` when the writer is not running.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot flush tickets: {}", self.message)
    }
}

impl std::error::Error for FlushError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Flushes the layer's tickets when dropped, and stops its writer thread.
///
/// Keep it alive as long as the layer is in use (`let _guard = …`, not `let _ = …`): dropping
/// it commits every count and queued sample, then stops the writer, so a program that exits
/// right after loses nothing. When the store refuses that final flush for longer than the
/// shutdown timeout ([`TicketsBuilder::with_shutdown_timeout`](crate::TicketsBuilder::with_shutdown_timeout),
/// 5 s by default), what is left is spooled to a local file that the next writer on the same
/// store replays. Events that arrive after it is dropped are counted in memory only.
#[must_use = "dropping the guard flushes and stops the ticket writer; keep it alive"]
#[derive(Debug)]
pub struct TicketsGuard {
    pub(crate) shared: Arc<Shared>,
}

impl TicketsGuard {
    /// Commits everything counted and queued so far, and returns when it is in the store.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    /// let (layer, guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?).build();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::error!("boom");
    /// });
    /// guard.flush()?;
    /// assert_eq!(guard.stats().events_stored(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self) -> Result<(), FlushError> {
        self.shared.flush()
    }

    /// The layer's counters.
    pub fn stats(&self) -> Stats {
        Stats {
            inner: self.shared.stats.clone(),
        }
    }

    /// Flushes and stops the writer, retrying a store that refuses the final flush until the
    /// shutdown timeout and spooling what is left; returns the final counts. Dropping the guard
    /// does the same.
    pub fn shutdown(self) -> Stats {
        self.stop();
        self.stats()
    }

    /// The final flush; reports its failure on stderr. Does nothing once stopped.
    fn stop(&self) {
        if let Err(e) = self.shared.shutdown() {
            if e.kind.is_some() {
                let _ = writeln!(
                    std::io::stderr(),
                    "taskwire-tickets: final flush failed: {e} ({})",
                    e.source
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                );
            }
        }
    }
}

impl Drop for TicketsGuard {
    fn drop(&mut self) {
        self.stop();
    }
}
