//! `Builder::layer` and `Builder::finish` open the one-call setup: a layer of the application's
//! own sees the events the builder's filter lets through, a per-layer filter narrows what its
//! own layer sees and nothing else, several layers and boxed layers compose, tracing-subscriber
//! reaches them (`downcast_raw`, `on_register_dispatch`), and the guard still flushes the
//! builder's outputs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use taskwire_test_support::{Capture, TempDir};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Counts the events it sees and the dispatchers it is registered with; notes its name in a
/// shared log, to show the order layers are called in.
#[derive(Clone, Default)]
struct Counter {
    name: &'static str,
    events: Arc<AtomicUsize>,
    registered: Arc<AtomicUsize>,
    order: Arc<Mutex<Vec<&'static str>>>,
}

impl Counter {
    fn named(name: &'static str, order: &Arc<Mutex<Vec<&'static str>>>) -> Counter {
        Counter {
            name,
            order: Arc::clone(order),
            ..Counter::default()
        }
    }

    fn events(&self) -> usize {
        self.events.load(Ordering::Relaxed)
    }
}

impl<S: Subscriber> Layer<S> for Counter {
    fn on_register_dispatch(&self, _: &Dispatch) {
        self.registered.fetch_add(1, Ordering::Relaxed);
    }

    fn on_event(&self, _: &Event<'_>, _: Context<'_, S>) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.order
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(self.name);
    }
}

/// `RUST_LOG` overrides `default_filter`, which these tests rely on.
fn rust_log_is_set() -> bool {
    let set = std::env::var("RUST_LOG").is_ok_and(|v| !v.trim().is_empty());
    if set {
        eprintln!("RUST_LOG is set and overrides default_filter; skipping");
    }
    set
}

fn three_levels() {
    tracing::debug!("filtered out by default_filter");
    tracing::info!("info");
    tracing::warn!("warn");
    tracing::error!("error");
}

#[test]
fn an_applications_layer_sees_the_events_the_filter_lets_through() {
    if rust_log_is_set() {
        return;
    }
    let counter = Counter::default();
    let out = Capture::default();
    let (dispatch, guard) = taskwire::builder()
        .default_filter("info")
        .json(out.clone())
        .layer(counter.clone())
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, three_levels);
    drop(guard);
    assert_eq!(counter.events(), 3, "info, warn and error; not debug");
    assert_eq!(out.json_lines().len(), 3, "the JSON output is unchanged");
    assert_eq!(counter.registered.load(Ordering::Relaxed), 1);
}

#[test]
fn a_per_layer_filter_narrows_its_own_layer_only() {
    if rust_log_is_set() {
        return;
    }
    let warnings = Counter::default();
    let everything = Counter::default();
    let out = Capture::default();
    let (dispatch, guard) = taskwire::builder()
        .default_filter("info")
        .json(out.clone())
        .layer(warnings.clone().with_filter(LevelFilter::WARN))
        .layer(everything.clone())
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let _request = tracing::info_span!("request").entered();
        three_levels();
    });
    drop(guard);
    assert_eq!(warnings.events(), 2, "warn and error");
    assert_eq!(
        everything.events(),
        3,
        "an unfiltered layer beside it sees info too"
    );
    let lines = out.json_lines();
    assert_eq!(
        lines.len(),
        3,
        "the per-layer filter hides nothing from JSON"
    );
    assert_eq!(lines[0]["msg"], "info");
}

#[test]
fn layers_run_in_the_order_added_and_boxed_layers_compose() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let first = Counter::named("first", &order);
    let boxed: Box<dyn Layer<taskwire::CaptureRegistry> + Send + Sync> =
        Box::new(Counter::named("boxed", &order));
    let last = Counter::named("last", &order);
    let (dispatch, guard) = taskwire::builder()
        .layer(first.clone())
        .layer(boxed)
        .layer(last.clone())
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || tracing::warn!("one"));
    drop(guard);
    let order = order
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert_eq!(order, ["first", "boxed", "last"]);
}

/// tracing-opentelemetry finds its span context, and per-layer filters are found, through
/// `downcast_raw`: the builder must forward it to the application's layers.
#[test]
fn an_applications_layer_is_found_by_downcast() {
    let (dispatch, _guard) = taskwire::builder()
        .layer(Counter::default())
        .build()
        .expect("build");
    assert!(dispatch.downcast_ref::<Counter>().is_some());
    assert!(dispatch
        .downcast_ref::<tracing_subscriber::Registry>()
        .is_some());
}

#[test]
fn the_guard_flushes_the_file_with_an_applications_layer_installed() {
    let dir = TempDir::new("builder-layer-flush");
    let path = dir.join("app.log");
    let counter = Counter::default();
    let (dispatch, guard) = taskwire::builder()
        .json_file(&path)
        .layer(counter.clone().with_filter(LevelFilter::ERROR))
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..100 {
            tracing::error!(i, "failed");
        }
    });
    drop(guard);
    let text = std::fs::read_to_string(&path).expect("the log file");
    assert_eq!(
        text.lines().count(),
        100,
        "every line written by the guard's drop"
    );
    assert_eq!(counter.events(), 100);
}

#[test]
fn the_finished_subscriber_takes_more_layers() {
    if rust_log_is_set() {
        return;
    }
    let counter = Counter::default();
    let warnings = Counter::default();
    let out = Capture::default();
    let (subscriber, guard) = taskwire::builder()
        .default_filter("info")
        .json(out.clone())
        .finish()
        .expect("finish");
    let subscriber = subscriber
        .with(counter.clone())
        .with(warnings.clone().with_filter(LevelFilter::WARN));
    tracing::subscriber::with_default(subscriber, three_levels);
    guard.flush();
    assert_eq!(counter.events(), 3, "the builder's filter still applies");
    assert_eq!(warnings.events(), 2);
    assert_eq!(out.json_lines().len(), 3);
}
