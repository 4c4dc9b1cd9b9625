//! The pieces around a service under the W3C harness, over real HTTP on 127.0.0.1: the
//! harness's callback server, which records the headers of each callback it receives, and the
//! client that sends the harness's request to the service.
//!
//! A service under test answers `POST /test`: its body lists callback URLs, one a line, and
//! the service calls each in turn (`POST`) through taskwire's reqwest middleware, inside its
//! request task, before it answers. So when the answer arrives, every callback was recorded.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;

use super::w3c_harness::Headers;

type Recorded = Arc<Mutex<HashMap<String, Headers>>>;

fn pairs(headers: &HeaderMap) -> Headers {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The harness side: its callback server and its client, on a runtime of their own.
pub struct Harness {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    recorded: Recorded,
    next: AtomicU64,
    client: reqwest::Client,
    /// The service's `POST /test` URL.
    pub service: String,
}

/// What one harness request produced.
pub struct Exchange {
    /// The service's response headers.
    pub response: Headers,
    /// The headers of each callback that arrived, in the order asked for.
    pub callbacks: Vec<Headers>,
}

impl Harness {
    /// Starts the callback server; `service` is the URL of the service's `POST /test`.
    pub fn start(service: String) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let recorded: Recorded = Arc::default();
        let app = Router::new()
            .route(
                "/callback/{id}",
                post(|State(r): State<Recorded>, Path(id): Path<String>, headers: HeaderMap| async move {
                    r.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(id, pairs(&headers));
                    "ok"
                }),
            )
            .with_state(Arc::clone(&recorded));
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("address");
        rt.spawn(async move { axum::serve(listener, app).await });
        Harness {
            rt,
            addr,
            recorded,
            next: AtomicU64::new(0),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            service,
        }
    }

    /// Sends `headers` to the service, asking for `count` callbacks.
    pub fn exchange(&self, headers: &[(String, String)], count: usize) -> Exchange {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let ids: Vec<String> = (0..count).map(|i| format!("{n}-{i}")).collect();
        let body: String = ids
            .iter()
            .map(|id| format!("http://{}/callback/{id}\n", self.addr))
            .collect();
        let mut request = self.client.post(&self.service).body(body);
        for (k, v) in headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let response = self
            .rt
            .block_on(request.send())
            .unwrap_or_else(|e| panic!("the service answers {headers:?}: {e}"));
        assert!(
            response.status().is_success(),
            "service answered {}",
            response.status()
        );
        let response = pairs(response.headers());
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        let callbacks = ids.iter().filter_map(|id| recorded.remove(id)).collect();
        Exchange {
            response,
            callbacks,
        }
    }
}

impl super::w3c_harness::Service for Harness {
    fn request(&self, headers: &[(String, String)], count: usize) -> Vec<Headers> {
        self.exchange(headers, count).callbacks
    }
}

/// Makes a registry with taskwire's tasks layer the process's global subscriber: the services
/// under test run on threads of their own. Once per test binary.
pub fn install_global_tasks_subscriber() {
    use tracing_subscriber::prelude::*;
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(taskwire::tasks::layer()),
    )
    .expect("the only global subscriber of this test binary");
}

/// The tests every service file runs against `$harness()`, its `&'static Harness`: all the
/// harness's cases at both strictness levels, and the flags of the `traceresponse`.
macro_rules! w3c_service_tests {
    ($harness:ident) => {
        #[test]
        fn passes_all_41_cases_at_strict_level_2_spec_level_2() {
            $crate::w3c_harness::assert_passes_all($harness(), 2, 2, 41);
        }

        #[test]
        fn passes_all_35_cases_at_strict_level_1_spec_level_2() {
            $crate::w3c_harness::assert_passes_all($harness(), 1, 2, 35);
        }

        #[test]
        fn traceresponse_carries_the_random_flag() {
            $crate::w3c_services::traceresponse_flags_follow_the_trace($harness());
        }
    };
}

/// The taskwire client every service calls back through.
pub fn traced_client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
    )
    .with(taskwire::reqwest::middleware())
    .build()
}

/// What a service does with the harness's request body: calls back each URL in turn.
pub async fn call_back(client: &reqwest_middleware::ClientWithMiddleware, body: &str) -> bool {
    for url in body.lines().filter(|l| !l.is_empty()) {
        match client.post(url).send().await {
            Ok(r) if r.status().is_success() => {}
            _ => return false,
        }
    }
    true
}

/// The value of response header `name`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The flags of the service's `traceresponse` and of its callbacks' `traceparent` are the
/// caller's (random flag included), and a trace the service starts is random and sampled.
pub fn traceresponse_flags_follow_the_trace(h: &Harness) {
    const T: &str = "12345678901234567890123456789012";
    for flags in ["00", "01", "02", "03"] {
        let tp = format!("00-{T}-1234567890123456-{flags}");
        let ex = h.exchange(&[("traceparent".to_owned(), tp)], 1);
        let tr = header(&ex.response, "traceresponse").expect("a traceresponse");
        assert!(tr.starts_with(&format!("00-{T}-")), "{tr}");
        assert!(
            tr.ends_with(&format!("-{flags}")),
            "traceresponse {tr} for flags {flags}"
        );
        let out = super::w3c_harness::traceparent(&ex.callbacks[0]).expect("a valid traceparent");
        assert_eq!(format!("{:02x}", out.trace_flags), flags);
    }
    let ex = h.exchange(&[], 1);
    let tr = header(&ex.response, "traceresponse").expect("a traceresponse");
    assert!(tr.ends_with("-03"), "a trace the service starts: {tr}");
    let out = super::w3c_harness::traceparent(&ex.callbacks[0]).expect("a valid traceparent");
    assert_eq!(out.trace_flags, 0x03);
    assert!(tr.contains(&out.trace_id));
}
