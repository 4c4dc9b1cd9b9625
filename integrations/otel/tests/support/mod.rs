//! The real collector the tests export to (rotel, started by `scripts/test` through
//! `scripts/services/otel-collector.sh`), and a reader of what it received: its debug log.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use taskwire_test_support::services;

/// A builder exporting to the collector started by `scripts/test` under the service name
/// `service`, and that collector's log file.
pub fn to_collector(service: &str) -> (taskwire_otel::OtelBuilder, PathBuf) {
    let (url, log) = services::otel_collector();
    let otel = taskwire_otel::layer()
        .with_endpoint(url)
        .with_service_name(service);
    (otel, log)
}

/// Builds `otel` and puts its layer over the tasks layer: the subscriber a test runs under,
/// and the layer's guard.
pub fn under_tasks(
    otel: taskwire_otel::OtelBuilder,
) -> (
    impl tracing::Subscriber + Send + Sync + 'static,
    taskwire_otel::OtelGuard,
) {
    use tracing_subscriber::prelude::*;
    let (otel, guard) = otel.build().expect("starts");
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(otel);
    (subscriber, guard)
}

/// Flushes `guard` (failing the test if that takes over 15 s) and shuts it down: its stats.
pub fn flush_and_shut_down(guard: taskwire_otel::OtelGuard) -> taskwire_otel::ExportStats {
    assert!(
        guard.flush_within(Duration::from_secs(15)),
        "flush timed out"
    );
    guard.shutdown()
}

/// A collector this test owns, on a fixed HTTP port so it can be restarted at the same URL.
pub struct OwnCollector {
    pub dir: PathBuf,
    pub http_port: u16,
    pub log: PathBuf,
    pid_file: PathBuf,
    pid: Option<u32>,
}

impl OwnCollector {
    pub fn new(name: &str) -> Self {
        let dir = services::run_dir().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        OwnCollector {
            log: dir.join("rotel.log"),
            pid_file: dir.join("rotel.pid"),
            dir,
            http_port: services::free_port(),
            pid: None,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Starts it (again) and waits until it accepts an export.
    pub fn start(&mut self) {
        let grpc = services::free_port();
        let _ = std::fs::remove_file(&self.pid_file);
        let status = Command::new(services::rotel_agent())
            .args(["start", "--daemon"])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc}")])
            .args([
                "--otlp-http-endpoint",
                &format!("127.0.0.1:{}", self.http_port),
            ])
            .arg("--pid-file")
            .arg(&self.pid_file)
            .arg("--log-file")
            .arg(&self.log)
            .args(["--debug-log", "traces", "--debug-log", "logs"])
            .args([
                "--debug-log-verbosity",
                "detailed",
                "--exporter",
                "blackhole",
            ])
            .status()
            .expect("rotel-agent runs");
        assert!(status.success(), "rotel-agent start failed: {status}");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if post_empty_traces(self.http_port) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "own collector did not start; its log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.pid = std::fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        assert!(self.pid.is_some(), "no pid file");
    }

    /// Kills it at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            // Wait until the port is free again.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    pub fn received(&self) -> Received {
        Received::read(&self.log)
    }
}

impl Drop for OwnCollector {
    fn drop(&mut self) {
        self.kill();
    }
}

