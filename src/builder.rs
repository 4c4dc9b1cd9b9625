//! [`builder()`]: one call that composes the Registry, an env filter, the `log` bridge and the
//! chosen layers, and returns a [`Guard`].

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use taskwire_core::{Capture, Redactor};
use taskwire_json::{JsonLayer, WriteErrors};
use taskwire_tasks::TasksLayer;
use tracing::level_filters::LevelFilter;
use tracing::Dispatch;
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::filter::Directive;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Identity, Layer, SubscriberExt};
use tracing_subscriber::{EnvFilter, Registry};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync + 'static>;

/// Starts a [`Builder`].
///
/// ```no_run
/// # fn main() -> Result<(), taskwire::InstallError> {
/// let _guard = taskwire::builder()
///     .service("checkout")
///     .json(std::io::stdout)
///     .install()?;
/// tracing::info!("ready");
/// # Ok(()) }
/// ```
pub fn builder() -> Builder {
    Builder::default()
}

/// Composes taskwire's layers into one subscriber. Created by [`builder()`].
#[must_use = "a Builder does nothing until `install()` or `build()` is called"]
pub struct Builder {
    service: Option<String>,
    release: Option<String>,
    default_filter: String,
    redactor: Redactor,
    span_list: bool,
    json: Vec<JsonSink>,
    tasks: Option<TasksLayer>,
    #[cfg(feature = "tickets")]
    tickets: Vec<taskwire_tickets::TicketsLayer>,
    #[cfg(feature = "metrics")]
    metrics: Option<taskwire_metrics::MetricsLayer>,
    #[cfg(feature = "otel")]
    otel: Option<taskwire_otel::OtelBuilder>,
    log_bridge: bool,
}

