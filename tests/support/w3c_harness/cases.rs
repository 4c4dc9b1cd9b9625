//! The harness's TestBase helpers and its 41 tests, with the harness's own names, inputs and
//! assertions.

use super::read::{traceparent, tracestate, Traceparent, Tracestate};
use super::{Case, Headers, Service};

// ---- the harness's TestBase -------------------------------------------------------------------

fn owned(headers: &[(&str, &str)]) -> Headers {
    headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `make_request`: the callbacks' headers, failing when one is missing.
fn make_request(
    s: &dyn Service,
    headers: &[(&str, &str)],
    count: usize,
) -> Result<Vec<Headers>, String> {
    let callbacks = s.request(&owned(headers), count);
    if callbacks.len() != count {
        return Err(format!(
            "your test service failed to make a callback to the test harness ({} of {count}) for {headers:?}",
            callbacks.len()
        ));
    }
    Ok(callbacks)
}

/// `make_single_request_and_get_tracecontext`.
fn single(s: &dyn Service, headers: &[(&str, &str)]) -> Result<(Traceparent, Tracestate), String> {
    let callbacks = make_request(s, headers, 1)?;
    let h = &callbacks[0];
    Ok((traceparent(h)?, tracestate(h)?))
}

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

const T: &str = "12345678901234567890123456789012";
const TP01: &str = "00-12345678901234567890123456789012-1234567890123456-01";
const TP00: &str = "00-12345678901234567890123456789012-1234567890123456-00";

/// Sends `traceparent: value` alone and checks that the trace was restarted.
fn restarts(s: &dyn Service, value: &str) -> Result<(), String> {
    let (tp, _) = single(s, &[("traceparent", value)])?;
    check!(
        tp.trace_id != T,
        "{value:?} was continued (trace id {})",
        tp.trace_id
    );
    Ok(())
}

/// Sends `traceparent: value` alone and checks that the trace was continued.
fn continues(s: &dyn Service, name: &str, value: &str) -> Result<(), String> {
    let (tp, _) = single(s, &[(name, value)])?;
    check!(
        tp.trace_id == T,
        "{name}: {value:?} was not continued (trace id {})",
        tp.trace_id
    );
    Ok(())
}

/// Sends [`TP00`] and `headers`, returns the callback's tracestate.
fn state(s: &dyn Service, headers: &[(&str, &str)]) -> Result<(Traceparent, Tracestate), String> {
    let mut all = vec![("traceparent", TP00)];
    all.extend_from_slice(headers);
    single(s, &all)
}

fn has(ts: &Tracestate, key: &str, value: &str) -> Result<(), String> {
    check!(
        ts.get(key) == Some(value),
        "expected {key}={value} in tracestate {:?}",
        ts.to_header()
    );
    Ok(())
}

fn lacks(ts: &Tracestate, key: &str) -> Result<(), String> {
    check!(
        !ts.contains(key),
        "expected no {key:?} in tracestate {:?}",
        ts.to_header()
    );
    Ok(())
}

// ---- TraceContextTest ---------------------------------------------------------------------------

fn both_traceparent_and_tracestate_missing(s: &dyn Service) -> Result<(), String> {
    single(s, &[])?;
    Ok(())
}

fn traceparent_included_tracestate_missing(s: &dyn Service) -> Result<(), String> {
    let (tp, _) = single(s, &[("traceparent", TP01)])?;
    check!(tp.trace_id == T, "trace id {}", tp.trace_id);
    check!(tp.parent_id != "1234567890123456", "parent id not replaced");
    Ok(())
}

fn traceparent_duplicated(s: &dyn Service) -> Result<(), String> {
    let (tp, _) = single(
        s,
        &[
            (
                "traceparent",
                "00-12345678901234567890123456789011-1234567890123456-01",
            ),
            ("traceparent", TP01),
        ],
    )?;
    check!(
        tp.trace_id != "12345678901234567890123456789011",
        "first continued"
    );
    check!(tp.trace_id != T, "second continued");
    Ok(())
}

fn traceparent_header_name(s: &dyn Service) -> Result<(), String> {
    for name in ["trace-parent", "trace.parent"] {
        let (tp, _) = single(s, &[(name, TP01)])?;
        check!(tp.trace_id != T, "{name} was read as traceparent");
    }
    Ok(())
}

fn traceparent_header_name_valid_casing(s: &dyn Service) -> Result<(), String> {
    for name in ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"] {
        continues(s, name, TP01)?;
    }
    Ok(())
}

