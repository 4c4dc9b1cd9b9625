//! Placeholder until the JSON benchmark lands.
fn main() {}
