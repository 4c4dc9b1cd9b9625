//! The parser: text in, [`Query`] or a [`ParseError`] that says where and what was expected.

use std::fmt;

use taskwire_core::time::parse_rfc3339_us;
use tracing_core::Level;

use super::{Cmp, FieldOp, Query, Term, Time, TracePrefix};

/// Duration units, smallest first, with their size in µs.
pub(super) const UNITS: [(&str, u64); 5] = [
    ("us", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("m", 60_000_000),
    ("h", 3_600_000_000),
];

/// A query that does not parse: where, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    position: usize,
    expected: &'static str,
    found: String,
}

impl ParseError {
    /// Byte offset in the query text where parsing stopped.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What the parser expected there (`"a duration such as 250ms"`).
    pub fn expected(&self) -> &str {
        self.expected
    }

    /// The text found there (empty at the end of the query).
    pub fn found(&self) -> &str {
        &self.found
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at column {}: expected {}",
            self.position + 1,
            self.expected
        )?;
        if self.found.is_empty() {
            f.write_str(", found the end of the query")
        } else {
            write!(f, ", found `{}`", self.found)
        }
    }
}

impl std::error::Error for ParseError {}

/// Whether `s` reads back as itself without quotes.
pub(super) fn is_bare_value(s: &str) -> bool {
    !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '"')
}

fn is_op_char(c: char) -> bool {
    matches!(c, '=' | '~' | '<' | '>')
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
}

