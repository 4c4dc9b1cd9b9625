//! The explorer engine: from any id a user holds to the records of the whole request, read from
//! taskwire JSON logs as they really are. The `taskwire` command line is a thin front end on it.
//!
//! - [`source`]: files, folders, patterns, standard input, rotated sets, gzip (by magic bytes),
//!   streamed line by line through one buffer; a cut last line told apart from a malformed one.
//! - [`dedup`]: a record met twice (copytruncate overlap, a file named twice) counted once.
//! - [`query`]: the query language (trace id, pasted `traceparent`, span id, request id,
//!   fields, service, task, `failed`, durations, levels, time ranges) and its matcher.
//! - [`trace`]: the trace model: task records and events read into trees across processes, one
//!   clock per trace (clock skew adjusted), missing pieces marked, and search results.
//! - [`pretty`]: a record as one line for a person (`taskwire tail`): time, level, service,
//!   message, fields, outcome and duration of a task, colors, every value escaped.
//! - [`follow`]: a file read as it grows, across rotations and truncations (`tail -f`).
//! - [`text`]: terminal-safe text ([`text::Clean`]) and durations ([`text::Human`]).
//!
//! The record schema (targets, keys, levels) and time parsing come from
//! [`taskwire_core::schema`] and [`taskwire_core::time`]. The user's guide is `docs/cli.md`.
//!
//! ```
//! use std::io::BufReader;
//! use taskwire_explore::{dedup::Seen, query::{Matcher, Query}, source::{maybe_gzip, Lines}};
//!
//! let logs = concat!(
//!     r#"{"ts":"2026-11-21T10:00:00Z","level":"ERROR","msg":"card declined","http.request_id":"abc","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#, "\n",
//!     r#"{"ts":"2026-11-21T10:00:00Z","level":"ERROR","msg":"card declined","http.request_id":"abc","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#, "\n",
//!     r#"{"ts":"2026-11-21T10:00:01Z","level":"INFO","msg":"cut"#,
//! );
//! let query: Query = "abc level>=error".parse()?;
//! let matcher = Matcher::new(&query, 0);
//! let mut seen = Seen::default();
//! let mut lines = Lines::new(maybe_gzip(BufReader::new(logs.as_bytes()))?);
//! let (mut found, mut cut) = (0, 0);
//! while let Some(line) = lines.next_line()? {
//!     if !line.complete && serde_json::from_slice::<serde_json::Value>(line.bytes).is_err() {
//!         cut += 1; // a writer was still writing it
//!     } else if seen.first(line.bytes) && matcher.match_line(line.bytes).is_some() {
//!         found += 1;
//!     }
//! }
//! assert_eq!((found, cut), (1, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod borrowed;
pub mod dedup;
pub mod follow;
pub mod pretty;
pub mod query;
pub mod source;
pub mod text;
pub mod trace;
