//! Stopping while the collector hangs: the guard gives up after its shutdown timeout, and
//! every span still queued, or in the export that never returned, is counted as lost at
//! shutdown; the counts add up to exactly the spans the application made. The "collector" is
//! a real socket on 127.0.0.1 that accepts, reads and never answers.

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing_subscriber::prelude::*;

/// A hanging collector; returns its URL and the number of connections it accepted.
fn hanging_collector() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut conn in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0_u8; 4096];
            let _ = conn.set_read_timeout(Some(Duration::from_millis(10)));
            let _ = conn.read(&mut buf);
            held.push(conn); // never answered, never closed
        }
    });
    (url, accepted)
}

#[test]
fn queued_and_in_flight_spans_are_counted_when_the_stop_gives_up() {
    let (url, accepted) = hanging_collector();
    let (otel, guard) = taskwire_otel::layer()
        .with_endpoint(url)
        .with_batch_size(50)
        .with_export_interval(Duration::from_millis(20))
        .with_timeout(Duration::from_secs(60))
        .with_shutdown_timeout(Duration::from_millis(500))
        .build()
        .expect("starts");
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(otel);
    let n = 420_u64;
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..n {
            drop(tracing::info_span!("doomed", i).entered());
        }
    });
    // The first batch is in flight: the collector has the connection and never answers.
    let deadline = Instant::now() + Duration::from_secs(20);
    while accepted.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the export never connected");
        std::thread::yield_now();
    }

    let t0 = Instant::now();
    let s = guard.shutdown();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "the stop waited {:?}",
        t0.elapsed()
    );
    assert_eq!(s.spans_exported, 0, "{s}");
    assert_eq!(s.spans_failed, 0, "no export returned: {s}");
    assert_eq!(s.spans_dropped_queue_full, 0, "{s}");
    assert_eq!(s.spans_lost_at_shutdown, n, "{s}");
    assert_eq!(s.spans_dropped(), n, "{s}");
    assert!(
        s.to_string().contains(&format!("lost at shutdown {n}")),
        "the summary says it: {s}"
    );
}
