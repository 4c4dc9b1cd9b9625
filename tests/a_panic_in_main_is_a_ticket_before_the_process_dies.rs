//! A panic in `main` ends the process; the panic hook flushes the tickets first. A real
//! program (`examples/panic_in_main.rs`) panics in `main`, unwinding, or aborting right after
//! taskwire's hook (as `panic = "abort"` does, so that no guard or exit handler flushes); then
//! its SQLite tickets database holds the panic's ticket at the panic's location.
#![cfg(feature = "tickets")]

mod support;

use std::process::Command;

use taskwire::tickets::store::ListQuery;
use taskwire::tickets::{Sqlite, TicketReader};
use taskwire_test_support::TempDir;

fn ticket_after(mode: &str) -> (std::process::Output, taskwire::tickets::store::Ticket) {
    let dir = TempDir::new(&format!("panic-in-main-{mode}"));
    let db = dir.path().join("tickets.db");
    let out = Command::new(support::example_binary("panic_in_main"))
        .arg(&db)
        .arg(mode)
        .env_remove("RUST_LOG")
        .output()
        .expect("the example starts");
    assert!(!out.status.success(), "{mode}: the program panicked");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the configuration file is missing"),
        "the default hook still prints the panic: {stderr}"
    );
    let mut tickets = Sqlite::open(&db)
        .expect("the database")
        .list(&ListQuery::default())
        .expect("the tickets");
    assert_eq!(tickets.len(), 1, "{mode}: {tickets:?} (stderr: {stderr})");
    (out, tickets.remove(0))
}

fn assert_at_the_panic(ticket: &taskwire::tickets::store::Ticket) {
    assert_eq!(ticket.seed.target, "panic");
    assert_eq!(
        ticket.seed.file.as_deref(),
        Some("examples/panic_in_main.rs")
    );
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/panic_in_main.rs"),
    )
    .expect("the example's source");
    let line = source
        .lines()
        .position(|l| l.contains("config.expect("))
        .expect("the panicking line") as u32
        + 1;
    assert_eq!(ticket.seed.line, Some(line));
    assert_eq!(ticket.count, 1);
    assert!(
        ticket
            .title
            .starts_with("the configuration file is missing"),
        "{}",
        ticket.title
    );
}

#[test]
fn a_panic_in_main_that_unwinds_is_a_ticket() {
    let (out, ticket) = ticket_after("unwind");
    assert_eq!(out.status.code(), Some(101));
    assert_at_the_panic(&ticket);
}

#[test]
fn a_panic_in_main_that_aborts_is_a_ticket_flushed_by_the_hook() {
    let (out, ticket) = ticket_after("abort");
    assert_eq!(out.status.code(), None, "killed by SIGABRT");
    assert_at_the_panic(&ticket);
}
