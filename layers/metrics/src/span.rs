//! What the layer keeps per span: its [`Timing`], in the span's extensions from creation to
//! close, and the [`Sample`] it records when the span closes.

use taskwire_core::{SpanId, TraceId};

/// Per-span timing, in the span's extensions.
pub(crate) struct Timing {
    /// The id of the call-site table of the layer that owns this timing.
    pub(crate) layer: u64,
    /// The span's call site in that table.
    pub(crate) callsite: u32,
    pub(crate) start: u64,
    pub(crate) busy: u64,
    pub(crate) entered_at: u64,
    pub(crate) depth: u32,
}

/// One closed span's measurements.
pub(crate) struct Sample {
    pub(crate) wall: u64,
    pub(crate) busy: u64,
    pub(crate) failed: bool,
    pub(crate) ids: Option<(TraceId, SpanId)>,
}
