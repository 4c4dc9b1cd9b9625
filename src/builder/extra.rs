//! Layers of the application's own in the builder's stack ([`Builder::layer`](super::Builder::layer)),
//! and [`CaptureRegistry`], the subscriber they are layers of.
//!
//! The layers are chained in the order they were added (`first.and_then(second)…`) into one
//! boxed layer, which sits after taskwire's layers and before the builder's filter. Boxed, not
//! in a `Slot`: a `Box<dyn Layer>` forwards everything tracing-subscriber asks of a layer,
//! `on_register_dispatch` and `downcast_raw` included. Per-layer filters (`with_filter(..)`) are
//! found through `downcast_raw` (a `Layered` that does not see one would let the filter's
//! `never` disable a callsite for every layer), and so are the span contexts of layers such as
//! tracing-opentelemetry's. A builder without layers of its own composes `Identity` in their
//! place, statically, so that it pays no virtual call per callback (see `Builder::build`).

use taskwire_core::CaptureLayer;
use tracing_subscriber::layer::{Layer, Layered};
use tracing_subscriber::Registry;

/// The subscriber under every layer [`Builder`](super::Builder) composes: tracing-subscriber's
/// [`Registry`] with taskwire's span capture ([`capture()`](crate::capture)). A layer given to
/// [`Builder::layer`](super::Builder::layer) is a `Layer<CaptureRegistry>`; name it to box a
/// layer chosen at run time:
///
/// ```
/// use tracing_subscriber::Layer;
///
/// # fn main() -> Result<(), taskwire::InstallError> {
/// let verbose = std::env::var_os("VERBOSE").is_some();
/// let layer: Box<dyn Layer<taskwire::CaptureRegistry> + Send + Sync> = if verbose {
///     Box::new(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
/// } else {
///     Box::new(tracing_subscriber::fmt::layer().compact().with_writer(std::io::stderr))
/// };
/// let (dispatch, _guard) = taskwire::builder().layer(layer).build()?;
/// # Ok(()) }
/// ```
pub type CaptureRegistry = Layered<CaptureLayer, Registry>;

/// The application's layers, chained.
pub(super) type Extra = Box<dyn Layer<CaptureRegistry> + Send + Sync>;

/// `extra` with `layer` after it.
pub(super) fn push<L>(extra: Option<Extra>, layer: L) -> Extra
where
    L: Layer<CaptureRegistry> + Send + Sync + 'static,
{
    match extra {
        None => Box::new(layer),
        Some(before) => Box::new(before.and_then(layer)),
    }
}
