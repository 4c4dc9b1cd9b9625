//! Reading: JSON lines in, task records and events out.
//!
//! The hot path, per line: find the newline (`memchr`), check that the line looks like a JSON
//! object (`{` … `}`), and look for `"task.end"` or `"ERROR"` (or, when every event is asked
//! for, `"span_id"`) with SIMD substring search. Only lines that contain one of them are parsed,
//! into `raw::Raw`, a struct of borrowed strings that names the keys we need and skips the rest
//! without building values. A record read twice is dropped after the parse (see
//! [`crate::dedup`]). Strings are interned, so a line allocates nothing unless it brings
//! a string never seen before (or one with escapes). The fields of events and the attributes of
//! tasks are kept only when asked for ([`Reader::with_events`]): they are the one per-record
//! allocation.

use std::collections::HashSet;
use std::io::{self, BufRead};

use memchr::memmem::Finder;
use serde::de::IgnoredAny;
use taskwire_core::schema::task_record::{self, TARGET as TASKS_TARGET};
use taskwire_core::time::parse_rfc3339_us;
use tracing_core::Level;

use super::raw::{
    own_fields, parse_hex_u128, parse_hex_u64, parse_level, trace_of, ErrorField, Raw,
};
use super::records::{counter, dedup_tasks, Attributes, Collected, Counts, Event, LineKind, Task};
use super::scan;
use super::strings::{FxBuild, Interner};
use crate::dedup::{LineKey, Seen};
use crate::query::{Matcher, Query, TracePrefix};
use crate::source::Lines;

/// The smallest line limit tests may set.
#[cfg(test)]
const CHUNK: usize = 1 << 20;
/// A line longer than this is skipped as malformed without being held in memory.
const MAX_LINE: usize = crate::source::MAX_LINE;

