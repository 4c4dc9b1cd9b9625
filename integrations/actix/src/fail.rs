//! [`mark_failed`]: the one place this crate marks a request task failed.

use std::fmt;

use taskwire_core::span;
use tracing::Span;

/// Marks the task of `span` failed with `reason` (the first reason wins), without an ERROR
/// event. Without a taskwire layer, or for a disabled span, it does nothing.
pub(crate) fn mark_failed(span: &Span, reason: impl fmt::Display) {
    span.with_subscriber(|(id, dispatch)| span::with_span_data(dispatch, id, |d| d.fail(reason)));
}
