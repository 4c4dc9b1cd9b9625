//! [`TicketsBuilder`]: every setting of the layer and of its writer thread, and
//! [`TicketsBuilder::build`], which starts the writer from the finished configuration and
//! returns the layer with the guard that flushes it (tracing-appender's `non_blocking` shape).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use taskwire_core::event_time::EventClock;
use taskwire_core::span::{LayerCapture, Needs};
use taskwire_core::Redactor;
use tracing_core::Level;

use crate::alerts::Alerts;
use crate::fingerprint::FINGERPRINT_FIELD;
use crate::layer::{budget, TicketsLayer};
use crate::sample::{SampleContext, DEFAULT_MAX_FIELD_LEN};
use crate::store::TicketWriter;
use crate::writer::{Shared, TicketsGuard, WriterConfig, DEFAULT_SHUTDOWN_TIMEOUT};
use crate::Grouping;

/// The settings of a tickets layer and its writer. Made by [`layer()`](crate::layer());
/// [`TicketsBuilder::build`] starts the writer thread and returns the layer and its guard.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let (layer, _guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?)
///     .with_service("checkout")
///     .with_release("1.4.2")
///     .with_min_level(tracing::Level::ERROR)
///     .build();
/// let subscriber = tracing_subscriber::registry().with(layer);
/// # let _ = subscriber;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a TicketsBuilder does nothing until `build()` is called"]
pub struct TicketsBuilder {
    store: Box<dyn TicketWriter>,
    writer: WriterConfig,
    max_groups: usize,
    capture: LayerCapture,
    min_level: Level,
    grouping: Grouping,
    tag_fields: Vec<Arc<str>>,
    sample_cx: SampleContext,
    /// Whether [`TicketsBuilder::with_redactor`] was called.
    own_redactor: bool,
    alerts: Option<Alerts>,
}

impl std::fmt::Debug for TicketsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketsBuilder")
            .field("writer", &self.writer)
            .field("max_groups", &self.max_groups)
            .field("min_level", &self.min_level)
            .field("grouping", &self.grouping)
            .field("tag_fields", &self.tag_fields)
            .finish_non_exhaustive()
    }
}

impl TicketsBuilder {
    pub(crate) fn new(store: Box<dyn TicketWriter>) -> TicketsBuilder {
        let capture = LayerCapture::new(Needs::default().with_fields(true));
        TicketsBuilder {
            store,
            writer: WriterConfig {
                period: Duration::from_millis(100),
                queue_capacity: 1024,
                samples_per_ticket: crate::DEFAULT_SAMPLES_PER_TICKET,
                max_tag_values: crate::DEFAULT_MAX_TAG_VALUES,
                hourly_retention: crate::DEFAULT_HOURLY_RETENTION,
                busy_retry_for: Duration::from_secs(5),
                shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
                max_batch_samples: 4096,
                evict_after_periods: 50,
                service: None,
                release: None,
                host: taskwire_core::process::hostname().to_owned(),
            },
            max_groups: crate::DEFAULT_MAX_GROUPS,
            sample_cx: SampleContext {
                redactor: capture.redactor().clone(),
                max_field_len: DEFAULT_MAX_FIELD_LEN,
                service: None,
                release: None,
                backtrace_level: Some(Level::ERROR),
            },
            capture,
            own_redactor: false,
            alerts: None,
            min_level: Level::WARN,
            grouping: Grouping::default(),
            tag_fields: Vec::new(),
        }
    }

