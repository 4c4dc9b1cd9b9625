//! `taskwire tail -f` runs as a child process while this test appends to a real file, renames
//! it and writes a new one (rotation), then truncates it in place (copytruncate): every record
//! written after the tail started is shown once, in order, whatever happened to the file. The
//! test moves on only when the tail has shown what it waits for (no sleeps).

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use taskwire_test_support::temp::TempDir;

/// How long one expected line may take to show before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running `taskwire tail`, its stdout and stderr line by line.
struct Tail {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Tail {
    fn start(args: &[&str]) -> Tail {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taskwire"))
            .arg("tail")
            .args(args)
            .env_remove("NO_COLOR")
            .env_remove("TASKWIRE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("taskwire starts");
        let lines = |r: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        };
        let stdout = lines(Box::new(child.stdout.take().expect("piped")));
        let stderr = lines(Box::new(child.stderr.take().expect("piped")));
        Tail {
            child,
            stdout,
            stderr,
        }
    }

    /// The next stdout line.
    fn next(&self) -> String {
        self.stdout
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|e| panic!("no output line within {PATIENCE:?}: {e}"))
    }

    /// Waits for a stderr line containing `what`.
    fn said(&self, what: &str) {
        loop {
            let line = self
                .stderr
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|e| panic!("taskwire never said `{what}`: {e}"));
            if line.contains(what) {
                return;
            }
        }
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn record(n: u32, msg: &str) -> String {
    format!(
        r#"{{"ts":"2026-11-21T10:00:{n:02}.000000Z","level":"INFO","target":"shop","msg":"{msg}","n":{n},"service":"front","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}}"#
    ) + "\n"
}

fn shown(n: u32, msg: &str) -> String {
    format!("10:00:{n:02}.000 INFO  front shop: {msg} n={n} [4bf92f35]")
}

fn append(path: &Path, text: &str) {
    OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("append to {}: {e}", path.display()));
}

#[test]
fn appended_rotated_and_truncated_records_are_all_shown_once() {
    let dir = TempDir::new("tail-follow");
    let log = dir.join("app.jsonl");
    fs::write(&log, record(1, "before the tail started")).expect("write");
    let tail = Tail::start(&[
        "-f",
        "-n",
        "1",
        "--color",
        "never",
        &log.display().to_string(),
    ]);
    tail.said("following 1 file");
    assert_eq!(tail.next(), shown(1, "before the tail started"));

    // appends, one of them in two writes (a line is shown only once it is whole)
    append(&log, &record(2, "appended"));
    assert_eq!(tail.next(), shown(2, "appended"));
    let third = record(3, "written in two parts");
    append(&log, &third[..40]);
    append(&log, &third[40..]);
    assert_eq!(tail.next(), shown(3, "written in two parts"));

    // rotation: renamed, a last line written to the old file, then a new file
    let rotated = dir.join("app.jsonl.1");
    fs::rename(&log, &rotated).expect("rename");
    append(&rotated, &record(4, "late line of the old file"));
    fs::write(&log, record(5, "first line of the new file")).expect("recreate");
    assert_eq!(tail.next(), shown(4, "late line of the old file"));
    tail.said("was rotated");
    assert_eq!(tail.next(), shown(5, "first line of the new file"));
    append(&log, &record(6, "second line of the new file"));
    assert_eq!(tail.next(), shown(6, "second line of the new file"));

    // copytruncate: the file is emptied in place, then written again
    fs::File::create(&log).expect("truncate");
    tail.said("was truncated");
    append(&log, &record(7, "after the truncation"));
    assert_eq!(tail.next(), shown(7, "after the truncation"));
    assert!(
        tail.stdout.try_recv().is_err(),
        "nothing shown twice or out of order"
    );
}

#[test]
fn a_followed_query_shows_only_matching_records_and_marks_the_trace() {
    let dir = TempDir::new("tail-follow-query");
    let log = dir.join("app.jsonl");
    fs::write(&log, "").expect("write");
    let tail = Tail::start(&[
        "-f",
        "--color",
        "never",
        // the short id a line shows is enough
        "--trace",
        "4bf92f35",
        "level>=warn",
        &log.display().to_string(),
    ]);
    tail.said("following 1 file");
    append(
        &log,
        concat!(
            r#"{"ts":"2026-11-21T10:00:01.000000Z","level":"INFO","msg":"fine","service":"back"}"#,
            "\n",
            r#"{"ts":"2026-11-21T10:00:02.000000Z","level":"WARN","msg":"slow","service":"back","trace_id":"0af7651916cd43dd8448eb211c80319c"}"#,
            "\n",
            "not json: dropped by the query\n",
            r#"{"ts":"2026-11-21T10:00:03.000000Z","level":"ERROR","msg":"declined","service":"back","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#,
            "\n",
        ),
    );
    assert_eq!(tail.next(), "  10:00:02.000 WARN  back slow [0af76519]");
    assert_eq!(tail.next(), "▶ 10:00:03.000 ERROR back declined [4bf92f35]");
}

#[test]
fn followed_standard_input_is_shown_as_it_comes_and_ends_with_it() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskwire"))
        .args(["tail", "-f", "--color", "never", "-"])
        .env_remove("TASKWIRE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("taskwire starts");
    let mut input = child.stdin.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // one record at a time: each is shown before the next is written
    for n in 1..=3 {
        input
            .write_all(record(n, "live").as_bytes())
            .expect("write to the tail");
        input.flush().expect("flush");
        let line = rx.recv_timeout(PATIENCE).expect("the record is shown");
        assert_eq!(line, shown(n, "live"));
    }
    drop(input);
    let status = child.wait().expect("taskwire ends when its input does");
    assert!(status.success(), "{status}");
}
