//! The traces pages in headless Chromium over logs and tickets the real layers wrote for one
//! request across two services: a pasted `traceparent` opens the waterfall (both services,
//! the failed task with its reason, events with their fields on click), the error links to its
//! ticket and the ticket's *view trace* link leads back; a search lists the trace; markup in
//! a field stays text.

mod support;

use fantoccini::Locator;
use taskwire_test_support::TempDir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_traceparent_opens_the_waterfall_and_errors_link_to_their_tickets() {
    let dir = TempDir::new("web-traces");
    let (db, traceparent, trace_id) = support::request_in(dir.path());
    let logs = [
        dir.path().join("front.jsonl"),
        dir.path().join("back.jsonl"),
    ];
    let base = support::serve_db(&db, taskwire_web::options().with_logs(logs)).await;
    let c = support::browser(&dir).await;

    // Paste the traceparent into the search box.
    c.goto(&format!("{base}/traces"))
        .await
        .expect("the page opens");
    let q = c.find(Locator::Css("input[name=q]")).await.unwrap();
    q.send_keys(&traceparent).await.unwrap();
    support::click_to_next_page(&c, "form.filters button[type=submit]").await;
    assert_eq!(support::text(&c, "h1").await, "Trace GET /checkout");
    let names = support::texts(&c, "details.span .name").await;
    assert_eq!(names, ["GET /checkout", "call back", "POST /charge"]);
    let services = support::text(&c, "p.summary").await;
    assert!(
        services.contains("front") && services.contains("back"),
        "{services}"
    );
    assert_eq!(
        c.find_all(Locator::Css("details.span.failed"))
            .await
            .unwrap()
            .len(),
        1,
        "the task that failed is marked"
    );
    assert_eq!(
        support::text(&c, "details.span.failed .name").await,
        "POST /charge"
    );
    assert!(
        c.find(Locator::Css("rect.ev.error")).await.is_ok(),
        "the error is a marker"
    );

    // Open the failed back task: its reason, its events with their fields, the ticket link.
    support::click(&c, "details.span.d2 > summary").await;
    let detail = support::text(&c, "details.span.d2 .detail").await;
    assert!(detail.contains("card declined"), "{detail}");
    assert!(detail.contains("\"card\":\"visa\""), "the fields: {detail}");
    assert!(
        detail.contains("<script>window.__pwned=true</script>"),
        "{detail}"
    );
    assert!(support::not_pwned(&c).await);
    support::screenshot_tall(&c, "trace").await;

    // To the ticket, and back through its trace link.
    support::click_to_next_page(&c, "details.span.d2 a.ticket").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/tickets/"));
    assert!(support::text(&c, "h1").await.contains("card declined"));
    support::click_to_next_page(&c, "dd.trace a").await;
    assert_eq!(
        c.current_url().await.unwrap().query(),
        Some(format!("trace={trace_id}").as_str())
    );
    assert_eq!(support::text(&c, "h1").await, "Trace GET /checkout");

    // A search lists it.
    c.goto(&format!("{base}/traces?q=service%3Dback+failed"))
        .await
        .unwrap();
    assert!(support::text(&c, "p.summary")
        .await
        .starts_with("1 trace found"));
    support::click_to_next_page(&c, "table.traces td a").await;
    assert_eq!(support::text(&c, "h1").await, "Trace GET /checkout");
    c.close().await.unwrap();
}
