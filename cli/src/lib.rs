//! The library behind the `taskwire` command line: reading the JSON logs that taskwire layers
//! write. The binary is the usual way in (`docs/cli.md`); [`tree::print_trees`] lets a program
//! print its own task trees.

pub mod tree;
