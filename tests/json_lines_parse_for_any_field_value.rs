//! Every event renders as one line of valid JSON, whatever its field names and values: strings
//! round-trip exactly (quotes, control characters, U+2028/U+2029, 100 KB), NaN and infinities
//! are `null`, 128-bit integers are numbers when they fit in 64 bits and decimal strings
//! otherwise, and no key ever repeats.

mod support;

use taskwire_test_support::json_line::{self, Record};
use taskwire_test_support::Capture;

use std::collections::BTreeMap;
use std::error::Error;

use proptest::prelude::*;
use serde_json::{json, Value as Json};
use taskwire_test_support::hostile::ChainedError;
use taskwire_test_support::hostile::{any_string, repeat_to, tricky_string};
use tracing::field::{Field, Value};
use tracing_core::callsite::Callsite;
use tracing_core::{metadata, Interest, Kind, Level, Metadata};

/// Field names that are hard to get right: built-in keys, the collision prefix itself, the
/// message, quotes, backslashes, control characters, line separators, non-ASCII, empty.
const N: usize = 20;
static NAMES: [&str; N] = [
    "message",
    "msg",
    "level",
    "fields.level",
    "a\"b",
    "ünï",
    "name",
    "ts",
    "target",
    "trace_id",
    "spans",
    "back\\slash",
    "ctl\u{1}\n\t",
    "ls\u{2028}ps\u{2029}",
    "😀",
    "x",
    "",
    "fields.msg",
    "thread",
    "line",
];

/// A hand-made callsite, so that one event can carry any subset of `NAMES` with values of any
/// type chosen at run time (the macros fix both at compile time).
struct Cs(&'static Metadata<'static>);

impl Callsite for Cs {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        self.0
    }
}

static EVENT_CS: Cs = Cs(&EVENT_META);
static EVENT_META: Metadata<'static> = metadata! {
    name: "any value event",
    target: "any_value",
    level: Level::INFO,
    fields: &NAMES,
    callsite: &EVENT_CS,
    kind: Kind::EVENT,
};
static SPAN_CS: Cs = Cs(&SPAN_META);
static SPAN_META: Metadata<'static> = metadata! {
    name: "any value span",
    target: "any_value",
    level: Level::INFO,
    fields: &NAMES,
    callsite: &SPAN_CS,
    kind: Kind::SPAN,
};

/// A field value of any type `tracing` records.
#[derive(Clone, Debug)]
enum V {
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
    Str(String),
    Display(String),
    Debug(String),
}

impl V {
    fn boxed(&self) -> Box<dyn Value + '_> {
        match self {
            V::I64(v) => Box::new(*v),
            V::U64(v) => Box::new(*v),
            V::I128(v) => Box::new(*v),
            V::U128(v) => Box::new(*v),
            V::F64(v) => Box::new(*v),
            V::Bool(v) => Box::new(*v),
            V::Str(s) => Box::new(s.as_str()),
            V::Display(s) => Box::new(tracing::field::display(s)),
            V::Debug(s) => Box::new(tracing::field::debug(s)),
        }
    }

    /// Whether `tracing` records it as a string (a `message` field of this kind is the message).
    fn is_text(&self) -> bool {
        matches!(self, V::Str(_) | V::Display(_) | V::Debug(_))
    }

    /// The JSON value the documented rules give.
    fn expected(&self) -> Json {
        match self {
            V::I64(v) => json!(v),
            V::U64(v) => json!(v),
            V::I128(v) => match (i64::try_from(*v), u64::try_from(*v)) {
                (Ok(x), _) => json!(x),
                (_, Ok(x)) => json!(x),
                _ => json!(v.to_string()),
            },
            V::U128(v) => match u64::try_from(*v) {
                Ok(x) => json!(x),
                Err(_) => json!(v.to_string()),
            },
            V::F64(v) if v.is_finite() => json!(v),
            V::F64(_) => Json::Null,
            V::Bool(v) => json!(v),
            V::Str(s) | V::Display(s) => json!(s),
            V::Debug(s) => json!(format!("{s:?}")),
        }
    }
}

/// Whether `raw` (a value's JSON text as written) is what the rules give for `v`. Finite floats
/// are compared bit for bit after parsing the text with the standard library, because
/// serde_json's default float parser is not correctly rounded.
fn same(parsed: &Json, raw: &str, v: &V) -> bool {
    match v {
        V::F64(f) if f.is_finite() => {
            parsed.is_number() && raw.parse::<f64>().is_ok_and(|g| g.to_bits() == f.to_bits())
        }
        _ => *parsed == v.expected(),
    }
}

fn out_key(name: &str) -> String {
    if support::is_built_in(name) {
        format!("fields.{name}")
    } else {
        name.to_owned()
    }
}

