//! The reader's tests (and the sample records other modules' tests use).

use super::*;

pub(in crate::trace) const TASK: &str = r#"{"ts":"2026-11-21T19:01:01.943172Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"GET /x","task.target":"shop","task.outcome":"failed","task.duration_us":1500,"task.busy_us":900,"task.errors":1,"task.failed_children":0,"task.remote_parent":false,"task.failure":"boom","order_id":7,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":"1111111111111111","thread":"main","pid":1,"host":"vm","service":"front"}"#;

fn read(text: &str) -> (Collected, u64) {
    let mut r = Reader::new();
    let bad = r
        .read_from(text.as_bytes())
        .map_or(u64::MAX, |c| c.malformed);
    (r.finish(), bad)
}

#[test]
fn reads_a_task_record() {
    let (c, bad) = read(TASK);
    assert_eq!(bad, 0);
    let t = &c.tasks[0];
    assert_eq!(t.trace, 0x4bf92f3577b34da6a3ce929d0e0e4736);
    assert_eq!(t.span, 0x00f067aa0ba902b7);
    assert_eq!(t.parent(), Some(0x1111111111111111));
    assert!(t.failed && !t.remote_parent);
    assert_eq!(c.str(t.name), "GET /x");
    assert_eq!(t.service.map(|s| c.str(s)), Some("front"));
    assert_eq!(t.failure.map(|s| c.str(s)), Some("boom"));
    assert_eq!((t.duration_us, t.busy_us, t.errors), (1500, 900, 1));
    assert_eq!(t.start_us(), t.end_us - 1500);
}

