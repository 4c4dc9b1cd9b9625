//! The record schema: the names every taskwire layer writes and the `taskwire` command line
//! reads. Targets, keys and levels are defined here once; everyone else imports them.
//!
//! - [`task_record`]: the target, names and reserved keys of the tasks layer's records.
//! - [`header`]: the keys of a JSON record's built-in entries (`ts`, `level`, `msg`, …).
//! - [`TASK_NAME`], [`OTEL_NAME`], [`OUTCOME`]: the span fields that steer taskwire.
//! - [`LEVELS`], [`level_index`]: the five levels and the index of per-level counters.
//!
//! ```
//! use taskwire_core::schema::{self, task_record};
//! assert_eq!(task_record::TARGET, "taskwire::tasks");
//! assert_eq!(schema::NAME_KEYS, ["task.name", "otel.name"]);
//! assert_eq!(schema::LEVELS[schema::level_index(&tracing_core::Level::WARN)], tracing_core::Level::WARN);
//! ```

use tracing_core::Level;

pub mod task_record;

/// The span field that names a task at run time (span names are static; a request task is
/// named after its route once it is known). Not reserved: users set it.
pub const TASK_NAME: &str = "task.name";

/// OpenTelemetry's span-name field, read as a task's name when [`TASK_NAME`] is not set.
pub const OTEL_NAME: &str = "otel.name";

/// The fields that name a task, in order of precedence.
pub const NAME_KEYS: [&str; 2] = [TASK_NAME, OTEL_NAME];

/// The span field that records a task's outcome from the code (`span.record("outcome", …)`).
pub const OUTCOME: &str = "outcome";

/// OpenTelemetry's span-kind field (`server`, `client`, …).
pub const OTEL_KIND: &str = "otel.kind";

/// OpenTelemetry's status-code field (`ok`, `error`).
pub const OTEL_STATUS_CODE: &str = "otel.status_code";

/// OpenTelemetry's status-message field.
pub const OTEL_STATUS_MESSAGE: &str = "otel.status_message";

/// The field `tracing`'s macros give an event's message.
pub const MESSAGE: &str = "message";

/// The keys of a JSON record's built-in entries, as the JSON layer writes them unless renamed
/// and as `taskwire tree` reads them.
pub mod header {
    /// RFC 3339 UTC timestamp with microseconds.
    pub const TIMESTAMP: &str = "ts";
    /// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub const LEVEL: &str = "level";
    /// The event's target.
    pub const TARGET: &str = "target";
    /// The event's message.
    pub const MESSAGE: &str = "msg";
    /// 32 lowercase hex digits.
    pub const TRACE_ID: &str = "trace_id";
    /// 16 lowercase hex digits of the innermost span.
    pub const SPAN_ID: &str = "span_id";
    /// The innermost span's parent.
    pub const PARENT_SPAN_ID: &str = "parent_span_id";
    /// The list of enclosing spans (span-list mode).
    pub const SPANS: &str = "spans";
    /// Source file of the call site.
    pub const FILE: &str = "file";
    /// Source line of the call site.
    pub const LINE: &str = "line";
    /// Module path of the call site.
    pub const MODULE: &str = "module";
    /// The thread's name.
    pub const THREAD: &str = "thread";
    /// The process id.
    pub const PID: &str = "pid";
    /// The host name.
    pub const HOST: &str = "host";
    /// The service name.
    pub const SERVICE: &str = "service";
    /// The release (version).
    pub const RELEASE: &str = "release";

    /// Every key above: a record's own fields are the keys not in this list.
    pub const ALL: [&str; 16] = [
        TIMESTAMP,
        LEVEL,
        TARGET,
        MESSAGE,
        TRACE_ID,
        SPAN_ID,
        PARENT_SPAN_ID,
        SPANS,
        FILE,
        LINE,
        MODULE,
        THREAD,
        PID,
        HOST,
        SERVICE,
        RELEASE,
    ];
}

/// The key of an error's JSON line that holds the fingerprint of the ticket it was counted in
/// (16 hex digits; see [`event_ticket`](crate::event_ticket)): what links a log line to its
/// ticket.
pub const TICKET_FINGERPRINT: &str = "ticket.fingerprint";

/// The five levels, most severe first: [`level_index`] of each is its position.
pub const LEVELS: [Level; 5] = [
    Level::ERROR,
    Level::WARN,
    Level::INFO,
    Level::DEBUG,
    Level::TRACE,
];

/// The position of `level` in [`LEVELS`]: the index of per-level counters and tables.
#[inline]
pub fn level_index(level: &Level) -> usize {
    match *level {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_index_is_the_position_in_levels() {
        for (i, l) in LEVELS.iter().enumerate() {
            assert_eq!(level_index(l), i, "{l}");
        }
    }

    #[test]
    fn name_keys_are_not_reserved_task_record_keys() {
        for k in NAME_KEYS {
            assert!(!task_record::is_reserved_key(k));
        }
    }
}
