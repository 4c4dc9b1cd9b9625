//! Writing propagation headers into reqwest's header map.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use taskwire_core::propagation::Injector;

/// Writes `traceparent` and `tracestate` into a reqwest (`http`) [`HeaderMap`], for
/// [`taskwire_core::propagation::inject`].
///
/// Each key replaces earlier values of that header. A key or value that is not a valid header
/// is skipped, never a panic (taskwire's codec only produces valid ones).
///
/// ```
/// use reqwest::header::HeaderMap;
/// use taskwire_core::propagation::{inject, TraceParent, TraceState};
/// use taskwire_reqwest::HeaderInjector;
///
/// let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
/// let mut headers = HeaderMap::new();
/// inject(&mut HeaderInjector::new(&mut headers), &tp, &TraceState::default());
/// assert_eq!(headers["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// ```
#[derive(Debug)]
pub struct HeaderInjector<'a>(&'a mut HeaderMap);

impl<'a> HeaderInjector<'a> {
    /// An injector into `headers`.
    pub fn new(headers: &'a mut HeaderMap) -> Self {
        HeaderInjector(headers)
    }
}

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: &str) {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            return;
        };
        self.0.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_skips_invalid() {
        let mut h = HeaderMap::new();
        h.append("traceparent", HeaderValue::from_static("old-1"));
        h.append("traceparent", HeaderValue::from_static("old-2"));
        let mut inj = HeaderInjector::new(&mut h);
        inj.set("traceparent", "new");
        inj.set("bad name", "x");
        inj.set("tracestate", "a=1\r\nx: y");
        assert_eq!(h.get_all("traceparent").iter().count(), 1);
        assert_eq!(h["traceparent"], "new");
        assert!(h.get("tracestate").is_none());
        assert_eq!(h.len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(key in ".{0,40}", value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
            let value = String::from_utf8_lossy(&value).into_owned();
            let mut h = HeaderMap::new();
            HeaderInjector::new(&mut h).set(&key, &value);
            let valid = HeaderName::from_bytes(key.as_bytes()).is_ok()
                && HeaderValue::from_str(&value).is_ok();
            proptest::prop_assert_eq!(h.len(), usize::from(valid));
        }
    }
}
