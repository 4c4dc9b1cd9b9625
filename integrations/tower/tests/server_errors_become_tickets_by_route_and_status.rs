//! A 5xx response becomes a ticket without the handler writing `error!`: one ticket per route
//! template and status (never per raw path), none for a 4xx, none with the option off, and a
//! handler that logged its error is counted once. A real axum server on 127.0.0.1, a real
//! hyper client and a real SQLite tickets database.
#![cfg(feature = "axum")]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use taskwire_test_support::TempDir;
use taskwire_tickets::store::{ListQuery, Ticket};
use taskwire_tickets::{Sqlite, TicketReader};

fn app() -> Router {
    Router::new()
        .route(
            "/orders/{id}",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "no") }),
        )
        .route(
            "/stock/{id}",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "later") }),
        )
        .route("/missing/{id}", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/logged/{id}",
            get(|| async {
                tracing::error!("the ledger refused the order");
                StatusCode::INTERNAL_SERVER_ERROR
            }),
        )
        .route(
            "/nested/{id}",
            get(|| async {
                let _inner = tracing::info_span!("charge_card").entered();
                tracing::error!("the card was declined");
                StatusCode::BAD_GATEWAY
            }),
        )
}

/// Serves [`app`] with `layer` on 127.0.0.1, sends a GET to each path, and returns the
/// tickets of the database.
async fn tickets_after(layer: taskwire_tower::TaskLayer, paths: &[&str]) -> Vec<Ticket> {
    let dir = TempDir::new("tower-server-error-tickets");
    let db = dir.path().join("tickets.db");
    let (tickets, guard) =
        taskwire_tickets::layer(Sqlite::open(&db).expect("a fresh database")).build();
    let _default = tracing::subscriber::set_default(taskwire_test_stack::tasks_with(tickets));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let addr = listener.local_addr().expect("the bound address");
    let app = app().layer(layer);
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the server runs") });
    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    for path in paths {
        let req = Request::get(format!("http://{addr}{path}"))
            .body(Body::empty())
            .expect("a valid request");
        let res = client.request(req).await.expect("the request is answered");
        // The whole body: the request task has ended when it is read.
        axum::body::to_bytes(Body::new(res.into_body()), usize::MAX)
            .await
            .expect("the body is read");
    }
    guard.flush().expect("the tickets are written");
    Sqlite::open(&db)
        .expect("the database")
        .list(&ListQuery::default())
        .expect("the tickets")
}

/// `(title, count)` of each ticket, sorted.
fn titles_and_counts(tickets: &[Ticket]) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> =
        tickets.iter().map(|t| (t.title.clone(), t.count)).collect();
    counts.sort();
    counts
}

#[tokio::test]
async fn two_paths_of_one_route_answering_500_make_one_ticket_of_two() {
    let tickets = tickets_after(taskwire_tower::layer(), &["/orders/1", "/orders/2"]).await;
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    let t = &tickets[0];
    assert_eq!(t.count, 2);
    assert_eq!(
        t.title,
        "GET /orders/{id}: HTTP <num> Internal Server Error"
    );
    assert_eq!(t.seed.target, "taskwire::http");
}

#[tokio::test]
async fn routes_and_statuses_each_have_their_ticket() {
    let tickets = tickets_after(
        taskwire_tower::layer(),
        &["/orders/1", "/stock/1", "/stock/2", "/orders/3"],
    )
    .await;
    assert_eq!(
        titles_and_counts(&tickets),
        [
            (
                "GET /orders/{id}: HTTP <num> Internal Server Error".to_owned(),
                2
            ),
            (
                "GET /stock/{id}: HTTP <num> Service Unavailable".to_owned(),
                2
            ),
        ]
    );
}

#[tokio::test]
async fn a_404_makes_no_ticket() {
    let tickets = tickets_after(taskwire_tower::layer(), &["/missing/1", "/missing/2"]).await;
    assert!(tickets.is_empty(), "{tickets:?}");
}

#[tokio::test]
async fn with_the_option_off_a_500_makes_no_ticket() {
    let layer = taskwire_tower::layer().with_server_error_tickets(false);
    let tickets = tickets_after(layer, &["/orders/1", "/orders/2"]).await;
    assert!(tickets.is_empty(), "{tickets:?}");
}

#[tokio::test]
async fn an_error_the_handler_logged_is_counted_once() {
    let tickets = tickets_after(
        taskwire_tower::layer(),
        &["/logged/1", "/logged/2", "/nested/1"],
    )
    .await;
    assert_eq!(
        titles_and_counts(&tickets),
        [
            ("the card was declined".to_owned(), 1),
            ("the ledger refused the order".to_owned(), 2),
        ]
    );
}
