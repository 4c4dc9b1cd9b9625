//! Reading the workspace's source tree: its files, and each crate's module graph from the
//! text of its sources (see the test file's docs for the rules).

mod graph;
mod scan;
mod tokens;

pub(crate) use graph::{cycles, packages, relative, rust_files};
pub(crate) use scan::scan;
