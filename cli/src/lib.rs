//! The library behind the `taskwire` command line: reading the JSON logs that taskwire layers
//! write, and the tickets the tickets layer keeps. The binary is the usual way in
//! (`docs/cli.md`); [`tree::print_trees`] and [`tickets::print_tickets`] let a program print its
//! own task trees and tickets.

pub mod serve;
mod text;
pub mod tickets;
pub mod tree;
