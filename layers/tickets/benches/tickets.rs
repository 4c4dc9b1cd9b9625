//! Tickets benchmark: what the layer absorbs, what it adds to the caller, what it stores, and
//! its heap under overload, on Logbook's ticketing workload (ERROR records from 10 call sites).
//!
//! `cargo bench -p taskwire-tickets --bench tickets [-- --json]`; `scripts/bench-tickets` runs
//! it beside `benches/peers/logbook_ticketing_bench.py` and prints one table.
//!
//! 1. absorb: 4 threads × 1,000,000 events into a file database (default settings), then
//!    `flush()`; the stored counts must be exact.
//! 2. latency: one thread, 200,000 events, each call timed (`Instant` around it).
//! 3. stored samples: every event sampled and kept (`with_samples_per_ticket(huge)`), one
//!    producer for 3 s, durable batched commits (WAL, `synchronous = FULL`); samples committed
//!    per second of wall time, including the final flush.
//! 4. heap under sustained overload: 4 threads for 3 s with every event sampled and the default
//!    queue (1024), measured by a counting global allocator: peak bytes allocated above the
//!    baseline taken before the layer was built.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskwire_test_support::{alloc, CountingAllocator, TempDir};
use taskwire_tickets::store::{ListQuery, TicketReader};
use taskwire_tickets::Sqlite;
use taskwire_tickets::{TicketsBuilder, TicketsGuard};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

#[path = "support/sites.rs"]
mod sites;
use sites::{SITES, SITE_FNS};

/// A tickets layer writing into a fresh file database, as one measurement uses it. Dropped in
/// field order: the guard (the writer's last flush), the subscriber, then the folder.
struct Stack {
    guard: TicketsGuard,
    dispatch: Dispatch,
    path: PathBuf,
    _dir: TempDir,
}

/// The tickets layer `configure` makes of the builder, into `tickets.db` in a fresh folder named
/// after `name`.
fn stack(name: &str, configure: impl FnOnce(TicketsBuilder) -> TicketsBuilder) -> Stack {
    let dir = TempDir::new(&format!("bench-{name}"));
    let path = dir.join("tickets.db");
    let (layer, guard) = configure(taskwire_tickets::layer(
        Sqlite::open(&path).expect("the store opens"),
    ))
    .build();
    Stack {
        guard,
        dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
        path,
        _dir: dir,
    }
}

fn stored_total(path: &Path) -> (u64, usize) {
    let store = Sqlite::open(path).expect("the store opens");
    let t = store
        .list(&ListQuery::default().with_limit(1000))
        .expect("the store answers");
    (t.iter().map(|t| t.count).sum(), t.len())
}

struct Absorb {
    events: u64,
    secs: f64,
    flush_ms: f64,
    exact: bool,
    tickets: usize,
}

fn absorb(threads: usize, per_thread: usize) -> Absorb {
    let s = stack("absorb", |b| b);
    let secs = sites::run_threads(&s.dispatch, threads, per_thread);
    let f = Instant::now();
    s.guard.flush().expect("the writer flushes");
    let flush_ms = f.elapsed().as_secs_f64() * 1e3;
    let events = (threads * per_thread) as u64;
    let (total, tickets) = stored_total(&s.path);
    drop(s);
    Absorb {
        events,
        secs,
        flush_ms,
        exact: total == events,
        tickets,
    }
}

struct Latency {
    p50: f64,
    p90: f64,
    p99: f64,
    p999: f64,
    max: f64,
    timer: f64,
}

fn latency(n: usize) -> Latency {
    let s = stack("latency", |b| b);
    let mut lat = Vec::with_capacity(n);
    let mut timer = Vec::with_capacity(n);
    tracing::dispatcher::with_default(&s.dispatch, || {
        // Warm-up: first events create the tickets' groups.
        for i in 0..10_000 {
            SITE_FNS[i % SITES](i);
        }
        for i in 0..n {
            let a = Instant::now();
            SITE_FNS[i % SITES](i);
            lat.push(a.elapsed().as_nanos() as f64);
            let b = Instant::now();
            timer.push(b.elapsed().as_nanos() as f64);
        }
    });
    s.guard.flush().expect("the writer flushes");
    drop(s);
    lat.sort_by(f64::total_cmp);
    timer.sort_by(f64::total_cmp);
    let pct =
        |v: &[f64], p: f64| v[((p / 100.0) * v.len() as f64) as usize].min(v[v.len() - 1]) / 1e3;
    Latency {
        p50: pct(&lat, 50.0),
        p90: pct(&lat, 90.0),
        p99: pct(&lat, 99.0),
        p999: pct(&lat, 99.9),
        max: lat[lat.len() - 1] / 1e3,
        timer: pct(&timer, 50.0),
    }
}

struct Stored {
    samples: u64,
    secs: f64,
    dropped: u64,
    commits: u64,
    db_mb: f64,
}

