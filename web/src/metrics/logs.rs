//! The metrics of `taskwire serve`: computed from the `task.end` records of the log sources,
//! read whole on each view.

use std::collections::BTreeMap;

use taskwire_core::schema::{header, task_record, NAME_KEYS};
use taskwire_core::time::parse_rfc3339_us;
use taskwire_explore::pretty::{Field, Record};
use taskwire_explore::source::{Lines, Source};
use taskwire_metrics::{Distribution, Rates, Snapshot, TaskStats};

use super::{Ewma, Plots, View, TICK_S};
use crate::logs::Logs;

/// Minutes in the rate plot.
const RATE_MINUTES: usize = 60;
/// How far back the moving averages start: older records weigh nothing in a 15-minute average.
const EWMA_HORIZON_US: i64 = 2 * 3600 * 1_000_000;

/// Metrics from the `task.end` records of log files.
#[derive(Debug)]
pub(crate) struct FromLogs {
    logs: Logs,
}

impl FromLogs {
    pub(crate) fn new(logs: Logs) -> FromLogs {
        FromLogs { logs }
    }
}

/// One ended task.
#[derive(Clone, Copy, Debug)]
struct Ended {
    ts_us: i64,
    duration_us: u64,
    failed: bool,
}

impl super::Source for FromLogs {
    fn view(&self) -> View {
        let (files, mut problems) = self.logs.files();
        let mut tasks: BTreeMap<String, Vec<Ended>> = BTreeMap::new();
        let finder = memchr::memmem::Finder::new(task_record::END.as_bytes());
        for f in &files {
            let read = Source::File(f.clone()).open().and_then(|input| {
                let mut lines = Lines::new(input);
                while let Some(line) = lines.next_line()? {
                    if finder.find(line.bytes).is_none() {
                        continue;
                    }
                    if let Some((name, e)) = ended(line.bytes) {
                        tasks.entry(name).or_default().push(e);
                    }
                }
                Ok(())
            });
            if let Err(e) = read {
                problems.push(format!("{}: {e}", f.display()));
            }
        }
        let now = crate::pages::now_us();
        let first = tasks
            .values()
            .flatten()
            .map(|e| e.ts_us)
            .min()
            .unwrap_or(now);
        let mut snapshot = Snapshot::default();
        snapshot.uptime_seconds = (now - first).max(0) as f64 / 1e6;
        snapshot.window_seconds = snapshot.uptime_seconds;
        let mut plots = Vec::new();
        for (name, mut ended) in tasks {
            ended.sort_by_key(|e| e.ts_us);
            let mut t = TaskStats::default();
            t.name = name;
            t.count = ended.len() as u64;
            t.errors = ended.iter().filter(|e| e.failed).count() as u64;
            t.rates = rates(&ended, first, now);
            let mut durations: Vec<u64> = ended.iter().map(|e| e.duration_us).collect();
            durations.sort_unstable();
            t.window = distribution(&durations);
            plots.push(Plots {
                latency: histogram(&durations),
                latency_note: "tasks per duration range (powers of two)",
                rate: per_minute(&ended),
                step_seconds: 60.0,
            });
            snapshot.tasks.push(t);
        }
        View {
            source: format!(
                "the task.end records of {} log file{}, read now",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            ),
            snapshot,
            plots,
            problems,
        }
    }
}

/// The task name and the numbers of a `task.end` record.
fn ended(line: &[u8]) -> Option<(String, Ended)> {
    let r = Record::parse(line)?;
    if r.str(header::TARGET) != Some(task_record::TARGET)
        || r.str(header::MESSAGE) != Some(task_record::END)
    {
        return None;
    }
    let name = NAME_KEYS.iter().find_map(|k| r.str(k))?.to_owned();
    let duration_us = match r.get(task_record::keys::DURATION_US)? {
        Field::Num(n) => n.as_u64()?,
        _ => return None,
    };
    let ts_us = parse_rfc3339_us(r.str(header::TIMESTAMP)?)?;
    let failed = r.str(task_record::keys::OUTCOME) == Some("failed");
    Some((
        name,
        Ended {
            ts_us,
            duration_us,
            failed,
        },
    ))
}

/// Mean rate since the first record of any task, and the moving averages as the metrics layer
/// would have ticked them up to `now`.
fn rates(ended: &[Ended], first: i64, now: i64) -> Rates {
    let mut r = Rates::default();
    let age_s = (now - first).max(1) as f64 / 1e6;
    r.mean = ended.len() as f64 / age_s;
    let tick_us = (TICK_S * 1e6) as i64;
    let start = first.max(now - EWMA_HORIZON_US);
    let (mut m1, mut m5, mut m15) = (Ewma::minutes(1.0), Ewma::minutes(5.0), Ewma::minutes(15.0));
    let mut i = ended.partition_point(|e| e.ts_us < start);
    let mut t = start;
    while t < now {
        let end = t + tick_us;
        let mut n = 0;
        while i < ended.len() && ended[i].ts_us < end {
            n += 1;
            i += 1;
        }
        for m in [&mut m1, &mut m5, &mut m15] {
            m.tick(n);
        }
        t = end;
    }
    (r.m1, r.m5, r.m15) = (m1.rate(), m5.rate(), m15.rate());
    r
}

