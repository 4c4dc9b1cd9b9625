//! Matching: a [`Query`] against records, with a byte-level pre-filter so that lines which cannot
//! match are skipped without being parsed.

use memchr::memmem::Finder;
use serde_json::{Map, Value};
use taskwire_core::schema::{header, level_index, task_record, LEVELS};
use tracing_core::Level;

use super::prefilter::{KeyValue, Want};
use super::{Cmp, FieldOp, Query, Term, Time, REQUEST_ID_KEYS};

/// A [`Query`] ready to test records, with `since`/`until` ages resolved against one "now".
pub struct Matcher {
    terms: Vec<Term>,
    since_us: Option<i64>,
    until_us: Option<i64>,
    needles: Vec<Finder<'static>>,
    values: Vec<KeyValue>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("terms", &self.terms)
            .field("since_us", &self.since_us)
            .field("until_us", &self.until_us)
            .finish_non_exhaustive()
    }
}

impl Matcher {
    /// A matcher for `query`; ages (`since=1h`) count back from `now_us` (µs since the epoch).
    pub fn new(query: &Query, now_us: i64) -> Matcher {
        let resolve = |t: &Time| match *t {
            Time::At(us) => us,
            Time::Ago(ago) => now_us.saturating_sub(i64::try_from(ago).unwrap_or(i64::MAX)),
        };
        let mut since_us = None::<i64>;
        let mut until_us = None::<i64>;
        let mut needles = Vec::new();
        for t in &query.terms {
            match t {
                Term::Since(t) => {
                    since_us = Some(since_us.map_or(resolve(t), |s| s.max(resolve(t))))
                }
                Term::Until(t) => {
                    until_us = Some(until_us.map_or(resolve(t), |u| u.min(resolve(t))))
                }
                _ => {}
            }
            if let Some(n) = needle(t) {
                needles.push(Finder::new(n.as_bytes()).into_owned());
            }
        }
        Matcher {
            terms: query.terms.clone(),
            since_us,
            until_us,
            needles,
            values: query.terms.iter().filter_map(key_value).collect(),
        }
    }

    /// A quick test on a record's raw line: `false` means the record cannot match (a value the
    /// query names exactly is not in the line); `true` means it may.
    pub fn may_match(&self, line: &[u8]) -> bool {
        self.needles.iter().all(|n| n.find(line).is_some())
            && self.values.iter().all(|v| v.may_hold(line))
    }

    /// Whether the query names values a matching line must contain.
    pub(crate) fn has_needles(&self) -> bool {
        !self.needles.is_empty()
    }

    /// The longest of the values a matching line must contain (likely the rarest).
    pub(crate) fn longest_needle(&self) -> Option<&Finder<'static>> {
        self.needles.iter().max_by_key(|n| n.needle().len())
    }

    /// Whether the record (one JSON object) matches every term.
    pub fn matches(&self, record: &Map<String, Value>) -> bool {
        if self.since_us.is_some() || self.until_us.is_some() {
            let Some(ts) =
                str_of(record, header::TIMESTAMP).and_then(taskwire_core::time::parse_rfc3339_us)
            else {
                return false;
            };
            if self.since_us.is_some_and(|s| ts < s) || self.until_us.is_some_and(|u| ts > u) {
                return false;
            }
        }
        self.terms.iter().all(|t| term_matches(t, record))
    }

    /// Parses `line` and tests it: the record when it matches.
    pub fn match_line(&self, line: &[u8]) -> Option<Map<String, Value>> {
        if !self.may_match(line) {
            return None;
        }
        let record: Map<String, Value> = serde_json::from_slice(line.trim_ascii()).ok()?;
        self.matches(&record).then_some(record)
    }
}

