//! End to end against a real OpenTelemetry collector (started by `scripts/test`): the log
//! record of a `task.end` carries the task span's own call site in `code.file.path` and
//! `code.line.number` (the `#[instrument]`ed function), not the tasks layer's source file.

mod support;

use std::time::Duration;

use tracing_subscriber::prelude::*;

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
    let (url, log) = support::collector();
    let (otel, guard) = taskwire_otel::layer()
        .with_endpoint(&url)
        .with_service_name("otel-test-site")
        .with_logs(true)
        .build()
        .expect("starts");
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(otel);
    let (ctx, line) = tracing::subscriber::with_default(subscriber, || settle(42));
    assert!(guard.flush(Duration::from_secs(15)));
    let stats = guard.shutdown();
    assert!(stats.logs_exported >= 1, "{stats}");

    let trace = ctx.trace_id().to_string();
    let got = support::wait_for(&log, Duration::from_secs(10), |r| {
        !r.logs_of(&trace).is_empty()
    });
    let logs = got.logs_of(&trace);
    let end = logs
        .iter()
        .find(|l| l.body == "Str(task.end)")
        .unwrap_or_else(|| panic!("no task.end record in {logs:#?}"));
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
