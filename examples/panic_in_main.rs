//! Installs taskwire with a tickets database and panics in `main`, inside a task. With
//! `abort`, a hook installed after taskwire's aborts the process once taskwire's has run, as
//! `panic = "abort"` does: nothing else (no guard, no exit handler) flushes, so the ticket is
//! in the database only because the panic hook flushed it.
//!
//! ```text
//! cargo run --example panic_in_main -- TICKETS_DB unwind|abort
//! ```
//!
//! `tests/a_panic_in_main_is_a_ticket_before_the_process_dies.rs` runs it.

fn main() -> Result<(), taskwire::InstallError> {
    let mut args = std::env::args().skip(1);
    let db = args
        .next()
        .unwrap_or_else(|| "target/panic_in_main.tickets.db".to_owned());
    let abort = args.next().as_deref() == Some("abort");
    let _guard = taskwire::builder()
        .service("panic-in-main")
        .tasks(taskwire::tasks::layer())
        .tickets_db(db)
        .install()?;
    if abort {
        let taskwires = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            taskwires(info);
            std::process::abort();
        }));
    }
    let _task = tracing::info_span!("startup").entered();
    // Not set by the test that runs this program.
    let config = std::env::var("PANIC_IN_MAIN_CONFIG").ok();
    config.expect("the configuration file is missing");
    Ok(())
}
