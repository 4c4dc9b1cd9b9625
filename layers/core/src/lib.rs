//! taskwire's shared core: what every taskwire layer builds on.
//!
//! - [`http`]: the HTTP server policy of the tower and actix middlewares (task names, outcome,
//!   request ids, client address, options) and the URL conventions of every HTTP integration.
//! - [`ids`]: W3C Trace Context ids ([`TraceId`], [`SpanId`]).
//! - [`clock`]: the monotonic clock span timing reads (the time-stamp counter where the kernel
//!   trusts it).
//! - [`event_time`]: one wall-clock time per event, shared by every layer that writes it
//!   ([`EventClock`](event_time::EventClock)).
//! - [`event_ticket`]: the fingerprint of the ticket an event was counted in, from the tickets
//!   layer to the JSON layer's line.
//! - [`span`]: the span model: one [`SpanData`] per span, written by the [`CaptureLayer`]
//!   and read by every taskwire layer.
//! - [`propagation`]: the W3C `traceparent`/`tracestate` codec and carrier traits.
//! - [`redact`]: redaction of sensitive keys before anything is written ([`Redactor`]).
//! - [`schema`]: the record schema (targets, keys, levels), with [`task_record`], the target,
//!   names and reserved keys of the tasks layer's records.
//! - [`cache`]: the per-thread cache of per-call-site answers ([`SiteCache`](cache::SiteCache))
//!   and the hasher every taskwire map uses.
//! - [`panic`]: what a panic hook hands to the layers with a panic's event (location,
//!   backtrace), and whether a caught panic was already reported.
//! - [`suppress`]: background I/O threads whose own events taskwire ignores.
//! - [`value`]: typed field values ([`FieldValue`]).
//! - [`line`](mod@line): what the line-writing layers (JSON, console) share: where a line goes and what
//!   is known about the event ([`LineWriter`](line::LineWriter)).
//! - [`scratch`]: per-thread scratch buffers of the line-writing layers
//! - [`write_errors`]: the count of records a layer could not write.
//! - [`json`], [`time`], [`process`]: allocation-free rendering of JSON values, RFC 3339
//!   timestamps (and their parsing and calendar arithmetic), and the process facts each
//!   record carries.
//!
//! Applications rarely use this crate directly: the `taskwire` crate wires the layers. Layer
//! authors read a span's [`SpanData`] from its extensions; see [`span`] for the model and an
//! example.
// `unsafe` in one place, with a SAFETY note: the `rdtsc` read in `clock.rs` (a measured hot
// path).
#![deny(unsafe_code)]

pub mod cache;
pub mod clock;
pub mod event_ticket;
pub mod event_time;
pub mod http;
pub mod ids;
pub mod json;
pub mod line;
pub mod panic;
pub mod process;
pub mod propagation;
pub mod redact;
pub mod schema;
pub mod scratch;
pub mod span;
pub mod suppress;
pub mod time;
pub mod value;
pub mod write_errors;

pub use ids::{SpanId, TraceId};
pub use redact::Redactor;
pub use schema::task_record;
pub use span::{capture, CaptureLayer, SpanData, SpanFields};
pub use value::{ErrorValue, FieldRef, FieldValue};
