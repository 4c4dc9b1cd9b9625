//! The records the tasks layer writes when a task starts and ends: their target, names and
//! keys, so that every layer that writes records recognises them without depending on the
//! tasks crate.
//!
//! A task record is an event of a static call site inside taskwire-tasks, but it describes
//! the task's span: layers that write a source location take it from the span's own call site
//! (the `#[instrument]`ed function or the span macro), and the keys below are reserved, so a
//! user field of the same name never passes for one of them.
//!
//! ```
//! use taskwire_core::task_record;
//! assert!(task_record::is_reserved_key("task.outcome"));
//! // `task.name` names the task: users set it on spans, so it is not reserved.
//! assert!(!task_record::is_reserved_key("task.name"));
//! ```

use tracing_core::Metadata;

pub mod children;

/// The target of task records.
pub const TARGET: &str = "taskwire::tasks";

/// The name (and message) of the record written when a task closes.
pub const END: &str = "task.end";

/// The name (and message) of the record written when a task is first entered.
pub const START: &str = "task.start";

/// The keys the tasks layer writes on a task record, one constant each.
pub mod keys {
    /// The task span's target.
    pub const TARGET: &str = "task.target";
    /// `succeeded` or `failed`.
    pub const OUTCOME: &str = "task.outcome";
    /// Wall time from creation to close, µs.
    pub const DURATION_US: &str = "task.duration_us";
    /// Time spent entered, µs.
    pub const BUSY_US: &str = "task.busy_us";
    /// Error events raised inside the task.
    pub const ERRORS: &str = "task.errors";
    /// Child tasks that failed.
    pub const FAILED_CHILDREN: &str = "task.failed_children";
    /// Whether the parent came from another process (`traceparent`).
    pub const REMOTE_PARENT: &str = "task.remote_parent";
    /// The first failure reason.
    pub const FAILURE: &str = "task.failure";
    /// Descendant tasks without a record of their own, summarised in this one (written when
    /// not zero; see [`children`](super::children)).
    pub const CHILDREN: &str = "task.children";
    /// Those descendants by span name: count, total and longest duration (see
    /// [`children`](super::children) for the format).
    pub const CHILDREN_SUMMARY: &str = "task.children_summary";
}

/// The keys the tasks layer writes on a task record, besides `task.name` (which a span sets
/// itself to name its task). A user field with one of these names is written under the
/// collision prefix (`fields.task.outcome`), on task records and on every other record.
pub const RESERVED_KEYS: [&str; 10] = [
    keys::TARGET,
    keys::OUTCOME,
    keys::DURATION_US,
    keys::BUSY_US,
    keys::ERRORS,
    keys::FAILED_CHILDREN,
    keys::REMOTE_PARENT,
    keys::FAILURE,
    keys::CHILDREN,
    keys::CHILDREN_SUMMARY,
];

/// Whether `meta` is the call site of a task record (`task.start` or `task.end`): an event of
/// target [`TARGET`] named [`END`] or [`START`].
#[inline]
pub fn is_record(meta: &Metadata<'_>) -> bool {
    meta.is_event() && meta.target() == TARGET && matches!(meta.name(), END | START)
}

/// Whether `name` is one of the [`RESERVED_KEYS`].
#[inline]
pub fn is_reserved_key(name: &str) -> bool {
    name.starts_with("task.") && RESERVED_KEYS.contains(&name)
}
