//! Moving propagation headers between actix's header map and taskwire's codec.

use actix_web::http::header::{HeaderMap, HeaderValue};
use taskwire_core::propagation::Extractor;

/// Stands in for a header value that is not visible ASCII: it fails every `traceparent` and
/// `tracestate` check, so such a header is refused (and counted) instead of skipped.
const NOT_ASCII: &str = "\u{fffd}";

/// Reads `traceparent` and `tracestate` from an actix-web [`HeaderMap`], for
/// [`taskwire_core::propagation::extract`].
///
/// Every value of a repeated header is passed on in order, so two `traceparent` headers are
/// refused and the request starts a new root. A value that is not visible ASCII (obs-text, raw
/// bytes) is passed on as an invalid value rather than dropped, so it is refused as well.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
/// use taskwire_actix::HeaderExtractor;
/// use taskwire_core::propagation::extract;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(
///     HeaderName::from_static("traceparent"),
///     HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
/// );
/// let extracted = extract(&HeaderExtractor::new(&headers));
/// assert_eq!(
///     extracted.parent.unwrap().trace_id.to_string(),
///     "4bf92f3577b34da6a3ce929d0e0e4736"
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HeaderExtractor<'a>(&'a HeaderMap);

impl<'a> HeaderExtractor<'a> {
    /// An extractor over `headers`.
    pub fn new(headers: &'a HeaderMap) -> Self {
        HeaderExtractor(headers)
    }
}

impl Extractor for HeaderExtractor<'_> {
    fn for_each(&self, key: &str, f: &mut dyn FnMut(&str)) {
        for value in self.0.get_all(key) {
            f(value.to_str().unwrap_or(NOT_ASCII));
        }
    }
}

/// The W3C Level 2 `traceresponse` value for a task: `00-{trace_id}-{span_id}-{flags}`.
pub(crate) fn traceresponse(tp: &taskwire_core::propagation::TraceParent) -> Option<HeaderValue> {
    HeaderValue::from_bytes(&tp.to_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;
    use taskwire_core::propagation::extract;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn map(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_static(k),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn one_valid_traceparent_is_read_with_its_tracestate() {
        let h = map(&[
            ("traceparent", TP.as_bytes()),
            ("tracestate", b"a=1"),
            ("tracestate", b"b=2"),
        ]);
        let e = extract(&HeaderExtractor::new(&h));
        assert_eq!(e.parent.unwrap().to_string(), TP);
        assert_eq!(e.state.as_str(), "a=1,b=2");
    }

    #[test]
    fn two_traceparents_are_refused() {
        let h = map(&[
            ("traceparent", TP.as_bytes()),
            ("traceparent", TP.as_bytes()),
        ]);
        assert_eq!(extract(&HeaderExtractor::new(&h)).parent, None);
    }

    #[test]
    fn non_ascii_values_are_refused_not_skipped() {
        let h = map(&[("traceparent", TP.as_bytes()), ("traceparent", b"\xff")]);
        assert_eq!(extract(&HeaderExtractor::new(&h)).parent, None);
        let h = map(&[
            ("traceparent", TP.as_bytes()),
            ("tracestate", b"a=1"),
            ("tracestate", b"b=\xe9"),
        ]);
        let e = extract(&HeaderExtractor::new(&h));
        assert!(e.parent.is_some());
        assert!(e.state.is_empty());
    }
}
