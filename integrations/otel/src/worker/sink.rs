//! The exporters the export thread drives, made object-safe, and the factories that build
//! them on that thread.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

/// An exporter of spans, object-safe (the SDK's trait returns `impl Future`).
pub(crate) trait SpanSink: Send {
    fn export(&mut self, batch: Vec<SpanData>) -> OTelSdkResult;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
}

impl<E: SpanExporter + 'static> SpanSink for E {
    fn export(&mut self, batch: Vec<SpanData>) -> OTelSdkResult {
        futures_executor::block_on(SpanExporter::export(self, batch))
    }
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(self, timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }
}

/// An exporter of log records, object-safe.
pub(crate) trait LogSink: Send {
    fn export(&mut self, batch: LogBatch<'_>) -> OTelSdkResult;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
}

impl<E: LogExporter + 'static> LogSink for E {
    fn export(&mut self, batch: LogBatch<'_>) -> OTelSdkResult {
        futures_executor::block_on(LogExporter::export(self, batch))
    }
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        LogExporter::shutdown_with_timeout(self, timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        LogExporter::set_resource(self, resource);
    }
}

/// Builds the exporters on the export thread (the blocking HTTP client must not be made on
/// an async runtime's thread).
pub(crate) type SinkFactory<T> =
    Box<dyn FnOnce() -> Result<Box<T>, Box<dyn std::error::Error + Send + Sync>> + Send>;