/// A string the line must contain for `t` to match, when there is one that survives JSON
/// escaping unchanged.
fn needle(t: &Term) -> Option<String> {
    let plain = |s: &str| {
        (!s.is_empty() && !s.contains(|c: char| c == '"' || c == '\\' || c.is_control()))
            .then(|| s.to_owned())
    };
    match t {
        Term::TraceId(id) | Term::TraceParent { trace: id, .. } => Some(format!("{id:032x}")),
        Term::TracePrefix(p) => Some(p.to_string()),
        Term::SpanId(id) => Some(format!("{id:016x}")),
        Term::RequestId(v) | Term::Service(v) | Term::Task(v) => plain(v),
        Term::Field { value, .. } => plain(value),
        // the outcome's value, rarer than `task.end`
        Term::Failed => Some("\"failed\"".to_owned()),
        Term::Duration(..) => Some(task_record::END.to_owned()),
        _ => None,
    }
}

/// The value a key must have for `t` to match, checked on the raw line.
fn key_value(t: &Term) -> Option<KeyValue> {
    let text = |v: &str| Want::Text(v.to_owned());
    match t {
        Term::Field {
            key,
            op: FieldOp::Eq,
            value,
        } => KeyValue::field(key, text(value)),
        Term::Service(v) => KeyValue::top_level(header::SERVICE, text(v)),
        Term::Task(v) => KeyValue::top_level(taskwire_core::schema::TASK_NAME, text(v)),
        Term::Failed => KeyValue::top_level(task_record::keys::OUTCOME, text("failed")),
        Term::Duration(c, us) => {
            KeyValue::top_level(task_record::keys::DURATION_US, Want::Number(*c, *us))
        }
        _ => None,
    }
}

fn str_of<'a>(record: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    record.get(key).and_then(Value::as_str)
}

fn is_task_end(record: &Map<String, Value>) -> bool {
    str_of(record, header::MESSAGE) == Some(task_record::END)
        && str_of(record, header::TARGET) == Some(task_record::TARGET)
}

/// A field by its full name (`http.route`), or by a path into nested objects.
fn field<'a>(record: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(v) = record.get(key) {
        return Some(v);
    }
    let (head, rest) = key.split_once('.')?;
    match record.get(head)? {
        Value::Object(inner) => field(inner, rest),
        _ => None,
    }
}

