//! The taskwire layer stacks the integrations' tests run under, written once: the tests of
//! tower, actix and reqwest differ in the server they start, not in the layers they read.
//! Not published; a dev-dependency only.
//!
//! | function | stack |
//! |---|---|
//! | [`tasks_with`] | registry + `taskwire_tasks::layer()` + the test's own layer (metrics with labels, tickets into a database) |
//! | [`tasks_and_json`] | registry + `taskwire_tasks::layer()` + `taskwire_json::layer()` writing into a [`Capture`] |
//! | [`tasks_and_metrics`] | registry + `taskwire_tasks::layer()` + `taskwire_metrics::layer()`, set as the thread's default |
//!
//! ```
//! use taskwire_test_support::Capture;
//!
//! let out = Capture::default();
//! tracing::subscriber::with_default(taskwire_test_stack::tasks_and_json(&out), || {
//!     let _request = tracing::info_span!("request").entered();
//!     tracing::info!("hello");
//! });
//! assert_eq!(out.task_ends().len(), 1);
//! ```

use taskwire_metrics::MetricsHandle;
use taskwire_tasks::TasksLayer;
use taskwire_test_support::Capture;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::layer::Layered;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{Layer, Registry};

/// The registry with the tasks layer: what every stack here starts from.
pub type Tasks = Layered<TasksLayer, Registry>;

/// registry + `taskwire_tasks::layer()` + `layer`.
///
/// ```
/// let metrics = taskwire_metrics::layer().with_label_fields(["http.route"]);
/// let handle = metrics.handle();
/// let dispatch = tracing::Dispatch::new(taskwire_test_stack::tasks_with(metrics));
/// tracing::dispatcher::with_default(&dispatch, || {
///     tracing::info_span!("request", http.route = "/users/{id}").in_scope(|| {});
/// });
/// assert_eq!(handle.snapshot().tasks.len(), 1);
/// ```
pub fn tasks_with<L: Layer<Tasks>>(layer: L) -> Layered<L, Tasks> {
    tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(layer)
}

/// registry + `taskwire_tasks::layer()` + `taskwire_json::layer()` writing into `out`.
pub fn tasks_and_json(out: &Capture) -> impl tracing::Subscriber + Send + Sync {
    tasks_with(taskwire_json::layer().with_writer(out.clone()))
}

/// registry + `taskwire_tasks::layer()` + `taskwire_metrics::layer()`, made the thread's default
/// until the guard drops; the handle reads the metrics layer's snapshot.
///
/// ```
/// let (metrics, _default) = taskwire_test_stack::tasks_and_metrics();
/// tracing::info_span!("request").in_scope(|| {});
/// assert_eq!(metrics.snapshot().tasks.len(), 1);
/// ```
#[must_use = "the stack is the default only until the guard drops"]
pub fn tasks_and_metrics() -> (MetricsHandle, DefaultGuard) {
    let layer = taskwire_metrics::layer();
    let handle = layer.handle();
    (handle, tracing::subscriber::set_default(tasks_with(layer)))
}
