//! A user field named like a built-in key in use is written as `fields.<name>`, so it never
//! replaces or repeats a built-in: the rule follows renamed keys (`with_key_name`), omitted
//! keys (`without_key`, and the keys the default record leaves out) free their name, and span-list mode (`with_span_list(true)`) writes the
//! spans as a `spans` list, outermost first.

mod support;

use taskwire_test_support::json_line;
use taskwire_test_support::Capture;

use serde_json::json;
use taskwire::json::Key;

#[test]
fn event_fields_named_like_built_ins_take_the_prefix() {
    let buf = Capture::default();
    let layer = support::json_all_keys(&buf)
        .with_service("svc")
        .with_release("1.0");
    support::with_layer(layer, || {
        let _s = tracing::info_span!("s").entered();
        tracing::info!(
            ts = 1,
            level = "user-level",
            target = "user-target",
            msg = "user-msg",
            trace_id = "user-trace",
            span_id = "user-span",
            file = "user-file",
            line = 99_999,
            thread = "user-thread",
            pid = -1,
            host = "user-host",
            service = "user-service",
            release = "user-release",
            module = "user-module",
            "the message"
        );
    });
    let r = &buf.records()[0];
    for (k, v) in [
        ("ts", json!(1)),
        ("level", json!("user-level")),
        ("target", json!("user-target")),
        ("msg", json!("user-msg")),
        ("trace_id", json!("user-trace")),
        ("span_id", json!("user-span")),
        ("file", json!("user-file")),
        ("line", json!(99_999)),
        ("thread", json!("user-thread")),
        ("pid", json!(-1)),
        ("host", json!("user-host")),
        ("service", json!("user-service")),
        ("release", json!("user-release")),
        ("module", json!("user-module")),
    ] {
        assert_eq!(
            r.get(&format!("fields.{k}")),
            Some(&v),
            "fields.{k} in {r:?}"
        );
    }
    // The built-ins are intact.
    assert_eq!(r["level"], json!("INFO"));
    assert_eq!(r["msg"], json!("the message"));
    assert_eq!(r["target"], json!(module_path!()));
    assert_eq!(r["service"], json!("svc"));
    assert_eq!(r["release"], json!("1.0"));
    assert_eq!(r["pid"], json!(std::process::id()));
    assert!(json_line::is_hex_id(json_line::str_of(r, "trace_id"), 32));
    assert!(json_line::is_hex_id(json_line::str_of(r, "span_id"), 16));
    assert!(json_line::str_of(r, "file").ends_with(".rs"));
    assert!(r["line"].as_u64().is_some_and(|l| l < 10_000));
    assert_ne!(r["thread"], json!("user-thread"));
    assert_ne!(r["host"], json!("user-host"));
    assert!(json_line::str_of(r, "ts").ends_with('Z'));
}

#[test]
fn span_fields_named_like_built_ins_take_the_prefix_and_lose_to_the_event() {
    let buf = Capture::default();
    support::with_layer(support::json_all_keys(&buf), || {
        let _o = tracing::info_span!("outer", level = "outer", host = "outer-host").entered();
        let _i = tracing::info_span!("inner", level = "inner", ts = "span-ts").entered();
        tracing::info!("one");
        tracing::info!(level = "event", "two");
        tracing::info!("fields.level" = "literal", "three");
    });
    let records = buf.records();
    assert_eq!(records[0]["fields.level"], json!("inner"));
    assert_eq!(records[0]["fields.host"], json!("outer-host"));
    assert_eq!(records[0]["fields.ts"], json!("span-ts"));
    assert_eq!(records[0]["level"], json!("INFO"));
    assert_eq!(records[1]["fields.level"], json!("event"));
    // A field literally named like the prefixed key is the same key: the event's wins, once.
    assert_eq!(records[2]["fields.level"], json!("literal"));
}

#[test]
fn renamed_built_ins_move_the_collision_rule_with_them() {
    let buf = Capture::default();
    let layer = support::json(&buf)
        .with_key_name(Key::Level, "severity")
        .with_key_name(Key::Message, "message_text");
    support::with_layer(layer, || {
        let _s = tracing::info_span!("s", severity = "span-sev").entered();
        tracing::warn!(
            severity = "user-sev",
            level = "user-level",
            message_text = 1,
            "hello"
        );
    });
    let r = &buf.records()[0];
    assert_eq!(r["severity"], json!("WARN"));
    assert_eq!(r["fields.severity"], json!("user-sev"));
    assert_eq!(r["message_text"], json!("hello"));
    assert_eq!(r["fields.message_text"], json!(1));
    // `level` and `msg` are no longer built-in names.
    assert_eq!(r["level"], json!("user-level"));
    assert!(!r.contains_key("fields.level"));
    assert!(!r.contains_key("msg"));
}

#[test]
fn renaming_onto_another_built_in_name_never_repeats_the_key() {
    let buf = Capture::default();
    let layer = support::json(&buf).with_key_name(Key::Message, "level");
    support::with_layer(layer, || tracing::info!(level = "user", "the message"));
    let r = &buf.records()[0];
    assert_eq!(r["level"], json!("the message"));
    assert_eq!(r["fields.level"], json!("user"));
}

