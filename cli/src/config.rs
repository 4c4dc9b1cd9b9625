//! `taskwire.toml`: where a project's tickets store and logs are, so that `taskwire tree`,
//! `taskwire tail` and `taskwire tickets` need no paths.
//!
//! ```toml
//! [tickets]
//! store = "var/tickets.db"          # a SQLite file, or mongodb://host:27017/dbname
//! prefix = "taskwire_"              # optional: the layer's table prefix
//!
//! [services.front]
//! logs = ["var/log/front.jsonl"]    # files (with their rotations), folders, patterns
//!
//! [services.back]
//! logs = ["var/log/back/", "/srv/back/*.jsonl"]
//!
//! [web]                             # taskwire serve
//! max_live_streams = 16             # live-tail streams open at once
//! trace_link = "http://jaeger:16686/trace/{trace_id}"   # "view trace" in Jaeger, Tempo, …
//! ```
//!
//! The file is `--config PATH`, else `TASKWIRE_CONFIG`, else the first `taskwire.toml` found in
//! the current folder or a folder above it. Relative paths are relative to the file's folder.
//! An unknown key is an error that names its line, so a typo is not silently ignored. Files
//! and `--db` given on the command line win over the file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

/// The file's name, looked for upward from the current folder.
pub(crate) const FILE_NAME: &str = "taskwire.toml";

/// `--config`, shared by the commands that read it.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct ConfigArgs {
    /// The project configuration (default: the first taskwire.toml upward from the current
    /// folder).
    #[arg(
        long = "config",
        env = "TASKWIRE_CONFIG",
        value_name = "FILE",
        global = true
    )]
    path: Option<PathBuf>,
}

