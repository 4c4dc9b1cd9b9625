//! The metrics page in headless Chromium over the `task.end` records the real tasks and JSON
//! layers wrote: per task name count, errors, rates and percentiles, both plots, the filter
//! box and the raw JSON toggle; a task name that is markup stays text.

mod support;

use fantoccini::Locator;
use taskwire_test_support::TempDir;

/// The cells of the metrics table's rows, read in one script so that the page redrawing its
/// table between reads cannot leave a stale element.
async fn rows(c: &fantoccini::Client) -> Vec<Vec<String>> {
    let value = c
        .execute(
            "return [...document.querySelectorAll('table.metrics tbody tr')]\
               .map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText.trim()));",
            vec![],
        )
        .await
        .expect("the rows");
    serde_json::from_value(value).expect("rows of cell texts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_end_records_become_counts_rates_percentiles_and_plots() {
    let dir = TempDir::new("web-metrics");
    let front = dir.path().join("front.jsonl");
    support::write_task_logs(&front, "front");
    let base = support::serve_options(&dir, taskwire_web::options().with_logs([front])).await;
    let c = support::browser(&dir).await;

    c.goto(&format!("{base}/metrics"))
        .await
        .expect("the page opens");
    assert_eq!(c.title().await.unwrap(), "Metrics · taskwire");
    let all = rows(&c).await;
    let checkout = all
        .iter()
        .find(|r| r[0] == "checkout")
        .expect("a checkout row");
    assert_eq!(
        (checkout[1].as_str(), checkout[2].as_str()),
        ("12", "3"),
        "{checkout:?}"
    );
    let db = all
        .iter()
        .find(|r| r[0] == "db.query")
        .expect("a db.query row");
    assert_eq!((db[1].as_str(), db[2].as_str()), ("12", "0"), "{db:?}");
    assert_eq!(
        checkout.len(),
        12,
        "count, errors, three rates, five percentiles, max"
    );
    assert!(
        all.iter().any(|r| r[0].starts_with("<script>")),
        "the hostile name is shown as text: {all:?}"
    );
    assert!(support::not_pwned(&c).await);
    assert_eq!(
        c.find_all(Locator::Css("svg.hist")).await.unwrap().len(),
        all.len()
    );
    assert_eq!(
        c.find_all(Locator::Css("svg.rate polyline"))
            .await
            .unwrap()
            .len(),
        all.len(),
        "a rate line per task"
    );
    support::screenshot_tall(&c, "metrics").await;

    // The raw JSON is behind a toggle.
    let raw = c.find(Locator::Css("details.raw pre")).await.unwrap();
    assert!(!raw.is_displayed().await.unwrap(), "closed at first");
    c.find(Locator::Css("details.raw summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&raw.text().await.unwrap()).unwrap();
    assert!(json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "checkout" && t["errors"] == 3));

    // The filter box.
    let q = c.find(Locator::Css("input[name=q]")).await.unwrap();
    q.send_keys("DB.").await.unwrap();
    support::click_to_next_page(&c, "form.filters button").await;
    let names: Vec<String> = rows(&c).await.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, ["db.query"]);

    // The same numbers as JSON.
    let api = reqwest::get(format!("{base}/api/metrics")).await.unwrap();
    let api: serde_json::Value = serde_json::from_str(&api.text().await.unwrap()).unwrap();
    assert_eq!(api["tasks"].as_array().unwrap().len(), all.len());
    c.close().await.unwrap();
}
