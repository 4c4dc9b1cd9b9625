//! The request URL as a server task records it: the query with sensitive values redacted
//! (`url.query`), and the host and port it was sent to (`server.address`, `server.port`).

use std::borrow::Cow;

use crate::Redactor;

/// What the value of a sensitive query parameter is replaced with in `url.query` and
/// `url.full` (OpenTelemetry's placeholder; it needs no escaping in a URL).
pub const REDACTED_QUERY_VALUE: &str = "REDACTED";

/// Query keys that carry signatures in pre-signed URLs (S3, GCS, Azure), redacted whatever the
/// redactor says: the list of OpenTelemetry's HTTP conventions.
pub const SIGNATURE_KEYS: &[&str] = &["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// A query string (without the `?`) as taskwire's HTTP integrations record it in `url.query`
/// and `url.full`: the value of every parameter whose key is sensitive — to `redactor`, the
/// same rules as every other field, or a [`SIGNATURE_KEYS`] entry — replaced with
/// [`REDACTED_QUERY_VALUE`]. Keys are compared percent-decoded (`api%5Fkey` is `api_key`);
/// keys and the other values stay as sent. Borrows when nothing is redacted.
///
/// ```
/// use taskwire_core::http::redact_query;
/// use taskwire_core::Redactor;
/// let r = Redactor::default();
/// assert_eq!(redact_query("q=shoes&api_key=abc&sig=x", &r), "q=shoes&api_key=REDACTED&sig=REDACTED");
/// assert_eq!(redact_query("page=2", &r), "page=2");
/// ```
pub fn redact_query<'a>(query: &'a str, redactor: &Redactor) -> Cow<'a, str> {
    let is_sensitive = |pair: &str| {
        pair.split_once('=')
            .is_some_and(|(key, _)| sensitive_key(key, redactor))
    };
    if !query.split('&').any(is_sensitive) {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, _)) if sensitive_key(key, redactor) => {
                out.push_str(key);
                out.push('=');
                out.push_str(REDACTED_QUERY_VALUE);
            }
            _ => out.push_str(pair),
        }
    }
    Cow::Owned(out)
}

fn sensitive_key(raw_key: &str, redactor: &Redactor) -> bool {
    let decoded;
    let key = if raw_key.contains(['%', '+']) {
        decoded = percent_decode(raw_key);
        decoded.as_str()
    } else {
        raw_key
    };
    SIGNATURE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) || redactor.is_sensitive(key)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; anything
/// malformed is kept as is; invalid UTF-8 is replaced.
///
/// ```
/// use taskwire_core::http::percent_decode;
/// assert_eq!(percent_decode("a%20b+c%zz%E2%80%A8"), "a b c%zz\u{2028}");
/// ```
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The host and port a request was sent to, from its `Host` header (or the URI's authority,
/// which HTTP/2 requests carry as `:authority`): `server.address` and `server.port` of a
/// server span. The port is the one written, else the scheme's default (80, 443). `None`
/// when the value is not a plausible `host[:port]`: it is the client's to choose.
///
/// ```
/// use taskwire_core::http::host_and_port;
/// assert_eq!(host_and_port("shop.example:8080", "http"), Some(("shop.example", 8080)));
/// assert_eq!(host_and_port("shop.example", "https"), Some(("shop.example", 443)));
/// assert_eq!(host_and_port("[::1]:3000", "http"), Some(("[::1]", 3000)));
/// assert_eq!(host_and_port("bad host\n", "http"), None);
/// ```
pub fn host_and_port<'a>(authority: &'a str, scheme: &str) -> Option<(&'a str, u16)> {
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 literal without a port ends with `]`.
        Some((host, port)) if !port.contains(']') => (host, Some(port.parse::<u16>().ok()?)),
        _ => (authority, None),
    };
    let plausible = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._[]:".contains(&c));
    if !plausible {
        return None;
    }
    let port = match port {
        Some(p) => p,
        None if scheme.eq_ignore_ascii_case("https") => 443,
        None => 80,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn query_keys_are_compared_decoded() {
        let r = Redactor::default();
        assert_eq!(redact_query("api%5Fkey=abc", &r), "api%5Fkey=REDACTED");
        assert_eq!(redact_query("flag&&x=", &r), "flag&&x=");
        assert_eq!(redact_query("x=%", &r), "x=%");
        assert_eq!(redact_query("%=1&%4=2&%zz=3", &r), "%=1&%4=2&%zz=3");
        assert!(matches!(redact_query("a=1", &r), Cow::Borrowed(_)));
    }

    #[test]
    fn hosts_and_ports() {
        assert_eq!(host_and_port("a.example:0", "http"), Some(("a.example", 0)));
        assert_eq!(host_and_port("a.example:99999", "http"), None);
        assert_eq!(host_and_port("[::1]", "https"), Some(("[::1]", 443)));
        assert_eq!(host_and_port("", "http"), None);
        assert_eq!(host_and_port(":80", "http"), None);
        assert_eq!(host_and_port("<script>", "http"), None);
    }

    proptest! {
        /// Whatever the query, redaction never panics, never leaks a sensitive value, and keeps
        /// every other byte.
        #[test]
        fn query_redaction_never_leaks_and_never_panics(
            pairs in proptest::collection::vec(("[a-zA-Z_%0-9+]{0,10}", "[a-zA-Z0-9%+=]{0,10}"), 0..6),
            raw in "\\PC{0,40}",
            secret in "[A-Z]{12}",
        ) {
            let mut q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            q.push(format!("access_token={secret}"));
            q.push(format!("Signature={secret}"));
            let query = q.join("&");
            let out = redact_query(&query, &Redactor::default());
            prop_assert!(!out.contains(&secret), "{out}");
            prop_assert_eq!(out.split('&').count(), query.split('&').count());
            let _ = redact_query(&raw, &Redactor::default());
        }

        /// Whatever the authority, parsing it never panics, and what it accepts is a host of
        /// plausible characters.
        #[test]
        fn host_and_port_never_panics(raw in "\\PC{0,40}", bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Some((host, _)) = host_and_port(&raw, "http") {
                prop_assert!(!host.is_empty() && host.bytes().all(|c| c.is_ascii_graphic()));
            }
            let _ = host_and_port(&String::from_utf8_lossy(&bytes), "https");
        }
    }
}
