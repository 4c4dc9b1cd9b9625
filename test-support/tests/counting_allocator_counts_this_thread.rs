//! The counting allocator, installed as this binary's global allocator, counts the calling
//! thread's allocations and nothing of other threads, and follows live and peak bytes.

use std::hint::black_box;

use taskwire_test_support::alloc::{self, count, live_bytes, peak_bytes, reset_peak};
use taskwire_test_support::CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn a_region_counts_its_own_allocations_only() {
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
    reset_peak();
    let before = live_bytes();
    let big = black_box(vec![0_u8; 1 << 20]);
    assert!(live_bytes() - before >= 1 << 20);
    drop(big);
    assert!(peak_bytes() - before >= 1 << 20);
    alloc::assert_installed();
}
