//! Renderings of a [`Snapshot`]: JSON, the Prometheus text format, and a plain-text table for
//! terminals; plus [`Format`], which picks one for an HTTP request.

use std::fmt::{self, Write as _};

use crate::export::names;
use crate::snapshot::{write_id, LabelSet, MetricsHandle, Snapshot};

/// A rendering of the in-app snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// The Prometheus text exposition format (version 0.0.4).
    Prometheus,
    /// The [`Snapshot`] as JSON.
    Json,
    /// The per-task table of [`render_table`].
    Table,
}

impl Format {
    /// Picks a format for an HTTP request from its query string (`format=json`,
    /// `format=prometheus`, `format=table`) or, without one, its `Accept` header
    /// (`application/json` for JSON); Prometheus text otherwise.
    ///
    /// ```
    /// use taskwire_metrics::Format;
    /// assert_eq!(Format::negotiate(None, Some("format=json")), Format::Json);
    /// assert_eq!(Format::negotiate(Some("application/json"), None), Format::Json);
    /// assert_eq!(Format::negotiate(Some("text/plain;version=0.0.4"), None), Format::Prometheus);
    /// assert_eq!(Format::negotiate(None, None), Format::Prometheus);
    /// ```
    pub fn negotiate(accept: Option<&str>, query: Option<&str>) -> Format {
        let asked = query.and_then(|q| {
            q.split('&').find_map(|kv| match kv.split_once('=') {
                Some(("format", "json")) => Some(Format::Json),
                Some(("format", "prometheus" | "text")) => Some(Format::Prometheus),
                Some(("format", "table")) => Some(Format::Table),
                _ => None,
            })
        });
        if let Some(f) = asked {
            return f;
        }
        match accept {
            Some(a) if a.contains("application/json") && !a.contains("text/plain") => Format::Json,
            _ => Format::Prometheus,
        }
    }

    /// The `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::Json => "application/json",
            Format::Table => "text/plain; charset=utf-8",
        }
    }
}

impl MetricsHandle {
    /// A snapshot rendered in `format`.
    ///
    /// ```
    /// use taskwire_metrics::Format;
    /// let handle = taskwire_metrics::layer().handle();
    /// assert!(handle.render(Format::Json).starts_with('{'));
    /// ```
    pub fn render(&self, format: Format) -> String {
        let s = self.snapshot();
        match format {
            Format::Prometheus => s.to_prometheus(),
            Format::Json => s.to_json(),
            Format::Table => render_table(&s),
        }
    }
}

const QUANTILES: [&str; 8] = ["0", "0.5", "0.75", "0.95", "0.98", "0.99", "0.999", "1"];

fn help(out: &mut String, name: &str, kind: &str, text: &str) {
    let _ = writeln!(out, "# HELP {name} {text}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, metric: &str, labels: &LabelSet, extra: Option<(&str, &str)>, v: f64) {
    write_id(out, metric, labels, extra);
    let _ = writeln!(out, " {v}");
}

/// The name of the gauge family holding the rates of `metric`: its unit or `_total` suffix
/// replaced by `_rate`.
fn rate_family(metric: &str) -> String {
    let base = metric
        .strip_suffix("_seconds")
        .or_else(|| metric.strip_suffix("_total"))
        .unwrap_or(metric);
    format!("{base}_rate")
}

impl Snapshot {
    /// The snapshot as one JSON object.
    ///
    /// ```
    /// let s = taskwire_metrics::layer().handle().snapshot();
    /// let v: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    /// assert!(v["tasks"].is_array());
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The snapshot in the Prometheus text format. Each histogram series is a `summary` (the
    /// window's quantiles 0 (minimum), 0.5, 0.75, 0.95, 0.98, 0.99, 0.999 and 1 (maximum), and
    /// lifetime `_sum` and `_count`), each counter a `counter`, and the moving rates of both
    /// are gauges named after the metric with `_rate` in place of `_seconds` or `_total`,
    /// labelled `window` = `mean`, `1m`, `5m`, `15m`.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let mut rates: Vec<(String, &LabelSet, crate::Rates)> = Vec::new();
        for metric in names::HISTOGRAMS {
            let mut series = self.timers.iter().filter(|t| t.metric == metric).peekable();
            if series.peek().is_none() {
                continue;
            }
            help(
                &mut out,
                metric,
                "summary",
                "In-app summary over a sliding window; quantile 0 is the minimum, 1 the maximum.",
            );
            for t in series {
                let w = &t.window;
                let values = [w.min, w.p50, w.p75, w.p95, w.p98, w.p99, w.p999, w.max];
                for (q, v) in QUANTILES.iter().zip(values) {
                    sample(&mut out, metric, &t.labels, Some(("quantile", q)), v);
                }
                sample(
                    &mut out,
                    &format!("{metric}_sum"),
                    &t.labels,
                    None,
                    t.sum_seconds,
                );
                sample(
                    &mut out,
                    &format!("{metric}_count"),
                    &t.labels,
                    None,
                    t.count as f64,
                );
                if metric == names::SPAN_DURATION {
                    rates.push((rate_family(metric), &t.labels, t.rates));
                }
            }
        }
        let mut metrics: Vec<&str> = self.counters.iter().map(|c| c.metric.as_str()).collect();
        metrics.dedup();
        let mut done: Vec<&str> = Vec::new();
        for metric in metrics {
            if done.contains(&metric) {
                continue;
            }
            done.push(metric);
            help(&mut out, metric, "counter", "In-app count.");
            for c in self.counters.iter().filter(|c| c.metric == metric) {
                sample(&mut out, metric, &c.labels, None, c.count as f64);
                rates.push((rate_family(metric), &c.labels, c.rates));
            }
        }
        let mut families: Vec<&str> = Vec::new();
        for (f, _, _) in &rates {
            if !families.contains(&f.as_str()) {
                families.push(f);
            }
        }
        for family in families {
            help(
                &mut out,
                family,
                "gauge",
                "Per second: since the layer was built (window=\"mean\") and moving averages.",
            );
            for (_, labels, r) in rates.iter().filter(|(f, _, _)| f == family) {
                for (w, v) in [("mean", r.mean), ("1m", r.m1), ("5m", r.m5), ("15m", r.m15)] {
                    sample(&mut out, family, labels, Some(("window", w)), v);
                }
            }
        }
        out
    }

    /// A plain-text table with one row per task name (see [`render_table`]).
    pub fn table(&self) -> Table<'_> {
        Table(self)
    }
}

