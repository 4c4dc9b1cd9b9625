//! `builder().otel(..)` adds the OTLP export: with no collector listening, the application
//! neither waits nor fails, and dropping the guard returns promptly.
#![cfg(feature = "otel")]

use std::time::{Duration, Instant};

#[test]
fn otel_export_to_an_absent_collector_never_blocks() {
    // A port nobody listens on: bind one, read it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let (dispatch, guard) = taskwire::builder()
        .service("checkout")
        .tasks(taskwire::tasks::layer())
        .otel(taskwire::otel::layer().with_endpoint(format!("http://127.0.0.1:{port}")))
        .build()
        .expect("the builder accepts the export settings");
    let start = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for order in 0..200 {
            let _task = tracing::info_span!("order", order).entered();
            tracing::error!("payment declined");
        }
    });
    let spent = start.elapsed();
    assert!(spent < Duration::from_secs(2), "callers waited {spent:?}");
    // Every task reached the export: none exported (nobody listens), each one failed or
    // dropped, and counted.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = guard.otel_stats();
        assert_eq!(stats.len(), 1, "the builder added one export");
        let s = &stats[0];
        assert_eq!(s.spans_exported, 0);
        if s.spans_failed + s.spans_dropped_queue_full == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not all tasks accounted for: {s:?}"
        );
        std::thread::yield_now();
    }
    let start = Instant::now();
    drop(guard);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "shutdown took {:?}",
        start.elapsed()
    );
}