/// Reads lines from any number of inputs (in any order) into one [`Collected`].
///
/// ```
/// use taskwire_explore::trace::{build, Keep, Reader};
///
/// let log = concat!(
///     r#"{"ts":"2026-11-21T10:00:00.05Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"GET /checkout","task.outcome":"succeeded","task.duration_us":50000,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"1000000000000001","service":"front"}"#,
///     "\n",
/// );
/// let mut reader = Reader::new();
/// let counts = reader.read_lines(log.as_bytes())?;
/// assert_eq!(counts.malformed, 0);
/// let forest = build(reader.finish(), Keep::default());
/// assert_eq!(forest.traces().len(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Reader {
    max_line: usize,
    trace: Option<(TracePrefix, Finder<'static>)>,
    task_end: Finder<'static>,
    error: Finder<'static>,
    span_id: Finder<'static>,
    events: bool,
    interner: Interner,
    tasks: Vec<Task>,
    kept_events: Vec<Event>,
    attributes: Vec<Attributes>,
    /// The events read (task records are de-duplicated once sorted: a set of them would take
    /// 16 bytes a task while reading).
    seen: Seen,
    /// The keys of the task records taken out ([`Reader::take_trace`]).
    taken: HashSet<LineKey, FxBuild>,
    repeats: u64,
    /// The query, when it asks more than a trace id; `matched` collects its traces.
    matcher: Option<Matcher>,
    matched: HashSet<u128, FxBuild>,
    /// The trace of the last line read, when it was a task record without a parent.
    ended_root: Option<u128>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("trace", &self.trace.as_ref().map(|t| t.0))
            .field("events", &self.events)
            .field("tasks", &self.tasks.len())
            .field("events_kept", &self.kept_events.len())
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader that keeps every trace's task records and ERROR events.
    pub fn new() -> Self {
        Reader {
            max_line: MAX_LINE,
            trace: None,
            task_end: Finder::new(b"\"task.end\"").into_owned(),
            error: Finder::new(b"\"ERROR\"").into_owned(),
            span_id: Finder::new(b"\"span_id\"").into_owned(),
            events: false,
            interner: Interner::default(),
            tasks: Vec::new(),
            kept_events: Vec::new(),
            attributes: Vec::new(),
            seen: Seen::default(),
            taken: HashSet::default(),
            repeats: 0,
            matcher: None,
            matched: HashSet::default(),
            ended_root: None,
        }
    }

    /// A reader that keeps only `trace` (its lines are found by substring search first).
    pub fn for_trace(trace: u128) -> Self {
        Reader::for_trace_prefix(TracePrefix::of_id(trace))
    }

    /// A reader that keeps only the traces whose id starts with `prefix` (their lines are found
    /// by substring search for the digits first, as [`Reader::for_trace`] does for a whole id).
    ///
    /// ```
    /// use taskwire_explore::query::TracePrefix;
    /// use taskwire_explore::trace::{build, Keep, Reader};
    ///
    /// let task = |trace: &str| format!(
    ///     r#"{{"ts":"2026-11-21T10:00:00.05Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"GET /","task.duration_us":5,"trace_id":"{trace}","span_id":"1000000000000001"}}"#
    /// );
    /// let log = [
    ///     task("4bf92f3577b34da6a3ce929d0e0e4736"),
    ///     task("4bf92f35aaaaaaaaaaaaaaaaaaaaaaaa"),
    ///     task("0af7651916cd43dd8448eb211c80319c"),
    /// ]
    /// .join("\n");
    /// let prefix = TracePrefix::parse("4bf92f35").ok_or("not a prefix")?;
    /// let mut reader = Reader::for_trace_prefix(prefix);
    /// reader.read_lines(log.as_bytes())?;
    /// assert_eq!(build(reader.finish(), Keep::default()).traces().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_trace_prefix(prefix: TracePrefix) -> Self {
        let mut r = Reader::new();
        let hex = prefix.to_string();
        r.trace = Some((prefix, Finder::new(hex.as_bytes()).into_owned()));
        r
    }

    /// A reader that keeps the traces of which at least one record matches `query` (only its
    /// trace's lines are looked at when the query names a trace or a prefix of one). `now_us`
    /// (µs since the epoch) anchors relative times (`since=1h`).
    pub fn with_query(query: &Query, now_us: i64) -> Self {
        let mut r = match query.trace_prefix() {
            Some(p) => Reader::for_trace_prefix(p),
            None => Reader::new(),
        };
        if !query.is_empty() && !query.is_trace_only() {
            r.matcher = Some(Matcher::new(query, now_us));
        }
        r
    }

    /// Keeps every event inside a span (all levels) with its fields, and the attributes of
    /// each task record; by default only ERROR events are kept, without fields.
    #[must_use]
    pub fn with_events(mut self, events: bool) -> Self {
        self.events = events;
        self
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
        self.read_lines(crate::source::maybe_gzip(io::BufReader::new(input))?)
    }

    /// Reads the lines of `input` to its end.
    pub fn read_lines(&mut self, input: impl BufRead) -> io::Result<Counts> {
        let mut lines = Lines::with_max_line(input, self.max_line);
        let mut counts = Counts::default();
        while let Some(line) = lines.next_line()? {
            if line.too_long {
                counts.malformed += 1;
            } else {
                self.tally(line.bytes, line.complete, &mut counts);
            }
        }
        Ok(counts)
    }

    /// Takes in `line` and counts it when it is malformed.
    fn tally(&mut self, line: &[u8], complete: bool, counts: &mut Counts) {
        if self.line(line) == LineKind::Malformed {
            // a last line without its newline that is not JSON at all was cut while being
            // written; one that is JSON is a whole record, malformed like any other
            if complete || serde_json::from_slice::<IgnoredAny>(line).is_ok() {
                counts.malformed += 1;
            } else {
                counts.cut_last_line = true;
            }
        }
    }

    /// Reads every source to its end and returns what each met, in the sources' order.
    ///
    /// When the query names a trace, or values its records must contain, the lines worth
    /// parsing are picked first by substring search over whole blocks, the sources scanned
    /// in parallel (see `scan`); what is kept is the same as reading every line with
    /// [`Reader::read_source`], but only the picked lines are checked, so a malformed line
    /// elsewhere is not counted. A query with values is read in two passes (the traces it
    /// matches, then their lines), so it needs files; standard input is read line by line.
    ///
    /// ```
    /// use taskwire_explore::source::expand;
    /// use taskwire_explore::trace::{build, Keep, Reader};
    ///
    /// let dir = std::env::temp_dir().join(format!("taskwire-read-sources-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("app.jsonl"), concat!(
    ///     r#"{"ts":"2026-11-21T10:00:00.05Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"GET /checkout","task.outcome":"succeeded","task.duration_us":50000,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"1000000000000001","service":"front"}"#,
    ///     "\n",
    /// ))?;
    /// let (sources, _) = expand(&[dir.join("app.jsonl")]);
    /// let mut reader = Reader::for_trace(0x4bf92f3577b34da6a3ce929d0e0e4736);
    /// for counts in reader.read_sources(&sources) {
    ///     assert_eq!(counts?.malformed, 0);
    /// }
    /// assert_eq!(build(reader.finish(), Keep::default()).traces().len(), 1);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_sources(&mut self, sources: &[crate::source::Source]) -> Vec<io::Result<Counts>> {
        if let Some((_, finder)) = &self.trace {
            let finder = finder.clone();
            let picked = scan::grep_all(sources, self.max_line, &scan::Containing(&finder));
            return picked
                .into_iter()
                .map(|p| p.map(|p| self.take_picked(&p)))
                .collect();
        }
        let files = sources
            .iter()
            .all(|s| matches!(s, crate::source::Source::File(_)));
        let Some(matcher) = self.matcher.as_ref().filter(|m| files && m.has_needles()) else {
            return sources.iter().map(|s| self.read_source(s)).collect();
        };
        // the traces the query matches, from the lines that may match it
        let first = scan::grep_all(sources, self.max_line, &scan::Matching(matcher));
        let mut traces: HashSet<u128, FxBuild> = HashSet::default();
        for p in first.iter().flatten() {
            traces.extend(
                p.lines()
                    .filter_map(|l| matcher.match_line(l).as_ref().and_then(trace_of)),
            );
        }
        // then every line of those traces
        let second = if traces.is_empty() {
            Vec::new()
        } else {
            scan::grep_all(sources, self.max_line, &scan::OfTraces::new(&traces))
        };
        let mut second = second.into_iter();
        first
            .into_iter()
            .map(|first| {
                let first = first?;
                match second.next() {
                    Some(p) => p.map(|p| self.take_picked(&p)),
                    // nothing matched: the lines were not parsed, only searched
                    None => Ok(Counts {
                        malformed: first.too_long,
                        cut_last_line: false,
                    }),
                }
            })
            .collect()
    }

    /// Takes in the lines picked from one input.
    fn take_picked(&mut self, picked: &scan::Picked) -> Counts {
        let mut counts = Counts {
            malformed: picked.too_long,
            cut_last_line: false,
        };
        let last = picked.len().saturating_sub(1);
        for (i, line) in picked.lines().enumerate() {
            let complete = !(picked.last_incomplete && i == last);
            self.tally(line, complete, &mut counts);
        }
        counts
    }

    /// Opens `source` (decompressing gzip) and reads it to its end.
    pub fn read_source(&mut self, source: &crate::source::Source) -> io::Result<Counts> {
        self.read_lines(source.open()?)
    }

    /// Takes in one line (without its `\n`).
    pub fn line(&mut self, line: &[u8]) -> LineKind {
        self.ended_root = None;
        let line = line.trim_ascii();
        if line.len() < 2 || line.first() != Some(&b'{') || line.last() != Some(&b'}') {
            return LineKind::Malformed;
        }
        if let Some((_, f)) = &self.trace {
            if f.find(line).is_none() {
                return LineKind::Other;
            }
        }
        if let Some(m) = &self.matcher {
            if let Some(trace) = m.match_line(line).as_ref().and_then(trace_of) {
                self.matched.insert(trace);
            }
        }
        let wanted = if self.events {
            self.span_id.find(line).is_some()
        } else {
            self.task_end.find(line).is_some() || self.error.find(line).is_some()
        };
        if !wanted {
            return LineKind::Other;
        }
        let Ok(raw) = serde_json::from_slice::<Raw<'_>>(line) else {
            return LineKind::Malformed;
        };
        self.record(raw, line)
    }

    /// The trace whose root task (a task record without a parent) the last line ended.
    pub fn ended_root(&self) -> Option<u128> {
        self.ended_root
    }

    fn record(&mut self, raw: Raw<'_>, line: &[u8]) -> LineKind {
        let is_task = raw.msg.as_deref() == Some(task_record::END)
            && raw.target.as_deref() == Some(TASKS_TARGET);
        let level = raw.level.as_deref().and_then(parse_level);
        let is_event = !is_task && (self.events || level == Some(Level::ERROR));
        if !is_task && !is_event {
            return LineKind::Other;
        }
        let (Some(trace), Some(span)) = (raw.trace_id.as_deref(), raw.span_id.as_deref()) else {
            // an event outside any span is fine; a task record without ids is not
            return if is_task {
                LineKind::Malformed
            } else {
                LineKind::Other
            };
        };
        let (Some(trace), Some(span), Some(ts)) = (
            parse_hex_u128(trace),
            parse_hex_u64(span),
            raw.ts.as_deref().and_then(parse_rfc3339_us),
        ) else {
            return LineKind::Malformed;
        };
        if let Some((want, _)) = &self.trace {
            if !want.matches(trace) {
                return LineKind::Other;
            }
        }
        // a record read twice is counted once: an event, known by its bytes, here; a task
        // record, known by its ids and times, when the tasks are sorted (`dedup_tasks`), or
        // here when its trace was taken out already
        let repeat = if is_task {
            let key = LineKey::of_task(trace, span, ts, raw.duration_us.unwrap_or(0));
            self.taken.contains(&key)
        } else {
            !self.seen.first_key(LineKey::of(line))
        };
        if repeat {
            self.repeats += 1;
            return LineKind::Repeat;
        }
        if is_event {
            let msg = match (&raw.msg, &raw.error) {
                (Some(m), _) if !m.is_empty() => self.interner.intern(m),
                (_, Some(ErrorField(Some(e)))) => self.interner.intern(e),
                _ => self.interner.intern("(no message)"),
            };
            let fields = if self.events {
                own_fields(line, false)
            } else {
                None
            };
            self.kept_events.push(Event {
                trace,
                span,
                parent: raw.parent_span_id.as_deref().and_then(parse_hex_u64),
                ts_us: ts,
                level: level.unwrap_or(Level::INFO),
                msg,
                fields,
                fingerprint: raw
                    .ticket
                    .as_deref()
                    .filter(|t| t.len() == 16)
                    .and_then(parse_hex_u64),
            });
            return LineKind::Event;
        }
        let parent = match raw.parent_span_id.as_deref().map(parse_hex_u64) {
            None => None,
            Some(Some(p)) => Some(p),
            Some(None) => return LineKind::Malformed,
        };
        let producer = raw.otel_kind.as_deref() == Some("producer");
        let client =
            producer || raw.otel_kind.as_deref() == Some("client") || raw.url_full.is_some();
        if let Some(fields) = self.events.then(|| own_fields(line, true)).flatten() {
            self.attributes.push(Attributes {
                trace,
                span,
                fields,
            });
        }
        let i = &mut self.interner;
        let mut task = Task {
            trace,
            span,
            parent_id: 0,
            has_parent: false,
            remote_parent: raw.remote_parent.unwrap_or(false),
            failed: raw.outcome.as_deref() == Some("failed"),
            client,
            producer,
            name: i.intern(raw.name.as_deref().unwrap_or("?")),
            target: raw.task_target.as_deref().map(|s| i.intern(s)),
            service: raw.service.as_deref().map(|s| i.intern(s)),
            failure: raw.failure.as_deref().map(|s| i.intern(s)),
            end_us: ts,
            duration_us: raw.duration_us.unwrap_or(0),
            busy_us: raw.busy_us.unwrap_or(0),
            errors: counter(raw.errors.unwrap_or(0)),
            failed_children: counter(raw.failed_children.unwrap_or(0)),
            children: counter(raw.children.unwrap_or(0)),
            children_summary: raw.children_summary.as_deref().map(|s| i.intern(s)),
        };
        task.set_parent(parent);
        if parent.is_none() {
            self.ended_root = Some(trace);
        }
        self.tasks.push(task);
        LineKind::Task
    }

    /// Takes out the records of `trace` read so far, as their own [`Collected`] (with a copy of
    /// the strings they use); `None` when a query is set and nothing of
    /// this trace matched it. For following logs: a trace is shown, then forgotten, when its
    /// root ends.
    pub fn take_trace(&mut self, trace: u128) -> Option<Collected> {
        let (mut tasks, rest): (Vec<Task>, Vec<Task>) = std::mem::take(&mut self.tasks)
            .into_iter()
            .partition(|t| t.trace == trace);
        self.tasks = rest;
        let (mut events, rest): (Vec<Event>, Vec<Event>) = std::mem::take(&mut self.kept_events)
            .into_iter()
            .partition(|e| e.trace == trace);
        self.kept_events = rest;
        let (attributes, rest) = std::mem::take(&mut self.attributes)
            .into_iter()
            .partition(|a| a.trace == trace);
        self.attributes = rest;
        dedup_tasks(&mut tasks);
        self.taken.extend(
            tasks
                .iter()
                .map(|t| LineKey::of_task(t.trace, t.span, t.end_us, t.duration_us)),
        );
        if self.matcher.is_some() && !self.matched.remove(&trace) {
            return None;
        }
        let syms = tasks
            .iter_mut()
            .flat_map(|t| {
                [
                    Some(&mut t.name),
                    t.target.as_mut(),
                    t.service.as_mut(),
                    t.failure.as_mut(),
                    t.children_summary.as_mut(),
                ]
            })
            .flatten()
            .chain(events.iter_mut().map(|e| &mut e.msg));
        let strings = self.interner.table_of(syms);
        Some(Collected {
            tasks,
            events,
            attributes,
            strings,
            repeats: 0,
        })
    }

    /// Everything read so far.
    pub fn finish(mut self) -> Collected {
        if self.matcher.is_some() {
            let m = &self.matched;
            self.tasks.retain(|t| m.contains(&t.trace));
            self.kept_events.retain(|e| m.contains(&e.trace));
            self.attributes.retain(|a| m.contains(&a.trace));
        }
        self.repeats += dedup_tasks(&mut self.tasks);
        Collected {
            tasks: self.tasks,
            events: self.kept_events,
            attributes: self.attributes,
            strings: self.interner.into_strings(),
            repeats: self.repeats,
        }
    }
}

#[cfg(test)]
pub(super) mod tests;
