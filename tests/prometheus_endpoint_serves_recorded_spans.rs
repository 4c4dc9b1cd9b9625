//! `builder().prometheus(Prometheus::new().serve(0))` installs the Prometheus recorder and serves
//! it: a real HTTP GET of `/metrics` on 127.0.0.1 returns the span just recorded, other paths
//! are 404, a port already taken and a second recorder are errors that say so, and dropping the
//! guard of `build()` closes the endpoint. One test, in a file of its own: the `metrics`
//! recorder is global to the process.
#![cfg(feature = "prometheus")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use taskwire::Prometheus;

/// The status line and body of `GET {path}`, over a fresh connection.
fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the endpoint");
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\naccept: */*\r\n\r\n").as_bytes())
        .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

#[test]
fn metrics_endpoint_serves_a_recorded_span_until_the_guard_drops() {
    // A port that is taken: the error names the address, and no recorder is installed.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_addr = taken.local_addr().expect("addr");
    let err = taskwire::builder()
        .prometheus(Prometheus::new().serve(taken_addr.port()))
        .build()
        .expect_err("the port is taken");
    assert!(
        err.to_string()
            .contains(&format!("cannot serve Prometheus metrics on {taken_addr}")),
        "{err}"
    );

    let (dispatch, guard) = taskwire::builder()
        .service("checkout")
        .tasks(taskwire::tasks::layer()) // an ERROR event fails its task: outcome="failed"
        .prometheus(Prometheus::new().serve(0))
        .build()
        .expect("build");
    let addr = guard.prometheus_addr().expect("served");
    assert!(
        addr.ip().is_loopback(),
        "127.0.0.1 unless told otherwise: {addr}"
    );

    tracing::dispatcher::with_default(&dispatch, || {
        let _span = tracing::info_span!("charge_card").entered();
        tracing::error!("card declined");
    });

    let (status, body) = http_get(addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let count = body
        .lines()
        .find(|l| {
            l.starts_with("taskwire_span_duration_seconds_count{")
                && l.contains(r#"name="charge_card""#)
        })
        .unwrap_or_else(|| panic!("no count for the span in:\n{body}"));
    assert!(count.contains(r#"outcome="failed""#), "{count}");
    assert!(count.ends_with(" 1"), "{count}");
    assert!(
        body.lines()
            .any(|l| l.starts_with("taskwire_span_duration_seconds_bucket{")),
        "histograms with buckets:\n{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with("taskwire_errors_total{") && l.ends_with(" 1")),
        "{body}"
    );

    let (status, _) = http_get(addr, "/");
    assert_eq!(status, "HTTP/1.1 404 Not Found");

    // The process has its recorder now: a second one is refused, with the reason.
    let again = taskwire::builder().prometheus(Prometheus::new()).build();
    let err = again.expect_err("one recorder per process");
    assert!(
        err.to_string()
            .contains("a `metrics` recorder is already installed"),
        "{err}"
    );

    drop(guard);
    assert!(
        TcpStream::connect(addr).is_err(),
        "the endpoint closes with the guard of build()"
    );
}
