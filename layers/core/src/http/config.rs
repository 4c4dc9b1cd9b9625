//! [`ServerConfig`]: the options every taskwire server middleware takes, with one set of names
//! and defaults; and [`SkipPaths`].

use std::borrow::Cow;

use super::{ClientAddress, X_REQUEST_ID};
use crate::Redactor;

/// Request paths a server middleware passes through untouched (exact matches of the request
/// path, like `/health`): no task, no headers.
///
/// ```
/// use taskwire_core::http::SkipPaths;
/// let mut skip = SkipPaths::default();
/// skip.add(["/health"]);
/// skip.add(["/metrics"]);
/// assert!(skip.contains("/health") && skip.contains("/metrics"));
/// assert!(!skip.contains("/health/deep"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SkipPaths(Box<[Box<str>]>);

impl SkipPaths {
    /// Adds `paths` to the ones given before.
    pub fn add<I, P>(&mut self, paths: I)
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let mut all = std::mem::take(&mut self.0).into_vec();
        all.extend(paths.into_iter().map(|p| p.into().into_boxed_str()));
        self.0 = all.into_boxed_slice();
    }

    /// Whether requests for `path` pass through untouched.
    pub fn contains(&self, path: &str) -> bool {
        self.0.iter().any(|p| **p == *path)
    }
}

/// The options of a taskwire server middleware (taskwire-tower's `TaskLayer`, taskwire-actix's
/// `RequestTasks`), which offer each of them as a setter of the same name and default. The
/// table is in the [module docs](super#options).
///
/// ```
/// use taskwire_core::http::{ClientAddress, ServerConfig};
///
/// let config = ServerConfig::default()
///     .with_skip_paths(["/health"])
///     .with_client_address(ClientAddress::Peer)
///     .with_request_id_header_name("x-correlation-id");
/// assert!(config.skips("/health"));
/// assert!(config.traceresponse() && config.request_id_header());
/// assert_eq!(config.request_id_header_name(), "x-correlation-id");
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    traceresponse: bool,
    request_id_header: bool,
    request_id_header_name: Cow<'static, str>,
    client_address: ClientAddress,
    skip_paths: SkipPaths,
    redactor: Redactor,
    server_error_tickets: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            traceresponse: true,
            request_id_header: true,
            request_id_header_name: Cow::Borrowed(X_REQUEST_ID),
            client_address: ClientAddress::Off,
            skip_paths: SkipPaths::default(),
            redactor: Redactor::default(),
            server_error_tickets: true,
        }
    }
}

impl ServerConfig {
    /// Whether responses carry a `traceresponse` header (W3C Trace Context Level 2:
    /// `00-{trace id}-{span id of the request task}-{flags}`, so a caller can find the
    /// server's task), unless the handler set one. Default: on.
    #[must_use]
    pub fn with_traceresponse(mut self, enabled: bool) -> Self {
        self.traceresponse = enabled;
        self
    }

    /// Whether responses carry the request id, unless the handler set one. Default: on.
    ///
    /// The request id itself is always chosen: the request's own id when it has exactly one
    /// of 1 to 128 visible ASCII characters, else the task's span id in hex, written into the
    /// request's headers so the handler sees it too. Either way it is recorded as
    /// `http.request_id`.
    #[must_use]
    pub fn with_request_id_header(mut self, enabled: bool) -> Self {
        self.request_id_header = enabled;
        self
    }

    /// The header request ids are read from and written to, lowercase. Default:
    /// [`X_REQUEST_ID`].
    #[must_use]
    pub fn with_request_id_header_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.request_id_header_name = name.into();
        self
    }

    /// Where `client.address` (and `client.port`) come from, if anywhere. Default:
    /// [`ClientAddress::Off`]: an address is personal data in many jurisdictions.
    #[must_use]
    pub fn with_client_address(mut self, source: ClientAddress) -> Self {
        self.client_address = source;
        self
    }

    /// Paths (exact matches of the request path, like `/health`) for which no task is opened:
    /// such requests pass through untouched, without response headers. Adds to the paths
    /// given before. Default: none.
    #[must_use]
    pub fn with_skip_paths<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.skip_paths.add(paths);
        self
    }

    /// Which query parameters have their value replaced with `REDACTED` in `url.query`.
    /// Default: taskwire's default [`Redactor`] (token, api_key, password, secret, auth,
    /// session, …), the rule of every other taskwire output; the signature keys of pre-signed
    /// URLs ([`SIGNATURE_KEYS`](super::SIGNATURE_KEYS)) are always redacted.
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Whether a `5xx` response that nothing inside the request reported becomes an ERROR event
    /// inside the request task, so a ticket grouped by route and status (see
    /// [`server_error`](super::server_error)). Default: on.
    #[must_use]
    pub fn with_server_error_tickets(mut self, enabled: bool) -> Self {
        self.server_error_tickets = enabled;
        self
    }

    /// Whether a `5xx` response becomes an ERROR event.
    pub fn server_error_tickets(&self) -> bool {
        self.server_error_tickets
    }

    /// Whether responses carry a `traceresponse` header.
    pub fn traceresponse(&self) -> bool {
        self.traceresponse
    }

    /// Whether responses carry the request id.
    pub fn request_id_header(&self) -> bool {
        self.request_id_header
    }

    /// The header request ids are read from and written to.
    pub fn request_id_header_name(&self) -> &str {
        &self.request_id_header_name
    }

    /// Where `client.address` comes from.
    pub fn client_address(&self) -> ClientAddress {
        self.client_address
    }

    /// Whether requests for `path` pass through untouched.
    pub fn skips(&self, path: &str) -> bool {
        self.skip_paths.contains(path)
    }

    /// The redactor of `url.query`.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = ServerConfig::default();
        assert!(c.traceresponse());
        assert!(c.request_id_header());
        assert_eq!(c.request_id_header_name(), "x-request-id");
        assert_eq!(c.client_address(), ClientAddress::Off);
        assert!(!c.skips("/"));
        assert!(c.redactor().is_sensitive("api_key"));
        assert!(c.server_error_tickets());
        assert!(!c.with_server_error_tickets(false).server_error_tickets());
    }

    #[test]
    fn skip_paths_add_up() {
        let c = ServerConfig::default()
            .with_skip_paths(["/a"])
            .with_skip_paths(vec![String::from("/b")]);
        assert!(c.skips("/a") && c.skips("/b") && !c.skips("/c"));
    }
}