pub(super) fn parse(s: &str) -> Result<Query, ParseError> {
    let mut p = Parser { s, at: 0 };
    let mut terms = Vec::new();
    loop {
        p.skip_space();
        if p.at >= s.len() {
            return Ok(Query { terms });
        }
        terms.push(p.term()?);
    }
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.at..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn error(&self, at: usize, expected: &'static str) -> ParseError {
        let found: String = self
            .s
            .get(at..)
            .unwrap_or("")
            .split(char::is_whitespace)
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect();
        ParseError {
            position: at,
            expected,
            found,
        }
    }

    /// A run of characters up to white space, a quote or (when `stop_at_ops`) an operator.
    fn word(&mut self, stop_at_ops: bool) -> &'a str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || (stop_at_ops && is_op_char(c)))
            .unwrap_or(rest.len());
        self.at += end;
        &rest[..end]
    }

    fn term(&mut self) -> Result<Term, ParseError> {
        let start = self.at;
        if self.peek() == Some('"') {
            return Ok(Term::RequestId(self.quoted()?));
        }
        let key = self.word(true);
        let op_at = self.at;
        let Some(op) = self.op() else {
            if self.peek() == Some('"') {
                return Err(self.error(self.at, "an operator (`=`, `~`, `>`, …) or a space"));
            }
            return Ok(bare(key));
        };
        if key.is_empty() {
            return match op {
                Op::Cmp(c) if c != Cmp::Eq => Ok(Term::Duration(c, self.duration()?)),
                _ => Err(self.error(
                    start,
                    "a field name or a duration comparison such as >250ms",
                )),
            };
        }
        match (key, op) {
            ("duration", Op::Cmp(c)) => Ok(Term::Duration(c, self.duration()?)),
            ("level", Op::Cmp(c)) => Ok(Term::Level(c, self.level()?)),
            ("since", Op::Cmp(Cmp::Eq)) => Ok(Term::Since(self.time()?)),
            ("until", Op::Cmp(Cmp::Eq)) => Ok(Term::Until(self.time()?)),
            ("trace", Op::Cmp(Cmp::Eq)) => self.trace(),
            ("service", Op::Cmp(Cmp::Eq)) => Ok(Term::Service(self.value()?)),
            ("task", Op::Cmp(Cmp::Eq)) => Ok(Term::Task(self.value()?)),
            ("task", Op::Contains) => Ok(Term::Field {
                key: taskwire_core::schema::TASK_NAME.to_owned(),
                op: FieldOp::Contains,
                value: self.value()?,
            }),
            ("request_id", Op::Cmp(Cmp::Eq)) => Ok(Term::RequestId(self.value()?)),
            (_, Op::Cmp(Cmp::Eq)) => Ok(Term::Field {
                key: key.to_owned(),
                op: FieldOp::Eq,
                value: self.value()?,
            }),
            (_, Op::Contains) => Ok(Term::Field {
                key: key.to_owned(),
                op: FieldOp::Contains,
                value: self.value()?,
            }),
            (_, Op::Cmp(_)) => Err(self.error(
                op_at,
                "`=` or `~` (`>` and `<` compare duration and level only)",
            )),
        }
    }

    fn op(&mut self) -> Option<Op> {
        let rest = self.rest();
        let (op, len) = if rest.starts_with(">=") {
            (Op::Cmp(Cmp::Ge), 2)
        } else if rest.starts_with("<=") {
            (Op::Cmp(Cmp::Le), 2)
        } else if rest.starts_with('>') {
            (Op::Cmp(Cmp::Gt), 1)
        } else if rest.starts_with('<') {
            (Op::Cmp(Cmp::Lt), 1)
        } else if rest.starts_with('=') {
            (Op::Cmp(Cmp::Eq), 1)
        } else if rest.starts_with('~') {
            (Op::Contains, 1)
        } else {
            return None;
        };
        self.at += len;
        Some(op)
    }

    /// A bare or quoted value.
    fn value(&mut self) -> Result<String, ParseError> {
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let at = self.at;
        let v = self.word(false);
        if v.is_empty() {
            return Err(self.error(at, "a value (write `\"\"` for an empty one)"));
        }
        if self.peek() == Some('"') {
            return Err(self.error(self.at, "a space after the value (quote a value with `\"`)"));
        }
        Ok(v.to_owned())
    }

    /// `"…"` with `\"` and `\\`.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let open = self.at;
        self.at += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    if self.peek().is_some_and(|c| !c.is_whitespace()) {
                        return Err(self.error(self.at, "a space after the closing quote"));
                    }
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '\\'))) => out.push(e),
                    Some((j, _)) => {
                        return Err(self.error(self.at + j, "`\\\"` or `\\\\` after a backslash"))
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(ParseError {
            position: open,
            expected: "a closing quote",
            found: String::new(),
        })
    }

    /// A trace id, a pasted `traceparent`, or the first 8 to 31 hex digits of an id.
    fn trace(&mut self) -> Result<Term, ParseError> {
        let at = self.at;
        let w = self.word(false);
        if self.peek() == Some('"') {
            return Err(self.error(self.at, "a space after the trace id"));
        }
        if let Some(tp) = traceparent(w) {
            return Ok(tp);
        }
        match TracePrefix::parse(w) {
            Some(p) => Ok(p.full().map_or(Term::TracePrefix(p), Term::TraceId)),
            None => Err(self.error(
                at,
                "a trace id or its first 8 to 31 hex digits (as the console prints them)",
            )),
        }
    }

    fn duration(&mut self) -> Result<u64, ParseError> {
        let at = self.at;
        let w = self.word(false);
        parse_duration(w)
            .ok_or_else(|| self.error(at, "a duration such as 250ms (us, ms, s, m, h)"))
    }

    fn level(&mut self) -> Result<Level, ParseError> {
        let at = self.at;
        let w = self.word(false);
        parse_level(w).ok_or_else(|| self.error(at, "a level: error, warn, info, debug or trace"))
    }

    fn time(&mut self) -> Result<Time, ParseError> {
        let at = self.at;
        let w = self.word(false);
        if let Some(us) = parse_duration(w) {
            return Ok(Time::Ago(us));
        }
        parse_rfc3339_us(w)
            .map(Time::At)
            .ok_or_else(|| self.error(at, "an age such as 1h or an RFC 3339 time"))
    }
}

#[derive(Clone, Copy)]
enum Op {
    Cmp(Cmp),
    Contains,
}

