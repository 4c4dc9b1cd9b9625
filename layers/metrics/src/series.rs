//! What one label set records into: the in-app aggregates, a [`Meter`] (count and moving
//! rates) and a [`Timer`] (a meter plus a sliding window of histograms), and with them the
//! facade handles: a [`Counted`] counter and a [`SpanSeries`] of span timings.
//!
//! Recording is lock-free: an atomic add into the current window slot's histogram, the lifetime
//! count and sum, and (rarely) a new window minimum or maximum. Every 5 seconds (one rate
//! tick) the first caller to notice, recording or reading, takes a short per-series lock to fold
//! the finished tick into the moving rates and, when a slot's time is up, to recycle the oldest
//! slot. Memory is fixed once the slots have seen their octaves.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use taskwire_core::{SpanId, TraceId};

use crate::ewma::{Rates, TICK_NANOS};
use crate::export::{self, names};
use crate::histogram::{HistogramSnapshot, SlottedHistogram};
use crate::labels::Labels;
use crate::span::Sample;
use crate::stripe::{self, StripedU64};

/// The sliding window of a [`Timer`]: `slots` slots of `slot_ticks` rate ticks each; readers see
/// the current slot and the `slots - 1` before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) slots: u32,
    pub(crate) slot_ticks: u64,
}

impl Window {
    /// The window covering at least `d`, in slots of `slot` (rounded to whole 5-second ticks).
    pub(crate) fn new(d: std::time::Duration, slot: std::time::Duration) -> Self {
        let tick = TICK_NANOS as u128;
        let slot_ticks = (slot.as_nanos().div_ceil(tick)).max(1) as u64;
        let slot_nanos = u128::from(slot_ticks) * tick;
        let full = d.as_nanos().div_ceil(slot_nanos).clamp(1, 64) as u32;
        Window {
            slots: full + 1,
            slot_ticks,
        }
    }

    /// The span of time the full slots cover, in nanoseconds.
    pub(crate) fn nanos(&self) -> u64 {
        u64::from(self.slots - 1) * self.slot_ticks * TICK_NANOS
    }
}

/// A sample's trace, kept for the slowest sample of a slot.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) value: u64,
    pub(crate) ids: Option<(TraceId, SpanId)>,
}

/// Rate bookkeeping, under the series lock.
struct MeterState {
    last_tick: u64,
    count_at_last_tick: u64,
    rates: Rates,
    /// The newest slot epoch set up (timers only).
    slot_epoch: u64,
}

/// A count with moving rates (Dropwizard's `Meter`, scales' `MeterStat`).
pub(crate) struct Meter {
    count: StripedU64,
    /// The tick the series is set up for; a caller in a later tick runs the upkeep first.
    tick: AtomicU64,
    state: Mutex<MeterState>,
}

impl Meter {
    pub(crate) fn new(now: u64) -> Self {
        let tick = now / TICK_NANOS;
        Meter {
            count: StripedU64::default(),
            tick: AtomicU64::new(tick),
            state: Mutex::new(MeterState {
                last_tick: tick,
                count_at_last_tick: 0,
                rates: Rates::default(),
                slot_epoch: 0,
            }),
        }
    }

    /// Counts `n` events at `now`.
    #[inline]
    pub(crate) fn mark(&self, n: u64, now: u64) {
        let tick = now / TICK_NANOS;
        if tick != self.tick.load(Ordering::Acquire) {
            self.advance(tick);
        }
        self.count.add(n);
    }

    /// Folds finished ticks into the rates and moves the meter to `tick`.
    #[cold]
    fn advance(&self, tick: u64) {
        if let Some(_st) = self.upkeep(tick) {
            self.tick.store(tick, Ordering::Release);
        }
    }

    /// Folds finished ticks into the rates. Returns the locked state when `tick` is newer than
    /// the last one folded (the caller then recycles slots, if it has any, and publishes `tick`
    /// before unlocking), `None` otherwise.
    fn upkeep(&self, tick: u64) -> Option<MutexGuard<'_, MeterState>> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if tick <= st.last_tick {
            return None;
        }
        let count = self.count.load(Ordering::Acquire);
        let (since, idle) = (
            count.wrapping_sub(st.count_at_last_tick),
            tick - st.last_tick - 1,
        );
        st.rates.tick(since);
        st.rates.idle(idle);
        st.count_at_last_tick = count;
        st.last_tick = tick;
        Some(st)
    }

    /// The lifetime count.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// `(mean, m1, m5, m15)` events per second as of `now`.
    pub(crate) fn rates(&self, now: u64) -> (f64, f64, f64, f64) {
        self.advance(now / TICK_NANOS);
        self.rates_as_of(now)
    }

    /// The rates without moving the meter (a timer moves its meter itself).
    fn rates_as_of(&self, now: u64) -> (f64, f64, f64, f64) {
        let (m1, m5, m15) = self
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .rates
            .get();
        // Since the layer was built (the clock's origin), as for a meter registered at start.
        let secs = now as f64 / 1e9;
        let mean = if secs > 0.0 {
            self.count() as f64 / secs
        } else {
            0.0
        };
        (mean, m1, m5, m15)
    }
}