impl ConfigArgs {
    /// The configuration named on the command line or found upward; `None` when there is none.
    pub(crate) fn load(&self) -> Result<Option<Config>, ConfigError> {
        let path = match &self.path {
            Some(p) => p.clone(),
            None => match std::env::current_dir().ok().and_then(|d| find_upward(&d)) {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        Config::read(&path).map(Some)
    }
}

/// The first `taskwire.toml` in `dir` or a folder above it.
pub(crate) fn find_upward(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// A project configuration, its relative paths resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    /// Where it was read from.
    pub(crate) path: PathBuf,
    /// The tickets store: a file path, or a MongoDB connection string.
    pub(crate) store: Option<PathBuf>,
    /// The store's table prefix.
    pub(crate) prefix: Option<String>,
    /// Log sources per service, in the file's order of services (by name).
    pub(crate) services: BTreeMap<String, Vec<PathBuf>>,
    /// The `[web]` section: `taskwire serve`'s settings.
    pub(crate) web: WebConfig,
}

/// The `[web]` section: settings of `taskwire serve` that its flags override.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebConfig {
    /// Live-tail streams open at once.
    pub(crate) max_live_streams: Option<usize>,
    /// Where "view trace" goes: a URL with `{trace_id}` (checked by `taskwire serve`).
    pub(crate) trace_link: Option<String>,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tickets: Option<TicketsSection>,
    #[serde(default)]
    services: BTreeMap<String, ServiceSection>,
    #[serde(default)]
    web: WebConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketsSection {
    store: Option<String>,
    prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceSection {
    #[serde(default)]
    logs: Vec<String>,
}

/// A configuration that could not be read or understood.
#[derive(Debug)]
pub(crate) struct ConfigError {
    path: PathBuf,
    message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Whether a store names a MongoDB deployment rather than a file.
pub(crate) fn is_mongodb_uri(s: &str) -> bool {
    s.starts_with("mongodb://") || s.starts_with("mongodb+srv://")
}

impl Config {
    /// Reads and checks the file at `path`.
    pub(crate) fn read(path: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Config::parse(&text, path).map_err(err)
    }

    /// Parses `text` as the file at `path` (relative paths are resolved against its folder).
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Config, String> {
        let file: File = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            format!("{at}{}", e.message())
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() || dir.as_os_str().is_empty() {
                p.to_path_buf()
            } else {
                dir.join(p)
            }
        };
        let (store, prefix) = match file.tickets {
            Some(t) => (
                t.store.map(|s| {
                    if is_mongodb_uri(&s) {
                        PathBuf::from(s)
                    } else {
                        resolve(&s)
                    }
                }),
                t.prefix,
            ),
            None => (None, None),
        };
        let services = file
            .services
            .into_iter()
            .map(|(name, s)| (name, s.logs.iter().map(|l| resolve(l)).collect()))
            .collect();
        Ok(Config {
            path: path.to_path_buf(),
            store,
            prefix,
            services,
            web: file.web,
        })
    }

    /// Every service's log sources.
    pub(crate) fn log_sources(&self) -> Vec<PathBuf> {
        self.services.values().flatten().cloned().collect()
    }
}

/// The logs to read when the command line names none: standard input when something is piped
/// or redirected into it (`my-service | taskwire tail`), else the configuration's log sources,
/// else standard input (an empty list means standard input).
pub(crate) fn default_logs(config: Option<&Config>) -> Vec<PathBuf> {
    if crate::args::stdin_has_input() {
        return Vec::new();
    }
    config.map(Config::log_sources).unwrap_or_default()
}

/// The tickets store and table prefix: `--db` (or `TASKWIRE_DB`) and `--prefix` first, then
/// the configuration's; the prefix defaults to the layer's.
pub(crate) fn store(
    db: Option<PathBuf>,
    config: Option<&Config>,
    prefix: Option<String>,
) -> Option<(PathBuf, String)> {
    let db = db.or_else(|| config.and_then(|c| c.store.clone()))?;
    let prefix = prefix
        .or_else(|| config.and_then(|c| c.prefix.clone()))
        .unwrap_or_else(|| taskwire_tickets::store::DEFAULT_PREFIX.to_owned());
    Some((db, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[tickets]
store = "var/tickets.db"
prefix = "app_"

[services.front]
logs = ["var/log/front.jsonl"]

[services.back]
logs = ["var/log/back/", "/srv/back/*.jsonl"]
"#;

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        let c = Config::parse(FULL, Path::new("/proj/taskwire.toml")).unwrap();
        assert_eq!(c.store, Some(PathBuf::from("/proj/var/tickets.db")));
        assert_eq!(c.prefix.as_deref(), Some("app_"));
        assert_eq!(
            c.log_sources(),
            [
                PathBuf::from("/proj/var/log/back/"),
                PathBuf::from("/srv/back/*.jsonl"),
                PathBuf::from("/proj/var/log/front.jsonl"),
            ]
        );
    }

    #[test]
    fn a_mongodb_store_is_kept_as_written() {
        let c = Config::parse(
            "[tickets]\nstore = \"mongodb://db1:27017/app\"\n",
            Path::new("/p/taskwire.toml"),
        )
        .unwrap();
        assert_eq!(c.store, Some(PathBuf::from("mongodb://db1:27017/app")));
        assert!(c.services.is_empty());
    }

    #[test]
    fn the_web_section_holds_serve_settings_and_is_checked() {
        let c = Config::parse(
            "[web]\nmax_live_streams = 4\n",
            Path::new("/p/taskwire.toml"),
        )
        .unwrap();
        assert_eq!(c.web.max_live_streams, Some(4));
        let c = Config::parse(
            "[web]\ntrace_link = \"http://jaeger:16686/trace/{trace_id}\"\n",
            Path::new("/p/taskwire.toml"),
        )
        .unwrap();
        assert_eq!(
            c.web.trace_link.as_deref(),
            Some("http://jaeger:16686/trace/{trace_id}")
        );
        let none = Config::parse("", Path::new("/p/taskwire.toml")).unwrap();
        assert_eq!(none.web, WebConfig::default());
        let e =
            Config::parse("[web]\nmax_streams = 4\n", Path::new("/p/taskwire.toml")).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_its_line() {
        let e = Config::parse(
            "[tickets]\nstore = \"t.db\"\n\n[services.front]\nlog = [\"a\"]\n",
            Path::new("taskwire.toml"),
        )
        .unwrap_err();
        assert!(e.starts_with("line 5: "), "{e}");
        assert!(e.contains("unknown field `log`"), "{e}");
        let e = Config::parse("[ticket]\n", Path::new("taskwire.toml")).unwrap_err();
        assert!(e.starts_with("line 1: "), "{e}");
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let e = Config::parse("[tickets]\nstore = \n", Path::new("taskwire.toml")).unwrap_err();
        assert!(e.starts_with("line 2: "), "{e}");
    }

    #[test]
    fn the_file_is_found_in_a_folder_above() {
        let dir = taskwire_test_support::temp::TempDir::new("config-upward");
        let deep = dir.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_upward(&deep), find_upward(dir.path()));
        std::fs::write(dir.join("a/taskwire.toml"), "").unwrap();
        assert_eq!(find_upward(&deep), Some(dir.join("a/taskwire.toml")));
    }
}