/// Emits one event with `event` fields inside one span with `span` fields; returns its line.
fn emit(event: &[Option<V>], span: &[Option<V>]) -> String {
    let buf = Capture::default();
    support::with_layer(support::json_all_keys(&buf), || {
        let span_boxes: Vec<_> = span.iter().map(|v| v.as_ref().map(V::boxed)).collect();
        let span_fields: Vec<Field> = SPAN_META.fields().iter().collect();
        let span_values: [(&Field, Option<&dyn Value>); N] =
            std::array::from_fn(|i| (&span_fields[i], span_boxes[i].as_deref()));
        let span = tracing::Span::new(&SPAN_META, &SPAN_META.fields().value_set(&span_values));
        let _entered = span.enter();

        let boxes: Vec<_> = event.iter().map(|v| v.as_ref().map(V::boxed)).collect();
        let fields: Vec<Field> = EVENT_META.fields().iter().collect();
        let values: [(&Field, Option<&dyn Value>); N] =
            std::array::from_fn(|i| (&fields[i], boxes[i].as_deref()));
        tracing::Event::dispatch(&EVENT_META, &EVENT_META.fields().value_set(&values));
    });
    let mut lines = buf.lines();
    assert_eq!(lines.len(), 1, "one event, one line: {lines:?}");
    lines.remove(0)
}

/// What the record must hold besides the built-in keys: the message, and each user key with
/// the value that wins (event fields first, then span fields; first writer of a key wins).
fn expectations<'v>(
    event: &'v [Option<V>],
    span: &'v [Option<V>],
) -> (Json, BTreeMap<String, &'v V>) {
    let mut msg = json!("");
    let mut user = BTreeMap::new();
    for (name, v) in NAMES.iter().zip(event) {
        let Some(v) = v else { continue };
        if *name == "message" && v.is_text() {
            msg = v.expected();
            continue;
        }
        user.entry(out_key(name)).or_insert(v);
    }
    for (name, v) in NAMES.iter().zip(span) {
        let Some(v) = v else { continue };
        user.entry(out_key(name)).or_insert(v);
    }
    (msg, user)
}

fn check(line: &str, event: &[Option<V>], span: &[Option<V>]) -> Result<(), TestCaseError> {
    let r: Record = json_line::parse_line(line);
    let raw: BTreeMap<String, String> = json_line::raw_values(line).into_iter().collect();
    let (msg, user) = expectations(event, span);
    prop_assert_eq!(&r["msg"], &msg);
    prop_assert_eq!(&r["level"], &json!("INFO"));
    prop_assert_eq!(&r["target"], &json!("any_value"));
    prop_assert!(json_line::is_hex_id(json_line::str_of(&r, "trace_id"), 32));
    prop_assert!(json_line::is_hex_id(json_line::str_of(&r, "span_id"), 16));
    prop_assert!(r["line"].is_u64());
    for (key, want) in &user {
        let got = r.get(key).zip(raw.get(key));
        prop_assert!(
            got.is_some_and(|(g, text)| same(g, text, want)),
            "key {:?}: got {:?}, want {:?}",
            key,
            got,
            want
        );
    }
    let built_in = [
        "ts", "level", "target", "msg", "trace_id", "span_id", "file", "line", "module", "thread",
        "pid", "host",
    ];
    for key in r.keys() {
        prop_assert!(
            built_in.contains(&key.as_str()) || user.contains_key(key),
            "unexpected key {:?}",
            key
        );
    }
    Ok(())
}

fn any_value() -> impl Strategy<Value = V> {
    let i128_edges = [
        i128::MIN,
        i128::MAX,
        i128::from(i64::MIN),
        i128::from(i64::MIN) - 1,
        i128::from(u64::MAX),
        i128::from(u64::MAX) + 1,
        0,
    ];
    let u128_edges = [u128::MAX, u128::from(u64::MAX), u128::from(u64::MAX) + 1, 0];
    let f64_edges = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        0.1,
    ];
    prop_oneof![
        prop_oneof![
            any::<i64>(),
            prop::sample::select(vec![i64::MIN, i64::MAX, -1])
        ]
        .prop_map(V::I64),
        prop_oneof![any::<u64>(), Just(u64::MAX)].prop_map(V::U64),
        prop_oneof![
            any::<i128>(),
            any::<i64>().prop_map(i128::from),
            prop::sample::select(i128_edges.to_vec())
        ]
        .prop_map(V::I128),
        prop_oneof![
            any::<u128>(),
            any::<u64>().prop_map(u128::from),
            prop::sample::select(u128_edges.to_vec())
        ]
        .prop_map(V::U128),
        prop_oneof![any::<f64>(), prop::sample::select(f64_edges.to_vec())].prop_map(V::F64),
        any::<bool>().prop_map(V::Bool),
        any_string().prop_map(V::Str),
        any_string().prop_map(V::Display),
        tricky_string().prop_map(V::Debug),
    ]
}

