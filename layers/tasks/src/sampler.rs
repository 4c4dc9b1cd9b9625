//! Head sampling: decided once at the root of a trace, carried in the W3C sampled flag.

use taskwire_core::TraceId;

/// Which root tasks are sampled.
///
/// The decision depends only on the trace id (like OpenTelemetry's `TraceIdRatioBased`), so
/// every process that sees a trace agrees, and a task imported from another process keeps the
/// sampled flag it arrived with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampler {
    /// Roots whose trace id's low 64 bits fall below this are sampled.
    threshold: u64,
    ratio: f64,
}

impl Default for Sampler {
    /// Samples every trace.
    fn default() -> Self {
        Sampler::ratio(1.0)
    }
}

impl Sampler {
    /// Samples about `ratio` (0.0 to 1.0, clamped; NaN means 0) of the root tasks.
    ///
    /// ```
    /// use taskwire_tasks::Sampler;
    /// let s = Sampler::ratio(0.25);
    /// assert_eq!(s.get_ratio(), 0.25);
    /// ```
    pub fn ratio(ratio: f64) -> Self {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        let threshold = if ratio >= 1.0 {
            u64::MAX
        } else {
            (ratio * (u64::MAX as f64)) as u64
        };
        Sampler { threshold, ratio }
    }

    /// The configured ratio.
    pub fn get_ratio(&self) -> f64 {
        self.ratio
    }

    /// Whether a root task of trace `id` is sampled.
    pub fn sample(&self, id: TraceId) -> bool {
        if self.threshold == u64::MAX {
            return true;
        }
        (id.to_u128() as u64) < self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_respected_and_deterministic() {
        let s = Sampler::ratio(0.3);
        let ids: Vec<TraceId> = (0..20_000).map(|_| TraceId::random()).collect();
        let kept = ids.iter().filter(|id| s.sample(**id)).count();
        assert!((5_400..6_600).contains(&kept), "{kept}");
        assert!(ids.iter().all(|id| s.sample(*id) == s.sample(*id)));
        assert!(ids.iter().all(|id| Sampler::ratio(1.0).sample(*id)));
        assert!(!ids.iter().any(|id| Sampler::ratio(0.0).sample(*id)));
        assert!(!ids.iter().any(|id| Sampler::ratio(f64::NAN).sample(*id)));
    }
}
