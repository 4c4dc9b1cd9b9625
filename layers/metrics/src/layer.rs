//! [`MetricsLayer`]: span timings and event counts, to the `metrics` facade and to the in-app
//! aggregates read through a [`MetricsHandle`].

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use taskwire_core::span::{CapturingLayer, LayerCapture, LayerTiming, Needs, Timing};
use taskwire_core::{schema, Redactor, SpanData};
use tracing_core::dispatcher::{Dispatch, WeakDispatch};
use tracing_core::span::{Attributes, Id};
use tracing_core::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::callsites::{Callsite, Callsites};
use crate::clock::{Clock, ManualClock};
use crate::ewma::TICK_NANOS;
use crate::family::{self, Entry};
use crate::labels::{
    self, parse_key, push_key, push_value, put_buffer, take_buffer, with_key, Labels, KEY, VALUE,
};
use crate::registry::{Registry, Settings};
use crate::series::{SpanSeries, Window};
use crate::slow::SlowSpans;
use crate::snapshot::MetricsHandle;
use crate::span::Sample;

/// The target of the slow-span warnings this layer emits.
pub const TARGET: &str = "taskwire::metrics";

/// The target of taskwire-tasks' `task.start`/`task.end` records, which are not counted as
/// events: the span histograms already count the tasks they describe.
const TASKS_TARGET: &str = schema::task_record::TARGET;

const OUTCOMES: [&str; 2] = ["succeeded", "failed"];

/// Records span timings and event counts. Built with [`layer()`](crate::layer); read in-app
/// through [`MetricsLayer::handle`]. See the [crate docs](crate) for what it records.
pub struct MetricsLayer {
    registry: Arc<Registry>,
    callsites: Callsites,
    /// The span capture: every field when some become labels, else the control fields
    /// (`task.name`, `outcome`).
    capture: LayerCapture,
    clock: Clock,
    /// Allow-listed span fields and their label names.
    allowed: Vec<(String, String)>,
    busy: bool,
    /// The capture below starts each span's timing (process clock, a capture layer below):
    /// the layer looks at a span only when it closes.
    timing_from_capture: bool,
    target_labels: bool,
    window: Window,
    slow: Option<SlowSpans>,
    dispatch: OnceLock<WeakDispatch>,
}

impl Default for MetricsLayer {
    fn default() -> Self {
        let window = Window::new(Duration::from_secs(60), Duration::from_secs(10));
        let clock = Clock::default();
        MetricsLayer {
            registry: Arc::new(Registry::new(
                clock.clone(),
                window,
                family::DEFAULT_MAX_LABEL_SETS,
            )),
            callsites: Callsites::default(),
            capture: LayerCapture::new(Needs::default()),
            clock,
            allowed: Vec::new(),
            busy: false,
            timing_from_capture: false,
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
        MetricsHandle::new(self.registry.clone())
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
        self.registry.spans.set_cap(n);
        self.registry.events.set_cap(n);
        self.registry.errors.set_cap(n);
        self
    }

    /// The window of the in-app percentiles, minimum, maximum, mean and standard deviation
    /// (default: 60 seconds). It slides in 6 steps: the statistics cover between `window` and
    /// 7/6 of it. Counts, sums and rates are not windowed.
    #[must_use]
    pub fn with_window(mut self, window: Duration) -> Self {
        let slot = (window / 6).max(Duration::from_nanos(TICK_NANOS));
        self.window = Window::new(window, slot);
        self.settings_mut().window = self.window;
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
        self.settings_mut().globs.allow(globs);
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
        self.settings_mut().globs.forbid(globs);
        self
    }

    /// Takes time from `clock` instead of the system's monotonic clock (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: ManualClock) -> Self {
        self.clock = Clock::Manual(clock);
        self.settings_mut().clock = self.clock.clone();
        self
    }

