//! Checks of JSON lines as a layer writes them: one object a line, no raw line break, no
//! repeated key at any depth (`serde_json::Value` silently keeps the last of repeated keys, so
//! [`parse_line`] checks that separately), the keys in written order, and each value's raw text.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// One parsed JSON record.
pub type Record = Map<String, Value>;

/// The `msg` of the record taskwire's tasks layer writes when a task ends (written here
/// independently of the layer, as the tests' oracle).
pub const TASK_END: &str = "task.end";

/// Whether `r` is a task's end record ([`TASK_END`]).
pub fn is_task_end(r: &Record) -> bool {
    r.get("msg").and_then(Value::as_str) == Some(TASK_END)
}

/// Every `ts` of a JSON lines log moved by `shift_us` µs: the log of a host whose clock is off
/// by that much. `shift` turns a `ts` and `shift_us` into the moved `ts` (the kit depends on no
/// taskwire crate, so the caller brings its time parser and formatter).
///
/// ```
/// let log = "{\"ts\":\"a\",\"msg\":\"x\"}\n";
/// let moved = taskwire_test_support::json_line::shift_times(log, 1, |ts, by| format!("{ts}+{by}"));
/// assert!(moved.contains(r#""ts":"a+1""#) && moved.ends_with("}\n"));
/// ```
pub fn shift_times(log: &str, shift_us: i64, shift: impl Fn(&str, i64) -> String) -> String {
    let mut out = String::new();
    for line in log.lines() {
        let mut record: Record = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a line is not a JSON object ({e}): {line}"));
        let ts = record.get("ts").and_then(Value::as_str);
        let ts = ts.unwrap_or_else(|| panic!("a record without a ts: {line}"));
        let moved = shift(ts, shift_us);
        record.insert("ts".to_owned(), Value::String(moved));
        out.push_str(&Value::Object(record).to_string());
        out.push('\n');
    }
    out
}

/// Splits output into lines, checking that it ends with a newline when not empty.
pub fn split_lines(out: &str) -> Vec<String> {
    if out.is_empty() {
        return Vec::new();
    }
    assert!(
        out.ends_with('\n'),
        "output does not end with a newline: {out:?}"
    );
    out[..out.len() - 1]
        .split('\n')
        .map(str::to_owned)
        .collect()
}

/// Parses one JSON line: it must contain no raw line break (`\n`, `\r`, U+2028, U+2029), be a
/// JSON object, and repeat no key in any object at any depth.
pub fn parse_line(line: &str) -> Record {
    for c in ['\n', '\r', '\u{2028}', '\u{2029}'] {
        assert!(!line.contains(c), "raw {c:?} in line {line:?}");
    }
    if let Err(e) = serde_json::from_str::<NoDuplicateKeys>(line) {
        panic!("invalid JSON or repeated key ({e}) in line {line:?}");
    }
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => m,
        Ok(other) => panic!("not an object: {other}"),
        Err(e) => panic!("invalid JSON ({e}) in line {line:?}"),
    }
}

/// Deserializes any JSON value and fails on the first object that repeats a key.
pub struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDupVisitor)
    }
}

struct NoDupVisitor;

impl<'de> Visitor<'de> for NoDupVisitor {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }
}

/// The top-level keys of a JSON object line, in the order they are written.
pub fn keys_in_order(line: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<de::IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    struct InOrder(Vec<String>);
    impl<'de> Deserialize<'de> for InOrder {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(Keys).map(InOrder)
        }
    }
    match serde_json::from_str::<InOrder>(line) {
        Ok(InOrder(keys)) => keys,
        Err(e) => panic!("invalid JSON object ({e}): {line:?}"),
    }
}

/// The top-level keys of a JSON object line with the raw JSON text of each value, in order.
/// (For exact float checks: serde_json's default float parser is not correctly rounded.)
pub fn raw_values(line: &str) -> Vec<(String, String)> {
    fn one<T: de::DeserializeOwned>(s: &str) -> (T, usize) {
        let mut it = serde_json::Deserializer::from_str(s).into_iter::<T>();
        match it.next() {
            Some(Ok(v)) => (v, it.byte_offset()),
            other => panic!("no JSON value ({:?}) at {s:?}", other.map(|r| r.err())),
        }
    }
    let mut rest = line.trim_start().strip_prefix('{').expect("an object");
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix('}') {
            assert!(r.trim().is_empty(), "trailing text {r:?}");
            return out;
        }
        if !out.is_empty() {
            rest = rest.strip_prefix(',').expect("a comma").trim_start();
        }
        let (key, n) = one::<String>(rest);
        rest = rest[n..]
            .trim_start()
            .strip_prefix(':')
            .expect("a colon")
            .trim_start();
        let (_, n) = one::<de::IgnoredAny>(rest);
        out.push((key, rest[..n].to_owned()));
        rest = &rest[n..];
    }
}

