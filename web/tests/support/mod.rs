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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        let _ = taskwire_web::serve(listener, app).await;
    });
    format!("http://{addr}")
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
