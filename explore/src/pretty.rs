//! Records as a person reads them in a terminal: one line per record, the way `taskwire tail`
//! shows a live log (and the way a console writer can show records as they are made).
//!
//! ```text
//! 10:00:00.022 WARN  back back: fraud score high score=0.93 [4bf92f35]
//! 10:00:00.037 ✗     back POST /charge 25.0ms card declined [4bf92f35]
//! ```
//!
//! - an event: time (`HH:MM:SS.mmm` of its `ts`, UTC as written), level, service, target,
//!   message, then its other fields as `key=value` in the order of the line, then the span
//!   context in brackets: the task's name when the record carries one, and the trace id's first
//!   eight digits;
//! - a task record (`task.end`): `✓` or `✗`, service, task name, duration, the failure;
//! - the header entries every record has (`file`, `line`, `thread`, `pid`, `host`, ids, …) are
//!   left out;
//! - colors ([`Pretty::with_color`]): levels, outcomes, dimmed time and keys;
//! - a highlighted trace ([`Pretty::with_highlight`]): its lines start with `▶`, the others
//!   with two spaces, so the trace stands out in an interleaved log.
//!
//! Every text that comes from the record (message, values, keys, even the level and service)
//! is written through [`Clean`]: control characters and escape sequences are shown escaped
//! (`\u{1b}[2J`), never sent raw to the terminal. A line that is not a JSON object is returned
//! as not rendered, for the caller to pass through as it is.
//!
//! Records are parsed in one pass into borrowed entries ([`Record`]), in the order of the line,
//! without building a map: rendering keeps up with a few hundred thousand lines per second
//! (measured in docs/benchmarks.md).
//!
//! ```
//! use taskwire_explore::pretty::Pretty;
//! let line = br#"{"ts":"2026-11-21T10:00:00.022000Z","level":"WARN","target":"back","msg":"fraud score high","score":0.93,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","service":"back","pid":200}"#;
//! let mut out = Vec::new();
//! assert!(Pretty::new().line(line, &mut out));
//! assert_eq!(String::from_utf8(out)?, "10:00:00.022 WARN  back back: fraud score high score=0.93 [4bf92f35]\n");
//! # Ok::<(), std::string::FromUtf8Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Number, Value};
use taskwire_core::schema::{header, task_record, TASK_NAME};

// a string borrowed from the input when it has no escape, owned otherwise
use crate::borrowed::Str as Text;
use crate::query::TracePrefix;
use crate::text::{Clean, Human};

/// One JSON record, its entries in the order of the line, strings borrowed from it where they
/// need no unescaping.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Record<'a> {
    entries: Vec<(Cow<'a, str>, Field<'a>)>,
}

/// A value of a [`Record`].
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A number, as written.
    Num(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An object or an array.
    Json(Value),
}

impl<'a> Record<'a> {
    /// The record of `line` (one JSON object, spaces around it allowed), or `None` when the
    /// line is not a JSON object.
    pub fn parse(line: &'a [u8]) -> Option<Record<'a>> {
        serde_json::from_slice(line.trim_ascii()).ok()
    }

    /// The value of `key` (the first, if the line repeats it).
    pub fn get(&self, key: &str) -> Option<&Field<'a>> {
        self.entries
            .iter()
            .find_map(|(k, v)| (k.as_ref() == key).then_some(v))
    }

    /// The string value of `key`.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, in the order of the line.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Field<'a>)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Whether this is a task record (`task.end` or `task.start` of the tasks layer).
    pub fn is_task_record(&self) -> bool {
        self.str(header::TARGET) == Some(task_record::TARGET)
            && matches!(
                self.str(header::MESSAGE),
                Some(task_record::END | task_record::START)
            )
    }

    /// The trace id, when the record has a well-formed one.
    pub fn trace_id(&self) -> Option<u128> {
        let t = self.str(header::TRACE_ID)?;
        is_trace_id(t)
            .then(|| u128::from_str_radix(t, 16).ok())
            .flatten()
    }
}

