//! `taskwire serve`: the web UI (crate `taskwire-web`) over a tickets database, on
//! 127.0.0.1 by default. Any other address needs an access token.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::config::ConfigArgs;
use crate::store::{self, Access, Failure};

/// Arguments of `taskwire serve`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  taskwire serve --db tickets.db                         http://127.0.0.1:7878/
  taskwire serve --db tickets.db --logs logs/front.jsonl logs/back/   with live tail and metrics
  TASKWIRE_TOKEN=… taskwire serve --db tickets.db --bind 0.0.0.0:7878

Binding an address other than loopback needs --token (or TASKWIRE_TOKEN): every request then \
shows it, through the login link (the printed URL with ?token= and the token appended, which \
sets a session cookie) or an `Authorization: Bearer` header. The token is never printed or \
logged. Exit status: 2 on a usage error or a refused address, 1 when the database cannot be \
opened or the address cannot be bound.")]
pub struct ServeArgs {
    /// The database the tickets layer writes: a SQLite file, or a MongoDB connection string
    /// (`mongodb://host:27017/dbname`).
    #[arg(long, env = "TASKWIRE_DB", value_name = "PATH|URI")]
    db: Option<PathBuf>,

    /// The table prefix the layer was configured with (default: taskwire.toml's, else
    /// `taskwire_`).
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,

    /// Log files, folders or patterns for the live tail and the metrics page (default:
    /// taskwire.toml's log sources).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    logs: Vec<PathBuf>,

    #[command(flatten)]
    config: ConfigArgs,

    /// The address to listen on (port 0: any free port, printed).
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR")]
    bind: SocketAddr,

    /// The access token every request must show (needed for a non-loopback address).
    #[arg(
        long,
        env = "TASKWIRE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,

    /// Live-tail streams open at once; one more is answered 503 (default: taskwire.toml's
    /// `[web] max_live_streams`, else 16).
    #[arg(long, value_name = "N")]
    max_live_streams: Option<usize>,

    /// Where "view trace" goes, as well as the waterfall of the logs: an http(s) URL whose
    /// only placeholder is {trace_id}, such as http://jaeger:16686/trace/{trace_id}
    /// (default: taskwire.toml's `[web] trace_link`).
    #[arg(long, value_name = "URL")]
    trace_link: Option<String>,
}

/// Runs `taskwire serve` until the process is stopped.
pub fn run(args: ServeArgs) -> ExitCode {
    let token = args.token.filter(|t| !t.is_empty());
    if let Err(e) = taskwire_web::check_bind(args.bind, token.is_some()) {
        eprintln!("taskwire: {e}");
        return ExitCode::from(2);
    }
    let config = match args.config.load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("taskwire: {e}");
            return ExitCode::from(2);
        }
    };
    let (db, prefix) =
        match crate::config::store(args.db.clone(), config.as_ref(), args.prefix.clone()) {
            Some((db, prefix)) => (Some(db), prefix),
            None => (None, String::new()),
        };
    let logs = if args.logs.is_empty() {
        config
            .as_ref()
            .map(crate::config::Config::log_sources)
            .unwrap_or_default()
    } else {
        args.logs
    };
    let web = config.as_ref().map(|c| c.web.clone()).unwrap_or_default();
    let mut options = taskwire_web::options().with_token(token).with_logs(logs);
    if let Some(max) = args.max_live_streams.or(web.max_live_streams) {
        options = options.with_max_live_streams(max);
    }
    if let Some(template) = args.trace_link.or(web.trace_link) {
        match template.parse::<taskwire_web::TraceLink>() {
            Ok(link) => options = options.with_trace_link(link),
            Err(e) => {
                eprintln!("taskwire: {e}");
                return ExitCode::from(2);
            }
        }
    }
    match serve(db, &prefix, options, args.bind) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(m)) => {
            eprintln!("taskwire: {m}");
            ExitCode::FAILURE
        }
    }
}

fn serve(
    db: Option<PathBuf>,
    prefix: &str,
    options: taskwire_web::Options,
    bind: SocketAddr,
) -> Result<(), Failure> {
    let store = store::open(db.as_deref(), prefix, Access::Triage)?;
    let has_token = options.has_token();
    let logged = options.log_count();
    let app =
        taskwire_web::router(Box::new(store), options).map_err(|e| Failure(store::chain(&e)))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure(format!("cannot start the server's runtime: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| Failure(format!("cannot listen on {bind}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failure(format!("cannot read the bound address: {e}")))?;
        let shown = match db.as_deref().and_then(|p| p.to_str()) {
            Some(d) if d.starts_with("mongodb") => "a MongoDB database".to_owned(),
            Some(d) => d.to_owned(),
            None => String::new(),
        };
        println!("taskwire: serving the tickets of {shown} at http://{addr}/");
        if has_token {
            println!(
                "taskwire: open http://{addr}/?token= followed by the access token once to log in"
            );
        }
        if logged > 0 {
            println!(
                "taskwire: live tail and metrics over {logged} log source{}",
                if logged == 1 { "" } else { "s" }
            );
        }
        taskwire_web::serve(listener, app)
            .await
            .map_err(|e| Failure(format!("the server stopped: {e}")))
    })
}
