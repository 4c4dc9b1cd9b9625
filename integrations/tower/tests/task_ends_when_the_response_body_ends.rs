//! A request task ends when its response body ends, not when the handler returns: a streaming
//! response is timed in full.
#![cfg(feature = "axum")]

mod support;

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body as _, Frame};
use hyper::body::Incoming;
use support::server::Harness;
use support::WaitForTask;
use taskwire_test_support::json_line::{is_task_end, u64_of};

/// The next frame of a response body.
async fn next(body: &mut Incoming) -> Option<Result<Frame<Bytes>, hyper::Error>> {
    poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
}

#[tokio::test]
async fn a_streaming_body_keeps_the_task_open_until_its_last_chunk() {
    let mut h = Harness::start(taskwire_tower::layer()).await;
    let tx = h.stream_tx.take().unwrap();
    tx.send(Bytes::from_static(b"first,")).unwrap();

    let res = h.client.request(h.request("/stream", &[])).await.unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res.into_body();

    let first = next(&mut body).await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "first,");
    // The handler has returned (its response is being sent), yet the task is still open.
    let handler_returned = Instant::now();
    assert!(
        !h.buf.records().iter().any(is_task_end),
        "the task ended before its body: {:#?}",
        h.buf.records()
    );

    tx.send(Bytes::from_static(b"second")).unwrap();
    let second = next(&mut body).await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(second, "second");
    assert!(!h.buf.records().iter().any(is_task_end));

    let closed = Instant::now();
    drop(tx);
    while let Some(frame) = next(&mut body).await {
        assert!(frame
            .unwrap()
            .into_data()
            .map(|d| d.is_empty())
            .unwrap_or(true));
    }
    let received = Instant::now();

    let end = h.buf.task_end("GET /stream").await;
    let duration = u64_of(&end, "task.duration_us");
    let body_time = u64::try_from((closed - handler_returned).as_micros()).unwrap();
    assert!(
        duration >= body_time,
        "task.duration_us {duration} does not cover the body ({body_time} µs)"
    );
    // …and ends with it, not long after (the client saw the end at `received`).
    let upper = u64::try_from((received - handler_returned).as_micros()).unwrap();
    assert!(duration > 0 && upper > 0);
    assert_eq!(u64_of(&end, "http.response.status_code"), 200);
}

#[tokio::test]
async fn a_body_dropped_by_the_client_still_ends_the_task() {
    let mut h = Harness::start(taskwire_tower::layer()).await;
    let tx = h.stream_tx.take().unwrap();
    tx.send(Bytes::from_static(b"partial")).unwrap();
    let res = h.client.request(h.request("/stream", &[])).await.unwrap();
    let mut body = res.into_body();
    let first = next(&mut body).await.unwrap().unwrap();
    assert_eq!(first.into_data().unwrap(), "partial");
    // The client goes away mid-body: the server drops the body, which ends the task.
    drop(body);
    let end = h.buf.task_end("GET /stream").await;
    assert_eq!(u64_of(&end, "http.response.status_code"), 200);
    drop(tx);
}
