//! The exporters' HTTP client: reqwest's blocking client, as opentelemetry-otlp would use
//! itself, wrapped to remember why the last request failed. opentelemetry-otlp reports every
//! transport failure as "network error"; an operator needs to know whether the collector
//! timed out, refused the connection, or something else went wrong, so the export thread
//! reads the reason from here when an export fails.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use opentelemetry_http::{HttpClient, HttpError};

/// Why a request to the collector failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No answer within the export timeout.
    Timeout(Duration),
    /// Nothing listens at the endpoint (or a firewall said so).
    Refused,
    /// Anything else: DNS, TLS, a reset connection, a malformed answer; with its causes.
    Other(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout(t) => write!(f, "timed out after {t:?} without an answer"),
            Failure::Refused => f.write_str("connection refused (nothing listens there)"),
            Failure::Other(causes) => write!(f, "network error: {causes}"),
        }
    }
}

/// Where a [`Transport`] leaves the reason of its last failure; the export thread takes it.
#[derive(Clone, Debug, Default)]
pub(crate) struct LastFailure(Arc<Mutex<Option<Failure>>>);

impl LastFailure {
    /// The reason of the last failure since the last call, if any.
    pub(crate) fn take(&self) -> Option<Failure> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn set(&self, failure: Failure) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(failure);
    }
}

/// reqwest's blocking client, recording why requests fail.
#[derive(Debug)]
pub(crate) struct Transport {
    client: reqwest::blocking::Client,
    timeout: Duration,
    last: LastFailure,
}

impl Transport {
    /// A client whose requests give up after `timeout`. Must not be called on an async
    /// runtime's thread (reqwest's blocking client starts its own).
    pub(crate) fn new(timeout: Duration, last: LastFailure) -> Result<Self, reqwest::Error> {
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()?;
        Ok(Transport {
            client,
            timeout,
            last,
        })
    }
}

#[async_trait::async_trait]
impl HttpClient for Transport {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let result = self.client.send_bytes(request).await;
        if let Err(e) = &result {
            self.last.set(classify(e.as_ref(), self.timeout));
        }
        result
    }
}

/// What went wrong, from the error and its causes.
fn classify(e: &(dyn std::error::Error + 'static), timeout: Duration) -> Failure {
    let mut timed_out = false;
    let mut refused = false;
    let mut causes = String::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(r) = c.downcast_ref::<reqwest::Error>() {
            timed_out |= r.is_timeout();
        }
        if let Some(io) = c.downcast_ref::<io::Error>() {
            timed_out |= io.kind() == io::ErrorKind::TimedOut;
            refused |= io.kind() == io::ErrorKind::ConnectionRefused;
        }
        if !causes.is_empty() {
            causes.push_str(": ");
        }
        causes.push_str(&c.to_string());
        cause = c.source();
    }
    if timed_out {
        Failure::Timeout(timeout)
    } else if refused {
        Failure::Refused
    } else {
        Failure::Other(causes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(io::Error);

    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn causes_decide_the_kind() {
        let t = Duration::from_secs(3);
        let refused = Wrapped(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(classify(&refused, t), Failure::Refused);
        let timed_out = Wrapped(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(classify(&timed_out, t), Failure::Timeout(t));
        let reset = Wrapped(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "reset by peer",
        ));
        assert_eq!(
            classify(&reset, t),
            Failure::Other("client error (Connect): reset by peer".into())
        );
        assert!(Failure::Timeout(t).to_string().contains("timed out"));
        assert!(Failure::Refused.to_string().contains("refused"));
    }
}
