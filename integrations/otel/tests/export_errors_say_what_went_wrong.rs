//! An export that fails says why: the collector timed out, refused the connection, or
//! something else went wrong (here, a collector that hangs up without answering). Each
//! "collector" is a real socket on 127.0.0.1.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

/// Exports one span to `url` with a `timeout`, and returns the recorded export error.
fn last_error(url: String, timeout: Duration) -> String {
    let (subscriber, guard) = support::under_tasks(
        taskwire_otel::layer()
            .with_endpoint(url)
            .with_export_interval(Duration::from_millis(20))
            .with_timeout(timeout)
            .with_shutdown_timeout(Duration::from_secs(1)),
    );
    tracing::subscriber::with_default(subscriber, || {
        drop(tracing::info_span!("lost").entered());
    });
    assert!(
        guard.flush_within(Duration::from_secs(30)),
        "flush timed out"
    );
    let s = guard.stats();
    assert_eq!(s.spans_failed, 1, "{s}");
    s.last_error.expect("an export error")
}

/// A listener that runs `serve` on each connection, in a thread of its own.
fn collector(serve: fn(std::net::TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || serve(conn));
        }
    });
    url
}

#[test]
fn a_refused_connection_says_refused() {
    let port = taskwire_test_support::services::free_port();
    let e = last_error(format!("http://127.0.0.1:{port}"), Duration::from_secs(2));
    assert!(e.contains("connection refused"), "{e}");
    assert!(!e.contains("timed out"), "{e}");
}

#[test]
fn a_collector_that_never_answers_says_timed_out() {
    let url = collector(|mut conn| {
        let mut buf = [0_u8; 65536];
        // Read the request, never answer, keep the connection open until the client leaves.
        while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
    });
    let e = last_error(url, Duration::from_millis(300));
    assert!(e.contains("timed out after 300ms"), "{e}");
    assert!(!e.contains("refused"), "{e}");
}

#[test]
fn a_collector_that_hangs_up_says_what_happened() {
    let url = collector(|mut conn| {
        let mut buf = [0_u8; 1024];
        let _ = conn.read(&mut buf);
        drop(conn); // closed without an answer
    });
    let e = last_error(url, Duration::from_secs(2));
    assert!(e.contains("network error: "), "{e}");
    assert!(!e.contains("refused") && !e.contains("timed out"), "{e}");
    assert!(
        e.len() > "network error: ".len() + 20,
        "the causes are listed: {e}"
    );
}
