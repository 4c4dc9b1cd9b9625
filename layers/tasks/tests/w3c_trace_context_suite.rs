//! The cases of the W3C Trace Context Level 1 test suite (test/test.py of w3c/trace-context,
//! STRICT_LEVEL 2), replayed against taskwire: each case sends headers to a "service" that
//! imports them into a task and calls onward with the task's own `traceparent`/`tracestate`,
//! and checks what the callback would receive.

use taskwire_core::propagation::TraceState;
use tracing_subscriber::prelude::*;

const TRACE: &str = "12345678901234567890123456789012";

struct Outgoing {
    trace_id: String,
    parent_id: String,
    state: TraceState,
}

/// The service under test: one request in, one callback out.
fn service(headers: &[(&str, &str)]) -> Outgoing {
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    tracing::subscriber::with_default(subscriber, || {
        let span = taskwire_tasks::import_from(headers, tracing::info_span!("service"));
        let _e = span.enter();
        let mut out: Vec<(String, String)> = Vec::new();
        assert!(taskwire_tasks::inject_current(&mut out));
        let traceparents: Vec<&str> = out
            .iter()
            .filter(|(k, _)| k == "traceparent")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(traceparents.len(), 1, "exactly one traceparent goes out");
        let tp = traceparents[0];
        assert!(
            taskwire_core::propagation::TraceParent::parse(tp).is_some(),
            "outgoing traceparent is valid: {tp}"
        );
        let states: Vec<&str> = out
            .iter()
            .filter(|(k, _)| k == "tracestate")
            .map(|(_, v)| v.as_str())
            .collect();
        Outgoing {
            trace_id: tp[3..35].to_owned(),
            parent_id: tp[36..52].to_owned(),
            state: TraceState::parse_headers(states).expect("outgoing tracestate is valid"),
        }
    })
}

fn tp(value: &str) -> Vec<(&str, &str)> {
    vec![("traceparent", value)]
}

fn continued(headers: &[(&str, &str)]) -> bool {
    service(headers).trace_id == TRACE
}

#[test]
fn both_traceparent_and_tracestate_missing() {
    let out = service(&[]);
    assert_ne!(out.trace_id, "0".repeat(32));
}

#[test]
fn traceparent_included_tracestate_missing() {
    let out = service(&tp(&format!("00-{TRACE}-1234567890123456-01")));
    assert_eq!(out.trace_id, TRACE);
    assert_ne!(out.parent_id, "1234567890123456");
}

#[test]
fn traceparent_duplicated() {
    let out = service(&[
        (
            "traceparent",
            "00-12345678901234567890123456789011-1234567890123456-01",
        ),
        (
            "traceparent",
            "00-12345678901234567890123456789012-1234567890123456-01",
        ),
    ]);
    assert_ne!(out.trace_id, "12345678901234567890123456789011");
    assert_ne!(out.trace_id, TRACE);
}

#[test]
fn traceparent_header_name() {
    let v = format!("00-{TRACE}-1234567890123456-01");
    assert!(!continued(&[("trace-parent", &v)]));
    assert!(!continued(&[("trace.parent", &v)]));
}

#[test]
fn traceparent_header_name_valid_casing() {
    let v = format!("00-{TRACE}-1234567890123456-01");
    for name in ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"] {
        assert!(continued(&[(name, &v)]), "{name}");
    }
}

#[test]
fn traceparent_version_0x00() {
    assert!(!continued(&tp(&format!("00-{TRACE}-1234567890123456-01."))));
    assert!(!continued(&tp(&format!(
        "00-{TRACE}-1234567890123456-01-what-the-future-will-be-like"
    ))));
}

#[test]
fn traceparent_version_0xcc() {
    assert!(continued(&tp(&format!("cc-{TRACE}-1234567890123456-01"))));
    assert!(continued(&tp(&format!(
        "cc-{TRACE}-1234567890123456-01-what-the-future-will-be-like"
    ))));
    assert!(!continued(&tp(&format!(
        "cc-{TRACE}-1234567890123456-01.what-the-future-will-be-like"
    ))));
}

#[test]
fn traceparent_version_0xff() {
    assert!(!continued(&tp(&format!("ff-{TRACE}-1234567890123456-01"))));
}

#[test]
fn traceparent_version_illegal_characters() {
    assert!(!continued(&tp(&format!(".0-{TRACE}-1234567890123456-01"))));
    assert!(!continued(&tp(&format!("0.-{TRACE}-1234567890123456-01"))));
}

