//! Reading: JSON lines in, task records and error events out.
//!
//! The hot path, per line: find the newline (`memchr`), check that the line looks like a JSON
//! object (`{` … `}`), and look for `"task.end"` or `"ERROR"` with SIMD substring search. Only
//! lines that contain one of them are parsed, into `raw::Raw`, a struct of borrowed strings that
//! names the dozen keys we need and skips the rest without building values. Strings are interned,
//! so a line allocates nothing unless it brings a string never seen before (or one with escapes).

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead};

use memchr::memmem::Finder;
use serde::de::IgnoredAny;
use taskwire_core::schema::header;
use taskwire_explore::dedup::Seen;
use taskwire_explore::query::{Matcher, Query};
use taskwire_explore::source::Lines;

use taskwire_core::schema::task_record::{self, TARGET as TASKS_TARGET};
use taskwire_core::time::parse_rfc3339_us;

use super::raw::{ErrorField, Raw};

/// The smallest line limit tests may set.
#[cfg(test)]
const CHUNK: usize = 1 << 20;
/// A line longer than this is skipped as malformed without being held in memory.
pub(crate) const MAX_LINE: usize = taskwire_explore::source::MAX_LINE;

/// An interned string: an index into [`Collected::strings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Sym(pub(crate) u32);

/// One `task.end` record.
#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub(crate) trace: u128,
    pub(crate) span: u64,
    pub(crate) parent: Option<u64>,
    pub(crate) remote_parent: bool,
    pub(crate) failed: bool,
    pub(crate) name: Sym,
    pub(crate) target: Option<Sym>,
    pub(crate) service: Option<Sym>,
    pub(crate) failure: Option<Sym>,
    /// End time, µs since the epoch (the record's `ts`).
    pub(crate) end_us: i64,
    pub(crate) duration_us: u64,
    pub(crate) busy_us: u64,
    pub(crate) errors: u64,
    pub(crate) failed_children: u64,
}

impl Task {
    /// Start time, µs since the epoch: end minus duration.
    pub(crate) fn start_us(&self) -> i64 {
        self.end_us
            .saturating_sub(i64::try_from(self.duration_us).unwrap_or(i64::MAX))
    }
}

/// One ERROR-level event that happened inside a span.
#[derive(Clone, Debug)]
pub(crate) struct ErrorEvent {
    pub(crate) trace: u128,
    pub(crate) span: u64,
    pub(crate) ts_us: i64,
    pub(crate) msg: Sym,
    /// The fingerprint of the ticket it was counted in (`ticket.fingerprint`).
    pub(crate) fingerprint: Option<u64>,
    /// That ticket's id in the configured store, once looked up.
    pub(crate) ticket: Option<i64>,
}

/// What [`Reader::line`] made of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// Not a JSON object, or a record we had to parse that did not parse.
    Malformed,
    /// A well-formed line we don't need (or filtered out).
    Other,
    /// A `task.end` record.
    Task,
    /// An ERROR event inside a span.
    Error,
    /// A task record or error event already read (the same line, from another file or twice).
    Repeat,
}

/// What reading one input met besides records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Lines that are not JSON records, or records we need that did not parse.
    pub(crate) malformed: u64,
    /// The last line ended without a newline and is not a record: cut while being written.
    pub(crate) cut_last_line: bool,
}

/// Everything read from all inputs.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) tasks: Vec<Task>,
    pub(crate) errors: Vec<ErrorEvent>,
    pub(crate) strings: Vec<Box<str>>,
    /// Task records and error events read more than once, ignored after the first.
    pub(crate) repeats: u64,
}

impl Collected {
    /// The text of an interned string.
    #[cfg(test)]
    pub(crate) fn str(&self, s: Sym) -> &str {
        self.strings.get(s.0 as usize).map_or("", |b| b)
    }
}

