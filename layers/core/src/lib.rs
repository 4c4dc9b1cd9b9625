//! taskwire's shared core: what every taskwire layer builds on.
//!
//! - [`http`]: the HTTP server policy of the tower and actix middlewares (task names, outcome,
//!   request ids, client address, options) and the URL conventions of every HTTP integration.
//! - [`ids`]: W3C Trace Context ids ([`TraceId`], [`SpanId`]).
//! - [`clock`]: the monotonic clock span timing reads (the time-stamp counter where the kernel
//!   trusts it).
//! - [`event_time`]: one wall-clock time per event, shared by every layer that writes it
//!   ([`EventClock`](event_time::EventClock)).
//! - [`capture`]: span fields captured once and shared by every taskwire layer in the stack
//!   ([`Capture`], [`SpanData`]).
//! - [`propagation`]: the W3C `traceparent`/`tracestate` codec and carrier traits.
//! - [`redact`]: redaction of sensitive keys before anything is written ([`Redactor`]).
//! - [`schema`]: the record schema (targets, keys, levels), with [`task_record`], the target,
//!   names and reserved keys of the tasks layer's records.
//! - [`cache`]: the per-thread cache of per-call-site answers ([`SiteCache`](cache::SiteCache))
//!   and the hasher every taskwire map uses.
//! - [`suppress`]: background I/O threads whose own events taskwire ignores.
//! - [`value`]: typed field values ([`FieldValue`]).
//! - [`json`], [`time`], [`process`]: allocation-free rendering of JSON values, RFC 3339
//!   timestamps (and their parsing and calendar arithmetic), and the process facts each
//!   record carries.
//!
//! Applications rarely use this crate directly: the `taskwire` crate wires the layers. Layer
//! authors embed a [`Capture`] in their layer so that the spans they see are captured once:
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use tracing_subscriber::{layer::Context, registry::LookupSpan, Layer};
//! use tracing_core::{span, Subscriber};
//! use taskwire_core::{Capture, SpanData};
//!
//! struct Ids { capture: Capture }
//!
//! impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Ids {
//!     fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
//!         self.capture.on_new_span(attrs, id, &ctx);
//!         let span = ctx.span(id).expect("span is open");
//!         let ext = span.extensions();
//!         let data = ext.get::<SpanData>().expect("captured");
//!         assert!(data.trace_id.is_valid());
//!     }
//!     fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
//!         self.capture.on_record(id, values, &ctx);
//!     }
//! }
//!
//! let subscriber = tracing_subscriber::registry().with(Ids { capture: Capture::default() });
//! tracing::subscriber::with_default(subscriber, || {
//!     let _span = tracing::info_span!("checkout", order = 7).entered();
//! });
//! ```
// One `unsafe` block: the `rdtsc` read in `clock.rs` (a measured hot path; see its SAFETY note).
#![deny(unsafe_code)]

pub mod cache;
pub mod capture;
pub mod clock;
pub mod event_time;
pub mod http;
pub mod ids;
pub mod json;
pub mod process;
pub mod propagation;
pub mod redact;
pub mod schema;
pub mod suppress;
pub mod time;
pub mod value;

pub use capture::{Capture, SpanData, SpanFields};
pub use ids::{SpanId, TraceId};
pub use redact::Redactor;
pub use schema::task_record;
pub use value::{ErrorValue, FieldValue};
