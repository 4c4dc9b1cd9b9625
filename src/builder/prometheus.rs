//! [`Prometheus`] ([`Builder::prometheus`]): a metrics-exporter-prometheus recorder, installed as
//! the process's `metrics` recorder, fed by the metrics layer, and either served on `/metrics` or
//! read through its handle by a route of the application's own.
//!
//! The endpoint is a small HTTP/1.1 server on a std `TcpListener` and one thread, not the
//! exporter's own listener (its `http-listener` feature brings hyper and a tokio runtime): a
//! scrape is one request per connection, answered with `connection: close`. A client gets
//! [`IO_TIMEOUT`] to send its request head (at most [`MAX_HEAD`] bytes) and to take the answer,
//! so a stalled client delays scrapes by at most that. A second thread runs the exporter's
//! upkeep every [`UPKEEP_EVERY`] (rendering also does), which keeps the recorder's raw
//! histogram samples bounded when nobody scrapes. Both threads are suppressed
//! (`taskwire_core::suppress`) and stop when the guard of `build()` is dropped; after
//! `install()` they live as long as the process.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use super::error::{ErrorKind, InstallError};
use super::{Builder, Guard};

/// How long a scraper has to send its request and to read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest request head read; a longer one is refused.
const MAX_HEAD: u64 = 8 * 1024;
/// How often the exporter's upkeep runs.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// The Prometheus text format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A [metrics-exporter-prometheus](https://docs.rs/metrics-exporter-prometheus) recorder for
/// [`Builder::prometheus`] (feature `prometheus`): taskwire's span timings and event counts
/// (see [`taskwire_metrics`]) as Prometheus metrics, histograms with taskwire's buckets
/// ([`taskwire_metrics::prometheus::DEFAULT_BUCKETS`]).
///
/// Either the builder serves them on `/metrics`, one line:
///
/// ```no_run
/// # fn main() -> Result<(), taskwire::InstallError> {
/// let _guard = taskwire::builder().prometheus(taskwire::Prometheus::new().serve(9000)).install()?;
/// # Ok(()) }
/// ```
///
/// (`serve(port)` listens on 127.0.0.1; another interface is chosen explicitly, with
/// [`Prometheus::serve_on`]), or a route of the application's own renders its
/// [`handle`](Prometheus::handle):
///
/// ```
/// # fn main() -> Result<(), taskwire::InstallError> {
/// let prometheus = taskwire::Prometheus::new();
/// let handle = prometheus.handle(); // PrometheusHandle: `handle.render()` in the route
/// let (dispatch, _guard) = taskwire::builder().prometheus(prometheus).build()?;
/// tracing::dispatcher::with_default(&dispatch, || {
///     let _span = tracing::info_span!("checkout").entered();
/// });
/// assert!(handle.render().contains("taskwire_span_duration_seconds_count"));
/// # Ok(()) }
/// ```
///
/// `build()` and `install()` install the recorder as the process's `metrics` recorder; they fail
/// when one is already installed, and when `/metrics` cannot be served on the address (both
/// with an [`InstallError`] saying which).
#[must_use = "a Prometheus recorder does nothing until it is given to `Builder::prometheus`"]
pub struct Prometheus {
    recorder: PrometheusRecorder,
    serve: Option<SocketAddr>,
}

impl Prometheus {
    /// A recorder with taskwire's histogram buckets, not served: read it through
    /// [`Prometheus::handle`], or serve it with [`Prometheus::serve`].
    pub fn new() -> Prometheus {
        // `configure` fails on empty buckets only; the defaults are not.
        let builder = taskwire_metrics::prometheus::configure(PrometheusBuilder::new())
            .unwrap_or_else(|_| PrometheusBuilder::new());
        Prometheus::with_builder(builder)
    }

    /// A recorder built from an exporter configuration of one's own (global labels, other
    /// buckets; `taskwire::metrics::prometheus::configure` adds taskwire's buckets). Its
    /// listener and push gateway settings are not used: [`Prometheus::serve`] serves it.
    pub fn with_builder(builder: PrometheusBuilder) -> Prometheus {
        Prometheus {
            recorder: builder.build_recorder(),
            serve: None,
        }
    }

    /// Serves `/metrics` on `127.0.0.1:port` (port 0: one the system picks, see
    /// [`Guard::prometheus_addr`]). Only this machine can scrape it; for another interface,
    /// [`Prometheus::serve_on`].
    pub fn serve(self, port: u16) -> Prometheus {
        self.serve_on((Ipv4Addr::LOCALHOST, port))
    }

    /// Serves `/metrics` on `addr`, any interface: `([0, 0, 0, 0], 9000)` lets every host
    /// that reaches this one scrape it.
    pub fn serve_on(mut self, addr: impl Into<SocketAddr>) -> Prometheus {
        self.serve = Some(addr.into());
        self
    }

    /// The handle that renders the metrics in Prometheus' text format
    /// (`handle.render()`), for a `/metrics` route of the application's own:
    ///
    /// ```
    /// # fn app(handle: metrics_exporter_prometheus::PrometheusHandle) -> axum::Router {
    /// axum::Router::new().route("/metrics", axum::routing::get(move || async move { handle.render() }))
    /// # }
    /// ```
    pub fn handle(&self) -> PrometheusHandle {
        self.recorder.handle()
    }