/// A scalar's text as a query compares it: strings unquoted, numbers and booleans as written.
fn text_of(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => Some(n.to_string().into()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

fn hex_is(v: Option<&str>, want: u128, digits: usize) -> bool {
    v.is_some_and(|s| {
        s.len() == digits
            && s.bytes().all(|b| b.is_ascii_hexdigit())
            && u128::from_str_radix(s, 16).ok() == Some(want)
    })
}

fn severity(l: &Level) -> usize {
    LEVELS.len() - 1 - level_index(l)
}

fn term_matches(t: &Term, r: &Map<String, Value>) -> bool {
    match t {
        Term::TraceId(id) | Term::TraceParent { trace: id, .. } => {
            hex_is(str_of(r, header::TRACE_ID), *id, 32)
        }
        Term::TracePrefix(p) => str_of(r, header::TRACE_ID)
            .filter(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|s| u128::from_str_radix(s, 16).ok())
            .is_some_and(|id| p.matches(id)),
        Term::SpanId(id) => {
            let id = u128::from(*id);
            hex_is(str_of(r, header::SPAN_ID), id, 16)
                || hex_is(str_of(r, header::PARENT_SPAN_ID), id, 16)
                || REQUEST_ID_KEYS.iter().any(|k| hex_is(str_of(r, k), id, 16))
        }
        Term::RequestId(v) => REQUEST_ID_KEYS.iter().any(|k| {
            field(r, k)
                .and_then(text_of)
                .is_some_and(|s| s == v.as_str())
        }),
        Term::Field { key, op, value } => {
            field(r, key).and_then(text_of).is_some_and(|s| match op {
                FieldOp::Eq => s == value.as_str(),
                FieldOp::Contains => s.contains(value.as_str()),
            })
        }
        Term::Service(v) => str_of(r, header::SERVICE) == Some(v.as_str()),
        Term::Task(v) => {
            is_task_end(r) && str_of(r, taskwire_core::schema::TASK_NAME) == Some(v.as_str())
        }
        Term::Failed => is_task_end(r) && str_of(r, task_record::keys::OUTCOME) == Some("failed"),
        Term::Duration(c, us) => {
            is_task_end(r)
                && r.get(task_record::keys::DURATION_US)
                    .and_then(Value::as_u64)
                    .is_some_and(|d| c.holds(d, *us))
        }
        Term::Level(c, want) => str_of(r, header::LEVEL)
            .and_then(super::parse::parse_level)
            .is_some_and(|l| c.holds(severity(&l), severity(want))),
        // checked once in `matches`
        Term::Since(_) | Term::Until(_) => true,
    }
}

impl Cmp {
    #[cfg(test)]
    fn all() -> [Cmp; 5] {
        [Cmp::Eq, Cmp::Gt, Cmp::Ge, Cmp::Lt, Cmp::Le]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = r#"{"ts":"2026-11-21T10:00:00.050000Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"POST /charge","task.outcome":"failed","task.duration_us":25000,"http.request_id":"req-7","order_id":13,"user":{"id":"u-abc-1"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":"1000000000000003","service":"back"}"#;
    const WARN: &str = r#"{"ts":"2026-11-21T10:00:00.040000Z","level":"WARN","target":"shop","msg":"slow \"db\"","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","service":"back"}"#;
    const NOW: i64 = 1_795_255_200_000_000; // 2026-11-21T10:00:00Z

    fn hits(q: &str, line: &str) -> bool {
        let q: Query = q.parse().unwrap_or_else(|e| panic!("{q}: {e}"));
        Matcher::new(&q, NOW + 3_600_000_000)
            .match_line(line.as_bytes())
            .is_some()
    }

    #[test]
    fn ids_match_their_records() {
        assert!(hits("4bf92f3577b34da6a3ce929d0e0e4736", TASK));
        assert!(hits(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-1000000000000003-01",
            TASK
        ));
        assert!(hits("00f067aa0ba902b7", TASK)); // its own span
        assert!(hits("1000000000000003", TASK)); // its parent's
        assert!(!hits("0af7651916cd43dd8448eb211c80319c", TASK));
    }

    #[test]
    fn a_trace_prefix_matches_the_records_of_traces_starting_with_it() {
        assert!(hits("trace=4bf92f35", TASK));
        assert!(hits("trace=4BF92F3577B34DA6A3CE929D0E0E473", TASK));
        assert!(!hits("trace=4bf92f36", TASK));
        // the digits elsewhere in the line are not the trace id
        assert!(!hits("trace=00f067aa", TASK));
    }

    #[test]
    fn request_ids_match_any_request_id_field() {
        assert!(hits("req-7", TASK));
        assert!(hits("request_id=req-7", TASK));
        assert!(!hits("req-8", TASK));
    }

    #[test]
    fn fields_match_by_text_and_nested_path() {
        assert!(hits("order_id=13", TASK));
        assert!(!hits("order_id=1", TASK));
        assert!(hits("user.id~abc", TASK));
        assert!(hits(r#"msg~"\"db\"""#, WARN));
        assert!(!hits("missing=13", TASK));
    }

    #[test]
    fn service_task_failed_and_duration_match_task_records() {
        assert!(hits(
            "service=back task=\"POST /charge\" failed duration>20ms",
            TASK
        ));
        assert!(!hits("duration>25ms", TASK));
        assert!(hits("duration>=25ms", TASK));
        assert!(!hits("failed", WARN)); // an event is not a failed task
        assert!(!hits("service=front", TASK));
    }

    #[test]
    fn levels_compare_by_severity() {
        assert!(hits("level>=warn", WARN));
        assert!(!hits("level>=warn", TASK));
        assert!(hits("level<warn", TASK));
        assert!(hits("level=warn", WARN));
    }

    #[test]
    fn time_ranges_take_ages_and_instants() {
        // now is an hour after both records
        assert!(hits("since=2h", TASK));
        assert!(!hits("since=30m", TASK));
        assert!(hits("until=2026-11-21T10:00:00.045Z", WARN));
        assert!(!hits("until=2026-11-21T10:00:00.045Z", TASK));
    }

    #[test]
    fn comparisons_hold_as_named() {
        let got: Vec<bool> = Cmp::all().iter().map(|c| c.holds(2, 1)).collect();
        assert_eq!(got, [false, true, true, false, false]);
    }
}
