//! Whatever bytes a client puts in `traceparent`, `tracestate` or `x-request-id`, the header
//! adapter and the middleware neither panic nor echo anything unvalidated.

mod support;

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{HeaderMap, HeaderValue, Request, Response};
use proptest::prelude::*;
use taskwire_core::propagation::{extract, TraceParent};
use taskwire_test_support::hostile::header_value;
use taskwire_tower::HeaderExtractor;
use tower::{service_fn, Layer, Service};

fn headers(entries: &[(usize, Vec<u8>)]) -> HeaderMap {
    const NAMES: [&str; 4] = ["traceparent", "tracestate", "x-request-id", "TraceParent"];
    let mut map = HeaderMap::new();
    for (which, bytes) in entries {
        if let Ok(v) = HeaderValue::from_bytes(bytes) {
            map.append(NAMES[which % NAMES.len()], v);
        }
    }
    map
}

/// Polls a future that must complete at once (the service below never waits).
fn now<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the service future was not ready"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn extractor_never_panics(entries in proptest::collection::vec((0usize..4, header_value()), 0..6)) {
        let map = headers(&entries);
        let e = extract(&HeaderExtractor(&map));
        let n = map.get_all("traceparent").iter().count();
        if n != 1 {
            prop_assert!(e.parent.is_none());
        }
        if e.parent.is_none() {
            prop_assert!(e.state.is_empty());
        }
    }

    #[test]
    fn middleware_never_panics_and_answers_valid_headers(
        entries in proptest::collection::vec((0usize..4, header_value()), 0..6),
    ) {
        let map = headers(&entries);
        let buf = taskwire_test_support::Capture::default();
        let _guard = tracing::subscriber::set_default(support::subscriber(&buf));
        let mut svc = taskwire_tower::layer().layer(service_fn(|req: Request<()>| async move {
            let ids = req.headers().get_all("x-request-id").iter().count();
            Ok::<_, Infallible>(Response::new(ids.to_string()))
        }));
        let mut req = Request::get("/p").body(()).unwrap();
        *req.headers_mut() = map.clone();
        let res = now(svc.call(req)).unwrap();
        prop_assert_eq!(res.status(), 200);
        let (res, body) = res.into_parts();
        // The handler saw exactly one request id.
        let (data, _) = now(support::local::drain(body));
        prop_assert_eq!(data, b"1");

        let id = res.headers["x-request-id"].as_bytes();
        prop_assert!(!id.is_empty() && id.len() <= 128);
        prop_assert!(id.iter().all(|c| (0x21..=0x7e).contains(c)));
        let mut incoming = map.get_all("x-request-id").iter();
        if let (Some(v), None) = (incoming.next(), incoming.next()) {
            let b = v.as_bytes();
            if !b.is_empty() && b.len() <= 128 && b.iter().all(|c| (0x21..=0x7e).contains(c)) {
                prop_assert_eq!(id, b);
            }
        }

        let tr = res.headers["traceresponse"].to_str().unwrap();
        let tr = TraceParent::parse(tr).expect("traceresponse is a valid traceparent");
        if let Some(remote) = extract(&HeaderExtractor(&map)).parent {
            prop_assert_eq!(tr.trace_id, remote.trace_id);
            prop_assert_eq!(tr.sampled, remote.sampled);
        }
    }
}