#[test]
fn traceparent_version_too_long_or_short() {
    assert!(!continued(&tp(&format!("000-{TRACE}-1234567890123456-01"))));
    assert!(!continued(&tp(&format!(
        "0000-{TRACE}-1234567890123456-01"
    ))));
    assert!(!continued(&tp(&format!("0-{TRACE}-1234567890123456-01"))));
}

#[test]
fn traceparent_trace_id_rules() {
    let out = service(&tp(
        "00-00000000000000000000000000000000-1234567890123456-01",
    ));
    assert_ne!(out.trace_id, "0".repeat(32));
    assert!(!continued(&tp(
        "00-.2345678901234567890123456789012-1234567890123456-01"
    )));
    assert!(!continued(&tp(
        "00-1234567890123456789012345678901.-1234567890123456-01"
    )));
    let out = service(&tp(
        "00-123456789012345678901234567890123-1234567890123456-01",
    ));
    assert_ne!(out.trace_id, TRACE);
    assert_ne!(out.trace_id, "23456789012345678901234567890123");
    assert!(!continued(&tp(
        "00-1234567890123456789012345678901-1234567890123456-01"
    )));
}

#[test]
fn traceparent_parent_id_rules() {
    for v in [
        "0000000000000000",
        ".234567890123456",
        "123456789012345.",
        "12345678901234567",
        "123456789012345",
    ] {
        assert!(!continued(&tp(&format!("00-{TRACE}-{v}-01"))), "{v}");
    }
}

#[test]
fn traceparent_trace_flags_rules() {
    for f in [".0", "0.", "001", "1"] {
        assert!(
            !continued(&tp(&format!("00-{TRACE}-1234567890123456-{f}"))),
            "{f}"
        );
    }
}

#[test]
fn traceparent_ows_handling() {
    let v = format!("00-{TRACE}-1234567890123456-01");
    for padded in [
        format!(" {v}"),
        format!("\t{v}"),
        format!("{v} "),
        format!("{v}\t"),
        format!("\t {v} \t"),
    ] {
        assert!(continued(&tp(&padded)), "{padded:?}");
    }
}

#[test]
fn tracestate_included_traceparent_missing() {
    let a = service(&[("tracestate", "foo=1")]);
    let b = service(&[("tracestate", "foo=1,bar=2")]);
    assert!(a.state.is_empty() && b.state.is_empty());
}

const TP00: &str = "00-12345678901234567890123456789012-1234567890123456-00";

fn state(headers: &[(&str, &str)]) -> TraceState {
    let mut all = vec![("traceparent", TP00)];
    all.extend_from_slice(headers);
    let out = service(&all);
    assert_eq!(out.trace_id, TRACE);
    out.state
}

#[test]
fn tracestate_included_traceparent_included() {
    let s = state(&[("tracestate", "foo=1,bar=2")]);
    assert_eq!(s.get("foo"), Some("1"));
    assert_eq!(s.get("bar"), Some("2"));
}

#[test]
fn tracestate_header_name() {
    assert_eq!(state(&[("trace-state", "foo=1")]).get("foo"), None);
    assert_eq!(state(&[("trace.state", "foo=1")]).get("foo"), None);
}

#[test]
fn tracestate_header_name_valid_casing() {
    for name in ["TraceState", "TrAcEsTaTe", "TRACESTATE"] {
        assert_eq!(state(&[(name, "foo=1")]).get("foo"), Some("1"), "{name}");
    }
}

#[test]
fn tracestate_empty_header() {
    assert!(state(&[("tracestate", "")]).is_empty());
    let s = state(&[("tracestate", "foo=1"), ("tracestate", "")]);
    assert_eq!(s.get("foo"), Some("1"));
    let s = state(&[("tracestate", ""), ("tracestate", "foo=1")]);
    assert_eq!(s.get("foo"), Some("1"));
}

#[test]
fn tracestate_multiple_headers_different_keys() {
    let s = state(&[
        ("tracestate", "foo=1,bar=2"),
        ("tracestate", "rojo=1,congo=2"),
        ("tracestate", "baz=3"),
    ]);
    assert_eq!(s.as_str(), "foo=1,bar=2,rojo=1,congo=2,baz=3");
}

#[test]
fn tracestate_duplicated_keys() {
    for h in [
        vec![("tracestate", "foo=1,foo=1")],
        vec![("tracestate", "foo=1,foo=2")],
        vec![("tracestate", "foo=1"), ("tracestate", "foo=1")],
        vec![("tracestate", "foo=1"), ("tracestate", "foo=2")],
    ] {
        assert_eq!(state(&h).get("foo"), None, "{h:?}");
    }
}