    /// Redacts with `redactor` the span fields this layer captures itself (no capture layer
    /// below it; see [`taskwire_core::span`]).
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.capture = self.capture.with_redactor(redactor);
        self
    }

    fn settings_mut(&self) -> std::sync::RwLockWriteGuard<'_, Settings> {
        self.registry
            .settings
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `emit` with this layer's subscriber as the default, so its events reach it.
    fn emit(&self, emit: impl FnOnce()) {
        match self.dispatch.get().and_then(WeakDispatch::upgrade) {
            Some(d) => tracing::dispatcher::with_default(&d, emit),
            None => emit(),
        }
    }

    /// The clock's time now.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The span series of the label set whose key is `key`, made on first sight.
    pub(crate) fn span_entry(&self, key: &str, now: u64) -> Arc<Entry<SpanSeries>> {
        self.registry.spans.get_or_create(
            key,
            now,
            || parse_key(key),
            |l| self.new_span_series(l, now),
        )
    }

    fn new_span_series(&self, labels: &Labels, now: u64) -> SpanSeries {
        SpanSeries::new(labels, now, self.window, self.busy, self.slow.is_some())
    }

    /// The series of a call site whose labels do not depend on values.
    fn fixed_series<'a>(&self, cs: &'a Callsite, failed: bool, now: u64) -> &'a Entry<SpanSeries> {
        cs.fixed[usize::from(failed)].get_or_init(|| {
            with_key(|key| {
                push_key(key, "name", cs.name);
                push_key(key, "target", cs.target);
                push_key(key, "outcome", OUTCOMES[usize::from(failed)]);
                self.span_entry(key, now)
            })
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

impl CapturingLayer for MetricsLayer {
    fn layer_capture(&self) -> &LayerCapture {
        &self.capture
    }
}

impl<S> Layer<S> for MetricsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    taskwire_core::layer_capture_callbacks!(S, capture: on_record);

    fn on_layer(&mut self, subscriber: &mut S) {
        self.capture.attach::<Self, S>(subscriber);
        // With the process clock, the capture starts the span's timing when it creates the
        // span's data, and times busy spans itself: one look at the span at creation instead
        // of two, none on enter and exit. A manual clock is the layer's own to read.
        if matches!(self.clock, Clock::Process) {
            let timing = if self.busy {
                Timing::Always
            } else {
                Timing::Off
            };
            self.capture.require(
                &Needs::default()
                    .with_layer_timing(self.callsites.uid())
                    .with_timing(timing),
            );
            self.timing_from_capture = self.capture.reads_below();
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.timing_from_capture {
            return;
        }
        let Some(ci) = self.callsites.index(attrs.metadata(), &self.allowed) else {
            self.capture.on_new_span(attrs, id, &ctx);
            return;
        };
        // Alone in the stack, the layer captures only the spans whose series depend on their
        // fields or outcome; the others need only its own timing.
        let needed = self.callsites.get(ci).is_none_or(Callsite::needs_capture);
        self.capture.on_new_span_if(needed, attrs, id, &ctx);
        let Some(span) = ctx.span(id) else { return };
        let timing = LayerTiming::new(self.callsites.uid(), ci, self.clock.now());
        let mut ext = span.extensions_mut();
        // In the span's data when it has some (one extension per span); a second metrics
        // layer in the stack keeps the first one's timing (and records nothing itself).
        if let Some(d) = ext.get_mut::<SpanData>() {
            d.set_layer_timing(timing);
        } else if ext.get_mut::<LayerTiming>().is_none() {
            ext.insert(timing);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_enter(id, &ctx);
        if !self.busy || self.timing_from_capture {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(t) = timing_mut(&mut ext) {
            t.enter(self.clock.now());
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_exit(id, &ctx);
        if !self.busy || self.timing_from_capture {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(t) = timing_mut(&mut ext) {
            t.exit(self.clock.now());
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
            self.registry
                .events_entry(level, target, now)
                .value
                .add(1, now);
            if level == Level::ERROR {
                self.registry
                    .errors_entry(log.target(), now)
                    .value
                    .add(1, now);
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
                    .get_or_init(|| self.registry.events_entry(level, Some(cs.target), now))
            } else {
                self.registry.levels[schema::level_index(&level)]
                    .get_or_init(|| self.registry.events_entry(level, None, now))
            };
            events.value.add(1, now);
            if level == Level::ERROR {
                cs.errors
                    .get_or_init(|| self.registry.errors_entry(cs.target, now))
                    .value
                    .add(1, now);
            }
        } else {
            self.registry.levels[schema::level_index(&level)]
                .get_or_init(|| self.registry.events_entry(level, None, now))
                .value
                .add(1, now);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let now = self.clock.now();
        let ext = span.extensions();
        let data = ext.get::<SpanData>();
        let Some(t) = data
            .and_then(SpanData::layer_timing)
            .or_else(|| ext.get::<LayerTiming>())
        else {
            return;
        };
        if t.owner != self.callsites.uid() {
            return;
        }
        // A timing the capture started names no call site, and its busy time is the span's
        // (the capture times the spans of a layer that wants busy time).
        let (tag, busy) = if t.tag == LayerTiming::UNTAGGED {
            let busy = data.and_then(SpanData::elapsed).map_or(0, |(_, busy)| {
                u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX)
            });
            (self.callsites.index(span.metadata(), &self.allowed), busy)
        } else {
            (Some(t.tag), t.busy_at(now))
        };
        let Some(cs) = tag.and_then(|tag| self.callsites.get(tag)) else {
            return;
        };
        let failed = data.is_some_and(SpanData::failed);
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
            let entry = self.span_entry(&key, now);
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

/// The layer's timing of a span: in its data, or in an extension of its own.
#[inline]
fn timing_mut<'a>(
    ext: &'a mut tracing_subscriber::registry::ExtensionsMut<'_>,
) -> Option<&'a mut LayerTiming> {
    if ext
        .get_mut::<SpanData>()
        .is_some_and(|d| d.layer_timing().is_some())
    {
        return ext
            .get_mut::<SpanData>()
            .and_then(SpanData::layer_timing_mut);
    }
    ext.get_mut::<LayerTiming>()
}

impl MetricsLayer {
    #[inline]
    fn slow_p99(&self, entry: &Entry<SpanSeries>, sample: &Sample, now: u64) -> Option<u64> {
        self.slow?.p99_exceeded(entry, sample.wall, now)
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
}
