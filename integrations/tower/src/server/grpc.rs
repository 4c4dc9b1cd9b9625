//! gRPC requests: their outcome is the `grpc-status` of the response, not its HTTP status
//! (always 200). The status arrives in the response headers of a trailers-only response (an
//! error before any message) or in the trailers at the end of the body.
//!
//! Following the OpenTelemetry RPC conventions for servers, a task fails on the codes that
//! mean the server failed — `UNKNOWN` (2), `DEADLINE_EXCEEDED` (4), `UNIMPLEMENTED` (12),
//! `INTERNAL` (13), `UNAVAILABLE` (14) and `DATA_LOSS` (15) — and succeeds on the others,
//! which are the caller's (`INVALID_ARGUMENT`, `NOT_FOUND`, …), as a 4xx is. A `grpc-status`
//! that is not a number from 0 to 16 counts as `UNKNOWN`, as gRPC clients read it; a body that
//! ends without any `grpc-status` fails the task with `UNKNOWN` too.

use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use tracing::Span;

use super::fail::mark_failed;

/// The header (or trailer) carrying the status code.
pub(crate) const GRPC_STATUS: &str = "grpc-status";
/// The header (or trailer) carrying the status message, percent-encoded.
const GRPC_MESSAGE: &str = "grpc-message";

/// `UNKNOWN`, the code of a missing or malformed status.
const UNKNOWN: u16 = 2;

/// Whether a request is a gRPC call: its content type is `application/grpc` or
/// `application/grpc+{codec}` (any case, parameters allowed).
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let v = value.as_bytes();
    let prefix = b"application/grpc";
    v.len() >= prefix.len()
        && v[..prefix.len()].eq_ignore_ascii_case(prefix)
        && matches!(v.get(prefix.len()), None | Some(b'+' | b';' | b' '))
}

/// The service and method of a gRPC path, `/{service}/{method}`, when it has that shape.
pub(crate) fn service_and_method(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/'))
        .then_some((service, method))
}

/// The status code in `headers`, if there is a `grpc-status`; [`UNKNOWN`] when it is not a
/// code gRPC defines.
pub(crate) fn status(headers: &HeaderMap) -> Option<u16> {
    let value = headers.get(GRPC_STATUS)?;
    Some(
        std::str::from_utf8(value.as_bytes())
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .filter(|c| *c <= 16)
            .unwrap_or(UNKNOWN),
    )
}

/// Whether `code` means the server failed (OpenTelemetry's rule for server spans).
pub(crate) fn is_server_error(code: u16) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

/// The name of a gRPC status code.
pub(crate) fn code_name(code: u16) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
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

/// Records `code` on the task, and fails it when the code is a server error; the failure
/// reason is the code's name and the status message (decoded, at most 256 bytes).
pub(crate) fn record(span: &Span, code: u16, message: Option<&HeaderValue>) {
    span.record("rpc.grpc.status_code", code);
    if !is_server_error(code) {
        return;
    }
    let name = code_name(code);
    span.record("error.type", name);
    match message.map(|m| decode_message(m.as_bytes())) {
        Some(m) if !m.is_empty() => mark_failed(span, format_args!("gRPC {name}: {m}")),
        _ => mark_failed(span, format_args!("gRPC {name}")),
    }
}

/// Records that the response ended without a status.
pub(crate) fn record_missing(span: &Span) {
    span.record("rpc.grpc.status_code", UNKNOWN);
    span.record("error.type", code_name(UNKNOWN));
    mark_failed(span, "gRPC UNKNOWN: the response ended without grpc-status");
}

/// Percent-decodes a `grpc-message` (invalid escapes are kept as they are, invalid UTF-8 is
/// replaced), keeping at most 256 bytes of it.
fn decode_message(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len().min(256));
    let mut i = 0;
    while i < raw.len() && out.len() < 256 {
        let b = raw[i];
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b,
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    let mut s = String::from_utf8_lossy(&out).into_owned();
    if s.len() > 256 {
        let mut cut = 256;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn grpc_content_types() {
        for ct in [
            "application/grpc",
            "application/grpc+proto",
            "Application/GRPC;x=1",
        ] {
            assert!(
                is_grpc(&headers(&[("content-type", ct.as_bytes())])),
                "{ct}"
            );
        }
        for ct in [
            "application/grpc-web",
            "application/grpcx",
            "text/plain",
            "",
        ] {
            assert!(
                !is_grpc(&headers(&[("content-type", ct.as_bytes())])),
                "{ct}"
            );
        }
        assert!(!is_grpc(&HeaderMap::new()));
    }

    #[test]
    fn paths() {
        assert_eq!(
            service_and_method("/shop.Orders/Place"),
            Some(("shop.Orders", "Place"))
        );
        for p in [
            "/",
            "//Place",
            "/shop.Orders/",
            "shop.Orders/Place",
            "/a/b/c",
        ] {
            assert_eq!(service_and_method(p), None, "{p}");
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(status(&headers(&[("grpc-status", b"0")])), Some(0));
        assert_eq!(status(&headers(&[("grpc-status", b"13")])), Some(13));
        assert_eq!(status(&headers(&[("grpc-status", b"17")])), Some(UNKNOWN));
        assert_eq!(status(&headers(&[("grpc-status", b"-1")])), Some(UNKNOWN));
        assert_eq!(status(&headers(&[("grpc-status", b"\xff")])), Some(UNKNOWN));
        assert_eq!(status(&HeaderMap::new()), None);
        assert!(is_server_error(13) && is_server_error(2) && !is_server_error(5));
        assert!(!is_server_error(0) && !is_server_error(3) && !is_server_error(16));
    }

    #[test]
    fn messages_are_percent_decoded_and_bounded() {
        assert_eq!(decode_message(b"db%20down%3A%20%E2%9C%97"), "db down: ✗");
        assert_eq!(decode_message(b"100%"), "100%");
        assert_eq!(decode_message(b"%zz"), "%zz");
        assert!(decode_message(&[b'a'; 10_000]).len() <= 256);
    }

    proptest! {
        /// Any header bytes: parsing never panics, codes stay in gRPC's range, and decoded
        /// messages stay bounded.
        #[test]
        fn any_bytes_parse(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(v) = HeaderValue::from_bytes(&raw) {
                let mut h = HeaderMap::new();
                h.insert(GRPC_STATUS, v.clone());
                h.insert(CONTENT_TYPE, v);
                let code = status(&h);
                prop_assert!(code.is_some_and(|c| c <= 16));
                let _ = is_grpc(&h);
            }
            prop_assert!(decode_message(&raw).len() <= 256);
        }
    }
}
