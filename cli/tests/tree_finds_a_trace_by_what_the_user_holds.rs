//! A pasted traceparent, a request id, a span id or any field finds the trace; the whole trace
//! is shown, across both services.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns too

mod support;

use std::fs;

use support::*;
use taskwire_test_support::TempDir;

/// back.log whose `POST /charge` task record carries the request id `req-abc`, in its own
/// folder (removed when the folder is dropped).
fn back_with_request_id() -> (TempDir, String) {
    let dir = TempDir::new("request-id");
    let back = fs::read_to_string(fixture("back.log")).unwrap();
    let mut out = String::new();
    for line in back.lines() {
        if line.contains("\"task.name\":\"POST /charge\"") {
            out.push_str(&line.replacen('{', "{\"http.request_id\":\"req-abc\",", 1));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let path = dir.join("back.log");
    fs::write(&path, out).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

fn tree(query: &[&str], back: &str) -> (String, String, Option<i32>) {
    let front = fixture("front.log");
    let mut args = vec!["tree"];
    args.extend_from_slice(query);
    args.extend([front.as_str(), back]);
    let out = taskwire(&args, b"");
    (stdout(&out), stderr(&out), out.status.code())
}

fn checkout() -> (String, String, Option<i32>) {
    (CHECKOUT_TREE.to_owned(), String::new(), Some(0))
}

#[test]
fn a_pasted_traceparent_finds_its_trace() {
    let back = fixture("back.log");
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-1000000000000003-01";
    assert_eq!(tree(&[tp], &back), checkout());
    assert_eq!(tree(&["--trace", tp], &back), checkout());
}

#[test]
fn a_request_id_finds_its_trace_bare_or_named() {
    let (_dir, back) = back_with_request_id();
    assert_eq!(tree(&["request_id=req-abc"], &back), checkout());
    assert_eq!(tree(&["req-abc"], &back), checkout());
    assert_eq!(tree(&["-q", "req-abc"], &back), checkout());
}

#[test]
fn a_span_id_or_a_field_finds_its_trace() {
    let back = fixture("back.log");
    assert_eq!(tree(&["1000000000000002"], &back), checkout());
    assert_eq!(tree(&["cart_id=c-42"], &back), checkout());
    assert_eq!(tree(&["service=back", "failed"], &back), checkout());
}

#[test]
fn a_query_that_matches_nothing_says_so_and_fails() {
    let (out, err, code) = tree(&["request_id=nope"], &fixture("back.log"));
    assert_eq!((out.as_str(), code), ("", Some(1)));
    assert!(
        err.contains("no trace matches the query `request_id=nope`"),
        "{err}"
    );
}

#[test]
fn a_query_that_does_not_parse_is_a_usage_error() {
    let (_, err, code) = tree(&["order_id>3"], &fixture("back.log"));
    assert_eq!(code, Some(2));
    assert!(err.contains("at column 9: expected `=` or `~`"), "{err}");
}
