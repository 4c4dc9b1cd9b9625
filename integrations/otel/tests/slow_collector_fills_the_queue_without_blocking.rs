//! A collector that accepts connections and never answers: the export thread waits (up to its
//! timeout), the bounded queue fills, and new spans are dropped and counted instead of making
//! the application wait or grow without bound. Dropping the guard gives up after its shutdown
//! timeout. Needs no collector: the "collector" is a socket that reads and never replies.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn a_collector_that_never_answers_costs_the_application_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0_u8; 4096];
            let _ = conn.set_read_timeout(Some(Duration::from_millis(10)));
            let _ = conn.read(&mut buf);
            held.push(conn); // never answered, never closed
        }
    });

    let (subscriber, guard) = support::under_tasks(
        taskwire_otel::layer()
            .with_endpoint(url)
            .with_queue_capacity(100)
            .with_batch_size(20)
            .with_export_interval(Duration::from_millis(10))
            .with_timeout(Duration::from_millis(500))
            .with_shutdown_timeout(Duration::from_secs(1)),
    );
    let n = 20_000_u64;
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..n {
            let t0 = Instant::now();
            drop(tracing::info_span!("busy", i).entered());
            slowest = slowest.max(t0.elapsed());
        }
    });
    let elapsed = started.elapsed();
    assert!(
        slowest < Duration::from_millis(250),
        "a span waited {slowest:?} for the export"
    );
    // 20,000 spans against a collector whose every request takes 500 ms: had the caller
    // waited, this would take minutes.
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    let s = guard.stats();
    assert_eq!(s.spans_exported, 0, "{s}");
    assert!(
        s.spans_dropped_queue_full >= n - 1000,
        "the queue is bounded: {s}"
    );

    let t0 = Instant::now();
    let s = guard.shutdown();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "shutdown waited {:?}",
        t0.elapsed()
    );
    assert_eq!(s.spans_exported, 0, "{s}");
    assert_eq!(s.spans_dropped(), n, "every span is accounted for: {s}");
}
