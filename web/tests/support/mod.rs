//! What the web tests share: a tickets database filled by the real tickets layer (ordinary
//! errors and hostile ones), the app served on 127.0.0.1, and a headless Chromium through the
//! chromedriver `scripts/test` starts.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use taskwire_test_support::TempDir;
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

/// The script every hostile value tries to run.
pub const PWN: &str = "window.__pwned=true";

/// A 1 MB string with markup in it.
pub fn megabyte() -> String {
    let mut s = String::with_capacity(1 << 20);
    while s.len() < 1 << 20 {
        s.push_str("<script>window.__pwned=true</script>\u{2028}");
    }
    s
}

/// Writes tickets through the real tickets layer into the SQLite file at `path`: three
/// ordinary ones (two services, spans, an error with a source) and hostile ones (markup,
/// `javascript:` URLs, U+2028 and a 1 MB value in titles, field names, field values, span
/// fields and tags).
pub fn fill(path: &Path) {
    fill_store(Sqlite::open(path).expect("the database opens"));
}

/// [`fill`] into any store.
pub fn fill_store(store: impl taskwire_tickets::TicketWriter + 'static) {
    let (layer, guard) = taskwire_tickets::layer(store)
        .with_service("checkout")
        .with_release("1.4.2")
        .with_tag_field("http.route")
        .with_max_field_len(2 << 20)
        .build();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for order in 0..5 {
            let _req = tracing::info_span!("request", http.route = "/orders/{id}", order).entered();
            let _pay = tracing::info_span!("charge_card", provider = "acme").entered();
            let err =
                std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream timed out after 30s");
            tracing::error!(
                order,
                customer.plan = "gold",
                error = &err as &(dyn std::error::Error + 'static),
                "payment for order {order} declined"
            );
        }
        for n in 0..3 {
            tracing::error!(
                query = "SELECT 1",
                elapsed_ms = 1200 + n,
                "db timeout after {n} retries"
            );
        }
        tracing::warn!(
            url = "https://status.example.com/incidents",
            "slow downstream answer"
        );
        // Hostile: markup and script in the message (the title), a field name, values.
        let _s = tracing::info_span!(
            "hostile",
            "<img src=x onerror=window.__pwned=true>" = "\"><script>window.__pwned=true</script>"
        )
        .entered();
        tracing::error!(
            "<script>window.__pwned=true</script>" = "javascript:window.__pwned=true",
            link = "javascript:window.__pwned=true",
            attr = "\"><img src=x onerror=window.__pwned=true>",
            http.route = "<script>window.__pwned=true</script>",
            sep = "line\u{2028}separator\u{2029}paragraph",
            "<script>window.__pwned=true</script>\"><img src=x onerror=window.__pwned=true> \u{2028} broke"
        );
        let big = megabyte();
        tracing::error!(big = big.as_str(), "huge: {}", big);
    });
    drop(guard);
}

/// A fresh database filled by [`fill`], in `dir`.
pub fn filled(dir: &TempDir) -> PathBuf {
    let path = dir.path().join("tickets.db");
    fill(&path);
    path
}

/// Serves the UI over the database at `path` on a free port of 127.0.0.1; returns its base
/// URL (`http://127.0.0.1:PORT`).
pub async fn serve(path: &Path, token: Option<&str>) -> String {
    let store = Sqlite::builder(path)
        .open_existing()
        .expect("the database opens");
    serve_store(Box::new(store), token).await
}

/// [`serve`] over any store.
pub async fn serve_store(
    store: Box<dyn taskwire_web::TicketStore + Send>,
    token: Option<&str>,
) -> String {
    let app = taskwire_web::router(
        store,
        taskwire_web::options().with_token(token.map(str::to_owned)),
    )
    .expect("the app builds");
    serve_app(app).await
}

/// Serves `app` on a free port of 127.0.0.1; returns its base URL.
pub async fn serve_app(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        let _ = taskwire_web::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Serves an actix-web app on a free port of 127.0.0.1 (one worker, on a thread of its own)
/// whose routes `configure` adds, with `GET /` answering "the application"; returns its base
/// URL.
pub fn serve_actix(
    configure: impl Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || {
                actix_web::App::new()
                    .route(
                        "/",
                        actix_web::web::get().to(|| async { "the application" }),
                    )
                    .configure(configure.clone())
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind 127.0.0.1:0");
            tx.send(server.addrs()[0]).expect("the test waits");
            server.run().await
        })
    });
    format!("http://{}", rx.recv().expect("the actix server starts"))
}

