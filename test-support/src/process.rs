//! A test binary re-running one of its own tests in a child process: for what needs a process
//! of its own (the global default subscriber, exit-time flushing, crashes).

use std::process::{Command, Output};

/// The environment variable that tells a test binary it runs as a child of [`run_child`]; its
/// value is the test's name.
pub const CHILD_ENV: &str = "TASKWIRE_TEST_CHILD";

/// Whether this process is a child started by [`run_child`] for the test `name`.
pub fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == name)
}

/// This test binary, run on the test `name` alone (ignored tests included, one thread,
/// output not captured).
pub fn child_command(name: &str) -> Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args([
        name,
        "--exact",
        "--nocapture",
        "--include-ignored",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, name);
    cmd
}

/// Runs the test `name` of this test binary in a child process with `env` set (and
/// `RUST_LOG` removed unless `env` sets it), and returns its output once it has exited; fails
/// unless the child ran that test and it passed.
pub fn run_child(name: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = child_command(name);
    cmd.env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the child test process starts");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child test {name} did not run and pass:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
