//! taskwire-metrics' aggregates reach a real collector as OTLP metric points (feature
//! `metrics`): span counts and sums per task name and outcome, windowed quantiles, counters.
//! Metrics may arrive more than once (each flush and the shutdown export): at least once is
//! asserted.

mod support;

use std::time::Duration;

use tracing_subscriber::prelude::*;

#[test]
fn span_counts_sums_quantiles_and_counters_arrive_as_metric_points() {
    let (url, log) = taskwire_test_support::services::otel_collector();
    let metrics = taskwire_metrics::layer();
    let handle = metrics.handle();
    let (otel, guard) = taskwire_otel::layer()
        .with_endpoint(&url)
        .with_service_name("otel-test-metrics")
        .with_metrics(handle, Some(Duration::from_secs(3600)))
        .build()
        .expect("starts");
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(metrics)
        .with(otel);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..5 {
            let _t = tracing::info_span!("otel-metrics-task").entered();
            std::thread::sleep(Duration::from_millis(2));
        }
        let _t = tracing::info_span!("otel-metrics-task").entered();
        tracing::error!("broke");
    });
    assert!(guard.flush_within(Duration::from_secs(15)));
    drop(guard);

    let ours = |p: &support::Point| {
        p.attributes
            .iter()
            .any(|(k, v)| k == "name" && v == "Str(otel-metrics-task)")
    };
    let got = support::wait_for(&log, Duration::from_secs(10), |r| {
        r.points
            .iter()
            .any(|p| p.metric == "taskwire_span_duration_seconds_window" && ours(p))
    });
    let succeeded = got
        .points
        .iter()
        .find(|p| {
            p.metric == "taskwire_span_duration_seconds_count"
                && ours(p)
                && p.attributes
                    .iter()
                    .any(|(k, v)| k == "outcome" && v == "Str(succeeded)")
        })
        .unwrap_or_else(|| panic!("no count point for the task in {:#?}", got.points));
    assert_eq!(succeeded.data_type, "Sum");
    assert_eq!(succeeded.value, "5", "{succeeded:#?}");
    let failed = got.points.iter().find(|p| {
        p.metric == "taskwire_span_duration_seconds_count"
            && ours(p)
            && p.attributes
                .iter()
                .any(|(k, v)| k == "outcome" && v == "Str(failed)")
    });
    assert_eq!(failed.map(|p| p.value.as_str()), Some("1"));
    let sum = got
        .points
        .iter()
        .find(|p| {
            p.metric == "taskwire_span_duration_seconds_sum"
                && ours(p)
                && p.attributes
                    .iter()
                    .any(|(k, v)| k == "outcome" && v == "Str(succeeded)")
        })
        .expect("sum point");
    let seconds: f64 = sum.value.parse().expect("a number");
    assert!(seconds >= 0.010, "5 × 2 ms at least: {sum:#?}");
    let p99 = got
        .points
        .iter()
        .find(|p| {
            p.metric == "taskwire_span_duration_seconds_window"
                && ours(p)
                && p.attributes
                    .iter()
                    .any(|(k, v)| k == "quantile" && v == "Str(0.99)")
        })
        .expect("p99 point");
    assert_eq!(p99.data_type, "Gauge");
    assert!(got
        .points
        .iter()
        .any(|p| p.metric == "taskwire_errors_total" && p.value != "0"));
}
