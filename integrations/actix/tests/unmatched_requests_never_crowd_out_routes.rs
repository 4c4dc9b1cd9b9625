//! Requests that match no route are named after their method alone, so a scanner's thousand
//! paths make a handful of task names, and a real route first requested afterwards still gets
//! its own metrics series under the default cap of 500 label sets. Over real HTTP on 127.0.0.1.
#![cfg(feature = "metrics")]

mod support;
#[path = "../../../tests/support/unmatched_requests.rs"]
mod unmatched_requests;

use support::{client, TestServer};
use taskwire_test_support::Capture;

#[tokio::test]
async fn a_thousand_unknown_paths_leave_the_real_route_its_own_series() {
    let metrics_layer = taskwire_metrics::layer().with_label_fields(["http.route"]);
    let metrics = metrics_layer.handle();
    let dispatch = tracing::Dispatch::new(taskwire_test_stack::tasks_with(metrics_layer));
    let server = TestServer::start_with(taskwire_actix::middleware(), dispatch, Capture::default());
    let client = client();

    unmatched_requests::scan_then_route(|method, path| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let sent = client.request(method, server.url(path)).send();
        async move {
            let res = sent.await.expect("response");
            let status = res.status().as_u16();
            res.bytes().await.expect("body");
            status
        }
    })
    .await;
    unmatched_requests::assert_route_keeps_its_series(&metrics).await;
}