enum JsonSink {
    Writer(Box<dyn FnOnce(JsonLayer) -> BoxedLayer + Send>),
    File(PathBuf),
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            service: None,
            release: None,
            default_filter: "info".to_owned(),
            redactor: Redactor::default(),
            span_list: false,
            json: Vec::new(),
            tasks: None,
            #[cfg(feature = "tickets")]
            tickets: Vec::new(),
            #[cfg(feature = "metrics")]
            metrics: None,
            #[cfg(feature = "otel")]
            otel: None,
            log_bridge: true,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("service", &self.service)
            .field("release", &self.release)
            .field("default_filter", &self.default_filter)
            .field("json_sinks", &self.json.len())
            .field("tasks", &self.tasks)
            .field("log_bridge", &self.log_bridge)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The service name written into every record.
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = Some(name.into());
        self
    }

    /// The release (version) written into every record.
    pub fn release(mut self, release: impl Into<String>) -> Self {
        self.release = Some(release.into());
        self
    }

    /// Filter directives in `RUST_LOG` syntax used when `RUST_LOG` is not set. Default `info`.
    pub fn default_filter(mut self, directives: impl Into<String>) -> Self {
        self.default_filter = directives.into();
        self
    }

    /// Redacts these keys instead of the defaults
    /// ([`taskwire_core::redact::DEFAULT_KEYS`]).
    pub fn redact_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.redactor = Redactor::with_keys(keys);
        self
    }

    /// Redacts one more key, besides the current ones.
    pub fn redact_key(mut self, key: impl AsRef<str>) -> Self {
        self.redactor = self.redactor.with_key(key);
        self
    }

    /// Writes span fields as a `spans` list instead of flattening them (see
    /// [`JsonLayer::with_span_list`]).
    pub fn span_list(mut self, enabled: bool) -> Self {
        self.span_list = enabled;
        self
    }

    /// Whether records of crates that use the `log` crate are forwarded (default: yes).
    pub fn log_bridge(mut self, enabled: bool) -> Self {
        self.log_bridge = enabled;
        self
    }

    /// Adds a JSON output to `make_writer` (stdout, stderr, a tracing-appender writer, …).
    /// Call it more than once for several outputs.
    pub fn json<W>(mut self, make_writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.json
            .push(JsonSink::Writer(Box::new(move |layer: JsonLayer| {
                Box::new(layer.with_writer(make_writer)) as BoxedLayer
            })));
        self
    }

    /// Adds a JSON output appended to the file at `path` (its folder is created if missing)
    /// through a background writer thread, so the caller never waits on the disk. The
    /// [`Guard`] flushes it on drop. An unwritable path fails at `install()`/`build()`.
    pub fn json_file(mut self, path: impl AsRef<Path>) -> Self {
        self.json.push(JsonSink::File(path.as_ref().to_owned()));
        self
    }

    /// Turns spans into tasks with `layer` (see [`taskwire_tasks`]): outcomes, `task.end`
    /// records, sampling, and `taskwire::tasks::current()` for export. Task records are
    /// enabled in the filter (`taskwire::tasks=info`) unless the directives name that target.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (dispatch, _guard) = taskwire::builder()
    ///     .tasks(taskwire::tasks::layer().with_sampler(taskwire::tasks::Sampler::ratio(0.5)))
    ///     .json(std::io::stdout)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn tasks(mut self, layer: TasksLayer) -> Self {
        self.tasks = Some(layer);
        self
    }

    /// Groups error events (WARN and above) into tickets kept in `store`, such as
    /// `taskwire::tickets::Sqlite::open("tickets.db")?`. The service and release set here
    /// go into every ticket; the [`Guard`] flushes the store's writer on drop. For other
    /// settings (threshold, grouping, samples), pass a configured layer to
    /// [`Builder::tickets_layer`].
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (dispatch, guard) = taskwire::builder()
    ///     .service("checkout")
    ///     .tickets(taskwire::tickets::Sqlite::open_in_memory()?)
    ///     .build()?;
    /// tracing::dispatcher::with_default(&dispatch, || tracing::error!("payment declined"));
    /// drop(guard); // flushes the tickets
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tickets")]
    pub fn tickets(self, store: impl taskwire_tickets::Store + 'static) -> Self {
        self.tickets_layer(taskwire_tickets::layer(store))
    }

    /// Adds a configured tickets layer (see [`taskwire_tickets::TicketsLayer`]). The builder
    /// sets its service, release and redaction unless it has its own.
    #[cfg(feature = "tickets")]
    pub fn tickets_layer(mut self, layer: taskwire_tickets::TicketsLayer) -> Self {
        self.tickets.push(layer);
        self
    }

    /// Records span timings and event counts with `layer` (see [`taskwire_metrics`]): through
    /// the `metrics` facade to whatever recorder the application installed, and in-app for
    /// [`taskwire_metrics::MetricsHandle::snapshot`]. Take the handle before passing the layer.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let metrics = taskwire::metrics::layer();
    /// let handle = metrics.handle();
    /// let (dispatch, _guard) = taskwire::builder().metrics(metrics).build()?;
    /// tracing::dispatcher::with_default(&dispatch, || {
    ///     let _s = tracing::info_span!("checkout").entered();
    /// });
    /// assert_eq!(handle.snapshot().tasks[0].count, 1);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, layer: taskwire_metrics::MetricsLayer) -> Self {
        self.metrics = Some(layer);
        self
    }

    /// Exports finished tasks over OTLP with `otel` (see [`taskwire_otel`]): the builder's
    /// service and release fill in what `otel` does not set, and its redaction applies. The
    /// [`Guard`] flushes and stops the export on drop.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let _guard = taskwire::builder()
    ///     .service("checkout")
    ///     .tasks(taskwire::tasks::layer())
    ///     .otel(taskwire::otel::layer()) // OTEL_EXPORTER_OTLP_ENDPOINT, or http://localhost:4318
    ///     .install()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "otel")]
    pub fn otel(mut self, otel: taskwire_otel::OtelBuilder) -> Self {
        self.otel = Some(otel);
        self
    }

    /// Builds the subscriber without installing it, for `tracing::dispatcher::with_default`
    /// in tests. The `log` bridge is only set up by [`Builder::install`].
    pub fn build(self) -> Result<(Dispatch, Guard), InstallError> {
        let (dispatch, guard, _) = self.compose()?;
        Ok((dispatch, guard))
    }

    /// Builds the subscriber and installs it as the global default, with the `log` bridge.
    /// Keep the returned [`Guard`] alive for the life of the program: dropping it flushes
    /// background writers.
    pub fn install(self) -> Result<Guard, InstallError> {
        let log_bridge = self.log_bridge;
        let (dispatch, guard, max_level) = self.compose()?;
        if log_bridge {
            tracing_log::LogTracer::builder()
                .with_max_level(level_to_log(max_level))
                .init()
                .map_err(|e| InstallError::new(ErrorKind::LogBridge, Some(Box::new(e))))?;
        }
        tracing::dispatcher::set_global_default(dispatch)
            .map_err(|e| InstallError::new(ErrorKind::AlreadyInstalled, Some(Box::new(e))))?;
        Ok(guard)
    }

    fn compose(self) -> Result<(Dispatch, Guard, Option<LevelFilter>), InstallError> {
        let filter = EnvFilter::builder()
            .parse(&self.default_filter)
            .map_err(|e| InstallError::new(ErrorKind::Filter, Some(Box::new(e))))?;
        let filter = match std::env::var(EnvFilter::DEFAULT_ENV) {
            Ok(v) if !v.trim().is_empty() => EnvFilter::builder()
                .parse(&v)
                .map_err(|e| InstallError::new(ErrorKind::Filter, Some(Box::new(e))))?,
            _ => filter,
        };
        let filter = match &self.tasks {
            Some(_)
                if !self.default_filter.contains(taskwire_tasks::TARGET)
                    && !std::env::var(EnvFilter::DEFAULT_ENV)
                        .is_ok_and(|v| v.contains(taskwire_tasks::TARGET)) =>
            {
                let d: Directive = format!("{}=info", taskwire_tasks::TARGET)
                    .parse()
                    .map_err(|e| InstallError::new(ErrorKind::Filter, Some(Box::new(e))))?;
                filter.add_directive(d)
            }
            _ => filter,
        };
        let max_level = filter.max_level_hint();

        let capture = Capture::new(self.redactor.clone());
        let mut guard = Guard::default();
        let mut layers: Vec<BoxedLayer> = Vec::new();
        // First in the stack: the tasks layer owns the span capture.
        if let Some(tasks) = self.tasks {
            layers.push(Box::new(tasks.with_capture(capture.clone())));
        }
        #[cfg(feature = "otel")]
        if let Some(otel) = self.otel {
            let (layer, otel_guard) = otel
                .with_service_defaults(self.service.as_deref(), self.release.as_deref())
                .with_redactor(self.redactor.clone())
                .build()
                .map_err(|e| InstallError::new(ErrorKind::Otel, Some(Box::new(e))))?;
            guard.otel.push(otel_guard);
            layers.push(Box::new(layer));
        }
        #[cfg(feature = "metrics")]
        if let Some(metrics) = self.metrics {
            layers.push(Box::new(metrics.with_capture(capture.clone())));
        }
        #[cfg(feature = "tickets")]
        for mut tickets in self.tickets {
            tickets = tickets.with_capture(capture.clone());
            if let Some(s) = &self.service {
                tickets = tickets.with_service(s.clone());
            }
            if let Some(r) = &self.release {
                tickets = tickets.with_release(r.clone());
            }
            guard.tickets.push(tickets.guard());
            layers.push(Box::new(tickets));
        }
        for sink in self.json {
            let mut base = taskwire_json::layer()
                .with_capture(capture.clone())
                .with_span_list(self.span_list);
            if let Some(s) = &self.service {
                base = base.with_service(s.clone());
            }
            if let Some(r) = &self.release {
                base = base.with_release(r.clone());
            }
            guard.write_errors.push(base.write_errors());
            match sink {
                JsonSink::Writer(make) => layers.push(make(base)),
                JsonSink::File(path) => {
                    let (writer, worker) = open_file(&path)?;
                    guard.workers.push(worker);
                    layers.push(Box::new(base.with_writer(writer)));
                }
            }
        }
        // Chained rather than a `Vec<L>`: `Vec` does not forward `on_register_dispatch`, which
        // the tasks layer uses to send its records to its own subscriber.
        let layers = layers
            .into_iter()
            .fold(Box::new(Identity::new()) as BoxedLayer, |acc, l| {
                Box::new(acc.and_then(l))
            });
        let subscriber = tracing_subscriber::registry().with(layers).with(filter);
        Ok((Dispatch::new(subscriber), guard, max_level))
    }
}