/// One row per task name: count, p50, p99 and max over the window, rate, errors. Printable
/// with `{}`. See [`render_table`].
#[derive(Clone, Copy, Debug)]
pub struct Table<'a>(&'a Snapshot);

/// A plain-text table with one row per task name: spans closed (`count`), the window's
/// median, 99th percentile and maximum wall time, the rate (spans per second: the 1-minute
/// moving average, or the mean rate before its first 5-second tick), and `errors` (spans whose
/// outcome was failed).
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let layer = taskwire_metrics::layer();
/// let metrics = layer.handle();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     let _s = tracing::info_span!("load_user").entered();
/// });
/// let table = taskwire_metrics::render_table(&metrics.snapshot());
/// assert!(table.lines().next().unwrap().starts_with("task"));
/// assert!(table.contains("load_user"));
/// ```
pub fn render_table(snapshot: &Snapshot) -> String {
    snapshot.table().to_string()
}

/// A duration in seconds, short: `812ns`, `45.1µs`, `3.20ms`, `1.25s`, `2m05s`.
fn human(secs: f64) -> String {
    if secs <= 0.0 {
        "0".to_owned()
    } else if secs < 1e-6 {
        format!("{:.0}ns", secs * 1e9)
    } else if secs < 1e-3 {
        format!("{:.1}µs", secs * 1e6)
    } else if secs < 1.0 {
        format!("{:.2}ms", secs * 1e3)
    } else if secs < 60.0 {
        format!("{secs:.2}s")
    } else {
        let s = secs.round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let ticked = s.uptime_seconds >= 5.0;
        let rows: Vec<[String; 7]> = s
            .tasks
            .iter()
            .map(|t| {
                let rate = if ticked { t.rates.m1 } else { t.rates.mean };
                [
                    t.name.clone(),
                    t.count.to_string(),
                    human(t.window.p50),
                    human(t.window.p99),
                    human(t.window.max),
                    format!("{rate:.2}"),
                    t.errors.to_string(),
                ]
            })
            .collect();
        let head = ["task", "count", "p50", "p99", "max", "rate/s", "errors"];
        let mut width = head.map(str::len);
        for r in &rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[&str]| -> fmt::Result {
            for (i, (c, w)) in cells.iter().zip(width).enumerate() {
                if i == 0 {
                    write!(f, "{c:<w$}")?;
                } else {
                    write!(f, "  {c:>w$}")?;
                }
            }
            writeln!(f)
        };
        line(f, &head)?;
        for r in &rows {
            let cells: Vec<&str> = r.iter().map(String::as_str).collect();
            line(f, &cells)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(0.0), "0");
        assert_eq!(human(812e-9), "812ns");
        assert_eq!(human(45.1e-6), "45.1µs");
        assert_eq!(human(0.0032), "3.20ms");
        assert_eq!(human(1.25), "1.25s");
        assert_eq!(human(125.0), "2m05s");
    }

    #[test]
    fn rate_families() {
        assert_eq!(rate_family("taskwire_events_total"), "taskwire_events_rate");
        assert_eq!(
            rate_family("taskwire_span_duration_seconds"),
            "taskwire_span_duration_rate"
        );
    }
}
