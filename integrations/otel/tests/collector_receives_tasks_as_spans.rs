//! End to end against a real OpenTelemetry collector (rotel, started by `scripts/test`): what
//! the collector received, read from its debug log, is the task tree taskwire recorded, with
//! its ids, parent links, statuses, attributes, span events and resource; and records arrive
//! as log records carrying their task's trace and span ids.

mod support;

use std::time::Duration;

#[test]
fn collector_receives_the_task_tree_with_taskwire_ids() {
    let (otel, log) = support::to_collector("otel-test-tree");
    let (subscriber, guard) = support::under_tasks(
        otel.with_service_version("1.2.3")
            .with_resource_attribute("deployment.environment.name", "test"),
    );
    let (root, child) = tracing::subscriber::with_default(subscriber, || {
        let root = tracing::info_span!(
            "checkout",
            task.name = "POST /checkout",
            order = 7_u64,
            api_key = "s3cr3t",
            note = "two\nlines"
        );
        let _r = root.enter();
        let root_ctx = taskwire_tasks::current().expect("task");
        let child_ctx = {
            let _c = tracing::info_span!("charge", amount = 19.5_f64, retry = true).entered();
            tracing::warn!(attempt = 2_i64, "bank slow");
            taskwire_tasks::fail("card declined");
            taskwire_tasks::current().expect("task")
        };
        (root_ctx, child_ctx)
    });
    let stats = support::flush_and_shut_down(guard);
    assert_eq!(stats.spans_exported, 2, "{stats}");

    let trace = root.trace_id().to_string();
    let got = support::wait_for(&log, Duration::from_secs(10), |r| {
        r.trace(&trace).len() >= 2
    });
    let spans = got.trace(&trace);
    assert_eq!(spans.len(), 2, "collector received {spans:#?}");
    let r = got
        .span(&root.span_id().to_string())
        .expect("root span received");
    let c = got
        .span(&child.span_id().to_string())
        .expect("child span received");

    assert_eq!(r.name, "POST /checkout");
    assert_eq!(r.parent_id, "", "root has no parent: {r:#?}");
    assert_eq!(c.name, "charge");
    assert_eq!(c.trace_id, trace);
    assert_eq!(c.parent_id, root.span_id().to_string());
    assert_eq!(c.kind, "SPAN_KIND_INTERNAL");

    assert_eq!(c.status_code, "STATUS_CODE_ERROR");
    assert_eq!(c.status_message, "card declined");
    assert_eq!(c.attr("task.outcome"), Some("Str(failed)"));
    assert_eq!(r.status_code, "STATUS_CODE_UNSET");
    assert_eq!(r.attr("task.outcome"), Some("Str(succeeded)"));
    assert_eq!(r.attr("task.failed_children"), Some("Int(1)"));

    assert_eq!(r.attr("order"), Some("Int(7)"));
    assert_eq!(r.attr("api_key"), Some("Str([redacted])"));
    assert_eq!(r.attr("note"), Some("Str(two\nlines)"));
    assert_eq!(c.attr("amount"), Some("Double(19.5)"));
    assert_eq!(c.attr("retry"), Some("Bool(true)"));
    assert!(r.attr("task.busy_us").is_some());

    assert_eq!(c.events.len(), 1, "{:#?}", c.events);
    assert_eq!(c.events[0].name, "bank slow");
    assert!(c.events[0]
        .attributes
        .iter()
        .any(|(k, v)| k == "attempt" && v == "Int(2)"));
    assert!(c.events[0]
        .attributes
        .iter()
        .any(|(k, v)| k == "level" && v == "Str(WARN)"));

    assert_eq!(r.resource_attr("service.name"), Some("Str(otel-test-tree)"));
    assert_eq!(r.resource_attr("service.version"), Some("Str(1.2.3)"));
    assert_eq!(
        r.resource_attr("deployment.environment.name"),
        Some("Str(test)")
    );
    let host = format!("Str({})", taskwire_core::process::hostname());
    assert_eq!(r.resource_attr("host.name"), Some(host.as_str()));
    assert!(r.scope.starts_with("taskwire"), "{}", r.scope);
}

#[test]
fn collector_receives_records_as_logs_with_task_ids() {
    let (otel, log) = support::to_collector("otel-test-logs");
    let (subscriber, guard) = support::under_tasks(otel.with_logs(true));
    let ctx = tracing::subscriber::with_default(subscriber, || {
        let _t = tracing::info_span!("import", batch = 3_i64, password = "x").entered();
        tracing::error!(rows = 12_u64, token = "abc", "import failed");
        taskwire_tasks::current().expect("task")
    });
    let stats = support::flush_and_shut_down(guard);
    assert!(stats.logs_exported >= 2, "{stats}");

    let trace = ctx.trace_id().to_string();
    let got = support::wait_for(&log, Duration::from_secs(10), |r| {
        r.logs_of(&trace).len() >= 2
    });
    let failed = got.log_of(&trace, "Str(import failed)");
    assert_eq!(failed.span_id, ctx.span_id().to_string());
    assert_eq!(failed.severity_text, "ERROR");
    assert_eq!(failed.attr("rows"), Some("Int(12)"));
    assert_eq!(failed.attr("token"), Some("Str([redacted])"));
    // The task's fields come along, as in taskwire's JSON records.
    assert_eq!(failed.attr("batch"), Some("Int(3)"));
    assert_eq!(failed.attr("password"), Some("Str([redacted])"));
    // The tasks layer's task.end record is a log record too, with the task's outcome.
    let end = got.log_of(&trace, "Str(task.end)");
    assert_eq!(end.attr("task.outcome"), Some("Str(failed)"));
    assert_eq!(
        failed
            .resource
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.as_str()),
        Some("Str(otel-test-logs)")
    );
}
