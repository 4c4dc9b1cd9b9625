//! A last line without its newline that is not a whole record (a writer still writing, a
//! crash) is reported as cut, not counted as malformed, and every other line is read.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns too

mod support;

use std::fs;

use support::*;
use taskwire_test_support::TempDir;

#[test]
fn a_cut_last_line_is_reported_and_the_rest_read() {
    let dir = TempDir::new("cut-last-line");
    let mut back = fs::read_to_string(fixture("back.log")).unwrap();
    let first = fixture_lines("back.log").remove(0);
    back.push_str(&first[..first.len() / 2]);
    let path = dir.join("back.log");
    fs::write(&path, back).unwrap();
    let out = taskwire(
        &["tree", &fixture("front.log"), path.to_str().unwrap()],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), plain_tree());
    let err = stderr(&out);
    assert!(
        err.contains("back.log: the last line ends without a newline"),
        "{err}"
    );
    assert!(!err.contains("malformed"), "{err}");
}

#[test]
fn a_whole_last_record_without_newline_is_read_silently() {
    let back = fs::read_to_string(fixture("back.log")).unwrap();
    let out = taskwire(
        &["tree", &fixture("front.log"), "-"],
        back.trim_end().as_bytes(),
    );
    assert_eq!(stdout(&out), plain_tree());
    assert_eq!(stderr(&out), "");
}
