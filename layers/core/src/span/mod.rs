//! The span model: what taskwire keeps about each span, who writes it, and how layers read it.
//!
//! Every span gets one [`SpanData`] in its registry extensions: its W3C ids and lineage (trace
//! id inherited from the nearest captured ancestor or drawn for a root, its own span id, the
//! parent's, the sampled and random flags, `tracestate`), its fields ([`SpanFields`]: typed,
//! redacted, rendered as JSON once per change), its wall and busy time, and its outcome
//! (errors, failure reason, failed children).
//!
//! **Who writes.** One [`CaptureLayer`], installed first in the stack, creates the data of
//! every span and applies its records, enters and exits; `taskwire::builder()` installs it,
//! and a hand-built stack adds it with `.with(taskwire_core::span::capture())` before the
//! other layers. Every other taskwire layer only reads the data, except for the outcome,
//! which the tasks layer and the HTTP middleware change through [`SpanData`]'s methods (the
//! first failure reason wins, errors and failed children only count up). A taskwire layer
//! looks for the capture when it is added to the stack (`Layer::on_layer`, through
//! [`LayerCapture::attach`]) and tells it what it reads ([`Needs`]: fields, timing, root
//! sampling); when there is none below it, it captures itself and the layers above read its
//! capture instead. The rule is decided once, when the stack is built; no span carries an
//! owner.
//!
//! - [`data`]: [`SpanData`] and its rules; [`Timing`]; [`LayerTiming`].
//! - [`fields`]: [`SpanFields`] and the [control fields](CONTROL_FIELDS).
//! - [`stack`]: the per-thread stack of entered spans ([`current`]) and the just-created slot.
//! - [`capture`]: [`CaptureLayer`], and [`LayerCapture`] for the other layers.
//! - [`needs`]: [`Needs`], what a layer asks of the capture.
//! - `plan`: what a span call site's fields become (redacted, control field, repeated name),
//!   decided once per call site and redactor.
//! - `redactor_cell`: the capture's redactor, widened while the stack is built and then read
//!   by every span without a lock.
//! - [`callbacks`]: [`layer_capture_callbacks!`](crate::layer_capture_callbacks), the `Layer`
//!   methods that feed a [`LayerCapture`].
//! - [`access`]: reaching a span's data through a `Dispatch` (middleware, `Span` extensions).
//!
//! A layer reads the data from the span's extensions:
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use tracing_subscriber::{layer::Context, registry::LookupSpan, Layer};
//! use tracing_core::{span, Subscriber};
//! use taskwire_core::SpanData;
//!
//! struct Ids;
//!
//! impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Ids {
//!     fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
//!         let span = ctx.span(id).expect("span is open");
//!         let ext = span.extensions();
//!         let data = ext.get::<SpanData>().expect("captured");
//!         assert!(data.trace_id().is_valid());
//!     }
//! }
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(taskwire_core::span::capture())
//!     .with(Ids);
//! tracing::subscriber::with_default(subscriber, || {
//!     let _span = tracing::info_span!("checkout", order = 7).entered();
//! });
//! ```

pub mod access;
pub mod callbacks;
pub mod capture;
pub mod data;
pub mod fields;
pub mod needs;
mod plan;
mod redactor_cell;
pub mod stack;

pub use access::{note_current_exported, read_span_data, set_remote_parent, with_span_data};
pub use capture::{CaptureLayer, CapturingLayer, LayerCapture};
pub use data::{any_unsampled, note_unsampled, LayerTiming, SpanData, Timing};
pub use fields::{SpanFields, CONTROL_FIELDS};
pub use needs::Needs;
pub use stack::{current, current_tracestate};

/// The capture layer, to install first in a hand-built stack:
/// `registry().with(taskwire_core::span::capture()).with(taskwire_json::layer())`.
pub fn capture() -> CaptureLayer {
    CaptureLayer::default()
}
