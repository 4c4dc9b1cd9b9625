//! [`WriteErrors`]: the count of records a layer could not write, shared by every layer that
//! writes lines (JSON, console).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Counts records a layer failed to write. The first failure is also reported once on stderr;
/// a layer never panics on a failing writer. Clones share the count.
///
/// ```
/// use taskwire_core::write_errors::WriteErrors;
/// let errors = WriteErrors::new("my-layer");
/// let handle = errors.clone();
/// errors.record(&std::io::Error::other("disk full"));
/// assert_eq!(handle.count(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct WriteErrors {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    count: AtomicU64,
    reported: AtomicBool,
    /// The layer named in the stderr report.
    layer: &'static str,
}

impl Default for WriteErrors {
    fn default() -> Self {
        WriteErrors::new("taskwire")
    }
}

impl WriteErrors {
    /// A count at zero, for the layer named `layer` in the one stderr report.
    pub fn new(layer: &'static str) -> Self {
        WriteErrors {
            inner: Arc::new(Inner {
                count: AtomicU64::new(0),
                reported: AtomicBool::new(false),
                layer,
            }),
        }
    }

    /// How many records could not be written so far.
    pub fn count(&self) -> u64 {
        self.inner.count.load(Ordering::Relaxed)
    }

    /// Counts one record that could not be written; the first one is reported on stderr.
    pub fn record(&self, e: &io::Error) {
        self.inner.count.fetch_add(1, Ordering::Relaxed);
        if !self.inner.reported.swap(true, Ordering::Relaxed) {
            // Reported once: a broken writer must not flood stderr either.
            let _ = writeln!(
                io::stderr(),
                "{}: a record could not be written ({e}); further failures are counted",
                self.inner.layer
            );
        }
    }
}
