//! The header names a server middleware reads and writes, besides `traceparent` and
//! `tracestate` ([`crate::propagation`]). All lowercase, as HTTP/2 sends them and as
//! `HeaderName::from_static` takes them.

/// The default request id header, read from requests and written to responses; see
/// [the request id rules](super#the-request-id).
pub const X_REQUEST_ID: &str = "x-request-id";

/// The response header naming the request task (W3C Trace Context Level 2):
/// `00-{trace id}-{span id of the request task}-{flags}`, the bytes of the task's
/// [`TraceParent`](crate::propagation::TraceParent).
pub const TRACERESPONSE: &str = "traceresponse";

/// The proxy header [`ClientAddress::ForwardedFor`](super::ClientAddress::ForwardedFor) reads.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";
