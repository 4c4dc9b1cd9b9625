//! The snapshot round-trips through JSON; allow and forbid globs pick series by their
//! Prometheus-style id; the table has one row per task name.

use std::time::Duration;

use taskwire_metrics::{ManualClock, Snapshot};
use tracing_subscriber::prelude::*;

fn spans(layer: taskwire_metrics::MetricsLayer, clock: &ManualClock) -> Snapshot {
    let metrics = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..30_u64 {
            let name = if i % 3 == 0 {
                "GET /health"
            } else {
                "GET /users/{id}"
            };
            let _s = tracing::info_span!("request", task.name = name).entered();
            clock.advance(Duration::from_micros(100 * (i + 1)));
            if i == 7 {
                tracing::warn!("slow-ish");
            }
        }
    });
    clock.advance(Duration::from_secs(6));
    metrics.snapshot()
}

#[test]
fn json_round_trip() {
    let clock = ManualClock::new();
    let s = spans(taskwire_metrics::layer().with_clock(clock.clone()), &clock);
    let json = s.to_json();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["tasks"][0]["name"], "GET /health");
    assert_eq!(v["timers"][0]["labels"]["name"], "GET /health");
    assert!(v["timers"][0]["window"]["p99"].as_f64().unwrap() > 0.0);
    assert!(v["counters"][0]["rates"]["m1"].as_f64().unwrap() > 0.0);
}

#[test]
fn globs_filter_series() {
    let clock = ManualClock::new();
    let s = spans(
        taskwire_metrics::layer()
            .with_clock(clock.clone())
            .with_allow(["taskwire_span_*", "taskwire_events_total{level=\"warn\"}"])
            .with_forbid([r#"*name="GET /health"*"#]),
        &clock,
    );
    let names: Vec<&str> = s.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["GET /users/{id}"]);
    assert_eq!(s.tasks[0].count, 20);
    assert_eq!(s.timers.len(), 1);
    assert_eq!(s.counters.len(), 1);
    assert_eq!(s.counters[0].labels.get("level"), Some("warn"));
}

#[test]
fn table_rows_per_task() {
    let clock = ManualClock::new();
    let s = spans(taskwire_metrics::layer().with_clock(clock.clone()), &clock);
    let table = taskwire_metrics::render_table(&s);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let head: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        head,
        ["task", "count", "p50", "p99", "max", "rate/s", "errors"]
    );
    assert!(lines[1].starts_with("GET /health"));
    let cells: Vec<&str> = lines[2].split_whitespace().collect();
    // "GET", "/users/{id}", count, p50, p99, max, rate, errors
    assert_eq!(cells[2], "20");
    assert_eq!(cells[5], "3.00ms");
    assert_eq!(cells[7], "0");
    assert_eq!(table, s.table().to_string());
}