#[test]
fn omitted_keys_free_their_names() {
    let buf = Capture::default();
    let layer = support::json_all_keys(&buf)
        .without_key(Key::Host)
        .without_key(Key::Pid)
        .without_key(Key::Timestamp);
    support::with_layer(layer, || {
        let _s = tracing::info_span!("s", pid = "span-pid").entered();
        tracing::info!(host = "user-host", ts = 5, level = "still-taken", "omitted");
    });
    let r = &buf.records()[0];
    assert_eq!(r["host"], json!("user-host"));
    assert_eq!(r["ts"], json!(5));
    assert_eq!(r["pid"], json!("span-pid"));
    assert!(!r.contains_key("fields.host"));
    assert!(!r.contains_key("fields.pid"));
    assert_eq!(r["fields.level"], json!("still-taken"));
}

#[test]
fn static_fields_named_like_built_ins_take_the_prefix_and_lose_to_user_fields() {
    let buf = Capture::default();
    let layer = support::json(&buf)
        .with_static_field("level", "static-level")
        .with_static_field("region", "eu")
        .with_static_field("zone", "a")
        .with_static_field("zone", "b");
    support::with_layer(layer, || {
        tracing::info!("plain");
        tracing::info!(region = "us", level = "user-level", "override");
    });
    let records = buf.records();
    assert_eq!(records[0]["fields.level"], json!("static-level"));
    assert_eq!(records[0]["region"], json!("eu"));
    assert_eq!(records[0]["zone"], json!("b"));
    assert_eq!(records[1]["region"], json!("us"));
    assert_eq!(records[1]["fields.level"], json!("user-level"));
}

#[test]
fn span_list_mode_writes_spans_outermost_first() {
    let buf = Capture::default();
    let layer = support::json(&buf).with_span_list(true);
    support::with_layer(layer, || {
        let _o = tracing::info_span!("outer", a = 1, shared = "outer").entered();
        let _m = tracing::info_span!("middle").entered();
        let _i =
            tracing::info_span!("inner", shared = "inner", name = "field", level = 3).entered();
        tracing::info!(spans = "user", shared = "event", "listed");
    });
    let r = &buf.records()[0];
    assert_eq!(
        r["spans"],
        json!([
            {"name": "outer", "a": 1, "shared": "outer"},
            {"name": "middle"},
            {"name": "inner", "shared": "inner", "fields.name": "field", "level": 3},
        ])
    );
    // In this mode `spans` is a built-in, and span fields are not flattened.
    assert_eq!(r["fields.spans"], json!("user"));
    assert_eq!(r["shared"], json!("event"));
    assert!(!r.contains_key("a"));
    assert_eq!(r["level"], json!("INFO"));
    assert!(json_line::is_hex_id(json_line::str_of(r, "span_id"), 16));
}

#[test]
fn span_list_mode_has_no_spans_key_outside_spans_and_flat_mode_has_none() {
    let list = Capture::default();
    support::with_layer(support::json(&list).with_span_list(true), || {
        tracing::info!("outside");
    });
    assert!(!list.records()[0].contains_key("spans"));

    let flat = Capture::default();
    support::with_layer(support::json(&flat), || {
        let _s = tracing::info_span!("s", a = 1).entered();
        tracing::info!(spans = "user", "flat");
    });
    let r = &flat.records()[0];
    assert_eq!(
        r["spans"],
        json!("user"),
        "`spans` is not a built-in in flat mode"
    );
    assert_eq!(r["a"], json!(1));
}

#[test]
fn span_list_mode_with_spans_omitted_still_writes_the_innermost_ids() {
    let buf = Capture::default();
    let layer = support::json(&buf)
        .with_span_list(true)
        .without_key(Key::Spans);
    support::with_layer(layer, || {
        let _o = tracing::info_span!("outer", a = 1).entered();
        tracing::info!("outer event");
        let _i = tracing::info_span!("inner").entered();
        tracing::info!(spans = "free", "inner event");
    });
    let records = buf.records();
    assert!(!records[0].contains_key("a"));
    assert_eq!(records[1]["spans"], json!("free"));
    assert_eq!(records[1]["parent_span_id"], records[0]["span_id"]);
    assert_ne!(records[1]["span_id"], records[0]["span_id"]);
}

#[test]
fn with_message_renamed_to_message_msg_is_an_ordinary_field() {
    let buf = Capture::default();
    let layer = support::json(&buf).with_key_name(Key::Message, "message");
    support::with_layer(layer, || tracing::info!(msg = "user", "the text"));
    let r = &buf.records()[0];
    assert_eq!(r["message"], json!("the text"));
    assert_eq!(r["msg"], json!("user"));
    assert!(!r.contains_key("fields.msg"));
}

#[test]
fn repeated_names_in_one_call_site_keep_the_first_in_events() {
    let records = support::capture(|| tracing::info!(a = 1, a = 2, "repeated"));
    assert_eq!(records[0]["a"], json!(1));
}

#[test]
fn repeated_names_in_one_call_site_keep_the_first_in_spans() {
    let records = support::capture(|| {
        let _s = tracing::info_span!("s", b = 1, b = 2).entered();
        tracing::info!("in span");
    });
    assert_eq!(records[0]["b"], json!(1));
}

#[test]
fn keys_off_by_default_leave_their_names_to_user_fields() {
    let records = support::capture(|| {
        let _s = tracing::info_span!("s", thread = "span-thread").entered();
        tracing::info!(host = "user-host", line = 7, "default record");
    });
    let r = &records[0];
    assert_eq!(r["host"], json!("user-host"));
    assert_eq!(r["line"], json!(7));
    assert_eq!(r["thread"], json!("span-thread"));
    assert!(!r.keys().any(|k| k.starts_with("fields.")), "{r:?}");
}
