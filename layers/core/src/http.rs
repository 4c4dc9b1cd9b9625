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
