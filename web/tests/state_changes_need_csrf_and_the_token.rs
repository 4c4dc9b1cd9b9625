//! Over plain HTTP, as a page on another site or a client without the token would send it:
//! a POST without the form's CSRF token, with a wrong one, or from another origin changes
//! nothing; with a token configured every request needs it (login link or Bearer header), the
//! token never appears in an answer or a cookie; every answer carries the security headers.

mod support;

use reqwest::redirect::Policy;
use reqwest::StatusCode;
use taskwire_test_support::TempDir;
use taskwire_tickets::store::{ListQuery, Status};
use taskwire_tickets::{Sqlite, TicketReader};

/// The body of the answer to `GET url`.
async fn text_of(http: &reqwest::Client, url: String) -> String {
    http.get(url)
        .send()
        .await
        .expect("an answer")
        .text()
        .await
        .expect("a body")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("a client")
}

fn status_of(db: &std::path::Path, id: i64) -> Status {
    let s = Sqlite::open_read_only(db).expect("the database opens");
    s.get(taskwire_tickets::store::TicketId(id))
        .expect("the query runs")
        .expect("the ticket")
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_the_csrf_token_or_from_another_origin_changes_nothing() {
    let dir = TempDir::new("web-csrf");
    let db = support::filled(&dir);
    let id = Sqlite::open_read_only(&db)
        .unwrap()
        .list(&ListQuery::default())
        .unwrap()[0]
        .id
        .0;
    let base = support::serve(&db, None).await;
    let http = client();
    let url = format!("{base}/tickets/{id}/resolve");

    let r = http.post(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no form at all");
    let r = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=0000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a wrong token");
    let page = text_of(&http, format!("{base}/tickets/{id}")).await;
    let csrf = support::csrf_of(&page);
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header(name, value)
            .body(format!("csrf={csrf}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    for action in ["mute", "reopen", "delete"] {
        let r = http
            .post(format!("{base}/tickets/{id}/{action}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "no change by GET"
    );
    assert_eq!(status_of(&db, id), Status::Open);

    // The page's own form, from its own origin, works.
    let status = support::post_form(&http, &url, &base, format!("csrf={csrf}&release=1.4.3")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&db, id), Status::Resolved);
}

/// The status of `req`'s answer.
async fn status(req: reqwest::RequestBuilder) -> StatusCode {
    req.send().await.expect("an answer").status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_every_request_needs_it_and_it_is_never_echoed() {
    let dir = TempDir::new("web-token");
    let db = support::filled(&dir);
    let token = "tok-3f9a2c";
    let base = support::serve(&db, Some(token)).await;
    let http = client();

    for path in [
        "/",
        "/tickets",
        "/tickets/1",
        "/api/tickets",
        "/assets/style.css",
        "/nope",
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(!r.text().await.unwrap().contains(token));
    }
    assert_eq!(
        status(http.post(format!("{base}/tickets/1/delete"))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(http.get(format!("{base}/tickets?token=tok-3f9a2"))).await,
        StatusCode::UNAUTHORIZED,
        "a wrong login token"
    );
    assert_eq!(
        status(
            http.get(format!("{base}/tickets"))
                .bearer_auth("tok-3f9a2cX")
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "a wrong bearer token"
    );

    assert_eq!(
        status(http.get(format!("{base}/tickets")).bearer_auth(token)).await,
        StatusCode::OK
    );

    // The login link: a session cookie (not the token) and a redirect without the token.
    let r = http
        .get(format!("{base}/tickets?status=all&token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/tickets?status=all");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains(token), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let r = http
        .get(format!("{base}/tickets?status=all"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.text().await.unwrap().contains(token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let dir = TempDir::new("web-headers");
    let db = support::filled(&dir);
    let base = support::serve(&db, None).await;
    let http = client();
    for path in [
        "/tickets",
        "/tickets/1",
        "/tickets/999999",
        "/api/tickets",
        "/assets/app.js",
        "/nope",
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
    // No inline script or style attribute on a page (the CSP would block them anyway).
    let page = text_of(&http, format!("{base}/tickets?status=all")).await;
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the embedded script's tag"
    );
    assert!(page.contains("<script src=\"/assets/app.js\" defer></script>"));
    assert!(!page.contains(" style="));
    // The JSON API has the hostile values whole, as JSON strings.
    let api = text_of(&http, format!("{base}/api/tickets?status=all&limit=100")).await;
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    let titles: Vec<&str> = api["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("<script>window.__pwned=true</script>")),
        "{titles:?}"
    );
}
