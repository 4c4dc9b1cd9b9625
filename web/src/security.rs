//! The security model of the UI, in one place: who may open a page (the access token), which
//! requests may change a ticket (the CSRF token and the Origin check), the headers every
//! response carries, and which URLs from the data may become links.
//!
//! | threat | answer |
//! |---|---|
//! | another host reaching the port | a non-loopback bind needs a token ([`check_bind`]); every request then shows it: the session cookie the `?token=` login link sets, or `Authorization: Bearer` |
//! | guessing the token by timing | compared in constant time ([`subtle`]); never logged, never echoed, never put in a cookie (the cookie holds a per-process session value) |
//! | a page elsewhere posting a form here (CSRF) | state changes are POST only, each with the per-process CSRF token ([`Secrets::csrf_ok`]), and a foreign `Origin` or `Sec-Fetch-Site: cross-site` is refused; cookies are `SameSite=Strict` |
//! | script in ticket titles, fields, values (XSS) | every value goes through maud's escaping; [`HEADERS`]'s Content-Security-Policy allows scripts from this origin only, no inline script or style |
//! | `javascript:` and other schemes in data | only `http:` and `https:` URLs become links ([`safe_href`]) |
//! | framing (clickjacking) | `frame-ancestors 'none'` and `X-Frame-Options: DENY` |

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::server::AppState;

/// The session cookie a successful `?token=` login sets.
pub(crate) const SESSION_COOKIE: &str = "taskwire_session";

/// The headers every response carries.
pub(crate) const HEADERS: [(HeaderName, &str); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // `same-origin`, not `no-referrer`: with `no-referrer` a browser sends `Origin: null` on
    // this origin's own form posts, which the CSRF check refuses.
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CACHE_CONTROL, "no-store"),
];

/// Why `taskwire serve` refuses an address.
#[derive(Debug)]
pub struct BindError {
    addr: SocketAddr,
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refusing to serve on {} without an access token: that address is reachable from \
             other hosts, and the UI shows error data and can delete tickets. Pass --token \
             (or set TASKWIRE_TOKEN), or bind a loopback address such as 127.0.0.1",
            self.addr
        )
    }
}

impl std::error::Error for BindError {}

/// Whether the UI may listen on `addr`: a loopback address always, any other only with an
/// access token.
///
/// ```
/// let loopback = "127.0.0.1:7878".parse().unwrap();
/// let any = "0.0.0.0:7878".parse().unwrap();
/// assert!(taskwire_web::check_bind(loopback, false).is_ok());
/// assert!(taskwire_web::check_bind(any, false).is_err());
/// assert!(taskwire_web::check_bind(any, true).is_ok());
/// ```
pub fn check_bind(addr: SocketAddr, has_token: bool) -> Result<(), BindError> {
    let loopback = match addr.ip() {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    if loopback || has_token {
        Ok(())
    } else {
        Err(BindError { addr })
    }
}

/// The process's secrets: the access token (if any), the session value its login cookie
/// holds, and the CSRF token its forms carry. The random ones are new in each process.
pub(crate) struct Secrets {
    token: Option<String>,
    session: String,
    csrf: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// 32 random bytes as hex.
fn random_hex() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Secrets {
    pub(crate) fn new(token: Option<String>) -> Result<Secrets, getrandom::Error> {
        Ok(Secrets {
            token: token.filter(|t| !t.is_empty()),
            session: random_hex()?,
            csrf: random_hex()?,
        })
    }

    /// The CSRF token forms carry.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Whether a state-changing request may proceed: its form's `csrf` field is this
    /// process's token, and the browser does not say it comes from another site.
    pub(crate) fn csrf_ok(&self, headers: &HeaderMap, csrf: &str) -> bool {
        same(csrf, &self.csrf) && same_origin(headers)
    }

    /// Whether the request shows the access token (or no token is needed).
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let bearer = headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.strip_prefix("Bearer "))
            .any(|t| same(t.trim(), token));
        bearer
            || cookies(headers)
                .filter(|(k, _)| *k == SESSION_COOKIE)
                .any(|(_, v)| same(v, &self.session))
    }
}

/// The `name=value` pairs of the request's `Cookie` headers.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
}

/// `false` when the browser says the request comes from another origin: an `Origin` that is
/// not this host, or `Sec-Fetch-Site: cross-site`/`same-site`.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (
        origin.to_str(),
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|o| o == host)
}

/// `url` when it may be a link: an absolute `http:` or `https:` URL without control
/// characters or whitespace. Everything else (`javascript:`, `data:`, relative paths) is
/// shown as text.
///
/// ```
/// use taskwire_web::safe_href;
/// assert_eq!(safe_href("https://example.com/a?b=1"), Some("https://example.com/a?b=1"));
/// assert_eq!(safe_href("javascript:alert(1)"), None);
/// assert_eq!(safe_href(" JavaScript:alert(1)"), None);
/// assert_eq!(safe_href("//evil.example"), None);
/// ```
pub fn safe_href(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
    let clean = !url.chars().any(|c| c.is_control() || c.is_whitespace());
    (scheme_ok && clean && url.len() <= 2048).then_some(url)
}

