//! The live tail in headless Chromium: a line appended to a followed log arrives on the page;
//! hostile values (markup, `javascript:`, U+2028, 1 MB) arrive as text and run nothing;
//! pause holds rows and resume shows them; the query filters; and the page keeps up with
//! 20,000 lines/s (the server's sent count equals rows shown plus rows dropped by the cap).

mod support;

use std::time::{Duration, Instant};

use fantoccini::Locator;
use taskwire_test_support::TempDir;

/// One log record of `level` with message `msg` (JSON-escaped).
fn record(level: &str, msg: &str) -> String {
    let rec = serde_json::json!({
        "ts": "2026-11-21T10:00:00.000000Z", "level": level, "target": "shop::orders",
        "msg": msg, "service": "front", "order": 42,
    });
    format!("{rec}\n")
}

/// Whether some live row's text contains `text`.
fn row_with(text: &str) -> String {
    format!(
        "return Array.from(document.querySelectorAll('#live-rows .row')).some(r => r.textContent.includes({}));",
        serde_json::to_string(text).expect("a JSON string")
    )
}

/// Whether no live row's text contains `text`.
fn no_row_with(text: &str) -> String {
    row_with(text).replacen("return ", "return !", 1)
}

const LIVE: &str = "return document.getElementById('live-state').textContent === 'live';";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_lines_arrive_as_text_and_pause_and_filter_work() {
    let dir = TempDir::new("web-live");
    let log = dir.path().join("front.jsonl");
    support::append(&log, &record("INFO", "started before the page"));
    let base = support::serve_options(&dir, taskwire_web::options().with_logs([log.clone()])).await;
    let c = support::browser(&dir).await;

    c.goto(&format!("{base}/live"))
        .await
        .expect("the page opens");
    assert_eq!(c.title().await.unwrap(), "Live tail · taskwire");
    support::wait_until(&c, LIVE, 10, "the stream").await;
    support::wait_until(&c, &row_with("started before the page"), 10, "the backlog").await;

    support::append(&log, &record("INFO", "order 42 shipped"));
    support::wait_until(&c, &row_with("order 42 shipped"), 10, "the appended line").await;
    support::append(
        &log,
        &format!(
            "{}{}{}",
            record("WARN", "payment provider slow: 2.4s"),
            record("ERROR", "card declined for order 43"),
            record("INFO", "order 44 shipped")
        ),
    );
    support::wait_until(&c, &row_with("order 44 shipped"), 10, "three more lines").await;
    support::screenshot(&c, "live").await;

    // Hostile values: markup in the message, a field name and values; a 1 MB message.
    let hostile = serde_json::json!({
        "ts": "2026-11-21T10:00:01Z", "level": "ERROR", "target": "shop",
        "msg": "<script>window.__pwned=true</script>\"><img src=x onerror=window.__pwned=true> \u{2028} broke",
        "<img src=x onerror=window.__pwned=true>": "javascript:window.__pwned=true",
        "link": "javascript:window.__pwned=true",
    });
    let big = serde_json::json!({"ts": "2026-11-21T10:00:02Z", "level": "ERROR", "msg": support::megabyte()});
    support::append(&log, &format!("{hostile}\n{big}\nnot json <b>bold</b>\n"));
    support::wait_until(
        &c,
        &row_with("not json <b>bold</b>"),
        10,
        "the hostile lines",
    )
    .await;
    assert!(support::not_pwned(&c).await, "a hostile value ran");
    let markup = c
        .execute(
            "return document.querySelectorAll('#live-rows img, #live-rows script, #live-rows b').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(markup, serde_json::json!(0), "data became markup");
    let cut = c
        .execute("return Math.max(...Array.from(document.querySelectorAll('#live-rows .row')).map(r => r.textContent.length));", vec![])
        .await
        .unwrap();
    assert!(cut.as_u64().unwrap() < 3_000, "the 1 MB line is cut: {cut}");
    let errors = c
        .find_all(Locator::Css("#live-rows .row.error"))
        .await
        .unwrap();
    assert_eq!(errors.len(), 3, "error rows are marked");

    // Pause: new rows are held, not shown; resume shows them.
    support::click(&c, "#live-pause").await;
    support::append(&log, &record("INFO", "while paused"));
    support::wait_until(
        &c,
        "return document.getElementById('live-held').textContent === '1';",
        10,
        "the held row",
    )
    .await;
    assert_eq!(
        c.execute(&no_row_with("while paused"), vec![])
            .await
            .unwrap(),
        serde_json::json!(true),
        "a paused page shows no new row"
    );
    support::click(&c, "#live-pause").await;
    support::wait_until(&c, &row_with("while paused"), 10, "the resumed row").await;

    // The query: only errors.
    c.goto(&format!("{base}/live?q=level%3E%3Derror"))
        .await
        .unwrap();
    support::wait_until(&c, LIVE, 10, "the filtered stream").await;
    support::append(
        &log,
        &format!(
            "{}{}",
            record("INFO", "an info line"),
            record("ERROR", "card declined")
        ),
    );
    support::wait_until(&c, &row_with("card declined"), 10, "the error line").await;
    assert_eq!(
        c.execute(&no_row_with("an info line"), vec![])
            .await
            .unwrap(),
        serde_json::json!(true),
        "the query keeps info lines out"
    );
    c.close().await.unwrap();
}

/// Lines per second the writer appends.
const RATE: u64 = 20_000;
/// For how long.
const SECONDS: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_keeps_up_with_20000_lines_per_second_and_loses_none() {
    let dir = TempDir::new("web-live-rate");
    let log = dir.path().join("fast.jsonl");
    support::append(&log, "");
    let base = support::serve_options(&dir, taskwire_web::options().with_logs([log.clone()])).await;
    let c = support::browser(&dir).await;
    c.goto(&format!("{base}/live"))
        .await
        .expect("the page opens");
    support::wait_until(&c, LIVE, 10, "the stream").await;

    // The writer: 20,000 lines a second in 20 ms slices, paced by the clock.
    let path = log.clone();
    let writer = std::thread::spawn(move || {
        let slice = RATE / 50;
        let start = Instant::now();
        let mut n = 0u64;
        for s in 0..SECONDS * 50 {
            let mut chunk = String::new();
            for _ in 0..slice {
                chunk.push_str(&record("INFO", &format!("line {n} of the fast writer")));
                n += 1;
            }
            support::append(&path, &chunk);
            let due = start + Duration::from_millis(20 * (s + 1));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        (n, start.elapsed())
    });
    let (written, took) = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    let done = Instant::now();
    let caught_up = format!(
        "return document.getElementById('live-sent').textContent === '{written}' && \
         (+document.getElementById('live-shown').textContent) + \
         (+document.getElementById('live-dropped').textContent) === {written};"
    );
    support::wait_until(&c, &caught_up, 30, "the page to show or count every line").await;
    let lag = done.elapsed();
    let shown: u64 = c
        .find(Locator::Id("live-shown"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap();
    println!(
        "live tail: {written} lines written in {:.2}s ({:.0}/s); the page had all of them \
         ({shown} on the page, {} dropped by the cap) {:.0} ms after the last write",
        took.as_secs_f64(),
        written as f64 / took.as_secs_f64(),
        written - shown,
        lag.as_secs_f64() * 1000.0
    );
    assert_eq!(written, RATE * SECONDS);
    assert!(
        took.as_secs_f64() < SECONDS as f64 * 1.5,
        "the writer kept its pace: {took:?}"
    );
    assert!(lag < Duration::from_secs(2), "the page fell {lag:?} behind");
    assert_eq!(shown, 1000, "the cap holds the newest 1000 rows");
    c.close().await.unwrap();
}
