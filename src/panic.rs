//! [`panic_hook()`]: every panic becomes an ERROR event, and so a failed task and a ticket.

use std::backtrace::Backtrace;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};

use taskwire_core::panic::{self as report, Location};

/// Whether the hook is installed (once per process).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs taskwire's panic hook, chained to the hook installed before it (Rust's default
/// hook prints the panic message as before). Returns `false` when it was installed already: a
/// second call adds nothing. [`Builder::install`](crate::Builder::install) calls it unless
/// [`Builder::panic_hook(false)`](crate::Builder::panic_hook).
///
/// Every panic, in a handler, a tokio task, a thread or `main`, then becomes an ERROR event of
/// target `panic` inside the current span: its message is the panic's message, its field
/// `panic.location` is `file:line:column`, and a fingerprint of that location groups all
/// panics of one place into one ticket, whatever their messages. The event marks the current
/// task failed with the panic's message as the reason. A tickets layer stores the panic's
/// backtrace, captured in the hook and resolved on its writer thread, with the ticket's sample
/// (`taskwire_core::panic`).
///
/// When the panic ends the process, because it aborts (`panic = "abort"`) or because it
/// happened on the main thread, the hook flushes the installed outputs (tickets, JSON files,
/// OTLP export) before it returns, as dropping the [`Guard`](crate::Guard) does.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// taskwire::panic_hook();
/// let (layer, guard) = taskwire::tickets::layer(taskwire::tickets::Sqlite::open_in_memory()?)
///     .build();
/// let subscriber = tracing_subscriber::registry()
///     .with(taskwire::tasks::layer())
///     .with(layer);
/// let stats = guard.stats();
/// tracing::subscriber::with_default(subscriber, || {
///     let _ = std::panic::catch_unwind(|| {
///         let _task = tracing::info_span!("checkout").entered();
///         panic!("card reader on fire");
///     });
/// });
/// guard.flush()?;
/// assert_eq!(stats.events(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn panic_hook() -> bool {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return false;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        on_panic(info);
        previous(info);
    }));
    true
}

fn on_panic(info: &PanicHookInfo<'_>) {
    let message = taskwire_core::http::panic_message(info.payload());
    let location = info
        .location()
        .map_or_else(|| Location::new("<unknown>", 0, 0), Location::from);
    let fatal = cfg!(panic = "abort") || std::thread::current().name() == Some("main");
    report::report(location.clone(), Backtrace::force_capture(), || {
        let fingerprint = format!("panic at {location}");
        tracing::event!(
            target: "panic",
            tracing::Level::ERROR,
            { report::LOCATION_FIELD } = %location,
            fingerprint = %fingerprint,
            "{}",
            message
        );
    });
    if fatal {
        crate::builder::flush_installed();
    }
}