/// Renders records as pretty lines. Cheap to build; [`Pretty::line`] allocates only for the
/// parsed entries.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pretty {
    color: bool,
    highlight: Option<TracePrefix>,
}

/// ANSI SGR codes, or nothing when colors are off.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn on(self, code: &'static str) -> &'static str {
        if self.0 {
            code
        } else {
            ""
        }
    }
    fn reset(self) -> &'static str {
        self.on("\x1b[0m")
    }
}

const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BLUE: &str = "\x1b[34m";
const MAGENTA: &str = "\x1b[35m";
const CYAN: &str = "\x1b[36m";
const BOLD_RED: &str = "\x1b[1;31m";

impl Pretty {
    /// Plain text, no highlight.
    pub fn new() -> Pretty {
        Pretty::default()
    }

    /// Writes ANSI colors (levels, outcomes, dimmed time and keys).
    #[must_use]
    pub fn with_color(mut self, color: bool) -> Pretty {
        self.color = color;
        self
    }

    /// Marks the lines of this trace with `▶` (and the others with two spaces).
    #[must_use]
    pub fn with_highlight(self, trace: Option<u128>) -> Pretty {
        self.with_highlight_prefix(trace.map(TracePrefix::of_id))
    }

    /// Marks the lines of every trace whose id starts with `prefix` with `▶` (and the others
    /// with two spaces): the short id the console prints is enough.
    ///
    /// ```
    /// use taskwire_explore::pretty::Pretty;
    /// use taskwire_explore::query::TracePrefix;
    /// let line = br#"{"ts":"2026-11-21T10:00:00.037Z","level":"INFO","msg":"hi","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#;
    /// let mut out = Vec::new();
    /// Pretty::new().with_highlight_prefix(TracePrefix::parse("4bf92f35")).line(line, &mut out);
    /// assert!(out.starts_with("▶ 10:00:00.037".as_bytes()));
    /// ```
    #[must_use]
    pub fn with_highlight_prefix(mut self, prefix: Option<TracePrefix>) -> Pretty {
        self.highlight = prefix;
        self
    }

    /// Appends the pretty form of `line` and a newline to `out`, and returns `true`; or, when
    /// `line` is not a JSON object, appends nothing and returns `false` (the caller passes the
    /// line through as it is).
    pub fn line(&self, line: &[u8], out: &mut Vec<u8>) -> bool {
        match Record::parse(line) {
            Some(r) => {
                self.record(&r, out);
                true
            }
            None => false,
        }
    }

    /// Appends the pretty form of `record` and a newline to `out`.
    pub fn record(&self, r: &Record<'_>, out: &mut Vec<u8>) {
        // writing to a Vec cannot fail
        let _ = self.write(r, out);
        out.push(b'\n');
    }

