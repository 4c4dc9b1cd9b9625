//! [`MetricsLayer`]: span timings and event counts, to the `metrics` facade and to the in-app
//! aggregates read through a [`MetricsHandle`].

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use taskwire_core::span::{CapturingLayer, LayerCapture, Needs};
use taskwire_core::{Redactor, SpanData, SpanId, TraceId};
use tracing_core::dispatcher::{Dispatch, WeakDispatch};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::callsites::{Callsite, Callsites};
use crate::clock::{Clock, ManualClock};
use crate::ewma::TICK_NANOS;
use crate::export::{self, names};
use crate::glob::Globs;
use crate::labels::{self, push_key, push_value, Counted, Entry, Family, Labels};
use crate::series::{Timer, Window};
use crate::snapshot::MetricsHandle;

/// The target of the slow-span warnings this layer emits.
pub const TARGET: &str = "taskwire::metrics";

/// The target of taskwire-tasks' `task.start`/`task.end` records, which are not counted as
/// events: the span histograms already count the tasks they describe.
const TASKS_TARGET: &str = taskwire_core::task_record::TARGET;

const OUTCOMES: [&str; 2] = ["succeeded", "failed"];

/// Records span timings and event counts. Built with [`layer()`](crate::layer); read in-app
/// through [`MetricsLayer::handle`]. See the [crate docs](crate) for what it records.
pub struct MetricsLayer {
    inner: Arc<Inner>,
    callsites: Callsites,
    /// The span capture: every field when some become labels, else the control fields
    /// (`task.name`, `outcome`).
    capture: LayerCapture,
    clock: Clock,
    /// Allow-listed span fields and their label names.
    allowed: Vec<(String, String)>,
    busy: bool,
    target_labels: bool,
    window: Window,
    slow: Option<SlowSpans>,
    dispatch: OnceLock<WeakDispatch>,
}

/// What the layer and its handles share: the series.
pub(crate) struct Inner {
    pub(crate) spans: Family<SpanSeries>,
    pub(crate) events: Family<Counted>,
    pub(crate) errors: Family<Counted>,
    levels: [OnceLock<Arc<Entry<Counted>>>; 5],
    pub(crate) shared: RwLock<Shared>,
}

/// Settings the handles read.
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    pub(crate) window: Window,
    pub(crate) globs: Globs,
}

/// Slow-span warnings (Python scales' `warn99`): a WARN event when a span takes longer than the
/// current p99 of its series. Off unless given to [`MetricsLayer::with_slow_spans`].
///
/// ```
/// use std::time::Duration;
/// use taskwire_metrics::SlowSpans;
///
/// let layer = taskwire_metrics::layer().with_slow_spans(
///     SlowSpans::p99()
///         .with_min_samples(50)
///         .with_interval(Duration::from_secs(10)),
/// );
/// # drop(layer);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlowSpans {
    min_samples: u64,
    interval_ticks: u64,
}

impl SlowSpans {
    /// Warn above the p99 of the series' window, once the window holds 100 samples, at most
    /// once a minute per series.
    pub fn p99() -> Self {
        SlowSpans {
            min_samples: 100,
            interval_ticks: 12,
        }
    }

    /// Warn only once the window holds at least `n` samples (its p99 means little before).
    #[must_use]
    pub fn with_min_samples(mut self, n: u64) -> Self {
        self.min_samples = n;
        self
    }

    /// At most one warning per series per `interval` (rounded up to 5-second ticks).
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval_ticks = interval.as_nanos().div_ceil(u128::from(TICK_NANOS)).max(1) as u64;
        self
    }
}

