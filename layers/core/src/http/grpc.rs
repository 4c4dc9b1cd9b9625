//! The outcome of a gRPC call a server handled: its `grpc-status`, not its HTTP status
//! (always 200). The status arrives in the response headers of a trailers-only response (an
//! error before any message) or in the trailers at the end of the body.
//!
//! Following the OpenTelemetry RPC conventions for servers, a task fails on the codes that
//! mean the server failed — `UNKNOWN` (2), `DEADLINE_EXCEEDED` (4), `UNIMPLEMENTED` (12),
//! `INTERNAL` (13), `UNAVAILABLE` (14) and `DATA_LOSS` (15) — and succeeds on the others,
//! which are the caller's (`INVALID_ARGUMENT`, `NOT_FOUND`, …), as a 4xx is. A `grpc-status`
//! that is not a number from 0 to 16 counts as `UNKNOWN`, as gRPC clients read it; a body that
//! ends without any `grpc-status` fails the task with `UNKNOWN` too.

/// The header (or trailer) carrying the status code.
pub const GRPC_STATUS: &str = "grpc-status";
/// The header (or trailer) carrying the status message, percent-encoded.
pub const GRPC_MESSAGE: &str = "grpc-message";

/// `UNKNOWN`, the code of a missing or malformed status.
pub const UNKNOWN: u16 = 2;

/// Whether a request with this `content-type` value is a gRPC call: `application/grpc` or
/// `application/grpc+{codec}` (any case, parameters allowed).
///
/// ```
/// use taskwire_core::http::grpc::is_grpc;
/// assert!(is_grpc(b"application/grpc+proto"));
/// assert!(!is_grpc(b"application/grpc-web"));
/// ```
pub fn is_grpc(content_type: &[u8]) -> bool {
    let prefix = b"application/grpc";
    content_type.len() >= prefix.len()
        && content_type[..prefix.len()].eq_ignore_ascii_case(prefix)
        && matches!(
            content_type.get(prefix.len()),
            None | Some(b'+' | b';' | b' ')
        )
}

/// The service and method of a gRPC path, `/{service}/{method}`, when it has that shape: the
/// call's name is `"{service}/{method}"`.
///
/// ```
/// use taskwire_core::http::grpc::service_and_method;
/// assert_eq!(service_and_method("/shop.Orders/Place"), Some(("shop.Orders", "Place")));
/// assert_eq!(service_and_method("/a/b/c"), None);
/// ```
pub fn service_and_method(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/'))
        .then_some((service, method))
}

/// The code a `grpc-status` value carries; [`UNKNOWN`] when it is not a code gRPC defines.
///
/// ```
/// use taskwire_core::http::grpc::status_code;
/// assert_eq!(status_code(b"13"), 13);
/// assert_eq!(status_code(b"17"), 2);
/// ```
pub fn status_code(value: &[u8]) -> u16 {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|c| *c <= 16)
        .unwrap_or(UNKNOWN)
}

/// Whether `code` means the server failed (OpenTelemetry's rule for server spans), and so
/// fails the task.
pub fn fails_task(code: u16) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

/// The name of a gRPC status code (`"INTERNAL"`), the task's `error.type` when it fails.
pub fn code_name(code: u16) -> &'static str {
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

/// The failure reason of a task whose call ended with `code` and the raw `grpc-message`
/// `message`: `gRPC {name}: {message}` (decoded, at most 256 bytes), or `gRPC {name}`.
///
/// ```
/// use taskwire_core::http::grpc::failure_reason;
/// assert_eq!(failure_reason(13, Some(b"db%20down")), "gRPC INTERNAL: db down");
/// assert_eq!(failure_reason(14, None), "gRPC UNAVAILABLE");
/// ```
pub fn failure_reason(code: u16, message: Option<&[u8]>) -> String {
    let name = code_name(code);
    match message.map(decode_message) {
        Some(m) if !m.is_empty() => format!("gRPC {name}: {m}"),
        _ => format!("gRPC {name}"),
    }
}

/// The failure reason of a task whose response ended without any `grpc-status`.
pub const MISSING_STATUS_REASON: &str = "gRPC UNKNOWN: the response ended without grpc-status";

/// Percent-decodes a `grpc-message` (invalid escapes are kept as they are, invalid UTF-8 is
/// replaced), keeping at most 256 bytes of it.
pub fn decode_message(raw: &[u8]) -> String {
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

    #[test]
    fn grpc_content_types() {
        for ct in [
            "application/grpc",
            "application/grpc+proto",
            "Application/GRPC;x=1",
        ] {
            assert!(is_grpc(ct.as_bytes()), "{ct}");
        }
        for ct in [
            "application/grpc-web",
            "application/grpcx",
            "text/plain",
            "",
        ] {
            assert!(!is_grpc(ct.as_bytes()), "{ct}");
        }
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
        assert_eq!(status_code(b"0"), 0);
        assert_eq!(status_code(b"13"), 13);
        assert_eq!(status_code(b"17"), UNKNOWN);
        assert_eq!(status_code(b"-1"), UNKNOWN);
        assert_eq!(status_code(b"\xff"), UNKNOWN);
        assert!(fails_task(13) && fails_task(2) && !fails_task(5));
        assert!(!fails_task(0) && !fails_task(3) && !fails_task(16));
    }

    #[test]
    fn messages_are_percent_decoded_and_bounded() {
        assert_eq!(
            decode_message(b"db%20down%3A%20%E2%9C%97"),
            "db down: \u{2717}"
        );
        assert_eq!(decode_message(b"100%"), "100%");
        assert_eq!(decode_message(b"%zz"), "%zz");
        assert!(decode_message(&[b'a'; 10_000]).len() <= 256);
        assert_eq!(failure_reason(13, Some(b"")), "gRPC INTERNAL");
    }

    proptest! {
        /// Any bytes: parsing never panics, codes stay in gRPC's range, and decoded messages
        /// stay bounded.
        #[test]
        fn any_bytes_parse(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
            prop_assert!(status_code(&raw) <= 16);
            let _ = is_grpc(&raw);
            prop_assert!(decode_message(&raw).len() <= 256);
            prop_assert!(failure_reason(2, Some(&raw)).len() <= 256 + "gRPC UNKNOWN: ".len());
        }
    }
}