/// serde's renames are string literals: this line is written with the schema's names, so
/// a key renamed in `taskwire_core::schema` without the reader fails here.
#[test]
fn reads_the_keys_the_schema_names() {
    use serde_json::{Map, Value};
    use taskwire_core::schema::{header, task_record::keys, TASK_NAME};
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| m.insert(k.to_owned(), v);
    put(header::TIMESTAMP, "2026-11-21T19:01:01.943172Z".into());
    put(header::LEVEL, "INFO".into());
    put(header::TARGET, TASKS_TARGET.into());
    put(header::MESSAGE, task_record::END.into());
    put(TASK_NAME, "GET /x".into());
    put(keys::TARGET, "shop".into());
    put(keys::OUTCOME, "failed".into());
    put(keys::DURATION_US, 1500.into());
    put(keys::BUSY_US, 900.into());
    put(keys::ERRORS, 1.into());
    put(keys::FAILED_CHILDREN, 2.into());
    put(keys::REMOTE_PARENT, true.into());
    put(keys::FAILURE, "boom".into());
    put(header::TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736".into());
    put(header::SPAN_ID, "00f067aa0ba902b7".into());
    put(header::PARENT_SPAN_ID, "1111111111111111".into());
    put(header::SERVICE, "front".into());
    let (c, bad) = read(&Value::Object(m).to_string());
    assert_eq!(bad, 0);
    let t = &c.tasks[0];
    assert_eq!(c.str(t.name), "GET /x");
    assert_eq!(t.failure.map(|s| c.str(s)), Some("boom"));
    assert_eq!(t.service.map(|s| c.str(s)), Some("front"));
    assert!(t.failed && t.remote_parent);
    assert_eq!((t.duration_us, t.busy_us, t.errors), (1500, 900, 1));
    assert_eq!(t.parent(), Some(0x1111111111111111));
    assert_eq!(t.target.map(|s| c.str(s)), Some("shop"));
    assert_eq!(t.failed_children, 2);
}

#[test]
fn error_messages_come_from_msg_or_the_error_field() {
    let text = concat!(
        r#"{"level":"ERROR","msg":"card declined","ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
        "\n",
        r#"{"level":"ERROR","msg":"","error":{"message":"outer \"x\"","source":["a"]},"ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
        "\n",
        r#"{"level":"ERROR","msg":"","error":"plain","ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
        "\n",
        r#"{"level":"ERROR","msg":"","error":[1,{"a":2}],"ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
        "\n",
        // outside any span: fine, not kept
        r#"{"level":"ERROR","msg":"no span","ts":"2026-01-01T00:00:00Z"}"#,
        "\n",
    );
    let (c, bad) = read(text);
    assert_eq!(bad, 0);
    let msgs: Vec<&str> = c.events.iter().map(|e| c.str(e.msg)).collect();
    assert_eq!(
        msgs,
        ["card declined", "outer \"x\"", "plain", "(no message)"]
    );
}

#[test]
fn malformed_lines_are_counted_and_others_ignored() {
    let long = format!("{{\"x\":\"{}", "a".repeat(3 << 20)); // longer than a chunk, truncated
    let text = format!(
        "\n   \n\u{1}\u{2}junk\n{{\"msg\":\"task.end\",\"target\":\"taskwire::tasks\"\n{long}\n{TASK}\n{{\"level\":\"INFO\",\"msg\":\"hello\"}}\n{}\n",
        &TASK[..TASK.len() - 1]
    );
    let (c, bad) = read(&text);
    assert_eq!(c.tasks.len(), 1);
    assert_eq!(bad, 6);
}

#[test]
fn lines_longer_than_the_limit_are_skipped_without_being_kept() {
    let huge = format!("{{\"msg\":\"{}\"}}", "x".repeat(5 * CHUNK));
    let other = TASK.replace("00f067aa0ba902b7", "00f067aa0ba902b8");
    let mut r = Reader::new().with_max_line(2 * CHUNK);
    let bad = r
        .read_from(io::Cursor::new(format!("{TASK}\n{huge}\n{other}\n{huge}")))
        .map_or(9, |c| c.malformed);
    assert_eq!((r.finish().tasks.len(), bad), (2, 2));
}

#[test]
fn a_task_record_with_bad_ids_is_malformed() {
    for bad in [
        TASK.replace(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "4BF92F3577B34DA6A3CE929D0E0E4736",
        ),
        TASK.replace("00f067aa0ba902b7", "00f067aa0ba902b"),
        TASK.replace("1111111111111111", "+111111111111111"),
        TASK.replace("2026-11-21T19:01:01.943172Z", "yesterday"),
        TASK.replace("\"task.duration_us\":1500", "\"task.duration_us\":-1"),
    ] {
        let (c, n) = read(&bad);
        assert_eq!((c.tasks.len(), n), (0, 1), "{bad}");
    }
}

#[test]
fn a_line_without_a_final_newline_or_with_crlf_is_read() {
    let other = TASK.replace("00f067aa0ba902b7", "00f067aa0ba902b8");
    let (c, bad) = read(&format!("{TASK}\r\n{other}"));
    assert_eq!((c.tasks.len(), bad), (2, 0));
}

#[test]
fn a_repeated_record_is_read_once_and_counted() {
    let error = r#"{"level":"ERROR","msg":"card declined","ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#;
    let mut r = Reader::new();
    for _ in 0..2 {
        let _ = r.read_from(format!("{TASK}\n{error}\n").as_bytes());
    }
    let c = r.finish();
    assert_eq!((c.tasks.len(), c.events.len(), c.repeats), (1, 1, 2));
}

#[test]
fn a_cut_last_line_is_told_from_a_malformed_one() {
    let mut r = Reader::new();
    let cut = r.read_from(format!("{TASK}\n{}", &TASK[..40]).as_bytes());
    assert_eq!(
        cut.ok(),
        Some(Counts {
            malformed: 0,
            cut_last_line: true
        })
    );
    let whole_but_bad = TASK.replace("00f067aa0ba902b7", "zz");
    let bad = r.read_from(whole_but_bad.as_bytes());
    assert_eq!(
        bad.ok(),
        Some(Counts {
            malformed: 1,
            cut_last_line: false
        })
    );
}

#[test]
fn a_query_keeps_the_traces_it_matches() {
    let other = TASK
        .replace(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "0af7651916cd43dd8448eb211c80319c",
        )
        .replace("\"order_id\":7", "\"order_id\":8");
    let q: Query = "order_id=8".parse().unwrap_or_default();
    let mut r = Reader::with_query(&q, 0);
    let _ = r.read_from(format!("{TASK}\n{other}\n").as_bytes());
    let c = r.finish();
    let traces: Vec<u128> = c.tasks.iter().map(|t| t.trace).collect();
    assert_eq!(traces, [0x0af7651916cd43dd8448eb211c80319c]);
}

#[test]
fn trace_filter_keeps_only_that_trace() {
    let other = TASK.replace(
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "0af7651916cd43dd8448eb211c80319c",
    );
    let mut r = Reader::for_trace(0x0af7651916cd43dd8448eb211c80319c);
    let bad = r
        .read_from(io::Cursor::new(format!("{TASK}\n{other}\n")))
        .map_or(9, |c| c.malformed);
    let c = r.finish();
    assert_eq!((c.tasks.len(), bad), (1, 0));
    assert_eq!(c.tasks[0].trace, 0x0af7651916cd43dd8448eb211c80319c);
}

#[test]
fn strings_are_interned_once() {
    let other = TASK.replace("00f067aa0ba902b7", "00f067aa0ba902b8");
    let (c, _) = read(&format!("{TASK}\n{other}\n"));
    assert_eq!(c.tasks.len(), 2);
    assert_eq!(c.tasks[0].name, c.tasks[1].name);
    assert_eq!(c.strings.len(), 4); // name, target, service, failure
}