/// Nearest-rank statistics of sorted durations (µs), in seconds.
fn distribution(sorted_us: &[u64]) -> Distribution {
    let mut d = Distribution::default();
    let n = sorted_us.len();
    if n == 0 {
        return d;
    }
    let s = |us: u64| us as f64 / 1e6;
    let at = |q: f64| s(sorted_us[((q * n as f64).ceil() as usize).clamp(1, n) - 1]);
    let mean = sorted_us.iter().map(|&u| u as f64).sum::<f64>() / n as f64;
    let var = sorted_us
        .iter()
        .map(|&u| (u as f64 - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    d.count = n as u64;
    d.min = s(sorted_us[0]);
    d.max = s(sorted_us[n - 1]);
    d.mean = mean / 1e6;
    d.stddev = var.sqrt() / 1e6;
    (d.p50, d.p75, d.p95, d.p98, d.p99, d.p999) =
        (at(0.5), at(0.75), at(0.95), at(0.98), at(0.99), at(0.999));
    d
}

/// Durations (sorted, µs) in buckets `(2^(k-1), 2^k]` µs, from the smallest to the largest
/// non-empty one; (upper bound in seconds, count).
fn histogram(sorted_us: &[u64]) -> Vec<(f64, u64)> {
    let bucket = |us: u64| 64 - us.saturating_sub(1).leading_zeros();
    let (Some(&lo), Some(&hi)) = (sorted_us.first(), sorted_us.last()) else {
        return Vec::new();
    };
    let (lo, hi) = (bucket(lo), bucket(hi));
    let mut out: Vec<(f64, u64)> = (lo..=hi).map(|k| ((1u128 << k) as f64 / 1e6, 0)).collect();
    for &us in sorted_us {
        out[(bucket(us) - lo) as usize].1 += 1;
    }
    out
}

/// Tasks ended per second in each of the last [`RATE_MINUTES`] minutes up to the newest
/// record (sorted by time).
fn per_minute(ended: &[Ended]) -> Vec<f64> {
    let Some(last) = ended.last() else {
        return Vec::new();
    };
    let minute = 60_000_000;
    let end = last.ts_us.div_euclid(minute) + 1;
    let start = end - RATE_MINUTES as i64;
    let mut out = vec![0.0; RATE_MINUTES];
    for e in ended {
        let m = e.ts_us.div_euclid(minute);
        if m >= start {
            out[(m - start) as usize] += 1.0 / 60.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_and_exact() {
        let us: Vec<u64> = (1..=1000).collect();
        let d = distribution(&us);
        assert_eq!((d.count, d.min, d.max), (1000, 1e-6, 1e-3));
        assert_eq!((d.p50, d.p99, d.p999), (500e-6, 990e-6, 999e-6));
        assert_eq!(distribution(&[]), Distribution::default());
    }

    #[test]
    fn histogram_buckets_are_powers_of_two_microseconds() {
        let h = histogram(&[3, 4, 5, 1000]);
        assert_eq!(h.first(), Some(&(4e-6, 2)));
        assert_eq!(h.last(), Some(&(1024e-6, 1)));
        assert_eq!(h.iter().map(|b| b.1).sum::<u64>(), 4);
    }

    #[test]
    fn only_task_end_records_with_a_name_and_duration_count() {
        let line = br#"{"ts":"2026-11-21T10:00:00.016Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"db.query","task.outcome":"failed","task.duration_us":3000}"#;
        let (name, e) = ended(line).unwrap();
        assert_eq!(
            (name.as_str(), e.duration_us, e.failed),
            ("db.query", 3000, true)
        );
        let start = br#"{"ts":"2026-11-21T10:00:00Z","target":"taskwire::tasks","msg":"task.start","task.name":"x"}"#;
        assert!(ended(start).is_none());
        let user = br#"{"ts":"2026-11-21T10:00:00Z","target":"app","msg":"task.end","task.name":"x","task.duration_us":1}"#;
        assert!(ended(user).is_none());
    }

    #[test]
    fn a_steady_stream_has_its_rate_in_every_average() {
        let now = 10_000_000_000;
        // one task a second for two hours
        let ended: Vec<Ended> = (0..7200)
            .map(|s| Ended {
                ts_us: now - 7_200_000_000 + s * 1_000_000,
                duration_us: 1,
                failed: false,
            })
            .collect();
        let r = rates(&ended, ended[0].ts_us, now);
        for v in [r.mean, r.m1, r.m5, r.m15] {
            assert!((v - 1.0).abs() < 0.01, "{r:?}");
        }
        assert_eq!(per_minute(&ended).len(), RATE_MINUTES);
        assert!((per_minute(&ended)[10] - 1.0).abs() < 1e-9);
    }
}
