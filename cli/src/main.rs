//! The `taskwire` command line.
fn main() {}
