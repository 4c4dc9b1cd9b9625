//! The keys of task records (`task.outcome`, `task.errors`, `task.duration_us`,
//! `task.remote_parent`, …) are built-in keys: a user field (span, event or static) with one of
//! those names is written as `fields.<name>`, on every record, so it never passes for a task
//! record's key on an ordinary event, and never vanishes from `task.end` behind the tasks
//! layer's own value. `task.name`, which a span sets to name its task, is not one of them.

mod support;

use taskwire_test_support::json_line::{by_msg, Record};
use taskwire_test_support::Capture;

use proptest::prelude::*;
use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt;

const RESERVED: [&str; 8] = [
    "task.target",
    "task.outcome",
    "task.duration_us",
    "task.busy_us",
    "task.errors",
    "task.failed_children",
    "task.remote_parent",
    "task.failure",
];

/// Runs `f` under the tasks layer and a JSON layer (flattened or span-list) into one buffer.
fn run(span_list: bool, f: impl FnOnce()) -> Vec<Record> {
    let buf = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire::tasks::layer())
        .with(
            support::json(&buf)
                .with_span_list(span_list)
                .with_static_field("task.errors", "static"),
        );
    tracing::subscriber::with_default(subscriber, f);
    buf.records()
}

#[test]
fn span_fields_named_like_task_keys_are_prefixed_on_events_and_kept_on_task_end() {
    let records = run(false, || {
        let _t = tracing::info_span!(
            "job",
            task.outcome = "user-outcome",
            task.errors = "user-errors",
            task.duration_us = "user-duration",
            task.remote_parent = "user-remote",
            task.name = "nightly job",
        )
        .entered();
        tracing::info!("working");
    });
    let event = by_msg(&records, "working");
    let end = by_msg(&records, "task.end");
    for (k, v) in [
        ("task.outcome", "user-outcome"),
        ("task.errors", "user-errors"),
        ("task.duration_us", "user-duration"),
        ("task.remote_parent", "user-remote"),
    ] {
        // On an ordinary event: under the prefix, never as if it were a task key.
        assert_eq!(
            event.get(&format!("fields.{k}")),
            Some(&json!(v)),
            "{event:?}"
        );
        assert!(!event.contains_key(k), "{k} on an event: {event:?}");
        // On task.end: the user's value is still there, beside the tasks layer's.
        assert_eq!(end.get(&format!("fields.{k}")), Some(&json!(v)), "{end:?}");
    }
    // The task record's own keys keep their types and meaning.
    assert_eq!(end["task.outcome"], json!("succeeded"));
    // no ERROR event and a local parent: the layer writes no count and no remote flag
    assert!(end.get("task.errors").is_none(), "{end:?}");
    assert!(end["task.duration_us"].is_u64(), "{end:?}");
    assert!(end.get("task.remote_parent").is_none(), "{end:?}");
    // `task.name` names the task: not renamed.
    assert_eq!(event["task.name"], json!("nightly job"));
    assert_eq!(end["task.name"], json!("nightly job"));
    // A static field named like a task key is prefixed too, and loses to user fields.
    assert_eq!(event["fields.task.errors"], json!("user-errors"));
    let outside = run(false, || tracing::info!("outside"));
    assert_eq!(outside[0]["fields.task.errors"], json!("static"));
    assert!(!outside[0].contains_key("task.errors"));
}

#[test]
fn event_fields_named_like_task_keys_are_prefixed() {
    let records = run(false, || {
        let _t = tracing::info_span!("job").entered();
        tracing::info!(task.outcome = "mine", task.failure = 3, "event");
    });
    let event = by_msg(&records, "event");
    assert_eq!(event["fields.task.outcome"], json!("mine"));
    assert_eq!(event["fields.task.failure"], json!(3));
    assert!(!event.contains_key("task.outcome"));
    assert!(!event.contains_key("task.failure"));
}

#[test]
fn span_list_mode_keeps_task_named_span_fields_inside_their_span() {
    let records = run(true, || {
        let _t = tracing::info_span!("job", task.outcome = "user-outcome").entered();
        tracing::info!("working");
    });
    for msg in ["working", "task.end"] {
        let r = by_msg(&records, msg);
        assert_eq!(
            r["spans"][0]["task.outcome"],
            json!("user-outcome"),
            "{r:?}"
        );
    }
    assert_eq!(
        by_msg(&records, "task.end")["task.outcome"],
        json!("succeeded")
    );
    assert!(!by_msg(&records, "working").contains_key("task.outcome"));
}

/// Records a span with the field `key` = `value` (the name chosen at run time, as a field set
/// built by hand), closes it, and returns the records.
fn with_dynamic_field(key: &'static str, value: &str) -> Vec<Record> {
    let value = value.to_owned();
    run(false, move || {
        let span = match RESERVED.iter().position(|k| *k == key) {
            Some(0) => tracing::info_span!("job", task.target = tracing::field::Empty),
            Some(1) => tracing::info_span!("job", task.outcome = tracing::field::Empty),
            Some(2) => tracing::info_span!("job", task.duration_us = tracing::field::Empty),
            Some(3) => tracing::info_span!("job", task.busy_us = tracing::field::Empty),
            Some(4) => tracing::info_span!("job", task.errors = tracing::field::Empty),
            Some(5) => tracing::info_span!("job", task.failed_children = tracing::field::Empty),
            Some(6) => tracing::info_span!("job", task.remote_parent = tracing::field::Empty),
            _ => tracing::info_span!("job", task.failure = tracing::field::Empty),
        };
        span.record(key, value.as_str());
        let _e = span.entered();
        tracing::info!("working");
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the key and the value, the user's value is written once under the prefix, on
    /// the event and on task.end, and task.end's own key keeps the tasks layer's value.
    #[test]
    fn any_task_named_span_field_is_kept_under_the_prefix(
        i in 0..RESERVED.len(),
        value in any::<String>(),
    ) {
        let key = RESERVED[i];
        let records = with_dynamic_field(key, &value);
        let prefixed = format!("fields.{key}");
        let event = by_msg(&records, "working");
        let end = by_msg(&records, "task.end");
        prop_assert_eq!(event.get(&prefixed), Some(&Value::String(value.clone())));
        prop_assert!(!event.contains_key(key));
        prop_assert_eq!(end.get(&prefixed), Some(&Value::String(value.clone())));
        // the tasks layer writes these always; the failure, counters and remote flag only when
        // they say something (failed, not zero, true), never the user's value
        let always = ["task.target", "task.outcome", "task.duration_us", "task.busy_us"];
        prop_assert!(!always.contains(&key) || end.contains_key(key), "{:?}", end);
        if let Some(own) = end.get(key) {
            prop_assert_ne!(own, &Value::String(value));
        }
    }
}
