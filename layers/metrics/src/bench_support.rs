use std::sync::Arc;

use crate::family::Entry;
use crate::labels::{push_key, with_key};
use crate::layer::MetricsLayer;
use crate::series::SpanSeries;
use crate::span::Sample;

/// The per-span recording of the layer in isolation (no registry, no lookups), for the
/// benchmark that compares it with its primitives.
pub struct SpanRecording {
    layer: MetricsLayer,
    entry: Arc<Entry<SpanSeries>>,
}

impl Default for SpanRecording {
    fn default() -> Self {
        let layer = MetricsLayer::default();
        let now = layer.now();
        let entry = with_key(|key| {
            push_key(key, "name", "bench");
            layer.span_entry(key, now)
        });
        SpanRecording { layer, entry }
    }
}

impl SpanRecording {
    /// What `on_new_span` does for timing: read the clock.
    #[inline]
    pub fn start(&self) -> u64 {
        self.layer.now()
    }

    /// What `on_close` does once it has the span's series: read the clock, record in-app and
    /// through the facade handle.
    #[inline]
    pub fn finish(&self, start: u64) {
        let now = self.layer.now();
        let sample = Sample {
            wall: now.saturating_sub(start),
            busy: 0,
            failed: false,
            ids: None,
        };
        self.entry.value.record(&self.entry.labels, &sample, now);
    }
}
