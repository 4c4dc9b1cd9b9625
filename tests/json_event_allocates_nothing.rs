//! In steady state the JSON layer renders and writes an event without a single heap
//! allocation: span fields are rendered when recorded, per-callsite decisions are cached, and the
//! line is built in a reused per-thread buffer.
//!
//! The workload is the benchmark's (`benches/json.rs`): an `info!` with a message and five
//! fields (an `i64`, an `f64`, a `bool`, a 20-character `&str` and a `Display` value via `%`)
//! inside two nested, entered spans of three fields each, written to a no-op `MakeWriter`.
//!
//! A counting global allocator sees every allocation of this test binary; only those made on
//! the test's own thread while counting is switched on are counted. The allocator is global to
//! the binary, so this file holds this one test.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation() {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Forwards to the system allocator and counts allocations made while counting is on.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`. The counting around the calls
// touches only an atomic and a const-initialised thread-local `Cell<bool>`, neither of which
// allocates or can unwind.
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

#[test]
fn a_json_event_in_steady_state_allocates_nothing() {
    let subscriber = tracing_subscriber::registry().with(taskwire_json::layer().with_writer(Noop));
    tracing::subscriber::with_default(subscriber, || {
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

        const EVENTS: u64 = 1000;
        COUNTING.with(|c| c.set(true));
        for _ in 0..EVENTS {
            event();
        }
        COUNTING.with(|c| c.set(false));

        let allocations = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(
            allocations, 0,
            "{allocations} heap allocations over {EVENTS} events; expected none"
        );
    });
}