    /// Starts the writer thread with this configuration and returns the layer and the guard
    /// that flushes it. The writer replays the store's spool (what an earlier process could
    /// not write at exit) before its first batch.
    ///
    /// Keep the guard alive as long as the layer is in use: dropping it commits every count
    /// and queued sample, then stops the writer (see [`TicketsGuard`]).
    pub fn build(self) -> (TicketsLayer, TicketsGuard) {
        let max_tag_values = self.writer.max_tag_values;
        let budget = budget(self.writer.samples_per_ticket);
        let shared = Arc::new(Shared::start(
            self.store,
            self.writer,
            self.max_groups,
            self.alerts,
        ));
        let group_names = std::iter::once(Arc::from(FINGERPRINT_FIELD))
            .chain(self.grouping.fields.iter().cloned())
            .collect();
        let layer = TicketsLayer {
            id: taskwire_core::ids::next_id().get(),
            capture: self.capture,
            min_level: self.min_level,
            grouping: self.grouping,
            group_names,
            tag_fields: self.tag_fields,
            max_tag_values,
            budget,
            sample_cx: self.sample_cx,
            shared: shared.clone(),
            overflow: OnceLock::new(),
            clock: EventClock::default(),
        };
        (layer, TicketsGuard { shared })
    }

    /// Notifies `alerts`' webhooks and callbacks when a ticket is created, regresses or
    /// crosses a rate (see [`crate::alerts`]). Delivery runs on a thread of its own, started
    /// by [`TicketsBuilder::build`] and stopped by the guard.
    ///
    /// ```
    /// # #[cfg(feature = "webhook")] {
    /// use taskwire_tickets::alerts::Alerts;
    /// let (layer, _guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?)
    ///     .with_alerts(Alerts::webhook("http://127.0.0.1:9000/alerts")?.slack())
    ///     .build();
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_alerts(mut self, alerts: Alerts) -> Self {
        self.alerts = Some(alerts);
        self
    }

    /// Makes tickets of events at `level` or more severe. Default `WARN`.
    pub fn with_min_level(mut self, level: Level) -> Self {
        self.min_level = level;
        self
    }

