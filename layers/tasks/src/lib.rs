//! Spans as hierarchical tasks: W3C trace-context ids, outcomes, sampling, and a tree that
//! continues across processes.
//!
//! Every span is a task. A root span starts a new trace; children inherit its trace id; each
//! task has its own span id and its parent's. When a task closes, the layer emits a `task.end`
//! record with its name, ids, wall and busy time, outcome (succeeded or failed), error count,
//! failed-children count and fields. A task exports its id as a `traceparent`, and another
//! process imports it so the tree continues there.
//!
//! Which tasks write `task.end` is a policy ([`TaskRecords`]). By default
//! ([`TaskRecords::Significant`]): roots, tasks that cross a process boundary (a remote parent,
//! or a context sent to another process), failed tasks, tasks slower than 100 ms
//! ([`TasksLayer::with_slow_threshold`]), and the ancestors of these, so every record's parent
//! has a record. The other tasks — the quick helpers that make most of a log's lines — are
//! counted in their nearest written ancestor's record: `task.children` and, per span name,
//! `task.children_summary` (count, total and longest duration). [`TasksLayer::all_tasks`]
//! writes every task. `docs/tasks.md` explains the policy and what it saves.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(taskwire_tasks::layer())
//!     .with(taskwire_json::layer().with_writer(std::io::sink));
//! tracing::subscriber::with_default(subscriber, || {
//!     // process A: export
//!     let header = {
//!         let _task = tracing::info_span!("checkout").entered();
//!         taskwire_tasks::current().unwrap().traceparent()
//!     };
//!     // process B: import; the new task's parent is A's task
//!     let span = taskwire_tasks::import(&header, tracing::info_span!("charge"));
//!     let _charge = span.enter();
//!     assert_eq!(
//!         taskwire_tasks::current().unwrap().trace_id().to_string(),
//!         header[3..35]
//!     );
//! });
//! ```
//!
//! An in-app dashboard (`taskwire_web::Dashboard::with_recent`) reads the tasks that ended last
//! from a bounded in-memory ring, [`RecentTasks`], which the layer fills only when given one
//! ([`TasksLayer::with_recent`]).
//!
//! | feature | enables |
//! |---|---|
//! | `tokio` | [`spawn`] and [`spawn_blocking`], which carry the current task into tokio tasks |
//!
//! The wire format, headers, sampling and carrying a task through a queue are explained in
//! `docs/propagation.md`.
#![forbid(unsafe_code)]

mod context;
mod layer;
mod recent;
mod records;
mod sampler;
mod spawn;

pub use context::{
    current, current_ids, fail, import, import_from, inject_current, SpanExt, TaskContext,
};
pub use layer::{TaskRecords, TasksLayer, DEFAULT_SLOW_THRESHOLD, TARGET};
pub use recent::{RecentTask, RecentTasks};
pub use sampler::Sampler;
pub use spawn::spawn_thread;
#[cfg(feature = "tokio")]
pub use spawn::{spawn, spawn_blocking};
pub use taskwire_core::propagation::{Extractor, Injector};

/// A tasks layer with the defaults: every trace sampled, the [`TaskRecords::Significant`]
/// record policy (roots, process hops, failed and slow tasks; the rest summarised), no
/// `task.start` records.
pub fn layer() -> TasksLayer {
    TasksLayer::default()
}
