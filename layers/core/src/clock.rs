//! The process's monotonic clock for span timing: nanoseconds since a process-wide origin,
//! read from the CPU's time-stamp counter when the kernel itself keeps time with it, from
//! [`Instant`] otherwise.
//!
//! A timed span costs four clock reads (creation, enter, exit, close), so the clock is a
//! measurable part of every timing layer: on x86-64 Linux in a KVM guest `Instant::now()` takes
//! ~30 ns, `rdtsc` ~10 ns. The counter is used only when the kernel's clocksource is `tsc` (the
//! kernel found it invariant and synchronized across CPUs) and the CPU reports an invariant
//! counter; its rate is measured once per process against `Instant` over 2 ms.
//!
//! ```
//! use taskwire_core::clock;
//!
//! let a = clock::now();
//! let b = clock::now();
//! assert!(b >= a);
//! // Back to an `Instant`, for APIs that want one.
//! assert!(clock::to_instant(b) >= clock::to_instant(a));
//! ```

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where the clock counts from, and how it reads time.
#[derive(Debug)]
struct Origin {
    instant: Instant,
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )]
    tsc: Option<tsc::Tsc>,
}

fn origin() -> &'static Origin {
    static ORIGIN: OnceLock<Origin> = OnceLock::new();
    ORIGIN.get_or_init(|| {
        let tsc = tsc::Tsc::new();
        // The `Instant` first, then the counter's origin: a reading maps to an `Instant` no
        // later than the moment it was taken, up to the drift of the counter's measured rate.
        let instant = Instant::now();
        Origin {
            instant,
            tsc: tsc.map(tsc::Tsc::restart),
        }
    })
}

/// Nanoseconds since the process's clock origin (the first read). Monotonic on one thread;
/// across threads as monotonic as the kernel's own clock.
#[inline]
pub fn now() -> u64 {
    let o = origin();
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if let Some(t) = &o.tsc {
        return t.now();
    }
    u64::try_from(o.instant.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The [`Instant`] of a reading of [`now`].
pub fn to_instant(nanos: u64) -> Instant {
    origin().instant + Duration::from_nanos(nanos)
}

/// Whether the clock reads the time-stamp counter (otherwise [`Instant`]).
pub fn is_tsc() -> bool {
    origin().tsc.is_some()
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod tsc {
    use std::time::{Duration, Instant};

    /// The time-stamp counter, scaled to nanoseconds since its origin.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Tsc {
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

    impl Tsc {
        /// The counter, when the kernel keeps time with it; its rate measured over 2 ms.
        pub(super) fn new() -> Option<Tsc> {
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
            if !(mult > (1u64 << 32) as f64 / 20.0 && mult < (10u64 << 32) as f64) {
                return None;
            }
            Some(Tsc {
                origin: read(),
                mult: mult as u64,
            })
        }

        /// The same counter, counting from now.
        pub(super) fn restart(self) -> Tsc {
            Tsc {
                origin: read(),
                ..self
            }
        }

        #[inline]
        pub(super) fn now(&self) -> u64 {
            let ticks = read().saturating_sub(self.origin);
            ((u128::from(ticks) * u128::from(self.mult)) >> 32) as u64
        }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
mod tsc {
    /// No counter read on this platform: [`Instant`](std::time::Instant) is used.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Tsc;

    impl Tsc {
        pub(super) fn new() -> Option<Tsc> {
            None
        }

        pub(super) fn restart(self) -> Tsc {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock agrees with `Instant` over a real interval (1% is far more than a wrongly
    /// scaled counter would miss by, far less than any plausible scaling error). Each reading is
    /// bracketed by two `Instant` readings, so a preemption between them widens the accepted
    /// range instead of failing the test.
    #[test]
    fn agrees_with_instant_over_an_interval() {
        // The first reading sets the clock up (2 ms of calibration): not inside the interval.
        now();
        let (i0, a, i1) = (Instant::now(), now(), Instant::now());
        // Busy-wait on `Instant` itself: no sleep, the interval is what `Instant` says.
        while i0.elapsed() < Duration::from_millis(50) {
            std::hint::spin_loop();
        }
        let (j0, b, j1) = (Instant::now(), now(), Instant::now());
        let got = (b - a) as f64;
        let shortest = j0.duration_since(i1).as_nanos() as f64;
        let longest = j1.duration_since(i0).as_nanos() as f64;
        assert!(
            got >= shortest * 0.99 && got <= longest * 1.01,
            "clock measured {got} ns, Instant between {shortest} and {longest} ns (tsc: {})",
            is_tsc()
        );
    }

    /// Readings map to `Instant`s in order, and near the moment they were taken: a counter's
    /// rate is measured over 2 ms, so over a long run its readings may drift ahead of (or
    /// behind) `Instant` by the calibration error (the 1% of the test above), never more.
    #[test]
    fn readings_map_back_to_instants() {
        let a = now();
        let i = to_instant(a);
        let b = now();
        assert!(to_instant(b) >= i);
        let at = Instant::now();
        let off = at
            .checked_duration_since(i)
            .or_else(|| i.checked_duration_since(at))
            .unwrap_or_default();
        let since_origin = at.duration_since(origin().instant);
        assert!(
            off <= since_origin / 100 + Duration::from_millis(1),
            "a reading maps {off:?} away from its moment, {since_origin:?} after the origin"
        );
    }

    #[test]
    fn monotonic_on_one_thread() {
        let mut last = now();
        for _ in 0..10_000 {
            let n = now();
            assert!(n >= last);
            last = n;
        }
    }
}
