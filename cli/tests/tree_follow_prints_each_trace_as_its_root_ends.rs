//! `taskwire tree -f`: a trace is printed when its root task (a task record without a parent)
//! ends, from a file that is being appended to or from standard input, and not before.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use support::*;
use taskwire_test_support::TempDir;

/// How long the child may take to print what it was given before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// `taskwire tree -f PATH`, its stdout line by line through a channel; killed when dropped.
struct Following {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Following {
    fn start(path: &str) -> Following {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taskwire"))
            .args(["tree", "-f", path])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Following {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads output until a line contains `needle`; returns the lines read since the last call.
    fn until(&mut self, needle: &str) -> Vec<String> {
        let from = self.seen.len();
        loop {
            let line = self
                .lines
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|e| panic!("no {needle:?} ({e}); so far: {:#?}", self.seen));
            let done = line.contains(needle);
            self.seen.push(line);
            if done {
                return self.seen[from..].to_vec();
            }
        }
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn append(path: &std::path::Path, lines: &[String]) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(lines.concat().as_bytes()).unwrap();
}

#[test]
fn a_trace_appended_to_a_file_is_printed_when_its_root_ends() {
    let dir = TempDir::new("follow");
    let path = dir.join("app.jsonl");
    let front = fixture_lines("front.log");
    let back = fixture_lines("back.log");
    let is = |l: &String, s: &str| l.contains(s);
    let health: Vec<String> = front
        .iter()
        .filter(|l| is(l, "GET /health"))
        .cloned()
        .collect();
    std::fs::write(&path, health.concat()).unwrap();
    let mut f = Following::start(path.to_str().unwrap());

    // what was in the file when following began
    let got = f.until("GET /health");
    assert_eq!(got.concat(), HEALTH_TREE.lines().collect::<String>());

    // every record of the checkout trace but its root's, then another trace's root
    let checkout = "4bf92f3577b34da6a3ce929d0e0e4736";
    let (root, rest): (Vec<String>, Vec<String>) = back
        .iter()
        .chain(&front)
        .filter(|l| is(l, checkout))
        .cloned()
        .partition(|l| is(l, "\"task.name\":\"GET /checkout\""));
    append(&path, &rest);
    let ping = health[0]
        .replace(
            "0af7651916cd43dd8448eb211c80319c",
            "0af7651916cd43dd8448eb211c80319d",
        )
        .replace("GET /health", "GET /ping");
    append(&path, &[ping]);
    let got = f.until("GET /ping");
    assert!(
        !got.iter().any(|l| l.contains("GET /checkout")),
        "the checkout trace was printed before its root ended: {got:#?}"
    );

    append(&path, &root);
    let got = f.until("fraud check");
    let tree: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .skip_while(|l| !l.starts_with("trace 4bf9"))
        .collect();
    assert_eq!(tree, CHECKOUT_TREE.lines().collect::<Vec<_>>());
}

#[test]
fn following_standard_input_prints_each_tree_and_stops_at_its_end() {
    // back's records first: the root (in front's log) ends the trace, so it comes last
    let mut input = fixture_lines("back.log").concat();
    input.push_str(&fixture_lines("front.log").concat());
    let out = taskwire(&["tree", "-f"], input.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    // the refund's root is in no log read: it never ends, so it is not printed
    assert_eq!(stdout(&out), format!("{CHECKOUT_TREE}\n{HEALTH_TREE}"));
}
