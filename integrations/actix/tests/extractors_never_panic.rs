//! Arbitrary header values (any bytes a header can carry, repeated or not) never panic the
//! extractor or the middleware: the request is served, continued only from exactly one valid
//! `traceparent`, and answered with a valid request id.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{test as actix_test, web, App};
use proptest::prelude::*;
use taskwire_actix::HeaderExtractor;
use taskwire_core::propagation::{extract, TraceParent};
use taskwire_test_support::hostile::header_value;

fn headers() -> impl Strategy<Value = Vec<(usize, Vec<u8>)>> {
    proptest::collection::vec((0..3usize, header_value()), 0..6)
}

const NAMES: [&str; 3] = ["traceparent", "tracestate", "x-request-id"];

fn build(pairs: &[(usize, Vec<u8>)]) -> Vec<(HeaderName, HeaderValue)> {
    pairs
        .iter()
        .filter_map(|(n, v)| {
            Some((
                HeaderName::from_static(NAMES[*n]),
                HeaderValue::from_bytes(v).ok()?,
            ))
        })
        .collect()
}

/// The request id the middleware must keep: exactly one header, 1 to 128 visible ASCII bytes.
fn expected_request_id(pairs: &[(HeaderName, HeaderValue)]) -> Option<String> {
    let ids: Vec<&HeaderValue> = pairs
        .iter()
        .filter(|(n, _)| n == "x-request-id")
        .map(|(_, v)| v)
        .collect();
    match ids.as_slice() {
        [one]
            if !one.is_empty()
                && one.len() <= 128
                && one.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b)) =>
        {
            one.to_str().ok().map(str::to_owned)
        }
        _ => None,
    }
}

/// What extraction must decide: continued iff exactly one `traceparent` and it parses.
fn expected_parent(pairs: &[(HeaderName, HeaderValue)]) -> Option<TraceParent> {
    let tps: Vec<&HeaderValue> = pairs
        .iter()
        .filter(|(n, _)| n == "traceparent")
        .map(|(_, v)| v)
        .collect();
    match tps.as_slice() {
        [one] => one.to_str().ok().and_then(TraceParent::parse),
        _ => None,
    }
}

proptest! {
    #[test]
    fn extractor_never_panics(pairs in headers()) {
        let pairs = build(&pairs);
        let mut map = HeaderMap::new();
        for (n, v) in &pairs {
            map.append(n.clone(), v.clone());
        }
        let e = extract(&HeaderExtractor::new(&map));
        prop_assert_eq!(e.parent, expected_parent(&pairs));
        if e.parent.is_none() {
            prop_assert!(e.state.is_empty());
        }
    }

    #[test]
    fn middleware_never_panics(pairs in headers()) {
        let pairs = build(&pairs);
        let captured = Capture::default();
        let (status, request_id, traceresponse) = tracing::dispatcher::with_default(
            &captured.dispatch(),
            || {
                actix_web::rt::System::new().block_on(async {
                    let app = actix_test::init_service(
                        App::new()
                            .wrap(taskwire_actix::middleware())
                            .route("/users/{id}", web::get().to(|| async { "ok" })),
                    )
                    .await;
                    let mut req = actix_test::TestRequest::get().uri("/users/1");
                    for (n, v) in &pairs {
                        req = req.append_header((n.clone(), v.clone()));
                    }
                    let res = actix_test::call_service(&app, req.to_request()).await;
                    let header = |n: &str| res.headers().get(n).map(|v| v.to_str().map(str::to_owned));
                    let out = (res.status().as_u16(), header("x-request-id"), header("traceresponse"));
                    let _ = actix_test::read_body(res).await;
                    out
                })
            },
        );
        prop_assert_eq!(status, 200);
        let id = request_id.expect("x-request-id sent").expect("ascii");
        prop_assert!(!id.is_empty() && id.len() <= 128);
        prop_assert!(id.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        let tr = traceresponse.expect("traceresponse sent").expect("ascii");
        let tr = TraceParent::parse(&tr).expect("a valid traceresponse");

        match expected_request_id(&pairs) {
            Some(kept) => prop_assert_eq!(&id, &kept),
            // Generated: the task's span id.
            None => prop_assert_eq!(tr.span_id.to_string(), id.clone()),
        }
        let ends: Vec<_> = captured.task_ends();
        match expected_parent(&pairs) {
            // Continued, and the caller said "not sampled": no record, the flag goes back.
            Some(p) if !p.sampled => {
                prop_assert_eq!(tr.trace_id, p.trace_id);
                prop_assert!(!tr.sampled);
                prop_assert!(ends.is_empty());
            }
            Some(p) => {
                prop_assert_eq!(ends.len(), 1);
                let task = &ends[0];
                prop_assert_eq!(task["http.request_id"].as_str(), Some(id.as_str()));
                prop_assert_eq!(tr.trace_id, p.trace_id);
                let parent = p.span_id.to_string();
                prop_assert_eq!(task["parent_span_id"].as_str(), Some(parent.as_str()));
                prop_assert_eq!(&task["task.remote_parent"], true);
            }
            None => {
                prop_assert_eq!(ends.len(), 1);
                let task = &ends[0];
                prop_assert_eq!(task["http.request_id"].as_str(), Some(id.as_str()));
                prop_assert!(task.get("parent_span_id").is_none());
                prop_assert!(task.get("task.remote_parent").is_none());
            }
        }
    }
}

mod support;

use support::Captured;
use taskwire_test_support::Capture;