/// Middleware: the security headers on every response, the access check on every request,
/// the `?token=` login, and the `Server-Timing` header with the handler's time.
pub(crate) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let secrets = &state.secrets;
    let mut res = if let Some(login) = login_token(&req) {
        match &secrets.token {
            Some(token) if same(&login, token) => {
                let to = strip_token(req.uri());
                let cookie = format!(
                    "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
                    secrets.session
                );
                let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    r.headers_mut().insert(header::SET_COOKIE, v);
                }
                r
            }
            Some(_) => unauthorized(),
            None => {
                let to = strip_token(req.uri());
                (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
            }
        }
    } else if secrets.authorized(req.headers()) {
        let method = req.method().clone();
        let mut r = next.run(req).await;
        if method == Method::GET || method == Method::HEAD {
            let dur = started.elapsed().as_secs_f64() * 1000.0;
            if let Ok(v) = HeaderValue::from_str(&format!("app;dur={dur:.3}")) {
                r.headers_mut()
                    .insert(HeaderName::from_static("server-timing"), v);
            }
        }
        r
    } else {
        unauthorized()
    };
    let h = res.headers_mut();
    for (name, value) in HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// The `token` query parameter, if the request has one.
fn login_token(req: &Request) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "token").then(|| taskwire_core::http::percent_decode(v))
    })
}

/// The request's path and query without the `token` parameter: where a login redirects.
fn strip_token(uri: &axum::http::Uri) -> String {
    let mut to = uri.path().to_owned();
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("token="))
        .collect();
    if !rest.is_empty() {
        to.push('?');
        to.push_str(&rest.join("&"));
    }
    // A path that starts `//` would be another host.
    if !to.starts_with('/') || to.starts_with("//") {
        to = "/".into();
    }
    to
}

fn unauthorized() -> Response {
    let page = crate::pages::bare(
        "Access token needed",
        "This taskwire UI needs its access token. Open the link taskwire serve printed, with \
         ?token= and the token appended, or send Authorization: Bearer with the token.",
    );
    (StatusCode::UNAUTHORIZED, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_binds_need_no_token_and_others_do() {
        for a in [
            "127.0.0.1:1",
            "127.1.2.3:1",
            "[::1]:1",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert!(check_bind(a.parse().unwrap(), false).is_ok(), "{a}");
        }
        for a in ["0.0.0.0:1", "10.0.0.1:1", "[::]:1", "192.168.1.2:1"] {
            let e = check_bind(a.parse().unwrap(), false).unwrap_err();
            assert!(e.to_string().contains("--token"), "{e}");
            assert!(check_bind(a.parse().unwrap(), true).is_ok(), "{a}");
        }
    }

    #[test]
    fn a_foreign_origin_or_cross_site_fetch_is_refused() {
        let s = Secrets::new(None).unwrap();
        let ok = s.csrf.clone();
        assert!(s.csrf_ok(&headers(&[("host", "127.0.0.1:5")]), &ok));
        assert!(s.csrf_ok(
            &headers(&[("host", "127.0.0.1:5"), ("origin", "http://127.0.0.1:5")]),
            &ok
        ));
        assert!(!s.csrf_ok(
            &headers(&[("host", "127.0.0.1:5"), ("origin", "http://evil.example")]),
            &ok
        ));
        assert!(!s.csrf_ok(
            &headers(&[("host", "127.0.0.1:5"), ("origin", "null")]),
            &ok
        ));
        assert!(!s.csrf_ok(
            &headers(&[("host", "127.0.0.1:5"), ("sec-fetch-site", "cross-site")]),
            &ok
        ));
        assert!(!s.csrf_ok(&headers(&[("host", "127.0.0.1:5")]), "0"));
        assert!(!s.csrf_ok(&headers(&[("host", "127.0.0.1:5")]), ""));
    }

    #[test]
    fn the_token_is_accepted_as_bearer_or_session_cookie_only() {
        let s = Secrets::new(Some("s3cret".into())).unwrap();
        assert!(s.authorized(&headers(&[("authorization", "Bearer s3cret")])));
        assert!(!s.authorized(&headers(&[("authorization", "Bearer s3cre")])));
        let cookie = format!("a=b; {SESSION_COOKIE}={}", s.session);
        assert!(s.authorized(&headers(&[("cookie", &cookie)])));
        // The token itself is not a session.
        let token_cookie = format!("{SESSION_COOKIE}=s3cret");
        assert!(!s.authorized(&headers(&[("cookie", &token_cookie)])));
        assert!(!s.authorized(&HeaderMap::new()));
        assert!(Secrets::new(None).unwrap().authorized(&HeaderMap::new()));
    }

    #[test]
    fn a_login_redirect_stays_on_this_host() {
        let u = |s: &str| strip_token(&s.parse().unwrap());
        assert_eq!(u("/tickets?token=x&status=open"), "/tickets?status=open");
        assert_eq!(u("/?token=x"), "/");
        assert_eq!(u("//evil.example/?token=x"), "/");
    }
}
