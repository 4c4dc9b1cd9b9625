//! A record met twice (a file named twice, the overlap that copytruncate rotation leaves, the
//! same content under two names) is counted once: its task once, its ERROR event once.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns too

mod support;

use std::fs;

use support::*;
use taskwire_test_support::TempDir;

fn error_lines(text: &str) -> usize {
    text.lines().filter(|l| l.contains("error: ")).count()
}

#[test]
fn a_file_named_twice_is_read_once() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let out = taskwire(&["tree", &front, &back, &front], b"");
    assert_eq!(stdout(&out), plain_tree());
    assert_eq!(stderr(&out), "", "the file is read once: nothing repeats");
    assert_eq!(error_lines(&stdout(&out)), 3);
}

#[test]
fn a_copytruncate_overlap_prints_each_error_once() {
    let dir = TempDir::new("copytruncate");
    let front = fixture_lines("front.log");
    // the rotated copy holds everything; the live file starts again with its last four lines
    fs::write(dir.join("front.log.1"), front.concat()).unwrap();
    fs::write(dir.join("front.log"), front[front.len() - 4..].concat()).unwrap();
    assert!(front[front.len() - 4..].concat().contains("\"ERROR\""));
    let out = taskwire(
        &[
            "tree",
            dir.join("front.log").to_str().unwrap(),
            &fixture("back.log"),
        ],
        b"",
    );
    assert_eq!(stdout(&out), plain_tree());
    assert_eq!(error_lines(&stdout(&out)), 3);
    assert!(
        stderr(&out).contains("twice") && stderr(&out).contains("counted once"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_same_content_under_two_names_is_counted_once() {
    let dir = TempDir::new("two-names");
    let back = fs::read(fixture("back.log")).unwrap();
    fs::write(dir.join("back-copy.log"), &back).unwrap();
    let out = taskwire(
        &[
            "tree",
            &fixture("front.log"),
            &fixture("back.log"),
            dir.join("back-copy.log").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(stdout(&out), plain_tree());
    assert!(!stderr(&out).contains("duplicate task"), "{}", stderr(&out));
}