fn open_file(path: &Path) -> Result<(NonBlocking, WorkerGuard), InstallError> {
    let err = |e: std::io::Error| {
        InstallError::new(ErrorKind::Output(path.to_owned()), Some(Box::new(e)))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    // Lossless: under a burst the caller waits for the writer rather than losing lines.
    Ok(NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("taskwire-json-file")
        .finish(file))
}

fn level_to_log(l: Option<LevelFilter>) -> log::LevelFilter {
    match l {
        Some(LevelFilter::OFF) => log::LevelFilter::Off,
        Some(LevelFilter::ERROR) => log::LevelFilter::Error,
        Some(LevelFilter::WARN) => log::LevelFilter::Warn,
        Some(LevelFilter::INFO) => log::LevelFilter::Info,
        Some(LevelFilter::DEBUG) => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

/// Keeps taskwire's background work alive; dropping it flushes every background writer and
/// reports on stderr how many records could not be written.
///
/// Bind it to a named variable in `main` (`let _guard = …`): `let _ = …` drops it at once,
/// and records still queued when the program ends are lost.
#[must_use = "dropping the guard flushes and stops taskwire's background writers"]
#[derive(Default)]
pub struct Guard {
    workers: Vec<WorkerGuard>,
    write_errors: Vec<WriteErrors>,
    #[cfg(feature = "tickets")]
    tickets: Vec<taskwire_tickets::TicketsGuard>,
    #[cfg(feature = "otel")]
    otel: Vec<taskwire_otel::OtelGuard>,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("background_writers", &self.workers.len())
            .field("write_errors", &self.write_errors())
            .finish()
    }
}

impl Guard {
    /// Waits until every ticket recorded so far is committed to its store.
    #[cfg(feature = "tickets")]
    pub fn flush_tickets(&self) -> Result<(), taskwire_tickets::FlushError> {
        self.tickets.iter().try_for_each(|t| t.flush())
    }

    /// The OTLP export's counts so far (spans exported, dropped, failed), one per export.
    #[cfg(feature = "otel")]
    pub fn otel_stats(&self) -> Vec<taskwire_otel::ExportStats> {
        self.otel
            .iter()
            .map(taskwire_otel::OtelGuard::stats)
            .collect()
    }

    /// Records that could not be written so far, over every JSON output.
    pub fn write_errors(&self) -> u64 {
        self.write_errors.iter().map(WriteErrors::count).sum()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Ticket stores first (their writers may still log), then the file writers: dropping
        // each guard flushes its queue and joins its thread.
        #[cfg(feature = "tickets")]
        self.tickets.clear();
        #[cfg(feature = "otel")]
        self.otel.clear();
        self.workers.clear();
        let failed = self.write_errors();
        if failed > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "taskwire: {failed} record(s) could not be written"
            );
        }
    }
}

/// Why [`Builder::install`] or [`Builder::build`] failed.
#[derive(Debug)]
pub struct InstallError {
    kind: ErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

#[derive(Debug)]
enum ErrorKind {
    #[cfg(feature = "otel")]
    Otel,
    Filter,
    Output(PathBuf),
    LogBridge,
    AlreadyInstalled,
}

impl InstallError {
    fn new(kind: ErrorKind, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        InstallError { kind, source }
    }
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            #[cfg(feature = "otel")]
            ErrorKind::Otel => f.write_str("invalid OpenTelemetry export settings"),
            ErrorKind::Filter => {
                f.write_str("invalid filter directives (RUST_LOG or default_filter)")
            }
            ErrorKind::Output(p) => write!(f, "cannot open log output {}", p.display()),
            ErrorKind::LogBridge => f.write_str("a `log` logger is already installed"),
            ErrorKind::AlreadyInstalled => {
                f.write_str("a global tracing subscriber is already installed")
            }
        }
    }
}

impl std::error::Error for InstallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
