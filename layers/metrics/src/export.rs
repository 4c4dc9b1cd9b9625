//! Export through the [`metrics`] facade: taskwire's metric names, and the handles registered
//! once per label set with whichever recorder is installed at that moment.
//!
//! Handles are registered the first time a label set is seen (a span closing, an event) and
//! reused for every later sample, so the recorder is never asked to look a name up per span.
//! Install the recorder (`metrics::set_global_recorder`, or an exporter's `install`) before the
//! first instrumented span closes: a handle registered while no recorder is installed stays a
//! no-op.

use metrics::{Key, KeyName, Label, Metadata, SharedString, Unit};

use crate::labels::Labels;

/// taskwire's metric names, as exported through the `metrics` facade (Prometheus naming: base
/// units, `_seconds` and `_total` suffixes). Their labels are listed in `docs/metrics.md`.
pub mod names {
    /// Histogram: wall time of each closed span, from creation to close, in seconds.
    /// Labels: `name`, `target`, `outcome`, allow-listed fields.
    pub const SPAN_DURATION: &str = "taskwire_span_duration_seconds";
    /// Histogram: time each closed span spent entered (busy), in seconds; when enabled.
    pub const SPAN_BUSY: &str = "taskwire_span_busy_seconds";
    /// Counter: events, by `level` (and `target` when enabled).
    pub const EVENTS: &str = "taskwire_events_total";
    /// Counter: ERROR events, by `target`.
    pub const ERRORS: &str = "taskwire_errors_total";
    /// Counter: spans closed with outcome failed, by `name`, `target` and allow-listed fields.
    pub const TASK_FAILURES: &str = "taskwire_task_failures_total";
    /// Counter: label sets refused by the cardinality cap, by `metric`.
    pub const DROPPED_LABEL_SETS: &str = "taskwire_metrics_dropped_label_sets_total";

    /// Every histogram taskwire exports.
    pub const HISTOGRAMS: [&str; 2] = [SPAN_DURATION, SPAN_BUSY];
}

static METADATA: Metadata<'static> = Metadata::new(
    "taskwire_metrics",
    metrics::Level::INFO,
    Some("taskwire_metrics"),
);

fn help(metric: &str) -> &'static str {
    match metric {
        names::SPAN_DURATION => "Wall time of closed spans, from creation to close.",
        names::SPAN_BUSY => "Time closed spans spent entered.",
        names::EVENTS => "Events, by level.",
        names::ERRORS => "ERROR events.",
        names::TASK_FAILURES => "Spans closed with outcome failed.",
        names::DROPPED_LABEL_SETS => "Label sets refused by the cardinality cap.",
        _ => "",
    }
}

fn key(metric: &'static str, labels: &Labels) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|(k, v)| Label::new(SharedString::from(k.clone()), String::from(&**v)))
        .collect();
    Key::from_parts(metric, labels)
}

/// Registers a histogram handle (seconds) with the current recorder.
pub(crate) fn histogram(metric: &'static str, labels: &Labels) -> metrics::Histogram {
    // Whatever the recorder logs while registering is not counted back into taskwire.
    taskwire_core::suppress::suppressed(|| {
        metrics::with_recorder(|r| {
            r.describe_histogram(
                KeyName::from_const_str(metric),
                Some(Unit::Seconds),
                SharedString::const_str(help(metric)),
            );
            r.register_histogram(&key(metric, labels), &METADATA)
        })
    })
}

/// Registers a counter handle with the current recorder.
pub(crate) fn counter(metric: &'static str, labels: &Labels) -> metrics::Counter {
    taskwire_core::suppress::suppressed(|| {
        metrics::with_recorder(|r| {
            r.describe_counter(
                KeyName::from_const_str(metric),
                Some(Unit::Count),
                SharedString::const_str(help(metric)),
            );
            r.register_counter(&key(metric, labels), &METADATA)
        })
    })
}