    /// Binds the endpoint, installs the recorder, starts the threads.
    pub(super) fn start(self) -> Result<Exporter, InstallError> {
        let handle = self.recorder.handle();
        let listener = match self.serve {
            Some(addr) => Some(TcpListener::bind(addr).map_err(|e| {
                InstallError::new(ErrorKind::PrometheusServe(addr), Some(Box::new(e)))
            })?),
            None => None,
        };
        metrics::set_global_recorder(self.recorder)
            .map_err(|e| InstallError::new(ErrorKind::PrometheusRecorder, Some(Box::new(e))))?;
        let mut exporter = Exporter {
            addr: None,
            stopping: Arc::new(AtomicBool::new(false)),
            upkeep: None,
            threads: Vec::new(),
        };
        // From here on, a failure drops `exporter`, which stops what was started.
        let (upkeep, ticks) = mpsc::channel::<()>();
        exporter.upkeep = Some(upkeep);
        let h = handle.clone();
        exporter.spawn("taskwire-prometheus-upkeep", None, move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = ticks.recv_timeout(UPKEEP_EVERY) {
                h.run_upkeep();
            }
        })?;
        if let Some(listener) = listener {
            let requested = self
                .serve
                .unwrap_or_else(|| (Ipv4Addr::LOCALHOST, 0).into());
            let addr = listener.local_addr().map_err(|e| {
                InstallError::new(ErrorKind::PrometheusServe(requested), Some(Box::new(e)))
            })?;
            exporter.addr = Some(addr);
            let stopping = Arc::clone(&exporter.stopping);
            exporter.spawn("taskwire-prometheus", Some(requested), move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::Acquire) {
                        return;
                    }
                    if let Ok(stream) = stream {
                        let _ = answer(&stream, &handle);
                    }
                }
            })?;
        }
        Ok(exporter)
    }
}

impl Default for Prometheus {
    fn default() -> Self {
        Prometheus::new()
    }
}

impl fmt::Debug for Prometheus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prometheus")
            .field("serve", &self.serve)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Exports taskwire's metrics to Prometheus through `prometheus` (see [`Prometheus`]):
    /// `.prometheus(taskwire::Prometheus::new().serve(9000))` serves `/metrics` on
    /// 127.0.0.1:9000; a [`Prometheus::handle`] taken before serves a route of one's own. The
    /// metrics come from the layer of [`Builder::metrics`], or a default
    /// `taskwire::metrics::layer()` when none was given. Dropping the [`Guard`] of `build()`
    /// stops the endpoint.
    pub fn prometheus(mut self, prometheus: Prometheus) -> Self {
        self.prometheus = Some(prometheus);
        self
    }
}

impl Guard {
    /// The address `/metrics` is served on, when [`Prometheus::serve`] asked for it: the port
    /// the system picked for port 0.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (_dispatch, guard) = taskwire::builder()
    ///     .prometheus(taskwire::Prometheus::new().serve(0))
    ///     .build()?;
    /// let addr = guard.prometheus_addr().expect("served");
    /// assert!(addr.ip().is_loopback() && addr.port() != 0);
    /// # Ok(()) }
    /// ```
    pub fn prometheus_addr(&self) -> Option<SocketAddr> {
        self.background().prometheus.as_ref().and_then(|e| e.addr)
    }
}

/// The running endpoint and upkeep: [`Drop`] stops them.
pub(in crate::builder) struct Exporter {
    addr: Option<SocketAddr>,
    stopping: Arc<AtomicBool>,
    /// Dropped to stop the upkeep thread.
    upkeep: Option<mpsc::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Exporter {
    fn spawn(
        &mut self,
        name: &str,
        addr: Option<SocketAddr>,
        work: impl FnOnce() + Send + 'static,
    ) -> Result<(), InstallError> {
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                taskwire_core::suppress::suppress_current_thread();
                work();
            })
            .map_err(|e| {
                let kind = match addr {
                    Some(addr) => ErrorKind::PrometheusServe(addr),
                    None => ErrorKind::PrometheusRecorder,
                };
                InstallError::new(kind, Some(Box::new(e)))
            })?;
        self.threads.push(thread);
        Ok(())
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        drop(self.upkeep.take());
        // The server thread waits in `accept`: a connection wakes it to see `stopping`.
        if let Some(addr) = self.addr {
            let _ = TcpStream::connect_timeout(&reachable(addr), IO_TIMEOUT);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// `addr` as this host connects to it: an unspecified address (`0.0.0.0`, `::`) by loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// Answers one request: `GET /metrics` (or `HEAD`) with the rendering, other paths with 404,
/// other methods with 405.
fn answer(stream: &TcpStream, handle: &PrometheusHandle) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream.take(MAX_HEAD));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // The rest of the head, up to the empty line (nothing in it changes the answer).
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_ascii_whitespace();
    let method = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("").split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => ("200 OK", CONTENT_TYPE, handle.render()),
        (_, "/metrics") => (
            "405 Method Not Allowed",
            "text/plain",
            "use GET\n".to_owned(),
        ),
        _ => (
            "404 Not Found",
            "text/plain",
            "the metrics are at /metrics\n".to_owned(),
        ),
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        out.write_all(body.as_bytes())?;
    }
    out.flush()
}
