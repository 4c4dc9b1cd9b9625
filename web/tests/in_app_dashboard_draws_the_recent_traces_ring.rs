//! The in-app dashboard's traces page reads the process's ring of recent tasks: a real axum
//! app and a real actix-web app on 127.0.0.1 serve requests whose tasks go into the ring, and
//! their dashboards list those traces and draw a trace's waterfall (the failed task with its
//! reason, hostile values shown as text) with the pages `taskwire serve` draws from logs.
//! Without a ring, the traces page shows no recent traces.
//!
//! The app's subscriber is the global default (as in an application), so this file is its
//! own test binary.

mod support;

use std::sync::OnceLock;

use taskwire_tasks::RecentTasks;
use taskwire_test_support::TempDir;
use taskwire_tickets::Sqlite;
use tracing::Instrument as _;
use tracing_subscriber::prelude::*;

const HOSTILE: &str =
    "card declined <script>window.__pwned=1</script>\"><img src=x onerror=\"window.__pwned=1\">";

/// The application's ring of recent tasks, with its subscriber installed globally once.
fn recent() -> RecentTasks {
    static RECENT: OnceLock<RecentTasks> = OnceLock::new();
    RECENT
        .get_or_init(|| {
            let recent = RecentTasks::new(1_000).with_service("shop");
            tracing_subscriber::registry()
                .with(taskwire_tasks::layer().with_recent(recent.clone()))
                .init();
            recent
        })
        .clone()
}

/// The application's request handler: a request task with a quick child (summarised) and a
/// failed one.
async fn checkout(route: &'static str) -> &'static str {
    let task = tracing::info_span!("request", task.name = route, order = 7);
    async {
        tracing::info_span!("validate").in_scope(|| {});
        tracing::info_span!("charge", note = HOSTILE).in_scope(|| {
            tracing::error!("{HOSTILE}");
        });
    }
    .instrument(task)
    .await;
    "paid"
}

fn store(dir: &TempDir) -> Box<Sqlite> {
    Box::new(Sqlite::open(dir.path().join("tickets.db")).expect("the database opens"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_apps_dashboard_shows_a_recent_traces_waterfall_in_a_real_browser() {
    let recent = recent();
    let dir = TempDir::new("web-recent-axum");
    let dash = taskwire_web::dashboard(store(&dir), taskwire_metrics::layer().handle())
        .with_recent(recent)
        .build()
        .expect("the dashboard builds");
    let app = axum::Router::new()
        .route(
            "/checkout",
            axum::routing::post(|| checkout("POST /checkout")),
        )
        .nest("/_taskwire", dash);
    let base = support::serve_app(app).await;
    let http = reqwest::Client::new();
    let paid = http.post(format!("{base}/checkout")).send().await.unwrap();
    assert_eq!(paid.text().await.unwrap(), "paid");

    let c = support::browser(&dir).await;
    c.goto(&format!("{base}/_taskwire/traces")).await.unwrap();
    assert_eq!(support::text(&c, "h1").await, "Recent traces");
    let roots = support::texts(&c, "table.traces td > a").await;
    assert!(roots.contains(&"POST /checkout".to_owned()), "{roots:?}");
    support::screenshot(&c, "dashboard-recent-traces").await;

    // the newest is first; open it
    support::follow_link(&c, "POST /checkout").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/_taskwire/traces"));
    let names = support::texts(&c, "details.span .name").await;
    assert_eq!(
        names,
        ["POST /checkout", "charge"],
        "the written tasks, root first"
    );
    assert_eq!(
        support::text(&c, "details.span.failed .name").await,
        "charge"
    );
    support::click(&c, "details.span.failed > summary").await;
    let detail = support::text(&c, "details.span.failed .detail").await;
    assert!(detail.contains("card declined <script>"), "{detail}");
    assert!(detail.contains("shop"), "the ring's service: {detail}");
    support::click(&c, "details.span:not(.failed) > summary").await;
    let root = support::text(&c, "details.span:not(.failed) .detail").await;
    assert!(root.contains("\"order\":7"), "the root's fields: {root}");
    assert!(
        root.contains("validate ×1"),
        "the summarised quick child: {root}"
    );
    assert!(
        support::not_pwned(&c).await,
        "a hostile value ran as script"
    );
    support::screenshot_tall(&c, "dashboard-recent-trace-waterfall").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actix_apps_dashboard_lists_and_draws_its_recent_traces_over_http() {
    let recent = recent();
    let dir = TempDir::new("web-recent-actix");
    let dash = taskwire_web::dashboard(store(&dir), taskwire_metrics::layer().handle())
        .with_recent(recent)
        .build()
        .expect("the dashboard builds");
    let base = support::serve_actix(move |cfg| {
        cfg.route("/pay", actix_web::web::post().to(|| checkout("POST /pay")))
            .service(taskwire_web::actix_scope("/_taskwire", dash.clone()));
    });
    let http = reqwest::Client::new();
    let paid = http.post(format!("{base}/pay")).send().await.unwrap();
    assert_eq!(paid.text().await.unwrap(), "paid");

    let list = http
        .get(format!("{base}/_taskwire/traces"))
        .send()
        .await
        .unwrap();
    assert!(list.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let list = list.text().await.unwrap();
    assert!(list.contains("Recent traces"), "{list}");
    let at = list
        .find(">POST /pay</a>")
        .expect("the actix request's trace is listed");
    let href_at = list[..at].rfind("href=\"").expect("its link") + 6;
    let href = &list[href_at..at - 1];
    assert!(href.starts_with("/_taskwire/traces?trace="), "{href}");

    let trace = support::get_text(&http, &format!("{base}{href}")).await;
    assert!(
        trace.contains("<span class=\"name\">POST /pay</span>"),
        "the root task"
    );
    assert!(
        trace.contains("<span class=\"name\">charge</span>"),
        "the failed task"
    );
    assert!(
        !trace.contains("<script>window.__pwned"),
        "a hostile value is escaped"
    );
    assert!(
        trace.contains("card declined &lt;script&gt;"),
        "the failure reason, escaped"
    );

    // the explorer's query language over the ring
    let found = support::get_text(
        &http,
        &format!("{base}/_taskwire/traces?q=task%3D%22POST+%2Fpay%22"),
    )
    .await;
    assert!(found.contains(">POST /pay</a>"), "{found}");
    assert!(!found.contains(">POST /checkout</a>"), "{found}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_ring_the_dashboard_lists_no_recent_traces() {
    let _ = recent();
    let dir = TempDir::new("web-recent-off");
    let dash = taskwire_web::dashboard(store(&dir), taskwire_metrics::layer().handle())
        .build()
        .expect("the dashboard builds");
    let base = support::serve_app(axum::Router::new().nest("/_taskwire", dash)).await;
    let page =
        support::get_text(&reqwest::Client::new(), &format!("{base}/_taskwire/traces")).await;
    assert!(!page.contains("Recent traces"));
    assert!(!page.contains("<table class=\"traces\">"));
}
