//! A 5xx response or a handler error mapped to a 5xx becomes a ticket without the handler
//! writing `error!`: one ticket per route template and status (never per raw path), none for a
//! 4xx, none with the option off, and a handler that logged its error is counted once. A real
//! actix-web server on 127.0.0.1 and a real SQLite tickets database.

mod support;

use support::{client, TestServer};
use taskwire_test_support::{Capture, TempDir};
use taskwire_tickets::store::ListQuery;
use taskwire_tickets::{Sqlite, TicketReader};
use tracing::Dispatch;

/// Serves the test app with `middleware`, sends a GET to each path, and returns the tickets'
/// titles and counts, sorted.
async fn tickets_after(
    middleware: taskwire_actix::RequestTasks,
    paths: &[&str],
) -> Vec<(String, u64)> {
    let dir = TempDir::new("actix-server-error-tickets");
    let db = dir.path().join("tickets.db");
    let (tickets, guard) =
        taskwire_tickets::layer(Sqlite::open(&db).expect("a fresh database")).build();
    let dispatch = Dispatch::new(taskwire_test_stack::tasks_with(tickets));
    let server = TestServer::start_with(middleware, dispatch, Capture::default());
    for path in paths {
        let res = client()
            .get(server.url(path))
            .send()
            .await
            .expect("the request is answered");
        res.bytes().await.expect("the body is read");
    }
    guard.flush().expect("the tickets are written");
    let mut counts: Vec<(String, u64)> = Sqlite::open(&db)
        .expect("the database")
        .list(&ListQuery::default())
        .expect("the tickets")
        .into_iter()
        .map(|t| (t.title, t.count))
        .collect();
    counts.sort();
    counts
}

#[tokio::test]
async fn two_paths_of_one_route_answering_500_make_one_ticket_of_two() {
    let tickets = tickets_after(taskwire_actix::middleware(), &["/orders/1", "/orders/2"]).await;
    assert_eq!(
        tickets,
        [(
            "GET /orders/{id}: HTTP <num> Internal Server Error".to_owned(),
            2
        )]
    );
}

#[tokio::test]
async fn a_handler_error_is_a_ticket_titled_by_its_message() {
    let tickets = tickets_after(
        taskwire_actix::middleware(),
        &["/unavailable", "/unavailable"],
    )
    .await;
    assert_eq!(
        tickets,
        [("GET /unavailable: database is down".to_owned(), 2)]
    );
}

#[tokio::test]
async fn a_4xx_makes_no_ticket() {
    let tickets = tickets_after(taskwire_actix::middleware(), &["/bad", "/nowhere"]).await;
    assert!(tickets.is_empty(), "{tickets:?}");
}

#[tokio::test]
async fn with_the_option_off_a_500_makes_no_ticket() {
    let middleware = taskwire_actix::middleware().with_server_error_tickets(false);
    let tickets = tickets_after(middleware, &["/orders/1", "/unavailable"]).await;
    assert!(tickets.is_empty(), "{tickets:?}");
}

#[tokio::test]
async fn an_error_the_handler_logged_is_counted_once() {
    let tickets = tickets_after(taskwire_actix::middleware(), &["/logged/1", "/logged/2"]).await;
    assert_eq!(tickets, [("the ledger refused the order".to_owned(), 2)]);
}
