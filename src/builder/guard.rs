//! [`Guard`]: the handle on the builder's background work (file writers, ticket writers, OTLP
//! export), and what keeps that work alive.
//!
//! After [`install`](super::Builder::install) the background work belongs to the process: the
//! global subscriber lives until the process exits, so its outputs do too. Dropping the guard
//! flushes them (and reports failed writes) but does not stop them, which makes
//! `let _ = taskwire::builder()….install()?;` harmless: output keeps flowing. The thread that
//! installed also flushes once more as it exits. When that thread is the main thread, its exit
//! is the process's (`main` returned, on a platform that runs the main thread's thread-local
//! destructors at exit, as Linux with glibc does): the outputs are then shut down as a dropped
//! `build()` guard shuts them down, with the tickets writer's final flush (retried until its
//! shutdown timeout, then spooled) and the OTLP export's stop (spans still queued are counted).
//!
//! After [`build`](super::Builder::build) the guard owns the background work: dropping it
//! flushes and stops it, so tests do not leak threads.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, OnceLock};
#[cfg(any(feature = "otel", feature = "tickets"))]
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use taskwire_json::WriteErrors;

use super::file::FileWorker;
use super::sinks::SinkErrors;

/// How long a flush waits for each background writer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The background work of the installed subscriber, kept for the life of the process.
static INSTALLED: OnceLock<Arc<Background>> = OnceLock::new();

thread_local! {
    /// Flushes the installed subscriber's outputs when the installing thread exits.
    static FLUSH_AT_EXIT: std::cell::OnceCell<FlushAtExit> = const { std::cell::OnceCell::new() };
}

struct FlushAtExit {
    background: Arc<Background>,
    /// The installing thread is the main thread: its exit is the process's.
    main: bool,
}

impl Drop for FlushAtExit {
    fn drop(&mut self) {
        if self.main {
            self.background.shutdown();
        } else {
            self.background.flush();
        }
    }
}

/// What a builder started, and the error counters of its outputs.
#[derive(Default)]
pub(super) struct Background {
    pub(super) files: Vec<FileWorker>,
    pub(super) write_errors: Vec<WriteErrors>,
    pub(super) sink_errors: Vec<Arc<SinkErrors>>,
    /// In a mutex so that the process's exit can take them out and shut them down.
    #[cfg(feature = "tickets")]
    pub(super) tickets: Mutex<Vec<taskwire_tickets::TicketsGuard>>,
    /// In a mutex because an `OtelGuard` is not `Sync`.
    #[cfg(feature = "otel")]
    pub(super) otel: Mutex<Vec<taskwire_otel::OtelGuard>>,
    /// The Prometheus endpoint and upkeep, stopped when dropped.
    #[cfg(feature = "prometheus")]
    pub(super) prometheus: Option<super::prometheus::Exporter>,
}

impl Background {
    /// Waits until what was recorded so far is written (files, tickets, OTLP export).
    fn flush(&self) {
        #[cfg(feature = "tickets")]
        for t in self
            .tickets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            if let Err(e) = t.flush() {
                let _ = writeln!(std::io::stderr(), "taskwire: {e}");
            }
        }
        #[cfg(feature = "otel")]
        for o in self
            .otel
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            o.flush_within(FLUSH_TIMEOUT);
        }
        for f in &self.files {
            f.flush(FLUSH_TIMEOUT);
        }
    }

    fn write_errors(&self) -> u64 {
        self.write_errors
            .iter()
            .map(WriteErrors::count)
            .sum::<u64>()
            + self.sink_errors.iter().map(|e| e.count()).sum::<u64>()
            + self.files.iter().map(FileWorker::errors).sum::<u64>()
    }

    fn report(&self) {
        let failed = self.write_errors();
        if failed > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "taskwire: {failed} record(s) could not be written"
            );
        }
    }
}

