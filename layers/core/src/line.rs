//! What the layers that write one line per event (JSON, console) share: where a line goes
//! ([`LineWriter`]: the `MakeWriter`, the count of failed writes, the event clock) and what is
//! known about the event before it is rendered ([`EventLine`]: its metadata, a bridged `log`
//! record's own, and its time).
//!
//! A line-writing layer keeps a [`LineWriter`] and a [`LayerCapture`],
//! lets [`line_layer_callbacks!`](crate::line_layer_callbacks) write the `Layer` methods that
//! only forward to them (the capture's span callbacks, and `event_enabled` calling
//! [`LineWriter::mark`]), and from `Layer::on_event` renders into its per-thread scratch
//! ([`crate::scratch`]) inside [`LineWriter::with_event`], with the span [`event_span`] finds
//! (or the spans [`event_scope`] lists), then hands the bytes to [`LineWriter::write`]: one `write_all` per line, failures
//! counted, never a panic.
//!
//! ```
//! use tracing_core::{Event, Subscriber};
//! use tracing_subscriber::layer::{Context, Layer};
//! use tracing_subscriber::prelude::*;
//! use taskwire_core::line::LineWriter;
//! use taskwire_test_support::Capture;
//!
//! struct Messages<W> {
//!     out: LineWriter<W>,
//! }
//!
//! impl<S, W> Layer<S> for Messages<W>
//! where
//!     S: Subscriber,
//!     W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + 'static,
//! {
//!     fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
//!         self.out.mark(event);
//!         true
//!     }
//!
//!     fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
//!         self.out.with_event(event, |e| {
//!             let line = format!("{} {}\n", e.meta.level(), e.meta.target());
//!             self.out.write(e.meta, line.as_bytes());
//!         });
//!     }
//! }
//!
//! let capture = Capture::default();
//! let layer = Messages { out: LineWriter::new(std::io::sink, "messages").with_writer(capture.clone()) };
//! tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
//!     tracing::warn!(target: "checkout", "declined");
//! });
//! assert_eq!(capture.text(), "WARN checkout\n");
//! ```

use std::fmt;
use std::io::Write;
use std::time::SystemTime;

use tracing_core::{Event, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, Scope, SpanRef};

use crate::event_time::EventClock;
use crate::span::LayerCapture;
use crate::write_errors::WriteErrors;

/// Where a line-writing layer's lines go: its `MakeWriter`, the count of lines it could not
/// write, and its [`EventClock`] (see the [module docs](self)).
pub struct LineWriter<W> {
    make_writer: W,
    errors: WriteErrors,
    clock: EventClock,
}

impl<W> fmt::Debug for LineWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineWriter")
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl<W> LineWriter<W> {
    /// Lines to `make_writer`, for the layer named `layer` in the one stderr report of a
    /// failed write ([`WriteErrors`]).
    ///
    /// ```
    /// let out = taskwire_core::line::LineWriter::new(std::io::stdout, "my-layer");
    /// assert_eq!(out.write_errors().count(), 0);
    /// ```
    pub fn new(make_writer: W, layer: &'static str) -> Self {
        LineWriter {
            make_writer,
            errors: WriteErrors::new(layer),
            clock: EventClock::default(),
        }
    }

    /// The same count and clock, writing to `make_writer` instead.
    ///
    /// ```
    /// let out = taskwire_core::line::LineWriter::new(std::io::stdout, "my-layer")
    ///     .with_writer(std::io::stderr);
    /// # let _ = out;
    /// ```
    #[must_use]
    pub fn with_writer<W2>(self, make_writer: W2) -> LineWriter<W2> {
        LineWriter {
            make_writer,
            errors: self.errors,
            clock: self.clock,
        }
    }

    /// A handle on the count of lines that could not be written.
    pub fn write_errors(&self) -> WriteErrors {
        self.errors.clone()
    }

    /// Marks `event` for the shared event clock; call it from `Layer::event_enabled`.
    #[inline]
    pub fn mark(&self, event: &Event<'_>) {
        self.clock.mark(event);
    }

    /// Runs `f` with what is known about `event` before it is rendered: its metadata (a
    /// bridged `log` record's own), whether it is a bridged record, and its time, the same
    /// for every taskwire layer.
    #[inline]
    pub fn with_event<R>(&self, event: &Event<'_>, f: impl FnOnce(&EventLine<'_, '_>) -> R) -> R {
        let normalized = event.normalized_metadata();
        f(&EventLine {
            event,
            meta: normalized.as_ref().unwrap_or_else(|| event.metadata()),
            is_log: normalized.is_some(),
            at: self.clock.time(event),
        })
    }
}