fn traceparent_version_0x00(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("{TP01}."))?;
    restarts(s, &format!("{TP01}-what-the-future-will-be-like"))
}

fn traceparent_version_0xcc(s: &dyn Service) -> Result<(), String> {
    continues(s, "traceparent", &format!("cc-{T}-1234567890123456-01"))?;
    continues(
        s,
        "traceparent",
        &format!("cc-{T}-1234567890123456-01-what-the-future-will-be-like"),
    )?;
    restarts(
        s,
        &format!("cc-{T}-1234567890123456-01.what-the-future-will-be-like"),
    )
}

fn traceparent_version_0xff(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("ff-{T}-1234567890123456-01"))
}

fn traceparent_version_illegal_characters(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!(".0-{T}-1234567890123456-01"))?;
    restarts(s, &format!("0.-{T}-1234567890123456-01"))
}

fn traceparent_version_too_long(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("000-{T}-1234567890123456-01"))?;
    restarts(s, &format!("0000-{T}-1234567890123456-01"))
}

fn traceparent_version_too_short(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("0-{T}-1234567890123456-01"))
}

fn traceparent_trace_id_all_zero(s: &dyn Service) -> Result<(), String> {
    let (tp, _) = single(
        s,
        &[(
            "traceparent",
            "00-00000000000000000000000000000000-1234567890123456-01",
        )],
    )?;
    check!(tp.trace_id != "0".repeat(32), "all-zero trace id went out");
    Ok(())
}

fn traceparent_trace_id_illegal_characters(s: &dyn Service) -> Result<(), String> {
    for v in [
        "00-.2345678901234567890123456789012-1234567890123456-01",
        "00-1234567890123456789012345678901.-1234567890123456-01",
    ] {
        let (tp, _) = single(s, &[("traceparent", v)])?;
        check!(tp.trace_id != v[3..35], "{v:?} was continued");
    }
    Ok(())
}

fn traceparent_trace_id_too_long(s: &dyn Service) -> Result<(), String> {
    let (tp, _) = single(
        s,
        &[(
            "traceparent",
            "00-123456789012345678901234567890123-1234567890123456-01",
        )],
    )?;
    for bad in [T, "23456789012345678901234567890123"] {
        check!(tp.trace_id != bad, "trace id {bad} went out");
    }
    Ok(())
}

fn traceparent_trace_id_too_short(s: &dyn Service) -> Result<(), String> {
    let (tp, _) = single(
        s,
        &[(
            "traceparent",
            "00-1234567890123456789012345678901-1234567890123456-01",
        )],
    )?;
    check!(
        !tp.trace_id.starts_with("1234567890123456789012345678901"),
        "continued"
    );
    Ok(())
}

fn traceparent_parent_id_all_zero(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("00-{T}-0000000000000000-01"))
}

fn traceparent_parent_id_illegal_characters(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("00-{T}-.234567890123456-01"))?;
    restarts(s, &format!("00-{T}-123456789012345.-01"))
}

fn traceparent_parent_id_too_long(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("00-{T}-12345678901234567-01"))
}

fn traceparent_parent_id_too_short(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("00-{T}-123456789012345-01"))
}

fn traceparent_trace_flags_illegal_characters(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("00-{T}-1234567890123456-.0"))?;
    restarts(s, &format!("00-{T}-1234567890123456-0."))
}

fn traceparent_trace_flags_too_long(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("00-{T}-1234567890123456-001"))
}

fn traceparent_trace_flags_too_short(s: &dyn Service) -> Result<(), String> {
    restarts(s, &format!("00-{T}-1234567890123456-1"))
}

fn traceparent_ows_handling(s: &dyn Service) -> Result<(), String> {
    for v in [
        format!(" {TP01}"),
        format!("\t{TP01}"),
        format!("{TP01} "),
        format!("{TP01}\t"),
        format!("\t {TP01} \t"),
    ] {
        continues(s, "traceparent", &v)?;
    }
    Ok(())
}

fn tracestate_included_traceparent_missing(s: &dyn Service) -> Result<(), String> {
    let (_, a) = single(s, &[("tracestate", "foo=1")])?;
    let (_, b) = single(s, &[("tracestate", "foo=1,bar=2")])?;
    check!(
        a.len() == b.len(),
        "tracestate without traceparent was used: {a:?} {b:?}"
    );
    Ok(())
}

fn tracestate_included_traceparent_included(s: &dyn Service) -> Result<(), String> {
    let (tp, ts) = state(s, &[("tracestate", "foo=1,bar=2")])?;
    check!(tp.trace_id == T, "trace id {}", tp.trace_id);
    has(&ts, "foo", "1")?;
    has(&ts, "bar", "2")
}

