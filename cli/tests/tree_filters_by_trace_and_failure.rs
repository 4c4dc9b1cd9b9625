//! `--trace` keeps one trace, `--failed` keeps the traces with a failed task.

mod support;

use support::*;

#[test]
fn trace_keeps_only_that_trace_across_files() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let out = taskwire(
        &[
            "tree",
            &front,
            &back,
            "--trace",
            "4bf92f3577b34da6a3ce929d0e0e4736",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), CHECKOUT_TREE);
    // upper case is accepted too
    let out = taskwire(
        &[
            "tree",
            &front,
            &back,
            "--trace",
            "0AF7651916CD43DD8448EB211C80319C",
        ],
        b"",
    );
    assert_eq!(stdout(&out), HEALTH_TREE);
}

#[test]
fn an_unknown_trace_prints_nothing_and_fails() {
    let out = taskwire(
        &[
            "tree",
            &fixture("front.log"),
            "--trace",
            "00000000000000000000000000000001",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("no task.end records for this trace"));
}

#[test]
fn a_trace_id_that_is_not_one_is_a_usage_error() {
    let out = taskwire(&["tree", "--trace", "xyz"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a trace id"), "{}", stderr(&out));
}

#[test]
fn failed_keeps_only_traces_with_a_failed_task() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let out = taskwire(&["tree", "--failed", &back, &front], b"");
    assert!(out.status.success());
    assert_eq!(stdout(&out), CHECKOUT_TREE);
    // combined with --trace of a healthy trace: nothing, and that is not an error
    let out = taskwire(
        &[
            "tree",
            "--failed",
            &front,
            "--trace",
            "0af7651916cd43dd8448eb211c80319c",
        ],
        b"",
    );
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
}
