//! Shared by the test files: output capture, a real actix-web server on 127.0.0.1, a client.
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::Value;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// How long a test waits for a record before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// JSON lines written by the layers, and a condition variable signalled on every write.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<(Mutex<Vec<u8>>, Condvar)>);

pub(crate) struct CapturedWriter(Arc<(Mutex<Vec<u8>>, Condvar)>);

impl io::Write for CapturedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (lock, cv) = &*self.0;
        lock.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        cv.notify_all();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = CapturedWriter;
    fn make_writer(&'a self) -> CapturedWriter {
        CapturedWriter(Arc::clone(&self.0))
    }
}

fn parse(buf: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(buf)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

impl Captured {
    /// registry + taskwire_tasks::layer() + taskwire_json::layer() writing here.
    pub(crate) fn dispatch(&self) -> Dispatch {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(taskwire_tasks::layer())
                .with(taskwire_json::layer().with_writer(self.clone())),
        )
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.0 .0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn records(&self) -> Vec<Value> {
        parse(&self.lock())
    }

    pub(crate) fn task_ends(&self) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["msg"] == "task.end")
            .collect()
    }

    /// Blocks until a record matching `pred` has been written (woken by each write), and
    /// returns it. Fails the test after `PATIENCE`, printing what was written.
    pub(crate) fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        let mut buf = self.lock();
        loop {
            if let Some(r) = parse(&buf).into_iter().find(|r| pred(r)) {
                return r;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "no record {what} after {PATIENCE:?}; got:\n{}",
                String::from_utf8_lossy(&buf)
            );
            buf = self
                .0
                 .1
                .wait_timeout(buf, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The `task.end` record of the request task whose `http.request_id` is `id`.
    pub(crate) fn request_task(&self, id: &str) -> Value {
        self.wait_for(&format!("task.end with http.request_id {id}"), |r| {
            r["msg"] == "task.end" && r["http.request_id"] == id
        })
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
    pub(crate) captured: Captured,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub(crate) fn start(middleware: taskwire_actix::RequestTasks) -> TestServer {
        let captured = Captured::default();
        let dispatch = captured.dispatch();
        TestServer::start_with(middleware, dispatch, captured)
    }

    /// [`TestServer::start`] with a subscriber of the test's own (`captured` is what it
    /// writes to, if anything).
    pub(crate) fn start_with(
        middleware: taskwire_actix::RequestTasks,
        dispatch: Dispatch,
        captured: Captured,
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
