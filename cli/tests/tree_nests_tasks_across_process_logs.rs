//! A task whose parent is in another process's log is nested under it, whatever the order of
//! the files; outcomes and error messages sit on the right tasks.

mod support;

use support::*;

#[test]
fn the_remote_child_nests_under_the_client_task_in_either_order() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let want = format!("{CHECKOUT_TREE}\n{HEALTH_TREE}\n{REFUND_TREE}");
    for args in [
        ["tree", front.as_str(), back.as_str()],
        ["tree", back.as_str(), front.as_str()],
    ] {
        let out = taskwire(&args, b"");
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), want, "args: {args:?}");
        assert_eq!(stderr(&out), "");
    }
}

#[test]
fn alone_the_back_log_shows_its_root_as_an_orphan_of_the_remote_parent() {
    let out = taskwire(&["tree", &fixture("back.log"), "--no-color"], b"");
    let text = stdout(&out);
    assert!(
        text.contains(
            "└─ back  POST /charge    25.0ms ✗  [orphan: remote parent 1000000000000003 not in these logs]\n"
        ),
        "{text}"
    );
    // the error of the failing root is still under it (from the `error` object: msg is empty)
    assert!(text.contains("   │  error: card declined\n"), "{text}");
}

#[test]
fn colors_mark_outcomes_when_asked_and_never_otherwise() {
    let front = fixture("front.log");
    let colored = stdout(&taskwire(&["tree", "--color", "always", &front], b""));
    assert!(colored.contains("\x1b[32m✓\x1b[0m"), "{colored}");
    assert!(colored.contains("\x1b[31m✗\x1b[0m"), "{colored}");
    for args in [
        vec!["tree", &front],
        vec!["tree", "--color", "always", "--no-color", &front],
        vec!["tree", "--color", "never", &front],
    ] {
        // stdout is a pipe here, so `auto` means no colors
        assert!(!stdout(&taskwire(&args, b"")).contains('\x1b'), "{args:?}");
    }
}

#[test]
fn a_missing_file_is_reported_and_the_others_still_shown() {
    let out = taskwire(
        &["tree", "/nonexistent/taskwire.log", &fixture("front.log")],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/taskwire.log"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("GET /checkout"));
}