    fn write(&self, r: &Record<'_>, out: &mut Vec<u8>) -> std::io::Result<()> {
        let p = Paint(self.color);
        let k = Known::of(r);
        let trace = k.trace_id.filter(|t| is_trace_id(t));
        if let Some(h) = self.highlight {
            if trace
                .and_then(|t| u128::from_str_radix(t, 16).ok())
                .is_some_and(|t| h.matches(t))
            {
                write!(out, "{}▶{} ", p.on(BOLD), p.reset())?;
            } else {
                out.extend_from_slice(b"  ");
            }
        }
        out.extend_from_slice(p.on(DIM).as_bytes());
        match k.ts {
            Some(ts) => write_time(out, ts)?,
            None => out.extend_from_slice(b"--:--:--.---"),
        }
        out.extend_from_slice(p.reset().as_bytes());
        out.push(b' ');
        let task = k.target == Some(task_record::TARGET)
            && matches!(k.msg, Some(task_record::END | task_record::START));
        if task {
            let end = k.msg == Some(task_record::END);
            let (mark, color) = match (end, k.outcome == Some("failed")) {
                (false, _) => ("→", CYAN),
                (true, true) => ("✗", RED),
                (true, false) => ("✓", GREEN),
            };
            write!(out, "{}{mark}{}     ", p.on(color), p.reset())?;
            if let Some(s) = k.service {
                put(out, s);
                out.push(b' ');
            }
            out.extend_from_slice(p.on(BOLD).as_bytes());
            put(out, k.task_name.unwrap_or("?"));
            out.extend_from_slice(p.reset().as_bytes());
            if let Some(us) = k.duration_us {
                write!(out, " {}", Human(us))?;
            }
            if let Some(f) = k.failure {
                out.push(b' ');
                out.extend_from_slice(p.on(RED).as_bytes());
                put(out, f);
                out.extend_from_slice(p.reset().as_bytes());
            }
        } else {
            let level = k.level.unwrap_or("");
            let color = match level {
                "ERROR" => BOLD_RED,
                "WARN" => YELLOW,
                "INFO" => GREEN,
                "DEBUG" => BLUE,
                "TRACE" => MAGENTA,
                _ => "",
            };
            out.extend_from_slice(p.on(color).as_bytes());
            put(out, level);
            out.extend_from_slice(p.reset().as_bytes());
            for _ in crate::text::width(level)..5 {
                out.push(b' ');
            }
            if let Some(s) = k.service {
                out.push(b' ');
                put(out, s);
            }
            if let Some(t) = k.target {
                out.push(b' ');
                out.extend_from_slice(p.on(DIM).as_bytes());
                put(out, t);
                out.push(b':');
                out.extend_from_slice(p.reset().as_bytes());
            }
            if let Some(m) = k.msg.filter(|m| !m.is_empty()) {
                out.push(b' ');
                put(out, m);
            }
        }
        for (key, v) in r.entries() {
            if is_hidden(key) || key == TASK_NAME || (task && task_record::is_reserved_key(key)) {
                continue;
            }
            out.push(b' ');
            out.extend_from_slice(p.on(DIM).as_bytes());
            put(out, key);
            out.push(b'=');
            out.extend_from_slice(p.reset().as_bytes());
            write_value(out, v)?;
        }
        let name = k.task_name.filter(|_| !task);
        if name.is_some() || trace.is_some() {
            out.push(b' ');
            out.extend_from_slice(p.on(DIM).as_bytes());
            out.push(b'[');
            if let Some(n) = name {
                put(out, n);
                if trace.is_some() {
                    out.push(b' ');
                }
            }
            if let Some(t) = trace {
                out.extend_from_slice(&t.as_bytes()[..8]);
            }
            out.push(b']');
            out.extend_from_slice(p.reset().as_bytes());
        }
        Ok(())
    }
}

/// The entries a pretty line gives a place of their own, found in one pass.
#[derive(Default)]
struct Known<'r> {
    ts: Option<&'r str>,
    level: Option<&'r str>,
    target: Option<&'r str>,
    msg: Option<&'r str>,
    service: Option<&'r str>,
    trace_id: Option<&'r str>,
    task_name: Option<&'r str>,
    outcome: Option<&'r str>,
    failure: Option<&'r str>,
    duration_us: Option<u64>,
}

impl<'r> Known<'r> {
    fn of(r: &'r Record<'_>) -> Known<'r> {
        let mut k = Known::default();
        for (key, v) in r.entries() {
            if let Field::Num(n) = v {
                if key == task_record::keys::DURATION_US && k.duration_us.is_none() {
                    k.duration_us = n.as_u64();
                }
                continue;
            }
            let Field::Str(s) = v else { continue };
            let slot = match key {
                header::TIMESTAMP => &mut k.ts,
                header::LEVEL => &mut k.level,
                header::TARGET => &mut k.target,
                header::MESSAGE => &mut k.msg,
                header::SERVICE => &mut k.service,
                header::TRACE_ID => &mut k.trace_id,
                TASK_NAME => &mut k.task_name,
                task_record::keys::OUTCOME => &mut k.outcome,
                task_record::keys::FAILURE => &mut k.failure,
                _ => continue,
            };
            // the first of a repeated key, as `Record::get` finds it
            if slot.is_none() {
                *slot = Some(s);
            }
        }
        k
    }
}

