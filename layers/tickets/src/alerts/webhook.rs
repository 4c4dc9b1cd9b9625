//! The webhook sink (feature `webhook`): a URL checked when configured, posted to with
//! reqwest's blocking client on the delivery thread.
//!
//! reqwest is the workspace's HTTP client already (the OTLP exporter of taskwire-otel uses
//! its blocking client), so the feature adds no crate to a build that exports OTLP; its
//! blocking client runs its own small runtime, which suits a background thread that does
//! nothing else. TLS is not compiled in by this crate: an `https` URL needs a TLS backend
//! of reqwest enabled in the application (`reqwest = { features = ["rustls"] }`), which cargo
//! unifies with this one.

use std::fmt;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::Url;

use super::Attempt;
use super::{Alert, AlertsError};

/// The body a webhook receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// [`Alert::to_json`].
    Json,
    /// [`Alert::to_slack_json`].
    Slack,
}

/// One webhook: where, and in which form.
#[derive(Clone, Debug)]
pub(crate) struct Webhook {
    url: Url,
    pub(crate) format: Format,
}

impl fmt::Display for Webhook {
    /// The URL without its path, query and credentials (a Slack URL's path is its secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.url.host_str().unwrap_or("");
        match self.url.port() {
            Some(p) => write!(f, "{}://{host}:{p}/…", self.url.scheme()),
            None => write!(f, "{}://{host}/…", self.url.scheme()),
        }
    }
}

impl Webhook {
    /// Checks `url`: absolute, `http` or `https`, with a host.
    pub(crate) fn parse(url: &str) -> Result<Webhook, AlertsError> {
        let parsed = Url::parse(url)
            .map_err(|e| AlertsError::new(format!("webhook URL `{url}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AlertsError::new(format!(
                "webhook URL `{url}`: the scheme must be http or https, not {}",
                parsed.scheme()
            )));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(AlertsError::new(format!("webhook URL `{url}` has no host")));
        }
        Ok(Webhook {
            url: parsed,
            format: Format::Json,
        })
    }

    /// One POST of `alert`.
    pub(crate) fn post(&self, client: &Client, alert: &Alert) -> Attempt {
        let body = match self.format {
            Format::Json => alert.to_json(),
            Format::Slack => alert.to_slack_json(),
        };
        let sent = client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send();
        match sent {
            Ok(r) if r.status().is_success() => Attempt::Done,
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                Attempt::Retry(format!("HTTP {}", r.status()))
            }
            Ok(r) => Attempt::Fail(format!("HTTP {}", r.status())),
            Err(e) => Attempt::Retry(without_url(e)),
        }
    }
}

/// The error's text without the URL reqwest puts in it (it may hold a secret).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// The delivery thread's client: made and dropped on that thread (reqwest's blocking client
/// must not be dropped inside an async runtime).
pub(crate) fn client(timeout: Duration) -> Result<Client, String> {
    Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot make the HTTP client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_accepted() {
        assert!(Webhook::parse("http://127.0.0.1:9/hook").is_ok());
        assert!(Webhook::parse("https://hooks.slack.com/services/T/B/X").is_ok());
        for bad in [
            "ftp://h/x",
            "file:///etc/passwd",
            "hooks.slack.com/x",
            "",
            "http://",
        ] {
            assert!(Webhook::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_shown_url_hides_the_path() {
        let w = Webhook::parse("https://hooks.slack.com/services/T/B/SECRET").unwrap();
        assert_eq!(w.to_string(), "https://hooks.slack.com/…");
    }
}
