//! The query language: one grammar for the command line and the web UI.
//!
//! A query is terms separated by spaces, all of which a record must match (AND). A trace is
//! found when one of its records matches. The forms:
//!
//! | term | matches records |
//! |---|---|
//! | `4bf92f3577b34da6a3ce929d0e0e4736` (32 hex) | of this trace |
//! | `00-4bf9…4736-00f067aa0ba902b7-01` (a pasted `traceparent` or `traceresponse`) | of this trace |
//! | `trace=4bf92f35` (8 to 32 hex digits, as the console prints them) | of every trace whose id starts with them |
//! | `00f067aa0ba902b7` (16 hex) | of this span (`span_id`) or of its children (`parent_span_id`) |
//! | `request_id=abc`, or a bare word `abc` | whose `http.request_id`, `x-request-id` or `request_id` field is `abc` |
//! | `field=value` | whose `field` is `value` (strings, numbers, booleans as written) |
//! | `field~text` | whose `field` contains `text` |
//! | `service=back` | of this service |
//! | `task=charge` | task records of the task so named (`task.name`) |
//! | `failed` | task records of failed tasks |
//! | `duration>250ms`, `>1s`, `duration<=2m` | task records whose duration compares (`us`, `ms`, `s`, `m`, `h`) |
//! | `level>=warn`, `level=error` | events whose level compares (`error` is the most severe) |
//! | `since=1h`, `since=2026-11-21T10:00:00Z` | written at or after (an age or an RFC 3339 time) |
//! | `until=…` | written at or before |
//!
//! A bare hex word of 8 to 31 digits stays a request id (and 16 digits a span id): a trace-id
//! prefix is always written `trace=…`.
//!
//! A value with spaces is written in double quotes (`msg="card declined"`, `\"` and `\\` inside).
//!
//! ```
//! use taskwire_explore::query::{Query, Term};
//! let q: Query = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 level>=warn".parse()?;
//! assert_eq!(q.trace_id(), Some(0x4bf92f3577b34da6a3ce929d0e0e4736));
//! assert_eq!(q.to_string().parse::<Query>()?, q);
//! let err = "duration>fast".parse::<Query>().unwrap_err();
//! assert_eq!(err.position(), 9);
//! # Ok::<(), taskwire_explore::query::ParseError>(())
//! ```

mod matcher;
mod parse;
mod prefilter;
mod trace_prefix;

use std::fmt;
use std::str::FromStr;

use taskwire_core::time::Rfc3339;
use tracing_core::Level;

pub use matcher::Matcher;
pub use parse::ParseError;
pub use trace_prefix::{TracePrefix, MIN_DIGITS as MIN_TRACE_PREFIX_DIGITS};

/// A parsed query: terms that must all match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

/// One term of a [`Query`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Term {
    /// A bare trace id.
    TraceId(u128),
    /// A pasted `traceparent` or `traceresponse` value; matches its trace.
    TraceParent {
        /// The version byte (`00`).
        version: u8,
        /// The trace id.
        trace: u128,
        /// The span id (the caller's span in a `traceparent`, the server's in a `traceresponse`).
        span: u64,
        /// The trace-flags byte.
        flags: u8,
    },
    /// `trace=…`: the first 8 to 31 hex digits of a trace id; matches every trace that starts
    /// with them (`trace=` with 32 digits is a [`Term::TraceId`]).
    TracePrefix(TracePrefix),
    /// A span id: the span's records and its children's.
    SpanId(u64),
    /// A request id, looked up in the request-id fields.
    RequestId(String),
    /// `field=value` or `field~substring`.
    Field {
        /// The record key (dots are part of the name: `http.route`).
        key: String,
        /// Equality or substring.
        op: FieldOp,
        /// The value as text.
        value: String,
    },
    /// `service=…`.
    Service(String),
    /// `task=…`: the task's name.
    Task(String),
    /// `failed`: a failed task.
    Failed,
    /// `duration>…`: a task's duration, in µs.
    Duration(Cmp, u64),
    /// `level>=…`.
    Level(Cmp, Level),
    /// `since=…`.
    Since(Time),
    /// `until=…`.
    Until(Time),
}

/// How a field's value is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldOp {
    /// `=`: the whole value.
    Eq,
    /// `~`: a substring of the value.
    Contains,
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `=`.
    Eq,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
}