fn tracestate_header_name(s: &dyn Service) -> Result<(), String> {
    for name in ["trace-state", "trace.state"] {
        let (_, ts) = state(s, &[(name, "foo=1")])?;
        lacks(&ts, "foo")?;
    }
    Ok(())
}

fn tracestate_header_name_valid_casing(s: &dyn Service) -> Result<(), String> {
    for name in ["TraceState", "TrAcEsTaTe", "TRACESTATE"] {
        let (_, ts) = state(s, &[(name, "foo=1")])?;
        has(&ts, "foo", "1")?;
    }
    Ok(())
}

fn tracestate_empty_header(s: &dyn Service) -> Result<(), String> {
    let (tp, _) = state(s, &[("tracestate", "")])?;
    check!(tp.trace_id == T, "trace id {}", tp.trace_id);
    for headers in [
        [("tracestate", "foo=1"), ("tracestate", "")],
        [("tracestate", ""), ("tracestate", "foo=1")],
    ] {
        let (tp, ts) = state(s, &headers)?;
        check!(tp.trace_id == T, "trace id {}", tp.trace_id);
        has(&ts, "foo", "1")?;
    }
    Ok(())
}

fn tracestate_multiple_headers_different_keys(s: &dyn Service) -> Result<(), String> {
    let (tp, ts) = state(
        s,
        &[
            ("tracestate", "foo=1,bar=2"),
            ("tracestate", "rojo=1,congo=2"),
            ("tracestate", "baz=3"),
        ],
    )?;
    check!(tp.trace_id == T, "trace id {}", tp.trace_id);
    let text = ts.to_header();
    let order = ["foo=1", "bar=2", "rojo=1", "congo=2", "baz=3"];
    let at: Vec<Option<usize>> = order.iter().map(|m| text.find(m)).collect();
    check!(
        at.iter().all(Option::is_some),
        "members missing from {text:?}"
    );
    check!(
        at.windows(2).all(|w| w[0] < w[1]),
        "members out of order in {text:?}"
    );
    Ok(())
}

fn tracestate_duplicated_keys(s: &dyn Service) -> Result<(), String> {
    for (headers, allowed) in [
        (vec![("tracestate", "foo=1,foo=1")], &["foo=1"][..]),
        (vec![("tracestate", "foo=1,foo=2")], &["foo=1", "foo=2"][..]),
        (
            vec![("tracestate", "foo=1"), ("tracestate", "foo=1")],
            &["foo=1"][..],
        ),
        (
            vec![("tracestate", "foo=1"), ("tracestate", "foo=2")],
            &["foo=1", "foo=2"][..],
        ),
    ] {
        let (tp, ts) = state(s, &headers)?;
        check!(tp.trace_id == T, "trace id {}", tp.trace_id);
        let text = ts.to_header();
        check!(
            allowed.iter().any(|m| text.contains(m)),
            "{headers:?}: tracestate {text:?} has none of {allowed:?}"
        );
    }
    Ok(())
}

fn tracestate_all_allowed_characters(s: &dyn Service) -> Result<(), String> {
    let key: String = ('a'..='z').chain('0'..='9').chain("_-*/".chars()).collect();
    let key_with_vendor = format!("{key}@a-z0-9_-*/");
    let value: String = (0x20u8..=0x2b)
        .chain(0x2d..=0x3c)
        .chain(0x3e..=0x7e)
        .map(char::from)
        .collect();
    for k in [&key, &key_with_vendor] {
        let member = format!("{k}={value}");
        let (_, ts) = state(s, &[("tracestate", &member)])?;
        has(&ts, k, &value)?;
    }
    Ok(())
}

fn tracestate_ows_handling(s: &dyn Service) -> Result<(), String> {
    for h in [
        "foo=1 \t , \t bar=2, \t baz=3",
        "foo=1\t \t,\t \tbar=2,\t \tbaz=3",
    ] {
        let (_, ts) = state(s, &[("tracestate", h)])?;
        has(&ts, "foo", "1")?;
        has(&ts, "bar", "2")?;
        has(&ts, "baz", "3")?;
    }
    for h in [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"] {
        let (tp, ts) = state(s, &[("tracestate", h)])?;
        check!(tp.trace_id == T, "trace id {}", tp.trace_id);
        has(&ts, "foo", "1")?;
    }
    Ok(())
}

