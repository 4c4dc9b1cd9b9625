//! The trace model: taskwire records read into tasks and events, joined into trees across
//! processes, put on one clock, and searched.
//!
//! - [`Reader`] takes lines from any number of logs, in any order: `task.end` records, ERROR
//!   events (and, [`Reader::with_events`], every event with its fields), each record once
//!   however often it is read, malformed lines counted.
//! - [`build`] joins them into a [`Forest`]: per trace, a tree of tasks linked by parent span
//!   id across processes, orphans and cycles marked, each task's events in time order; an
//!   outgoing call whose callee's log was not read is marked
//!   ([`NodeRef::calls_unread_service`]); clock skew between services is adjusted and flagged
//!   ([`Skew`]).
//! - [`Forest::search`] sorts and limits the traces and lists them as [`TraceSummary`]s (root
//!   name, services, start, duration, task and failure counts).
//!
//! Times are µs since the Unix epoch. A task's start is its record's `ts` minus its duration,
//! moved onto the trace's clock (see [`Skew`]) and never before its parent's start in the same
//! service.
//!
//! ```
//! use taskwire_explore::query::Query;
//! use taskwire_explore::trace::{build, Keep, Reader, Sort};
//!
//! let front = concat!(
//!     r#"{"ts":"2026-11-21T10:00:00.040Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"POST back/charge","task.outcome":"failed","task.duration_us":30000,"url.full":"http://back/charge","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"1000000000000003","parent_span_id":"1000000000000001","service":"front"}"#, "\n",
//!     r#"{"ts":"2026-11-21T10:00:00.050Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"GET /checkout","task.outcome":"failed","task.duration_us":50000,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"1000000000000001","service":"front"}"#, "\n",
//! );
//! // back's clock is 2 s behind front's
//! let back = concat!(
//!     r#"{"ts":"2026-11-21T09:59:58.036Z","level":"ERROR","msg":"card declined","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"2000000000000001","service":"back"}"#, "\n",
//!     r#"{"ts":"2026-11-21T09:59:58.037Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"POST /charge","task.outcome":"failed","task.duration_us":25000,"task.remote_parent":true,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"2000000000000001","parent_span_id":"1000000000000003","service":"back"}"#, "\n",
//! );
//! let query: Query = "service=back failed".parse()?;
//! let mut reader = Reader::with_query(&query, 0).with_events(true);
//! for log in [back, front] {
//!     reader.read_lines(log.as_bytes())?;
//! }
//! let mut forest = build(reader.finish(), Keep::default());
//! let results = forest.search(Sort::Duration, Some(10));
//! assert_eq!(results.total(), 1);
//! let summary = &results.traces()[0];
//! assert_eq!((summary.root(), summary.duration_us()), ("GET /checkout", 50_000));
//! assert_eq!(summary.services(), ["back", "front"]);
//!
//! let trace = forest.trace(summary.trace_id()).ok_or("no trace")?;
//! let skew = &trace.skews()[0];
//! assert_eq!((skew.service(), skew.relative_to(), skew.offset_us()), ("back", "front", 2_000_500));
//! let names: Vec<(usize, &str, i64)> = trace
//!     .nodes()
//!     .map(|n| (n.depth(), n.name(), n.start_us() - trace.start_us()))
//!     .collect();
//! assert_eq!(names, [(0, "GET /checkout", 0), (1, "POST back/charge", 10_000), (2, "POST /charge", 12_500)]);
//! let charge = trace.nodes().nth(2).ok_or("no charge")?;
//! assert_eq!(charge.errors().map(|e| e.msg()).collect::<Vec<_>>(), ["card declined"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod raw;
mod read;
mod records;
mod scan;
mod search;
mod skew;
mod strings;
#[cfg(test)]
mod tests;
mod view;

pub use build::{build, Forest, Keep, Orphan};
pub use read::Reader;
pub use records::{Collected, Counts, LineKind};
pub use search::{SearchResults, Sort, TraceSummary};
pub use skew::Skew;
pub use view::{EventRef, NodeRef, TraceRef};
