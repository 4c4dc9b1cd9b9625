//! [`Injector`] and [`Extractor`] for [`http::HeaderMap`]: the only place where this crate moves
//! trace context between HTTP headers and taskwire-core's codec.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use taskwire_core::propagation::{Extractor, Injector, TRACEPARENT, TRACESTATE};

/// Stands in for a header value that is not visible ASCII (obs-text, control bytes): no valid
/// `traceparent` or `tracestate` contains it, so the codec refuses (and counts) such a value
/// instead of never seeing it. Skipping it would let `[valid, binary]` duplicates pass as one.
const UNREADABLE: &str = "\u{FFFD}";

/// Reads propagation fields from a request's [`HeaderMap`].
///
/// Every value of a repeated header is handed over, in order, so
/// [`propagation::extract`](taskwire_core::propagation::extract) refuses duplicate
/// `traceparent` headers. A value that is not visible ASCII is handed over as `"\u{FFFD}"`,
/// which the codec refuses.
///
/// ```
/// use http::HeaderMap;
/// use taskwire_core::propagation::extract;
/// use taskwire_tower::HeaderExtractor;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(
///     "traceparent",
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap(),
/// );
/// let extracted = extract(&HeaderExtractor(&headers));
/// assert_eq!(
///     extracted.parent.unwrap().trace_id.to_string(),
///     "4bf92f3577b34da6a3ce929d0e0e4736"
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

/// The propagation header names, made at compile time: looking them up needs no parsing.
const TRACEPARENT_NAME: HeaderName = HeaderName::from_static(TRACEPARENT);
const TRACESTATE_NAME: HeaderName = HeaderName::from_static(TRACESTATE);

impl Extractor for HeaderExtractor<'_> {
    fn for_each(&self, key: &str, f: &mut dyn FnMut(&str)) {
        let values = match key {
            TRACEPARENT => self.0.get_all(TRACEPARENT_NAME),
            TRACESTATE => self.0.get_all(TRACESTATE_NAME),
            _ => self.0.get_all(key),
        };
        for value in values {
            f(value.to_str().unwrap_or(UNREADABLE));
        }
    }
}

/// Writes propagation fields into a request's [`HeaderMap`], replacing earlier values.
///
/// A value that is not a valid header value is not written (it cannot come from the codec,
/// which only renders visible ASCII); nothing here panics.
///
/// ```
/// use http::HeaderMap;
/// use taskwire_core::propagation::{inject, TraceParent, TraceState};
/// use taskwire_tower::HeaderInjector;
///
/// let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
/// let mut headers = HeaderMap::new();
/// inject(&mut HeaderInjector(&mut headers), &tp, &TraceState::default());
/// assert_eq!(headers["traceparent"], tp.to_string());
/// ```
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: &str) {
        let Ok(value) = HeaderValue::from_str(value) else {
            return;
        };
        // The two names we write are static: no allocation for them.
        let name = if key.eq_ignore_ascii_case(TRACEPARENT) {
            HeaderName::from_static(TRACEPARENT)
        } else if key.eq_ignore_ascii_case(TRACESTATE) {
            HeaderName::from_static(TRACESTATE)
        } else {
            match HeaderName::from_bytes(key.as_bytes()) {
                Ok(name) => name,
                Err(_) => return,
            }
        };
        self.0.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskwire_core::propagation::{extract, inject, TraceParent, TraceState};

    const VALID: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn duplicates_and_unreadable_values_restart() {
        let mut h = HeaderMap::new();
        h.append("traceparent", HeaderValue::from_static(VALID));
        assert!(extract(&HeaderExtractor(&h)).parent.is_some());
        h.append(
            "traceparent",
            HeaderValue::from_bytes(b"\xff\xfebinary").unwrap(),
        );
        assert_eq!(extract(&HeaderExtractor(&h)).parent, None);

        let mut h = HeaderMap::new();
        h.insert("traceparent", HeaderValue::from_static(VALID));
        h.append("tracestate", HeaderValue::from_static("a=b"));
        h.append("tracestate", HeaderValue::from_bytes(b"c=\xe9").unwrap());
        let e = extract(&HeaderExtractor(&h));
        assert!(e.parent.is_some());
        assert!(
            e.state.is_empty(),
            "an unreadable member drops the whole tracestate"
        );
    }

    #[test]
    fn inject_replaces_and_round_trips() {
        let tp = TraceParent::parse(VALID).unwrap();
        let ts = TraceState::parse_headers(["k=v"]).unwrap();
        let mut h = HeaderMap::new();
        h.append("traceparent", HeaderValue::from_static("stale"));
        h.append("traceparent", HeaderValue::from_static("stale too"));
        inject(&mut HeaderInjector(&mut h), &tp, &ts);
        assert_eq!(h.get_all("traceparent").iter().count(), 1);
        let e = extract(&HeaderExtractor(&h));
        assert_eq!(e.parent, Some(tp));
        assert_eq!(e.state, ts);
        HeaderInjector(&mut h).set("x-bad", "line\nbreak");
        HeaderInjector(&mut h).set("bad name", "v");
        assert!(h.get("x-bad").is_none());
        assert_eq!(h.len(), 2);
    }
}
