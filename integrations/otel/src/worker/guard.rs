//! The guard that flushes and stops the export thread, and the error of a flush that did not
//! finish in time.

use std::fmt;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::queue::Shared;
use super::stats::ExportStats;

/// Flushes and stops the export thread when dropped: everything queued is exported (within the
/// shutdown timeout) and a summary is printed to stderr if anything was lost. Keep it alive as
/// long as the subscriber, typically in `main`:
///
/// ```no_run
/// # fn main() -> Result<(), taskwire_otel::InitError> {
/// let (otel, _guard) = taskwire_otel::layer().build()?;
/// # drop(otel);
/// # Ok(())
/// # }
/// ```
///
/// Dropping it early (binding it to `_`) stops the export at once: later spans are dropped.
#[must_use = "dropping the guard stops the export; keep it alive as long as the subscriber"]
pub struct OtelGuard {
    pub(crate) shared: Arc<Shared>,
    pub(crate) done: Option<mpsc::Receiver<()>>,
    pub(crate) shutdown_timeout: Duration,
    #[cfg(feature = "metrics")]
    pub(crate) meter_provider: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl fmt::Debug for OtelGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelGuard")
            .field("stats", &self.shared.stats())
            .finish_non_exhaustive()
    }
}

impl OtelGuard {
    /// Exports everything queued so far, waiting at most the shutdown timeout
    /// ([`OtelBuilder::with_shutdown_timeout`](crate::OtelBuilder::with_shutdown_timeout), 5 s
    /// by default). A failed export still counts as done (see [`OtelGuard::stats`]).
    pub fn flush(&self) -> Result<(), FlushError> {
        if self.flush_within(self.shutdown_timeout) {
            Ok(())
        } else {
            Err(FlushError {
                waited: self.shutdown_timeout,
            })
        }
    }

    /// Like [`OtelGuard::flush`], waiting at most `timeout`. Returns whether it was done in
    /// time.
    pub fn flush_within(&self, timeout: Duration) -> bool {
        #[cfg(feature = "metrics")]
        if let Some(p) = &self.meter_provider {
            if let Err(e) = p.force_flush() {
                eprintln!("taskwire-otel: exporting metrics failed: {e}");
            }
        }
        self.shared.flush(timeout)
    }

    /// What was exported and dropped so far.
    pub fn stats(&self) -> ExportStats {
        self.shared.stats()
    }

    /// Flushes and stops the export thread, waiting at most the shutdown timeout; returns the
    /// final counts. Dropping the guard does the same.
    pub fn shutdown(mut self) -> ExportStats {
        self.stop();
        self.shared.stats()
    }

    fn stop(&mut self) {
        #[cfg(feature = "metrics")]
        if let Some(p) = self.meter_provider.take() {
            // Exports once more, then stops the reader's thread.
            let _ = p.shutdown_with_timeout(self.shutdown_timeout);
        }
        let Some(done) = self.done.take() else { return };
        self.shared.request_shutdown();
        if done.recv_timeout(self.shutdown_timeout).is_err() {
            let (spans, logs) = self.shared.abandon();
            eprintln!(
                "taskwire-otel: the export did not finish within {:?}; {spans} spans and {logs} log records still queued or being exported are lost",
                self.shutdown_timeout
            );
        }
        let stats = self.shared.stats();
        if stats.spans_dropped() + stats.logs_dropped() > 0 {
            eprintln!("taskwire-otel: at shutdown: {stats}");
        }
    }
}

/// Why [`OtelGuard::flush`] did not finish: the export took longer than the shutdown timeout
/// (a slow or unreachable collector). What is queued stays queued.
#[derive(Debug)]
pub struct FlushError {
    waited: Duration,
}

impl FlushError {
    /// How long the flush waited.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot flush the OTLP export: not done within {:?}",
            self.waited
        )
    }
}

impl std::error::Error for FlushError {}

impl Drop for OtelGuard {
    fn drop(&mut self) {
        self.stop();
    }
}
