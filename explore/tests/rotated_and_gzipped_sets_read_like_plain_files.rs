//! A rotated set, gzipped in part, reads the same lines as the plain file, oldest first; a
//! file reached twice (named twice, by a pattern and by name, by folder) is read once.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns too

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use taskwire_explore::source::{expand, Lines, Source};
use taskwire_test_support::TempDir;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn numbered(range: std::ops::Range<u32>) -> String {
    range.map(|i| format!("{{\"n\":{i}}}\n")).collect()
}

/// `app.jsonl.3.gz` (lines 0–9, as two gzip members), `app.jsonl.2.gz`, `app.jsonl.1`,
/// `app.jsonl` (30–39), plus `other.log` and a `notes.txt` that is not a log.
fn rotated_set(test: &str) -> TempDir {
    let dir = TempDir::new(test);
    let mut two_members = gzip(numbered(0..5).as_bytes());
    two_members.extend(gzip(numbered(5..10).as_bytes()));
    fs::write(dir.join("app.jsonl.3.gz"), two_members).unwrap();
    fs::write(
        dir.join("app.jsonl.2.gz"),
        gzip(numbered(10..20).as_bytes()),
    )
    .unwrap();
    fs::write(dir.join("app.jsonl.1"), numbered(20..30)).unwrap();
    fs::write(dir.join("app.jsonl"), numbered(30..40)).unwrap();
    fs::write(dir.join("other.log"), numbered(100..101)).unwrap();
    fs::write(dir.join("notes.txt"), "not a log\n").unwrap();
    dir
}

/// The files of the `app.jsonl` set in [`rotated_set`], in the order they are read: oldest first.
const APP_SET: [&str; 4] = [
    "app.jsonl.3.gz",
    "app.jsonl.2.gz",
    "app.jsonl.1",
    "app.jsonl",
];

/// [`APP_SET`] followed by `more`.
fn app_set_then(more: &[&str]) -> Vec<String> {
    APP_SET.iter().chain(more).map(|&n| n.to_owned()).collect()
}

fn read_all(sources: &[Source]) -> String {
    let mut text = String::new();
    for s in sources {
        let mut lines = Lines::new(s.open().unwrap());
        while let Some(line) = lines.next_line().unwrap() {
            assert!(line.complete);
            text.push_str(std::str::from_utf8(line.bytes).unwrap());
            text.push('\n');
        }
    }
    text
}

fn names(sources: &[Source]) -> Vec<String> {
    sources
        .iter()
        .map(|s| match s {
            Source::File(p) => p.file_name().unwrap().to_str().unwrap().to_owned(),
            Source::Stdin => "-".to_owned(),
        })
        .collect()
}

#[test]
fn the_live_file_brings_its_rotations_oldest_first_gzip_by_content() {
    let dir = rotated_set("live");
    let (sources, errors) = expand(&[dir.join("app.jsonl")]);
    assert!(errors.is_empty());
    assert_eq!(names(&sources), APP_SET);
    assert_eq!(read_all(&sources), numbered(0..40));
}

#[test]
fn a_folder_gives_its_logs_by_set() {
    let dir = rotated_set("folder");
    let (sources, errors) = expand(&[dir.path()]);
    assert!(errors.is_empty());
    assert_eq!(names(&sources), app_set_then(&["other.log"]));
    assert_eq!(read_all(&sources), numbered(0..40) + &numbered(100..101));
}

#[test]
fn a_file_reached_twice_is_read_once() {
    let dir = rotated_set("twice");
    let dotted = dir.join(".").join("other.log");
    let (sources, errors) = expand(&[
        dir.join("app.jsonl*"),
        dir.join("app.jsonl.1"),
        dir.join("other.log"),
        dotted,
        dir.path().to_path_buf(),
        PathBuf::from("-"),
        PathBuf::from("-"),
    ]);
    assert!(errors.is_empty());
    assert_eq!(names(&sources), app_set_then(&["other.log", "-"]));
}

#[test]
fn names_that_find_nothing_are_errors_that_say_so() {
    let dir = rotated_set("missing");
    let (sources, errors) = expand(&[
        dir.join("nope.log"),
        dir.join("*.nothing"),
        dir.join("other.log"),
    ]);
    assert_eq!(names(&sources), ["other.log"]);
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("nope.log"), "{msgs:?}");
    assert!(
        msgs[1].ends_with("no file matches this pattern"),
        "{msgs:?}"
    );
}

#[test]
fn no_argument_means_standard_input() {
    let none: [&Path; 0] = [];
    assert_eq!(expand(&none).0, [Source::Stdin]);
}
