//! End to end against a real OpenTelemetry collector (rotel, started by `scripts/test`): the
//! W3C trace flags of a task reach the collector in OTLP, random-trace-id bit included — `3`
//! for a trace taskwire started (sampled, random id), `1` for one imported without the flag.

mod support;

use std::time::Duration;

#[test]
fn log_records_carry_the_random_trace_flag() {
    let (otel, log) = support::to_collector("otel-test-flags");
    let (subscriber, guard) = support::under_tasks(otel.with_logs(true));
    let (started, imported) = tracing::subscriber::with_default(subscriber, || {
        let started = {
            let _root = tracing::info_span!("started_here").entered();
            tracing::info!("flags of a started trace");
            taskwire_tasks::current().expect("task")
        };
        let imported = {
            let span = taskwire_tasks::import(
                "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                tracing::info_span!("imported"),
            );
            let _e = span.enter();
            tracing::info!("flags of an imported trace");
            taskwire_tasks::current().expect("task")
        };
        (started, imported)
    });
    let _ = support::flush_and_shut_down(guard);

    let (started, imported) = (
        started.trace_id().to_string(),
        imported.trace_id().to_string(),
    );
    let got = support::wait_for(&log, Duration::from_secs(10), |r| {
        !r.logs_of(&started).is_empty() && !r.logs_of(&imported).is_empty()
    });
    let flags = |trace: &str, body: &str| got.log_containing(trace, body).flags.as_str();
    assert_eq!(flags(&started, "flags of a started trace"), "3");
    assert_eq!(flags(&imported, "flags of an imported trace"), "1");
}