/// Reads lines from any number of inputs into one [`Collected`].
pub(crate) struct Reader {
    max_line: usize,
    trace: Option<(u128, Finder<'static>)>,
    task_end: Finder<'static>,
    error: Finder<'static>,
    interner: Interner,
    tasks: Vec<Task>,
    errors: Vec<ErrorEvent>,
    seen: Seen,
    repeats: u64,
    /// The query, when it asks more than a trace id; `matched` collects its traces.
    matcher: Option<Matcher>,
    matched: HashSet<u128, FxBuild>,
}

impl Reader {
    /// A reader that keeps every trace, or only `trace`.
    pub(crate) fn new(trace: Option<u128>) -> Self {
        Reader {
            max_line: MAX_LINE,
            trace: trace.map(|t| {
                let hex = format!("{t:032x}");
                (t, Finder::new(hex.as_bytes()).into_owned())
            }),
            task_end: Finder::new(b"\"task.end\"").into_owned(),
            error: Finder::new(b"\"ERROR\"").into_owned(),
            interner: Interner::default(),
            tasks: Vec::new(),
            errors: Vec::new(),
            seen: Seen::default(),
            repeats: 0,
            matcher: None,
            matched: HashSet::default(),
        }
    }

    /// A reader that keeps the traces of which at least one record matches `query` (only its
    /// trace's lines are looked at when the query names a trace).
    pub(crate) fn with_query(query: &Query, now_us: i64) -> Self {
        let mut r = Reader::new(query.trace_id());
        if !query.is_empty() && !query.is_trace_only() {
            r.matcher = Some(Matcher::new(query, now_us));
        }
        r
    }

    /// Skips lines longer than `max_line` bytes (default [`MAX_LINE`]; at least one chunk).
    #[cfg(test)]
    pub(crate) fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line.max(CHUNK);
        self
    }

    /// Reads `input` to its end (decompressing gzip), one line at a time.
    #[cfg(test)]
    pub(crate) fn read_from(&mut self, input: impl io::Read + Send) -> io::Result<Counts> {
        self.read_lines(taskwire_explore::source::maybe_gzip(io::BufReader::new(
            input,
        ))?)
    }

    /// Reads the lines of `input` to its end.
    pub(crate) fn read_lines(&mut self, input: impl BufRead) -> io::Result<Counts> {
        let mut lines = Lines::with_max_line(input, self.max_line);
        let mut counts = Counts::default();
        while let Some(line) = lines.next_line()? {
            if line.too_long {
                counts.malformed += 1;
            } else if self.line(line.bytes) == Line::Malformed {
                // a last line without its newline that is not JSON at all was cut while being
                // written; one that is JSON is a whole record, malformed like any other
                if line.complete || serde_json::from_slice::<IgnoredAny>(line.bytes).is_ok() {
                    counts.malformed += 1;
                } else {
                    counts.cut_last_line = true;
                }
            }
        }
        Ok(counts)
    }

