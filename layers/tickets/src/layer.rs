//! [`TicketsLayer`]: the layer, its settings, and its hot path.
//!
//! On the caller's thread an event at or above the threshold costs: a level check, the
//! fingerprint (cached per thread and call site when it depends on the call site alone,
//! otherwise a hash of a few strings and a read-locked map lookup), one atomic add in a
//! per-thread stripe of the group's counters, and, only while the group may still send a
//! sample in the writer's current period, building that sample and a non-blocking send to the
//! writer's bounded queue. Nothing on this path waits for the store.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use taskwire_core::event_time::EventClock;
use taskwire_core::span::{CapturingLayer, LayerCapture, Needs};
use taskwire_core::{suppress, Redactor};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::fingerprint::{
    KeyHasher, FINGERPRINT_FIELD, MODE_EXPLICIT, MODE_LINE, MODE_OVERFLOW, MODE_SPAN,
};
use crate::groups::{level_index, with_site, Group, Site};
use crate::repeats;
use crate::sample::{self, Lookup, SampleContext, DEFAULT_MAX_FIELD_LEN};
use crate::store::{Store, TicketSeed, Timestamp};
use crate::writer::{Shared, Stats, TicketsGuard, WriterConfig};
use crate::Grouping;

/// The target of the tasks layer's own records (`task.start`, `task.end`), which never make
/// tickets.
pub const TASKS_TARGET: &str = taskwire_core::task_record::TARGET;

/// Groups events at or above a level into tickets in a [`Store`]. Built with
/// [`layer()`](crate::layer()); see the [crate docs](crate).
pub struct TicketsLayer {
    id: u64,
    capture: LayerCapture,
    min_level: Level,
    grouping: Grouping,
    /// `fingerprint`, then the grouping fields.
    group_names: Vec<Arc<str>>,
    tag_fields: Vec<Arc<str>>,
    max_tag_values: usize,
    sample_cx: SampleContext,
    /// Whether [`TicketsLayer::with_redactor`] was called.
    own_redactor: bool,
    budget: u32,
    shared: Arc<Shared>,
    overflow: OnceLock<Arc<Group>>,
    /// The event's time, shared with the other taskwire layers (one event, one time).
    clock: EventClock,
}

impl std::fmt::Debug for TicketsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketsLayer")
            .field("min_level", &self.min_level)
            .field("grouping", &self.grouping)
            .field("tag_fields", &self.tag_fields)
            .field("service", &self.sample_cx.service)
            .field("release", &self.sample_cx.release)
            .finish_non_exhaustive()
    }
}

impl TicketsLayer {
    pub(crate) fn new(store: Box<dyn Store>) -> TicketsLayer {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let cfg = WriterConfig {
            period: Duration::from_millis(100),
            queue_capacity: 1024,
            samples_per_ticket: crate::DEFAULT_SAMPLES_PER_TICKET,
            max_tag_values: crate::DEFAULT_MAX_TAG_VALUES,
            busy_retry_for: Duration::from_secs(5),
            shutdown_timeout: crate::writer::DEFAULT_SHUTDOWN_TIMEOUT,
            max_batch_samples: 4096,
            evict_after_periods: 50,
            service: None,
            release: None,
            host: taskwire_core::process::hostname().to_owned(),
        };
        let capture = LayerCapture::new(Needs::default().with_fields(true));
        TicketsLayer {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            sample_cx: SampleContext {
                redactor: capture.redactor().clone(),
                max_field_len: DEFAULT_MAX_FIELD_LEN,
                service: None,
                release: None,
            },
            capture,
            own_redactor: false,
            min_level: Level::WARN,
            grouping: Grouping::default(),
            group_names: vec![Arc::from(FINGERPRINT_FIELD)],
            tag_fields: Vec::new(),
            max_tag_values: crate::DEFAULT_MAX_TAG_VALUES,
            budget: budget(crate::DEFAULT_SAMPLES_PER_TICKET),
            shared: Arc::new(Shared::new(store, cfg, crate::DEFAULT_MAX_GROUPS)),
            overflow: OnceLock::new(),
            clock: EventClock::default(),
        }
    }

