//! Properties of the reader and the builder together.

use proptest::prelude::*;

use super::{build, Keep};
use super::{LineKind, Reader};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever bytes arrive, the reader neither panics nor invents tasks.
    #[test]
    fn the_line_parser_never_panics(lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20)) {
        let mut r = Reader::new();
        for l in &lines {
            let _ = r.line(l);
        }
        let mut joined = Vec::new();
        for l in &lines {
            joined.extend_from_slice(l);
            joined.push(b'\n');
        }
        let _ = r.read_from(&joined[..]);
        let _ = build(r.finish(), Keep::default());
    }

    /// JSON-looking garbage around the keys we read is handled too.
    #[test]
    fn json_like_lines_never_panic(s in r#"\{("(task\.end|ERROR|taskwire::tasks|msg|target|level|trace_id|span_id|ts|error|message|task\.[a-z_]+)"|[:,\[\]{}0-9a-f"\\ ]|true|null){0,40}\}"#) {
        let mut r = Reader::new();
        let _ = r.line(s.as_bytes());
        let _ = build(r.finish(), Keep::default());
    }

    /// Every well-formed task record comes back in the tree, exactly once, wherever its
    /// parent is (present, absent, remote) and whatever its strings hold.
    #[test]
    fn well_formed_task_records_come_back(
        tasks in prop::collection::vec(
            (
                0u8..3,                      // trace
                any::<u64>(),                // span
                prop::option::of(0usize..40),// parent: index of another task, or none
                any::<bool>(),               // remote parent
                any::<bool>(),               // failed
                ".{0,20}",                   // name
                prop::option::of(".{0,10}"), // service
                0u64..10_000_000_000,        // duration
                0i64..2_000_000_000_000_000, // end, µs since the epoch
                prop::option::of(".{0,20}"), // failure
            ),
            1..40,
        ),
        noise in prop::collection::vec(".{0,40}", 0..10),
    ) {
        let mut spans: Vec<u64> = tasks.iter().map(|t| t.1).collect();
        spans.sort_unstable();
        spans.dedup();
        prop_assume!(spans.len() == tasks.len());
        let mut text = String::new();
        for (i, (trace, span, parent, remote, failed, name, service, dur, end, failure)) in tasks.iter().enumerate() {
            let mut rec = serde_json::json!({
                "ts": taskwire_core::time::Rfc3339(*end).to_string(),
                "level": "INFO",
                "target": "taskwire::tasks",
                "msg": "task.end",
                "task.name": name,
                "task.target": "t",
                "task.outcome": if *failed { "failed" } else { "succeeded" },
                "task.duration_us": dur,
                "task.busy_us": dur / 2,
                "task.errors": 0,
                "task.failed_children": 0,
                "task.remote_parent": remote,
                "some_field": {"nested": [1, 2, {"msg": "task.end"}]},
                "trace_id": format!("{:032x}", u128::from(*trace) + 1),
                "span_id": format!("{span:016x}"),
            });
            if let Some(p) = parent {
                let p = tasks.get(*p).map_or(0xdead, |t| t.1);
                rec["parent_span_id"] = format!("{p:016x}").into();
            }
            if let Some(s) = service {
                rec["service"] = s.as_str().into();
            }
            if let Some(f) = failure {
                rec["task.failure"] = f.as_str().into();
            }
            text.push_str(&rec.to_string());
            text.push('\n');
            if let Some(n) = noise.get(i) {
                text.push_str(n);
                text.push('\n');
            }
        }
        let mut r = Reader::new();
        r.read_from(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let f = build(r.finish(), Keep::default());
        let mut shown: Vec<(u128, u64, &str)> = f
            .traces
            .iter()
            .flat_map(|t| f.nodes_of(t).into_iter().map(|n| &f.tasks[n.task()]))
            .map(|t| (t.trace, t.span, f.str(t.name)))
            .collect();
        shown.sort_unstable();
        let mut want: Vec<(u128, u64, &str)> = tasks
            .iter()
            .map(|t| (u128::from(t.0) + 1, t.1, t.5.as_str()))
            .collect();
        want.sort_unstable();
        prop_assert_eq!(shown, want);
        // every trace's walk is a valid pre-order: depth grows by at most one
        for t in &f.traces {
            let nodes = f.nodes_of(t);
            prop_assert_eq!(nodes.first().map(|n| n.depth()), Some(0));
            for w in nodes.windows(2) {
                prop_assert!(w[1].depth() <= w[0].depth() + 1);
            }
        }
    }
}

#[test]
fn a_well_formed_line_is_recognized() {
    let mut r = Reader::new();
    let line = br#"{"ts":"2026-01-01T00:00:00Z","target":"taskwire::tasks","msg":"task.end","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#;
    assert_eq!(r.line(line), LineKind::Task);
    assert_eq!(r.line(b"{}"), LineKind::Other);
    assert_eq!(r.line(b"{"), LineKind::Malformed);
}

#[test]
fn a_trace_taken_out_brings_its_own_strings_and_leaves_the_others() {
    let other = super::read::tests::TASK
        .replace(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "0af7651916cd43dd8448eb211c80319c",
        )
        .replace("GET /x", "GET /y")
        .replace(r#","parent_span_id":"1111111111111111""#, "");
    let mut r = Reader::new();
    assert_eq!(r.line(super::read::tests::TASK.as_bytes()), LineKind::Task);
    assert_eq!(r.ended_root(), None, "a task with a parent ends no root");
    assert_eq!(r.line(other.as_bytes()), LineKind::Task);
    assert_eq!(r.ended_root(), Some(0x0af7651916cd43dd8448eb211c80319c));
    let taken = r.take_trace(0x0af7651916cd43dd8448eb211c80319c).unwrap();
    assert_eq!(taken.tasks.len(), 1);
    assert_eq!(taken.str(taken.tasks[0].name), "GET /y");
    assert_eq!(taken.strings.len(), 4, "name, target, service, failure");
    let rest = r.finish();
    assert_eq!(rest.tasks.len(), 1);
    assert_eq!(rest.str(rest.tasks[0].name), "GET /x");
}
