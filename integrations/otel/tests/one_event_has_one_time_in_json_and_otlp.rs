//! End to end against a real OpenTelemetry collector (started by `scripts/test`): an event
//! written by the JSON layer and exported as an OTLP log record and span event carries one
//! time: the OTLP timestamp (nanoseconds) rendered to microseconds is the JSON record's `ts`,
//! even when writing the JSON line takes a while.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use taskwire_test_support::{Capture, Slow};
use tracing_subscriber::prelude::*;

/// The `ts` of the JSON line whose `msg` is `msg`.
fn json_ts(lines: &Capture, msg: &str) -> String {
    let record = lines
        .json_lines()
        .into_iter()
        .find(|r| r["msg"] == msg)
        .unwrap_or_else(|| panic!("no {msg:?} in {}", lines.text()));
    record["ts"].as_str().expect("ts").to_owned()
}

/// An OTLP timestamp (nanoseconds since the epoch, as printed) rendered as taskwire's `ts`.
fn as_ts(nanos: &str) -> String {
    let nanos: u64 = nanos.parse().expect("nanoseconds");
    let mut out = Vec::new();
    taskwire_core::time::write_rfc3339(&mut out, UNIX_EPOCH + Duration::from_nanos(nanos));
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn json_ts_and_otlp_log_and_span_event_times_agree() {
    let (otel, log) = support::to_collector("otel-test-one-time");
    let (otel, guard) = otel
        .with_logs(true)
        .with_span_events(true)
        .build()
        .expect("starts");
    // Each write takes at least 50 µs, so a layer reading the clock after the JSON layer would
    // read a later time.
    let lines = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(
            taskwire_json::layer().with_writer(Slow::new(lines.clone(), Duration::from_micros(50))),
        )
        .with(otel);
    let ctx = tracing::subscriber::with_default(subscriber, || {
        let _t = tracing::info_span!("job").entered();
        tracing::info!("first");
        tracing::info!("second");
        taskwire_tasks::current().expect("task")
    });
    let _ = support::flush_and_shut_down(guard);

    let trace = ctx.trace_id().to_string();
    let span_id = ctx.span_id().to_string();
    let got = support::wait_for(&log, Duration::from_secs(10), |r| {
        r.logs_of(&trace).len() >= 3 && r.span(&span_id).is_some()
    });
    let span = got.span(&span_id).expect("span");
    for msg in ["first", "second"] {
        let json = json_ts(&lines, msg);
        let record = got.log_of(&trace, &format!("Str({msg})"));
        assert_eq!(
            as_ts(&record.timestamp),
            json,
            "log record of {msg}: {record:#?}"
        );
        let event = span
            .events
            .iter()
            .find(|e| e.name == msg)
            .unwrap_or_else(|| panic!("no {msg} span event in {span:#?}"));
        assert_eq!(
            as_ts(&event.timestamp),
            json,
            "span event {msg}: {event:#?}"
        );
    }
}
