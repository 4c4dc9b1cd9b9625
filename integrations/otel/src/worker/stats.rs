//! What the export did so far, as the guard reports it.

use std::fmt;

/// What the exporter did so far: spans and log records exported, dropped because the queue
/// was full (the export thread fell behind, or the collector is slow), dropped because their
/// export failed (the collector was down or refused them), and lost at shutdown (still queued,
/// or in an export that had not finished, when the shutdown timeout ran out). Every span the
/// layer took is in exactly one of these counts once the guard has stopped.
///
/// ```
/// let stats = taskwire_otel::ExportStats::default();
/// assert_eq!(stats.spans_dropped(), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Spans the collector accepted.
    pub spans_exported: u64,
    /// Spans dropped because the queue was full.
    pub spans_dropped_queue_full: u64,
    /// Spans dropped because their export failed.
    pub spans_failed: u64,
    /// Spans still queued or being exported when the shutdown timeout ran out.
    pub spans_lost_at_shutdown: u64,
    /// Log records the collector accepted.
    pub logs_exported: u64,
    /// Log records dropped because the queue was full.
    pub logs_dropped_queue_full: u64,
    /// Log records dropped because their export failed.
    pub logs_failed: u64,
    /// Log records still queued or being exported when the shutdown timeout ran out.
    pub logs_lost_at_shutdown: u64,
    /// Failed export calls.
    pub export_errors: u64,
    /// The last export error, if any.
    pub last_error: Option<String>,
}

impl ExportStats {
    /// Spans lost, whatever the reason.
    pub fn spans_dropped(&self) -> u64 {
        self.spans_dropped_queue_full + self.spans_failed + self.spans_lost_at_shutdown
    }

    /// Log records lost, whatever the reason.
    pub fn logs_dropped(&self) -> u64 {
        self.logs_dropped_queue_full + self.logs_failed + self.logs_lost_at_shutdown
    }
}

impl fmt::Display for ExportStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "spans: {} exported, {} dropped (queue full {}, export failed {}, lost at shutdown {}); log records: {} exported, {} dropped (queue full {}, export failed {}, lost at shutdown {}); {} failed exports",
            self.spans_exported,
            self.spans_dropped(),
            self.spans_dropped_queue_full,
            self.spans_failed,
            self.spans_lost_at_shutdown,
            self.logs_exported,
            self.logs_dropped(),
            self.logs_dropped_queue_full,
            self.logs_failed,
            self.logs_lost_at_shutdown,
            self.export_errors
        )
    }
}