fn any_fields() -> impl Strategy<Value = Vec<Option<V>>> {
    prop::collection::vec(prop::option::of(any_value()), N)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_line_parses_and_every_value_round_trips(event in any_fields(), span in any_fields()) {
        let line = emit(&event, &span);
        check(&line, &event, &span)?;
    }
}

/// The documented rules on their edge values, through the ordinary macros, as event fields and
/// as span fields (which are captured and rendered by another path).
#[test]
fn edge_values_follow_the_documented_rules() {
    let big = repeat_to("a\"\\\u{1}\u{2028}é😀", 100 * 1024);
    let err = ChainedError::new("outer \"failed\"\n", "inner\u{2028}");
    let buf = Capture::default();
    support::with_layer(support::json_all_keys(&buf), || {
        tracing::info!(
            nan = f64::NAN,
            inf = f64::INFINITY,
            ninf = f64::NEG_INFINITY,
            half = 0.5_f64,
            hard = -1.098_314_662_720_401_1e-13_f64,
            tiny = 5e-324_f64,
            neg_zero = -0.0_f64,
            imin = i64::MIN,
            umax = u64::MAX,
            i128_fits = i128::from(i64::MIN),
            i128_fits_u64 = i128::from(u64::MAX),
            i128_big = i128::MIN,
            u128_fits = u128::from(u64::MAX),
            u128_big = u128::MAX,
            big = big.as_str(),
            separators = "\u{2028}|\u{2029}",
            quotes = "a\"b\\c/",
            controls = "\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}",
            err = &err as &dyn Error,
            "msg with \"quotes\"\n"
        );
        let span = tracing::info_span!(
            "edges",
            s_nan = f64::NAN,
            s_i128_big = i128::MAX,
            s_u128_big = u128::from(u64::MAX) + 1,
            s_u128_fits = 7_u128,
            s_big = big.as_str(),
            s_err = &err as &dyn Error
        );
        let _entered = span.enter();
        tracing::info!("in span");
    });
    let lines = buf.lines();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].contains(r"\u2028|\u2029"),
        "{}",
        &lines[0][..200.min(lines[0].len())]
    );
    let r = json_line::parse_line(&lines[0]);
    assert_eq!(r["nan"], Json::Null);
    assert_eq!(r["inf"], Json::Null);
    assert_eq!(r["ninf"], Json::Null);
    assert_eq!(r["half"], json!(0.5));
    // Floats are written in a form that parses back to the same bits (serde_json's default
    // parser is off by two units in the last place on `hard`, so read the text).
    let raw: BTreeMap<String, String> = json_line::raw_values(&lines[0]).into_iter().collect();
    for (k, v) in [
        ("hard", -1.098_314_662_720_401_1e-13_f64),
        ("tiny", 5e-324),
        ("neg_zero", -0.0),
    ] {
        let back: f64 = raw[k].parse().expect("a float");
        assert_eq!(back.to_bits(), v.to_bits(), "{k}: {}", raw[k]);
    }
    assert_eq!(r["imin"], json!(i64::MIN));
    assert_eq!(r["umax"], json!(u64::MAX));
    assert_eq!(r["i128_fits"], json!(i64::MIN));
    assert_eq!(r["i128_fits_u64"], json!(u64::MAX));
    assert_eq!(r["i128_big"], json!(i128::MIN.to_string()));
    assert_eq!(r["u128_fits"], json!(u64::MAX));
    assert_eq!(r["u128_big"], json!(u128::MAX.to_string()));
    assert_eq!(r["big"], json!(big));
    assert_eq!(r["separators"], json!("\u{2028}|\u{2029}"));
    assert_eq!(r["quotes"], json!("a\"b\\c/"));
    assert_eq!(r["controls"], json!("\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}"));
    assert_eq!(
        r["err"],
        json!({"message": "outer \"failed\"\n", "source": ["inner\u{2028}"]})
    );
    assert_eq!(r["msg"], json!("msg with \"quotes\"\n"));

    let r = json_line::parse_line(&lines[1]);
    assert_eq!(r["s_nan"], Json::Null);
    assert_eq!(r["s_i128_big"], json!(i128::MAX.to_string()));
    assert_eq!(
        r["s_u128_big"],
        json!((u128::from(u64::MAX) + 1).to_string())
    );
    assert_eq!(r["s_u128_fits"], json!(7));
    assert_eq!(r["s_big"], json!(big));
    assert_eq!(
        r["s_err"],
        json!({"message": "outer \"failed\"\n", "source": ["inner\u{2028}"]})
    );
}

