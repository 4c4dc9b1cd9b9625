//! A log kept as a rotated set (`app.jsonl.2.gz`, `app.jsonl.1`, `app.jsonl`) and a gzipped
//! file, named by folder, by pattern or by the live file alone, gives the same trees as the
//! plain files; gzip is known by its content, not its name.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns too

mod support;

use std::fs;
use std::path::Path;

use taskwire_test_support::TempDir;

use support::*;

/// front.log split into a rotated set (oldest part gzipped) and back.log gzipped under a
/// plain `.log` name, in a fresh folder.
fn rotated_set(test: &str) -> TempDir {
    let dir = TempDir::new(test);
    let front = fixture_lines("front.log");
    let (old, rest) = front.split_at(3);
    let (mid, live) = rest.split_at(3);
    fs::write(dir.join("app.jsonl.2.gz"), gzip(old.concat().as_bytes())).unwrap();
    fs::write(dir.join("app.jsonl.1"), mid.concat()).unwrap();
    fs::write(dir.join("app.jsonl"), live.concat()).unwrap();
    let back = fs::read(fixture("back.log")).unwrap();
    fs::write(dir.join("back.log"), gzip(&back)).unwrap();
    dir
}

fn tree(args: &[&Path]) -> (String, String, Option<i32>) {
    let mut all = vec!["tree"];
    all.extend(args.iter().map(|p| p.to_str().unwrap()));
    let out = taskwire(&all, b"");
    (stdout(&out), stderr(&out), out.status.code())
}

#[test]
fn a_folder_of_rotated_and_gzipped_logs_gives_the_plain_trees() {
    let dir = rotated_set("rotated-folder");
    let want = plain_tree();
    assert!(want.contains("GET /checkout"), "{want}");
    assert_eq!(tree(&[dir.path()]), (want, String::new(), Some(0)));
}

#[test]
fn the_live_file_brings_its_rotations() {
    let dir = rotated_set("rotated-live");
    let got = tree(&[&dir.join("app.jsonl"), &dir.join("back.log")]);
    assert_eq!(got, (plain_tree(), String::new(), Some(0)));
}

#[test]
fn a_pattern_and_the_files_it_matches_are_read_once_each() {
    let dir = rotated_set("rotated-pattern");
    // app.jsonl* matches all three rotations, and each also brings the others
    let got = tree(&[&dir.join("app.jsonl*"), &dir.join("back.log")]);
    assert_eq!(got, (plain_tree(), String::new(), Some(0)));
}

#[test]
fn gzip_on_standard_input_is_read() {
    let mut both = fs::read(fixture("front.log")).unwrap();
    both.extend(fs::read(fixture("back.log")).unwrap());
    let out = taskwire(&["tree"], &gzip(&both));
    assert_eq!(stdout(&out), plain_tree());
    assert_eq!(stderr(&out), "");
}