impl Default for MetricsLayer {
    fn default() -> Self {
        let window = Window::new(Duration::from_secs(60), Duration::from_secs(10));
        let clock = Clock::default();
        let cap = labels::DEFAULT_MAX_LABEL_SETS;
        MetricsLayer {
            inner: Arc::new(Inner {
                spans: Family::with_name_reserve(names::SPAN_DURATION, cap),
                events: Family::new(names::EVENTS, cap),
                errors: Family::new(names::ERRORS, cap),
                levels: std::array::from_fn(|_| OnceLock::new()),
                shared: RwLock::new(Shared {
                    clock: clock.clone(),
                    window,
                    globs: Globs::default(),
                }),
            }),
            callsites: Callsites::default(),
            capture: LayerCapture::new(Needs::default()),
            clock,
            allowed: Vec::new(),
            busy: false,
            target_labels: false,
            window,
            slow: None,
            dispatch: OnceLock::new(),
        }
    }
}

impl std::fmt::Debug for MetricsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsLayer")
            .field("label_fields", &self.allowed)
            .field("busy_time", &self.busy)
            .field("target_labels", &self.target_labels)
            .field("window", &self.window)
            .field("slow_spans", &self.slow)
            .finish_non_exhaustive()
    }
}

impl MetricsLayer {
    /// A handle that reads this layer's in-app aggregates ([`MetricsHandle::snapshot`]). Take
    /// it before installing the layer; it stays valid after the layer is dropped.
    ///
    /// ```
    /// let layer = taskwire_metrics::layer();
    /// let handle = layer.handle();
    /// assert!(handle.snapshot().timers.is_empty());
    /// ```
    pub fn handle(&self) -> MetricsHandle {
        MetricsHandle::new(self.inner.clone())
    }

