//! A task record is located where its task is: `file`, `line` and `module` of `task.start` and
//! `task.end` are the call site of the `#[instrument]`ed function or of the span macro (a
//! path relative to the workspace, as for any event), never the tasks layer's own source file.
//! (Every task writes its records here: `all_tasks()`.)

use serde_json::Value;
use taskwire_test_support::Capture;
use tracing::instrument;
use tracing_subscriber::prelude::*;

/// (file, line, module) of the current span's call site.
fn current_site() -> (String, u32, String) {
    let span = tracing::Span::current();
    let meta = span.metadata().expect("inside a span");
    (
        meta.file().expect("file").to_owned(),
        meta.line().expect("line"),
        meta.module_path().expect("module").to_owned(),
    )
}

#[instrument]
fn charge(order: u64) -> (String, u32, String) {
    current_site()
}

fn run(span_list: bool, f: impl FnOnce()) -> Vec<Value> {
    let cap = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer().all_tasks().with_task_start(true))
        .with(
            taskwire_json::layer()
                .with_source_location(true)
                .with_span_list(span_list)
                .with_writer(cap.clone()),
        );
    tracing::subscriber::with_default(subscriber, f);
    cap.json_lines()
}

fn records<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["target"] == "taskwire::tasks" && l["task.name"] == name)
        .collect()
}

fn assert_site(records: &[&Value], (file, line, module): &(String, u32, String)) {
    assert_eq!(records.len(), 2, "task.start and task.end: {records:?}");
    for r in records {
        assert_eq!(r["file"], file.as_str(), "{r}");
        assert_eq!(r["line"], *line, "{r}");
        assert_eq!(r["module"], module.as_str(), "{r}");
        let f = r["file"].as_str().unwrap_or_default();
        assert!(!f.contains("records.rs"), "the tasks layer's own file: {r}");
        assert!(!f.starts_with('/'), "an absolute build path: {r}");
    }
}

#[test]
fn an_instrumented_functions_records_carry_its_call_site() {
    for span_list in [false, true] {
        let mut site = None;
        let lines = run(span_list, || site = Some(charge(7)));
        let site = site.expect("ran");
        assert_eq!(site.0, file!());
        assert_eq!(site.2, module_path!());
        assert_site(&records(&lines, "charge"), &site);
    }
}

#[test]
fn a_span_macros_records_carry_its_line() {
    for span_list in [false, true] {
        let mut line = 0;
        let lines = run(span_list, || {
            let span = tracing::info_span!("checkout", order = 3);
            line = line!() - 1;
            let _e = span.entered();
        });
        let site = (file!().to_owned(), line, module_path!().to_owned());
        assert_site(&records(&lines, "checkout"), &site);
    }
}

#[test]
fn nested_tasks_each_carry_their_own_call_site() {
    let mut inner = None;
    let lines = run(false, || {
        let _outer = tracing::info_span!("outer").entered();
        inner = Some(charge(1));
    });
    let inner = inner.expect("ran");
    assert_site(&records(&lines, "charge"), &inner);
    for r in records(&lines, "outer") {
        assert_eq!(r["file"], file!());
        assert_ne!(r["line"], inner.1, "{r}");
    }
}
