//! What the two services of the example (`front` and `back`) share: their command line,
//! their taskwire setup, and how they learn to stop.

use std::path::{Path, PathBuf};

/// A service's command line: `--port PORT`, `--log PATH`, `--tickets PATH`, `--stop-on-eof`,
/// and for `front` `--back URL`; the environment variables `PORT`, `LOG_FILE`, `TICKETS_DB` and
/// `BACK_URL` set the defaults.
pub(crate) struct Args {
    pub(crate) port: u16,
    pub(crate) log: PathBuf,
    /// The tickets database (SQLite) both services may share; none: no tickets.
    pub(crate) tickets: Option<PathBuf>,
    pub(crate) stop_on_eof: bool,
    /// The back service's base URL, for a service started with `back_default`.
    #[allow(dead_code)] // Read by `front` only.
    pub(crate) back: Option<String>,
}

/// Parses the command line of service `name` (`--back` only when `back_default` is given); on
/// a bad argument or `--help`, prints what was wrong and `usage`, and exits with status 2.
pub(crate) fn args(
    name: &str,
    usage: &str,
    default_port: &str,
    back_default: Option<&str>,
) -> Args {
    match parse(name, default_port, back_default) {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("{name}: {msg}");
            }
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

fn parse(name: &str, default_port: &str, back_default: Option<&str>) -> Result<Args, String> {
    let mut port = std::env::var("PORT").unwrap_or_else(|_| default_port.to_owned());
    let mut back = back_default.map(|d| std::env::var("BACK_URL").unwrap_or_else(|_| d.to_owned()));
    let mut log = std::env::var_os("LOG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/two-services")
                .join(format!("{name}.log"))
        });
    let mut tickets = std::env::var_os("TICKETS_DB").map(PathBuf::from);
    let mut stop_on_eof = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => port = it.next().ok_or("--port needs a value")?,
            "--back" if back.is_some() => back = Some(it.next().ok_or("--back needs a value")?),
            "--log" => log = it.next().ok_or("--log needs a value")?.into(),
            "--tickets" => tickets = Some(it.next().ok_or("--tickets needs a value")?.into()),
            "--stop-on-eof" => stop_on_eof = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    let port = port
        .parse()
        .map_err(|_| format!("`{port}` is not a port number"))?;
    Ok(Args {
        port,
        log,
        tickets,
        stop_on_eof,
        back: back.map(|b| b.trim_end_matches('/').to_owned()),
    })
}

/// Installs taskwire for service `name`: tasks, JSON lines to standard output and to `log`,
/// and (with `tickets`) errors grouped into tickets there, each error's line carrying its
/// ticket's fingerprint. Keep the guard until the server has stopped: dropping it flushes the
/// log file and the tickets.
pub(crate) fn install(
    name: &'static str,
    log: &Path,
    tickets: Option<&Path>,
) -> Result<taskwire::Guard, taskwire::InstallError> {
    #[allow(unused_mut)] // without the `tickets` feature
    let mut builder = taskwire::builder()
        .service(name)
        .tasks(taskwire::tasks::layer())
        .json(std::io::stdout)
        .json_file(log);
    #[cfg(feature = "tickets")]
    if let Some(db) = tickets {
        builder = builder.tickets_db(db);
    }
    #[cfg(not(feature = "tickets"))]
    if tickets.is_some() {
        eprintln!("{name}: built without the `tickets` feature: --tickets is ignored");
    }
    builder.install()
}

/// Resolves on Ctrl-C, `SIGTERM`, or (when `stop_on_eof`) the end of standard input, and logs
/// which came.
pub(crate) async fn shutdown_signal(stop_on_eof: bool) {
    let reason = stop_reason(stop_on_eof).await;
    tracing::info!(reason, "shutting down");
}

/// Waits for Ctrl-C, SIGTERM or, with `stop_on_eof`, the end of standard input (how the
/// end-to-end test stops a service it started), and says which came.
async fn stop_reason(stop_on_eof: bool) -> &'static str {
    let eof = async move {
        if stop_on_eof {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            std::thread::spawn(move || {
                // Read and discard until EOF (or a read error), then signal.
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                let _ = tx.send(());
            });
            let _ = rx.await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = eof => "standard input closed",
        () = ctrl_c => "Ctrl-C",
        () = term => "SIGTERM",
    }
}
