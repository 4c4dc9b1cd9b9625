//! Time, as the metrics layer sees it: taskwire's process clock ([`taskwire_core::clock`]: the
//! CPU's time-stamp counter when the kernel itself keeps time with it, the monotonic system clock
//! otherwise), or a [`ManualClock`] that tests move by hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A clock that only moves when told to, for tests of rates, windows and durations without
/// sleeping. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use taskwire_metrics::ManualClock;
///
/// let clock = ManualClock::new();
/// let layer = taskwire_metrics::layer().with_clock(clock.clone());
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.elapsed(), Duration::from_secs(5));
/// # drop(layer);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        ManualClock::default()
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let n = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(n, Ordering::Relaxed);
    }

    /// The time since the clock was created, as moved so far.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

/// The layer's time source: nanoseconds since an origin.
#[derive(Clone, Debug, Default)]
pub(crate) enum Clock {
    /// taskwire's process clock ([`taskwire_core::clock`]): the time-stamp counter where the
    /// kernel keeps time with it, `Instant` otherwise.
    #[default]
    Process,
    Manual(ManualClock),
}

impl Clock {
    /// Nanoseconds since the clock's origin.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self {
            Clock::Process => taskwire_core::clock::now(),
            Clock::Manual(m) => m.nanos.load(Ordering::Relaxed),
        }
    }
}