    /// Captures a backtrace with the sample of every event at `level` or more severe. Default
    /// `ERROR`. The backtrace is captured on the caller's thread, only when a sample is built
    /// (at most the samples kept per ticket and writer period), unresolved; its symbols are
    /// resolved on the writer thread, and it is stored as the sample's `backtrace` field
    /// (shown by `taskwire tickets show`). An event with a `backtrace` field of its own keeps
    /// that one. Backtraces do not take part in grouping (see [`Grouping`]).
    ///
    /// ```
    /// # let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let (layer, _guard) = taskwire_tickets::layer(store)
    ///     .with_backtrace_level(tracing::Level::WARN)
    ///     .build();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_backtrace_level(mut self, level: Level) -> Self {
        self.sample_cx.backtrace_level = Some(level);
        self
    }

    /// Captures no backtraces (a panic's backtrace, captured by `taskwire::panic_hook()`, is
    /// still stored).
    pub fn without_backtraces(mut self) -> Self {
        self.sample_cx.backtrace_level = None;
        self
    }

    /// How events are grouped (default: service, target, file, line, level).
    pub fn with_grouping(mut self, grouping: Grouping) -> Self {
        self.grouping = grouping;
        self
    }

    /// Counts the values of field `name` (from the event or its spans) in each ticket's tag
    /// distributions, next to `level`, `service`, `host` and `release`.
    ///
    /// ```
    /// # let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let (layer, _guard) = taskwire_tickets::layer(store).with_tag_field("http.route").build();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_tag_field(mut self, name: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        if !self.tag_fields.iter().any(|f| &**f == name) {
            self.tag_fields.push(Arc::from(name));
        }
        self
    }

    /// The service name: part of the grouping key, a tag, and stored with each sample.
    pub fn with_service(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.sample_cx.service = Some(Arc::from(name.as_str()));
        self.writer.service = Some(name);
        self
    }

    /// The release (version): a tag, stored with each sample, and what decides whether an
    /// occurrence of a ticket resolved in a release is a regression.
    pub fn with_release(mut self, release: impl Into<String>) -> Self {
        let release = release.into();
        self.sample_cx.release = Some(Arc::from(release.as_str()));
        self.writer.release = Some(release);
        self
    }

    /// The service set with [`TicketsBuilder::with_service`], if any.
    ///
    /// ```
    /// # let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let builder = taskwire_tickets::layer(store).with_service("billing");
    /// assert_eq!(builder.service(), Some("billing"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn service(&self) -> Option<&str> {
        self.writer.service.as_deref()
    }

    /// The release set with [`TicketsBuilder::with_release`], if any.
    pub fn release(&self) -> Option<&str> {
        self.writer.release.as_deref()
    }

    /// Redacts with `redactor` event fields, and span fields when the layer captures them
    /// itself (no capture layer below it; see [`taskwire_core::span`]).
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.capture = self.capture.with_redactor(redactor.clone());
        self.sample_cx.redactor = redactor;
        self.own_redactor = true;
        self
    }

    /// The redactor set with [`TicketsBuilder::with_redactor`], if any.
    pub fn redactor(&self) -> Option<&Redactor> {
        self.own_redactor.then_some(&self.sample_cx.redactor)
    }

    /// Cuts stored string values (and the message) longer than `bytes`, marking the cut.
    /// Default [`DEFAULT_MAX_FIELD_LEN`].
    pub fn with_max_field_len(mut self, bytes: usize) -> Self {
        self.sample_cx.max_field_len = bytes;
        self
    }

    /// Samples kept per ticket besides its first one. Default 20. The hot path sends at most
    /// this many (plus one) per ticket and writer period, since more would be pruned anyway.
    pub fn with_samples_per_ticket(mut self, n: usize) -> Self {
        self.writer.samples_per_ticket = n;
        self
    }

    /// Distinct values kept per ticket and tag key. Default 100; the rest count as
    /// `(other)`.
    pub fn with_max_tag_values(mut self, n: usize) -> Self {
        self.writer.max_tag_values = n.max(1);
        self
    }

    /// How long the stores keep hourly counts (the sparklines and charts of
    /// [`crate::TicketReader::hourly`]). Default [`crate::DEFAULT_HOURLY_RETENTION`], 30 days;
    /// at least one hour. Older hours are deleted during normal writes, at most
    /// [`crate::HOURLY_PRUNE_PER_WRITE`] per write.
    ///
    /// ```
    /// let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let (layer, _guard) = taskwire_tickets::layer(store)
    ///     .with_hourly_retention(std::time::Duration::from_secs(7 * 24 * 3600))
    ///     .build();
    /// # drop(layer);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_hourly_retention(mut self, retention: Duration) -> Self {
        self.writer.hourly_retention = retention.max(Duration::from_secs(3600));
        self
    }

    /// How often the writer commits. Default 100 ms (kept between 1 ms and 1 hour).
    pub fn with_flush_interval(mut self, period: Duration) -> Self {
        self.writer.period = period.clamp(Duration::from_millis(1), Duration::from_secs(3600));
        self
    }

    /// How many samples may wait for the writer. Default 1024; when full, samples are dropped
    /// (and counted), never counts.
    pub fn with_queue_capacity(mut self, n: usize) -> Self {
        self.writer.queue_capacity = n.max(1);
        self
    }

    /// How long a write keeps retrying a locked database before giving up until the next
    /// period (counts stay in memory). Default 5 s.
    pub fn with_busy_retry(mut self, total: Duration) -> Self {
        self.writer.busy_retry_for = total;
        self
    }

    /// How long the final flush (when the guard is dropped) keeps retrying a store that refuses
    /// writes (a lock held by another connection, a MongoDB server that is down) before it
    /// writes what is left to the store's spool, which the next writer on that store replays.
    /// Default 5 s, so a process stopped by a container runtime (SIGKILL after 10 s) still
    /// exits on its own; the exit may take one store attempt longer (SQLite's busy timeout,
    /// MongoDB's server selection timeout). See `docs/tickets.md`, "Shutdown".
    ///
    /// ```
    /// # let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let (layer, _guard) = taskwire_tickets::layer(store)
    ///     .with_shutdown_timeout(std::time::Duration::from_secs(20)) // systemd: 90 s to stop
    ///     .build();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.writer.shutdown_timeout = timeout;
        self
    }

    /// How many fingerprints may be counted in memory at once. Default 10 000; beyond it, new
    /// fingerprints are counted in one overflow ticket so counts stay exact and memory bounded.
    pub fn with_max_groups(mut self, n: usize) -> Self {
        self.max_groups = n;
        self
    }
}
