//! A trace-link template sends "view trace" to a trace viewer: in headless Chromium, the
//! ticket page's sample and the trace page link the sample's trace id through the template,
//! beside the waterfall from the logs; a template with markup in it reaches the page escaped
//! and runs nothing.

mod support;

use taskwire_test_support::TempDir;

/// The id of the one ticket titled `card declined`.
async fn card_declined(http: &reqwest::Client, base: &str) -> i64 {
    let list: serde_json::Value =
        serde_json::from_str(&support::get_text(http, &format!("{base}/api/tickets")).await)
            .expect("JSON");
    list["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .find(|t| t["title"] == "card declined")
        .and_then(|t| t["id"].as_i64())
        .expect("the card declined ticket")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_trace_links_go_through_the_template() {
    let dir = TempDir::new("web-trace-link");
    let (db, _, trace_id) = support::request_in(dir.path());
    let link: taskwire_web::TraceLink = "http://jaeger:16686/trace/{trace_id}?uiFind={trace_id}"
        .parse()
        .expect("a good template");
    let logs = [
        dir.path().join("front.jsonl"),
        dir.path().join("back.jsonl"),
    ];
    let base = support::serve_db(
        &db,
        taskwire_web::options()
            .with_logs(logs)
            .with_trace_link(link),
    )
    .await;
    let id = card_declined(&reqwest::Client::new(), &base).await;
    let want = format!("http://jaeger:16686/trace/{trace_id}?uiFind={trace_id}");

    let c = support::browser(&dir).await;
    c.goto(&format!("{base}/tickets/{id}"))
        .await
        .expect("the page opens");
    let out = support::element(&c, "dd.trace a.trace-out").await;
    assert_eq!(
        out.attr("href").await.unwrap().as_deref(),
        Some(want.as_str())
    );
    assert_eq!(out.text().await.unwrap(), "view trace");
    assert_eq!(
        out.attr("rel").await.unwrap().as_deref(),
        Some("noopener noreferrer")
    );
    // The waterfall of the logs is still one click away.
    support::click_to_next_page(&c, "dd.trace a.trace-logs").await;
    assert_eq!(support::text(&c, "h1").await, "Trace GET /checkout");
    let out = support::element(&c, "p.trace-out a").await;
    assert_eq!(
        out.attr("href").await.unwrap().as_deref(),
        Some(want.as_str())
    );
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_with_markup_is_escaped_in_the_page() {
    let dir = TempDir::new("web-trace-link-markup");
    let (db, _, trace_id) = support::request_in(dir.path());
    let link: taskwire_web::TraceLink =
        "https://tempo/?q=\"><script>window.__pwned=true</script>&t={trace_id}"
            .parse()
            .expect("quotes and brackets are escaped, not refused");
    let base = support::serve_db(&db, taskwire_web::options().with_trace_link(link)).await;
    let http = reqwest::Client::new();
    let id = card_declined(&http, &base).await;
    let page = support::get_text(&http, &format!("{base}/tickets/{id}")).await;
    assert!(
        page.contains(&format!(
            "href=\"https://tempo/?q=&quot;&gt;&lt;script&gt;window.__pwned=true&lt;/script&gt;&amp;t={trace_id}\""
        )),
        "the escaped link"
    );
    assert!(!page.contains("<script>window.__pwned"));
}