/// One slot of a timer's window (its histogram is in the timer's [`SlottedHistogram`]).
struct Slot {
    epoch: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
    exemplar: Mutex<Exemplar>,
}

impl Slot {
    fn new(epoch: u64) -> Self {
        Slot {
            epoch: AtomicU64::new(epoch),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
            exemplar: Mutex::new(Exemplar::default()),
        }
    }

    fn reset(&self, epoch: u64) {
        self.min.store(u64::MAX, Ordering::Relaxed);
        self.max.store(0, Ordering::Relaxed);
        *self.exemplar.lock().unwrap_or_else(|e| e.into_inner()) = Exemplar::default();
        self.epoch.store(epoch, Ordering::Release);
    }
}

/// A meter plus a sliding window of histograms (scales' `PmfStat`, Dropwizard's `Timer`), of
/// nanosecond values.
pub(crate) struct Timer {
    meter: Meter,
    sum: StripedU64,
    slots: Box<[Slot]>,
    /// The index of the current slot.
    current: AtomicUsize,
    hist: SlottedHistogram,
    slot_ticks: u64,
    /// The window's p99 as of the last upkeep, for slow-span warnings (`u64::MAX`: unknown).
    p99: AtomicU64,
    /// Whether upkeep refreshes `p99`.
    track_p99: bool,
    /// The window's count at the last upkeep.
    window_count: AtomicU64,
    /// The tick of the last slow-span warning, plus one (0: never).
    last_warning: AtomicU64,
}

/// What a reader gets from a timer.
pub(crate) struct TimerRead {
    pub(crate) count: u64,
    pub(crate) sum: u64,
    pub(crate) min: u64,
    pub(crate) max: u64,
    pub(crate) exemplar: Exemplar,
}

impl Timer {
    pub(crate) fn new(now: u64, window: Window, track_p99: bool) -> Self {
        let meter = Meter::new(now);
        let epoch = (now / TICK_NANOS) / window.slot_ticks;
        meter
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .slot_epoch = epoch;
        let n = u64::from(window.slots);
        // Slot `i` holds the epochs `≡ i (mod n)`; the newest of them not after `epoch`.
        let slots = (0..n)
            .map(|i| {
                let back = (epoch % n + n - i) % n;
                Slot::new(epoch.wrapping_sub(back))
            })
            .collect();
        Timer {
            meter,
            sum: StripedU64::default(),
            slots,
            current: AtomicUsize::new((epoch % n) as usize),
            hist: SlottedHistogram::new(n as usize),
            slot_ticks: window.slot_ticks,
            p99: AtomicU64::new(u64::MAX),
            track_p99,
            window_count: AtomicU64::new(0),
            last_warning: AtomicU64::new(0),
        }
    }

    /// Records `value` at `now`, with the trace it came from.
    #[inline]
    pub(crate) fn record(&self, value: u64, now: u64, ids: Option<(TraceId, SpanId)>) {
        let tick = now / TICK_NANOS;
        if tick != self.meter.tick.load(Ordering::Acquire) {
            self.upkeep(tick);
        }
        // The slot of the current tick, set by the upkeep: no division on this path.
        let i = self.current.load(Ordering::Relaxed);
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        let stripe = stripe::index();
        self.hist.record(stripe, i, value);
        if value < slot.min.load(Ordering::Relaxed) {
            slot.min.fetch_min(value, Ordering::Relaxed);
        }
        if value > slot.max.load(Ordering::Relaxed)
            && value > slot.max.fetch_max(value, Ordering::Relaxed)
        {
            // A new slowest sample: keep its trace. Never wait for the lock.
            if let Ok(mut ex) = slot.exemplar.try_lock() {
                if value >= ex.value {
                    *ex = Exemplar { value, ids };
                }
            }
        }
        self.sum.add_at(stripe, value);
        self.meter.count.add_at(stripe, 1);
    }

