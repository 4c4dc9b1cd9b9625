//! The log sources of the UI (`taskwire serve --logs`, `taskwire.toml`): expanded into files
//! with [`taskwire_explore::source`], followed by the live tail, read whole by the metrics
//! page.

use std::path::{Path, PathBuf};

use taskwire_explore::source::{self, Source};

/// The log sources as given: files, folders, patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Logs {
    args: Vec<PathBuf>,
}

impl Logs {
    pub(crate) fn new(args: Vec<PathBuf>) -> Logs {
        Logs { args }
    }

    /// Whether no source was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Every file the sources name now (rotated and gzipped ones included), in reading
    /// order, and the arguments that named nothing readable. Standard input is never one.
    pub(crate) fn files(&self) -> (Vec<PathBuf>, Vec<String>) {
        if self.args.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let (sources, errors) = source::expand(&self.args);
        let files = sources
            .into_iter()
            .filter_map(|s| match s {
                Source::File(p) => Some(p),
                Source::Stdin => None,
            })
            .collect();
        (files, errors.iter().map(ToString::to_string).collect())
    }

    /// The files that are written to now: [`Logs::files`] without rotated (`app.log.1`) and
    /// gzipped ones, which are history.
    pub(crate) fn live_files(&self) -> (Vec<PathBuf>, Vec<String>) {
        let (files, errors) = self.files();
        (files.into_iter().filter(|p| is_live(p)).collect(), errors)
    }
}

fn is_live(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    source::rotation(name).1.is_none() && !name.ends_with(".gz")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_and_gzipped_files_are_not_followed() {
        assert!(is_live(Path::new("/var/log/app.jsonl")));
        assert!(!is_live(Path::new("/var/log/app.jsonl.1")));
        assert!(!is_live(Path::new("/var/log/app.jsonl.2.gz")));
    }

    #[test]
    fn no_sources_name_no_files_not_standard_input() {
        assert_eq!(Logs::default().files(), (Vec::new(), Vec::new()));
    }
}
