//! Tickets on MongoDB: what the layer absorbs and what it stores, beside the SQLite store and
//! beside the raw driver doing the same bulk writes in a loop (the limit).
//!
//! `cargo bench -p taskwire-tickets --features mongodb --bench tickets_mongodb [-- --json]`
//!
//! The server: `TASKWIRE_BENCH_MONGODB_URI` (or `TASKWIRE_TEST_MONGODB_URI`) when set; otherwise
//! the bench starts SecantusDB itself (standalone, temporary storage) from
//! `TASKWIRE_TEST_SECANTUSD` or the venv scripts/test installs
//! (`~/.cache/taskwire/tools/secantusdb-0.7.0b3`).
//!
//! 1. absorb: 4 threads × 1,000,000 events from 10 call sites into MongoDB, then `flush()`;
//!    the same into a SQLite file. Events per second seen by the callers; counts must be exact.
//! 2. stored samples: 81,920 events (20 batches of 4,096), every one sampled and kept
//!    (`with_samples_per_ticket(huge)`, a queue that holds them all, so none is dropped and the
//!    producer is done in milliseconds instead of competing with the server for the CPU), then
//!    `flush()`: samples committed per second, from the first event to the end of the flush.
//! 3. raw driver (run before and after (2), the faster counts): the bulk writes each batch of
//!    (2) needs, with nothing else, into collections
//!    with the same indexes (the secondary index on the samples costs SecantusDB about two
//!    thirds of its insert rate, so leaving it out would compare different work): one `update`
//!    command of 10 ticket upserts (`$inc`, `$min`, `$max`, `$setOnInsert`), `insert_many` of
//!    the sample documents (same shape), one `update` of the tag counts; as many batches of the
//!    same size. Samples per second: the limit (2) is compared with.
//! 4. three instances: three layers, each with its own store (client, runtime, writer thread),
//!    as three processes would have, write 27,307 sampled events each into one database at
//!    once: samples stored per second in all, and the counts must be exact with one ticket per
//!    call site.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ::mongodb as driver;
use taskwire_tickets::store::{ListQuery, Store, TicketReader};
use taskwire_tickets::{MongoDb, Sqlite};
use tracing_subscriber::prelude::*;

use driver::bson::{doc, Bson, DateTime, Document};

#[path = "support/sites.rs"]
mod sites;
use sites::{SITES, SITE_FNS};

