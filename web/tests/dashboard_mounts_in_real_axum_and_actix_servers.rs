//! The in-app dashboard mounted in one line by a real axum server and a real actix-web server
//! on 127.0.0.1: the metrics page shows that process's live snapshot, the tickets pages its
//! store, every link and redirect stays under the mount path, and state changes keep their
//! CSRF rule.

mod support;

use taskwire_test_support::TempDir;
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

/// The app's metrics layer after running [`support::run_tasks`] under it.
fn app_metrics() -> taskwire_metrics::MetricsHandle {
    let layer = taskwire_metrics::layer();
    let handle = layer.handle();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(layer);
    tracing::subscriber::with_default(subscriber, support::run_tasks);
    handle
}

fn store(dir: &TempDir) -> Box<Sqlite> {
    let db = support::filled(dir);
    Box::new(
        Sqlite::builder(&db)
            .open_existing()
            .expect("the database opens"),
    )
}

/// Every `href`, `src` and `action` of `page` that starts with `/`.
fn local_links(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\"", "action=\""] {
        let mut rest = page;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find('"').expect("the attribute ends");
            if rest.starts_with('/') {
                out.push(rest[..end].to_owned());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_in_axum_the_pages_and_links_live_under_the_prefix() {
    let dir = TempDir::new("web-dash-axum");
    let dash = taskwire_web::dashboard(store(&dir), app_metrics())
        .build()
        .expect("the dashboard builds");
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the application" }))
        .nest("/_taskwire", dash);
    let base = support::serve_app(app).await;

    let c = support::browser(&dir).await;
    c.goto(&format!("{base}/_taskwire/metrics")).await.unwrap();
    let names = support::texts(&c, "table.metrics td.name").await;
    assert!(names.contains(&"checkout".to_owned()), "{names:?}");
    assert!(support::not_pwned(&c).await);
    let styled = c
        .execute(
            "return getComputedStyle(document.querySelector('header.top')).display;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        styled,
        serde_json::json!("flex"),
        "the stylesheet loads under the prefix"
    );
    support::screenshot_tall(&c, "dashboard-metrics").await;

    // The navigation, a ticket, resolving it: all under /_taskwire.
    support::follow_link(&c, "Tickets").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/_taskwire/tickets");
    support::click_to_next_page(&c, "table.tickets td.title > a").await;
    let ticket = c.current_url().await.unwrap();
    assert!(ticket.path().starts_with("/_taskwire/tickets/"), "{ticket}");
    support::click_to_next_page(&c, "form[action$='/resolve'] button").await;
    let after = c.current_url().await.unwrap();
    assert!(after.path().starts_with("/_taskwire/tickets"), "{after}");
    let page = c.source().await.unwrap();
    for link in local_links(&page) {
        assert!(link.starts_with("/_taskwire/"), "{link} leaves the mount");
    }
    // The application's own routes are untouched.
    assert_eq!(
        reqwest::get(format!("{base}/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "the application"
    );
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_an_actix_scope_the_same_pages_answer_under_the_scope() {
    let dir = TempDir::new("web-dash-actix");
    let dash = taskwire_web::dashboard(store(&dir), app_metrics())
        .build()
        .expect("the dashboard builds");
    let base = support::serve_actix(move |cfg| {
        cfg.service(taskwire_web::actix_scope("/_taskwire", dash.clone()));
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let metrics = http
        .get(format!("{base}/_taskwire/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let page = metrics.text().await.unwrap();
    assert!(
        page.contains("<td class=\"name\">checkout</td>"),
        "the app's tasks"
    );
    for link in local_links(&page) {
        assert!(link.starts_with("/_taskwire/"), "{link} leaves the scope");
    }
    let css = http
        .get(format!("{base}/_taskwire/assets/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

    // A ticket page, and resolving it: refused without the CSRF token, done with it.
    let list = support::get_text(&http, &format!("{base}/_taskwire/tickets")).await;
    let at = list
        .find("href=\"/_taskwire/tickets/")
        .expect("a ticket link")
        + 6;
    let path = &list[at..at + list[at..].find('"').unwrap()];
    let detail = support::get_text(&http, &format!("{base}{path}")).await;
    let csrf = support::csrf_of(&detail);
    let origin = base.clone();
    assert_eq!(
        support::post_form(
            &http,
            &format!("{base}{path}/resolve"),
            &origin,
            String::new()
        )
        .await,
        403
    );
    let done = support::post_form(
        &http,
        &format!("{base}{path}/resolve"),
        &origin,
        format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(done, 303);
    let detail = support::get_text(&http, &format!("{base}{path}")).await;
    assert!(detail.contains("resolved"), "the ticket is resolved");
    assert_eq!(
        support::get_text(&http, &format!("{base}/")).await,
        "the application"
    );

    // The live tail's stream passes through actix as a stream.
    let mut live = http
        .get(format!("{base}/_taskwire/live/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    let first = live.chunk().await.unwrap().expect("the first event");
    assert!(
        String::from_utf8_lossy(&first).contains("\"sent\":0"),
        "{first:?}"
    );
}
