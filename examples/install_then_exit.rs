//! Installs taskwire with a JSON file output (and, with the `tickets` feature, a tickets
//! database next to it), logs, and returns from `main`, dropping the guard at once
//! (`let _ = …`) or keeping it to the end (`let _guard = …`). Either way every line is in the
//! file and the error is a ticket when the process has exited: after `install()` the outputs
//! live as long as the process, and the end of `main` flushes them.
//!
//! ```text
//! cargo run --example install_then_exit -- FILE let_underscore|let_guard LINES
//! ```
//!
//! `tests/output_flows_when_the_guard_is_dropped_early.rs` runs it.

fn main() -> Result<(), taskwire::InstallError> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .unwrap_or_else(|| "target/install_then_exit.jsonl".to_owned());
    let mode = args.next().unwrap_or_default();
    let lines: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    #[cfg(feature = "tickets")]
    let tickets = format!("{file}.tickets.db");
    let builder = taskwire::builder()
        .service("install-then-exit")
        .json_file(file);
    #[cfg(feature = "tickets")]
    let builder = builder.tickets_db(tickets);
    let _kept = if mode == "let_underscore" {
        let _ = builder.install()?;
        None
    } else {
        let _guard = builder.install()?;
        Some(_guard)
    };
    for i in 0..lines {
        tracing::info!(i, "line");
    }
    tracing::error!("last line");
    Ok(())
}
