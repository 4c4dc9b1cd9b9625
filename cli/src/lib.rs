//! The library behind the `taskwire` command line: reading the JSON logs that taskwire layers
//! write (`tree`, `tail`), and the tickets the tickets layer keeps; a project's `taskwire.toml`
//! says where both are. The binary is the usual way in
//! (`docs/cli.md`); [`tree::print_trees`] and [`tickets::print_tickets`] let a program print its
//! own task trees and tickets.

mod args;
mod config;
pub mod serve;
mod store;
pub mod tail;
mod text;
pub mod tickets;
pub mod tree;