/// A word without an operator: a keyword, an id, or a request id.
fn bare(w: &str) -> Term {
    if w.eq_ignore_ascii_case("failed") {
        return Term::Failed;
    }
    if let Some(t) = hex_u128(w) {
        return Term::TraceId(t);
    }
    if let Some(s) = hex_u64(w) {
        return Term::SpanId(s);
    }
    if let Some(tp) = traceparent(w) {
        return tp;
    }
    Term::RequestId(w.to_owned())
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex_u128(s: &str) -> Option<u128> {
    (s.len() == 32 && is_hex(s))
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
}

fn hex_u64(s: &str) -> Option<u64> {
    (s.len() == 16 && is_hex(s))
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
}

fn hex_u8(s: &str) -> Option<u8> {
    (s.len() == 2 && is_hex(s))
        .then(|| u8::from_str_radix(s, 16).ok())
        .flatten()
}

/// `vv-<32 hex>-<16 hex>-ff`: the shape of `traceparent` and `traceresponse`.
fn traceparent(w: &str) -> Option<Term> {
    let mut parts = w.split('-');
    let version = hex_u8(parts.next()?)?;
    let trace = hex_u128(parts.next()?)?;
    let span = hex_u64(parts.next()?)?;
    let flags = hex_u8(parts.next()?)?;
    parts.next().is_none().then_some(Term::TraceParent {
        version,
        trace,
        span,
        flags,
    })
}

/// `250ms`, `1.5s`, `2h`: µs.
pub(super) fn parse_duration(w: &str) -> Option<u64> {
    let split = w
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(w.len());
    let (num, unit) = w.split_at(split);
    let unit = if unit == "µs" { "us" } else { unit };
    let size = UNITS.iter().find(|(u, _)| *u == unit)?.1;
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (num.contains('.') && frac.is_empty()) {
        return None;
    }
    let mut us = int.parse::<u64>().ok()?.checked_mul(size)?;
    let mut scale = size;
    for d in frac.bytes() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        us = us.checked_add(u64::from(d - b'0') * scale)?;
    }
    Some(us)
}

