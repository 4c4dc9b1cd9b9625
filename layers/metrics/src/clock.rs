//! Time, as the metrics layer sees it: the CPU's time-stamp counter when the kernel itself
//! keeps time with it, the monotonic system clock otherwise, or a [`ManualClock`] that tests
//! move by hand.
//!
//! A span costs two clock reads (four with busy time), so the clock is a measurable part of
//! the layer: on x86-64 Linux, `Instant::now()` takes ~30 ns in a KVM guest, `rdtsc` ~15 ns.
//! The counter is used only when the kernel's clocksource is `tsc` (so the kernel found it
//! invariant and synchronized across CPUs); its rate is measured once per process against
//! `Instant` over 2 ms.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
#[derive(Clone, Debug)]
pub(crate) enum Clock {
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )]
    Tsc(tsc::Tsc),
    System(Instant),
    Manual(ManualClock),
}

impl Default for Clock {
    fn default() -> Self {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if let Some(t) = tsc::Tsc::new() {
            return Clock::Tsc(t);
        }
        Clock::System(Instant::now())
    }
}

impl Clock {
    /// Nanoseconds since the clock's origin.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self {
            Clock::Tsc(t) => t.now(),
            Clock::System(origin) => u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX),
            Clock::Manual(m) => m.nanos.load(Ordering::Relaxed),
        }
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod tsc {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// The time-stamp counter, scaled to nanoseconds.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Tsc {
        origin: u64,
        /// Nanoseconds per tick, as a 32.32 fixed-point number.
        mult: u64,
    }

    #[inline]
    fn read() -> u64 {
        // SAFETY: `rdtsc` exists on every x86-64 CPU, reads a register and has no memory
        // effects; the intrinsic is `unsafe` only as all `core::arch` intrinsics are.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_rdtsc()
        }
    }

    /// The counter's rate, measured once: `None` when the kernel does not keep time with it.
    fn mult() -> Option<u64> {
        static MULT: OnceLock<Option<u64>> = OnceLock::new();
        *MULT.get_or_init(|| {
            let source = std::fs::read_to_string(
                "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            )
            .ok()?;
            // Invariant TSC: CPUID 8000_0007h, EDX bit 8.
            let invariant = (std::arch::x86_64::__cpuid(0x8000_0007).edx >> 8) & 1 == 1;
            if source.trim() != "tsc" || !invariant {
                return None;
            }
            let (i0, t0) = (Instant::now(), read());
            let mut i1 = Instant::now();
            while i1 - i0 < Duration::from_millis(2) {
                std::hint::spin_loop();
                i1 = Instant::now();
            }
            let t1 = read();
            let ticks = t1.checked_sub(t0).filter(|t| *t > 0)?;
            let ns = (i1 - i0).as_nanos() as f64;
            let mult = ns / ticks as f64 * (1u64 << 32) as f64;
            // A counter slower than 100 MHz or faster than 20 GHz is not believed.
            (mult > (1u64 << 32) as f64 / 20.0 && mult < (10u64 << 32) as f64)
                .then_some(mult as u64)
        })
    }

    impl Tsc {
        pub(crate) fn new() -> Option<Tsc> {
            Some(Tsc {
                mult: mult()?,
                origin: read(),
            })
        }

        #[inline]
        pub(crate) fn now(&self) -> u64 {
            let ticks = read().saturating_sub(self.origin);
            ((u128::from(ticks) * u128::from(self.mult)) >> 32) as u64
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn agrees_with_instant() {
            let Some(t) = Tsc::new() else { return };
            let i = Instant::now();
            let a = t.now();
            std::thread::sleep(Duration::from_millis(20));
            let b = t.now();
            let real = i.elapsed().as_nanos() as f64;
            let got = (b - a) as f64;
            assert!((got - real).abs() / real < 0.01, "{got} vs {real}");
        }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
mod tsc {
    /// No counter on this platform.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Tsc;

    impl Tsc {
        pub(crate) fn now(&self) -> u64 {
            0
        }
    }
}
