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
    match serve(db, &prefix, args.bind, token) {
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
    bind: SocketAddr,
    token: Option<String>,
) -> Result<(), Failure> {
    let store = store::open(db.as_deref(), prefix, Access::Triage)?;
    let has_token = token.is_some();
    let app = taskwire_web::router(Box::new(store), taskwire_web::options().with_token(token))
        .map_err(|e| Failure(store::chain(&e)))?;
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
        taskwire_web::serve(listener, app)
            .await
            .map_err(|e| Failure(format!("the server stopped: {e}")))
    })
}