#[test]
fn tracestate_all_allowed_characters() {
    let key: String = ('a'..='z').chain('0'..='9').chain("_-*/".chars()).collect();
    let vendor_key = format!("{key}@a-z0-9_-*/");
    let value: String = (0x20u8..=0x2b)
        .chain(0x2d..=0x3c)
        .chain(0x3e..=0x7e)
        .map(char::from)
        .collect();
    for k in [&key, &vendor_key] {
        let member = format!("{k}={value}");
        assert_eq!(
            state(&[("tracestate", &member)]).get(k),
            Some(value.as_str())
        );
    }
}

#[test]
fn tracestate_ows_handling() {
    for h in [
        "foo=1 \t , \t bar=2, \t baz=3",
        "foo=1\t \t,\t \tbar=2,\t \tbaz=3",
    ] {
        let s = state(&[("tracestate", h)]);
        assert_eq!(
            (s.get("foo"), s.get("bar"), s.get("baz")),
            (Some("1"), Some("2"), Some("3"))
        );
    }
    for h in [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"] {
        assert_eq!(state(&[("tracestate", h)]).get("foo"), Some("1"), "{h:?}");
    }
}

#[test]
fn tracestate_key_illegal_characters() {
    assert!(state(&[("tracestate", "foo =1")]).is_empty());
    assert!(state(&[("tracestate", "FOO=1")]).is_empty());
    assert!(state(&[("tracestate", "foo.bar=1")]).is_empty());
}

#[test]
fn tracestate_key_illegal_vendor_format() {
    for h in [
        "foo@=1,bar=2",
        "@foo=1,bar=2",
        "foo@@bar=1,bar=2",
        "foo@bar@baz=1,bar=2",
    ] {
        assert_eq!(state(&[("tracestate", h)]).get("bar"), None, "{h}");
    }
}

#[test]
fn tracestate_member_count_limit() {
    let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
    let headers =
        |n: usize| -> Vec<String> { members[..n].chunks(10).map(|c| c.join(",")).collect() };
    let h32 = headers(32);
    let pairs: Vec<(&str, &str)> = h32.iter().map(|h| ("tracestate", h.as_str())).collect();
    let s = state(&pairs);
    assert_eq!(s.get("bar01"), Some("01"));
    assert_eq!(s.as_str().split(',').count(), 32);
    let h33 = headers(33);
    let pairs: Vec<(&str, &str)> = h33.iter().map(|h| ("tracestate", h.as_str())).collect();
    assert_eq!(state(&pairs).get("bar01"), None);
}

#[test]
fn tracestate_key_length_limit() {
    let ok = |k: String| {
        let member = format!("{k}=1");
        state(&[("tracestate", "foo=1"), ("tracestate", &member)]).get("foo") == Some("1")
    };
    assert!(ok("z".repeat(256)));
    assert!(!ok("z".repeat(257)));
    assert!(ok(format!("{}@{}", "t".repeat(241), "v".repeat(14))));
    assert!(!ok(format!("{}@v", "t".repeat(242))));
    assert!(!ok(format!("t@{}", "v".repeat(15))));
}

#[test]
fn tracestate_value_illegal_characters() {
    assert_eq!(state(&[("tracestate", "foo=bar=baz")]).get("foo"), None);
    let s = state(&[("tracestate", "foo=,bar=3")]);
    assert_eq!((s.get("foo"), s.get("bar")), (None, None));
}

#[test]
fn multiple_requests_with_valid_traceparent() {
    let h = tp("00-12345678901234567890123456789012-1234567890123456-01");
    let outs: Vec<Outgoing> = (0..3).map(|_| service(&h)).collect();
    assert!(outs.iter().all(|o| o.trace_id == TRACE));
    let parents: std::collections::HashSet<_> = outs.iter().map(|o| o.parent_id.clone()).collect();
    assert_eq!(parents.len(), 3);
}

#[test]
fn multiple_requests_without_or_with_illegal_traceparent() {
    for h in [
        vec![],
        tp("00-00000000000000000000000000000000-1234567890123456-01"),
    ] {
        let outs: Vec<Outgoing> = (0..3).map(|_| service(&h)).collect();
        assert!(outs.iter().all(|o| o.trace_id != "0".repeat(32)));
        let parents: std::collections::HashSet<_> =
            outs.iter().map(|o| o.parent_id.clone()).collect();
        assert_eq!(parents.len(), 3);
    }
}
