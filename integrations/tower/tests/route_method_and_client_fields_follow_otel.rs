//! The request task's name and fields follow OpenTelemetry's HTTP server conventions: route
//! from the user's function (hyper, tonic), the method alone without one, `_OTHER` methods, opt-in client address.

mod support;

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;

use http::{Method, Request, Response};
use support::local::capture;
use support::WaitForTask;
use taskwire_test_support::json_line::{str_of, u64_of};
use taskwire_tower::ClientAddress;
use tower::{service_fn, Layer, ServiceExt};

fn ok_service() -> impl tower::Service<
    Request<String>,
    Response = Response<String>,
    Error = Infallible,
    Future: Send,
> + Clone {
    service_fn(|_req: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) })
}

#[tokio::test]
async fn a_route_function_names_the_task() {
    let (buf, _guard) = capture();
    let layer = taskwire_tower::layer().with_route(|head| {
        head.uri
            .path()
            .strip_prefix("/items/")
            .map(|_| Cow::Borrowed("/items/{id}"))
    });
    let svc = layer.layer(ok_service());
    svc.clone()
        .oneshot(
            Request::get("/items/31?secret=x")
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    let end = buf.task_end("GET /items/{id}").await;
    assert_eq!(str_of(&end, "http.route"), "/items/{id}");
    assert_eq!(str_of(&end, "url.path"), "/items/31", "no query string");

    // `None` names the task after the method alone; the path is only `url.path`.
    svc.oneshot(Request::put("/other").body(String::new()).unwrap())
        .await
        .unwrap();
    let end = buf.task_end("PUT").await;
    assert!(end.get("http.route").is_none());
    assert_eq!(str_of(&end, "url.path"), "/other");
    assert_eq!(u64_of(&end, "http.response.status_code"), 200);
}

#[tokio::test]
async fn unknown_methods_are_other() {
    let (buf, _guard) = capture();
    let svc = taskwire_tower::layer().layer(ok_service());
    let req = Request::builder()
        .method(Method::from_bytes(b"BREW").unwrap())
        .uri("/pot")
        .body(String::new())
        .unwrap();
    svc.oneshot(req).await.unwrap();
    let end = buf.task_end("HTTP").await;
    assert_eq!(str_of(&end, "http.request.method"), "_OTHER");
    assert_eq!(str_of(&end, "http.request.method_original"), "BREW");
}

#[tokio::test]
async fn client_address_is_opt_in() {
    let (buf, _guard) = capture();
    let peer: SocketAddr = "192.0.2.10:40000".parse().unwrap();
    let request = |xff: &str| {
        let mut req = Request::get("/whoami")
            .header("x-forwarded-for", xff)
            .body(String::new())
            .unwrap();
        req.extensions_mut().insert(peer);
        req
    };

    let off = taskwire_tower::layer().layer(ok_service());
    off.oneshot(request("203.0.113.5")).await.unwrap();
    let end = buf.task_end("GET").await;
    assert!(end.get("client.address").is_none());

    buf.clear();
    let peer_layer = taskwire_tower::layer().with_client_address(ClientAddress::Peer);
    peer_layer
        .layer(ok_service())
        .oneshot(request("203.0.113.5"))
        .await
        .unwrap();
    let end = buf.task_end("GET").await;
    assert_eq!(str_of(&end, "client.address"), "192.0.2.10");
    assert_eq!(u64_of(&end, "client.port"), 40000);

    buf.clear();
    let xff = taskwire_tower::layer().with_client_address(ClientAddress::ForwardedFor);
    let svc = xff.layer(ok_service());
    svc.clone()
        .oneshot(request("203.0.113.5, 10.0.0.1"))
        .await
        .unwrap();
    let end = buf.task_end("GET").await;
    assert_eq!(str_of(&end, "client.address"), "203.0.113.5");
    assert!(end.get("client.port").is_none());

    // A forged, non-address value is not recorded: the peer is.
    buf.clear();
    svc.oneshot(request("\"><script>")).await.unwrap();
    let end = buf.task_end("GET").await;
    assert_eq!(str_of(&end, "client.address"), "192.0.2.10");
}
