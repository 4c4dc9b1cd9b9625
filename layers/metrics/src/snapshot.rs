//! [`MetricsHandle::snapshot`]: the in-app aggregates as plain, serializable data (Python
//! scales' `PmfStat` and `MeterStat`, Dropwizard's `Timer` and `Meter`).
//!
//! Counts, sums and rates cover the life of the series; the distribution (minimum, maximum,
//! mean, standard deviation, percentiles) and the exemplar cover the sliding window (60 seconds
//! by default). Times are in seconds, rates in events per second.

use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::export::names;
use crate::family::Entry;
use crate::histogram::HistogramSnapshot;
use crate::labels::Labels;
use crate::registry::Registry;
use crate::series::{with_scratch, Counted, Timer};

/// Reads the in-app aggregates of a [`MetricsLayer`](crate::MetricsLayer). Cheap to clone;
/// usable from any thread, also after the layer is gone.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let layer = taskwire_metrics::layer();
/// let metrics = layer.handle();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     for _ in 0..3 {
///         let _s = tracing::info_span!("checkout").entered();
///     }
/// });
/// let snapshot = metrics.snapshot();
/// assert_eq!(snapshot.tasks[0].name, "checkout");
/// assert_eq!(snapshot.tasks[0].count, 3);
/// ```
#[derive(Clone)]
pub struct MetricsHandle {
    registry: Arc<Registry>,
}

impl std::fmt::Debug for MetricsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsHandle")
            .field("span_label_sets", &self.registry.spans.len())
            .finish_non_exhaustive()
    }
}

/// Everything the layer aggregated, as of one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// Seconds since the layer was built.
    pub uptime_seconds: f64,
    /// The span of time the windowed statistics cover, in seconds.
    pub window_seconds: f64,
    /// Spans by task name (the `task.name` or `otel.name` field, else the span name): their
    /// series merged over targets, outcomes and labels.
    pub tasks: Vec<TaskStats>,
    /// Every histogram series: `taskwire_span_duration_seconds` and, when enabled,
    /// `taskwire_span_busy_seconds`, by label set.
    pub timers: Vec<TimerStats>,
    /// Every counter series: events, errors, task failures, refused label sets.
    pub counters: Vec<CounterStats>,
}

impl Snapshot {
    /// The first timer series named `metric` (`taskwire_span_duration_seconds`,
    /// `taskwire_span_busy_seconds`), whatever its labels.
    ///
    /// ```
    /// let snapshot = taskwire_metrics::Snapshot::default();
    /// assert!(snapshot.timer("taskwire_span_duration_seconds").is_none());
    /// ```
    pub fn timer(&self, metric: &str) -> Option<&TimerStats> {
        self.timers.iter().find(|t| t.metric == metric)
    }
}

/// The spans of one task name (the demo's table is one row of these per name).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskStats {
    /// The task name; `(overflow)` for spans whose label sets were refused by the cap.
    pub name: String,
    /// Spans closed, ever.
    pub count: u64,
    /// Of those, spans whose outcome was failed.
    pub errors: u64,
    /// Spans closed per second.
    pub rates: Rates,
    /// Wall times in the window.
    pub window: Distribution,
    /// The slowest span in the window.
    pub exemplar: Option<Exemplar>,
}

/// One histogram series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TimerStats {
    /// The metric name (see [`names`](crate::names)).
    pub metric: String,
    /// The series' labels, in export order.
    pub labels: LabelSet,
    /// Samples, ever.
    pub count: u64,
    /// The sum of all samples, in seconds.
    pub sum_seconds: f64,
    /// Samples per second.
    pub rates: Rates,
    /// The samples in the window.
    pub window: Distribution,
    /// The slowest sample in the window.
    pub exemplar: Option<Exemplar>,
}

/// One counter series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CounterStats {
    /// The metric name (see [`names`](crate::names)).
    pub metric: String,
    /// The series' labels, in export order.
    pub labels: LabelSet,
    /// The count, ever.
    pub count: u64,
    /// Increments per second.
    pub rates: Rates,
}

/// Rates per second: since the layer was built (`mean`), and exponentially weighted over 1, 5
/// and 15 minutes, ticked every 5 seconds (0 until the first tick).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rates {
    /// Count divided by the layer's age.
    pub mean: f64,
    /// 1-minute moving average.
    pub m1: f64,
    /// 5-minute moving average.
    pub m5: f64,
    /// 15-minute moving average.
    pub m15: f64,
}

