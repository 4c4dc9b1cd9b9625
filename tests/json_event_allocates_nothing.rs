//! In steady state the JSON layer renders and writes an event without a single heap
//! allocation: span fields are rendered when recorded, per-callsite decisions are cached, and the
//! line is built in a reused per-thread buffer.
//!
//! The workload is the benchmark's (`benches/json.rs`): an `info!` with a message and five
//! fields (an `i64`, an `f64`, a `bool`, a 20-character `&str` and a `Display` value via `%`)
//! inside two nested, entered spans of three fields each, written to a no-op `MakeWriter`.
//!
//! The same holds for the builder's stack with two JSON outputs: the event is rendered once
//! and the same bytes are written to both, through a reused per-thread tap.
//!
//! A counting global allocator sees every allocation of this test binary; only those made on
//! a test's own thread while counting is switched on are counted, per thread, so the tests of
//! this file do not see each other's allocations.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::io;
use std::net::Ipv4Addr;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    }
}

/// Forwards to the system allocator and counts allocations made while counting is on.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`. The counting around the calls
// touches only const-initialised thread-local `Cell`s, which neither allocate nor unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A writer that takes every byte and throws it away.
#[derive(Clone, Copy)]
struct Noop;

impl io::Write for Noop {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(black_box(buf).len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Noop {
    type Writer = Noop;

    fn make_writer(&'a self) -> Noop {
        Noop
    }
}

const ADDR: Ipv4Addr = Ipv4Addr::new(192, 168, 100, 254);

fn event() {
    tracing::info!(
        user_id = 1_234_567_i64,
        ratio = 0.75_f64,
        ok = true,
        customer = "abcdefghijklmnopqrst",
        addr = %ADDR,
        "order placed"
    );
}

/// Warms up, then counts the allocations of 1,000 events inside two nested spans.
fn allocations_of_events() -> u64 {
    let _outer = tracing::info_span!(
        "request",
        method = "POST",
        route = "/api/v1/orders",
        attempt = 1_u64
    )
    .entered();
    let _inner =
        tracing::info_span!("db", table = "orders", rows = 42_i64, cached = false).entered();

    // Warm-up: the thread's buffers grow to size and the callsites' plans are built.
    for _ in 0..10 {
        event();
    }

    ALLOCATIONS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    for _ in 0..EVENTS {
        event();
    }
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

const EVENTS: u64 = 1000;

#[test]
fn a_json_event_in_steady_state_allocates_nothing() {
    let subscriber = tracing_subscriber::registry().with(taskwire_json::layer().with_writer(Noop));
    let allocations = tracing::subscriber::with_default(subscriber, allocations_of_events);
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations over {EVENTS} events; expected none"
    );
}

#[test]
fn a_builder_event_to_two_outputs_allocates_nothing() {
    let (dispatch, _guard) = taskwire::builder()
        .json(Noop)
        .json(Noop)
        .build()
        .expect("build");
    let allocations = tracing::dispatcher::with_default(&dispatch, allocations_of_events);
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations over {EVENTS} events; expected none"
    );
}
