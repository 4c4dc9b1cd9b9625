//! A counting global allocator: [`CountingAllocator`] forwards every call to the system
//! allocator and counts, per thread, the allocations and reallocations made, and for the whole
//! process the live and peak heap bytes.
//!
//! A test binary (or bench) installs it once, in its own file (so no other test disturbs the
//! counts it cares about):
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: taskwire_test_support::CountingAllocator = taskwire_test_support::CountingAllocator;
//!
//! let ((), counted) = taskwire_test_support::alloc::count(|| work());
//! assert_eq!(counted.total(), 0);
//! ```
//!
//! [`count`] measures one region on the calling thread only: the test harness and other tests
//! allocate on their own threads without disturbing it. [`live_bytes`] and [`peak_bytes`] see
//! every thread.
// `GlobalAlloc` is an unsafe trait; every method only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

/// Forwards to the system allocator and counts (see the [module docs](self)).
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAllocator;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static REALLOCS: Cell<u64> = const { Cell::new(0) };
}

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn bump(counter: &'static std::thread::LocalKey<Cell<u64>>) {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    let _ = counter.try_with(|c| c.set(c.get() + 1));
}

fn grow(delta: isize) {
    let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`. The counting around the calls
// touches only const-initialised thread-local `Cell`s and atomics, which neither allocate nor
// unwind.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS);
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size() as isize);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&REALLOCS);
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grow(new_size as isize - layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
}

/// What one thread asked of the allocator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocations {
    /// New blocks (`alloc` and `alloc_zeroed`).
    pub allocs: u64,
    /// Blocks resized (`realloc`).
    pub reallocs: u64,
}

impl Allocations {
    /// Every call that may have gone to the heap: `allocs + reallocs`.
    pub fn total(&self) -> u64 {
        self.allocs + self.reallocs
    }
}

impl std::ops::Sub for Allocations {
    type Output = Allocations;

    fn sub(self, earlier: Allocations) -> Allocations {
        Allocations {
            allocs: self.allocs - earlier.allocs,
            reallocs: self.reallocs - earlier.reallocs,
        }
    }
}

/// The calling thread's counts since it started. Two readings subtract to the region between
/// them; [`count`] does that around a closure.
pub fn this_thread() -> Allocations {
    Allocations {
        allocs: ALLOCS.with(Cell::get),
        reallocs: REALLOCS.with(Cell::get),
    }
}

/// Runs `f` and returns what it allocated on the calling thread.
///
/// Panics if [`CountingAllocator`] is not the binary's `#[global_allocator]`: a count of zero
/// must mean nothing was allocated, never that nothing was counted.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, Allocations) {
    assert_installed();
    let before = this_thread();
    let r = f();
    let after = this_thread();
    (r, after - before)
}

/// Calls `f` ten times to warm up (buffers grow to size, call sites' plans are built), then
/// `n` times: the heap calls of those `n`.
///
/// ```
/// use taskwire_test_support::alloc::calls_after_warm_up;
/// use taskwire_test_support::CountingAllocator;
///
/// #[global_allocator]
/// static ALLOCATOR: CountingAllocator = CountingAllocator;
///
/// let mut buf = Vec::new();
/// let heap_calls = calls_after_warm_up(100, || {
///     buf.clear();
///     buf.extend_from_slice(b"reused");
/// });
/// assert_eq!(heap_calls, 0);
/// ```
pub fn calls_after_warm_up(n: usize, mut f: impl FnMut()) -> u64 {
    for _ in 0..10 {
        f();
    }
    let ((), counted) = count(|| {
        for _ in 0..n {
            f();
        }
    });
    counted.total()
}

/// Panics unless [`CountingAllocator`] counts this binary's allocations.
pub fn assert_installed() {
    let before = this_thread();
    drop(black_box(Box::new(black_box(1_u64))));
    assert!(
        this_thread().allocs > before.allocs,
        "taskwire_test_support::CountingAllocator is not this binary's #[global_allocator]"
    );
}

/// Bytes allocated and not yet freed, by every thread.
pub fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// The most [`live_bytes`] has been since the process started or [`reset_peak`].
pub fn peak_bytes() -> isize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak at the current [`live_bytes`], and returns it.
pub fn reset_peak() -> isize {
    let now = live_bytes();
    PEAK.store(now, Ordering::Relaxed);
    now
}
