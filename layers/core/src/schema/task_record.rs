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

/// The target of task records.
pub const TARGET: &str = "taskwire::tasks";

/// The name (and message) of the record written when a task closes.
pub const END: &str = "task.end";

/// The name (and message) of the record written when a task is first entered.
pub const START: &str = "task.start";

/// The key of a task record's outcome (`succeeded`, `failed`, …).
pub const OUTCOME_KEY: &str = "task.outcome";

/// The key of a task record's duration, in µs.
pub const DURATION_US_KEY: &str = "task.duration_us";

/// The keys the tasks layer writes on a task record, besides `task.name` (which a span sets
/// itself to name its task). A user field with one of these names is written under the
/// collision prefix (`fields.task.outcome`), on task records and on every other record.
pub const RESERVED_KEYS: [&str; 8] = [
    "task.target",
    "task.outcome",
    "task.duration_us",
    "task.busy_us",
    "task.errors",
    "task.failed_children",
    "task.remote_parent",
    "task.failure",
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