    /// Takes in one line (without its `\n`).
    pub(crate) fn line(&mut self, line: &[u8]) -> Line {
        let line = line.trim_ascii();
        if line.len() < 2 || line.first() != Some(&b'{') || line.last() != Some(&b'}') {
            return Line::Malformed;
        }
        if let Some((_, f)) = &self.trace {
            if f.find(line).is_none() {
                return Line::Other;
            }
        }
        if let Some(m) = &self.matcher {
            if let Some(trace) = m.match_line(line).as_ref().and_then(trace_of) {
                self.matched.insert(trace);
            }
        }
        if self.task_end.find(line).is_none() && self.error.find(line).is_none() {
            return Line::Other;
        }
        if !self.seen.first(line) {
            self.repeats += 1;
            return Line::Repeat;
        }
        let Ok(raw) = serde_json::from_slice::<Raw<'_>>(line) else {
            return Line::Malformed;
        };
        self.record(raw)
    }

    fn record(&mut self, raw: Raw<'_>) -> Line {
        let is_task = raw.msg.as_deref() == Some(task_record::END)
            && raw.target.as_deref() == Some(TASKS_TARGET);
        let is_error = !is_task && raw.level.as_deref() == Some("ERROR");
        if !is_task && !is_error {
            return Line::Other;
        }
        let (Some(trace), Some(span)) = (raw.trace_id.as_deref(), raw.span_id.as_deref()) else {
            // an event outside any span is fine; a task record without ids is not
            return if is_task {
                Line::Malformed
            } else {
                Line::Other
            };
        };
        let (Some(trace), Some(span), Some(ts)) = (
            parse_hex_u128(trace),
            parse_hex_u64(span),
            raw.ts.as_deref().and_then(parse_rfc3339_us),
        ) else {
            return Line::Malformed;
        };
        if let Some((want, _)) = &self.trace {
            if *want != trace {
                return Line::Other;
            }
        }
        if is_error {
            let msg = match (&raw.msg, &raw.error) {
                (Some(m), _) if !m.is_empty() => self.interner.intern(m),
                (_, Some(ErrorField(Some(e)))) => self.interner.intern(e),
                _ => self.interner.intern("(no message)"),
            };
            self.errors.push(ErrorEvent {
                trace,
                span,
                ts_us: ts,
                msg,
                fingerprint: raw
                    .ticket
                    .as_deref()
                    .filter(|t| t.len() == 16)
                    .and_then(parse_hex_u64),
                ticket: None,
            });
            return Line::Error;
        }
        let parent = match raw.parent_span_id.as_deref().map(parse_hex_u64) {
            None => None,
            Some(Some(p)) => Some(p),
            Some(None) => return Line::Malformed,
        };
        let i = &mut self.interner;
        let task = Task {
            trace,
            span,
            parent,
            remote_parent: raw.remote_parent.unwrap_or(false),
            failed: raw.outcome.as_deref() == Some("failed"),
            name: i.intern(raw.name.as_deref().unwrap_or("?")),
            target: raw.task_target.as_deref().map(|s| i.intern(s)),
            service: raw.service.as_deref().map(|s| i.intern(s)),
            failure: raw.failure.as_deref().map(|s| i.intern(s)),
            end_us: ts,
            duration_us: raw.duration_us.unwrap_or(0),
            busy_us: raw.busy_us.unwrap_or(0),
            errors: raw.errors.unwrap_or(0),
            failed_children: raw.failed_children.unwrap_or(0),
        };
        self.tasks.push(task);
        Line::Task
    }

    /// Everything read so far.
    pub(crate) fn finish(mut self) -> Collected {
        if self.matcher.is_some() {
            let m = &self.matched;
            self.tasks.retain(|t| m.contains(&t.trace));
            self.errors.retain(|e| m.contains(&e.trace));
        }
        Collected {
            tasks: self.tasks,
            errors: self.errors,
            strings: self.interner.into_strings(),
            repeats: self.repeats,
        }
    }
}

/// The trace id of a parsed record.
fn trace_of(record: &serde_json::Map<String, serde_json::Value>) -> Option<u128> {
    record
        .get(header::TRACE_ID)
        .and_then(serde_json::Value::as_str)
        .and_then(parse_hex_u128)
}

/// 32 lowercase hex digits.
pub(crate) fn parse_hex_u128(s: &str) -> Option<u128> {
    (s.len() == 32 && s.bytes().all(is_lower_hex))
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
}

