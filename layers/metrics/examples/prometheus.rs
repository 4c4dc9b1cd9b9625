//! Span timings to Prometheus: metrics-exporter-prometheus with taskwire's buckets, served over
//! HTTP with the in-app snapshot beside it.
//!
//! ```text
//! cargo run -p taskwire-metrics --features prometheus --example prometheus           # one scrape, printed
//! cargo run -p taskwire-metrics --features prometheus --example prometheus -- --serve
//! ```
//!
//! `/metrics` is the exporter's rendering (histograms with buckets); `/snapshot` is the in-app
//! snapshot (`?format=json`, `?format=table`, Prometheus text by default).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use taskwire_metrics::Format;
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let recorder =
        taskwire_metrics::prometheus::configure(PrometheusBuilder::new())?.build_recorder();
    let prometheus = recorder.handle();
    metrics::set_global_recorder(recorder)?;

    let layer = taskwire_metrics::layer()
        .with_label_fields(["http.route"])
        .with_busy_time(true);
    let snapshot = layer.handle();
    tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(layer)
        .init();

    // A tiny HTTP server: one thread, one request per connection.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer(stream, |path| {
                let (path, query) = path.split_once('?').unwrap_or((path, ""));
                if path == "/snapshot" {
                    let format = Format::negotiate(None, Some(query));
                    (format.content_type(), snapshot.render(format))
                } else {
                    // The exporter keeps raw samples until its upkeep runs; a scrape is a good time.
                    prometheus.run_upkeep();
                    ("text/plain; version=0.0.4", prometheus.render())
                }
            });
        }
    });

    // Some traffic: requests with a route, a database call inside, one in ten failing.
    let workers: Vec<_> = (0..4)
        .map(|w| {
            std::thread::spawn(move || {
                for i in 0..250_u64 {
                    let route = if i % 3 == 0 {
                        "/users/{id}"
                    } else {
                        "/orders/{id}"
                    };
                    let _req = tracing::info_span!("request", http.route = route).entered();
                    std::thread::sleep(Duration::from_micros(200 + (i * 37 + w) % 800));
                    let _db = tracing::info_span!("db.query").entered();
                    if i % 10 == 0 {
                        tracing::error!("query timed out");
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }

    let scraped = get(addr, "/metrics")?;
    for line in scraped.lines().filter(|l| l.contains("_count{")) {
        println!("{line}");
    }
    println!();
    print!("{}", get(addr, "/snapshot?format=table")?);

    if std::env::args().any(|a| a == "--serve") {
        println!("\nserving http://{addr}/metrics and http://{addr}/snapshot; Ctrl-C to stop");
        loop {
            std::thread::park();
        }
    }
    Ok(())
}

fn answer(stream: TcpStream, body: impl Fn(&str) -> (&'static str, String)) -> std::io::Result<()> {
    let mut reader = BufReader::new(&stream);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let path = request.split(' ').nth(1).unwrap_or("/");
    let (content_type, text) = body(path);
    let mut stream = &stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    )
}

fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    Ok(raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default())
}
