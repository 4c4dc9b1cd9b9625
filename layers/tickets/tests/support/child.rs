//! Child processes of a test binary: the test re-runs its own binary on one `child_*` test and
//! talks to it through its standard output.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts this test binary on the test `test` alone, with `envs` set.
pub(crate) fn child(test: &str, envs: &[(&str, String)]) -> (Child, BufReader<ChildStdout>) {
    let mut c = Command::new(std::env::current_exe().expect("the test binary's path"));
    c.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("the child process starts");
    let out = BufReader::new(child.stdout.take().expect("the child's stdout is piped"));
    (child, out)
}

/// The text after the next occurrence of `prefix` (fails when the child ends first).
pub(crate) fn expect(out: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line)
                .expect("the child's output can be read")
                > 0,
            "the child ended before printing {prefix:?}"
        );
        // The test harness may have printed `test NAME ... ` before it on the same line.
        if let Some(i) = line.find(prefix) {
            return line[i + prefix.len()..].trim().to_owned();
        }
    }
}

/// Waits for the child to exit successfully within `limit` (killed and failed otherwise);
/// returns how long it took.
pub(crate) fn wait_exit(child: &mut Child, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if let Some(status) = child
            .try_wait()
            .expect("the child process can be waited for")
        {
            assert!(status.success(), "the child failed: {status}");
            return start.elapsed();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the child did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