/// Statistics of the samples in the window, in seconds. Percentiles follow the nearest-rank
/// rule and, like the mean and standard deviation, are within 1/128 (0.8 %) of the exact
/// value; the minimum and maximum are exact. All zero when the window is empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Distribution {
    /// Samples in the window.
    pub count: u64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// The mean.
    pub mean: f64,
    /// The population standard deviation.
    pub stddev: f64,
    /// The median.
    pub p50: f64,
    /// The 75th percentile.
    pub p75: f64,
    /// The 95th percentile.
    pub p95: f64,
    /// The 98th percentile.
    pub p98: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The 99.9th percentile.
    pub p999: f64,
}

/// The slowest sample of a window and the task it came from, to look up in the logs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Exemplar {
    /// The sample, in seconds.
    pub seconds: f64,
    /// Its W3C trace id (hex), when a taskwire layer captured the span.
    pub trace_id: Option<String>,
    /// Its span id (hex).
    pub span_id: Option<String>,
}

/// Labels in order; serialized as a map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSet(pub Vec<(String, String)>);

impl LabelSet {
    /// The value of label `name`.
    ///
    /// ```
    /// use taskwire_metrics::LabelSet;
    /// let l = LabelSet(vec![("level".into(), "info".into())]);
    /// assert_eq!(l.get("level"), Some("info"));
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Labels in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn from_labels(labels: &Labels) -> Self {
        LabelSet(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl Serialize for LabelSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for LabelSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LabelSet;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of label names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<LabelSet, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(LabelSet(out))
            }
        }
        d.deserialize_map(V)
    }
}

const QUANTILES: [f64; 6] = [0.5, 0.75, 0.95, 0.98, 0.99, 0.999];

fn distribution(h: &HistogramSnapshot, min: u64, max: u64) -> Distribution {
    if h.count() == 0 || min > max {
        return Distribution::default();
    }
    let mut q = [0.0; QUANTILES.len()];
    h.values_at_quantiles(&QUANTILES, &mut q);
    let (lo, hi) = (min as f64, max as f64);
    let s = |ns: f64| ns.clamp(lo, hi) / 1e9;
    let (mean, stddev) = h.mean_stddev();
    Distribution {
        count: h.count(),
        min: lo / 1e9,
        max: hi / 1e9,
        mean: s(mean),
        stddev: stddev / 1e9,
        p50: s(q[0]),
        p75: s(q[1]),
        p95: s(q[2]),
        p98: s(q[3]),
        p99: s(q[4]),
        p999: s(q[5]),
    }
}

fn rates((mean, m1, m5, m15): (f64, f64, f64, f64)) -> Rates {
    Rates { mean, m1, m5, m15 }
}

fn exemplar(e: crate::series::Exemplar) -> Option<Exemplar> {
    (e.value > 0).then(|| Exemplar {
        seconds: e.value as f64 / 1e9,
        trace_id: e.ids.map(|(t, _)| t.to_string()),
        span_id: e.ids.map(|(_, s)| s.to_string()),
    })
}

