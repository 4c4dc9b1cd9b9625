//! [`layer_capture_callbacks!`](crate::layer_capture_callbacks): the span callbacks through
//! which a taskwire layer feeds its [`LayerCapture`](super::LayerCapture), written once.

/// The types the macro's methods name, reachable through `$crate` from any crate.
#[doc(hidden)]
pub mod types {
    pub use tracing_core::span::{Attributes, Id, Record};
    pub use tracing_core::Event;
    pub use tracing_subscriber::layer::Context;
}

/// Writes, inside an `impl<S> Layer<S> for MyLayer`, the `Layer` methods that only forward to
/// the layer's [`LayerCapture`](crate::span::LayerCapture) field: `on_layer` (which calls
/// [`LayerCapture::attach`](crate::span::LayerCapture::attach)), `on_new_span`, `on_record`,
/// `on_enter` and `on_exit`.
///
/// `layer_capture_callbacks!(S, capture)` writes all five for the field `capture`, with `S`
/// the impl's subscriber type; `layer_capture_callbacks!(S, capture: on_layer, on_record)`
/// writes only those named, for a layer that does more in the others (and calls the field's
/// method of the same name from them). The layer implements
/// [`CapturingLayer`](crate::span::CapturingLayer).
///
/// ```
/// use taskwire_core::span::{CapturingLayer, LayerCapture, Needs};
/// use taskwire_core::SpanData;
/// use tracing_core::Subscriber;
/// use tracing_subscriber::layer::{Context, Layer};
/// use tracing_subscriber::prelude::*;
/// use tracing_subscriber::registry::LookupSpan;
///
/// struct Spans {
///     capture: LayerCapture,
/// }
///
/// impl CapturingLayer for Spans {
///     fn layer_capture(&self) -> &LayerCapture {
///         &self.capture
///     }
/// }
///
/// impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
///     taskwire_core::layer_capture_callbacks!(S, capture: on_layer, on_new_span, on_record);
///
///     fn on_enter(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
///         self.capture.on_enter(id, &ctx);
///         let span = ctx.span(id).expect("span is open");
///         let ext = span.extensions();
///         assert!(ext.get::<SpanData>().is_some_and(|d| d.trace_id().is_valid()));
///     }
///
///     fn on_exit(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
///         self.capture.on_exit(id, &ctx);
///     }
/// }
///
/// let spans = Spans { capture: LayerCapture::new(Needs::default()) };
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(spans), || {
///     let _span = tracing::info_span!("checkout").entered();
/// });
/// ```
#[macro_export]
macro_rules! layer_capture_callbacks {
    ($s:ident, $capture:ident) => {
        $crate::layer_capture_callbacks!(
            $s, $capture: on_layer, on_new_span, on_record, on_enter, on_exit
        );
    };
    ($s:ident, $capture:ident: $($callback:ident),+ $(,)?) => {
        $( $crate::layer_capture_callbacks!(@one $s, $capture, $callback); )+
    };
    (@one $s:ident, $capture:ident, on_layer) => {
        fn on_layer(&mut self, subscriber: &mut $s) {
            self.$capture.attach::<Self, $s>(subscriber);
        }
    };
    (@one $s:ident, $capture:ident, on_new_span) => {
        fn on_new_span(
            &self,
            attrs: &$crate::span::callbacks::types::Attributes<'_>,
            id: &$crate::span::callbacks::types::Id,
            ctx: $crate::span::callbacks::types::Context<'_, $s>,
        ) {
            self.$capture.on_new_span(attrs, id, &ctx);
        }
    };
    (@one $s:ident, $capture:ident, on_record) => {
        fn on_record(
            &self,
            id: &$crate::span::callbacks::types::Id,
            values: &$crate::span::callbacks::types::Record<'_>,
            ctx: $crate::span::callbacks::types::Context<'_, $s>,
        ) {
            self.$capture.on_record(id, values, &ctx);
        }
    };
    (@one $s:ident, $capture:ident, on_enter) => {
        fn on_enter(
            &self,
            id: &$crate::span::callbacks::types::Id,
            ctx: $crate::span::callbacks::types::Context<'_, $s>,
        ) {
            self.$capture.on_enter(id, &ctx);
        }
    };
    (@one $s:ident, $capture:ident, on_exit) => {
        fn on_exit(
            &self,
            id: &$crate::span::callbacks::types::Id,
            ctx: $crate::span::callbacks::types::Context<'_, $s>,
        ) {
            self.$capture.on_exit(id, &ctx);
        }
    };
}
