//! The workload both ticket benchmarks share: ten ERROR call sites, one per function, like the
//! Logbook benchmark (ten tickets), and the multi-threaded run that feeds them.

use std::sync::{Arc, Barrier};
use std::time::Instant;

/// How many call sites (tickets) the workload has.
pub(crate) const SITES: usize = 10;

fn s0(i: usize) {
    tracing::error!(i, "site 0 failed for item {}", i);
}
fn s1(i: usize) {
    tracing::error!(i, "site 1 failed for item {}", i);
}
fn s2(i: usize) {
    tracing::error!(i, "site 2 failed for item {}", i);
}
fn s3(i: usize) {
    tracing::error!(i, "site 3 failed for item {}", i);
}
fn s4(i: usize) {
    tracing::error!(i, "site 4 failed for item {}", i);
}
fn s5(i: usize) {
    tracing::error!(i, "site 5 failed for item {}", i);
}
fn s6(i: usize) {
    tracing::error!(i, "site 6 failed for item {}", i);
}
fn s7(i: usize) {
    tracing::error!(i, "site 7 failed for item {}", i);
}
fn s8(i: usize) {
    tracing::error!(i, "site 8 failed for item {}", i);
}
fn s9(i: usize) {
    tracing::error!(i, "site 9 failed for item {}", i);
}

/// The call sites, by index.
pub(crate) static SITE_FNS: [fn(usize); SITES] = [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9];

/// Sends `per_thread` events from each of `threads` threads through `dispatch`, all threads
/// starting together, each walking the call sites from its own offset; returns the seconds from
/// the start until the last thread is done.
pub(crate) fn run_threads(dispatch: &tracing::Dispatch, threads: usize, per_thread: usize) -> f64 {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let d = dispatch.clone();
            let b = barrier.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    b.wait();
                    for i in 0..per_thread {
                        SITE_FNS[(i + t) % SITES](i);
                    }
                })
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().expect("a bench thread panicked");
    }
    start.elapsed().as_secs_f64()
}