/// The first element `css` selects, waited for up to 10 s (a page that is still loading has
/// none yet).
pub async fn element(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

/// The text of the first element `css` selects.
pub async fn text(c: &Client, css: &str) -> String {
    let e = element(c, css).await;
    e.text().await.expect("its text")
}

/// The texts of every element `css` selects.
pub async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c
        .find_all(fantoccini::Locator::Css(css))
        .await
        .expect("the elements")
    {
        out.push(e.text().await.expect("its text"));
    }
    out
}

/// Clicks the first element `css` selects.
pub async fn click(c: &Client, css: &str) {
    let e = element(c, css).await;
    e.click().await.expect("the click");
}

/// Clicks the first element `css` selects, which leads to another page (a link, a form's
/// button), and waits, up to 10 s, until the browser has left the page it was on (its root
/// element is gone) and loaded the next. Reading right after a plain click may read the old
/// page, or an element of it that goes stale under the reader.
pub async fn click_to_next_page(c: &Client, css: &str) {
    let old = element(c, "html").await;
    click(c, css).await;
    wait_for_next_page(c, old, css).await;
}

/// Follows the link whose text is `text`, as [`click_to_next_page`] does.
pub async fn follow_link(c: &Client, text: &str) {
    let old = element(c, "html").await;
    let link = c
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(fantoccini::Locator::LinkText(text))
        .await
        .unwrap_or_else(|e| panic!("no link {text:?}: {e}"));
    link.click().await.expect("the click");
    wait_for_next_page(c, old, text).await;
}

/// Waits, up to 10 s, until the page whose root element is `old` is gone (after clicking
/// `what`) and the next one has loaded.
async fn wait_for_next_page(c: &Client, old: fantoccini::elements::Element, css: &str) {
    use fantoccini::error::{CmdError, ErrorStatus};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match old.tag_name().await {
            Err(CmdError::Standard(e)) if matches!(e.error, ErrorStatus::StaleElementReference) => {
                break
            }
            Ok(_) => {}
            Err(e) => panic!("the old page after clicking {css}: {e}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "clicking {css} left the page open for 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    wait_until(
        c,
        "return document.readyState === 'complete'",
        10,
        "the next page to load",
    )
    .await;
}

/// The body of a GET of `url`.
pub async fn get_text(http: &reqwest::Client, url: &str) -> String {
    let r = http.get(url).send().await.expect("an answer");
    r.text().await.expect("a body")
}

/// The CSRF token in the forms of a ticket page.
pub fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with the CSRF token")
        + 19;
    let end = page[at..].find('"').expect("the value ends");
    page[at..at + end].to_owned()
}

/// POSTs `body` as a form to `url` with `origin` as its `Origin`; the answer's status.
pub async fn post_form(
    http: &reqwest::Client,
    url: &str,
    origin: &str,
    body: String,
) -> reqwest::StatusCode {
    http.post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", origin)
        .body(body)
        .send()
        .await
        .expect("an answer")
        .status()
}

/// A headless Chromium session through chromedriver, with a fresh profile in `dir`.
pub async fn browser(dir: &TempDir) -> Client {
    let (url, chromium) = taskwire_test_support::services::webdriver();
    let profile = dir.path().join("profile");
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("chromedriver at {url} did not start a session: {e}"))
}

/// Saves a screenshot of the current page as `docs/web/{name}.png` when
/// `TASKWIRE_SCREENSHOTS=1`.
pub async fn screenshot(client: &Client, name: &str) {
    if std::env::var("TASKWIRE_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let png = client.screenshot().await.expect("a screenshot");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/web");
    std::fs::create_dir_all(&dir).expect("docs/web");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is written");
}