impl<W: for<'w> MakeWriter<'w>> LineWriter<W> {
    /// Writes `line` with one `write_all` to the writer made for `meta`; a failure is counted
    /// (and the first one reported on stderr), never raised.
    #[inline]
    pub fn write(&self, meta: &Metadata<'_>, line: &[u8]) {
        let mut w = self.make_writer.make_writer_for(meta);
        if let Err(e) = w.write_all(line) {
            self.errors.record(&e);
        }
    }
}

/// The span `event` happened in (its innermost), for a layer reading `capture`: for a
/// contextual event, the innermost span the capture saw entered on this thread
/// ([`LayerCapture::current_span`]) when `ctx` lets the layer see it (a per-layer filter may
/// not); else what the registry says (`Context::event_span`).
///
/// The capture's stack is a plain thread-local; the registry's sits in a shared `ThreadLocal`
/// whose borrow flags two logging threads both write.
#[inline]
pub fn event_span<'c, S>(
    capture: &LayerCapture,
    event: &Event<'_>,
    ctx: &'c Context<'_, S>,
) -> Option<SpanRef<'c, S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    event
        .is_contextual()
        .then(|| capture.current_span())
        .flatten()
        .and_then(|id| ctx.span(&id))
        .or_else(|| ctx.event_span(event))
}

/// The spans `event` happened in, innermost first, for a layer reading `capture`: the scope of
/// its [`event_span`]. The example of [`line_layer_callbacks!`](crate::line_layer_callbacks)
/// counts an event's spans with it.
#[inline]
pub fn event_scope<'c, S>(
    capture: &LayerCapture,
    event: &Event<'_>,
    ctx: &'c Context<'_, S>,
) -> Option<Scope<'c, S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    event_span(capture, event, ctx).map(|span| span.scope())
}

/// An event about to be written, and what is known about it ([`LineWriter::with_event`]).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct EventLine<'a, 'b> {
    /// The event.
    pub event: &'a Event<'b>,
    /// Its metadata: for a bridged `log` record, the record's own (level, target, file, line
    /// and module), not the bridge's call site.
    pub meta: &'a Metadata<'a>,
    /// Whether it is a bridged `log` record.
    pub is_log: bool,
    /// Its time, the same for every taskwire layer ([`EventClock`]).
    pub at: SystemTime,
}

/// Writes, inside an `impl<S> Layer<S> for MyLayer`, the `Layer` methods a line-writing layer
/// only forwards: the span callbacks of its [`LayerCapture`](crate::span::LayerCapture) field
/// `capture` ([`layer_capture_callbacks!`](crate::layer_capture_callbacks)) and
/// `event_enabled`, which marks the event for the shared clock through its [`LineWriter`]
/// field `out` and lets it through. `S` is the impl's subscriber type.
///
/// ```
/// use taskwire_core::line::{event_scope, LineWriter};
/// use taskwire_core::span::{CapturingLayer, LayerCapture, Needs};
/// use tracing_core::{Event, Subscriber};
/// use tracing_subscriber::fmt::MakeWriter;
/// use tracing_subscriber::layer::{Context, Layer};
/// use tracing_subscriber::prelude::*;
/// use tracing_subscriber::registry::LookupSpan;
///
/// struct Depth<W> {
///     out: LineWriter<W>,
///     capture: LayerCapture,
/// }
///
/// impl<W: 'static> CapturingLayer for Depth<W> {
///     fn layer_capture(&self) -> &LayerCapture {
///         &self.capture
///     }
/// }
///
/// impl<S, W> Layer<S> for Depth<W>
/// where
///     S: Subscriber + for<'a> LookupSpan<'a>,
///     W: for<'w> MakeWriter<'w> + 'static,
/// {
///     taskwire_core::line_layer_callbacks!(S, capture, out);
///
///     fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
///         let depth = event_scope(&self.capture, event, &ctx).map_or(0, |s| s.count());
///         self.out.with_event(event, |e| self.out.write(e.meta, format!("{depth}\n").as_bytes()));
///     }
/// }
///
/// let capture = taskwire_test_support::Capture::default();
/// let layer = Depth {
///     out: LineWriter::new(capture.clone(), "depth"),
///     capture: LayerCapture::new(Needs::default()),
/// };
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     let _span = tracing::info_span!("outer").entered();
///     tracing::info!("one deep");
/// });
/// assert_eq!(capture.text(), "1\n");
/// ```
#[macro_export]
macro_rules! line_layer_callbacks {
    ($s:ident, $capture:ident, $out:ident) => {
        $crate::layer_capture_callbacks!($s, $capture);

        fn event_enabled(
            &self,
            event: &$crate::span::callbacks::types::Event<'_>,
            _ctx: $crate::span::callbacks::types::Context<'_, $s>,
        ) -> bool {
            self.$out.mark(event);
            true
        }
    };
}
