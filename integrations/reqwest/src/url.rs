//! `url.full` without secrets.

use reqwest::Url;
use taskwire_core::http::redact_query;
use taskwire_core::Redactor;

/// The URL as recorded in `url.full`: no user name or password, no fragment, and the value of
/// every query parameter whose key is sensitive (per `redactor`, or a signature key) replaced
/// with `REDACTED` ([`redact_query`], the rule of every taskwire HTTP integration). Keys and
/// other values stay as sent.
pub(crate) fn sanitized(url: &Url, redactor: &Redactor) -> String {
    let mut out = String::with_capacity(url.as_str().len());
    out.push_str(url.scheme());
    out.push(':');
    if let Some(host) = url.host_str() {
        out.push_str("//");
        out.push_str(host);
        if let Some(port) = url.port() {
            out.push(':');
            out.push_str(&port.to_string());
        }
    }
    out.push_str(url.path());
    if let Some(query) = url.query() {
        out.push('?');
        out.push_str(&redact_query(query, redactor));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(url: &str) -> String {
        sanitized(&Url::parse(url).unwrap(), &Redactor::default())
    }

    #[test]
    fn drops_userinfo_and_fragment() {
        assert_eq!(
            s("http://alice:hunter2@example.com:8080/a/b?x=1#frag"),
            "http://example.com:8080/a/b?x=1"
        );
        assert_eq!(s("https://example.com/"), "https://example.com/");
        assert_eq!(s("http://[::1]:3000/x"), "http://[::1]:3000/x");
    }

    #[test]
    fn redacts_sensitive_query_values() {
        assert_eq!(
            s("http://h/p?q=shoes&api_key=abc&token=t&Signature=s&sig=z&page=2"),
            "http://h/p?q=shoes&api_key=REDACTED&token=REDACTED&Signature=REDACTED&sig=REDACTED&page=2"
        );
        assert_eq!(
            s("http://h/p?api%5Fkey=abc"),
            "http://h/p?api%5Fkey=REDACTED"
        );
        assert_eq!(s("http://h/p?flag&&x="), "http://h/p?flag&&x=");
    }

    proptest! {
        #[test]
        fn never_panics_and_never_leaks(
            user in "[a-z]{1,8}",
            pass in "[a-z0-9]{1,8}",
            path in "(/[a-zA-Z0-9%._~-]{0,8}){0,4}",
            query in proptest::collection::vec(("[a-zA-Z_%0-9+]{0,10}", "[a-zA-Z0-9%+=]{0,10}"), 0..6),
            secret in "[A-Z]{12}",
        ) {
            let mut q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            q.push(format!("access_token={secret}"));
            let raw = format!("http://{user}:{pass}@example.com{path}?{}", q.join("&"));
            if let Ok(url) = Url::parse(&raw) {
                let out = sanitized(&url, &Redactor::default());
                prop_assert!(!out.contains('@'));
                prop_assert!(!out.contains(&secret));
                prop_assert!(Url::parse(&out).is_ok());
            }
        }
    }
}