/// POSTs an empty OTLP/JSON trace export; whether the answer is 200.
fn post_empty_traces(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let body = br#"{"resourceSpans":[]}"#;
    let req = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if s.write_all(req.as_bytes()).is_err() || s.write_all(body).is_err() {
        return false;
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out.starts_with(b"HTTP/1.1 200")
}

/// One span as the collector printed it.
#[derive(Debug, Default, Clone)]
pub struct Span {
    pub trace_id: String,
    pub parent_id: String,
    pub id: String,
    pub name: String,
    pub kind: String,
    pub status_code: String,
    pub status_message: String,
    /// `(key, "Type(value)")`.
    pub attributes: Vec<(String, String)>,
    pub events: Vec<Event>,
    pub resource: Vec<(String, String)>,
    pub scope: String,
}

impl Span {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn resource_attr(&self, key: &str) -> Option<&str> {
        self.resource
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default, Clone)]
pub struct Event {
    pub name: String,
    /// Nanoseconds since the epoch, as printed.
    pub timestamp: String,
    pub attributes: Vec<(String, String)>,
}

/// One log record as the collector printed it.
#[derive(Debug, Default, Clone)]
pub struct Log {
    /// Nanoseconds since the epoch, as printed.
    pub timestamp: String,
    pub severity_text: String,
    pub body: String,
    pub trace_id: String,
    pub span_id: String,
    /// The record's trace flags, as printed (`3`: sampled and random trace id).
    pub flags: String,
    pub attributes: Vec<(String, String)>,
    pub resource: Vec<(String, String)>,
}

impl Log {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One metric data point as the collector printed it.
#[derive(Debug, Default, Clone)]
pub struct Point {
    pub metric: String,
    pub data_type: String,
    pub attributes: Vec<(String, String)>,
    pub value: String,
}

/// Everything in a collector's debug log.
#[derive(Debug, Default)]
pub struct Received {
    pub spans: Vec<Span>,
    pub logs: Vec<Log>,
    pub points: Vec<Point>,
}

enum Section {
    None,
    Resource,
    Attrs,
    Event,
    PointAttrs,
}

#[derive(Clone, Copy, PartialEq)]
enum Block {
    None,
    Span,
    Log,
    Metric,
}

/// `-> key: Type(value)`: the key and `Type(value)`.
fn arrow(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix("-> ")?;
    let (k, v) = rest.split_once(": ")?;
    Some((k.to_owned(), v.to_owned()))
}

/// `Name : value` (any spaces before the colon).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix(name)?;
    let rest = rest.trim_start().strip_prefix(':')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

impl Received {
    pub fn read(path: &Path) -> Received {
        let text = std::fs::read(path).unwrap_or_default();
        Received::parse(&String::from_utf8_lossy(&text))
    }

    pub fn parse(text: &str) -> Received {
        let mut r = Received::default();
        let mut resource: Vec<(String, String)> = Vec::new();
        let mut scope = String::new();
        let mut section = Section::None;
        let mut block = Block::None;
        let mut metric = String::new();
        let mut data_type = String::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let t = line.trim_start();
            if t.starts_with("ResourceSpans #")
                || t.starts_with("ResourceLog #")
                || t.starts_with("ResourceMetrics #")
            {
                resource.clear();
                section = Section::None;
                block = if t.starts_with("ResourceMetrics") {
                    Block::Metric
                } else {
                    Block::None
                };
                continue;
            }
            if t == "Resource attributes:" {
                section = Section::Resource;
                continue;
            }
            if let Some(s) = t.strip_prefix("InstrumentationScope ") {
                scope = s.trim().to_owned();
                section = Section::None;
                continue;
            }
            if t.starts_with("Span #") {
                r.spans.push(Span {
                    resource: resource.clone(),
                    scope: scope.clone(),
                    ..Span::default()
                });
                block = Block::Span;
                section = Section::None;
                continue;
            }
            if t.starts_with("LogRecord #") {
                r.logs.push(Log {
                    resource: resource.clone(),
                    ..Log::default()
                });
                block = Block::Log;
                section = Section::None;
                continue;
            }
            if t.starts_with("SpanEvent #") {
                if let Some(s) = r.spans.last_mut() {
                    s.events.push(Event::default());
                }
                section = Section::Event;
                continue;
            }
            if t.starts_with("Metric #") {
                section = Section::None;
                continue;
            }
            if t.starts_with("NumberDataPoints #") || t.starts_with("HistogramDataPoints #") {
                r.points.push(Point {
                    metric: metric.clone(),
                    data_type: data_type.clone(),
                    ..Point::default()
                });
                section = Section::None;
                continue;
            }
            if t == "Data point attributes:" {
                section = Section::PointAttrs;
                continue;
            }
            if t == "Attributes:" {
                section = Section::Attrs;
                continue;
            }
            if t == "Events:" || t == "Links:" {
                section = Section::None;
                continue;
            }
            if t.starts_with("-> Attributes::") {
                continue;
            }
            if let Some((k, mut v)) = arrow(line) {
                // A value printed over several lines: join until the closing parenthesis.
                if v.contains('(') && !v.ends_with(')') {
                    while let Some(next) = lines.peek() {
                        if next.trim_start().starts_with("-> ") {
                            break;
                        }
                        v.push('\n');
                        v.push_str(next);
                        let done = next.ends_with(')');
                        lines.next();
                        if done {
                            break;
                        }
                    }
                }
                match (&section, block) {
                    (Section::Resource, _) => resource.push((k, v)),
                    (Section::Attrs, Block::Span) => {
                        if let Some(s) = r.spans.last_mut() {
                            s.attributes.push((k, v));
                        }
                    }
                    (Section::Attrs, Block::Log) => {
                        if let Some(l) = r.logs.last_mut() {
                            l.attributes.push((k, v));
                        }
                    }
                    (Section::PointAttrs, _) => {
                        if let Some(p) = r.points.last_mut() {
                            p.attributes.push((k, v));
                        }
                    }
                    (Section::Event, _) => {
                        if let Some(e) = r.spans.last_mut().and_then(|s| s.events.last_mut()) {
                            match k.as_str() {
                                "Name" => e.name = v,
                                "Timestamp" => e.timestamp = v,
                                "DroppedAttributesCount" => {}
                                _ => e.attributes.push((k, v)),
                            }
                        }
                    }
                    (_, Block::Metric) => match k.as_str() {
                        "Name" => metric = v,
                        "DataType" => data_type = v,
                        _ => {}
                    },
                    _ => {}
                }
                continue;
            }
            match block {
                Block::Metric => {
                    if let (Some(p), Some(v)) = (r.points.last_mut(), field(line, "Value")) {
                        p.value = v.to_owned();
                    }
                }
                Block::Log => {
                    if let Some(l) = r.logs.last_mut() {
                        if let Some(v) = field(line, "SeverityText") {
                            l.severity_text = v.to_owned();
                        } else if let Some(v) = field(line, "Timestamp") {
                            l.timestamp = v.to_owned();
                        } else if let Some(v) = field(line, "Body") {
                            l.body = v.to_owned();
                        } else if let Some(v) = field(line, "Trace ID") {
                            l.trace_id = v.to_owned();
                        } else if let Some(v) = field(line, "Span ID") {
                            l.span_id = v.to_owned();
                        } else if let Some(v) = field(line, "Flags") {
                            l.flags = v.to_owned();
                        }
                    }
                }
                Block::Span => {
                    if let Some(s) = r.spans.last_mut() {
                        if let Some(v) = field(line, "Trace ID") {
                            s.trace_id = v.to_owned();
                        } else if let Some(v) = field(line, "Parent ID") {
                            s.parent_id = v.to_owned();
                        } else if let Some(v) = field(line, "ID") {
                            s.id = v.to_owned();
                        } else if let Some(v) = field(line, "Name") {
                            s.name = v.to_owned();
                        } else if let Some(v) = field(line, "Kind") {
                            s.kind = v.to_owned();
                        } else if let Some(v) = field(line, "Status code") {
                            s.status_code = v.to_owned();
                        } else if let Some(v) = field(line, "Status message") {
                            s.status_message = v.to_owned();
                        }
                    }
                }
                Block::None => {}
            }
        }
        r
    }

    pub fn span(&self, id: &str) -> Option<&Span> {
        self.spans.iter().find(|s| s.id == id)
    }

    pub fn trace(&self, trace_id: &str) -> Vec<&Span> {
        self.spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .collect()
    }

    pub fn logs_of(&self, trace_id: &str) -> Vec<&Log> {
        self.logs
            .iter()
            .filter(|l| l.trace_id == trace_id)
            .collect()
    }

    /// The log record of trace `trace_id` whose body is `body` (as printed, `Str(…)`); fails
    /// the test, listing the trace's records, when there is none.
    pub fn log_of(&self, trace_id: &str, body: &str) -> &Log {
        self.find_log(trace_id, |b| b == body)
            .unwrap_or_else(|| panic!("no {body} record in {:#?}", self.logs_of(trace_id)))
    }

    /// The log record of trace `trace_id` whose body contains `text`; fails the test, listing
    /// the trace's records, when there is none.
    pub fn log_containing(&self, trace_id: &str, text: &str) -> &Log {
        self.find_log(trace_id, |b| b.contains(text))
            .unwrap_or_else(|| panic!("a log record {text:?} in {:#?}", self.logs_of(trace_id)))
    }

    fn find_log(&self, trace_id: &str, body: impl Fn(&str) -> bool) -> Option<&Log> {
        self.logs
            .iter()
            .find(|l| l.trace_id == trace_id && body(&l.body))
    }
}

/// Polls the collector's log until `done` holds, at most `timeout`; returns the last read.
pub fn wait_for(
    log: &Path,
    timeout: Duration,
    mut done: impl FnMut(&Received) -> bool,
) -> Received {
    let deadline = Instant::now() + timeout;
    loop {
        let r = Received::read(log);
        if done(&r) || Instant::now() >= deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
