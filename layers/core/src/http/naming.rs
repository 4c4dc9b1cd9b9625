//! What a server request task is called: its `task.name` ([`ServerTaskName`]) and its
//! `http.request.method` ([`request_method`]).

use std::fmt;

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

/// The fields `http.request.method` and `http.request.method_original` of a request sent with
/// `method`: a known method (see [`known_method`]) as itself and no original; any other as
/// `_OTHER`, with the method as sent as the original (OpenTelemetry's HTTP conventions).
///
/// ```
/// use taskwire_core::http::request_method;
/// assert_eq!(request_method("GET"), ("GET", None));
/// assert_eq!(request_method("BREW"), ("_OTHER", Some("BREW")));
/// ```
pub fn request_method(method: &str) -> (&'static str, Option<&str>) {
    match known_method(method) {
        Some(known) => (known, None),
        None => ("_OTHER", Some(method)),
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

impl fmt::Display for ServerTaskName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method)?;
        if let Some(route) = self.route {
            f.write_str(" ")?;
            f.write_str(route)?;
        }
        Ok(())
    }
}

/// The value of `network.protocol.version` for a request of HTTP version `version`: `"0.9"`,
/// `"1.0"`, `"1.1"`, `"2"` or `"3"`, or `None` for another version.
///
/// Core knows no HTTP crate's version type, so the caller passes its own five values for
/// HTTP/0.9, 1.0, 1.1, 2 and 3, in that order, as `known`:
/// [`http_versions!`](crate::http_versions) lists them for a type with the `http` crate's
/// constant names.
///
/// ```
/// use taskwire_core::http::protocol_version;
/// #[derive(PartialEq)]
/// enum V { H09, H10, H11, H2, H3, H4 }
/// const KNOWN: [V; 5] = [V::H09, V::H10, V::H11, V::H2, V::H3];
/// assert_eq!(protocol_version(&V::H11, &KNOWN), Some("1.1"));
/// assert_eq!(protocol_version(&V::H2, &KNOWN), Some("2"));
/// assert_eq!(protocol_version(&V::H4, &KNOWN), None);
/// ```
pub fn protocol_version<V: PartialEq>(version: &V, known: &[V; 5]) -> Option<&'static str> {
    const NAMES: [&str; 5] = ["0.9", "1.0", "1.1", "2", "3"];
    known.iter().position(|v| v == version).map(|i| NAMES[i])
}

/// The five values [`protocol_version`] takes as `known`, for an HTTP version type with the
/// `http` crate's constant names (`http::Version`, actix-web's `Version`):
/// `http_versions!(Version)` is `[Version::HTTP_09, Version::HTTP_10, Version::HTTP_11,
/// Version::HTTP_2, Version::HTTP_3]`.
///
/// ```
/// use taskwire_core::http::protocol_version;
/// #[allow(non_camel_case_types)]
/// #[derive(PartialEq)]
/// enum Version { HTTP_09, HTTP_10, HTTP_11, HTTP_2, HTTP_3 }
/// const KNOWN: [Version; 5] = taskwire_core::http_versions!(Version);
/// assert_eq!(protocol_version(&Version::HTTP_10, &KNOWN), Some("1.0"));
/// assert_eq!(protocol_version(&Version::HTTP_3, &KNOWN), Some("3"));
/// ```
#[macro_export]
macro_rules! http_versions {
    ($version:ident) => {
        [
            $version::HTTP_09,
            $version::HTTP_10,
            $version::HTTP_11,
            $version::HTTP_2,
            $version::HTTP_3,
        ]
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KNOWN: [&str; 10] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "HTTP",
    ];

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(known_method("get"), None);
        assert_eq!(request_method("get"), ("_OTHER", Some("get")));
        assert_eq!(ServerTaskName::new("get", None).to_string(), "HTTP");
    }

    proptest! {
        /// Whatever the method and path a client sends, a request without a route is named
        /// by one of ten names.
        #[test]
        fn unmatched_requests_have_at_most_ten_names(method in "[A-Z]{0,10}|\\PC{0,10}") {
            let name = ServerTaskName::new(&method, None).to_string();
            prop_assert!(KNOWN.contains(&name.as_str()), "{name}");
        }

        /// `http.request.method` is one of ten values, and the original is kept exactly when
        /// it is `_OTHER`.
        #[test]
        fn request_method_is_known_or_other(method in "[A-Z]{0,10}|\\PC{0,10}") {
            let (recorded, original) = request_method(&method);
            prop_assert!(KNOWN[..9].contains(&recorded) || recorded == "_OTHER");
            prop_assert_eq!(original.is_some(), recorded == "_OTHER");
            if let Some(original) = original {
                prop_assert_eq!(original, method.as_str());
            }
        }

        #[test]
        fn matched_requests_are_named_after_their_template(route in "/\\PC{0,20}") {
            let name = ServerTaskName::new("POST", Some(&route)).to_string();
            prop_assert_eq!(name, format!("POST {route}"));
        }
    }
}
