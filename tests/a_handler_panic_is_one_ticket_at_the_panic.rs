//! With the panic hook and the tower middleware, a panicking axum handler answers 500 and is
//! one ERROR event inside the request task (the hook's: the middleware does not report it
//! again), so one ticket at the panic's line. A real server on 127.0.0.1, a real HTTP request,
//! a real SQLite tickets database.
#![cfg(all(feature = "axum", feature = "tickets"))]

use axum::routing::get;
use axum::Router;
use serde_json::Value;
use taskwire::tickets::store::ListQuery;
use taskwire::tickets::{Sqlite, TicketReader};
use taskwire_test_support::json_line::is_task_end;
use taskwire_test_support::{Capture, TempDir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PANIC_LINE: u32 = line!() + 3;

async fn pay() -> &'static str {
    panic!("the card reader is on fire")
}

#[test]
fn a_handler_panic_answers_500_and_is_one_ticket() {
    taskwire::panic_hook();
    let dir = TempDir::new("handler-panic");
    let db = dir.path().join("tickets.db");
    let buf = Capture::default();
    let (dispatch, guard) = taskwire::builder()
        .tasks(taskwire::tasks::layer())
        .tickets_db(&db)
        .json(buf.clone())
        .build()
        .expect("the stack builds");

    let response = tracing::dispatcher::with_default(&dispatch, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let app = Router::new()
                .route("/pay/{id}", get(pay))
                .layer(taskwire::tower::layer());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free port on 127.0.0.1");
            let addr = listener.local_addr().expect("the bound address");
            tokio::spawn(async move { axum::serve(listener, app).await.expect("the server runs") });
            let mut stream = tokio::net::TcpStream::connect(addr)
                .await
                .expect("the server accepts");
            stream
                .write_all(b"GET /pay/7 HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
                .await
                .expect("the request is sent");
            let mut response = String::new();
            stream
                .read_to_string(&mut response)
                .await
                .expect("the response is read");
            response
        })
    });
    assert!(response.starts_with("HTTP/1.1 500"), "{response}");

    let end = Value::Object(buf.wait_for("task.end of the request", |r| {
        is_task_end(r) && r.get("task.name").and_then(Value::as_str) == Some("GET /pay/{id}")
    }));
    assert_eq!(end["task.outcome"], "failed");
    assert_eq!(end["task.failure"], "the card reader is on fire");
    assert_eq!(end["task.errors"], 1, "one ERROR event: the hook's");

    guard.flush_tickets().expect("the tickets are written");
    let tickets = Sqlite::open(&db)
        .expect("the database")
        .list(&ListQuery::default())
        .expect("the tickets");
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(tickets[0].count, 1);
    assert_eq!(tickets[0].title, "the card reader is on fire");
    assert_eq!(tickets[0].seed.file.as_deref(), Some(file!()));
    assert_eq!(tickets[0].seed.line, Some(PANIC_LINE));
}
