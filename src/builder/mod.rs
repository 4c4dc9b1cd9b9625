//! [`builder()`]: one call that composes the Registry, the filter, the `log` bridge and the
//! chosen layers, and returns a [`Guard`].
//!
//! | module | holds |
//! |---|---|
//! | `filter` | `RUST_LOG` for events, the span filter for spans: the outermost layer |
//! | `sinks` | one JSON rendering written to every output |
//! | `slot` | an optional layer of the stack, composed statically as by hand |
//! | `compose` | the stack itself: capture, taskwire's layers, the application's, the filter |
//! | `file` | the background writer of `json_file(path)` |
//! | `guard` | [`Guard`] and the background work it flushes (and, after `build()`, stops) |
//! | `extra` | the application's own layers ([`Builder::layer`]) and [`CaptureRegistry`] |
//! | `prometheus` | [`Prometheus`]: the metrics-exporter-prometheus recorder and its `/metrics` endpoint |
//! | `panic` | the `panic_hook` option: whether `install()` installs [`crate::panic_hook()`] |
//! | `error` | [`InstallError`] |

mod compose;
mod error;
mod extra;
mod file;
mod filter;
mod guard;
mod panic;
#[cfg(feature = "prometheus")]
mod prometheus;
mod sinks;
mod slot;

use std::fmt;
use std::path::{Path, PathBuf};

use taskwire_core::{CaptureLayer, Redactor};
use taskwire_tasks::TasksLayer;
use tracing::level_filters::LevelFilter;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Identity, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

pub use error::InstallError;
use error::{ErrorKind, FilterOrigin};
pub use extra::CaptureRegistry;
use extra::Extra;
use filter::{FilterSettings, StackFilter};
pub(crate) use guard::flush_installed;
use guard::Background;
pub use guard::Guard;
#[cfg(feature = "prometheus")]
pub use prometheus::Prometheus;
use sinks::{Fanout, Sink};
use slot::Slot;

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
    span_filter: String,
    redactor: Redactor,
    span_list: bool,
    source_location: bool,
    process: bool,
    json: Vec<JsonSink>,
    #[cfg(feature = "console")]
    console: Option<taskwire_console::Style>,
    tasks: Option<TasksLayer>,
    #[cfg(feature = "tickets")]
    tickets: Vec<TicketsSink>,
    #[cfg(feature = "metrics")]
    metrics: Option<taskwire_metrics::MetricsLayer>,
    #[cfg(feature = "otel")]
    otel: Option<taskwire_otel::OtelBuilder>,
    #[cfg(feature = "prometheus")]
    prometheus: Option<Prometheus>,
    extra: Option<Extra>,
    log_bridge: bool,
    /// Whether `install()` installs [`crate::panic_hook`] (see `panic.rs`).
    panic_hook: bool,
}

enum JsonSink {
    Writer(Box<dyn Sink>),
    File(PathBuf),
}

#[cfg(feature = "tickets")]
enum TicketsSink {
    Layer(Box<taskwire_tickets::TicketsBuilder>),
    Db(PathBuf),
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            service: None,
            release: None,
            default_filter: "info".to_owned(),
            span_filter: filter::DEFAULT_SPAN_FILTER.to_owned(),
            redactor: Redactor::default(),
            span_list: false,
            source_location: false,
            process: false,
            json: Vec::new(),
            #[cfg(feature = "console")]
            console: None,
            tasks: None,
            #[cfg(feature = "tickets")]
            tickets: Vec::new(),
            #[cfg(feature = "metrics")]
            metrics: None,
            #[cfg(feature = "otel")]
            otel: None,
            #[cfg(feature = "prometheus")]
            prometheus: None,
            extra: None,
            log_bridge: true,
            panic_hook: true,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("service", &self.service)
            .field("release", &self.release)
            .field("default_filter", &self.default_filter)
            .field("span_filter", &self.span_filter)
            .field("json_sinks", &self.json.len())
            .field("tasks", &self.tasks)
            .field("own_layers", &self.extra.is_some())
            .field("log_bridge", &self.log_bridge)
            .field("panic_hook", &self.panic_hook)
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
    ///
    /// The filter (`RUST_LOG`, else these directives) decides which *events* are written;
    /// which spans are tracked is [`Builder::span_filter`]'s decision as well. Directives are
    /// separated by commas (whitespace around them is ignored); one that is not a directive
    /// (`debug;warn`, `my_app=loud`) fails `install()`/`build()` with an [`InstallError`] that
    /// names it and says whether it came from `RUST_LOG` or from here.
    pub fn default_filter(mut self, directives: impl Into<String>) -> Self {
        self.default_filter = directives.into();
        self
    }