    /// Moves the series to `tick`: folds rates, recycles slots whose time is over, and refreshes
    /// the p99 used for slow-span warnings.
    #[cold]
    fn upkeep(&self, tick: u64) {
        let Some(mut st) = self.meter.upkeep(tick) else {
            return;
        };
        let epoch = tick / self.slot_ticks;
        if epoch > st.slot_epoch {
            let n = self.slots.len() as u64;
            let first = (st.slot_epoch + 1).max(epoch.saturating_sub(n - 1));
            for e in first..=epoch {
                let i = (e % n) as usize;
                self.hist.clear(i);
                self.slots[i].reset(e);
            }
            st.slot_epoch = epoch;
            self.current.store((epoch % n) as usize, Ordering::Relaxed);
            if self.track_p99 {
                let (count, p99) = with_scratch(|snap| {
                    self.add_window(snap, epoch);
                    (snap.count(), snap.value_at_quantile(0.99) as u64)
                });
                self.window_count.store(count, Ordering::Relaxed);
                self.p99
                    .store(if count > 0 { p99 } else { u64::MAX }, Ordering::Relaxed);
            }
        }
        // Published after the slots are recycled: a caller that sees `tick` writes into a
        // clean slot.
        self.meter.tick.store(tick, Ordering::Release);
        drop(st);
    }

    /// Adds the histograms of the window ending at slot `epoch`.
    fn add_window(&self, snap: &mut HistogramSnapshot, epoch: u64) -> (u64, u64, Exemplar) {
        let n = self.slots.len() as u64;
        let (mut min, mut max, mut ex) = (u64::MAX, 0, Exemplar::default());
        for (i, s) in self.slots.iter().enumerate() {
            let e = s.epoch.load(Ordering::Acquire);
            if e > epoch || epoch - e >= n {
                continue;
            }
            self.hist.add_to(i, snap);
            min = min.min(s.min.load(Ordering::Relaxed));
            max = max.max(s.max.load(Ordering::Relaxed));
            let se = *s.exemplar.lock().unwrap_or_else(|e| e.into_inner());
            if se.value >= ex.value && se.value > 0 {
                ex = se;
            }
        }
        (min, max, ex)
    }

    /// Brings the series to `now` and adds its window's histograms to `snap`.
    pub(crate) fn read(&self, now: u64, snap: &mut HistogramSnapshot) -> TimerRead {
        let tick = now / TICK_NANOS;
        self.upkeep(tick);
        let (min, max, exemplar) = self.add_window(snap, tick / self.slot_ticks);
        TimerRead {
            count: self.meter.count(),
            sum: self.sum.load(Ordering::Relaxed),
            min,
            max,
            exemplar,
        }
    }

    /// `(mean, m1, m5, m15)` samples per second as of `now`.
    pub(crate) fn rates(&self, now: u64) -> (f64, f64, f64, f64) {
        self.upkeep(now / TICK_NANOS);
        self.meter.rates_as_of(now)
    }

    /// Whether `value` is above the window's p99 (known after one slot with at least
    /// `min_samples` samples in the window), and no warning was given for this series in the
    /// last `interval_ticks` ticks. Claims the warning when it returns the p99.
    pub(crate) fn slow(
        &self,
        value: u64,
        now: u64,
        min_samples: u64,
        interval_ticks: u64,
    ) -> Option<u64> {
        let p99 = self.p99.load(Ordering::Relaxed);
        if value <= p99 || self.window_count.load(Ordering::Relaxed) < min_samples {
            return None;
        }
        let tick = now / TICK_NANOS + 1;
        let last = self.last_warning.load(Ordering::Relaxed);
        if last != 0 && tick < last + interval_ticks {
            return None;
        }
        self.last_warning
            .compare_exchange(last, tick, Ordering::Relaxed, Ordering::Relaxed)
            .ok()
            .map(|_| p99)
    }

    /// Heap bytes held by the histograms.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.hist.heap_bytes() + self.slots.len() * std::mem::size_of::<Slot>()
    }
}

/// A counter: a facade handle and the in-app meter.
pub(crate) struct Counted {
    pub(crate) handle: metrics::Counter,
    pub(crate) meter: Meter,
}

impl Counted {
    pub(crate) fn new(metric: &'static str, labels: &Labels, now: u64) -> Self {
        Counted {
            handle: export::counter(metric, labels),
            meter: Meter::new(now),
        }
    }

    #[inline]
    pub(crate) fn add(&self, n: u64, now: u64) {
        self.handle.increment(n);
        self.meter.mark(n, now);
    }
}

/// The series behind one span label set.
pub(crate) struct SpanSeries {
    pub(crate) wall: Timer,
    wall_handle: metrics::Histogram,
    pub(crate) busy: Option<(Timer, metrics::Histogram)>,
    /// Failures of this label set: counted in-app and through the facade, without `outcome`.
    pub(crate) failures: OnceLock<Counted>,
}

