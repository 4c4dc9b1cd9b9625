//! What the layer keeps per span: its timing ([`LayerTiming`](taskwire_core::span::LayerTiming),
//! in the span's `SpanData`, or in an extension of its own for a span nobody captured), and
//! the [`Sample`] it records when the span closes.

use taskwire_core::{SpanId, TraceId};

/// One closed span's measurements.
pub(crate) struct Sample {
    pub(crate) wall: u64,
    pub(crate) busy: u64,
    pub(crate) failed: bool,
    pub(crate) ids: Option<(TraceId, SpanId)>,
}