    /// Adds these span fields, when a span declares them, as labels of its series. A label is
    /// named after its field with characters other than ASCII letters, digits and `_` turned
    /// into `_` (`http.route` becomes `http_route`); its value is the field's value when the
    /// span closes, `Span::record` included, cut to 128 bytes; an unset field gives an empty
    /// value. Default: none. Every value makes a series: keep the list to bounded fields (the
    /// cap of [`with_max_label_sets`](Self::with_max_label_sets) protects the rest).
    ///
    /// ```
    /// let layer = taskwire_metrics::layer().with_label_fields(["http.route", "tier"]);
    /// # drop(layer);
    /// ```
    #[must_use]
    pub fn with_label_fields<I, K>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        for f in fields {
            let f = f.as_ref();
            let label = labels::label_name(f);
            if ["name", "target", "outcome", "overflow"].contains(&label.as_str()) {
                continue;
            }
            if !self.allowed.iter().any(|(a, _)| a == f) {
                self.allowed.push((f.to_owned(), label));
            }
        }
        let needs = Needs::default().with_fields(!self.allowed.is_empty());
        self.capture = self.capture.with_needs(needs);
        self
    }

    /// Also records busy time (time spent entered) into `taskwire_span_busy_seconds`.
    /// Default: off (wall time only), which saves two clock reads per enter/exit.
    #[must_use]
    pub fn with_busy_time(mut self, enabled: bool) -> Self {
        self.busy = enabled;
        self
    }

    /// Labels `taskwire_events_total` with the event's `target` besides its `level`.
    /// Default: off.
    #[must_use]
    pub fn with_target_labels(mut self, enabled: bool) -> Self {
        self.target_labels = enabled;
        self
    }

    /// At most `n` label sets per metric (default 500). Past it, samples of new label sets
    /// go to one series labelled `overflow="true"`, and each refused label set is counted in
    /// `taskwire_metrics_dropped_label_sets_total{metric=…}`.
    ///
    /// One label's values cannot starve the task names: past the cap, the first label set of a
    /// task name that has no series yet still gets its own, from a reserve of another `n`
    /// (so a span timing family holds at most `2n` label sets). Further label sets of a name
    /// already present go to overflow.
    #[must_use]
    pub fn with_max_label_sets(self, n: usize) -> Self {
        self.inner.spans.set_cap(n);
        self.inner.events.set_cap(n);
        self.inner.errors.set_cap(n);
        self
    }

    /// The window of the in-app percentiles, minimum, maximum, mean and standard deviation
    /// (default: 60 seconds). It slides in 6 steps: the statistics cover between `window` and
    /// 7/6 of it. Counts, sums and rates are not windowed.
    #[must_use]
    pub fn with_window(mut self, window: Duration) -> Self {
        let slot = (window / 6).max(Duration::from_nanos(TICK_NANOS));
        self.window = Window::new(window, slot);
        self.shared_mut().window = self.window;
        self
    }

    /// Emits slow-span warnings; see [`SlowSpans`]. Default: off.
    #[must_use]
    pub fn with_slow_spans(mut self, slow: SlowSpans) -> Self {
        self.slow = Some(slow);
        self
    }

    /// Lists in the in-app snapshot only series whose id matches one of these glob patterns
    /// (default: all). A series' id is its metric and labels in the Prometheus text format,
    /// labels in their export order: `taskwire_span_duration_seconds{name="checkout",target="shop",outcome="succeeded"}`.
    /// `*` matches any run of characters (`**` too), `?` one character. What the `metrics`
    /// recorder exports is configured in the recorder.
    ///
    /// ```
    /// let layer = taskwire_metrics::layer()
    ///     .with_allow(["taskwire_span_*"])
    ///     .with_forbid([r#"*name="GET /health"*"#]);
    /// # drop(layer);
    /// ```
    #[must_use]
    pub fn with_allow<I, K>(self, globs: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.shared_mut().globs.allow(globs);
        self
    }

    /// Leaves series whose id matches one of these globs out of the in-app snapshot; a forbid
    /// wins over an allow. See [`with_allow`](Self::with_allow).
    #[must_use]
    pub fn with_forbid<I, K>(self, globs: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.shared_mut().globs.forbid(globs);
        self
    }

    /// Takes time from `clock` instead of the system's monotonic clock (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: ManualClock) -> Self {
        self.clock = Clock::Manual(clock);
        self.shared_mut().clock = self.clock.clone();
        self
    }

    /// Redacts with `redactor` the span fields this layer captures itself (no capture layer
    /// below it; see [`taskwire_core::span`]).
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.capture = self.capture.with_redactor(redactor);
        self
    }

    fn shared_mut(&self) -> std::sync::RwLockWriteGuard<'_, Shared> {
        self.inner.shared.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `emit` with this layer's subscriber as the default, so its events reach it.
    fn emit(&self, emit: impl FnOnce()) {
        match self.dispatch.get().and_then(WeakDispatch::upgrade) {
            Some(d) => tracing::dispatcher::with_default(&d, emit),
            None => emit(),
        }
    }

    fn new_span_series(&self, labels: &Labels, now: u64) -> SpanSeries {
        let track = self.slow.is_some();
        SpanSeries {
            wall: Timer::new(now, self.window, track),
            wall_handle: export::histogram(names::SPAN_DURATION, labels),
            busy: self.busy.then(|| {
                (
                    Timer::new(now, self.window, false),
                    export::histogram(names::SPAN_BUSY, labels),
                )
            }),
            failures: OnceLock::new(),
        }
    }

    /// The series of a call site whose labels do not depend on values.
    fn fixed_series<'a>(&self, cs: &'a Callsite, failed: bool, now: u64) -> &'a Entry<SpanSeries> {
        cs.fixed[usize::from(failed)].get_or_init(|| {
            with_key(|key| {
                push_key(key, "name", cs.name);
                push_key(key, "target", cs.target);
                push_key(key, "outcome", OUTCOMES[usize::from(failed)]);
                self.inner.spans.get_or_create(
                    key,
                    now,
                    || parse_key(key),
                    |l| self.new_span_series(l, now),
                )
            })
        })
    }

    /// A counter of the events family for `level` (and `target`).
    fn events_entry(&self, level: Level, target: Option<&str>, now: u64) -> Arc<Entry<Counted>> {
        with_key(|key| {
            push_key(key, "level", level_str(level));
            if let Some(t) = target {
                push_key(key, "target", t);
            }
            self.inner.events.get_or_create(
                key,
                now,
                || parse_key(key),
                |l| Counted::new(names::EVENTS, l, now),
            )
        })
    }

    fn errors_entry(&self, target: &str, now: u64) -> Arc<Entry<Counted>> {
        with_key(|key| {
            push_key(key, "target", target);
            self.inner.errors.get_or_create(
                key,
                now,
                || parse_key(key),
                |l| Counted::new(names::ERRORS, l, now),
            )
        })
    }

    fn warn_slow(&self, id: &Id, name: &str, wall: u64, p99: u64) {
        let name = name.to_owned();
        self.emit(|| {
            tracing::event!(
                target: TARGET,
                parent: id,
                Level::WARN,
                task.name = name.as_str(),
                duration_seconds = wall as f64 / 1e9,
                p99_seconds = p99 as f64 / 1e9,
                "slow span: {name} took {:?}, above its p99 of {:?}",
                Duration::from_nanos(wall),
                Duration::from_nanos(p99),
            );
        });
    }
}