/// `error`, `WARN`, `warning`, …
pub(super) fn parse_level(w: &str) -> Option<Level> {
    Some(match w.to_ascii_lowercase().as_str() {
        "error" => Level::ERROR,
        "warn" | "warning" => Level::WARN,
        "info" => Level::INFO,
        "debug" => Level::DEBUG,
        "trace" => Level::TRACE,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Term {
        let q = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(q.terms.len(), 1, "{s}");
        q.terms.into_iter().next().unwrap_or(Term::Failed)
    }

    fn err(s: &str) -> ParseError {
        match parse(s) {
            Err(e) => e,
            Ok(q) => panic!("{s} parsed as {q:?}"),
        }
    }

    #[test]
    fn a_bare_trace_id_is_a_trace_term_in_any_case() {
        assert_eq!(
            one("4BF92F3577B34DA6A3CE929D0E0E4736"),
            Term::TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736)
        );
    }

    #[test]
    fn a_pasted_traceparent_or_traceresponse_is_a_trace_term() {
        assert_eq!(
            one("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Term::TraceParent {
                version: 0,
                trace: 0x4bf92f3577b34da6a3ce929d0e0e4736,
                span: 0x00f067aa0ba902b7,
                flags: 1
            }
        );
    }

    #[test]
    fn trace_takes_a_prefix_of_8_to_31_digits_or_a_whole_id() {
        let prefix = |s| TracePrefix::parse(s).map(Term::TracePrefix);
        assert_eq!(Some(one("trace=4BF92F35")), prefix("4bf92f35"));
        assert_eq!(
            Some(one("trace=4bf92f3577b34da6a3ce929d0e0e473")),
            prefix("4bf92f3577b34da6a3ce929d0e0e473")
        );
        assert_eq!(
            one("trace=4bf92f3577b34da6a3ce929d0e0e4736"),
            Term::TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736)
        );
        assert!(matches!(
            one("trace=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Term::TraceParent { .. }
        ));
        for bad in [
            "trace=4bf92f3",
            "trace=order-7",
            "trace=4bf92f3577b34da6a3ce929d0e0e47361",
        ] {
            let e = err(bad);
            assert_eq!(e.position(), 6, "{bad}");
            assert!(e.expected().contains("8 to 31 hex digits"), "{bad}");
        }
    }

    #[test]
    fn a_bare_short_hex_word_keeps_its_meaning() {
        // what a console line shows is written `trace=…`: bare, it may be a request id
        assert_eq!(one("4bf92f35"), Term::RequestId("4bf92f35".into()));
        assert_eq!(one("4bf92f3577b34da6"), Term::SpanId(0x4bf92f3577b34da6));
    }

    #[test]
    fn sixteen_hex_digits_are_a_span_id() {
        assert_eq!(one("00f067aa0ba902b7"), Term::SpanId(0x00f067aa0ba902b7));
    }

    #[test]
    fn a_bare_word_or_request_id_key_is_a_request_id() {
        assert_eq!(one("abc-123"), Term::RequestId("abc-123".into()));
        assert_eq!(one("request_id=abc"), Term::RequestId("abc".into()));
        assert_eq!(one("\"a b\""), Term::RequestId("a b".into()));
        // +0…: not hex, whatever from_str_radix would accept
        assert_eq!(
            one("+4bf92f3577b34da6a3ce929d0e0e473"),
            Term::RequestId("+4bf92f3577b34da6a3ce929d0e0e473".into())
        );
    }

    #[test]
    fn fields_compare_whole_values_or_substrings() {
        assert_eq!(
            one("http.route=/orders/{id}"),
            Term::Field {
                key: "http.route".into(),
                op: FieldOp::Eq,
                value: "/orders/{id}".into()
            }
        );
        assert_eq!(
            one("user.id~abc"),
            Term::Field {
                key: "user.id".into(),
                op: FieldOp::Contains,
                value: "abc".into()
            }
        );
        assert_eq!(
            one(r#"msg="card \"x\" declined""#),
            Term::Field {
                key: "msg".into(),
                op: FieldOp::Eq,
                value: "card \"x\" declined".into()
            }
        );
    }

    #[test]
    fn service_task_and_failed_have_their_own_terms() {
        assert_eq!(one("service=back"), Term::Service("back".into()));
        assert_eq!(
            one("task=\"POST /charge\""),
            Term::Task("POST /charge".into())
        );
        assert_eq!(one("failed"), Term::Failed);
    }

    #[test]
    fn durations_take_a_unit_and_a_comparison() {
        assert_eq!(one("duration>250ms"), Term::Duration(Cmp::Gt, 250_000));
        assert_eq!(one(">1s"), Term::Duration(Cmp::Gt, 1_000_000));
        assert_eq!(one("duration<=1.5m"), Term::Duration(Cmp::Le, 90_000_000));
        assert_eq!(one(">=10µs"), Term::Duration(Cmp::Ge, 10));
        assert_eq!(err("duration>fast").position(), 9);
        assert_eq!(
            err("duration>250").expected(),
            "a duration such as 250ms (us, ms, s, m, h)"
        );
    }

    #[test]
    fn levels_compare_by_severity_names() {
        assert_eq!(one("level>=warn"), Term::Level(Cmp::Ge, Level::WARN));
        assert_eq!(one("level=ERROR"), Term::Level(Cmp::Eq, Level::ERROR));
        assert_eq!(err("level>=loud").position(), 7);
    }

    #[test]
    fn since_and_until_take_an_age_or_a_time() {
        assert_eq!(one("since=1h"), Term::Since(Time::Ago(3_600_000_000)));
        assert_eq!(
            one("until=1970-01-01T00:00:01Z"),
            Term::Until(Time::At(1_000_000))
        );
        assert_eq!(err("since=yesterday").position(), 6);
    }

    #[test]
    fn terms_are_separated_by_spaces() {
        let q = parse("  service=back   failed >1s ").unwrap_or_default();
        assert_eq!(
            q.terms,
            [
                Term::Service("back".into()),
                Term::Failed,
                Term::Duration(Cmp::Gt, 1_000_000)
            ]
        );
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = err("service=back order_id>3");
        assert_eq!((e.position(), e.found()), (21, ">3"));
        assert!(
            e.to_string()
                .starts_with("at column 22: expected `=` or `~`"),
            "{e}"
        );
        assert_eq!(err("a=\"open").expected(), "a closing quote");
        assert_eq!(
            err("a=").expected(),
            "a value (write `\"\"` for an empty one)"
        );
        assert_eq!(err("=x").position(), 0);
        assert_eq!(err("a=\"x\"y").position(), 5);
    }
}
