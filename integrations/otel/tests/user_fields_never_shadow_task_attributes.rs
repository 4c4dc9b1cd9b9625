//! End to end against a real OpenTelemetry collector (started by `scripts/test`): a span field
//! named like a task key (`task.outcome`, `task.errors`, …) is exported as `fields.<name>`, on
//! the span and on the log records, so the task's own `task.outcome` is never repeated or
//! replaced by it, and the user's value is not lost from the `task.end` record.

mod support;

use std::time::Duration;

#[test]
fn task_named_span_fields_are_prefixed_on_spans_and_logs() {
    let (otel, log) = support::to_collector("otel-test-task-keys");
    let (subscriber, guard) = support::under_tasks(otel.with_logs(true));
    let ctx = tracing::subscriber::with_default(subscriber, || {
        let _t = tracing::info_span!("job", task.outcome = "user-outcome", task.errors = 9_i64)
            .entered();
        tracing::info!("working");
        taskwire_tasks::current().expect("task")
    });
    let _ = support::flush_and_shut_down(guard);

    let trace = ctx.trace_id().to_string();
    let span_id = ctx.span_id().to_string();
    let got = support::wait_for(&log, Duration::from_secs(10), |r| {
        r.logs_of(&trace).len() >= 2 && r.span(&span_id).is_some()
    });
    let span = got.span(&span_id).expect("span");
    assert_eq!(
        span.attr("task.outcome"),
        Some("Str(succeeded)"),
        "{span:#?}"
    );
    assert_eq!(
        span.attr("fields.task.outcome"),
        Some("Str(user-outcome)"),
        "{span:#?}"
    );
    assert_eq!(span.attr("fields.task.errors"), Some("Int(9)"), "{span:#?}");
    let n = span
        .attributes
        .iter()
        .filter(|(k, _)| k == "task.outcome")
        .count();
    assert_eq!(n, 1, "{span:#?}");

    let working = got.log_of(&trace, "Str(working)");
    assert_eq!(
        working.attr("fields.task.outcome"),
        Some("Str(user-outcome)")
    );
    assert_eq!(working.attr("task.outcome"), None, "{working:#?}");
    let end = got.log_of(&trace, "Str(task.end)");
    assert_eq!(end.attr("task.outcome"), Some("Str(succeeded)"), "{end:#?}");
    assert_eq!(
        end.attr("fields.task.outcome"),
        Some("Str(user-outcome)"),
        "{end:#?}"
    );
    assert_eq!(end.attr("fields.task.errors"), Some("Int(9)"), "{end:#?}");
}
