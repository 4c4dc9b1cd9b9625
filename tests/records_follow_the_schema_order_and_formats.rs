//! Records follow docs/record-schema.md: keys in the documented order, and the documented
//! format of each built-in value (RFC 3339 UTC timestamps with microseconds, level names, thread
//! names or `ThreadId(N)`, process id, host).

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use support::{str_of, Buf};

fn emit_full_record(buf: &Buf, span_list: bool) -> String {
    let layer = support::json(buf)
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

#[test]
fn keys_are_written_in_the_documented_order() {
    let buf = Buf::default();
    let line = emit_full_record(&buf, false);
    assert_eq!(
        support::keys_in_order(&line),
        [
            "ts",
            "level",
            "target",
            "msg",
            "e1",
            "e2",
            "i1",
            "i2",
            "o1",
            "o2",
            "trace_id",
            "span_id",
            "parent_span_id",
            "file",
            "line",
            "module",
            "thread",
            "pid",
            "host",
            "service",
            "release",
            "region",
        ]
    );
}

#[test]
fn span_list_keys_are_written_in_the_documented_order() {
    let buf = Buf::default();
    let line = emit_full_record(&buf, true);
    assert_eq!(
        support::keys_in_order(&line),
        [
            "ts",
            "level",
            "target",
            "msg",
            "e1",
            "e2",
            "spans",
            "trace_id",
            "span_id",
            "parent_span_id",
            "file",
            "line",
            "module",
            "thread",
            "pid",
            "host",
            "service",
            "release",
            "region",
        ]
    );
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` into microseconds since the epoch.
fn parse_ts(ts: &str) -> i64 {
    let b = ts.as_bytes();
    assert_eq!(b.len(), 27, "{ts}");
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        assert_eq!(b[i], c, "{ts}");
    }
    let n = |r: std::ops::Range<usize>| -> i64 { ts[r].parse().expect("digits") };
    let (y, mo, d) = (n(0..4), n(5..7), n(8..10));
    let (h, mi, s, us) = (n(11..13), n(14..16), n(17..19), n(20..26));
    assert!((1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 60);
    ((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + us
}

fn now_micros() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(d.as_micros()).expect("fits")
}

#[test]
fn built_in_values_have_their_documented_formats() {
    let buf = Buf::default();
    let before = now_micros();
    support::with_layer(support::json(&buf), || {
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
        let ts = parse_ts(str_of(r, "ts"));
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
    let buf = Buf::default();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        support::json(&buf),
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