/// Callsites up to 64 fields are rendered with a per-callsite plan and larger ones without:
/// both must keep every rule (collisions, redaction, first of a repeated key wins).
static WIDE_64: [&str; 64] = [
    "fields.ts",
    "g1",
    "g2",
    "g3",
    "g4",
    "g5",
    "g6",
    "g7",
    "g8",
    "g9",
    "g10",
    "g11",
    "g12",
    "g13",
    "g14",
    "g15",
    "g16",
    "g17",
    "g18",
    "g19",
    "g20",
    "g21",
    "g22",
    "g23",
    "g24",
    "g25",
    "g26",
    "g27",
    "g28",
    "g29",
    "g30",
    "level",
    "fields.level",
    "g33",
    "g34",
    "g35",
    "g36",
    "g37",
    "g38",
    "g39",
    "g40",
    "g41",
    "g42",
    "g43",
    "g44",
    "g45",
    "g46",
    "g47",
    "g48",
    "g49",
    "g50",
    "g51",
    "g52",
    "g53",
    "g54",
    "g55",
    "g56",
    "g57",
    "g58",
    "g59",
    "g60",
    "g61",
    "token",
    "ts",
];
static WIDE_70: [&str; 70] = [
    "f0",
    "f1",
    "f2",
    "f3",
    "f4",
    "level",
    "f6",
    "f7",
    "f8",
    "f9",
    "f10",
    "f11",
    "f12",
    "f13",
    "f14",
    "f15",
    "f16",
    "f17",
    "f18",
    "f19",
    "f20",
    "f21",
    "f22",
    "f23",
    "f24",
    "f25",
    "f26",
    "f27",
    "f28",
    "f29",
    "f30",
    "f31",
    "f32",
    "f33",
    "f34",
    "f35",
    "f36",
    "f37",
    "f38",
    "f39",
    "password",
    "f41",
    "f42",
    "f43",
    "f44",
    "f45",
    "f46",
    "f47",
    "f48",
    "f49",
    "f50",
    "f51",
    "f52",
    "f53",
    "f54",
    "f55",
    "f56",
    "f57",
    "f58",
    "f59",
    "f60",
    "f61",
    "msg",
    "fields.level",
    "level",
    "fields.msg",
    "apiKey",
    "f1",
    "message",
    "ctl\u{1}",
];

static WIDE_64_CS: Cs = Cs(&WIDE_64_META);
static WIDE_64_META: Metadata<'static> = metadata! {
    name: "wide 64",
    target: "wide",
    level: Level::INFO,
    fields: &WIDE_64,
    callsite: &WIDE_64_CS,
    kind: Kind::EVENT,
};
static WIDE_70_CS: Cs = Cs(&WIDE_70_META);
static WIDE_70_META: Metadata<'static> = metadata! {
    name: "wide 70",
    target: "wide",
    level: Level::INFO,
    fields: &WIDE_70,
    callsite: &WIDE_70_CS,
    kind: Kind::EVENT,
};

/// Emits `meta` (twice, so a cached plan is used too) with field `i` set to `i`, and checks
/// the record against the rules.
fn check_wide<const W: usize>(meta: &'static Metadata<'static>) {
    let buf = Capture::default();
    support::with_layer(support::json_all_keys(&buf), || {
        let fields: Vec<Field> = meta.fields().iter().collect();
        let values: Vec<i64> = (0..).take(W).collect();
        let pairs: [(&Field, Option<&dyn Value>); W] =
            std::array::from_fn(|i| (&fields[i], Some(&values[i] as &dyn Value)));
        for _ in 0..2 {
            tracing::Event::dispatch(meta, &meta.fields().value_set(&pairs));
        }
    });
    let mut want: BTreeMap<String, Json> = BTreeMap::new();
    for (i, field) in meta.fields().iter().enumerate() {
        let name = field.name();
        let value = if taskwire::core::Redactor::default().is_sensitive(name) {
            json!("[redacted]")
        } else {
            json!(i)
        };
        want.entry(out_key(name)).or_insert(value);
    }
    let records = buf.records();
    assert_eq!(records.len(), 2);
    for r in &records {
        for (k, v) in &want {
            assert_eq!(r.get(k), Some(v), "{k} in {r:?}");
        }
        let built_in = [
            "ts", "level", "target", "msg", "file", "line", "module", "thread", "pid", "host",
        ];
        for k in r.keys() {
            assert!(
                built_in.contains(&k.as_str()) || want.contains_key(k),
                "unexpected {k}"
            );
        }
        assert_eq!(r["level"], json!("INFO"));
        assert_eq!(r["msg"], json!(""));
    }
}

#[test]
fn a_callsite_with_64_fields_keeps_every_rule() {
    check_wide::<64>(&WIDE_64_META);
}

#[test]
fn a_callsite_with_more_than_64_fields_keeps_every_rule() {
    check_wide::<70>(&WIDE_70_META);
}