/// A point in time of `since=` / `until=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    /// This long before now, in µs (`1h`).
    Ago(u64),
    /// An instant, µs since the Unix epoch (RFC 3339 in the query).
    At(i64),
}

/// The request-id fields a bare word or `request_id=` looks up, in order.
pub const REQUEST_ID_KEYS: [&str; 3] = ["http.request_id", "x-request-id", "request_id"];

impl Query {
    /// A query of these terms.
    pub fn new(terms: Vec<Term>) -> Query {
        Query { terms }
    }

    /// The terms.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Whether the query has no term (it matches every record).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The trace every match belongs to, when a term names one: readers can skip every line
    /// without it.
    pub fn trace_id(&self) -> Option<u128> {
        self.terms.iter().find_map(|t| match t {
            Term::TraceId(id) | Term::TraceParent { trace: id, .. } => Some(*id),
            _ => None,
        })
    }

    /// The trace ids every match starts with, when a term names a trace or a prefix of one (the
    /// longest, when several do): readers can skip every line without them.
    ///
    /// ```
    /// use taskwire_explore::query::Query;
    /// let q: Query = "trace=4bf92f35 failed".parse()?;
    /// let p = q.trace_prefix().ok_or("no prefix")?;
    /// assert_eq!((p.to_string().as_str(), q.trace_id()), ("4bf92f35", None));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trace_prefix(&self) -> Option<TracePrefix> {
        self.terms
            .iter()
            .filter_map(|t| match t {
                Term::TraceId(id) | Term::TraceParent { trace: id, .. } => {
                    Some(TracePrefix::of_id(*id))
                }
                Term::TracePrefix(p) => Some(*p),
                _ => None,
            })
            .max_by_key(TracePrefix::digits)
    }

    /// Whether the query is one term about the trace id alone (an id, a `traceparent` or a
    /// prefix), repeated or not: then every record of the traces it names matches.
    pub fn is_trace_only(&self) -> bool {
        let mut ids = self.terms.iter().map(|t| match t {
            Term::TraceId(id) | Term::TraceParent { trace: id, .. } => {
                Some(TracePrefix::of_id(*id))
            }
            Term::TracePrefix(p) => Some(*p),
            _ => None,
        });
        match ids.next() {
            Some(Some(first)) => ids.all(|p| p == Some(first)),
            _ => false,
        }
    }
}

impl FromStr for Query {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Query, ParseError> {
        parse::parse(s)
    }
}

impl Cmp {
    /// Whether `a` compares to `b` this way.
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::TraceId(t) => write!(f, "{t:032x}"),
            Term::TraceParent {
                version,
                trace,
                span,
                flags,
            } => write!(f, "{version:02x}-{trace:032x}-{span:016x}-{flags:02x}"),
            Term::TracePrefix(p) => write!(f, "trace={p}"),
            Term::SpanId(s) => write!(f, "{s:016x}"),
            Term::RequestId(v) => write!(f, "request_id={}", Quoted(v)),
            Term::Field { key, op, value } => {
                let op = match op {
                    FieldOp::Eq => "=",
                    FieldOp::Contains => "~",
                };
                write!(f, "{key}{op}{}", Quoted(value))
            }
            Term::Service(v) => write!(f, "service={}", Quoted(v)),
            Term::Task(v) => write!(f, "task={}", Quoted(v)),
            Term::Failed => f.write_str("failed"),
            Term::Duration(c, us) => write!(f, "duration{}{}", c.as_str(), DurationText(*us)),
            Term::Level(c, l) => {
                write!(f, "level{}{}", c.as_str(), l.as_str().to_ascii_lowercase())
            }
            Term::Since(t) => write!(f, "since={t}"),
            Term::Until(t) => write!(f, "until={t}"),
        }
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Time::Ago(us) => write!(f, "{}", DurationText(*us)),
            Time::At(us) => write!(f, "{}", Rfc3339(*us)),
        }
    }
}

/// A duration in µs, written in the largest unit that holds it exactly.
struct DurationText(u64);

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        for (unit, size) in parse::UNITS.iter().rev() {
            if us != 0 && us.is_multiple_of(*size) {
                return write!(f, "{}{unit}", us / size);
            }
        }
        write!(f, "{us}us")
    }
}

/// A value, quoted when the bare form would not read back as the same value.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if parse::is_bare_value(self.0) {
            return f.write_str(self.0);
        }
        f.write_str("\"")?;
        for c in self.0.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}
