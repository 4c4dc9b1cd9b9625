//! [`mark_failed`]: the one place this crate marks a request task failed.

use std::fmt;

use taskwire_core::span;
use tracing::Span;

/// Marks the task of `span` failed with `reason` (a 5xx status, a gRPC error status), without
/// an ERROR event: the response is the handler's answer, not a new error, and whatever caused
/// it was the handler's to log. The first reason wins. Without a taskwire layer, or for a
/// disabled span, it does nothing.
pub(crate) fn mark_failed(span: &Span, reason: impl fmt::Display) {
    span.with_subscriber(|(id, dispatch)| span::with_span_data(dispatch, id, |d| d.fail(reason)));
}