    /// The guard that flushes this layer's tickets when dropped. Take it before adding the
    /// layer to a subscriber, and keep it alive while the layer is in use.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    /// let layer = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?);
    /// let _guard = layer.guard();
    /// let subscriber = tracing_subscriber::registry().with(layer);
    /// # let _ = subscriber;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn guard(&self) -> TicketsGuard {
        TicketsGuard {
            shared: self.shared.clone(),
        }
    }

    /// A handle on this layer's counters.
    pub fn stats(&self) -> Stats {
        Stats {
            inner: self.shared.stats.clone(),
        }
    }

    /// Makes tickets of events at `level` or more severe. Default `WARN`.
    ///
    /// ```
    /// # let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let layer = taskwire_tickets::layer(store).with_min_level(tracing::Level::ERROR);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_min_level(mut self, level: Level) -> Self {
        self.min_level = level;
        self
    }

    /// How events are grouped (default: service, target, file, line, level).
    #[must_use]
    pub fn with_grouping(mut self, grouping: Grouping) -> Self {
        self.group_names = std::iter::once(Arc::from(FINGERPRINT_FIELD))
            .chain(grouping.fields.iter().cloned())
            .collect();
        self.grouping = grouping;
        self
    }

    /// Counts the values of field `name` (from the event or its spans) in each ticket's tag
    /// distributions, next to `level`, `service`, `host` and `release`.
    ///
    /// ```
    /// # let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let layer = taskwire_tickets::layer(store).with_tag_field("http.route");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_tag_field(mut self, name: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        if !self.tag_fields.iter().any(|f| &**f == name) {
            self.tag_fields.push(Arc::from(name));
        }
        self
    }

    /// The service name: part of the grouping key, a tag, and stored with each sample.
    #[must_use]
    pub fn with_service(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.shared.configure(|c| c.service = Some(name.clone()));
        self.sample_cx.service = Some(Arc::from(name));
        self
    }

    /// The release (version): a tag, stored with each sample, and what decides whether an
    /// occurrence of a ticket resolved in a release is a regression.
    #[must_use]
    pub fn with_release(mut self, release: impl Into<String>) -> Self {
        let release = release.into();
        self.shared.configure(|c| c.release = Some(release.clone()));
        self.sample_cx.release = Some(Arc::from(release));
        self
    }

    /// Redacts with `redactor` event fields, and span fields when this layer captures them
    /// itself (no capture layer below it; see [`taskwire_core::span`]).
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.capture = self.capture.with_redactor(redactor.clone());
        self.sample_cx.redactor = redactor;
        self.own_redactor = true;
        self
    }

    /// The redactor set with [`TicketsLayer::with_redactor`], if any.
    pub fn redactor(&self) -> Option<&Redactor> {
        self.own_redactor.then_some(&self.sample_cx.redactor)
    }

    /// The service set with [`TicketsLayer::with_service`], if any.
    ///
    /// ```
    /// # let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let layer = taskwire_tickets::layer(store).with_service("billing");
    /// assert_eq!(layer.service(), Some("billing"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn service(&self) -> Option<&str> {
        self.sample_cx.service.as_deref()
    }

    /// The release set with [`TicketsLayer::with_release`], if any.
    pub fn release(&self) -> Option<&str> {
        self.sample_cx.release.as_deref()
    }

    /// Cuts stored string values (and the message) longer than `bytes`, marking the cut.
    /// Default [`DEFAULT_MAX_FIELD_LEN`].
    #[must_use]
    pub fn with_max_field_len(mut self, bytes: usize) -> Self {
        self.sample_cx.max_field_len = bytes;
        self
    }

    /// Samples kept per ticket besides its first one. Default 20. The hot path sends at most
    /// this many (plus one) per ticket and writer period, since more would be pruned anyway.
    #[must_use]
    pub fn with_samples_per_ticket(mut self, n: usize) -> Self {
        self.shared.configure(|c| c.samples_per_ticket = n);
        self.budget = budget(n);
        self
    }

    /// Distinct values kept per ticket and tag key. Default 100; the rest count as
    /// `(other)`.
    #[must_use]
    pub fn with_max_tag_values(mut self, n: usize) -> Self {
        self.shared.configure(|c| c.max_tag_values = n.max(1));
        self.max_tag_values = n.max(1);
        self
    }

    /// How often the writer commits. Default 100 ms (kept between 1 ms and 1 hour).
    #[must_use]
    pub fn with_flush_interval(self, period: Duration) -> Self {
        self.shared.configure(|c| {
            c.period = period.clamp(Duration::from_millis(1), Duration::from_secs(3600));
        });
        self
    }

    /// How many samples may wait for the writer. Default 1024; when full, samples are dropped
    /// (and counted), never counts.
    #[must_use]
    pub fn with_queue_capacity(self, n: usize) -> Self {
        self.shared.configure(|c| c.queue_capacity = n.max(1));
        self
    }

    /// How long a write keeps retrying a locked database before giving up until the next
    /// period (counts stay in memory). Default 5 s.
    #[must_use]
    pub fn with_busy_retry(self, total: Duration) -> Self {
        self.shared.configure(|c| c.busy_retry_for = total);
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
    /// let layer = taskwire_tickets::layer(store)
    ///     .with_shutdown_timeout(std::time::Duration::from_secs(20)); // systemd: 90 s to stop
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_shutdown_timeout(self, timeout: Duration) -> Self {
        self.shared.configure(|c| c.shutdown_timeout = timeout);
        self
    }

    /// How many fingerprints may be counted in memory at once. Default 10 000; beyond it, new
    /// fingerprints are counted in one overflow ticket so counts stay exact and memory bounded.
    #[must_use]
    pub fn with_max_groups(self, n: usize) -> Self {
        self.shared.groups.set_max(n);
        self
    }

    fn seed(&self, meta: &Metadata<'_>) -> TicketSeed {
        let mut seed = TicketSeed::new(*meta.level(), meta.target());
        seed.service = self.sample_cx.service.as_deref().map(str::to_owned);
        seed.module = meta.module_path().map(str::to_owned);
        seed.file = meta.file().map(str::to_owned);
        seed.line = meta.line();
        seed
    }

    fn tag_cap(&self) -> Option<usize> {
        (!self.tag_fields.is_empty()).then_some(self.max_tag_values)
    }

    /// The grouping key's hash for the call-site parts, span name and field values.
    fn key(&self, meta: &Metadata<'_>, span_name: Option<&str>, values: &[Option<String>]) -> u64 {
        let service = self.sample_cx.service.as_deref();
        let mut h = KeyHasher::new(if self.grouping.by_line {
            MODE_LINE
        } else {
            MODE_SPAN
        });
        h.opt(service);
        h.part(meta.target());
        if self.grouping.by_line {
            h.opt(meta.file());
            h.num(u64::from(meta.line().unwrap_or(0)));
        } else {
            match span_name {
                Some(name) => {
                    h.num(1);
                    h.part(name);
                }
                None => {
                    h.num(0);
                    h.opt(meta.file());
                }
            }
        }
        h.part(meta.level().as_str());
        for v in values {
            h.opt(v.as_deref());
        }
        h.finish()
    }

    fn site(&self, meta: &'static Metadata<'static>, now: i64) -> Site {
        let is_log = meta.fields().field("log.target").is_some();
        if !self.grouping.is_static() || is_log || meta.fields().field(FINGERPRINT_FIELD).is_some()
        {
            return Site::Dynamic;
        }
        let hash = self.key(meta, None, &[]);
        let cap = self.tag_cap();
        let g = self.shared.groups.insert(
            hash,
            || Group::new(hash, self.seed(meta), now, cap, true),
            Arc::clone,
        );
        Site::Static(g)
    }

    /// Counts one occurrence in `g`, its tags, and sends a sample if the group may.
    fn occurred<S>(&self, g: &Arc<Group>, seen: &Seen<'_, '_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Seen {
            event,
            meta,
            is_log,
            now,
        } = *seen;
        g.bump(level_index(meta.level()), now);
        if let Some(tags) = &g.tags {
            let mut lookup = Lookup::new(&self.tag_fields, &self.sample_cx.redactor);
            event.record(&mut lookup);
            lookup.fill_from_spans(event, ctx);
            if let Ok(mut t) = tags.lock() {
                for (name, value) in self.tag_fields.iter().zip(&lookup.values) {
                    if let Some(v) = value {
                        t.add(name, v);
                    }
                }
            }
        }
        if g.take_sample_slot(self.budget) && self.shared.has_room() {
            let s = sample::build(&self.sample_cx, event, meta, is_log, ctx, now);
            self.shared.send_sample(g.clone(), s);
        }
    }

    fn dynamic<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, now: i64)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let normalized = event.normalized_metadata();
        let is_log = normalized.is_some();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        if is_log && meta.target().starts_with(TASKS_TARGET) {
            return;
        }
        let seen = Seen {
            event,
            meta,
            is_log,
            now,
        };
        let mut lookup = Lookup::new(&self.group_names, &self.sample_cx.redactor);
        event.record(&mut lookup);
        // The explicit fingerprint comes from the event only.
        let explicit = lookup.values[0].replace(String::new());
        let hash = match explicit {
            Some(fp) => {
                let mut h = KeyHasher::new(MODE_EXPLICIT);
                h.opt(self.sample_cx.service.as_deref());
                h.part(&fp);
                h.finish()
            }
            None => {
                if self.group_names.len() > 1 {
                    lookup.fill_from_spans(event, ctx);
                }
                let span = if self.grouping.by_line {
                    None
                } else {
                    ctx.event_span(event)
                };
                self.key(meta, span.as_ref().map(|s| s.name()), &lookup.values[1..])
            }
        };
        let cap = self.tag_cap();
        let make = || Group::new(hash, self.seed(meta), now, cap, false);
        let done = self.shared.groups.with_group(hash, make, |g| {
            self.occurred(g, &seen, ctx);
        });
        if done.is_none() {
            let g = self.overflow.get_or_init(|| {
                let mut h = KeyHasher::new(MODE_OVERFLOW);
                h.opt(self.sample_cx.service.as_deref());
                let hash = h.finish();
                self.shared.groups.insert(
                    hash,
                    || {
                        let mut seed = TicketSeed::new(Level::ERROR, "taskwire::tickets");
                        seed.service = self.sample_cx.service.as_deref().map(str::to_owned);
                        let mut g = Group::new(hash, seed, now, cap, true);
                        g.fixed_title = Some(
                            "too many distinct fingerprints in memory at once: counted here".into(),
                        );
                        g
                    },
                    Arc::clone,
                )
            });
            self.occurred(g, &seen, ctx);
        }
    }
}