fn stored_samples(run_for: Duration) -> Stored {
    let s = stack("samples", |b| {
        b.with_samples_per_ticket(100_000_000)
            .with_queue_capacity(32_768)
    });
    let start = Instant::now();
    tracing::dispatcher::with_default(&s.dispatch, || {
        let mut i = 0;
        while start.elapsed() < run_for {
            for _ in 0..100 {
                SITE_FNS[i % SITES](i);
                i += 1;
            }
        }
    });
    s.guard.flush().expect("the writer flushes");
    let secs = start.elapsed().as_secs_f64();
    let stats = s.guard.stats();
    let db_mb = std::fs::metadata(&s.path).map(|m| m.len()).unwrap_or(0) as f64
        + std::fs::metadata(s.path.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0) as f64;
    let out = Stored {
        samples: stats.samples_stored(),
        secs,
        dropped: stats.samples_dropped(),
        commits: stats.commits(),
        db_mb: db_mb / 1e6,
    };
    drop(s);
    out
}

struct Heap {
    peak_mib: f64,
    events: u64,
    dropped: u64,
    exact: bool,
}

fn heap_under_overload(threads: usize, run_for: Duration) -> Heap {
    let base = alloc::reset_peak();
    let s = stack("heap", |b| b.with_samples_per_ticket(100_000_000));
    let stop = Arc::new(AtomicBool::new(false));
    let emitted = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let d = s.dispatch.clone();
            let stop = stop.clone();
            let emitted = emitted.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..100 {
                            SITE_FNS[(i + t) % SITES](i);
                            i += 1;
                        }
                    }
                    emitted.fetch_add(i, Ordering::Relaxed);
                })
            })
        })
        .collect();
    std::thread::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("the thread finished without panicking");
    }
    s.guard.flush().expect("the writer flushes");
    let peak = alloc::peak_bytes() - base;
    let stats = s.guard.stats();
    let events = emitted.load(Ordering::Relaxed) as u64;
    let (total, _) = stored_total(&s.path);
    let out = Heap {
        peak_mib: peak as f64 / (1024.0 * 1024.0),
        events,
        dropped: stats.samples_dropped(),
        exact: total == events,
    };
    drop(s);
    out
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let a = absorb(4, 1_000_000 / scale);
    let l = latency(200_000 / scale);
    let s = stored_samples(Duration::from_millis(3000 / scale as u64));
    let h = heap_under_overload(4, Duration::from_millis(3000 / scale as u64));
    let absorb_rate = a.events as f64 / a.secs;
    let sample_rate = s.samples as f64 / s.secs;
    if json {
        println!(
            "{{\"absorb_events\":{},\"absorb_secs\":{:.3},\"absorb_per_s\":{:.0},\"absorb_flush_ms\":{:.1},\"absorb_exact\":{},\"absorb_tickets\":{},\
             \"lat_us_p50\":{:.3},\"lat_us_p90\":{:.3},\"lat_us_p99\":{:.3},\"lat_us_p999\":{:.3},\"lat_us_max\":{:.1},\"timer_us\":{:.3},\
             \"samples_stored\":{},\"samples_secs\":{:.3},\"samples_per_s\":{:.0},\"samples_dropped\":{},\"samples_commits\":{},\"samples_db_mb\":{:.1},\
             \"heap_peak_mib\":{:.2},\"heap_events\":{},\"heap_samples_dropped\":{},\"heap_exact\":{}}}",
            a.events, a.secs, absorb_rate, a.flush_ms, a.exact, a.tickets,
            l.p50, l.p90, l.p99, l.p999, l.max, l.timer,
            s.samples, s.secs, sample_rate, s.dropped, s.commits, s.db_mb,
            h.peak_mib, h.events, h.dropped, h.exact
        );
        return;
    }
    println!(
        "taskwire-tickets, 10 call sites, ERROR records, file database (WAL, synchronous=FULL)"
    );
    println!(
        "absorb (4 threads):  {} events in {:.3} s = {:.0} events/s; flush {:.1} ms; counts exact: {} ({} tickets)",
        a.events, a.secs, absorb_rate, a.flush_ms, a.exact, a.tickets
    );
    println!(
        "latency (1 thread):  p50 {:.3} µs  p90 {:.3} µs  p99 {:.3} µs  p99.9 {:.3} µs  max {:.1} µs  (timer {:.3} µs)",
        l.p50, l.p90, l.p99, l.p999, l.max, l.timer
    );
    println!(
        "stored samples:      {} in {:.3} s = {:.0} samples/s ({} commits, {} dropped, {:.1} MB on disk)",
        s.samples, s.secs, sample_rate, s.commits, s.dropped, s.db_mb
    );
    println!(
        "heap under overload: peak {:.2} MiB above baseline; {} events, {} samples dropped, counts exact: {}",
        h.peak_mib, h.events, h.dropped, h.exact
    );
}
