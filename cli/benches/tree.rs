//! How fast `taskwire tree` reads logs:
//!
//! ```text
//! cargo bench -p taskwire-cli --bench tree
//! ```
//!
//! It writes ~200 MB of realistic logs from two services (a `front` whose client tasks are the
//! remote parents of `back`'s request tasks; ~30 % of lines are `task.end` records, 2 % of traces
//! fail with ERROR events, the rest are INFO/DEBUG events) into the target's temporary folder,
//! then times the binary on them (best of 3, output to /dev/null) and prints MB/s.
#![allow(missing_docs)]

mod support;

use support::{best_of_3, Input};

/// Times every `tree` mode on the generated logs; fails below 100 MB/s for the text tree in an
/// optimised build.
fn main() {
    let input = Input::generate();
    let (front, bytes) = (&input.front, input.bytes);
    let (f, b) = (input.front_str(), input.back_str());
    // a trace in the middle of the input
    let text = std::fs::read_to_string(front).expect("front.log is UTF-8");
    let at = text[text.len() / 2..]
        .find("\"trace_id\":\"")
        .expect("a trace id")
        + text.len() / 2
        + 12;
    let trace = text[at..at + 32].to_owned();
    drop(text);
    let mut text_mbs = 0.0;
    for (label, args) in [
        ("tree (text)", vec!["tree", "--no-color", b, f]),
        ("tree --json", vec!["tree", "--json", b, f]),
        ("tree --failed", vec!["tree", "--failed", b, f]),
        ("tree --trace <id>", vec!["tree", "--trace", &trace, b, f]),
    ] {
        let took = best_of_3(&args, None);
        let mbs = bytes as f64 / 1e6 / took.as_secs_f64();
        println!(
            "{label:<20} {:>7.0} ms  {mbs:>6.0} MB/s",
            took.as_secs_f64() * 1e3
        );
        if label == "tree (text)" {
            text_mbs = mbs;
        }
    }
    if !cfg!(debug_assertions) {
        assert!(text_mbs >= 100.0, "{text_mbs:.0} MB/s");
    }
}