fn is_trace_id(t: &str) -> bool {
    t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a pretty line leaves `key` out (shown elsewhere on the line, or noise when reading
/// a live log).
fn is_hidden(key: &str) -> bool {
    matches!(
        key,
        header::TIMESTAMP
            | header::LEVEL
            | header::TARGET
            | header::MESSAGE
            | header::TRACE_ID
            | header::SPAN_ID
            | header::PARENT_SPAN_ID
            | header::FILE
            | header::LINE
            | header::MODULE
            | header::THREAD
            | header::PID
            | header::HOST
            | header::SERVICE
    )
}

/// Writes `s` as [`Clean`] shows it, copying it whole when it has no control character.
#[inline]
fn put(out: &mut Vec<u8>, s: &str) {
    if crate::text::may_have_control(s) {
        let _ = write!(out, "{}", Clean(s));
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// `HH:MM:SS.mmm` of an RFC 3339 time (`2026-11-21T10:00:00.016000Z`), or the whole text when
/// it has another form.
fn write_time(out: &mut Vec<u8>, ts: &str) -> std::io::Result<()> {
    let b = ts.as_bytes();
    let well_formed = b.len() >= 19
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':'
        && b[11..19].iter().all(|c| c.is_ascii_digit() || *c == b':');
    if !well_formed {
        return write!(out, "{}", Clean(ts));
    }
    out.extend_from_slice(&b[11..19]);
    out.push(b'.');
    // up to three digits of the fraction, zero-padded
    let frac = if b.get(19) == Some(&b'.') {
        &b[20..]
    } else {
        &b[..0]
    };
    for i in 0..3 {
        match frac.get(i) {
            Some(d) if d.is_ascii_digit() => out.push(*d),
            _ => out.push(b'0'),
        }
    }
    Ok(())
}

/// A value as `key=value` shows it: a plain word bare, other strings quoted, objects and
/// arrays as compact JSON; control characters escaped in all of them.
fn write_value(out: &mut Vec<u8>, v: &Field<'_>) -> std::io::Result<()> {
    match v {
        Field::Str(s) if is_bare(s) => out.extend_from_slice(s.as_bytes()),
        Field::Str(s) => write!(out, "{}", Quoted(s))?,
        Field::Num(n) => write!(out, "{n}")?,
        Field::Bool(b) => write!(out, "{b}")?,
        Field::Null => out.extend_from_slice(b"null"),
        // serde_json leaves DEL and the C1 controls raw: `Clean` escapes them
        Field::Json(j) => write!(out, "{}", Clean(&j.to_string()))?,
    }
    Ok(())
}

/// Whether `s` reads back unambiguously without quotes: not empty, no space, quote, `=`,
/// backslash or control character.
fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b > b' ' && b != b'"' && b != b'=' && b != b'\\' && b != 0x7f && b != 0xc2)
        && !s.chars().any(char::is_whitespace)
}

/// A string in double quotes, `"` and `\` escaped with a backslash, control characters as
/// `\n` or `\u{1b}`.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if c.is_control() => write!(f, "{}", c.escape_default())?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        f.write_str("\"")
    }
}

