//! The [`Registry`] of series a [`MetricsLayer`](crate::MetricsLayer) records into and its
//! [`MetricsHandle`](crate::MetricsHandle)s read: span timings, event and error counters by
//! label set, and the settings the handles read.

use std::sync::{Arc, OnceLock, RwLock};

use tracing_core::Level;

use crate::clock::Clock;
use crate::export::names;
use crate::family::{Entry, Family};
use crate::glob::Globs;
use crate::labels::{parse_key, push_key, with_key};
use crate::series::{Counted, SpanSeries, Window};

/// What the layer and its handles share: the series.
pub(crate) struct Registry {
    pub(crate) spans: Family<SpanSeries>,
    pub(crate) events: Family<Counted>,
    pub(crate) errors: Family<Counted>,
    /// The events counter of each level, by [`level_index`](taskwire_core::schema::level_index),
    /// when not labelled by target.
    pub(crate) levels: [OnceLock<Arc<Entry<Counted>>>; 5],
    pub(crate) settings: RwLock<Settings>,
}

/// Settings the handles read.
pub(crate) struct Settings {
    pub(crate) clock: Clock,
    pub(crate) window: Window,
    pub(crate) globs: Globs,
}

impl Registry {
    /// An empty registry capping each metric at `cap` label sets.
    pub(crate) fn new(clock: Clock, window: Window, cap: usize) -> Self {
        Registry {
            spans: Family::with_name_reserve(names::SPAN_DURATION, cap),
            events: Family::new(names::EVENTS, cap),
            errors: Family::new(names::ERRORS, cap),
            levels: std::array::from_fn(|_| OnceLock::new()),
            settings: RwLock::new(Settings {
                clock,
                window,
                globs: Globs::default(),
            }),
        }
    }

    /// A counter of the events family for `level` (and `target`).
    pub(crate) fn events_entry(
        &self,
        level: Level,
        target: Option<&str>,
        now: u64,
    ) -> Arc<Entry<Counted>> {
        with_key(|key| {
            push_key(key, "level", level_str(level));
            if let Some(t) = target {
                push_key(key, "target", t);
            }
            counter(&self.events, key, now)
        })
    }

    /// The counter of the errors family for `target`.
    pub(crate) fn errors_entry(&self, target: &str, now: u64) -> Arc<Entry<Counted>> {
        with_key(|key| {
            push_key(key, "target", target);
            counter(&self.errors, key, now)
        })
    }
}

/// The counter of `family` for the label set whose key is `key`, made on first sight.
fn counter(family: &Family<Counted>, key: &str, now: u64) -> Arc<Entry<Counted>> {
    family.get_or_create(
        key,
        now,
        || parse_key(key),
        |l| Counted::new(family.metric, l, now),
    )
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
