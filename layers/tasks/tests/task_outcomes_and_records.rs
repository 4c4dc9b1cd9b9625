//! A task's outcome, counts and records: failed on an ERROR inside it, on `fail()`, or on a
//! recorded `outcome = "failed"`; a failed child never fails its parent but is counted; which
//! tasks emit records; sampling.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{run, spin};
use taskwire_tasks::{Sampler, TaskRecords};
use taskwire_test_support::Capture;
use tracing_subscriber::prelude::*;

/// The wall and busy microseconds of the first `task.end` record.
fn wall_and_busy(cap: &Capture) -> (u64, u64) {
    let e = &task_ends(cap)[0];
    let us = |k: &str| e[k].as_u64().expect("a duration in microseconds");
    (us("task.duration_us"), us("task.busy_us"))
}

/// The `task.end` records `cap` holds, as JSON values (a missing key reads as `null`).
fn task_ends(cap: &Capture) -> Vec<Value> {
    cap.task_ends().into_iter().map(Value::Object).collect()
}

fn by_name<'a>(ends: &'a [Value], name: &str) -> &'a Value {
    ends.iter()
        .find(|e| e["task.name"] == name)
        .unwrap_or_else(|| panic!("no task.end for {name}: {ends:?}"))
}

#[test]
fn error_event_fails_the_innermost_task_only_and_the_parent_counts_it() {
    let cap = run(taskwire_tasks::layer(), || {
        let _root = tracing::info_span!("root").entered();
        {
            let _c = tracing::info_span!("child").entered();
            tracing::error!(code = 7, "charge declined");
        }
        {
            let _ok = tracing::info_span!("sibling").entered();
            tracing::warn!("only a warning");
        }
    });
    let ends = task_ends(&cap);
    // `sibling` succeeded quickly: summarised in `root`'s record (the default policy)
    assert_eq!(ends.len(), 2);
    let child = by_name(&ends, "child");
    assert_eq!(child["task.outcome"], "failed");
    assert_eq!(child["task.errors"], 1);
    assert_eq!(child["task.failure"], "charge declined");
    let root = by_name(&ends, "root");
    assert_eq!(root["task.children"], 1);
    assert!(root["task.children_summary"]
        .as_str()
        .is_some_and(|s| s.starts_with("sibling:1:")));
    assert_eq!(root["task.outcome"], "succeeded");
    assert_eq!(root["task.failed_children"], 1);
    assert_eq!(root["task.errors"], 0);
    // ids: one tree
    assert_eq!(child["trace_id"], root["trace_id"]);
    assert_eq!(child["parent_span_id"], root["span_id"]);
    assert!(root.get("parent_span_id").is_none());
}

#[derive(Debug)]
struct Declined;
impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}

#[tracing::instrument(err)]
fn charge(amount: u64) -> Result<(), Declined> {
    if amount > 100 {
        Err(Declined)
    } else {
        Ok(())
    }
}