/// 16 lowercase hex digits.
pub(crate) fn parse_hex_u64(s: &str) -> Option<u64> {
    (s.len() == 16 && s.bytes().all(is_lower_hex))
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// Strings seen so far, each stored once.
#[derive(Default)]
struct Interner {
    map: HashMap<Box<str>, u32, FxBuild>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> Sym {
        if let Some(&i) = self.map.get(s) {
            return Sym(i);
        }
        let i = u32::try_from(self.map.len()).unwrap_or(u32::MAX);
        self.map.insert(s.into(), i);
        Sym(i)
    }

    fn into_strings(self) -> Vec<Box<str>> {
        let mut v: Vec<(u32, Box<str>)> = self.map.into_iter().map(|(s, i)| (i, s)).collect();
        v.sort_unstable_by_key(|&(i, _)| i);
        v.into_iter().map(|(_, s)| s).collect()
    }
}

/// The hasher of the reader's maps: keys are short strings and random ids from local files,
/// so hash-flooding resistance buys nothing here.
pub(crate) type FxBuild = taskwire_core::cache::FastBuild;

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = r#"{"ts":"2026-11-21T19:01:01.943172Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"GET /x","task.target":"shop","task.outcome":"failed","task.duration_us":1500,"task.busy_us":900,"task.errors":1,"task.failed_children":0,"task.remote_parent":false,"task.failure":"boom","order_id":7,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":"1111111111111111","thread":"main","pid":1,"host":"vm","service":"front"}"#;

    fn read(text: &str) -> (Collected, u64) {
        let mut r = Reader::new(None);
        let bad = r
            .read_from(text.as_bytes())
            .map_or(u64::MAX, |c| c.malformed);
        (r.finish(), bad)
    }

    #[test]
    fn reads_a_task_record() {
        let (c, bad) = read(TASK);
        assert_eq!(bad, 0);
        let t = &c.tasks[0];
        assert_eq!(t.trace, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(t.span, 0x00f067aa0ba902b7);
        assert_eq!(t.parent, Some(0x1111111111111111));
        assert!(t.failed && !t.remote_parent);
        assert_eq!(c.str(t.name), "GET /x");
        assert_eq!(t.service.map(|s| c.str(s)), Some("front"));
        assert_eq!(t.failure.map(|s| c.str(s)), Some("boom"));
        assert_eq!((t.duration_us, t.busy_us, t.errors), (1500, 900, 1));
        assert_eq!(t.start_us(), t.end_us - 1500);
    }

    /// serde's renames are string literals: this line is written with the schema's names, so
    /// a key renamed in `taskwire_core::schema` without the reader fails here.
    #[test]
    fn reads_the_keys_the_schema_names() {
        use serde_json::{Map, Value};
        use taskwire_core::schema::{header, task_record::keys, TASK_NAME};
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| m.insert(k.to_owned(), v);
        put(header::TIMESTAMP, "2026-11-21T19:01:01.943172Z".into());
        put(header::LEVEL, "INFO".into());
        put(header::TARGET, TASKS_TARGET.into());
        put(header::MESSAGE, task_record::END.into());
        put(TASK_NAME, "GET /x".into());
        put(keys::TARGET, "shop".into());
        put(keys::OUTCOME, "failed".into());
        put(keys::DURATION_US, 1500.into());
        put(keys::BUSY_US, 900.into());
        put(keys::ERRORS, 1.into());
        put(keys::FAILED_CHILDREN, 2.into());
        put(keys::REMOTE_PARENT, true.into());
        put(keys::FAILURE, "boom".into());
        put(header::TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736".into());
        put(header::SPAN_ID, "00f067aa0ba902b7".into());
        put(header::PARENT_SPAN_ID, "1111111111111111".into());
        put(header::SERVICE, "front".into());
        let (c, bad) = read(&Value::Object(m).to_string());
        assert_eq!(bad, 0);
        let t = &c.tasks[0];
        assert_eq!(c.str(t.name), "GET /x");
        assert_eq!(t.failure.map(|s| c.str(s)), Some("boom"));
        assert_eq!(t.service.map(|s| c.str(s)), Some("front"));
        assert!(t.failed && t.remote_parent);
        assert_eq!((t.duration_us, t.busy_us, t.errors), (1500, 900, 1));
        assert_eq!(t.parent, Some(0x1111111111111111));
        assert_eq!(t.target.map(|s| c.str(s)), Some("shop"));
        assert_eq!(t.failed_children, 2);
    }

    #[test]
    fn error_messages_come_from_msg_or_the_error_field() {
        let text = concat!(
            r#"{"level":"ERROR","msg":"card declined","ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
            "\n",
            r#"{"level":"ERROR","msg":"","error":{"message":"outer \"x\"","source":["a"]},"ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
            "\n",
            r#"{"level":"ERROR","msg":"","error":"plain","ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
            "\n",
            r#"{"level":"ERROR","msg":"","error":[1,{"a":2}],"ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
            "\n",
            // outside any span: fine, not kept
            r#"{"level":"ERROR","msg":"no span","ts":"2026-01-01T00:00:00Z"}"#,
            "\n",
        );
        let (c, bad) = read(text);
        assert_eq!(bad, 0);
        let msgs: Vec<&str> = c.errors.iter().map(|e| c.str(e.msg)).collect();
        assert_eq!(
            msgs,
            ["card declined", "outer \"x\"", "plain", "(no message)"]
        );
    }

    #[test]
    fn malformed_lines_are_counted_and_others_ignored() {
        let long = format!("{{\"x\":\"{}", "a".repeat(3 << 20)); // longer than a chunk, truncated
        let text = format!(
            "\n   \n\u{1}\u{2}junk\n{{\"msg\":\"task.end\",\"target\":\"taskwire::tasks\"\n{long}\n{TASK}\n{{\"level\":\"INFO\",\"msg\":\"hello\"}}\n{}\n",
            &TASK[..TASK.len() - 1]
        );
        let (c, bad) = read(&text);
        assert_eq!(c.tasks.len(), 1);
        assert_eq!(bad, 6);
    }

    #[test]
    fn lines_longer_than_the_limit_are_skipped_without_being_kept() {
        let huge = format!("{{\"msg\":\"{}\"}}", "x".repeat(5 * CHUNK));
        let other = TASK.replace("00f067aa0ba902b7", "00f067aa0ba902b8");
        let mut r = Reader::new(None).with_max_line(2 * CHUNK);
        let bad = r
            .read_from(io::Cursor::new(format!("{TASK}\n{huge}\n{other}\n{huge}")))
            .map_or(9, |c| c.malformed);
        assert_eq!((r.finish().tasks.len(), bad), (2, 2));
    }

    #[test]
    fn a_task_record_with_bad_ids_is_malformed() {
        for bad in [
            TASK.replace(
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "4BF92F3577B34DA6A3CE929D0E0E4736",
            ),
            TASK.replace("00f067aa0ba902b7", "00f067aa0ba902b"),
            TASK.replace("1111111111111111", "+111111111111111"),
            TASK.replace("2026-11-21T19:01:01.943172Z", "yesterday"),
            TASK.replace("\"task.duration_us\":1500", "\"task.duration_us\":-1"),
        ] {
            let (c, n) = read(&bad);
            assert_eq!((c.tasks.len(), n), (0, 1), "{bad}");
        }
    }

    #[test]
    fn a_line_without_a_final_newline_or_with_crlf_is_read() {
        let other = TASK.replace("00f067aa0ba902b7", "00f067aa0ba902b8");
        let (c, bad) = read(&format!("{TASK}\r\n{other}"));
        assert_eq!((c.tasks.len(), bad), (2, 0));
    }

    #[test]
    fn a_repeated_record_is_read_once_and_counted() {
        let error = r#"{"level":"ERROR","msg":"card declined","ts":"2026-01-01T00:00:00Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#;
        let mut r = Reader::new(None);
        for _ in 0..2 {
            let _ = r.read_from(format!("{TASK}\n{error}\n").as_bytes());
        }
        let c = r.finish();
        assert_eq!((c.tasks.len(), c.errors.len(), c.repeats), (1, 1, 2));
    }

    #[test]
    fn a_cut_last_line_is_told_from_a_malformed_one() {
        let mut r = Reader::new(None);
        let cut = r.read_from(format!("{TASK}\n{}", &TASK[..40]).as_bytes());
        assert_eq!(
            cut.ok(),
            Some(Counts {
                malformed: 0,
                cut_last_line: true
            })
        );
        let whole_but_bad = TASK.replace("00f067aa0ba902b7", "zz");
        let bad = r.read_from(whole_but_bad.as_bytes());
        assert_eq!(
            bad.ok(),
            Some(Counts {
                malformed: 1,
                cut_last_line: false
            })
        );
    }

    #[test]
    fn a_query_keeps_the_traces_it_matches() {
        let other = TASK
            .replace(
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "0af7651916cd43dd8448eb211c80319c",
            )
            .replace("\"order_id\":7", "\"order_id\":8");
        let q: Query = "order_id=8".parse().unwrap_or_default();
        let mut r = Reader::with_query(&q, 0);
        let _ = r.read_from(format!("{TASK}\n{other}\n").as_bytes());
        let c = r.finish();
        let traces: Vec<u128> = c.tasks.iter().map(|t| t.trace).collect();
        assert_eq!(traces, [0x0af7651916cd43dd8448eb211c80319c]);
    }

    #[test]
    fn trace_filter_keeps_only_that_trace() {
        let other = TASK.replace(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "0af7651916cd43dd8448eb211c80319c",
        );
        let mut r = Reader::new(Some(0x0af7651916cd43dd8448eb211c80319c));
        let bad = r
            .read_from(io::Cursor::new(format!("{TASK}\n{other}\n")))
            .map_or(9, |c| c.malformed);
        let c = r.finish();
        assert_eq!((c.tasks.len(), bad), (1, 0));
        assert_eq!(c.tasks[0].trace, 0x0af7651916cd43dd8448eb211c80319c);
    }

    #[test]
    fn strings_are_interned_once() {
        let other = TASK.replace("00f067aa0ba902b7", "00f067aa0ba902b8");
        let (c, _) = read(&format!("{TASK}\n{other}\n"));
        assert_eq!(c.tasks.len(), 2);
        assert_eq!(c.tasks[0].name, c.tasks[1].name);
        assert_eq!(c.strings.len(), 4); // name, target, service, failure
    }
}
