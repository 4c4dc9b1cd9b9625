//! End to end against a real OpenTelemetry collector (started by `scripts/test`): the log
//! record of a `task.end` carries the task span's own call site in `code.file.path` and
//! `code.line.number` (the `#[instrument]`ed function), not the tasks layer's source file.

mod support;

use std::time::Duration;

#[tracing::instrument]
fn settle(invoice: u64) -> (taskwire_tasks::TaskContext, u32) {
    let line = tracing::Span::current()
        .metadata()
        .and_then(|m| m.line())
        .expect("a span with a line");
    (taskwire_tasks::current().expect("task"), line)
}

#[test]
fn task_end_log_is_located_at_the_instrumented_function() {
    let (otel, log) = support::to_collector("otel-test-site");
    let (subscriber, guard) = support::under_tasks(otel.with_logs(true));
    let (ctx, line) = tracing::subscriber::with_default(subscriber, || settle(42));
    let stats = support::flush_and_shut_down(guard);
    assert!(stats.logs_exported >= 1, "{stats}");

    let trace = ctx.trace_id().to_string();
    let got = support::wait_for(&log, Duration::from_secs(10), |r| {
        !r.logs_of(&trace).is_empty()
    });
    let end = got.log_of(&trace, "Str(task.end)");
    assert_eq!(
        end.attr("code.file.path"),
        Some(format!("Str({})", file!()).as_str()),
        "{end:#?}"
    );
    assert_eq!(
        end.attr("code.line.number"),
        Some(format!("Int({line})").as_str()),
        "{end:#?}"
    );
}