fn tracestate_key_illegal_characters(s: &dyn Service) -> Result<(), String> {
    for (h, key) in [
        ("foo =1", "foo "),
        ("FOO=1", "FOO"),
        ("foo.bar=1", "foo.bar"),
    ] {
        let (_, ts) = state(s, &[("tracestate", h)])?;
        lacks(&ts, key)?;
    }
    Ok(())
}

fn tracestate_key_illegal_vendor_format(s: &dyn Service) -> Result<(), String> {
    let (_, ts) = state(s, &[("tracestate", "foo@=1,bar=2")])?;
    has(&ts, "foo@", "1")?;
    has(&ts, "bar", "2")?;
    let (_, ts) = state(s, &[("tracestate", "@foo=1,bar=2")])?;
    lacks(&ts, "bar")?;
    let (_, ts) = state(s, &[("tracestate", "foo@@bar=1,bar=2")])?;
    has(&ts, "foo@@bar", "1")?;
    has(&ts, "bar", "2")?;
    let (_, ts) = state(s, &[("tracestate", "foo@bar@baz=1,bar=2")])?;
    has(&ts, "foo@bar@baz", "1")?;
    has(&ts, "bar", "2")
}

fn tracestate_member_count_limit(s: &dyn Service) -> Result<(), String> {
    let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
    let headers =
        |n: usize| -> Vec<String> { members[..n].chunks(10).map(|c| c.join(",")).collect() };
    let h32 = headers(32);
    let pairs: Vec<(&str, &str)> = h32.iter().map(|h| ("tracestate", h.as_str())).collect();
    let (_, ts) = state(s, &pairs)?;
    has(&ts, "bar01", "01")?;
    check!(ts.len() == 32, "{} members", ts.len());
    let h33 = headers(33);
    let pairs: Vec<(&str, &str)> = h33.iter().map(|h| ("tracestate", h.as_str())).collect();
    let (_, ts) = state(s, &pairs)?;
    lacks(&ts, "bar01")
}

fn tracestate_key_length_limit(s: &dyn Service) -> Result<(), String> {
    let kept = |key: String| -> Result<(), String> {
        let member = format!("{key}=1");
        let (_, ts) = state(s, &[("tracestate", "foo=1"), ("tracestate", &member)])?;
        has(&ts, "foo", "1")?;
        has(&ts, &key, "1")
    };
    kept("z".repeat(256))?;
    let member = format!("{}=1", "z".repeat(257));
    let (_, ts) = state(s, &[("tracestate", "foo=1"), ("tracestate", &member)])?;
    lacks(&ts, "foo")?;
    kept(format!("{}@{}", "t".repeat(241), "v".repeat(14)))?;
    kept(format!("{}@v", "t".repeat(242)))?;
    kept(format!("t@{}", "v".repeat(15)))
}

fn tracestate_value_illegal_characters(s: &dyn Service) -> Result<(), String> {
    let (_, ts) = state(s, &[("tracestate", "foo=bar=baz")])?;
    lacks(&ts, "foo")?;
    let (_, ts) = state(s, &[("tracestate", "foo=,bar=3")])?;
    lacks(&ts, "foo")?;
    lacks(&ts, "bar")
}

// ---- AdvancedTest -----------------------------------------------------------------------------

fn ids_of_callbacks(callbacks: &[Headers]) -> Result<(Vec<String>, Vec<String>), String> {
    let mut trace_ids = Vec::new();
    let mut parent_ids = Vec::new();
    for h in callbacks {
        let tp = traceparent(h)?;
        if !trace_ids.contains(&tp.trace_id) {
            trace_ids.push(tp.trace_id);
        }
        if !parent_ids.contains(&tp.parent_id) {
            parent_ids.push(tp.parent_id);
        }
    }
    Ok((trace_ids, parent_ids))
}

fn multiple_requests_with_valid_traceparent(s: &dyn Service) -> Result<(), String> {
    let callbacks = make_request(s, &[("traceparent", TP01)], 3)?;
    let (trace_ids, parent_ids) = ids_of_callbacks(&callbacks)?;
    check!(trace_ids == [T], "trace ids {trace_ids:?}");
    check!(parent_ids.len() == 3, "parent ids {parent_ids:?}");
    Ok(())
}

fn multiple_requests_without_traceparent(s: &dyn Service) -> Result<(), String> {
    let callbacks = make_request(s, &[], 3)?;
    let (_, parent_ids) = ids_of_callbacks(&callbacks)?;
    check!(parent_ids.len() == 3, "parent ids {parent_ids:?}");
    Ok(())
}

