//! How fast `taskwire tail` shows logs, in lines per second:
//!
//! ```text
//! cargo bench -p taskwire-cli --bench tail
//! ```
//!
//! The ~200 MB two-service logs of the `tree` bench (generated once into the target's temporary
//! folder), shown by the binary in each mode (best of 3, output to /dev/null): pretty with
//! colors (the per-line work of `tail -f`), raw `--json` with a query, pretty with a query, and
//! piped through standard input. Fails below 200,000 lines/s for the pretty, colored view in an
//! optimised build: `tail -f` has to keep up with a busy service.
#![allow(missing_docs)]

mod support;

use support::{best_of_3, count_lines, Input};

/// The least `taskwire tail` must show per second.
const FLOOR_LINES_PER_S: f64 = 200_000.0;

fn main() {
    let input = Input::generate();
    let (front, lines) = (&input.front, input.lines);
    let (f, b) = (input.front_str(), input.back_str());
    let mut pretty = 0.0;
    for (label, args, stdin) in [
        (
            "tail --color always",
            vec!["tail", "--color", "always", b, f],
            None,
        ),
        (
            "tail --json level>=warn",
            vec!["tail", "--json", "level>=warn", b, f],
            None,
        ),
        (
            "tail 'service=back failed'",
            vec!["tail", "--color", "always", "service=back failed", b, f],
            None,
        ),
        (
            "tail < front.log",
            vec!["tail", "--color", "always"],
            Some(front.as_path()),
        ),
    ] {
        let took = best_of_3(&args, stdin);
        let n = if stdin.is_some() {
            count_lines(front)
        } else {
            lines
        };
        let per_s = n as f64 / took.as_secs_f64();
        println!(
            "{label:<28} {:>7.0} ms  {:>10.0} lines/s",
            took.as_secs_f64() * 1e3,
            per_s
        );
        if label == "tail --color always" {
            pretty = per_s;
        }
    }
    if !cfg!(debug_assertions) {
        assert!(
            pretty >= FLOOR_LINES_PER_S,
            "{pretty:.0} lines/s, below {FLOOR_LINES_PER_S}"
        );
    }
}
