//! [`continue_trace`]: a request task continues the caller's trace.

use tracing_core::dispatcher::Dispatch;
use tracing_core::span::Id;

use crate::propagation::{Extracted, TraceParent};
use crate::span;
use crate::SpanData;

/// Makes the request task `id`, just created, a child of the caller's task described by
/// `remote` (what [`propagation::extract`](crate::propagation::extract) read from the request),
/// and returns the task's own context: its `traceresponse`, and the span id a request without
/// a request id is named after ([`minted_request_id`](super::minted_request_id)). A `remote`
/// without a parent leaves the task a new root. `None` without a taskwire layer in the
/// subscriber (see [`span::read_span_data`]).
pub fn continue_trace(dispatch: &Dispatch, id: &Id, remote: &Extracted) -> Option<TraceParent> {
    span::set_remote_parent(dispatch, id, remote);
    span::read_span_data(dispatch, id, SpanData::traceparent)
}
