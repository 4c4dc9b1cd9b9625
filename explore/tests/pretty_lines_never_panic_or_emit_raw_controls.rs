//! A pretty line never panics, whatever the record, and never sends a control character from
//! the record to the terminal: the only escape sequences in it are the renderer's own colors,
//! and the only newline is the one that ends it.

use proptest::prelude::*;
use serde_json::{Map, Value};
use taskwire_explore::pretty::Pretty;
use taskwire_test_support::hostile::tricky_string;

/// Any JSON value, nested a little, strings full of controls and escape sequences.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        tricky_string().prop_map(Value::String),
        Just(Value::String(
            "\u{1b}[31mred\u{1b}]0;title\u{7}\u{9b}2J".into()
        )),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(tricky_string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The keys the renderer reads, other keys, and hostile ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "ts",
            "level",
            "target",
            "msg",
            "service",
            "trace_id",
            "span_id",
            "task.name",
            "task.outcome",
            "task.duration_us",
            "task.failure",
            "pid",
        ])
        .prop_map(str::to_owned),
        tricky_string(),
    ]
}

/// Values the renderer gives a meaning to, as well as any.
fn known_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "taskwire::tasks",
            "task.end",
            "task.start",
            "failed",
            "ERROR",
            "WARN",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "2026-11-21T10:00:00.016000Z",
            "2026-11-21T1",
        ])
        .prop_map(|s| Value::String(s.into())),
        value(),
    ]
}

fn record() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), known_value()), 0..14).prop_map(|entries| {
        let mut m = Map::new();
        for (k, v) in entries {
            m.insert(k, v);
        }
        Value::Object(m).to_string()
    })
}

/// The line without the renderer's own color codes (`ESC [ digits;… m`).
fn without_colors(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        if after[end..].starts_with('m') {
            rest = &after[end + 1..];
        } else {
            out.push('\x1b'); // not ours: left for the check below to find
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

fn check(line: &[u8], color: bool) -> Result<(), TestCaseError> {
    let pretty = Pretty::new()
        .with_color(color)
        .with_highlight(Some(0x4bf92f3577b34da6a3ce929d0e0e4736));
    let mut out = Vec::new();
    if !pretty.line(line, &mut out) {
        prop_assert!(out.is_empty());
        return Ok(());
    }
    let text = String::from_utf8(out).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| TestCaseError::fail("a pretty line ends with a newline"))?;
    let plain = without_colors(body);
    prop_assert!(
        !plain.chars().any(char::is_control),
        "a control character reached the terminal: {plain:?}"
    );
    if !color {
        prop_assert_eq!(plain, body);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn any_record_renders_without_raw_controls(line in record(), color in any::<bool>()) {
        check(line.as_bytes(), color)?;
    }

    #[test]
    fn any_bytes_render_or_are_left_alone(bytes in prop::collection::vec(any::<u8>(), 0..200), color in any::<bool>()) {
        check(&bytes, color)?;
    }

    #[test]
    fn any_json_value_renders_or_is_left_alone(v in value(), color in any::<bool>()) {
        check(v.to_string().as_bytes(), color)?;
    }
}
