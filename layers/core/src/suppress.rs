//! Telemetry about telemetry is suppressed: a thread that does a layer's background I/O (a
//! ticket store's writer, an exporter) marks itself, and every taskwire layer ignores the events
//! raised on it, so a database driver's own logs never loop back into tickets or logs.
//!
//! ```
//! use taskwire_core::suppress;
//!
//! assert!(!suppress::is_suppressed());
//! std::thread::spawn(|| {
//!     suppress::suppress_current_thread();
//!     assert!(suppress::is_suppressed());
//! })
//! .join()
//! .unwrap();
//! assert_eq!(suppress::suppressed(suppress::is_suppressed), true);
//! assert!(!suppress::is_suppressed());
//! ```

use std::cell::Cell;

thread_local! {
    static SUPPRESSED: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread, for the rest of its life, as one whose events taskwire ignores.
/// Call it first thing on a layer's background worker thread.
pub fn suppress_current_thread() {
    let _ = SUPPRESSED.try_with(|s| s.set(true));
}

/// Runs `f` with the current thread suppressed, then restores the previous state.
pub fn suppressed<R>(f: impl FnOnce() -> R) -> R {
    let before = SUPPRESSED.try_with(|s| s.replace(true)).unwrap_or(false);
    let out = f();
    let _ = SUPPRESSED.try_with(|s| s.set(before));
    out
}

/// Whether events on the current thread are to be ignored by taskwire layers.
#[inline]
pub fn is_suppressed() -> bool {
    SUPPRESSED.try_with(Cell::get).unwrap_or(false)
}
