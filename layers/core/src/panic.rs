//! A panic as an event: what a panic hook hands to the layers besides the event's fields, and
//! what it tells the code that catches the panic afterwards.
//!
//! A panic hook (`taskwire::panic_hook()`) turns a panic into an ERROR event of target
//! [`TARGET`] inside the current span. Around that event it calls [`report`], which keeps two
//! things on the panicking thread:
//!
//! - the panic's location and its backtrace, captured unresolved in the hook. A tickets layer
//!   reads them with [`current`] while it handles the event: it stores the location as the
//!   ticket's file and line and the backtrace with the sample, resolved on its writer thread
//!   ([`std::backtrace::Backtrace`] is `Send` and resolves symbols when it is first formatted).
//!   Other layers see only the event's fields (message, `panic.location`), so the JSON line
//!   costs no symbol resolution on the panicking thread;
//! - that the panic was reported: code that catches panics and reports them itself (the
//!   server middlewares, which answer `500`) asks [`take_reported`] after `catch_unwind`, so
//!   one panic is one error event, not two.
//!
//! ```
//! use std::backtrace::Backtrace;
//! use taskwire_core::panic;
//!
//! let location = panic::Location::new("src/pay.rs", 10, 5);
//! panic::report(location, Backtrace::disabled(), || {
//!     // the hook emits its event here; a layer reads the report meanwhile
//!     let report = panic::current().expect("inside the report");
//!     assert_eq!(report.location().to_string(), "src/pay.rs:10:5");
//! });
//! assert!(panic::current().is_none());
//! assert!(panic::take_reported());
//! assert!(!panic::take_reported());
//! ```

use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;

/// The target of the ERROR event a panic hook emits.
pub const TARGET: &str = "panic";

/// The event field holding the panic's location, `file:line:column`.
pub const LOCATION_FIELD: &str = "panic.location";

/// Where a panic happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    file: Arc<str>,
    line: u32,
    column: u32,
}

impl Location {
    /// A location in `file` at `line` and `column`.
    pub fn new(file: &str, line: u32, column: u32) -> Location {
        Location {
            file: Arc::from(file),
            line,
            column,
        }
    }

    /// The source file.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line, from 1.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The column, from 1.
    pub fn column(&self) -> u32 {
        self.column
    }
}

impl From<&std::panic::Location<'_>> for Location {
    fn from(l: &std::panic::Location<'_>) -> Self {
        Location::new(l.file(), l.line(), l.column())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The panic being reported on this thread: its location and backtrace.
#[derive(Clone, Debug)]
pub struct Report {
    location: Location,
    backtrace: Arc<Backtrace>,
}

impl Report {
    /// Where the panic happened.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The backtrace captured by the hook, unresolved until it is first formatted.
    pub fn backtrace(&self) -> &Arc<Backtrace> {
        &self.backtrace
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Report>> = const { RefCell::new(None) };
    static REPORTED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `emit` (which emits the panic's ERROR event) with the panic's location and backtrace
/// readable through [`current`], then marks the panic reported for [`take_reported`].
pub fn report(location: Location, backtrace: Backtrace, emit: impl FnOnce()) {
    let report = Report {
        location,
        backtrace: Arc::new(backtrace),
    };
    let before = CURRENT
        .try_with(|c| c.borrow_mut().replace(report))
        .ok()
        .flatten();
    emit();
    let _ = CURRENT.try_with(|c| *c.borrow_mut() = before);
    let _ = REPORTED.try_with(|r| r.set(true));
}

/// The panic being reported on this thread, while its event is dispatched; `None` otherwise.
pub fn current() -> Option<Report> {
    CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|r| r.clone()))
        .ok()
        .flatten()
}

/// Whether a panic was reported on this thread since the last call, and forgets it. Call it
/// after catching a panic (`catch_unwind`): `true` means a panic hook already emitted its error
/// event.
pub fn take_reported() -> bool {
    REPORTED.try_with(|r| r.replace(false)).unwrap_or(false)
}
