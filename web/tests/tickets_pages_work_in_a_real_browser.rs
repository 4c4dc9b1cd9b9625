//! The tickets pages in headless Chromium (through chromedriver, started by `scripts/test`)
//! over a SQLite database the real tickets layer filled: the list opens, filters by title and
//! service, a ticket opens with its details, resolving it takes it off the open list; hostile
//! titles, field names and values (markup, `javascript:` URLs, U+2028, 1 MB) run no script
//! and leave the pages whole. With `TASKWIRE_SCREENSHOTS=1` each page is saved in docs/web/.

mod support;

use fantoccini::Locator;
use taskwire_test_support::TempDir;

/// The titles of the list's rows.
async fn titles(c: &fantoccini::Client) -> Vec<String> {
    let mut out = Vec::new();
    for row in c
        .find_all(Locator::Css("table.tickets td.title > a"))
        .await
        .expect("the rows")
    {
        out.push(row.text().await.expect("a title"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filter_open_and_resolve_a_ticket() {
    let dir = TempDir::new("web-browser");
    let db = support::filled(&dir);
    let base = support::serve(&db, None).await;
    let c = support::browser(&dir).await;

    c.goto(&format!("{base}/")).await.expect("the list opens");
    assert_eq!(c.title().await.unwrap(), "Tickets · taskwire");
    let all = titles(&c).await;
    assert!(
        all.iter().any(|t| t == "payment for order <num> declined"),
        "{all:?}"
    );
    assert!(
        all.iter().any(|t| t == "db timeout after <num> retries"),
        "{all:?}"
    );
    assert!(
        c.find(Locator::Css("svg.spark rect")).await.is_ok(),
        "a sparkline with a bar"
    );
    support::screenshot(&c, "tickets").await;

    // Filter by title text through the form.
    let search = c.find(Locator::Css("input[name=q]")).await.unwrap();
    search.send_keys("PAYMENT").await.unwrap();
    support::click_to_next_page(&c, "form.filters button[type=submit]").await;
    assert_eq!(titles(&c).await, ["payment for order <num> declined"]);
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("q=PAYMENT"));
    // A service nobody has matches nothing.
    c.goto(&format!("{base}/tickets?service=billing"))
        .await
        .unwrap();
    assert!(titles(&c).await.is_empty());
    c.goto(&format!("{base}/tickets?service=checkout&level=warn"))
        .await
        .unwrap();
    assert_eq!(titles(&c).await, ["slow downstream answer"]);

    // A date range: nothing was seen before 2000, everything since.
    c.goto(&format!("{base}/tickets?to=1999-12-31"))
        .await
        .unwrap();
    assert!(titles(&c).await.is_empty());
    c.goto(&format!("{base}/tickets?from=2000-01-01"))
        .await
        .unwrap();
    assert_eq!(titles(&c).await.len(), all.len());

    // Open the payment ticket.
    c.goto(&format!("{base}/tickets?q=payment")).await.unwrap();
    support::click_to_next_page(&c, "table.tickets td.title > a").await;
    let url = c.current_url().await.unwrap().to_string();
    assert!(url.contains("/tickets/"), "{url}");
    let facts = support::text(&c, "dl.facts").await;
    assert!(
        facts.contains("Events\n5") || facts.contains("Events 5"),
        "{facts}"
    );
    assert!(facts.contains("1.4.2"), "the release: {facts}");
    let body = support::text(&c, "main").await;
    for expected in [
        "Status history",
        "charge_card",
        "upstream timed out after 30s",
        "taskwire tree --trace",
        "/orders/{id}",
        "gold",
    ] {
        assert!(
            body.contains(expected),
            "{expected:?} missing from the ticket page"
        );
    }
    support::screenshot_tall(&c, "ticket").await;

    // Resolve it: it leaves the open list and shows in the resolved one.
    support::click_to_next_page(&c, "form[action$='/resolve'] button").await;
    // The form posts, the answer redirects back to the ticket: wait for its new status.
    let status = c
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css("p.meta .status.resolved"))
        .await
        .expect("the ticket shows as resolved")
        .text()
        .await
        .unwrap();
    assert_eq!(status, "resolved");
    // The status history shows the change and who made it.
    let history = support::texts(&c, "ol.history li").await;
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(history[0].ends_with("opened (first event)"), "{history:?}");
    assert!(history[1].ends_with("resolved (by triage)"), "{history:?}");
    assert_eq!(history[2], "now: resolved");
    let ticket_url = c.current_url().await.unwrap();
    c.goto(&format!("{base}/tickets")).await.unwrap();
    let open = titles(&c).await;
    assert!(!open.iter().any(|t| t.starts_with("payment")), "{open:?}");
    c.goto(&format!("{base}/tickets?status=resolved"))
        .await
        .unwrap();
    assert_eq!(titles(&c).await, ["payment for order <num> declined"]);
    // Reopen it: the history keeps both changes, in order.
    c.goto(ticket_url.as_str()).await.unwrap();
    support::click_to_next_page(&c, "form[action$='/reopen'] button").await;
    c.wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css("p.meta .status.open"))
        .await
        .expect("the ticket shows as open");
    let history = support::texts(&c, "ol.history li").await;
    assert!(history[1].ends_with("resolved (by triage)"), "{history:?}");
    assert!(history[2].ends_with("reopened (by triage)"), "{history:?}");

    c.goto(&format!(
        "{base}/traces?trace=4bf92f3577b34da6a3ce929d0e0e4736"
    ))
    .await
    .unwrap();
    support::screenshot(&c, "traces").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_titles_fields_and_values_run_no_script() {
    let dir = TempDir::new("web-xss");
    let db = support::filled(&dir);
    let base = support::serve(&db, None).await;
    let c = support::browser(&dir).await;

    c.goto(&format!("{base}/tickets?status=all&limit=100"))
        .await
        .unwrap();
    assert!(support::not_pwned(&c).await, "a script ran on the list");
    let all = titles(&c).await;
    let hostile = all
        .iter()
        .find(|t| t.starts_with("<script>"))
        .unwrap_or_else(|| panic!("the hostile title is shown as text: {all:?}"));
    assert!(hostile.contains("onerror"), "{hostile}");
    assert!(
        all.iter().any(|t| t.starts_with("huge: <script>")),
        "{all:?}"
    );
    assert_eq!(
        c.find_all(Locator::Css("main img")).await.unwrap().len(),
        0,
        "no element was injected"
    );

    // Every ticket page: no script ran, the page is whole (heading, samples, fields).
    let mut links = Vec::new();
    for a in c
        .find_all(Locator::Css("table.tickets td.title > a"))
        .await
        .unwrap()
    {
        links.push(a.attr("href").await.unwrap().expect("an href"));
    }
    for link in links {
        c.goto(&format!("{base}{link}")).await.unwrap();
        assert!(support::not_pwned(&c).await, "a script ran on {link}");
        assert!(
            c.find(Locator::Css("h1.ticket-title")).await.is_ok(),
            "{link}"
        );
        assert!(
            c.find(Locator::Css("section.samples")).await.is_ok(),
            "{link}"
        );
        assert_eq!(
            c.find_all(Locator::Css("main img, main script"))
                .await
                .unwrap()
                .len(),
            0,
            "{link}"
        );
        // Only http(s) URLs became links.
        for a in c.find_all(Locator::Css("main a")).await.unwrap() {
            let href = a.attr("href").await.unwrap().unwrap_or_default();
            assert!(
                !href.to_ascii_lowercase().contains("javascript"),
                "{link}: {href}"
            );
        }
        let shown = support::text(&c, "main").await;
        if shown.contains("huge:") {
            assert!(
                shown.contains("more bytes"),
                "the 1 MB value is cut for display"
            );
        }
        if shown.contains("broke") {
            assert!(
                shown.contains("javascript:window.__pwned=true"),
                "shown as text"
            );
            assert!(
                shown.contains("<img src=x onerror=window.__pwned=true>"),
                "field name as text"
            );
            support::screenshot_tall(&c, "hostile").await;
        }
    }
    c.close().await.unwrap();
}
