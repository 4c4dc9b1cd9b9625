//! [`Needs`]: what a taskwire layer asks of the span capture.

use std::fmt;
use std::sync::Arc;

use crate::ids::TraceId;

use super::data::Timing;

/// Decides, for each root span, whether its trace is sampled.
pub(super) type RootSampler = Arc<dyn Fn(TraceId) -> bool + Send + Sync>;

/// What a taskwire layer needs from the capture: every field or only the control fields,
/// which spans are timed, and (the tasks layer) how root spans are sampled.
#[derive(Clone, Default)]
pub struct Needs {
    pub(super) fields: bool,
    pub(super) timing: Timing,
    pub(super) root_sampler: Option<RootSampler>,
    pub(super) layer_timing: Option<u64>,
}

impl fmt::Debug for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Needs")
            .field("fields", &self.fields)
            .field("timing", &self.timing)
            .field("root_sampler", &self.root_sampler.is_some())
            .field("layer_timing", &self.layer_timing)
            .finish()
    }
}

impl Needs {
    /// Reads every span field (without it, only the [control
    /// fields](super::CONTROL_FIELDS) are captured).
    #[must_use]
    pub fn with_fields(mut self, fields: bool) -> Self {
        self.fields = fields;
        self
    }

    /// Needs wall and busy time of the spans `timing` selects.
    #[must_use]
    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// Decides with `sampler` whether the trace of each root span is sampled.
    #[must_use]
    pub fn with_root_sampler(
        mut self,
        sampler: impl Fn(TraceId) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.root_sampler = Some(Arc::new(sampler));
        self
    }

    /// Starts a [`LayerTiming`](super::LayerTiming) owned by layer `owner` in every span's data
    /// when the span is captured ([`clock`](crate::clock) time, tag
    /// [`LayerTiming::UNTAGGED`](super::LayerTiming::UNTAGGED)), so that the layer needs no look
    /// at the span at creation. The first owner asked for keeps it.
    #[must_use]
    pub fn with_layer_timing(mut self, owner: u64) -> Self {
        self.layer_timing = Some(owner);
        self
    }
}