    /// Spans (tasks) that are tracked whatever `RUST_LOG` says, as `target=level` directives
    /// separated by commas. Default `info`: INFO, WARN and ERROR spans.
    ///
    /// So under `RUST_LOG=warn` (which writes only warnings and errors) an error still carries
    /// the ids and fields of the request it happened in, its task is marked failed, and its
    /// `task.end` record is written. A span is tracked when this filter or `RUST_LOG` enables
    /// it. `span_filter("off")` lets `RUST_LOG` alone decide, as `tracing_subscriber`'s
    /// `EnvFilter` does.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (dispatch, _guard) = taskwire::builder()
    ///     .span_filter("info,noisy_dependency=off")
    ///     .json(std::io::stdout)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn span_filter(mut self, directives: impl Into<String>) -> Self {
        self.span_filter = directives.into();
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
    /// [`taskwire_json::JsonLayer::with_span_list`]).
    pub fn span_list(mut self, enabled: bool) -> Self {
        self.span_list = enabled;
        self
    }

    /// Writes each JSON record's `file`, `line` and `module` (default: no, as
    /// `tracing_subscriber::fmt().json()`; see
    /// [`taskwire_json::JsonLayer::with_source_location`]).
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (dispatch, _guard) = taskwire::builder()
    ///     .source_location(true)
    ///     .json(std::io::stdout)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn source_location(mut self, enabled: bool) -> Self {
        self.source_location = enabled;
        self
    }

    /// Writes each JSON record's `thread`, `pid` and `host` (default: no; see
    /// [`taskwire_json::JsonLayer::with_process`]).
    pub fn process(mut self, enabled: bool) -> Self {
        self.process = enabled;
        self
    }

    /// Whether records of crates that use the `log` crate are forwarded (default: yes).
    pub fn log_bridge(mut self, enabled: bool) -> Self {
        self.log_bridge = enabled;
        self
    }

    /// Adds a JSON output to `make_writer` (stdout, stderr, a tracing-appender writer, …).
    /// Call it more than once for several outputs: each event is rendered once, and every
    /// output gets the same line (one `ts`). Each output's `make_writer_for` sees the event's
    /// metadata, so `std::io::stderr.with_max_level(Level::WARN)` works as with
    /// `tracing_subscriber::fmt`.
    pub fn json<W>(mut self, make_writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.json.push(JsonSink::Writer(Box::new(make_writer)));
        self
    }

    /// Adds a JSON output appended to the file at `path` (missing folders are created)
    /// through a background writer thread, so the caller never waits on the disk. The
    /// [`Guard`] flushes it on drop. An unwritable path fails at `install()`/`build()` with
    /// an [`InstallError`] naming it.
    pub fn json_file(mut self, path: impl AsRef<Path>) -> Self {
        self.json.push(JsonSink::File(path.as_ref().to_owned()));
        self
    }

    /// Adds human-readable lines on stdout for local development (see [`taskwire_console`]):
    /// colour when stdout is a terminal and `NO_COLOR` is not set, the task path, the trace id
    /// and each task's `✓`/`✗` end. [`Builder::console_style`] picks the style.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// use std::io::IsTerminal;
    /// let builder = taskwire::builder();
    /// // people read a terminal; a pipe gets JSON lines
    /// let builder = if std::io::stdout().is_terminal() {
    ///     builder.console()
    /// } else {
    ///     builder.json(std::io::stdout)
    /// };
    /// let (_dispatch, _guard) = builder.build()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "console")]
    pub fn console(mut self) -> Self {
        self.console.get_or_insert_with(Default::default);
        self
    }

    /// Adds the console output of [`Builder::console`] in `style`.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (_dispatch, _guard) = taskwire::builder()
    ///     .console_style(taskwire::console::Style::Pretty)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "console")]
    pub fn console_style(mut self, style: taskwire_console::Style) -> Self {
        self.console = Some(style);
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
    /// `taskwire::tickets::Sqlite::open("tickets.db")?` (an `OpenError` converts into
    /// [`InstallError`]). The service and release set here go into every ticket; the
    /// [`Guard`] flushes the store's writer on drop. For other settings (threshold,
    /// grouping, samples), pass a configured tickets builder to [`Builder::tickets_layer`]; for a
    /// SQLite file, [`Builder::tickets_db`] is shorter.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (dispatch, guard) = taskwire::builder()
    ///     .service("checkout")
    ///     .tickets(taskwire::tickets::Sqlite::open_in_memory()?)
    ///     .build()?;
    /// tracing::dispatcher::with_default(&dispatch, || tracing::error!("payment declined"));
    /// drop(guard); // flushes the tickets
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tickets")]
    pub fn tickets(self, store: impl taskwire_tickets::TicketWriter + 'static) -> Self {
        self.tickets_layer(taskwire_tickets::layer(store))
    }

    /// Adds a tickets layer configured with `layer`'s settings (see
    /// [`taskwire_tickets::TicketsBuilder`]); `install()`/`build()` builds it and keeps its guard
    /// in the [`Guard`]. The builder sets its service, release and redaction only where it has
    /// none of its own: a layer configured `.with_service("billing")` keeps `billing` whatever
    /// [`Builder::service`] says.
    #[cfg(feature = "tickets")]
    pub fn tickets_layer(mut self, layer: taskwire_tickets::TicketsBuilder) -> Self {
        self.tickets.push(TicketsSink::Layer(Box::new(layer)));
        self
    }

    /// Groups error events into tickets kept in the SQLite database at `path`, as
    /// [`Builder::json_file`] takes a log path: the database is opened (created, with its
    /// missing folders) by `install()`/`build()`, and one that cannot be opened fails them
    /// with an [`InstallError`] naming the path.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// # let dir = std::env::temp_dir().join(format!("taskwire-doc-{}", std::process::id()));
    /// let (dispatch, guard) = taskwire::builder()
    ///     .service("checkout")
    ///     .tickets_db(dir.join("state").join("tickets.db"))
    ///     .build()?;
    /// # drop(guard);
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tickets")]
    pub fn tickets_db(mut self, path: impl AsRef<Path>) -> Self {
        self.tickets.push(TicketsSink::Db(path.as_ref().to_owned()));
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

    /// Adds a layer of the application's own to the stack: tracing-subscriber's
    /// `fmt::layer()`, tracing-opentelemetry's layer, a layer with a per-layer filter
    /// (`layer.with_filter(..)`), or a `Box<dyn Layer<CaptureRegistry> + Send + Sync>` chosen at
    /// run time (see [`CaptureRegistry`]). Call it once per layer: the layers see each span and
    /// event in the order they were added, after taskwire's layers.
    ///
    /// The builder's filter still comes first: what `RUST_LOG` (or [`Builder::default_filter`])
    /// turns off reaches no layer, and spans kept by [`Builder::span_filter`] reach these
    /// layers too. A per-layer filter narrows what its own layer sees, and nothing else. The
    /// builder's guard, `log` bridge, outputs and redaction of taskwire's records are unchanged.
    ///
    /// ```
    /// use tracing_subscriber::filter::LevelFilter;
    /// use tracing_subscriber::Layer;
    ///
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (dispatch, _guard) = taskwire::builder()
    ///     .json(std::io::stdout)
    ///     // warnings and errors, also as tracing-subscriber's text lines on stderr
    ///     .layer(
    ///         tracing_subscriber::fmt::layer()
    ///             .with_writer(std::io::stderr)
    ///             .with_filter(LevelFilter::WARN),
    ///     )
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<CaptureRegistry> + Send + Sync + 'static,
    {
        self.extra = Some(extra::push(self.extra.take(), layer));
        self
    }

    /// Builds the subscriber without installing it, as a [`Dispatch`] for
    /// `tracing::dispatcher::with_default` in tests. The `log` bridge is only set up by
    /// [`Builder::install`]. Dropping the [`Guard`] flushes and stops the background writers.
    /// [`Builder::finish`] hands back the subscriber itself, to add layers to.
    pub fn build(mut self) -> Result<(Dispatch, Guard), InstallError> {
        let rust_log = read_rust_log()?;
        // Without layers of the application's own, `Identity` in their place: no virtual call.
        let (dispatch, background) = match self.extra.take() {
            Some(extra) => {
                let (s, b, _) = self.compose(rust_log.as_deref(), extra)?;
                (Dispatch::new(s), b)
            }
            None => {
                let (s, b, _) = self.compose(rust_log.as_deref(), Identity::new())?;
                (Dispatch::new(s), b)
            }
        };
        Ok((dispatch, Guard::owning(background)))
    }

    /// Builds the subscriber without installing it and hands it back open, as
    /// tracing-subscriber's `fmt().finish()` does: add layers with `SubscriberExt::with`, then
    /// install it with `SubscriberInitExt::init`, run it with
    /// `tracing::subscriber::with_default`, or make it a [`Dispatch`].
    ///
    /// Keep the [`Guard`] for as long as the subscriber is in use (in `main`, `let _guard = …`):
    /// dropping it flushes and stops the background writers. `init()` bridges `log` records at
    /// the subscriber's maximum level; [`Builder::install`] is the one call that also keeps the
    /// outputs working for the life of the process.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (subscriber, guard) = taskwire::builder().json(std::io::stdout).finish()?;
    /// let subscriber = subscriber.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("to stdout and stderr"));
    /// drop(guard);
    /// # Ok(()) }
    /// ```
    pub fn finish(
        mut self,
    ) -> Result<
        (
            impl tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
            Guard,
        ),
        InstallError,
    > {
        let rust_log = read_rust_log()?;
        let extra: Extra = self
            .extra
            .take()
            .unwrap_or_else(|| Box::new(Identity::new()));
        let (subscriber, background, _) = self.compose(rust_log.as_deref(), extra)?;
        Ok((subscriber, Guard::owning(background)))
    }

    /// Builds the subscriber and installs it as the global default, then the `log` bridge.
    /// The outputs then live until the process exits; dropping the returned [`Guard`]
    /// flushes them (keep it in `main`, `let _guard = …`, so that the end of `main` flushes).
    ///
    /// Unless [`Builder::panic_hook(false)`](Builder::panic_hook), it also installs
    /// [`crate::panic_hook()`]: panics become ERROR events, failed tasks and tickets.
    ///
    /// Fails when a global subscriber is already installed (an earlier `install()`, or
    /// `tracing_subscriber::fmt().init()`), and when another `log` logger is (the subscriber
    /// is installed then; `.log_bridge(false)` keeps the other logger).
    pub fn install(mut self) -> Result<Guard, InstallError> {
        let log_bridge = self.log_bridge;
        let panic_hook = self.panic_hook;
        let rust_log = read_rust_log()?;
        let (dispatch, background, max_level) = match self.extra.take() {
            Some(extra) => {
                let (s, b, l) = self.compose(rust_log.as_deref(), extra)?;
                (Dispatch::new(s), b, l)
            }
            None => {
                let (s, b, l) = self.compose(rust_log.as_deref(), Identity::new())?;
                (Dispatch::new(s), b, l)
            }
        };
        tracing::dispatcher::set_global_default(dispatch)
            .map_err(|e| InstallError::new(ErrorKind::AlreadyInstalled, Some(Box::new(e))))?;
        let guard = Guard::owning(background).install();
        if panic_hook {
            crate::panic_hook();
        }
        if log_bridge {
            tracing_log::LogTracer::builder()
                .with_max_level(level_to_log(max_level))
                .init()
                .map_err(|e| InstallError::new(ErrorKind::LogBridge, Some(Box::new(e))))?;
        }
        Ok(guard)
    }
}

/// `RUST_LOG`, read once per `install()`/`build()`: `None` when unset or blank.
fn read_rust_log() -> Result<Option<String>, InstallError> {
    match std::env::var("RUST_LOG") {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(InstallError::new(
            ErrorKind::Filter {
                directive: v.to_string_lossy().into_owned(),
                origin: FilterOrigin::RustLog,
                reason: Some("not valid UTF-8"),
            },
            None,
        )),
    }
}

/// Opens the SQLite tickets database at `path`, creating its missing folders.
#[cfg(feature = "tickets")]
fn open_tickets_db(path: &Path) -> Result<taskwire_tickets::Sqlite, InstallError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| {
        InstallError::new(ErrorKind::TicketsDb(path.to_owned()), Some(e))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(Box::new(e)))?;
    }
    taskwire_tickets::Sqlite::open(path).map_err(|e| err(Box::new(e)))
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
