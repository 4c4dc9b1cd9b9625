//! Whether a request task failed, and why: the outcome rules of every taskwire server
//! middleware, from a status code, a handler's error message or a caught panic.
//!
//! | what happened | the task | `error.type` | failure reason |
//! |---|---|---|---|
//! | a `5xx` response | failed; an ERROR event unless one was reported inside the request ([`server_error`](super::server_error)) | `"500"` | `HTTP 500 Internal Server Error` |
//! | a `5xx` response with a handler's error | failed; an ERROR event as above | `"500"` | the error's message |
//! | a `4xx` response | succeeded: the client's mistake, not the server's | — | — |
//! | a panic | failed by an ERROR event: the panic hook's (`taskwire::panic_hook()`), else the middleware's; the client gets a `500` | [`PANIC_ERROR_TYPE`] | the event |
//!
//! A 5xx the handler did not report is reported by the middleware, so every server failure is
//! a ticket; a handler that logged `error!` about the cause (or whose inner task failed) has
//! reported it, and the middleware adds no second event ([`server_error`](super::server_error)).
//! A panic reported by the panic hook ([`crate::panic::take_reported`]) is not reported again.

use std::any::Any;
use std::fmt;

/// `error.type` of a task whose handler panicked.
pub const PANIC_ERROR_TYPE: &str = "panic";

/// The status a server answers a panicking handler with (an empty `500`).
pub const PANIC_STATUS: u16 = 500;

/// Whether a response with `status` fails its task: a `5xx`, the server's failure. A `4xx` is
/// the client's mistake and does not (OpenTelemetry's rule for server spans).
///
/// ```
/// use taskwire_core::http::fails_task;
/// assert!(fails_task(500) && fails_task(503) && fails_task(599));
/// assert!(!fails_task(404) && !fails_task(200) && !fails_task(600));
/// ```
pub const fn fails_task(status: u16) -> bool {
    status >= 500 && status <= 599
}

/// Why a request task failed, from its response's status and the message of the error its
/// handler returned (if the framework says). `None` when the response does not fail the task
/// (see [`fails_task`]).
///
/// ```
/// use taskwire_core::http::classify_response;
/// let failure = classify_response(503, None).unwrap();
/// assert_eq!(failure.error_type(), "503");
/// assert_eq!(failure.to_string(), "HTTP 503 Service Unavailable");
/// assert_eq!(classify_response(500, Some("db down")).unwrap().to_string(), "db down");
/// assert!(classify_response(404, Some("no such user")).is_none());
/// ```
pub fn classify_response(status: u16, handler_error: Option<&str>) -> Option<Failure<'_>> {
    if !fails_task(status) {
        return None;
    }
    // Three digits: `fails_task` keeps the status within 500..=599.
    let digits = [
        b'0' + (status / 100 % 10) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
    ];
    Some(Failure {
        status,
        digits,
        handler_error,
    })
}

/// A failed request task's response, from [`classify_response`]. Displays as the task's
/// failure reason (`task.failure`): the handler's error message when there is one, else
/// `HTTP {status} {reason phrase}`. Formatted only when displayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure<'a> {
    status: u16,
    digits: [u8; 3],
    handler_error: Option<&'a str>,
}

impl Failure<'_> {
    /// The response's status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The task's `error.type`: the status code as text (`"500"`), as OpenTelemetry's HTTP
    /// conventions record it.
    pub fn error_type(&self) -> &str {
        // Three ASCII digits.
        std::str::from_utf8(&self.digits).unwrap_or("5xx")
    }
}

impl fmt::Display for Failure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(message) = self.handler_error {
            return f.write_str(message);
        }
        f.write_str("HTTP ")?;
        f.write_str(self.error_type())?;
        if let Some(reason) = server_error_reason(self.status) {
            f.write_str(" ")?;
            f.write_str(reason)?;
        }
        Ok(())
    }
}

/// The reason phrase of a `5xx` status defined by RFC 9110 and its companions.
fn server_error_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

/// The message of a caught panic, when its payload is a string (as `panic!` makes it), for
/// the ERROR event that fails the task.
///
/// ```
/// use taskwire_core::http::panic_message;
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
/// assert_eq!(panic_message(&*payload), "boom 7");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic payload is not a string")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn server_errors_fail_client_errors_do_not() {
        for status in [
            100,
            200,
            204,
            301,
            400,
            404,
            429,
            499,
            600,
            999,
            0,
            u16::MAX,
        ] {
            assert!(classify_response(status, None).is_none(), "{status}");
        }
        let failure = classify_response(500, None).unwrap();
        assert_eq!(failure.status(), 500);
        assert_eq!(failure.error_type(), "500");
        assert_eq!(failure.to_string(), "HTTP 500 Internal Server Error");
        assert_eq!(
            classify_response(599, None).unwrap().to_string(),
            "HTTP 599"
        );
        assert_eq!(
            classify_response(502, Some("upstream refused"))
                .unwrap()
                .to_string(),
            "upstream refused"
        );
    }

    #[test]
    fn panic_payloads() {
        let owned: Box<dyn Any + Send> = Box::new(String::from("owned"));
        assert_eq!(panic_message(&*owned), "owned");
        let other: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(panic_message(&*other), "panic payload is not a string");
    }

    proptest! {
        /// Every status fails its task exactly when it is a 5xx, and `error.type` is the
        /// status written out.
        #[test]
        fn classification_matches_the_status_class(status in any::<u16>()) {
            match classify_response(status, None) {
                Some(failure) => {
                    prop_assert_eq!(status / 100, 5);
                    prop_assert_eq!(failure.error_type(), status.to_string());
                    let prefix = format!("HTTP {status}");
                    prop_assert!(failure.to_string().starts_with(&prefix));
                }
                None => prop_assert_ne!(status / 100, 5),
            }
        }
    }
}
