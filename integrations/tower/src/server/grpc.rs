//! gRPC calls: their outcome is the `grpc-status` of the response, by the rules of
//! [`taskwire_core::http::grpc`]; this module only reads the headers and trailers and records
//! what they say on the task.

use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use taskwire_core::http::grpc::{
    code_name, fails_task, failure_reason, status_code, GRPC_MESSAGE, MISSING_STATUS_REASON,
    UNKNOWN,
};
use tracing::Span;

use super::fail::mark_failed;

pub(crate) use taskwire_core::http::grpc::{service_and_method, GRPC_STATUS};

/// Whether a request is a gRPC call (by its content type).
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| taskwire_core::http::grpc::is_grpc(v.as_bytes()))
}

/// The status code in `headers`, if there is a `grpc-status`.
pub(crate) fn status(headers: &HeaderMap) -> Option<u16> {
    headers.get(GRPC_STATUS).map(|v| status_code(v.as_bytes()))
}

/// Records the status found in `headers` (response headers or trailers) on the task; returns
/// whether there was one.
pub(crate) fn record_from(span: &Span, headers: &HeaderMap) -> bool {
    match status(headers) {
        Some(code) => {
            record(span, code, headers.get(GRPC_MESSAGE));
            true
        }
        None => false,
    }
}

/// Records `code` on the task, and fails it when the code is a server error.
pub(crate) fn record(span: &Span, code: u16, message: Option<&HeaderValue>) {
    span.record("rpc.grpc.status_code", code);
    if !fails_task(code) {
        return;
    }
    span.record("error.type", code_name(code));
    mark_failed(
        span,
        failure_reason(code, message.map(HeaderValue::as_bytes)),
    );
}

/// Records that the response ended without a status.
pub(crate) fn record_missing(span: &Span) {
    span.record("rpc.grpc.status_code", UNKNOWN);
    span.record("error.type", code_name(UNKNOWN));
    mark_failed(span, MISSING_STATUS_REASON);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn headers_are_read() {
        assert!(is_grpc(&headers(&[("content-type", b"application/grpc")])));
        assert!(!is_grpc(&HeaderMap::new()));
        assert_eq!(status(&headers(&[("grpc-status", b"13")])), Some(13));
        assert_eq!(status(&headers(&[("grpc-status", b"x")])), Some(UNKNOWN));
        assert_eq!(status(&HeaderMap::new()), None);
    }
}
