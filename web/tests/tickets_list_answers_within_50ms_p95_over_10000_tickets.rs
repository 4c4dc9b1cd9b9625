//! The tickets list over 10,000 tickets in SQLite answers in at most 50 ms of server time
//! (the app's `Server-Timing`) at the 95th percentile, for the default view, each sort, and
//! filtered views. Prints the numbers (docs/benchmarks.md); in a debug build they are an upper
//! bound of a release build's.

mod support;

use std::time::Instant;

use taskwire_test_support::TempDir;
use taskwire_tickets::store::{Batch, GroupUpdate, Level, TagCount, TicketSeed, Timestamp};
use taskwire_tickets::{Sqlite, TicketTriage, TicketWriter};

const TICKETS: usize = 10_000;
const ROUNDS: usize = 100;

fn fill(path: &std::path::Path) {
    let mut store = Sqlite::open(path).expect("the database opens");
    let now = Timestamp::now().as_micros();
    const HOUR: i64 = 3_600_000_000;
    for chunk in 0..TICKETS / 1000 {
        let mut groups = Vec::with_capacity(1000);
        for i in chunk * 1000..(chunk + 1) * 1000 {
            let mut seed = TicketSeed::new(
                if i % 5 == 0 {
                    Level::WARN
                } else {
                    Level::ERROR
                },
                format!("app::module{}", i % 40),
            );
            seed.service = Some(["checkout", "billing", "search", "auth"][i % 4].into());
            seed.file = Some(format!("src/module{}.rs", i % 40));
            seed.line = Some(i as u32);
            let last = now - (i as i64 % 72) * HOUR / 2 - i as i64;
            let first = last - (i as i64 % 500) * HOUR;
            let mut g = GroupUpdate::new(
                format!("fp{i:05}"),
                seed,
                1 + (i as u64 * 7919) % 5000,
                Timestamp::from_micros(first),
                Timestamp::from_micros(last),
            );
            g.title = Some(format!(
                "error {} in handler {} after <num> ms",
                i % 97,
                i % 13
            ));
            g.tags.push(TagCount {
                key: "release".into(),
                value: format!("1.{}.0", i % 6),
                count: 1,
            });
            groups.push(g);
        }
        store
            .write(&Batch::new(groups))
            .expect("the batch is written");
    }
    // Some resolved and muted, as in a real stream.
    for id in (1..TICKETS as i64).step_by(7) {
        store
            .resolve(
                taskwire_tickets::store::TicketId(id),
                None,
                Timestamp::now(),
            )
            .expect("the ticket is resolved");
    }
}

fn p95(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2];
    let p95 = v[(v.len() * 95).div_ceil(100) - 1];
    (median, p95)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tickets_list_answers_within_50ms_p95_over_10000_tickets() {
    let dir = TempDir::new("web-speed");
    let db = dir.path().join("tickets.db");
    let started = Instant::now();
    fill(&db);
    eprintln!("filled {TICKETS} tickets in {:?}", started.elapsed());
    let base = support::serve(&db, None).await;
    let http = reqwest::Client::new();
    let views = [
        "/tickets",
        "/tickets?sort=count",
        "/tickets?sort=first_seen&status=all",
        "/tickets?q=handler+7&service=billing&period=24h",
        "/tickets?release=1.3.0&level=warn&page=3",
    ];
    let mut worst = 0.0f64;
    for view in views {
        let mut server = Vec::with_capacity(ROUNDS);
        let mut bytes = 0;
        for _ in 0..ROUNDS {
            let r = http.get(format!("{base}{view}")).send().await.unwrap();
            assert!(r.status().is_success(), "{view}: {}", r.status());
            let timing = r.headers()["server-timing"].to_str().unwrap().to_owned();
            let ms: f64 = timing
                .strip_prefix("app;dur=")
                .and_then(|d| d.parse().ok())
                .unwrap_or_else(|| panic!("{timing}"));
            bytes = r.bytes().await.unwrap().len();
            server.push(ms);
        }
        let (median, p95) = p95(server);
        eprintln!("{view}: server time median {median:.2} ms, p95 {p95:.2} ms, page {bytes} bytes");
        worst = worst.max(p95);
    }
    eprintln!(
        "assets: {} bytes (stylesheet and script)",
        taskwire_web::ASSET_BYTES
    );
    assert!(worst <= 50.0, "p95 server time {worst:.2} ms > 50 ms");
}
