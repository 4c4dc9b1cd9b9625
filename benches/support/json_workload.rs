//! The workload of the JSON benchmarks (`benches/json.rs`), shared with the test that holds
//! the JSON layer to zero allocations on it (`tests/json_event_allocates_nothing.rs`): an
//! `info!` with a message and five fields (an `i64`, an `f64`, a `bool`, a 20-character `&str`
//! and a `Display` value via `%`) inside two nested, entered spans of three fields each.
#![allow(dead_code)]

use std::net::Ipv4Addr;

use tracing::{info, info_span};

/// The `%` field: a `Display` value rendered per event.
pub(crate) const ADDR: Ipv4Addr = Ipv4Addr::new(192, 168, 100, 254);

/// Runs `f` inside the two entered spans of the workload.
#[inline(never)]
pub(crate) fn in_spans<R>(f: impl FnOnce() -> R) -> R {
    let _outer = info_span!(
        "request",
        method = "POST",
        route = "/api/v1/orders",
        attempt = 1_u64
    )
    .entered();
    let _inner = info_span!("db", table = "orders", rows = 42_i64, cached = false).entered();
    f()
}

/// The event of the workload.
#[inline(never)]
pub(crate) fn event() {
    info!(
        user_id = 1_234_567_i64,
        ratio = 0.75_f64,
        ok = true,
        customer = "abcdefghijklmnopqrst",
        addr = %ADDR,
        "order placed"
    );
}
