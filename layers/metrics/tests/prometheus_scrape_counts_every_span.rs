//! Through metrics-exporter-prometheus, scraped over HTTP and parsed strictly: taskwire's
//! histograms come out as Prometheus histograms with buckets, and their counts equal the spans
//! sent, from several threads. The in-app Prometheus rendering, served beside it, agrees.
//! (Own test binary: it installs the global recorder.)
#![cfg(feature = "prometheus")]

mod support;

use std::collections::BTreeMap;

use metrics_exporter_prometheus::PrometheusBuilder;
use taskwire_metrics::Format;
use tracing_subscriber::prelude::*;

const THREADS: u64 = 4;
const PER_THREAD: u64 = 2_500;

/// The `_count` samples of a histogram or summary family, by name, outcome and shard label.
fn counts_by_name_outcome_shard(family: &support::Family) -> Counts {
    family
        .samples
        .iter()
        .filter(|s| s.name.ends_with("_count"))
        .map(|s| {
            let l = |k| s.label(k).unwrap_or("").to_owned();
            ((l("name"), l("outcome"), l("shard")), s.value)
        })
        .collect()
}

type Counts = BTreeMap<(String, String, String), f64>;

#[test]
fn histogram_counts_equal_spans_sent() {
    let recorder = taskwire_metrics::prometheus::configure(PrometheusBuilder::new())
        .expect("buckets")
        .build_recorder();
    let prometheus = recorder.handle();
    metrics::set_global_recorder(recorder).expect("first recorder");

    let layer = taskwire_metrics::layer()
        .with_label_fields(["shard"])
        .with_busy_time(true);
    let metrics = layer.handle();
    let addr = support::serve(move |path| match path {
        "/snapshot" => (
            Format::Prometheus.content_type().to_owned(),
            metrics.render(Format::Prometheus),
        ),
        _ => ("text/plain; version=0.0.4".to_owned(), prometheus.render()),
    });

    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let d = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    for i in 0..PER_THREAD {
                        let _req = tracing::info_span!("request", shard = t % 2).entered();
                        if i % 10 == 0 {
                            let _s = tracing::info_span!("db", outcome = "failed").entered();
                        }
                        tracing::info!("handled");
                    }
                });
            });
        }
    });

    let families =
        support::parse(&support::get(addr, "/metrics").expect("scrape")).expect("valid exposition");
    let family = |name: &str| {
        families
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no family {name}"))
    };
    let duration = family("taskwire_span_duration_seconds");
    assert_eq!(duration.kind, "histogram");
    let counts = counts_by_name_outcome_shard(duration);
    let per_shard = (THREADS / 2 * PER_THREAD) as f64;
    let want: Counts = [
        (
            ("db".into(), "failed".into(), "".into()),
            (THREADS * PER_THREAD / 10) as f64,
        ),
        (
            ("request".into(), "succeeded".into(), "0".into()),
            per_shard,
        ),
        (
            ("request".into(), "succeeded".into(), "1".into()),
            per_shard,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts, want);
    // Buckets are taskwire's.
    let les: Vec<&str> = duration
        .samples
        .iter()
        .filter(|s| s.name.ends_with("_bucket") && s.label("name") == Some("db"))
        .filter_map(|s| s.label("le"))
        .collect();
    assert_eq!(
        les.len(),
        taskwire_metrics::prometheus::DEFAULT_BUCKETS.len() + 1
    );
    assert_eq!(family("taskwire_span_busy_seconds").kind, "histogram");
    let events = family("taskwire_events_total");
    assert_eq!(events.kind, "counter");
    assert_eq!(
        events.samples[0].value,
        (THREADS * PER_THREAD) as f64,
        "{:?}",
        events.samples
    );
    let failures = family("taskwire_task_failures_total");
    assert_eq!(
        failures.samples[0].value,
        (THREADS * PER_THREAD / 10) as f64
    );

    // The in-app rendering: a summary per series with the same counts.
    let inapp = support::parse(&support::get(addr, "/snapshot").expect("scrape"))
        .expect("valid exposition");
    let summary = inapp
        .iter()
        .find(|f| f.name == "taskwire_span_duration_seconds")
        .unwrap();
    assert_eq!(summary.kind, "summary");
    let inapp_counts = counts_by_name_outcome_shard(summary);
    assert_eq!(inapp_counts, want);
    let quantiles: Vec<&str> = summary
        .samples
        .iter()
        .filter(|s| s.label("name") == Some("db"))
        .filter_map(|s| s.label("quantile"))
        .collect();
    assert_eq!(
        quantiles,
        ["0", "0.5", "0.75", "0.95", "0.98", "0.99", "0.999", "1"]
    );
    let rates = inapp
        .iter()
        .find(|f| f.name == "taskwire_span_duration_rate")
        .unwrap();
    assert_eq!(rates.kind, "gauge");
}