/// The series behind one span label set.
pub(crate) struct SpanSeries {
    pub(crate) wall: Timer,
    wall_handle: metrics::Histogram,
    pub(crate) busy: Option<(Timer, metrics::Histogram)>,
    /// Failures of this label set: counted in-app and through the facade, without `outcome`.
    pub(crate) failures: OnceLock<Counted>,
}

impl SpanSeries {
    #[inline]
    fn record(&self, labels: &Labels, sample: &Sample, now: u64) {
        self.wall.record(sample.wall, now, sample.ids);
        self.wall_handle.record(sample.wall as f64 / 1e9);
        if let Some((t, h)) = &self.busy {
            t.record(sample.busy, now, sample.ids);
            h.record(sample.busy as f64 / 1e9);
        }
        if sample.failed {
            self.failures
                .get_or_init(|| {
                    let labels: Labels = labels
                        .iter()
                        .filter(|(k, _)| k != "outcome")
                        .cloned()
                        .collect();
                    Counted::new(names::TASK_FAILURES, &labels, now)
                })
                .add(1, now);
        }
    }
}

impl CapturingLayer for MetricsLayer {
    fn layer_capture(&self) -> &LayerCapture {
        &self.capture
    }
}

/// One closed span's measurements.
struct Sample {
    wall: u64,
    busy: u64,
    failed: bool,
    ids: Option<(TraceId, SpanId)>,
}

/// Per-span timing, in the span's extensions.
struct Timing {
    layer: usize,
    callsite: u32,
    start: u64,
    busy: u64,
    entered_at: u64,
    depth: u32,
}

fn level_str(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        _ => "trace",
    }
}

fn level_index(level: Level) -> usize {
    match level {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        _ => 4,
    }
}