/// Writes `metric{k="v",…}` (Prometheus text format, values escaped) into `out`.
pub(crate) fn write_id(
    out: &mut String,
    metric: &str,
    labels: &LabelSet,
    extra: Option<(&str, &str)>,
) {
    out.push_str(metric);
    let all = labels.iter().chain(extra);
    let mut first = true;
    for (k, v) in all {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}

/// Running totals of one task name.
struct TaskAcc {
    stats: TaskStats,
    hist: HistogramSnapshot,
    min: u64,
    max: u64,
    best: crate::series::Exemplar,
}

impl TaskAcc {
    fn new(name: String) -> Self {
        TaskAcc {
            stats: TaskStats {
                name,
                ..TaskStats::default()
            },
            hist: HistogramSnapshot::new(),
            min: u64::MAX,
            max: 0,
            best: crate::series::Exemplar::default(),
        }
    }

    fn finish(mut self) -> TaskStats {
        self.stats.window = distribution(&self.hist, self.min, self.max);
        self.stats.exemplar = exemplar(self.best);
        self.stats
    }
}

impl MetricsHandle {
    pub(crate) fn new(registry: Arc<Registry>) -> Self {
        MetricsHandle { registry }
    }

    /// Reads every series. Takes the series' upkeep (rate ticks, window slots) up to now, so
    /// it is right however long nobody read; costs a few microseconds per series.
    pub fn snapshot(&self) -> Snapshot {
        let (clock, window, globs) = {
            let s = self
                .registry
                .settings
                .read()
                .unwrap_or_else(|e| e.into_inner());
            (s.clock.clone(), s.window, s.globs.clone())
        };
        let now = clock.now();
        let mut out = Snapshot {
            uptime_seconds: now as f64 / 1e9,
            window_seconds: window.nanos() as f64 / 1e9,
            ..Snapshot::default()
        };
        let mut id = String::new();
        let mut admits = |metric: &str, labels: &LabelSet| {
            if globs.is_open() {
                return true;
            }
            id.clear();
            write_id(&mut id, metric, labels, None);
            globs.admits(&id)
        };

        let mut task: Option<TaskAcc> = None;
        for e in self.registry.spans.entries() {
            let labels = LabelSet::from_labels(&e.labels);
            let failures_labels = LabelSet(
                labels
                    .0
                    .iter()
                    .filter(|(k, _)| k != "outcome")
                    .cloned()
                    .collect(),
            );
            if admits(names::SPAN_DURATION, &labels) {
                let name = if e.overflow {
                    "(overflow)"
                } else {
                    labels.get("name").unwrap_or("")
                };
                if task.as_ref().is_some_and(|t| t.stats.name != name) {
                    out.tasks.extend(task.take().map(TaskAcc::finish));
                }
                let acc = task.get_or_insert_with(|| TaskAcc::new(name.to_owned()));
                let (stats, raw) =
                    timer_stats(&e.value.wall, names::SPAN_DURATION, &labels, now, Some(acc));
                acc.stats.count += stats.count;
                if labels.get("outcome") == Some("failed") {
                    acc.stats.errors += stats.count;
                } else if e.overflow {
                    acc.stats.errors += e.value.failures.get().map_or(0, |f| f.meter.count());
                }
                let r = &mut acc.stats.rates;
                r.mean += stats.rates.mean;
                r.m1 += stats.rates.m1;
                r.m5 += stats.rates.m5;
                r.m15 += stats.rates.m15;
                if raw.value >= acc.best.value && raw.value > 0 {
                    acc.best = raw;
                }
                out.timers.push(stats);
            }
            if let Some((busy, _)) = &e.value.busy {
                if admits(names::SPAN_BUSY, &labels) {
                    out.timers
                        .push(timer_stats(busy, names::SPAN_BUSY, &labels, now, None).0);
                }
            }
            if let Some(f) = e.value.failures.get() {
                if admits(names::TASK_FAILURES, &failures_labels) {
                    out.counters
                        .push(counter_stats(names::TASK_FAILURES, failures_labels, f, now));
                }
            }
        }
        out.tasks.extend(task.take().map(TaskAcc::finish));

        for family in [&self.registry.events, &self.registry.errors] {
            for e in family.entries() {
                let labels = LabelSet::from_labels(&e.labels);
                if admits(family.metric, &labels) {
                    out.counters
                        .push(counter_stats(family.metric, labels, &e.value, now));
                }
            }
        }
        let dropped = [
            self.registry.spans.dropped(),
            self.registry.events.dropped(),
            self.registry.errors.dropped(),
        ];
        for d in dropped.into_iter().flatten() {
            let labels = LabelSet::from_labels(&d.labels);
            if admits(names::DROPPED_LABEL_SETS, &labels) {
                out.counters.push(counter_stats(
                    names::DROPPED_LABEL_SETS,
                    labels,
                    &d.value,
                    now,
                ));
            }
        }
        out
    }

    /// The number of span label sets (series of `taskwire_span_duration_seconds`, without the
    /// overflow series): bounded by the cap.
    pub fn span_label_sets(&self) -> usize {
        self.registry.spans.len()
    }

    /// Heap bytes held by the span histograms' window slots (an upper bound on their growth:
    /// a slot allocates 512 bytes per octave of nanoseconds it has seen, at most 41).
    pub fn histogram_bytes(&self) -> usize {
        self.registry
            .spans
            .entries()
            .iter()
            .map(|e| {
                e.value.wall.heap_bytes() + e.value.busy.as_ref().map_or(0, |(t, _)| t.heap_bytes())
            })
            .sum()
    }
}

fn timer_stats(
    t: &Timer,
    metric: &str,
    labels: &LabelSet,
    now: u64,
    task: Option<&mut TaskAcc>,
) -> (TimerStats, crate::series::Exemplar) {
    with_scratch(|h| {
        let read = t.read(now, h);
        if let Some(acc) = task {
            acc.hist.merge(h);
            acc.min = acc.min.min(read.min);
            acc.max = acc.max.max(read.max);
        }
        (
            TimerStats {
                metric: metric.to_owned(),
                labels: labels.clone(),
                count: read.count,
                sum_seconds: read.sum as f64 / 1e9,
                rates: rates(t.rates(now)),
                window: distribution(h, read.min, read.max),
                exemplar: exemplar(read.exemplar),
            },
            read.exemplar,
        )
    })
}

fn counter_stats(metric: &str, labels: LabelSet, c: &Counted, now: u64) -> CounterStats {
    CounterStats {
        metric: metric.to_owned(),
        labels,
        count: c.meter.count(),
        rates: rates(c.meter.rates(now)),
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<MetricsHandle>();
    is::<Entry<Counted>>();
}