/// The server under test, and the one the bench started (stopped on drop).
struct Server {
    base: String,
    child: Option<Child>,
    dir: Option<PathBuf>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn server() -> Server {
    for var in ["TASKWIRE_BENCH_MONGODB_URI", "TASKWIRE_TEST_MONGODB_URI"] {
        if let Ok(base) = std::env::var(var) {
            return Server {
                base,
                child: None,
                dir: None,
            };
        }
    }
    let program = std::env::var("TASKWIRE_TEST_SECANTUSD").unwrap_or_else(|_| {
        let tools = std::env::var("TASKWIRE_TOOLS").unwrap_or_else(|_| {
            format!(
                "{}/.cache/taskwire/tools",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        format!("{tools}/secantusdb-0.7.0b3/bin/secantusd-py")
    });
    assert!(
        std::path::Path::new(&program).exists(),
        "no MongoDB server: set TASKWIRE_BENCH_MONGODB_URI, or run scripts/test once (it \
         installs SecantusDB into ~/.cache/taskwire/tools)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port on 127.0.0.1")
        .local_addr()
        .expect("the bound address")
        .port();
    let dir = std::env::temp_dir().join(format!("taskwire-bench-mongo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the folder can be created");
    let child = Command::new(&program)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--storage-path",
        ])
        .arg(dir.join("data"))
        .arg("--standalone")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child process starts");
    let s = Server {
        base: format!("mongodb://127.0.0.1:{port}"),
        child: Some(child),
        dir: Some(dir),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut probe = MongoDb::builder(format!("{}/tw_probe", s.base))
            .with_server_selection_timeout(Duration::from_millis(500))
            .open()
            .expect("the store opens");
        if probe.ensure_schema().is_ok() {
            return s;
        }
        assert!(Instant::now() < deadline, "{program} did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn uri(base: &str, name: &str) -> String {
    format!(
        "{}/tw_bench_{name}_{}",
        base.trim_end_matches('/'),
        std::process::id()
    )
}

struct Absorb {
    events: u64,
    secs: f64,
    flush_ms: f64,
    exact: bool,
}

fn absorb(
    store: Box<dyn Store>,
    check: &dyn Fn() -> u64,
    threads: usize,
    per_thread: usize,
) -> Absorb {
    let (layer, guard) = taskwire_tickets::layer_boxed(store).build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let secs = sites::run_threads(&dispatch, threads, per_thread);
    let f = Instant::now();
    guard.flush().expect("the writer flushes");
    let flush_ms = f.elapsed().as_secs_f64() * 1e3;
    drop(guard);
    let events = (threads * per_thread) as u64;
    Absorb {
        events,
        secs,
        flush_ms,
        exact: check() == events,
    }
}

struct Stored {
    samples: u64,
    secs: f64,
    commits: u64,
    dropped: u64,
}

fn stored_samples(store: Box<dyn Store>, events: usize) -> Stored {
    let (layer, guard) = taskwire_tickets::layer_boxed(store)
        .with_samples_per_ticket(100_000_000)
        .with_queue_capacity(events + 1024)
        .build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let start = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..events {
            SITE_FNS[i % SITES](i);
        }
    });
    guard.flush().expect("the writer flushes");
    let secs = start.elapsed().as_secs_f64();
    let stats = guard.stats();
    let out = Stored {
        samples: stats.samples_stored(),
        secs,
        commits: stats.commits(),
        dropped: stats.samples_dropped(),
    };
    drop(guard);
    out
}

struct Instances {
    samples: u64,
    secs: f64,
    exact: bool,
}

fn three_instances(uri: &str, per: usize) -> Instances {
    let start = Instant::now();
    let handles: Vec<_> = (0..3)
        .map(|t| {
            let uri = uri.to_owned();
            std::thread::spawn(move || {
                let (layer, guard) =
                    taskwire_tickets::layer(MongoDb::open(&uri).expect("the store opens"))
                        .with_samples_per_ticket(100_000_000)
                        .with_queue_capacity(per + 1024)
                        .build();
                let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..per {
                        SITE_FNS[(i + t) % SITES](i);
                    }
                });
                guard.flush().expect("the writer flushes");
                guard.stats().samples_stored()
            })
        })
        .collect();
    let samples = handles
        .into_iter()
        .map(|h| h.join().expect("the thread finished without panicking"))
        .sum();
    let secs = start.elapsed().as_secs_f64();
    let store = MongoDb::open(uri).expect("the store opens");
    let tickets = store
        .list(&ListQuery::default().with_limit(100))
        .expect("the store answers");
    let total: u64 = tickets.iter().map(|t| t.count).sum();
    Instances {
        samples,
        secs,
        exact: tickets.len() == SITES && total == 3 * per as u64,
    }
}

/// A sample document like the store's.
fn sample_doc(id: i64, ticket: i64, i: i64) -> Document {
    let us = 1_700_000_000_000_000 + i;
    doc! {
        "_id": id, "ticket": ticket, "first": false, "time_us": us,
        "time": DateTime::from_millis(us / 1000),
        "message": format!("site {} failed for item {i}", ticket % 10),
        "fields": {"i": i},
        "spans": [], "host": "bench-host", "pid": 4242_i64, "thread": "main", "errors": [],
        "level": "ERROR",
    }
}

struct Raw {
    samples: u64,
    secs: f64,
    batches: u64,
}

fn raw_driver(base: &str, name: &str, batch: usize, batches: u64) -> Raw {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the configuration is valid");
    rt.block_on(async {
        let client = driver::Client::with_uri_str(uri(base, name)).await.expect("the MongoDB command succeeds");
        let db = client.database(&format!("tw_bench_{name}_{}", std::process::id()));
        let occ = db.collection::<Document>("raw_occurrences");
        // The indexes the store keeps, so both do the same work per write.
        let index = |keys: Document, unique: bool| {
            driver::IndexModel::builder()
                .keys(keys)
                .options(
                    driver::options::IndexOptions::builder()
                        .unique(unique)
                        .build(),
                )
                .build()
        };
        occ.create_index(index(doc! {"ticket": 1, "time_us": 1, "_id": 1}, false))
            .await
            .expect("the MongoDB command succeeds");
        db.collection::<Document>("raw_tags")
            .create_index(index(doc! {"ticket": 1, "key": 1}, true))
            .await
            .expect("the MongoDB command succeeds");
        db.collection::<Document>("raw_tickets")
            .create_indexes(vec![
                index(doc! {"fingerprint": 1}, true),
                index(doc! {"last_seen_us": 1, "_id": 1}, false),
                index(doc! {"count": 1, "_id": 1}, false),
                index(doc! {"first_seen_us": 1, "_id": 1}, false),
                index(doc! {"status": 1, "last_seen_us": 1, "_id": 1}, false),
                index(doc! {"status": 1, "count": 1, "_id": 1}, false),
                index(doc! {"status": 1, "first_seen_us": 1, "_id": 1}, false),
            ])
            .await
            .expect("the MongoDB command succeeds");
        let start = Instant::now();
        let (mut samples, mut done, mut next_id) = (0_u64, 0_u64, 1_i64);
        while done < batches {
            let per = (batch / SITES).max(1);
            let now = 1_700_000_000_000_000 + next_id;
            let tickets: Vec<Bson> = (0..SITES as i64)
                .map(|t| {
                    Bson::Document(doc! {
                        "q": {"_id": t, "fingerprint": format!("f{t}")},
                        "u": {
                            "$inc": {"count": per as i64},
                            "$min": {"first_seen_us": now},
                            "$max": {"last_seen_us": now},
                            "$setOnInsert": {"level": "ERROR", "target": "bench", "title": "t", "status": "open"},
                        },
                        "upsert": true,
                    })
                })
                .collect();
            db.run_command(doc! {"update": "raw_tickets", "updates": tickets, "ordered": false})
                .await
                .expect("the MongoDB command succeeds");
            let docs: Vec<Document> = (0..SITES as i64)
                .flat_map(|t| (0..per as i64).map(move |k| (t, k)))
                .map(|(t, _)| {
                    next_id += 1;
                    sample_doc(next_id, t, next_id)
                })
                .collect();
            let n = docs.len() as u64;
            occ.insert_many(docs).ordered(false).await.expect("the MongoDB command succeeds");
            let tags: Vec<Bson> = (0..SITES as i64)
                .map(|t| {
                    Bson::Document(doc! {
                        "q": {"ticket": t, "key": "level"},
                        "u": {"$inc": {"n": per as i64}},
                        "upsert": true,
                    })
                })
                .collect();
            db.run_command(doc! {"update": "raw_tags", "updates": tags, "ordered": false})
                .await
                .expect("the MongoDB command succeeds");
            samples += n;
            done += 1;
        }
        Raw {
            samples,
            secs: start.elapsed().as_secs_f64(),
            batches: done,
        }
    })
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let srv = server();
    let base = srv.base.clone();
    let count_of = |s: &dyn Store| -> u64 {
        s.list(&ListQuery::default().with_limit(1000))
            .expect("the store answers")
            .iter()
            .map(|t| t.count)
            .sum()
    };

    let m_uri = uri(&base, "absorb");
    let mongo_absorb = {
        let u = m_uri.clone();
        absorb(
            Box::new(MongoDb::open(&m_uri).expect("the store opens")),
            &move || count_of(&MongoDb::open(&u).expect("the store opens")),
            4,
            1_000_000,
        )
    };
    let dir = std::env::temp_dir().join(format!("taskwire-bench-sqlite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the folder can be created");
    let path = dir.join("tickets.db");
    let sqlite_absorb = {
        let p = path.clone();
        absorb(
            Box::new(Sqlite::open(&path).expect("the store opens")),
            &move || count_of(&Sqlite::open(&p).expect("the store opens")),
            4,
            1_000_000,
        )
    };
    let _ = std::fs::remove_dir_all(&dir);

    // The raw loop runs before and after the store (the server slows down as it fills); the
    // faster of the two is the limit.
    let raw_before = raw_driver(&base, "raw_before", 4096, 20);
    let stored = stored_samples(
        Box::new(MongoDb::open(uri(&base, "samples")).expect("the store opens")),
        20 * 4096,
    );
    let avg_batch = (stored.samples / stored.commits.max(1)).max(SITES as u64) as usize;
    let raw_after = raw_driver(&base, "raw_after", avg_batch, stored.commits.max(1));
    let raw = if raw_before.samples as f64 / raw_before.secs
        > raw_after.samples as f64 / raw_after.secs
    {
        raw_before
    } else {
        raw_after
    };
    let three = three_instances(&uri(&base, "three"), 27_307);

    let rate = |n: u64, s: f64| n as f64 / s;
    let ma = rate(mongo_absorb.events, mongo_absorb.secs);
    let sa = rate(sqlite_absorb.events, sqlite_absorb.secs);
    let ss = rate(stored.samples, stored.secs);
    let rs = rate(raw.samples, raw.secs);
    let ts = rate(three.samples, three.secs);
    if json {
        println!(
            "{{\"mongo_absorb_per_s\":{ma:.0},\"mongo_absorb_exact\":{},\"mongo_flush_ms\":{:.1},\
             \"sqlite_absorb_per_s\":{sa:.0},\"sqlite_absorb_exact\":{},\
             \"mongo_samples_per_s\":{ss:.0},\"mongo_samples\":{},\"mongo_commits\":{},\
             \"mongo_samples_dropped\":{},\"avg_batch\":{avg_batch},\
             \"raw_samples_per_s\":{rs:.0},\"raw_batches\":{},\"ratio\":{:.3},\
             \"three_samples_per_s\":{ts:.0},\"three_exact\":{}}}",
            mongo_absorb.exact,
            mongo_absorb.flush_ms,
            sqlite_absorb.exact,
            stored.samples,
            stored.commits,
            stored.dropped,
            raw.batches,
            ss / rs,
            three.exact
        );
    } else {
        println!("server: {base}");
        println!(
            "absorb, MongoDB: {:>12.0} events/s (4 threads, {} events, flush {:.1} ms, exact: {})",
            ma, mongo_absorb.events, mongo_absorb.flush_ms, mongo_absorb.exact
        );
        println!(
            "absorb, SQLite:  {:>12.0} events/s (same workload, exact: {}); MongoDB/SQLite = {:.2}",
            sa,
            sqlite_absorb.exact,
            ma / sa
        );
        println!(
            "stored samples, MongoDB store: {:>8.0}/s ({} in {:.2} s, {} commits, avg batch {}, {} dropped)",
            ss, stored.samples, stored.secs, stored.commits, avg_batch, stored.dropped
        );
        println!(
            "stored samples, raw driver:    {:>8.0}/s ({} batches of {} with the same bulk writes)",
            rs, raw.batches, avg_batch
        );
        println!("store / raw driver: {:.2} (target >= 0.80)", ss / rs);
        println!(
            "three instances into one database: {:>8.0} samples/s in all ({} in {:.2} s, exact counts: {})",
            ts, three.samples, three.secs, three.exact
        );
    }
    drop(srv);
}
