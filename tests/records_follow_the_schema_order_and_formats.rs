//! Records follow docs/record-schema.md: keys in the documented order, the documented format of
//! each built-in value (RFC 3339 UTC timestamps with microseconds, level names, thread names or
//! `ThreadId(N)`, process id, host), and the default record without the source location and
//! process keys, each one call away.

mod support;

use taskwire_test_support::json_line::{self, str_of};
use taskwire_test_support::Capture;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use taskwire::json::Key;

fn emit_full_record(buf: &Capture, span_list: bool) -> String {
    emit_record(support::json_all_keys(buf), buf, span_list)
}

fn emit_record(
    layer: taskwire::json::JsonLayer<Capture>,
    buf: &Capture,
    span_list: bool,
) -> String {
    let layer = layer
        .with_service("svc")
        .with_release("1.2.3")
        .with_static_field("region", "eu")
        .with_span_list(span_list);
    support::with_layer(layer, || {
        let _o = tracing::info_span!("outer", o1 = 1, o2 = 2).entered();
        let _i = tracing::info_span!("inner", i1 = 1, i2 = 2).entered();
        tracing::info!(e1 = 1, e2 = 2, "message");
    });
    let mut lines = buf.lines();
    assert_eq!(lines.len(), 1);
    lines.remove(0)
}

/// The documented key order of the record [`emit_full_record`] writes: the built-in head, the
/// event's fields, then the span fields (`spans` in span-list mode), then the built-in tail.
fn documented_order(span_fields: &[&'static str]) -> Vec<&'static str> {
    [
        &support::KEYS_BEFORE_FIELDS[..],
        &["e1", "e2"],
        span_fields,
        &support::KEYS_AFTER_FIELDS,
        &["region"],
    ]
    .concat()
}

#[test]
fn the_default_record_is_the_documented_order_without_location_and_process_keys() {
    let buf = Capture::default();
    let line = emit_record(support::json(&buf), &buf, false);
    let mut want = documented_order(&["i1", "i2", "o1", "o2"]);
    want.retain(|k| !support::KEYS_OFF_BY_DEFAULT.contains(k));
    assert_eq!(json_line::keys_in_order(&line), want);
}

#[test]
fn each_key_off_by_default_is_one_call_away() {
    let keys = |layer: taskwire::json::JsonLayer<Capture>, buf: &Capture| {
        support::with_layer(layer, || tracing::info!("x"));
        let line = buf.lines().remove(0);
        let mut keys = json_line::keys_in_order(&line);
        keys.retain(|k| !support::KEYS_BEFORE_FIELDS.contains(&k.as_str()));
        keys
    };
    let buf = Capture::default();
    assert_eq!(
        keys(support::json(&buf).with_source_location(true), &buf),
        ["file", "line", "module"]
    );
    let buf = Capture::default();
    assert_eq!(
        keys(support::json(&buf).with_process(true), &buf),
        ["thread", "pid", "host"]
    );
    let buf = Capture::default();
    assert_eq!(
        keys(
            support::json(&buf)
                .with_key(Key::Line)
                .with_key_name(Key::Host, "hostname"),
            &buf
        ),
        ["line", "hostname"]
    );
    // a key already on keeps its name; `false` turns a group off again
    let buf = Capture::default();
    assert_eq!(
        keys(
            support::json_all_keys(&buf)
                .with_key_name(Key::Pid, "process_id")
                .with_key(Key::Pid)
                .with_source_location(false),
            &buf
        ),
        ["thread", "process_id", "host"]
    );
}

#[test]
fn keys_are_written_in_the_documented_order() {
    let buf = Capture::default();
    let line = emit_full_record(&buf, false);
    assert_eq!(
        json_line::keys_in_order(&line),
        documented_order(&["i1", "i2", "o1", "o2"])
    );
}

#[test]
fn span_list_keys_are_written_in_the_documented_order() {
    let buf = Capture::default();
    let line = emit_full_record(&buf, true);
    assert_eq!(
        json_line::keys_in_order(&line),
        documented_order(&["spans"])
    );
}

fn now_micros() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(d.as_micros()).expect("fits")
}

#[test]
fn built_in_values_have_their_documented_formats() {
    let buf = Capture::default();
    let before = now_micros();
    support::with_layer(support::json_all_keys(&buf), || {
        tracing::trace!("t");
        tracing::debug!("d");
        tracing::info!("i");
        tracing::warn!("w");
        tracing::error!("e");
    });
    let after = now_micros();
    let records = buf.records();
    let levels: Vec<_> = records.iter().map(|r| r["level"].clone()).collect();
    assert_eq!(
        levels,
        [
            json!("TRACE"),
            json!("DEBUG"),
            json!("INFO"),
            json!("WARN"),
            json!("ERROR")
        ]
    );
    let mut last = 0;
    for r in &records {
        let ts = json_line::ts_micros(str_of(r, "ts"));
        // The clock is read once per record, between `before` and `after` (whole microseconds).
        assert!(
            ts >= before - 1 && ts <= after + 1,
            "{ts} not in {before}..={after}"
        );
        assert!(ts >= last, "timestamps go backwards");
        last = ts;
        assert_eq!(r["pid"], json!(std::process::id()));
        assert!(!str_of(r, "host").is_empty());
        assert_eq!(r["target"], json!(module_path!()));
        assert_eq!(r["module"], json!(module_path!()));
        assert_eq!(str_of(r, "file"), file!());
        assert!(r["line"].is_u64());
        // Test threads are named after the test.
        assert_eq!(
            r["thread"],
            json!("built_in_values_have_their_documented_formats")
        );
    }
}

#[test]
fn an_unnamed_thread_is_written_as_its_thread_id() {
    let buf = Capture::default();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        support::json_all_keys(&buf),
    ));
    let id = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || tracing::info!("unnamed"));
        std::thread::current().id()
    })
    .join()
    .expect("thread");
    assert_eq!(buf.records()[0]["thread"], json!(format!("{id:?}")));
}

#[test]
fn an_event_without_a_message_has_an_empty_msg() {
    let records = support::capture(|| tracing::info!(a = 1));
    assert_eq!(records[0]["msg"], json!(""));
}