/// Like [`screenshot`], with the window made as tall as the page (at most 2,400 pixels)
/// first and set back after.
pub async fn screenshot_tall(client: &Client, name: &str) {
    if std::env::var("TASKWIRE_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let height = client
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(1000)
        .clamp(1000, 2400) as u32;
    client
        .set_window_size(1280, height + 120)
        .await
        .expect("the window resizes");
    screenshot(client, name).await;
    client
        .set_window_size(1280, 1000)
        .await
        .expect("the window resizes");
}

/// `true` when no injected script ran on the current page.
pub async fn not_pwned(client: &Client) -> bool {
    client
        .execute("return typeof window.__pwned === 'undefined';", vec![])
        .await
        .expect("the script runs")
        == json!(true)
}

/// Serves the UI with `options` over a fresh, empty tickets database in `dir` (pages that do
/// not need tickets: live tail, metrics); returns its base URL.
pub async fn serve_options(dir: &TempDir, options: taskwire_web::Options) -> String {
    serve_db(&dir.path().join("empty-tickets.db"), options).await
}

/// Serves the UI with `options` over the tickets database at `path` (created if missing).
pub async fn serve_db(path: &Path, options: taskwire_web::Options) -> String {
    let store = Sqlite::open(path).expect("the database opens");
    serve_app(taskwire_web::router(Box::new(store), options).expect("the app builds")).await
}

/// Runs `script` in the page every 20 ms until it returns `true`; panics with `what` after
/// `secs` seconds.
pub async fn wait_until(client: &Client, script: &str, secs: u64, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let v = client
            .execute(script, vec![])
            .await
            .expect("the script runs");
        if v == json!(true) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited {secs}s for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Appends `lines` (each with its newline) to the file at `path`.
pub fn append(path: &Path, lines: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("the log opens");
    f.write_all(lines.as_bytes())
        .expect("the lines are written");
}

/// Writes JSON logs through the real tasks and JSON layers into `path`: `checkout` tasks
/// (every fourth one failed by an error event), `db.query` tasks inside them, and a task whose
/// name is markup.
pub fn write_task_logs(path: &Path, service: &str) {
    let file = std::sync::Arc::new(std::fs::File::create(path).expect("the log is created"));
    // every task's record: the quick `db.query` tasks would otherwise be summarised in their
    // parent's record, and the page counts the records the logs hold
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer().all_tasks())
        .with(
            taskwire_json::layer()
                .with_service(service)
                .with_writer(file),
        );
    tracing::subscriber::with_default(subscriber, run_tasks);
}

/// The tasks [`write_task_logs`] records: 12 `checkout` (3 failed), 12 `db.query`, one with
/// a hostile name.
pub fn run_tasks() {
    for i in 0..12 {
        let _c = tracing::info_span!("checkout", order = i).entered();
        {
            let _q = tracing::info_span!("db.query").entered();
        }
        if i % 4 == 0 {
            tracing::error!(order = i, "card declined");
        }
    }
    let _h = tracing::info_span!(
        "hostile",
        task.name = "<script>window.__pwned=true</script><img src=x onerror=window.__pwned=true>"
    )
    .entered();
}

/// Writes one request across two services with the real tasks, tickets and JSON layers:
/// `front.jsonl` (`GET /checkout` calling back in `call back`) and `back.jsonl` (`POST
/// /charge`, continued from front's `traceparent`, failing with `card declined` and
/// `<script>` in a field), both counting errors into the SQLite store at `db`. Returns the
/// `traceparent` front sent.
pub fn write_request(dir: &Path, db: &Path) -> String {
    let layers = |service: &str| {
        let file = std::sync::Arc::new(
            std::fs::File::create(dir.join(format!("{service}.jsonl"))).expect("the log"),
        );
        let (tickets, guard) =
            taskwire_tickets::layer(Sqlite::open(db).expect("the database opens"))
                .with_service(service)
                .build();
        let subscriber = tracing_subscriber::registry()
            .with(taskwire_tasks::layer())
            .with(tickets)
            .with(
                taskwire_json::layer()
                    .with_service(service)
                    .with_writer(file),
            );
        (subscriber, guard)
    };
    let (front, front_guard) = layers("front");
    let (back, back_guard) = layers("back");
    let mut sent = String::new();
    tracing::subscriber::with_default(front, || {
        let _req = tracing::info_span!("GET /checkout").entered();
        let _call = tracing::info_span!("call back", url.full = "http://back/charge").entered();
        // as a client middleware does: the context sent makes `call back` a process hop
        let mut headers = std::collections::HashMap::new();
        assert!(
            taskwire_tasks::inject_current(&mut headers),
            "a current task"
        );
        sent = headers.remove("traceparent").expect("a traceparent header");
        tracing::subscriber::with_default(back, || {
            let _charge =
                taskwire_tasks::import(&sent, tracing::info_span!("POST /charge")).entered();
            tracing::info!(card = "visa", "charging");
            tracing::error!(
                reason = "<script>window.__pwned=true</script>",
                "card declined"
            );
        });
    });
    drop((front_guard, back_guard));
    sent
}

/// [`write_request`] into `dir` with the store at `dir/tickets.db`: the store's path, the
/// `traceparent` front sent and its trace id.
pub fn request_in(dir: &Path) -> (std::path::PathBuf, String, String) {
    let db = dir.join("tickets.db");
    let traceparent = write_request(dir, &db);
    let trace_id = traceparent
        .split('-')
        .nth(1)
        .expect("a trace id")
        .to_owned();
    (db, traceparent, trace_id)
}
