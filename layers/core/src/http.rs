//! HTTP conventions shared by taskwire's HTTP integrations (tower, actix-web, reqwest), free of
//! any HTTP crate's types: they take names and bytes.

/// Longest incoming `x-request-id` that is reused.
pub const MAX_REQUEST_ID: usize = 128;

/// Whether an incoming request id may be reused: 1 to 128 bytes of visible ASCII (`!` to `~`),
/// nothing that could split a log line, smuggle a header or blow up an index.
///
/// ```
/// use taskwire_core::http::valid_request_id;
/// assert!(valid_request_id(b"req-0042.A~b"));
/// assert!(!valid_request_id(b""));
/// assert!(!valid_request_id(b"has space"));
/// assert!(!valid_request_id(&[b'a'; 129]));
/// ```
pub fn valid_request_id(v: &[u8]) -> bool {
    !v.is_empty() && v.len() <= MAX_REQUEST_ID && v.iter().all(|c| (0x21..=0x7e).contains(c))
}

/// The method's name when it is one of the nine of RFC 9110 and RFC 5789; callers record others
/// as `_OTHER` (OpenTelemetry's HTTP conventions), so a client cannot mint task names.
///
/// ```
/// use taskwire_core::http::known_method;
/// assert_eq!(known_method("PATCH"), Some("PATCH"));
/// assert_eq!(known_method("BREW"), None);
/// ```
pub fn known_method(method: &str) -> Option<&'static str> {
    Some(match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "CONNECT" => "CONNECT",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "PATCH" => "PATCH",
        _ => return None,
    })
}

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

/// The name of a server request task, one rule for every taskwire server middleware:
/// `"{method} {route}"` when the request matched a route template, and the method alone when
/// it matched none (OpenTelemetry's HTTP span name). The method is one of the nine of
/// [`known_method`], or `HTTP` for any other, so requests that match no route make at most ten
/// names however many paths a scanner tries: names stay fit for metrics labels and grouping.
/// The raw path is never part of the name; middlewares record it as the field `url.path`,
/// which a `Redactor` key can hide like any other field.
///
/// Formatted only when displayed: building one allocates nothing.
///
/// ```
/// use taskwire_core::http::ServerTaskName;
/// assert_eq!(ServerTaskName::new("GET", Some("/users/{id}")).to_string(), "GET /users/{id}");
/// assert_eq!(ServerTaskName::new("GET", None).to_string(), "GET");
/// assert_eq!(ServerTaskName::new("BREW", Some("/pot")).to_string(), "HTTP /pot");
/// assert_eq!(ServerTaskName::new("BREW", None).to_string(), "HTTP");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerTaskName<'a> {
    method: &'static str,
    route: Option<&'a str>,
}

impl<'a> ServerTaskName<'a> {
    /// The name of a request with this method (as sent) and route template (`None` when no
    /// route matched).
    pub fn new(method: &str, route: Option<&'a str>) -> Self {
        ServerTaskName {
            // OpenTelemetry names a span with a method it does not know `HTTP`.
            method: known_method(method).unwrap_or("HTTP"),
            route,
        }
    }

    /// The route template, when one matched.
    pub fn route(&self) -> Option<&'a str> {
        self.route
    }
}

impl std::fmt::Display for ServerTaskName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.method)?;
        if let Some(route) = self.route {
            f.write_str(" ")?;
            f.write_str(route)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the method and path a client sends, a request without a route is named
        /// by one of ten names.
        #[test]
        fn unmatched_requests_have_at_most_ten_names(method in "[A-Z]{0,10}|\\PC{0,10}") {
            let name = ServerTaskName::new(&method, None).to_string();
            let known = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "HTTP"];
            prop_assert!(known.contains(&name.as_str()), "{name}");
        }

        #[test]
        fn matched_requests_are_named_after_their_template(route in "/\\PC{0,20}") {
            let name = ServerTaskName::new("POST", Some(&route)).to_string();
            prop_assert_eq!(name, format!("POST {route}"));
        }
    }
}
