//! The explorer's targets over ~1 GB, beside ripgrep:
//!
//! ```text
//! cargo bench -p taskwire-cli --bench explorer
//! ```
//!
//! It writes ~1 GB (`TASKWIRE_BENCH_MB`, default 1000) of the `tree` bench's logs from two
//! services into the target's temporary folder (delete it when done: it is not cleaned up, so
//! that later runs reuse it), then, files in the page cache, runs each `taskwire tree` command
//! and its `rg` counterpart in turn for `TASKWIRE_BENCH_ROUNDS` rounds (default 5), printing the
//! median times and the median of the per-round ratios, and the peak memory of the full tree
//! (`/usr/bin/time -f %M`). Rounds alternate the two commands so that both meet the same load.
#![allow(missing_docs)]

mod support;

use std::io::{Read as _, Seek as _, SeekFrom};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Input;

fn main() {
    let mb = std::env::var("TASKWIRE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rounds: usize = std::env::var("TASKWIRE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let input = Input::generate_mb(Some(mb));
    let (b, f) = (input.back_str(), input.front_str());
    let trace = trace_in_the_middle(&input.front);
    let taskwire = env!("CARGO_BIN_EXE_taskwire");
    let rg = Command::new("rg").arg("--version").output().is_ok();
    if !rg {
        println!("rg is not installed: taskwire's times only");
    }
    let run = |cmd: &[&str]| time(cmd[0], &cmd[1..]);
    let duration_re = r#""task.duration_us":(2[5-9]\d{4}|[3-9]\d{5}|\d{7,})[,}]"#;
    println!(
        "{:<44} {:>9} {:>9} {:>7}",
        "command", "taskwire", "rg", "ratio"
    );
    for (label, ours, theirs) in [
        (
            "tree --trace ID / rg -F ID",
            vec![taskwire, "tree", "--trace", &trace, b, f],
            vec!["rg", "-F", &trace, b, f],
        ),
        (
            "tree order_id=13 / rg -F '\"order_id\":13,'",
            vec![taskwire, "tree", "order_id=13", b, f],
            vec!["rg", "-F", "\"order_id\":13,", b, f],
        ),
        (
            "tree customer=cust-13 / rg -F",
            vec![taskwire, "tree", "customer=cust-13", b, f],
            vec!["rg", "-F", "\"customer\":\"cust-13\"", b, f],
        ),
        (
            "tree failed --list / rg -F outcome failed",
            vec![taskwire, "tree", "failed", "--list", b, f],
            vec!["rg", "-F", "\"task.outcome\":\"failed\"", b, f],
        ),
        (
            "tree duration>250ms / rg duration regex",
            vec![taskwire, "tree", "duration>250ms", b, f],
            vec!["rg", duration_re, b, f],
        ),
    ] {
        let mut pairs = Vec::new();
        for _ in 0..rounds {
            let a = run(&ours);
            let r = if rg { run(&theirs) } else { a };
            pairs.push((a, r));
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let a = median(pairs.iter().map(|p| ms(p.0)).collect());
        let r = median(pairs.iter().map(|p| ms(p.1)).collect());
        let ratio = median(pairs.iter().map(|p| ms(p.0) / ms(p.1)).collect());
        println!("{label:<44} {a:>6.0} ms {r:>6.0} ms {ratio:>6.2}×");
    }
    let peak = Command::new("/usr/bin/time")
        .args(["-f", "%M", taskwire, "tree", "--no-color", b, f])
        .env_remove("TASKWIRE_CONFIG")
        .stdout(Stdio::null())
        .output();
    match peak {
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let kb = err.lines().last().unwrap_or("?");
            println!("peak memory of `tree --no-color back.log front.log`: {kb} KB");
        }
        Err(e) => println!("/usr/bin/time: {e}"),
    }
}

/// Runs `program` with `args` (output to /dev/null) and times it; a taskwire query that finds
/// nothing and rg without a match both exit 1, so the status is not checked.
fn time(program: &str, args: &[&str]) -> Duration {
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .env_remove("TASKWIRE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(status.code().is_some_and(|c| c <= 1), "{program} {args:?}");
    start.elapsed()
}

/// A trace id from the middle of `front`.
fn trace_in_the_middle(front: &std::path::Path) -> String {
    let mut file = std::fs::File::open(front).expect("front.log opens");
    let len = file.metadata().expect("front.log's size").len();
    file.seek(SeekFrom::Start(len / 2)).expect("seek");
    let mut buf = vec![0; 1 << 16];
    file.read_exact(&mut buf).expect("front.log is long enough");
    let text = String::from_utf8_lossy(&buf);
    let at = text.find("\"trace_id\":\"").expect("a trace id") + 12;
    text[at..at + 32].to_owned()
}