// ---- parsing: one pass, entries in order, strings borrowed when they need no unescaping ----

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Owned(s)))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Field<'de>, E> {
                Ok(Field::Bool(b))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Field<'de>, E> {
                Ok(Field::Num(n.into()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Field<'de>, E> {
                Ok(Field::Num(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Field<'de>, E> {
                Ok(Number::from_f64(n).map_or(Field::Null, Field::Num))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Field<'de>, E> {
                Ok(Field::Null)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<'de>, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Field::Json)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<'de>, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Field::Json)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Record<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record<'de>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some((Text(k), v)) = map.next_entry::<Text<'de>, Field<'de>>()? {
                    entries.push((k, v));
                }
                Ok(Record { entries })
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = r#"{"ts":"2026-11-21T10:00:00.037000Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"POST /charge","task.target":"back::handlers","task.outcome":"failed","task.duration_us":25000,"task.busy_us":8333,"task.errors":1,"task.failed_children":0,"task.remote_parent":true,"task.failure":"card declined","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"2000000000000001","parent_span_id":"1000000000000003","file":"src/main.rs","line":42,"module":"back","thread":"tokio-rt-worker","pid":200,"host":"vm","service":"back"}"#;
    const ERROR: &str = r#"{"ts":"2026-11-21T10:00:00.036000Z","level":"ERROR","target":"back","msg":"","error":{"message":"card declined","source":["issuer said no"]},"http.route":"/charge","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"2000000000000001","service":"back"}"#;

    fn show(p: Pretty, line: &str) -> String {
        let mut out = Vec::new();
        assert!(p.line(line.as_bytes(), &mut out), "{line}");
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn a_task_end_shows_its_outcome_name_and_duration() {
        assert_eq!(
            show(Pretty::new(), TASK),
            "10:00:00.037 ✗     back POST /charge 25.0ms card declined [4bf92f35]\n"
        );
        let ok = TASK
            .replace("\"failed\"", "\"succeeded\"")
            .replace(",\"task.failure\":\"card declined\"", "");
        assert_eq!(
            show(Pretty::new(), &ok),
            "10:00:00.037 ✓     back POST /charge 25.0ms [4bf92f35]\n"
        );
    }

    #[test]
    fn an_event_shows_its_fields_in_line_order() {
        assert_eq!(
            show(Pretty::new(), ERROR),
            "10:00:00.036 ERROR back back: error={\"message\":\"card declined\",\"source\":[\"issuer said no\"]} http.route=/charge [4bf92f35]\n"
        );
        let named = r#"{"msg":"a b","task.name":"charge","k":"x y","n":null,"b":false,"e":""}"#;
        assert_eq!(
            show(Pretty::new(), named),
            "--:--:--.---       a b k=\"x y\" n=null b=false e=\"\" [charge]\n"
        );
    }

    #[test]
    fn control_characters_and_escapes_in_values_are_shown_escaped() {
        let evil = r#"{"level":"WARN\u001b[2J","msg":"a\u001b[31mred\nnext","k\u0007":"\u009b1m","j":{"x":"\u007f"}}"#;
        let s = show(Pretty::new(), evil);
        assert_eq!(
            s,
            "--:--:--.--- WARN\\u{1b}[2J a\\u{1b}[31mred\\nnext k\\u{7}=\"\\u{9b}1m\" j={\"x\":\"\\u{7f}\"}\n"
        );
    }

    #[test]
    fn a_highlighted_trace_is_marked_and_others_aligned() {
        let p = Pretty::new().with_highlight(Some(0x4bf92f3577b34da6a3ce929d0e0e4736));
        assert!(show(p, TASK).starts_with("▶ 10:00:00.037"));
        let q = Pretty::new().with_highlight(Some(1));
        assert!(show(q, TASK).starts_with("  10:00:00.037"));
        let short = Pretty::new().with_highlight_prefix(TracePrefix::parse("4BF92F35"));
        assert!(show(short, TASK).starts_with("▶ 10:00:00.037"));
        let other = Pretty::new().with_highlight_prefix(TracePrefix::parse("4bf92f36"));
        assert!(show(other, TASK).starts_with("  10:00:00.037"));
    }

    #[test]
    fn colors_only_when_asked_for() {
        assert!(!show(Pretty::new(), ERROR).contains('\x1b'));
        let c = show(Pretty::new().with_color(true), ERROR);
        assert!(c.contains("\x1b[1;31mERROR\x1b[0m"), "{c}");
    }

    #[test]
    fn lines_that_are_not_objects_are_left_to_the_caller() {
        for line in ["plain text", "[1,2]", "\"s\"", "{\"a\":", ""] {
            let mut out = Vec::new();
            assert!(!Pretty::new().line(line.as_bytes(), &mut out), "{line}");
            assert!(out.is_empty());
        }
    }

    #[test]
    fn odd_times_are_shown_as_written() {
        let mut out = Vec::new();
        write_time(&mut out, "2026-11-21T10:00:00Z").unwrap_or_default();
        assert_eq!(out, b"10:00:00.000");
        out.clear();
        write_time(&mut out, "yesterday\n").unwrap_or_default();
        assert_eq!(out, b"yesterday\\n");
    }
}