/// Whether `s` is `len` lowercase hex digits, not all zero (a W3C trace or span id).
pub fn is_hex_id(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && s.bytes().any(|b| b != b'0')
}

/// The first record whose `msg` is `msg`, or a panic listing the records.
pub fn by_msg<'r>(records: &'r [Record], msg: &str) -> &'r Record {
    records
        .iter()
        .find(|r| r.get("msg").and_then(Value::as_str) == Some(msg))
        .unwrap_or_else(|| panic!("no record {msg:?} in {records:?}"))
}

/// The string under `key`, or a panic naming the record.
pub fn str_of<'r>(r: &'r Record, key: &str) -> &'r str {
    match r.get(key) {
        Some(Value::String(s)) => s,
        other => panic!("{key:?} is {other:?}, not a string, in {r:?}"),
    }
}

/// The unsigned integer under `key`, or a panic naming the record.
pub fn u64_of(r: &Record, key: &str) -> u64 {
    match r.get(key).and_then(Value::as_u64) {
        Some(v) => v,
        None => panic!("{key:?} is not an unsigned integer in {r:?}"),
    }
}

/// Microseconds since the epoch of a `ts` as taskwire writes it, `YYYY-MM-DDTHH:MM:SS.uuuuuuZ`
/// (RFC 3339, UTC, microseconds); panics on any other shape. Computed here independently of the
/// writer, as the tests' oracle.
pub fn ts_micros(ts: &str) -> i64 {
    let b = ts.as_bytes();
    assert_eq!(b.len(), 27, "{ts}");
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        assert_eq!(b[i], c, "{ts}");
    }
    let n = |r: std::ops::Range<usize>| -> i64 {
        ts[r].parse().unwrap_or_else(|_| panic!("digits in {ts}"))
    };
    let (y, mo, d) = (n(0..4), n(5..7), n(8..10));
    let (h, mi, s, us) = (n(11..13), n(14..16), n(17..19), n(20..26));
    assert!(
        (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 60,
        "{ts}"
    );
    ((days_since_epoch(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + us
}

/// Days since 1970-01-01 of a proleptic Gregorian date, counted year by year and month by
/// month: slow, and plainly right, which is what an oracle needs.
fn days_since_epoch(y: i64, m: i64, d: i64) -> i64 {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let year_days = |y: i64| if leap(y) { 366 } else { 365 };
    let mut days: i64 = if y >= 1970 {
        (1970..y).map(year_days).sum()
    } else {
        -(y..1970).map(year_days).sum::<i64>()
    };
    const MONTH_DAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for month in 1..m {
        days += MONTH_DAYS[(month - 1) as usize] + i64::from(month == 2 && leap(y));
    }
    days + d - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_at_any_depth_is_refused() {
        assert!(serde_json::from_str::<NoDuplicateKeys>(r#"{"a":{"b":1,"c":2}}"#).is_ok());
        assert!(serde_json::from_str::<NoDuplicateKeys>(r#"{"a":[{"b":1,"b":2}]}"#).is_err());
        assert!(serde_json::from_str::<NoDuplicateKeys>(r#"{"a":1,"a":1}"#).is_err());
    }

    #[test]
    #[should_panic(expected = "raw '\\u{2028}'")]
    fn a_raw_line_separator_is_refused() {
        parse_line("{\"a\":\"\u{2028}\"}");
    }

    #[test]
    fn keys_and_raw_values_keep_the_written_order_and_text() {
        let line = r#"{"z":1.50,"a":"x","m":[1, 2]}"#;
        assert_eq!(keys_in_order(line), ["z", "a", "m"]);
        assert_eq!(
            raw_values(line),
            [
                ("z".to_owned(), "1.50".to_owned()),
                ("a".to_owned(), "\"x\"".to_owned()),
                ("m".to_owned(), "[1, 2]".to_owned()),
            ]
        );
    }

    #[test]
    fn ts_micros_reads_dates_across_leap_years_and_eras() {
        assert_eq!(ts_micros("1970-01-01T00:00:00.000000Z"), 0);
        assert_eq!(
            ts_micros("2024-02-29T23:59:59.999999Z"),
            1_709_251_199_999_999
        );
        assert_eq!(ts_micros("1969-12-31T23:59:59.000001Z"), -999_999);
        assert_eq!(
            ts_micros("2000-03-01T00:00:00.000000Z"),
            951_868_800_000_000
        );
        assert_eq!(
            ts_micros("1900-03-01T00:00:00.000000Z"),
            -2_203_891_200_000_000
        );
    }

    #[test]
    fn hex_ids_are_lowercase_and_not_all_zero() {
        assert!(is_hex_id("00f067aa0ba902b7", 16));
        assert!(!is_hex_id("0000000000000000", 16));
        assert!(!is_hex_id("00F067AA0BA902B7", 16));
        assert!(!is_hex_id("00f067aa0ba902b", 16));
    }
}
