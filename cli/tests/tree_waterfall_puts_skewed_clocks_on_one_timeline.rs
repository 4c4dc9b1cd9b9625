//! `--waterfall`: start offsets and bars on the trace's clock. A service whose clock is off is
//! moved inside the call that it served, and the tree says so; a call whose callee's log was
//! not given says that too.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs;

use serde_json::Value;
use support::*;
use taskwire_test_support::TempDir;

const WATERFALL: &str = "\
trace 4bf92f3577b34da6a3ce929d0e0e4736  2026-11-21T10:00:00.000000Z  6 tasks, 3 failed  services: back, front  50.0ms
└─ front  GET /checkout         50.0ms ✗      +0µs ████████████████████████████████
   │  error: checkout failed: payment declined
   ├─ front  load cart          5.00ms ✓   +1.00ms ████░░░░░░░░░░░░░░░░░░░░░░░░░░░░
   └─ front  POST back/charge   30.0ms ✗   +10.0ms ░░░░░░████████████████████░░░░░░
      │  error: charge returned 402
      └─ back   POST /charge    25.0ms ✗   +12.0ms ░░░░░░░█████████████████░░░░░░░░
         │  error: card declined
         ├─ back   db.query     3.00ms ✓   +13.0ms ░░░░░░░░███░░░░░░░░░░░░░░░░░░░░░
         └─ back   fraud check  4.00ms ✓   +20.0ms ░░░░░░░░░░░░████░░░░░░░░░░░░░░░░
";

fn checkout(args: &[&str], back: &str) -> String {
    let front = fixture("front.log");
    let mut all = vec!["tree", "4bf92f3577b34da6a3ce929d0e0e4736"];
    all.extend_from_slice(args);
    all.extend([front.as_str(), back]);
    let out = taskwire(&all, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn offsets_and_bars_show_when_each_task_ran() {
    assert_eq!(checkout(&["--waterfall"], &fixture("back.log")), WATERFALL);
}

#[test]
fn a_back_clock_two_seconds_behind_is_adjusted_and_flagged() {
    let dir = TempDir::new("skew");
    let back = dir.join("back.log");
    fs::write(&back, shifted("back.log", -2_000_000)).unwrap();
    let back = back.to_str().unwrap();

    let text = checkout(&["-w"], back);
    let mut lines = text.lines();
    // the trace lasts 50 ms, not two seconds, and starts when front's request did
    assert_eq!(lines.next(), WATERFALL.lines().next());
    assert_eq!(
        lines.next(),
        Some("! back: clock 2.00s behind front, adjusted")
    );
    // back's tasks sit inside the call, centred: 2.5 ms of network on each side
    let rest: Vec<&str> = lines.collect();
    let want: Vec<String> = WATERFALL
        .lines()
        .skip(1)
        .map(|l| {
            l.replace(
                "+12.0ms ░░░░░░░█████████████████░░░░░░░░",
                "+12.5ms ░░░░░░░░████████████████░░░░░░░░",
            )
            .replace("+13.0ms ░░░░░░░░███░", "+13.5ms ░░░░░░░░███░")
            .replace("+20.0ms ░░░░░░░░░░░░████░", "+20.5ms ░░░░░░░░░░░░░███░")
        })
        .collect();
    assert_eq!(rest, want);

    let json = checkout(&["--json"], back);
    let trace: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(trace["duration_us"], 50_000);
    assert_eq!(
        trace["skews"],
        serde_json::json!([{"service": "back", "relative_to": "front", "offset_us": 2_000_500}])
    );
    let server = &trace["roots"][0]["children"][1]["children"][0];
    assert_eq!(server["name"], "POST /charge");
    assert_eq!(server["offset_us"], 12_500);
    assert_eq!(server["start"], "2026-11-21T10:00:00.012500Z");
}

#[test]
fn a_call_whose_callee_log_was_not_given_says_so() {
    let dir = TempDir::new("callee");
    let front = dir.join("front.log");
    // the client task carries the HTTP client fields the reqwest middleware writes
    let log = fs::read_to_string(fixture("front.log")).unwrap().replace(
        r#""task.name":"POST back/charge""#,
        r#""url.full":"http://back/charge","task.name":"POST back/charge""#,
    );
    fs::write(&front, log).unwrap();
    let front = front.to_str().unwrap();

    let alone = stdout(&taskwire(
        &["tree", "4bf92f3577b34da6a3ce929d0e0e4736", front],
        b"",
    ));
    assert!(
        alone.contains(
            "   └─ front  POST back/charge  30.0ms ✗\n         error: charge returned 402\n         → calls a service whose log was not read\n"
        ),
        "{alone}"
    );
    let json = stdout(&taskwire(&["tree", "--json", front], b""));
    assert!(json.contains(r#""calls_unread_service":true"#), "{json}");

    let back = fixture("back.log");
    let both = stdout(&taskwire(&["tree", front, &back], b""));
    assert!(!both.contains("→ calls"), "{both}");
}
