//! Shared helpers: the subscriber under test (registry + taskwire-tasks + taskwire-json into a
//! `Capture`), waiting for a task's record, and a valid incoming `traceparent`.
//!
//! Each test binary uses a subset of these helpers.
#![allow(dead_code, unreachable_pub)]

pub mod local;
#[cfg(feature = "axum")]
pub mod server;

use serde_json::Value;
use taskwire_test_support::json_line::{is_task_end, Record};
use taskwire_test_support::Capture;

/// Waiting for records in a test that runs the server on its own runtime.
pub trait WaitForTask {
    /// Waits for the `task.end` record of the task named `name`.
    async fn task_end(&self, name: &str) -> Record;
}

impl WaitForTask for Capture {
    async fn task_end(&self, name: &str) -> Record {
        self.wait_for_async(&format!("task.end of {name:?}"), |r| {
            is_task_end(r) && r.get("task.name").and_then(Value::as_str) == Some(name)
        })
        .await
    }
}

/// registry + taskwire-tasks + taskwire-json into a `Capture`.
pub use taskwire_test_stack::tasks_and_json as subscriber;

/// A valid incoming `traceparent` and its parts.
pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// The remote parent's span id in [`TRACEPARENT`].
pub const PARENT_ID: &str = "00f067aa0ba902b7";
/// `00-{TRACE_ID}-{PARENT_ID}-01`.
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