impl SpanSeries {
    /// The series of `labels`: wall time (tracking its p99 for slow-span warnings when
    /// `track_p99`), busy time when `busy`.
    pub(crate) fn new(
        labels: &Labels,
        now: u64,
        window: Window,
        busy: bool,
        track_p99: bool,
    ) -> Self {
        SpanSeries {
            wall: Timer::new(now, window, track_p99),
            wall_handle: export::histogram(names::SPAN_DURATION, labels),
            busy: busy.then(|| {
                (
                    Timer::new(now, window, false),
                    export::histogram(names::SPAN_BUSY, labels),
                )
            }),
            failures: OnceLock::new(),
        }
    }

    #[inline]
    pub(crate) fn record(&self, labels: &Labels, sample: &Sample, now: u64) {
        self.wall.record(sample.wall, now, sample.ids);
        self.wall_handle.record(sample.wall as f64 / 1e9);
        if let Some((t, h)) = &self.busy {
            t.record(sample.busy, now, sample.ids);
            h.record(sample.busy as f64 / 1e9);
        }
        if sample.failed {
            self.failures
                .get_or_init(|| {
                    let labels: Labels = labels
                        .iter()
                        .filter(|(k, _)| k != "outcome")
                        .cloned()
                        .collect();
                    Counted::new(names::TASK_FAILURES, &labels, now)
                })
                .add(1, now);
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Option<HistogramSnapshot>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` on this thread's scratch snapshot (allocated once per thread), cleared afterwards.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut HistogramSnapshot) -> R) -> R {
    let pooled = SCRATCH
        .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.take()))
        .ok()
        .flatten();
    // Re-entered, or the thread is exiting: a fresh one.
    let mut snap = pooled.unwrap_or_default();
    let out = f(&mut snap);
    snap.clear();
    let _ = SCRATCH.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            *s = Some(snap);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const S: u64 = 1_000_000_000;

    #[test]
    fn window_forgets_old_slots() {
        let w = Window::new(Duration::from_secs(60), Duration::from_secs(10));
        assert_eq!(
            w,
            Window {
                slots: 7,
                slot_ticks: 2
            }
        );
        let t = Timer::new(0, w, false);
        t.record(5 * S, 1, None);
        let mut snap = HistogramSnapshot::new();
        assert_eq!(t.read(69 * S, &mut snap).max, 5 * S);
        assert_eq!(snap.count(), 1);
        snap.clear();
        let r = t.read(70 * S, &mut snap);
        assert_eq!(snap.count(), 0);
        assert_eq!(r.count, 1);
        assert_eq!(r.max, 0);
    }

    #[test]
    fn slots_are_reused_after_a_long_pause() {
        let w = Window::new(Duration::from_secs(10), Duration::from_secs(5));
        let t = Timer::new(0, w, false);
        for i in 0..100 {
            t.record(i, 0, None);
        }
        t.record(7, 1_000 * S, None);
        let mut snap = HistogramSnapshot::new();
        let r = t.read(1_000 * S, &mut snap);
        assert_eq!(snap.count(), 1);
        assert_eq!((r.min, r.max, r.count), (7, 7, 101));
    }

    #[test]
    fn exemplar_is_the_slowest_sample() {
        let w = Window::new(Duration::from_secs(60), Duration::from_secs(10));
        let t = Timer::new(0, w, false);
        let id = |n| Some((TraceId::from_u128(n), SpanId::from_u64(n as u64)));
        t.record(10, 0, id(1));
        t.record(30, 11 * S, id(2));
        t.record(20, 21 * S, id(3));
        let mut snap = HistogramSnapshot::new();
        let r = t.read(25 * S, &mut snap);
        assert_eq!(r.exemplar.value, 30);
        assert_eq!(r.exemplar.ids, id(2));
    }

    #[test]
    fn meter_ticks_follow_the_schedule() {
        let m = Meter::new(0);
        m.mark(3, S);
        let (_, m1, _, _) = m.rates(5 * S);
        assert!((m1 - 0.6).abs() < 1e-12);
        let (mean, m1, _, _) = m.rates(65 * S);
        assert!((m1 - 0.220_727_66).abs() < 1e-8);
        assert!((mean - 3.0 / 65.0).abs() < 1e-12);
        let late = Meter::new(60 * S);
        late.mark(6, 61 * S);
        assert!((late.rates(120 * S).0 - 6.0 / 120.0).abs() < 1e-12);
    }
}
