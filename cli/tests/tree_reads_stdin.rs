//! With no file, or `-`, the logs come from standard input.

mod support;

use support::*;

fn both_logs() -> Vec<u8> {
    let mut input = std::fs::read(fixture("back.log")).expect("the file can be read");
    input.extend(std::fs::read(fixture("front.log")).expect("the file can be read"));
    input
}

#[test]
fn no_file_reads_stdin() {
    let out = taskwire(&["tree"], &both_logs());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{CHECKOUT_TREE}\n{HEALTH_TREE}\n{REFUND_TREE}")
    );
}

#[test]
fn dash_reads_stdin_alongside_files() {
    let back = std::fs::read(fixture("back.log")).unwrap();
    let out = taskwire(&["tree", "-", &fixture("front.log"), "--failed"], &back);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), CHECKOUT_TREE);
}

#[test]
fn logs_without_task_records_say_so() {
    let out = taskwire(
        &["tree"],
        br#"{"ts":"2026-11-21T10:00:00Z","level":"INFO","target":"demo","msg":"hi"}"#,
    );
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("no task.end records"),
        "{}",
        stderr(&out)
    );
}