#[test]
fn instrument_err_marks_the_task_failed() {
    let cap = run(taskwire_tasks::layer(), || {
        let _ = charge(5);
        let _ = charge(500);
    });
    let ends = task_ends(&cap);
    let outcomes: Vec<&str> = ends
        .iter()
        .map(|e| e["task.outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["succeeded", "failed"]);
    assert_eq!(ends[1]["amount"], 500);
}

#[test]
fn fail_and_recorded_outcome_mark_failure() {
    let cap = run(taskwire_tasks::layer(), || {
        {
            let _a = tracing::info_span!("marked").entered();
            taskwire_tasks::fail("quota exceeded");
        }
        {
            let s = tracing::info_span!("recorded", outcome = tracing::field::Empty);
            let _e = s.enter();
            s.record("outcome", "failed");
        }
        taskwire_tasks::fail("outside any task: ignored");
    });
    let ends = task_ends(&cap);
    let marked = by_name(&ends, "marked");
    assert_eq!(marked["task.outcome"], "failed");
    assert_eq!(marked["task.failure"], "quota exceeded");
    assert_eq!(marked["task.errors"], 0);
    assert_eq!(by_name(&ends, "recorded")["task.outcome"], "failed");
}

#[test]
fn durations_cover_the_task_and_busy_excludes_idle_time() {
    let cap = run(taskwire_tasks::layer(), || {
        let span = tracing::info_span!("timed");
        {
            let _e = span.enter();
            spin(Duration::from_millis(2));
        }
        // Idle, not entered.
        spin(Duration::from_millis(5));
        drop(span);
    });
    let (wall, busy) = wall_and_busy(&cap);
    assert!(busy >= 2_000, "busy {busy}");
    assert!(wall >= 7_000, "wall {wall}");
    assert!(busy < wall, "busy {busy} wall {wall}");
}

#[test]
fn re_entering_a_span_counts_its_busy_time_once() {
    let cap = run(taskwire_tasks::layer(), || {
        let span = tracing::info_span!("reentered");
        {
            let _outer = span.enter();
            {
                // Entered again inside itself: the interval is the outer one's.
                let _inner = span.enter();
                spin(Duration::from_millis(3));
            }
            spin(Duration::from_millis(1));
        }
        // Idle, not entered.
        spin(Duration::from_millis(4));
        drop(span);
    });
    let (wall, busy) = wall_and_busy(&cap);
    assert!(busy >= 4_000, "busy {busy}");
    // Counted twice, the inner 3 ms would eat into the 4 idle ones.
    assert!(
        wall >= busy + 4_000,
        "the idle 4 ms is not busy: busy {busy} wall {wall}"
    );
}

#[test]
fn record_settings_choose_which_tasks_write() {
    let work = || {
        let _r = tracing::info_span!("root").entered();
        {
            let _ok = tracing::info_span!("ok").entered();
        }
        let _bad = tracing::info_span!("bad").entered();
        tracing::error!("boom");
    };
    let names = |cap: Capture| -> Vec<String> {
        task_ends(&cap)
            .iter()
            .map(|e| e["task.name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(run(taskwire_tasks::layer(), work)), ["bad", "root"]);
    assert_eq!(
        names(run(taskwire_tasks::layer().all_tasks(), work)),
        ["ok", "bad", "root"]
    );
    assert_eq!(
        names(run(
            taskwire_tasks::layer().with_records(TaskRecords::Roots),
            work
        )),
        ["root"]
    );
    assert_eq!(
        names(run(
            taskwire_tasks::layer().with_records(TaskRecords::Failed),
            work
        )),
        ["bad"]
    );
    assert!(names(run(
        taskwire_tasks::layer().with_records(TaskRecords::Off),
        work
    ))
    .is_empty());
}

#[test]
fn task_start_records_are_optional_and_precede_the_end() {
    let cap = run(taskwire_tasks::layer().with_task_start(true), || {
        let _r = tracing::info_span!("root").entered();
    });
    let msgs: Vec<String> = cap
        .json_lines()
        .iter()
        .map(|l| l["msg"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(msgs, ["task.start", "task.end"]);
}

#[test]
fn a_task_name_field_names_the_task() {
    let cap = run(taskwire_tasks::layer(), || {
        let _r =
            tracing::info_span!("http.server.request", task.name = "GET /users/{id}").entered();
    });
    assert_eq!(task_ends(&cap)[0]["task.name"], "GET /users/{id}");
}

#[test]
fn unsampled_roots_emit_no_task_records_and_the_flag_propagates() {
    let cap = run(
        taskwire_tasks::layer().with_sampler(Sampler::ratio(0.0)),
        || {
            let _r = tracing::info_span!("root").entered();
            let ctx = taskwire_tasks::current().unwrap();
            assert!(!ctx.sampled());
            // Unsampled, and the trace id taskwire drew is random.
            assert!(ctx.traceparent().ends_with("-02"));
            let _c = tracing::info_span!("child").entered();
            assert!(!taskwire_tasks::current().unwrap().sampled());
        },
    );
    assert!(task_ends(&cap).is_empty());
}

#[test]
fn an_imported_sampled_flag_beats_the_local_ratio() {
    let cap = run(
        taskwire_tasks::layer().with_sampler(Sampler::ratio(0.0)),
        || {
            let span = taskwire_tasks::import(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                tracing::info_span!("imported"),
            );
            let _e = span.enter();
            assert!(taskwire_tasks::current().unwrap().sampled());
        },
    );
    let ends = task_ends(&cap);
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0]["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(ends[0]["parent_span_id"], "b7ad6b7169203331");
    assert_eq!(ends[0]["task.remote_parent"], true);
}

#[test]
fn malformed_and_hostile_headers_start_new_roots_and_are_counted() {
    let huge = "0".repeat(4 << 20);
    let binary = String::from_utf8_lossy(&[0xff, 0x00, 0x13, b'-', 0x7f]).into_owned();
    let inputs = [
        "garbage",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        huge.as_str(),
        binary.as_str(),
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nx-evil: 1",
    ];
    let before = taskwire_core::propagation::stats().malformed_traceparent;
    let cap = run(taskwire_tasks::layer(), || {
        for input in inputs {
            let span = taskwire_tasks::import(input, tracing::info_span!("handle"));
            let _e = span.enter();
        }
    });
    let after = taskwire_core::propagation::stats().malformed_traceparent;
    assert!(after - before >= inputs.len() as u64);
    let ends = task_ends(&cap);
    assert_eq!(ends.len(), inputs.len());
    for e in &ends {
        assert!(e.get("parent_span_id").is_none(), "{e}");
        assert_eq!(e["task.remote_parent"], false);
    }
}

#[test]
fn current_outside_tasks_and_without_a_layer_is_none() {
    assert!(taskwire_tasks::current().is_none());
    let _s = tracing::info_span!("no subscriber").entered();
    assert!(taskwire_tasks::current().is_none());
    assert!(tracing::Span::current().is_disabled());
    use taskwire_tasks::SpanExt;
    assert!(tracing::Span::current().task_context().is_none());
    tracing::Span::current().fail("no-op");
}

#[test]
fn unsampled_traces_keep_only_warnings_and_errors_in_the_json_log() {
    let cap = run(
        taskwire_tasks::layer().with_sampler(Sampler::ratio(0.0)),
        || {
            {
                let _r = tracing::info_span!("unsampled").entered();
                tracing::info!("dropped");
                tracing::debug!("dropped too");
                tracing::warn!("kept warning");
                tracing::error!("kept error");
            }
            // An imported sampled trace in the same process is written in full.
            let span = taskwire_tasks::import(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                tracing::info_span!("sampled"),
            );
            let _e = span.enter();
            tracing::info!("kept info");
        },
    );
    let msgs: Vec<String> = cap
        .json_lines()
        .iter()
        .filter(|l| l["msg"] != "task.end")
        .map(|l| l["msg"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(msgs, ["kept warning", "kept error", "kept info"]);
    let warning = &cap.json_lines()[0];
    assert_eq!(warning["trace_id"].as_str().unwrap().len(), 32);
}

#[test]
fn current_works_with_only_the_json_layer() {
    let subscriber =
        tracing_subscriber::registry().with(taskwire_json::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        assert!(taskwire_tasks::current().is_none());
        let outer = tracing::info_span!("outer").entered();
        let outer_ctx = taskwire_tasks::current().unwrap();
        {
            let _inner = tracing::info_span!("inner").entered();
            let inner_ctx = taskwire_tasks::current().unwrap();
            assert_eq!(inner_ctx.trace_id(), outer_ctx.trace_id());
            assert_ne!(inner_ctx.span_id(), outer_ctx.span_id());
        }
        assert_eq!(taskwire_tasks::current().unwrap(), outer_ctx);
        drop(outer);
        assert!(taskwire_tasks::current().is_none());
    });
}

#[test]
fn two_taskwire_layers_push_the_current_task_once() {
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(taskwire_json::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::info_span!("outer").entered();
        let outer_ctx = taskwire_tasks::current().unwrap();
        {
            let _inner = tracing::info_span!("inner").entered();
        }
        // One pop per exit: the outer task is current again, not an empty stack.
        assert_eq!(taskwire_tasks::current(), Some(outer_ctx));
        drop(outer);
        assert!(taskwire_tasks::current().is_none());
    });
}

#[test]
fn a_tasks_layer_behind_another_capturing_layer_still_samples_and_times() {
    // The JSON layer is innermost, so it captures each span first; the tasks layer then applies
    // its sampler and timing to the captured span, and entering must see both.
    let unsampled = tracing_subscriber::registry()
        .with(taskwire_json::layer().with_writer(std::io::sink))
        .with(taskwire_tasks::layer().with_sampler(Sampler::ratio(0.0)));
    tracing::subscriber::with_default(unsampled, || {
        let _root = tracing::info_span!("root").entered();
        assert!(!taskwire_tasks::current().unwrap().sampled());
    });

    let cap = Capture::default();
    let timed = tracing_subscriber::registry()
        .with(taskwire_json::layer().with_writer(cap.clone()))
        .with(taskwire_tasks::layer());
    tracing::subscriber::with_default(timed, || {
        let _root = tracing::info_span!("root").entered();
        spin(Duration::from_millis(2));
    });
    let ends = task_ends(&cap);
    let busy = by_name(&ends, "root")["task.busy_us"].as_u64().unwrap();
    assert!(busy >= 2_000, "busy {busy}");
}

#[test]
fn a_span_imported_on_another_thread_before_its_first_enter_continues_the_remote_trace() {
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    let dispatch = tracing::Dispatch::new(subscriber);
    tracing::dispatcher::with_default(&dispatch, || {
        // Created here, re-parented on another thread, entered back here.
        let span = tracing::info_span!("handle");
        let span = std::thread::spawn(move || {
            taskwire_tasks::import(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                span,
            )
        })
        .join()
        .unwrap();
        let _e = span.enter();
        let ctx = taskwire_tasks::current().unwrap();
        assert_eq!(
            ctx.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    });
}

#[test]
fn control_fields_captured_first_are_reused_in_order_and_redacted_by_the_stricter_layer() {
    // The tasks layer (innermost) keeps only the control fields; the JSON layer then captures
    // every field, reusing `task.name` rather than rendering it again, in declaration order,
    // and its stricter redactor still applies to the reused value.
    let cap = Capture::default();
    let strict = taskwire_core::Redactor::default().with_key("task.name");
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(
            taskwire_json::layer()
                .with_redactor(strict)
                .with_writer(cap.clone()),
        );
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("op", a = 1_u64, task.name = "secret name", b = "x").entered();
        tracing::info!("inside");
    });
    let raw = cap.text();
    let line = raw
        .lines()
        .find(|l| l.contains("\"inside\""))
        .expect("the event");
    let at = |k: &str| line.find(k).unwrap_or_else(|| panic!("{k} in {line}"));
    assert!(at("\"a\":1") < at("\"task.name\":") && at("\"task.name\":") < at("\"b\":\"x\""));
    assert!(line.contains("\"task.name\":\"[redacted]\""), "{line}");
    assert!(!line.contains("secret name"), "{line}");
}

struct Faulty;
impl std::fmt::Debug for Faulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("partial")?;
        Err(std::fmt::Error)
    }
}

#[test]
fn a_failing_debug_message_still_fails_the_task_without_panicking() {
    let cap = run(taskwire_tasks::layer(), || {
        let _t = tracing::info_span!("t").entered();
        tracing::error!(error = ?Faulty);
    });
    let e = &task_ends(&cap)[0];
    assert_eq!(e["task.outcome"], "failed");
    assert_eq!(e["task.failure"], "partial");
}

#[test]
fn control_fields_work_with_the_tasks_layer_alone() {
    use taskwire_tasks::SpanExt;
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    tracing::subscriber::with_default(subscriber, || {
        let parent = tracing::info_span!("parent");
        {
            let _p = parent.enter();
            let s = tracing::info_span!("child", outcome = tracing::field::Empty);
            s.record("outcome", "failed");
        }
        // The recorded outcome failed the child: the parent counted it.
        let counted = parent
            .with_subscriber(|(id, d)| {
                taskwire_core::span::with_span_data(d, id, |data| data.failed_children())
            })
            .flatten();
        assert_eq!(counted, Some(1));
        assert!(parent.task_context().is_some());
    });
}

/// Task records are events like any other: a filter that turns their target off drops them
/// (the tasks still get ids and outcomes), another subscriber in the same process without that
/// filter still gets its own, and every layer of the stack sees them.
#[test]
fn records_obey_filters_and_reach_every_layer() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tracing_subscriber::filter::{LevelFilter, Targets};

    // Filtered: no task records, events still written inside their tasks.
    let cap = Capture::default();
    let off = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target(taskwire_tasks::TARGET, LevelFilter::OFF);
    let subscriber = tracing_subscriber::registry()
        .with(off)
        .with(taskwire_tasks::layer())
        .with(taskwire_json::layer().with_writer(cap.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let _t = tracing::info_span!("quiet").entered();
        tracing::info!("inside");
    });
    assert!(task_ends(&cap).is_empty(), "{:?}", task_ends(&cap));
    let lines = cap.json_lines();
    let inside = lines
        .iter()
        .find(|l| l["msg"] == "inside")
        .expect("the event is written");
    assert!(
        inside["trace_id"].is_string(),
        "tasks still get ids: {inside}"
    );

    // Unfiltered, in the same process: records flow, and a plain layer sees them too.
    struct CountTaskEnds(Arc<AtomicUsize>);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountTaskEnds {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if event.metadata().target() == taskwire_tasks::TARGET {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let seen = Arc::new(AtomicUsize::new(0));
    let cap = run(taskwire_tasks::layer(), || {
        let counted = tracing_subscriber::registry()
            .with(taskwire_tasks::layer())
            .with(CountTaskEnds(seen.clone()));
        tracing::subscriber::with_default(counted, || {
            let _t = tracing::info_span!("counted").entered();
        });
        let _t = tracing::info_span!("loud").entered();
    });
    assert_eq!(
        seen.load(Ordering::Relaxed),
        1,
        "one task.end, seen by the plain layer"
    );
    assert_eq!(
        by_name(&task_ends(&cap), "loud")["task.outcome"],
        "succeeded"
    );
}
