//! Exponentially weighted moving average rates over 1, 5 and 15 minutes, ticked every 5
//! seconds: the load-average style rates of Dropwizard Metrics' `Meter` and Python scales'
//! `MeterStat` (`m1`, `m5`, `m15`).
//!
//! Each tick folds in the events of the 5 seconds that just ended:
//! `rate += alpha * (count / 5 s - rate)` with `alpha = 1 - exp(-5 s / window)`; the first tick
//! sets the rate to its instant rate. Ticks are computed lazily from elapsed time, by whoever
//! records or reads next; no thread wakes up to tick.

/// The tick interval, in nanoseconds.
pub(crate) const TICK_NANOS: u64 = 5_000_000_000;
const TICK_SECS: f64 = 5.0;

/// One moving average.
#[derive(Clone, Copy, Debug)]
struct Ewma {
    alpha: f64,
    rate: f64,
    initialized: bool,
}

impl Ewma {
    fn minutes(m: f64) -> Self {
        Ewma {
            alpha: 1.0 - (-TICK_SECS / 60.0 / m).exp(),
            rate: 0.0,
            initialized: false,
        }
    }

    fn tick(&mut self, count: u64) {
        let instant = count as f64 / TICK_SECS;
        if self.initialized {
            self.rate += self.alpha * (instant - self.rate);
        } else {
            self.rate = instant;
            self.initialized = true;
        }
    }

    /// `n` ticks without events.
    fn idle(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        if !self.initialized {
            // The first tick of an idle meter sets the rate to zero.
            self.initialized = true;
            self.rate = 0.0;
            return;
        }
        let keep = (1.0 - self.alpha).powf(n as f64);
        self.rate *= keep;
    }
}

/// The 1-, 5- and 15-minute rates of one meter, in events per second.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rates {
    m1: Ewma,
    m5: Ewma,
    m15: Ewma,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            m1: Ewma::minutes(1.0),
            m5: Ewma::minutes(5.0),
            m15: Ewma::minutes(15.0),
        }
    }
}

impl Rates {
    /// One tick that saw `count` events.
    pub(crate) fn tick(&mut self, count: u64) {
        self.m1.tick(count);
        self.m5.tick(count);
        self.m15.tick(count);
    }

    /// `n` ticks that saw none.
    pub(crate) fn idle(&mut self, n: u64) {
        self.m1.idle(n);
        self.m5.idle(n);
        self.m15.idle(n);
    }

    /// `(m1, m5, m15)` in events per second.
    pub(crate) fn get(&self) -> (f64, f64, f64) {
        (self.m1.rate, self.m5.rate, self.m15.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Dropwizard Metrics' EWMATest: 3 events in the first tick, then idle.
    #[test]
    fn dropwizard_schedule() {
        let mut r = Rates::default();
        r.tick(3);
        assert!((r.get().0 - 0.6).abs() < 1e-12);
        r.idle(12);
        let (m1, m5, m15) = r.get();
        assert!((m1 - 0.220_727_66).abs() < 1e-8, "{m1}");
        assert!((m5 - 0.491_238_45).abs() < 1e-8, "{m5}");
        assert!((m15 - 0.561_304_19).abs() < 1e-8, "{m15}");
    }

    #[test]
    fn idle_equals_zero_ticks() {
        let mut a = Rates::default();
        let mut b = Rates::default();
        a.tick(100);
        b.tick(100);
        a.idle(7);
        for _ in 0..7 {
            b.tick(0);
        }
        assert!((a.get().0 - b.get().0).abs() < 1e-12);
        assert!((a.get().2 - b.get().2).abs() < 1e-12);
    }
}
