//! The taskwire workspace's test kit: what the tests and benches of every crate share, written
//! once (like sentry-core's `test` feature). Not published; a dev-dependency only.
//!
//! | module | holds |
//! |---|---|
//! | [`writer`] | [`Capture`]: a `MakeWriter` into a shared buffer with line and JSON readers; [`Discard`]; [`Slow`] |
//! | [`json_line`] | checks of one JSON line: one object, no raw line break, no repeated key; keys in order; raw values |
//! | [`alloc`] | [`CountingAllocator`] to install with `#[global_allocator]`, and the scoped counters |
//! | [`hostile`] | proptest strategies for hostile inputs: header bytes, strings that break writers, stored junk |
//! | [`services`] | the services `scripts/test` starts (MongoDB, OpenTelemetry collector, chromedriver), read from the environment |
//! | [`http_sink`] | [`HttpSink`]: a real HTTP server on 127.0.0.1 recording what is posted (webhook tests) |
//! | [`process`] | a test binary re-running one of its tests in a child process |
//! | [`temp`] | [`TempDir`], removed on drop |
//!
//! ```
//! use taskwire_test_support::Capture;
//! use tracing_subscriber::fmt::MakeWriter;
//! use std::io::Write;
//!
//! let out = Capture::default();
//! writeln!(out.make_writer(), r#"{{"msg":"hello"}}"#).unwrap();
//! assert_eq!(out.json_lines()[0]["msg"], "hello");
//! ```
//!
//! Features: `tokio` (`Capture::wait_for_async`), `sqlite` (`hostile::sqlite`).

pub mod alloc;
pub mod hostile;
pub mod http_sink;
pub mod json_line;
pub mod process;
pub mod services;
pub mod temp;
pub mod writer;

pub use alloc::CountingAllocator;
pub use http_sink::HttpSink;
pub use json_line::Record;
pub use temp::TempDir;
pub use writer::{Capture, Discard, Slow};
