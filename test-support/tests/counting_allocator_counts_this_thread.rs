//! The counting allocator, installed as this binary's global allocator, counts the calling
//! thread's allocations and nothing of other threads, and follows live and peak bytes.

use std::hint::black_box;

use taskwire_test_support::alloc::{self, count, live_bytes, peak_bytes, reset_peak};
use taskwire_test_support::CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Live and peak bytes are process-wide: the tests of this binary take turns so that one's
/// frees do not show in the other's byte counts.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What the test harness's own threads may allocate or free meanwhile (messages, names).
const SLACK: isize = 64 << 10;

#[test]
fn a_region_counts_its_own_allocations_only() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (v, counted) = count(|| {
        let mut v: Vec<u64> = black_box(Vec::with_capacity(1));
        v.push(1);
        v.push(2);
        v
    });
    assert_eq!(counted.allocs, 1, "{counted:?}");
    assert!(counted.reallocs >= 1, "{counted:?}");
    drop(v);

    let ((), nothing) = count(|| {
        std::thread::scope(|s| {
            s.spawn(|| drop(black_box(vec![0_u8; 64])));
        });
    });
    // Spawning allocates on this thread; the other thread's vector is not counted here.
    let ((), spawn_only) = count(|| {
        std::thread::scope(|s| {
            s.spawn(|| ());
        });
    });
    assert_eq!(nothing.allocs, spawn_only.allocs);
}

#[test]
fn live_and_peak_bytes_follow_the_heap() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    reset_peak();
    let before = live_bytes();
    let big = black_box(vec![0_u8; 1 << 20]);
    assert!(live_bytes().saturating_sub(before) >= (1 << 20) - SLACK);
    drop(big);
    assert!(peak_bytes().saturating_sub(before) >= (1 << 20) - SLACK);
    alloc::assert_installed();
}