fn multiple_requests_with_illegal_traceparent(s: &dyn Service) -> Result<(), String> {
    let callbacks = make_request(
        s,
        &[(
            "traceparent",
            "00-00000000000000000000000000000000-1234567890123456-01",
        )],
        3,
    )?;
    let (trace_ids, parent_ids) = ids_of_callbacks(&callbacks)?;
    check!(
        !trace_ids.contains(&"0".repeat(32)),
        "all-zero trace id went out"
    );
    check!(parent_ids.len() == 3, "parent ids {parent_ids:?}");
    Ok(())
}

// ---- TraceContext2Test ------------------------------------------------------------------------

fn propagates_random_flag(s: &dyn Service) -> Result<(), String> {
    let (tp, _) = single(
        s,
        &[(
            "traceparent",
            "00-12345678901234567890123456789012-1234567890123456-02",
        )],
    )?;
    check!(tp.trace_id == T, "trace id {}", tp.trace_id);
    check!(tp.parent_id != "1234567890123456", "parent id not replaced");
    check!(
        tp.trace_flags & 0x02 == 0x02,
        "expected value 0x{:02x} to have #2th bit set but it did not : random flag not set",
        tp.trace_flags
    );
    Ok(())
}

macro_rules! cases {
    ($($class:literal $strict:literal $level:literal $f:ident,)*) => {
        /// Every test of the harness, in its order.
        pub const CASES: [Case; 41] = [
            $(Case {
                name: concat!($class, ".test_", stringify!($f)),
                strict: $strict,
                spec_level: $level,
                run: $f,
            },)*
        ];
    };
}

cases! {
    "TraceContextTest" false 1 both_traceparent_and_tracestate_missing,
    "TraceContextTest" false 1 traceparent_included_tracestate_missing,
    "TraceContextTest" false 1 traceparent_duplicated,
    "TraceContextTest" false 1 traceparent_header_name,
    "TraceContextTest" false 1 traceparent_header_name_valid_casing,
    "TraceContextTest" false 1 traceparent_version_0x00,
    "TraceContextTest" false 1 traceparent_version_0xcc,
    "TraceContextTest" false 1 traceparent_version_0xff,
    "TraceContextTest" false 1 traceparent_version_illegal_characters,
    "TraceContextTest" false 1 traceparent_version_too_long,
    "TraceContextTest" false 1 traceparent_version_too_short,
    "TraceContextTest" false 1 traceparent_trace_id_all_zero,
    "TraceContextTest" false 1 traceparent_trace_id_illegal_characters,
    "TraceContextTest" false 1 traceparent_trace_id_too_long,
    "TraceContextTest" false 1 traceparent_trace_id_too_short,
    "TraceContextTest" false 1 traceparent_parent_id_all_zero,
    "TraceContextTest" false 1 traceparent_parent_id_illegal_characters,
    "TraceContextTest" false 1 traceparent_parent_id_too_long,
    "TraceContextTest" false 1 traceparent_parent_id_too_short,
    "TraceContextTest" false 1 traceparent_trace_flags_illegal_characters,
    "TraceContextTest" false 1 traceparent_trace_flags_too_long,
    "TraceContextTest" false 1 traceparent_trace_flags_too_short,
    "TraceContextTest" false 1 traceparent_ows_handling,
    "TraceContextTest" false 1 tracestate_included_traceparent_missing,
    "TraceContextTest" false 1 tracestate_included_traceparent_included,
    "TraceContextTest" false 1 tracestate_header_name,
    "TraceContextTest" false 1 tracestate_header_name_valid_casing,
    "TraceContextTest" false 1 tracestate_empty_header,
    "TraceContextTest" false 1 tracestate_multiple_headers_different_keys,
    "TraceContextTest" true 1 tracestate_duplicated_keys,
    "TraceContextTest" false 1 tracestate_all_allowed_characters,
    "TraceContextTest" false 1 tracestate_ows_handling,
    "TraceContextTest" true 1 tracestate_key_illegal_characters,
    "TraceContextTest" true 1 tracestate_key_illegal_vendor_format,
    "TraceContextTest" true 1 tracestate_member_count_limit,
    "TraceContextTest" true 1 tracestate_key_length_limit,
    "TraceContextTest" true 1 tracestate_value_illegal_characters,
    "AdvancedTest" false 1 multiple_requests_with_valid_traceparent,
    "AdvancedTest" false 1 multiple_requests_without_traceparent,
    "AdvancedTest" false 1 multiple_requests_with_illegal_traceparent,
    "TraceContext2Test" false 2 propagates_random_flag,
}
