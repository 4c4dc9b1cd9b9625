//! The same pages over the MongoDB store (the server `scripts/test` starts): the list with its
//! filters and sparklines, a ticket's page, its JSON, and a resolve through the page's form.

mod support;

use reqwest::redirect::Policy;
use taskwire_tickets::store::{ListQuery, Status};
use taskwire_tickets::{MongoDb, TicketReader};

#[test]
fn list_filter_detail_and_resolve_work_over_mongodb() {
    let uri = taskwire_test_support::services::fresh_mongodb_uri("web");
    support::fill_store(MongoDb::open(&uri).expect("the store opens"));
    let reader = MongoDb::open(&uri).expect("the store opens");
    let payment = reader
        .list(&ListQuery::default().with_search("payment"))
        .expect("the list")
        .pop()
        .expect("the payment ticket");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let store = MongoDb::open(&uri).expect("the store opens");
    rt.block_on(async {
        let base = support::serve_store(Box::new(store), None).await;
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let get = |path: String| {
            let http = http.clone();
            async move {
                let r = http.get(path).send().await.expect("an answer");
                assert!(r.status().is_success(), "{}", r.status());
                r.text().await.expect("a page")
            }
        };
        let list = get(format!("{base}/tickets")).await;
        assert!(
            list.contains("payment for order &lt;num&gt; declined"),
            "{list}"
        );
        assert!(list.contains("<svg class=\"spark\""), "a sparkline");
        assert!(list.contains("<rect"), "with a bar for this hour");
        let found = get(format!(
            "{base}/tickets?q=PAYMENT&service=checkout&level=error&release=1.4.2&period=1h"
        ))
        .await;
        assert!(found.contains("Tickets 1–1 of 1"), "{found}");
        let none = get(format!("{base}/tickets?release=9.9")).await;
        assert!(none.contains("No tickets match."));
        let page = get(format!("{base}/tickets/{}", payment.id)).await;
        assert!(page.contains("upstream timed out after 30s") && page.contains("charge_card"));
        let api = get(format!("{base}/api/tickets/{}", payment.id)).await;
        let api: serde_json::Value = serde_json::from_str(&api).unwrap();
        assert_eq!(api["count"], 5);
        assert_eq!(
            api["hourly"]
                .as_array()
                .map(|h| h.iter().filter_map(|c| c.as_u64()).sum::<u64>()),
            Some(5)
        );

        let csrf = support::csrf_of(&page);
        let url = format!("{base}/tickets/{}/resolve", payment.id);
        let status = support::post_form(&http, &url, &base, format!("csrf={csrf}")).await;
        assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
        let api = get(format!("{base}/api/tickets/{}", payment.id)).await;
        let api: serde_json::Value = serde_json::from_str(&api).unwrap();
        assert_eq!(api["history"][0]["change"], "resolved");
        assert_eq!(api["history"][0]["by"], "triage");
    });
    let after = reader
        .get(payment.id)
        .expect("the ticket")
        .expect("still there");
    assert_eq!(after.status, Status::Resolved);
    // The server's store (and its own runtime) is dropped with the server's runtime, off any
    // async context.
    rt.shutdown_background();
}
