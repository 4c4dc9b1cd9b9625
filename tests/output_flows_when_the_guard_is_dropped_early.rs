//! `let _ = taskwire::builder()….install()?;` drops the guard at once. That must not lose
//! output: after `install()` the outputs live until the process exits, dropping the guard only
//! flushes them. Each case runs in its own child process (a global subscriber per process),
//! which logs and returns; the parent then reads the file and the tickets database. The same
//! cases also run as a real program (`examples/install_then_exit.rs`), whose `main` returns
//! and whose process exits right after logging.

#![cfg(feature = "tickets")]

mod support;

use taskwire_test_support::json_line;
use taskwire_test_support::process;
use taskwire_test_support::TempDir;

use std::path::Path;

use taskwire::tickets::store::ListQuery;
use taskwire::tickets::TicketReader;

const LINES: usize = 500;

/// What a child writes: `LINES` info lines and one error, after `install` returned `guard`.
fn log_after_install(guard_dropped_at_once: bool) {
    let dir = std::env::var("TASKWIRE_TEST_DIR").expect("the parent sets the folder");
    let dir = Path::new(&dir);
    let builder = taskwire::builder()
        .service("early")
        .json_file(dir.join("app.jsonl"))
        .tickets_db(dir.join("tickets.db"));
    let kept = if guard_dropped_at_once {
        let _ = builder.install().expect("install");
        None
    } else {
        let guard = builder.install().expect("install");
        Some(guard)
    };
    for i in 0..LINES {
        tracing::info!(i, "after install");
    }
    tracing::error!("a ticket after install");
    drop(kept);
}

#[test]
#[ignore = "a child process of `let_underscore_keeps_output_flowing`"]
fn child_let_underscore() {
    if process::is_child("child_let_underscore") {
        log_after_install(true);
    }
}

#[test]
#[ignore = "a child process of `let_guard_flushes_everything_when_dropped`"]
fn child_let_guard() {
    if process::is_child("child_let_guard") {
        log_after_install(false);
    }
}

fn check(child: &str) {
    let dir = TempDir::new("guard-dropped-early");
    let shown = dir.path().display().to_string();
    let out = process::run_child(child, &[("TASKWIRE_TEST_DIR", &shown)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log = std::fs::read_to_string(dir.path().join("app.jsonl")).expect("the log file");
    let records: Vec<_> = json_line::split_lines(&log)
        .iter()
        .map(|l| json_line::parse_line(l))
        .collect();
    let infos = records
        .iter()
        .filter(|r| r["msg"] == "after install")
        .count();
    assert_eq!(infos, LINES, "lines lost (stderr: {stderr})");
    assert!(records.iter().any(|r| r["msg"] == "a ticket after install"));
    let store = taskwire::tickets::Sqlite::open(dir.path().join("tickets.db")).expect("db");
    let tickets = store.list(&ListQuery::default()).expect("list");
    assert_eq!(tickets.len(), 1, "the ticket was lost (stderr: {stderr})");
    assert_eq!(tickets[0].count, 1);
    assert!(!stderr.contains("could not be written"), "{stderr}");
}

#[test]
fn let_underscore_keeps_output_flowing() {
    check("child_let_underscore");
}

#[test]
fn let_guard_flushes_everything_when_dropped() {
    check("child_let_guard");
}

fn check_program(mode: &str) {
    const PROGRAM_LINES: usize = 20_000;
    let dir = TempDir::new("guard-dropped-early");
    let file = dir.path().join("program.jsonl");
    let out = std::process::Command::new(support::example_binary("install_then_exit"))
        .arg(&file)
        .arg(mode)
        .arg(PROGRAM_LINES.to_string())
        .env_remove("RUST_LOG")
        .output()
        .expect("the example starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{mode}: {:?}, stderr: {stderr}",
        out.status
    );
    let log = std::fs::read_to_string(&file).expect("the log file");
    let lines = json_line::split_lines(&log);
    assert_eq!(
        lines.len(),
        PROGRAM_LINES + 1,
        "{mode}: lines lost (stderr: {stderr})"
    );
    assert_eq!(
        json_line::parse_line(&lines[PROGRAM_LINES])["msg"],
        "last line"
    );
}

#[test]
fn a_program_with_let_underscore_writes_every_line_before_it_exits() {
    check_program("let_underscore");
}

#[test]
fn a_program_with_let_guard_writes_every_line_before_it_exits() {
    check_program("let_guard");
}
