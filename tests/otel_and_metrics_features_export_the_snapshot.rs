//! With the umbrella's `otel` and `metrics` features, `taskwire::otel::layer().with_metrics(..)`
//! exists and the snapshot reaches an OTLP/HTTP receiver on 127.0.0.1 as a `/v1/metrics`
//! request: the umbrella forwards `metrics` to taskwire-otel.
#![cfg(all(feature = "otel", feature = "metrics"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tracing_subscriber::prelude::*;

/// The requests an OTLP/HTTP receiver got: path and body.
#[derive(Default)]
struct Received {
    requests: Mutex<Vec<(String, Vec<u8>)>>,
    arrived: Condvar,
}

/// Reads one HTTP/1.1 request and answers `200` with an empty protobuf body.
fn serve_one(stream: TcpStream, received: &Received) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut stream = reader.into_inner();
    stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    )?;
    let mut requests = received.requests.lock().expect("not poisoned");
    requests.push((path, body));
    received.arrived.notify_all();
    Ok(())
}

/// An OTLP/HTTP receiver on a free 127.0.0.1 port: its base URL and what it received.
fn receiver() -> (String, Arc<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let received = Arc::new(Received::default());
    let r = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve_one(stream, &r);
        }
    });
    (url, received)
}

#[test]
fn metrics_export_is_reachable_through_the_umbrella() {
    let (url, received) = receiver();
    let metrics = taskwire::metrics::layer();
    let (otel, guard) = taskwire::otel::layer()
        .with_endpoint(&url)
        .with_service_name("umbrella-otel-metrics")
        .with_metrics(metrics.handle(), Some(Duration::from_secs(3600)))
        .build()
        .expect("the export starts");
    let subscriber = tracing_subscriber::registry()
        .with(taskwire::tasks::layer())
        .with(metrics)
        .with(otel);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            let _task = tracing::info_span!("umbrella-metrics-task").entered();
        }
    });
    assert!(
        guard.flush_within(Duration::from_secs(15)),
        "flushed in time"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut requests = received.requests.lock().expect("not poisoned");
    loop {
        let metrics_body = requests
            .iter()
            .find(|(path, _)| path == "/v1/metrics")
            .map(|(_, body)| body);
        if let Some(body) = metrics_body {
            let has = |s: &str| body.windows(s.len()).any(|w| w == s.as_bytes());
            assert!(
                has("taskwire_span_duration_seconds_count") && has("umbrella-metrics-task"),
                "the task's span count in the OTLP metrics request"
            );
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no /v1/metrics request within 10 s; got {:?}",
            requests.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
        requests = received
            .arrived
            .wait_timeout(requests, left)
            .expect("not poisoned")
            .0;
    }
    drop(requests);
    drop(guard);
}
