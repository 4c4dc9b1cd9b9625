//! Label values are the span's field values when it closes: fields given at creation, fields
//! set later with `Span::record`, a `task.name` recorded late, an `outcome` recorded as failed;
//! whether the metrics layer captured the span itself or another taskwire layer did.

use taskwire_metrics::{MetricsHandle, Snapshot};
use tracing::field::Empty;
use tracing_subscriber::prelude::*;

fn run(metrics_first: bool, with_tasks: bool, f: impl FnOnce()) -> Snapshot {
    let layer = taskwire_metrics::layer().with_label_fields(["tier", "http.route"]);
    let metrics: MetricsHandle = layer.handle();
    let json = taskwire_json::layer().with_writer(std::io::sink);
    let tasks = with_tasks.then(taskwire_tasks::layer);
    let subscriber: Box<dyn tracing::Subscriber + Send + Sync> = if metrics_first {
        Box::new(
            tracing_subscriber::registry()
                .with(layer)
                .with(tasks)
                .with(json),
        )
    } else {
        Box::new(
            tracing_subscriber::registry()
                .with(tasks)
                .with(json)
                .with(layer),
        )
    };
    tracing::subscriber::with_default(subscriber, f);
    metrics.snapshot()
}

fn spans() {
    {
        let span = tracing::info_span!("checkout", tier = Empty, http.route = Empty);
        span.record("tier", "gold");
        span.record("http.route", "/cart/{id}");
    }
    {
        let _s = tracing::info_span!("checkout", tier = "free").entered();
    }
    {
        let span = tracing::info_span!("http.server.request", task.name = Empty);
        span.record("task.name", "GET /users/{id}");
    }
    {
        let span = tracing::info_span!("charge", outcome = Empty);
        span.record("outcome", "failed");
    }
    {
        let span = tracing::info_span!("charge", outcome = Empty, tier = Empty);
        span.record("outcome", "ok");
    }
}

fn check(s: &Snapshot) {
    let labels: Vec<Vec<(&str, &str)>> =
        s.timers.iter().map(|t| t.labels.iter().collect()).collect();
    let target = module_path!();
    assert!(labels.contains(&vec![
        ("name", "checkout"),
        ("target", target),
        ("outcome", "succeeded"),
        ("tier", "gold"),
        ("http_route", "/cart/{id}"),
    ]));
    // A call site has the labels of the allow-listed fields it declares.
    assert!(labels.contains(&vec![
        ("name", "checkout"),
        ("target", target),
        ("outcome", "succeeded"),
        ("tier", "free"),
    ]));
    // Declared, never recorded: an empty value.
    assert!(labels.contains(&vec![
        ("name", "charge"),
        ("target", target),
        ("outcome", "succeeded"),
        ("tier", ""),
    ]));
    assert!(labels.contains(&vec![
        ("name", "GET /users/{id}"),
        ("target", target),
        ("outcome", "succeeded"),
    ]));
    assert!(labels.contains(&vec![
        ("name", "charge"),
        ("target", target),
        ("outcome", "failed"),
    ]));
    let charge = s
        .tasks
        .iter()
        .find(|t| t.name == "charge")
        .expect("the store answers");
    assert_eq!((charge.count, charge.errors), (2, 1));
    let failures = s
        .counters
        .iter()
        .find(|c| c.metric == "taskwire_task_failures_total")
        .expect("the store answers");
    assert_eq!(failures.count, 1);
    assert_eq!(failures.labels.get("name"), Some("charge"));
    assert_eq!(failures.labels.get("outcome"), None);
}

#[test]
fn metrics_layer_alone() {
    let layer = taskwire_metrics::layer().with_label_fields(["tier", "http.route"]);
    let metrics = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), spans);
    check(&metrics.snapshot());
}

#[test]
fn metrics_layer_captures_first() {
    check(&run(true, true, spans));
}

#[test]
fn another_layer_captures_first() {
    check(&run(false, true, spans));
    check(&run(false, false, spans));
}

#[test]
fn error_events_fail_the_task_with_the_tasks_layer() {
    let s = run(false, true, || {
        let _s = tracing::info_span!("import").entered();
        tracing::error!("disk full");
    });
    let import = s.tasks.iter().find(|t| t.name == "import").unwrap();
    assert_eq!(import.errors, 1);
    let errors = s
        .counters
        .iter()
        .find(|c| c.metric == "taskwire_errors_total")
        .unwrap();
    assert_eq!(errors.count, 1);
}
