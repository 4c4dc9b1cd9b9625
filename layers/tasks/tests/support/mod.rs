//! Shared by the test files: the stack under test (the tasks layer + the JSON layer writing to
//! a [`Capture`]) and a busy wait.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use taskwire_test_support::Capture;
use tracing_subscriber::prelude::*;

/// Runs `f` under registry + `layer` + the JSON layer; returns what the JSON layer wrote.
pub(crate) fn run(layer: taskwire_tasks::TasksLayer, f: impl FnOnce()) -> Capture {
    let cap = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(taskwire_json::layer().with_writer(cap.clone()));
    tracing::subscriber::with_default(subscriber, f);
    cap
}

/// Like [`run`], with the spans captured by a capture layer below the tasks layer (as the
/// builder installs it), so the tasks layer and the JSON layer read its capture.
pub(crate) fn run_over_capture_layer(
    layer: taskwire_tasks::TasksLayer,
    f: impl FnOnce(),
) -> Capture {
    let cap = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_core::span::capture())
        .with(layer)
        .with(taskwire_json::layer().with_writer(cap.clone()));
    tracing::subscriber::with_default(subscriber, f);
    cap
}

/// Keeps the thread busy for `d` (busy time, unlike a sleep).
pub(crate) fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {}
}