/// One event being counted.
#[derive(Clone, Copy)]
struct Seen<'a, 'b> {
    event: &'a Event<'b>,
    meta: &'a Metadata<'a>,
    is_log: bool,
    now: i64,
}

impl CapturingLayer for TicketsLayer {
    fn layer_capture(&self) -> &LayerCapture {
        &self.capture
    }
}

/// Samples a group may send per writer period: the kept ones plus the first.
fn budget(samples_per_ticket: usize) -> u32 {
    u32::try_from(samples_per_ticket.saturating_add(1)).unwrap_or(u32::MAX)
}

impl<S> Layer<S> for TicketsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        self.capture.attach::<Self, S>(subscriber);
        // The configuration is final once the layer is in a subscriber: start the writer now,
        // so the store's spool is replayed at startup, not at the first error.
        let _ = self.shared.sender();
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_new_span(attrs, id, &ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.capture.on_record(id, values, &ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_enter(id, &ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_exit(id, &ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        if *event.metadata().level() <= self.min_level {
            self.clock.mark(event);
        }
        true
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if suppress::is_suppressed() {
            return;
        }
        let meta = event.metadata();
        // `Level` orders verbosity: ERROR is the smallest.
        if *meta.level() > self.min_level || meta.target().starts_with(TASKS_TARGET) {
            return;
        }
        if repeats::is_repeat(self.id, event, &ctx) {
            return;
        }
        let now = Timestamp::from(self.clock.time(event)).as_micros();
        with_site(
            self.id,
            meta.callsite(),
            || self.site(meta, now),
            |site| match site {
                Site::Static(g) => {
                    let seen = Seen {
                        event,
                        meta,
                        is_log: false,
                        now,
                    };
                    self.occurred(g, &seen, &ctx);
                }
                Site::Dynamic => self.dynamic(event, &ctx, now),
            },
        );
    }
}