thread_local! {
    static KEY: RefCell<String> = const { RefCell::new(String::new()) };
    static VALUE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Takes this thread's buffer out of `cell`, cleared (a fresh one when it is already out).
fn take_buffer(cell: &'static std::thread::LocalKey<RefCell<String>>) -> String {
    let mut b = cell
        .try_with(|k| k.try_borrow_mut().ok().map(|mut k| std::mem::take(&mut *k)))
        .ok()
        .flatten()
        .unwrap_or_default();
    b.clear();
    b
}

/// Gives a buffer back for reuse.
fn put_buffer(cell: &'static std::thread::LocalKey<RefCell<String>>, b: String) {
    let _ = cell.try_with(|k| {
        if let Ok(mut k) = k.try_borrow_mut() {
            if k.capacity() < b.capacity() {
                *k = b;
            }
        }
    });
}

/// Runs `f` with this thread's cleared label-key buffer.
fn with_key<R>(f: impl FnOnce(&mut String) -> R) -> R {
    let mut key = take_buffer(&KEY);
    let out = f(&mut key);
    put_buffer(&KEY, key);
    out
}

/// The labels of a key made by [`push_key`].
fn parse_key(mut key: &str) -> Labels {
    let mut out = Labels::new();
    while let Some(eq) = key.find('=') {
        let name = &key[..eq];
        let rest = &key[eq + 1..];
        let Some(colon) = rest.find(':') else { break };
        let Ok(len) = rest[..colon].parse::<usize>() else {
            break;
        };
        let Some(value) = rest.get(colon + 1..colon + 1 + len) else {
            break;
        };
        let name = match name {
            "name" => Cow::Borrowed("name"),
            "target" => Cow::Borrowed("target"),
            "outcome" => Cow::Borrowed("outcome"),
            "level" => Cow::Borrowed("level"),
            other => Cow::Owned(other.to_owned()),
        };
        out.push((name, value.into()));
        key = &rest[colon + 1 + len..];
    }
    out
}

impl<S> Layer<S> for MetricsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.capture.attach::<Self, S>(subscriber);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_new_span(attrs, id, &ctx);
        let Some(ci) = self.callsites.index(attrs.metadata(), &self.allowed) else {
            return;
        };
        let Some(span) = ctx.span(id) else { return };
        let timing = Timing {
            layer: self.callsites.uid(),
            callsite: ci,
            start: self.clock.now(),
            busy: 0,
            entered_at: 0,
            depth: 0,
        };
        let mut ext = span.extensions_mut();
        // One lookup in the usual case; a second metrics layer in the stack keeps the first
        // one's timing (and records nothing itself).
        if let Some(first) = ext.replace(timing) {
            ext.replace(first);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.capture.on_record(id, values, &ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_enter(id, &ctx);
        if !self.busy {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(t) = ext.get_mut::<Timing>() {
            if t.depth == 0 {
                t.entered_at = self.clock.now();
            }
            t.depth += 1;
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_exit(id, &ctx);
        if !self.busy {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(t) = ext.get_mut::<Timing>() {
            t.depth = t.depth.saturating_sub(1);
            if t.depth == 0 {
                t.busy += self.clock.now().saturating_sub(t.entered_at);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if taskwire_core::suppress::is_suppressed() {
            return;
        }
        let meta = event.metadata();
        if meta.target() == TASKS_TARGET {
            return;
        }
        let now = self.clock.now();
        let level = *meta.level();
        let normalized = event.normalized_metadata();
        if let Some(log) = &normalized {
            // A `log` record: its own target, not the bridge's.
            let target = self.target_labels.then(|| log.target());
            self.events_entry(level, target, now).value.add(1, now);
            if level == Level::ERROR {
                self.errors_entry(log.target(), now).value.add(1, now);
            }
            return;
        }
        if self.target_labels || level == Level::ERROR {
            let Some(cs) = self
                .callsites
                .index(meta, &self.allowed)
                .and_then(|i| self.callsites.get(i))
            else {
                return;
            };
            let events = if self.target_labels {
                cs.events
                    .get_or_init(|| self.events_entry(level, Some(cs.target), now))
            } else {
                self.inner.levels[level_index(level)]
                    .get_or_init(|| self.events_entry(level, None, now))
            };
            events.value.add(1, now);
            if level == Level::ERROR {
                cs.errors
                    .get_or_init(|| self.errors_entry(cs.target, now))
                    .value
                    .add(1, now);
            }
        } else {
            self.inner.levels[level_index(level)]
                .get_or_init(|| self.events_entry(level, None, now))
                .value
                .add(1, now);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let now = self.clock.now();
        let ext = span.extensions();
        let Some(t) = ext.get::<Timing>() else { return };
        if t.layer != self.callsites.uid() {
            return;
        }
        let Some(cs) = self.callsites.get(t.callsite) else {
            return;
        };
        let data = ext.get::<SpanData>();
        let failed = data.is_some_and(SpanData::failed);
        let busy = if t.depth > 0 {
            t.busy + now.saturating_sub(t.entered_at)
        } else {
            t.busy
        };
        let sample = Sample {
            wall: now.saturating_sub(t.start),
            busy,
            failed,
            ids: data.map(|d| (d.trace_id(), d.span_id())),
        };
        let slow_name = |e: &Entry<SpanSeries>| {
            e.labels
                .iter()
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| cs.name.to_owned())
        };
        let warn = if cs.dynamic() {
            let mut key = take_buffer(&KEY);
            let name = cs
                .name_field
                .and_then(|f| data?.fields().get(f)?.as_str())
                .unwrap_or(cs.name);
            push_key(&mut key, "name", name);
            push_key(&mut key, "target", cs.target);
            push_key(&mut key, "outcome", OUTCOMES[usize::from(failed)]);
            let mut value = take_buffer(&VALUE);
            for (label, field) in cs.fields.iter() {
                value.clear();
                push_value(&mut value, data.and_then(|d| d.fields().get(field)));
                push_key(&mut key, label, &value);
            }
            put_buffer(&VALUE, value);
            // Nothing below runs under the span's extensions lock.
            drop(ext);
            let entry = self.inner.spans.get_or_create(
                &key,
                now,
                || parse_key(&key),
                |l| self.new_span_series(l, now),
            );
            put_buffer(&KEY, key);
            entry.value.record(&entry.labels, &sample, now);
            self.slow_p99(&entry, &sample, now)
                .map(|p| (slow_name(&entry), p))
        } else {
            drop(ext);
            let entry = self.fixed_series(cs, failed, now);
            entry.value.record(&entry.labels, &sample, now);
            self.slow_p99(entry, &sample, now)
                .map(|p| (slow_name(entry), p))
        };
        if let Some((name, p99)) = warn {
            self.warn_slow(&id, &name, sample.wall, p99);
        }
    }
}

impl MetricsLayer {
    #[inline]
    fn slow_p99(&self, entry: &Entry<SpanSeries>, sample: &Sample, now: u64) -> Option<u64> {
        let slow = self.slow?;
        if entry.overflow {
            return None;
        }
        entry
            .value
            .wall
            .slow(sample.wall, now, slow.min_samples, slow.interval_ticks)
    }
}

/// The per-span recording of the layer in isolation (no registry, no lookups), for the
/// benchmark that compares it with its primitives.
#[doc(hidden)]
pub struct SpanRecording {
    layer: MetricsLayer,
    entry: Arc<Entry<SpanSeries>>,
}

impl Default for SpanRecording {
    fn default() -> Self {
        let layer = MetricsLayer::default();
        let now = layer.clock.now();
        let entry = with_key(|key| {
            push_key(key, "name", "bench");
            layer.inner.spans.get_or_create(
                key,
                now,
                || parse_key(key),
                |l| layer.new_span_series(l, now),
            )
        });
        SpanRecording { layer, entry }
    }
}

impl SpanRecording {
    /// What `on_new_span` does for timing: read the clock.
    #[inline]
    pub fn start(&self) -> u64 {
        self.layer.clock.now()
    }

    /// What `on_close` does once it has the span's series: read the clock, record in-app and
    /// through the facade handle.
    #[inline]
    pub fn finish(&self, start: u64) {
        let now = self.layer.clock.now();
        let sample = Sample {
            wall: now.saturating_sub(start),
            busy: 0,
            failed: false,
            ids: None,
        };
        self.entry.value.record(&self.entry.labels, &sample, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_metrics_layer_records_nothing_and_does_not_panic() {
        use tracing_subscriber::prelude::*;
        let (a, b) = (MetricsLayer::default(), MetricsLayer::default());
        let (ha, hb) = (a.handle(), b.handle());
        let subscriber = tracing_subscriber::registry().with(a).with(b);
        tracing::subscriber::with_default(subscriber, || {
            let _s = tracing::info_span!("x").entered();
        });
        assert_eq!(ha.snapshot().tasks[0].count, 1);
        assert!(hb.snapshot().tasks.is_empty());
    }

    #[test]
    fn keys_parse_back_into_labels() {
        let mut key = String::new();
        push_key(&mut key, "name", "GET /a=b:c");
        push_key(&mut key, "http_route", "");
        push_key(&mut key, "tier", "gold");
        let l = parse_key(&key);
        assert_eq!(l.len(), 3);
        assert_eq!(&*l[0].1, "GET /a=b:c");
        assert_eq!(&*l[1].1, "");
        assert_eq!(l[2].0, "tier");
    }
}