impl Background {
    /// Stops the background work: ticket stores first (their writers may still log; each
    /// guard's drop is the writer's final flush, retried until its shutdown timeout and then
    /// spooled), then the OTLP export (its stop counts what it could not send), then the file
    /// writers (each flushed, then its thread stopped). Events after this are not written.
    fn shutdown(&self) {
        #[cfg(feature = "tickets")]
        drop(std::mem::take(
            &mut *self.tickets.lock().unwrap_or_else(PoisonError::into_inner),
        ));
        #[cfg(feature = "otel")]
        drop(std::mem::take(
            &mut *self.otel.lock().unwrap_or_else(PoisonError::into_inner),
        ));
        for f in &self.files {
            f.stop(FLUSH_TIMEOUT);
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Keeps taskwire's background writers (JSON files, tickets, OTLP export) flushed. Returned by
/// [`Builder::install`](super::Builder::install) and [`Builder::build`](super::Builder::build).
///
/// After `install()`, the outputs live as long as the process: dropping the guard flushes
/// them, and they keep working afterwards, so `let _ = ….install()?` loses nothing but the
/// flush. Keep it (`let _guard = …`) in `main` so that everything is flushed when `main`
/// returns. After `build()`, dropping the guard flushes and stops the outputs.
///
/// ```
/// # fn main() -> Result<(), taskwire::InstallError> {
/// let (dispatch, guard) = taskwire::builder().json(std::io::stdout).build()?;
/// tracing::dispatcher::with_default(&dispatch, || tracing::info!("hello"));
/// guard.flush();
/// assert_eq!(guard.write_errors(), 0);
/// # Ok(()) }
/// ```
#[must_use = "dropping the guard flushes taskwire's background writers (and, after `build()`, stops them)"]
pub struct Guard {
    background: Arc<Background>,
    installed: bool,
}

impl Guard {
    /// The guard of a subscriber returned by `build()`: it owns the background work.
    pub(super) fn owning(background: Background) -> Guard {
        Guard {
            background: Arc::new(background),
            installed: false,
        }
    }

    /// Hands the background work to the process (the subscriber was installed globally).
    pub(super) fn install(mut self) -> Guard {
        self.installed = true;
        let background = Arc::clone(&self.background);
        let _ = INSTALLED.set(Arc::clone(&background));
        // Rust names the main thread `main`; a thread spawned without a name has none.
        let main = std::thread::current().name() == Some("main");
        let _ = FLUSH_AT_EXIT.try_with(|f| f.set(FlushAtExit { background, main }));
        self
    }

    /// Waits until everything recorded so far is written: JSON files, tickets, OTLP export
    /// (each for at most 10 seconds). The outputs keep working.
    pub fn flush(&self) {
        self.background.flush();
    }

    /// Waits until every ticket recorded so far is committed to its store.
    #[cfg(feature = "tickets")]
    pub fn flush_tickets(&self) -> Result<(), taskwire_tickets::FlushError> {
        self.background
            .tickets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .try_for_each(|t| t.flush())
    }

    /// The OTLP export's counts so far (spans exported, dropped, failed), one per export.
    #[cfg(feature = "otel")]
    pub fn otel_stats(&self) -> Vec<taskwire_otel::ExportStats> {
        self.background
            .otel
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(taskwire_otel::OtelGuard::stats)
            .collect()
    }

    /// Records that could not be written so far, over every JSON output (a record lost by
    /// two outputs counts twice).
    pub fn write_errors(&self) -> u64 {
        self.background.write_errors()
    }

    /// What the builder started, for the other modules' accessors.
    #[cfg(feature = "prometheus")]
    pub(super) fn background(&self) -> &Background {
        &self.background
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("background_writers", &self.background.files.len())
            .field("installed", &self.installed)
            .field("write_errors", &self.write_errors())
            .finish()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // After `build()` this is the last owner: dropping `background` next stops it.
        self.background.flush();
        self.background.report();
    }
}
