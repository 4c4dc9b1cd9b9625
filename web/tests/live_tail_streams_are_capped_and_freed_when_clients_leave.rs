//! The live tail's follower threads are capped: with the default cap of 16, sixteen streams
//! open from a real HTTP client, the seventeenth is answered 503 with a sentence naming the
//! limit; when one client goes away its slot is free again and a new stream opens. A smaller
//! configured cap is kept the same way.

mod support;

use std::time::{Duration, Instant};

use taskwire_test_support::TempDir;

/// Opens a stream; its answer (headers read, body still open).
async fn open(http: &reqwest::Client, url: &str) -> reqwest::Response {
    http.get(url).send().await.expect("an answer")
}

/// Opens streams until one is answered 200 (a closed client's slot is freed when its
/// follower sees the connection gone); panics after 10 s.
async fn open_when_free(http: &reqwest::Client, url: &str) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = open(http, url).await;
        if r.status() == reqwest::StatusCode::OK {
            return r;
        }
        assert_eq!(r.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "no slot was freed in 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn cap_holds(max: Option<usize>) {
    let dir = TempDir::new("web-live-cap");
    let log = dir.path().join("front.jsonl");
    support::append(&log, "{\"level\":\"INFO\",\"msg\":\"hello\"}\n");
    let mut options = taskwire_web::options().with_logs([log]);
    if let Some(m) = max {
        options = options.with_max_live_streams(m);
    }
    let cap = options.max_live_streams();
    let base = support::serve_options(&dir, options).await;
    let url = format!("{base}/live/stream");
    let http = reqwest::Client::new();

    let mut open_streams = Vec::new();
    for n in 0..cap {
        let mut r = open(&http, &url).await;
        assert_eq!(r.status(), reqwest::StatusCode::OK, "stream {n}");
        // The first event says the follower runs.
        let first = r.chunk().await.expect("a chunk").expect("the first event");
        assert!(String::from_utf8_lossy(&first).contains("\"sent\""));
        open_streams.push(r);
    }
    let refused = open(&http, &url).await;
    assert_eq!(refused.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let body = refused.text().await.expect("a body");
    assert!(
        body.contains(&format!("most streams open ({cap} at once)")),
        "{body}"
    );

    // A client goes away: its slot comes back.
    drop(open_streams.pop());
    let mut again = open_when_free(&http, &url).await;
    assert!(again.chunk().await.expect("a chunk").is_some());
    // And the cap still holds.
    assert_eq!(
        open(&http, &url).await.status(),
        reqwest::StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seventeenth_stream_is_refused_and_a_closed_one_frees_its_slot() {
    assert_eq!(taskwire_web::DEFAULT_MAX_LIVE_STREAMS, 16);
    cap_holds(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_cap_of_two_is_kept() {
    cap_holds(Some(2)).await;
}
