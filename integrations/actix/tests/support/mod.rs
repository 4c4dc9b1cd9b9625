//! Shared by the test files: the subscriber under test and its request records, a real
//! actix-web server on 127.0.0.1, a client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::Value;
use taskwire_test_support::json_line::is_task_end;
use taskwire_test_support::Capture;
use tracing::Dispatch;

/// What these tests read from a [`Capture`] the layers write to.
pub(crate) trait Captured {
    /// registry + taskwire_tasks::layer() + taskwire_json::layer() writing here.
    fn dispatch(&self) -> Dispatch;

    /// The `task.end` record of the request task whose `http.request_id` is `id`, waiting
    /// for it (woken by each write).
    fn request_task(&self, id: &str) -> Value;
}

impl Captured for Capture {
    fn dispatch(&self) -> Dispatch {
        Dispatch::new(taskwire_test_stack::tasks_and_json(self))
    }

    fn request_task(&self, id: &str) -> Value {
        Value::Object(
            self.wait_for(&format!("task.end with http.request_id {id}"), |r| {
                is_task_end(r) && r.get("http.request_id").and_then(Value::as_str) == Some(id)
            }),
        )
    }
}

thread_local! {
    static WORKER_DEFAULT: std::cell::RefCell<Option<tracing::subscriber::DefaultGuard>> =
        const { std::cell::RefCell::new(None) };
}

/// A real actix-web server on 127.0.0.1 (port 0, one worker), in its own thread and
/// `actix_web::rt::System`, whose worker thread records into `captured`.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) captured: Capture,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub(crate) fn start(middleware: taskwire_actix::RequestTasks) -> TestServer {
        let captured = Capture::default();
        let dispatch = captured.dispatch();
        TestServer::start_with(middleware, dispatch, captured)
    }

    /// [`TestServer::start`] with a subscriber of the test's own (`captured` is what it
    /// writes to, if anything).
    pub(crate) fn start_with(
        middleware: taskwire_actix::RequestTasks,
        dispatch: Dispatch,
        captured: Capture,
    ) -> TestServer {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    // The factory runs on each worker thread (an `App` is not `Send`): make
                    // this test's subscriber that thread's default, once, for its lifetime.
                    let dispatch = dispatch.clone();
                    WORKER_DEFAULT.with(|g| {
                        g.borrow_mut()
                            .get_or_insert_with(|| tracing::dispatcher::set_default(&dispatch));
                    });
                    app(middleware.clone())
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind 127.0.0.1:0");
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).expect("test is waiting");
                server.await.expect("server ran");
            });
        });
        let (addr, handle) = rx.recv().expect("server started");
        TestServer {
            addr,
            captured,
            handle,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `GET path` with the request id `id`, answered (whatever the status).
    pub(crate) async fn get_with_request_id(&self, path: &str, id: &str) -> reqwest::Response {
        client()
            .get(self.url(path))
            .header("x-request-id", id)
            .send()
            .await
            .expect("request")
    }

    /// `GET path` with the header `traceparent: traceparent`, answered (whatever the status).
    pub(crate) async fn get_with_traceparent(
        &self,
        path: &str,
        traceparent: &str,
    ) -> reqwest::Response {
        client()
            .get(self.url(path))
            .header("traceparent", traceparent)
            .send()
            .await
            .expect("request")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // `stop` sends the command when called; the returned future only waits for it.
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The app every test serves.
pub(crate) fn app(
    middleware: taskwire_actix::RequestTasks,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(middleware)
        .route("/users/{id}", web::get().to(user))
        .route(
            "/fail",
            web::get().to(|| async { HttpResponse::InternalServerError().body("no") }),
        )
        .route(
            "/orders/{id}",
            web::get().to(|| async { HttpResponse::InternalServerError().body("no") }),
        )
        .route(
            "/logged/{id}",
            web::get().to(|| async {
                tracing::error!("the ledger refused the order");
                HttpResponse::InternalServerError().finish()
            }),
        )
        .route("/panic", web::get().to(panics))
        .route("/unavailable", web::get().to(unavailable))
        .route("/bad", web::get().to(bad_request))
        .route("/stream", web::get().to(stream))
        .route("/health", web::get().to(health))
        .route("/own-headers", web::get().to(own_headers))
}

/// Answers with what the handler sees: `{traceparent}|{tracestate}|{request id}`.
async fn user(id: web::Path<u32>, request_id: Option<taskwire_actix::RequestId>) -> String {
    tracing::info!(user = *id, "loading user");
    let ctx = taskwire_tasks::current();
    format!(
        "{}|{}|{}",
        ctx.as_ref().map(|c| c.traceparent()).unwrap_or_default(),
        ctx.as_ref()
            .and_then(|c| c.tracestate())
            .unwrap_or_default(),
        request_id.map(|id| id.to_string()).unwrap_or_default(),
    )
}

async fn panics() -> String {
    panic!("boom at the handler")
}

async fn unavailable() -> Result<String, actix_web::Error> {
    Err(actix_web::error::ErrorServiceUnavailable(
        "database is down",
    ))
}

async fn bad_request() -> Result<String, actix_web::Error> {
    Err(actix_web::error::ErrorBadRequest("missing field name"))
}

/// Sets the two response headers itself.
async fn own_headers() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-request-id", "mine"))
        .insert_header(("traceresponse", "00-mine"))
        .finish()
}

async fn health() -> String {
    tracing::info!("health checked");
    String::from("ok")
}

/// Three chunks; producing each one logs an event.
async fn stream() -> HttpResponse {
    let mut n = 0;
    let chunks = futures_util::stream::poll_fn(move |_| {
        n += 1;
        if n > 3 {
            return std::task::Poll::Ready(None);
        }
        tracing::info!(chunk = n, "chunk produced");
        std::task::Poll::Ready(Some(Ok::<_, std::convert::Infallible>(web::Bytes::from(
            format!("chunk {n};"),
        ))))
    });
    HttpResponse::Ok().streaming(chunks)
}

/// A plain reqwest client (no proxy: the tests talk to 127.0.0.1).
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}
