//! [`InstallError`]: what failed in [`Builder::install`](super::Builder::install) or
//! [`Builder::build`](super::Builder::build), and where.

use std::fmt;
use std::path::PathBuf;

type Source = Box<dyn std::error::Error + Send + Sync>;

/// Why [`Builder::install`](super::Builder::install) or [`Builder::build`](super::Builder::build)
/// failed.
///
/// `Display` says what failed and where (the directive and whether it came from `RUST_LOG`,
/// the path of an output); `source()` gives the underlying error. `Debug` writes the message
/// followed by its sources, so `fn main() -> Result<(), InstallError>` prints a readable
/// `Error: …` line when it fails.
///
/// ```
/// let err = taskwire::builder().default_filter("info,my_app=loud").build().unwrap_err();
/// assert!(err.to_string().contains("`my_app=loud` in default_filter"), "{err}");
/// ```
pub struct InstallError {
    kind: ErrorKind,
    source: Option<Source>,
}

/// Where a filter directive came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FilterOrigin {
    RustLog,
    DefaultFilter,
    SpanFilter,
}

impl fmt::Display for FilterOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FilterOrigin::RustLog => "RUST_LOG",
            FilterOrigin::DefaultFilter => "default_filter",
            FilterOrigin::SpanFilter => "span_filter",
        })
    }
}

#[derive(Debug)]
pub(super) enum ErrorKind {
    #[cfg(feature = "otel")]
    Otel,
    /// A directive that does not parse, with the reason when taskwire itself rejected it.
    Filter {
        directive: String,
        origin: FilterOrigin,
        reason: Option<&'static str>,
    },
    Output(PathBuf),
    #[cfg(feature = "tickets")]
    TicketsDb(PathBuf),
    #[cfg(feature = "tickets")]
    TicketsStore,
    LogBridge,
    AlreadyInstalled,
    /// The address `/metrics` could not be served on.
    #[cfg(feature = "prometheus")]
    PrometheusServe(std::net::SocketAddr),
    /// The Prometheus recorder could not be installed (another `metrics` recorder is).
    #[cfg(feature = "prometheus")]
    PrometheusRecorder,
}

impl InstallError {
    pub(super) fn new(kind: ErrorKind, source: Option<Source>) -> Self {
        InstallError { kind, source }
    }

    /// Whether a global subscriber was already installed (by an earlier `install()`, or by
    /// another library such as `tracing_subscriber::fmt().init()`).
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let _guard = taskwire::builder().json(std::io::stdout).install()?;
    /// let again = taskwire::builder().json(std::io::stdout).install();
    /// assert!(again.is_err_and(|e| e.is_already_installed()));
    /// # Ok(()) }
    /// ```
    pub fn is_already_installed(&self) -> bool {
        matches!(self.kind, ErrorKind::AlreadyInstalled)
    }
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            #[cfg(feature = "otel")]
            ErrorKind::Otel => f.write_str("invalid OpenTelemetry export settings"),
            ErrorKind::Filter {
                directive,
                origin,
                reason,
            } => {
                write!(f, "invalid filter directive `{directive}` in {origin}")?;
                if let Some(reason) = reason {
                    write!(f, ": {reason}")?;
                }
                Ok(())
            }
            ErrorKind::Output(p) => write!(f, "cannot open log output {}", p.display()),
            #[cfg(feature = "tickets")]
            ErrorKind::TicketsDb(p) => {
                write!(f, "cannot open the tickets database {}", p.display())
            }
            #[cfg(feature = "tickets")]
            ErrorKind::TicketsStore => f.write_str("cannot open the tickets store"),
            ErrorKind::LogBridge => f.write_str(
                "a `log` logger is already installed, so `log` records cannot be bridged \
                 (the tracing subscriber was installed; use `.log_bridge(false)` to keep the \
                 other logger)",
            ),
            ErrorKind::AlreadyInstalled => {
                f.write_str("a global tracing subscriber is already installed")
            }
            #[cfg(feature = "prometheus")]
            ErrorKind::PrometheusServe(addr) => {
                write!(f, "cannot serve Prometheus metrics on {addr}")
            }
            #[cfg(feature = "prometheus")]
            ErrorKind::PrometheusRecorder => f.write_str(
                "cannot install the Prometheus recorder: a `metrics` recorder is already \
                 installed in this process",
            ),
        }
    }
}

/// The message and its sources, `: `-separated: what `main` prints for an `Err`.
impl fmt::Debug for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

impl std::error::Error for InstallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A store that failed to open (`.tickets(Sqlite::open(path)?)` inside a function returning
/// `Result<_, InstallError>`).
///
/// ```no_run
/// fn main() -> Result<(), taskwire::InstallError> {
///     let _guard = taskwire::builder()
///         .tickets(taskwire::tickets::Sqlite::open("tickets.db")?)
///         .install()?;
///     Ok(())
/// }
/// ```
#[cfg(feature = "tickets")]
impl From<taskwire_tickets::store::OpenError> for InstallError {
    fn from(e: taskwire_tickets::store::OpenError) -> Self {
        InstallError::new(ErrorKind::TicketsStore, Some(Box::new(e)))
    }
}
