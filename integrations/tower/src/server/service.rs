//! [`TaskService`]: opens the request task.

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HeaderValue;
use http::request::Parts;
use http::{Request, Response, Version};
use taskwire_core::http::{
    continue_trace, host_and_port, incoming_request_id, minted_request_id, protocol_version,
    redact_query, request_method, ServerTaskName, X_FORWARDED_FOR,
};
use taskwire_core::propagation;
use tower_service::Service;
use tracing::field::Empty;

use super::task::Task;
use super::{grpc, Config, ResponseFuture, TaskBody};
use crate::HeaderExtractor;

/// The service made by [`TaskLayer`](super::TaskLayer): one task per request (unless its path is
/// skipped), continued from the request's `traceparent`.
///
/// The inner service's error type must implement [`Display`](fmt::Display): an `Err` is
/// reported in an ERROR event inside the task (axum's and tonic's are `Infallible`). Its
/// response body is wrapped in a [`TaskBody`], whose error type must implement `Display` too.
#[derive(Clone, Debug)]
pub struct TaskService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> TaskService<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        TaskService { inner, config }
    }

    define_inner_service_accessors!();
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TaskService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
{
    type Response = Response<TaskBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let path = req.uri().path();
        if self.config.server.skips(path) {
            return ResponseFuture::untracked(self.inner.call(req));
        }
        let (mut parts, body) = req.into_parts();
        let task = open_task(&self.config, &mut parts);
        let req = Request::from_parts(parts, body);
        let called = {
            let _entered = task.span.enter();
            catch_unwind(AssertUnwindSafe(|| self.inner.call(req)))
        };
        match called {
            Ok(future) => ResponseFuture::running(future, task),
            Err(payload) => ResponseFuture::panicked(task, payload),
        }
    }
}

/// Opens the request task: reads the trace context and request id, creates the span,
/// re-parents it under the remote task, and gives the request a request id if it had no
/// valid one.
fn open_task(config: &Arc<Config>, parts: &mut Parts) -> Task {
    let remote = propagation::extract(&HeaderExtractor(&parts.headers));
    let incoming_id = incoming_request_id(parts.headers.get_all(&config.request_id_name)).cloned();
    let grpc = grpc::is_grpc(&parts.headers);
    let span = {
        let parts: &Parts = parts;
        let template = route_template(config, parts);
        let (method, original) = request_method(parts.method.as_str());
        // The method alone when no route matched: a path is not a name (it is `url.path`).
        let name = ServerTaskName::new(parts.method.as_str(), template.as_deref());
        let client = config.server.client_address().resolve(
            || header_str(parts, X_FORWARDED_FOR),
            || peer_address(parts),
        );
        let scheme = parts.uri.scheme_str().unwrap_or("http");
        let server = parts
            .uri
            .authority()
            .map(http::uri::Authority::as_str)
            .or_else(|| header_str(parts, http::header::HOST))
            .and_then(|a| host_and_port(a, scheme));
        let query = parts
            .uri
            .query()
            .map(|q| redact_query(q, config.server.redactor()));
        let rpc = grpc
            .then(|| grpc::service_and_method(parts.uri.path()))
            .flatten();
        let rpc_name = rpc.map(|(service, method)| RpcName { service, method });
        tracing::info_span!(
            "http.server.request",
            task.name = %rpc_name
                .as_ref()
                .map_or(&name as &dyn fmt::Display, |n| n as &dyn fmt::Display),
            http.request.method = method,
            http.request.method_original = original,
            http.route = template.as_deref(),
            url.scheme = scheme,
            url.path = parts.uri.path(),
            url.query = query.as_deref(),
            server.address = server.map(|(host, _)| host),
            server.port = server.map(|(_, port)| port),
            user_agent.original = header_str(parts, http::header::USER_AGENT),
            network.protocol.version = protocol_version(&parts.version, &VERSIONS),
            http.request_id = incoming_id.as_ref().and_then(|v| v.to_str().ok()),
            client.address = client.map(|(ip, _)| display(ip)),
            client.port = client.and_then(|(_, port)| port),
            http.response.status_code = Empty,
            error.type = Empty,
            rpc.system = grpc.then_some("grpc"),
            rpc.service = rpc.map(|r| r.0),
            rpc.method = rpc.map(|r| r.1),
            rpc.grpc.status_code = Empty,
        )
    };
    let ids = span
        .with_subscriber(|(id, dispatch)| continue_trace(dispatch, id, &remote))
        .flatten();
    let request_id = match incoming_id {
        Some(id) => Some(id),
        None => {
            let minted = minted_request_id(ids.map(|t| t.span_id));
            let value = HeaderValue::from_bytes(&minted).ok();
            if let Some(value) = &value {
                span.record("http.request_id", value.to_str().unwrap_or_default());
                parts
                    .headers
                    .insert(config.request_id_name.clone(), value.clone());
            }
            value
        }
    };
    Task {
        span,
        ids,
        request_id,
        config: Arc::clone(config),
        grpc,
    }
}

/// tower's HTTP versions in the order [`protocol_version`] takes them.
const VERSIONS: [Version; 5] = taskwire_core::http_versions!(Version);

/// `"{service}/{method}"`, a gRPC call's name (OpenTelemetry's RPC span name).
struct RpcName<'a> {
    service: &'a str,
    method: &'a str,
}

impl fmt::Display for RpcName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.service)?;
        f.write_str("/")?;
        f.write_str(self.method)
    }
}

/// The value of the request's header `name`, when it has one and it is text.
fn header_str<K: http::header::AsHeaderName>(parts: &Parts, name: K) -> Option<&str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The route template: the user's function, then axum's `MatchedPath`.
fn route_template<'a>(config: &Config, parts: &'a Parts) -> Option<Cow<'a, str>> {
    if let Some(route) = config.route.as_ref().and_then(|f| f(parts)) {
        return Some(route);
    }
    #[cfg(feature = "axum")]
    if let Some(matched) = parts.extensions.get::<axum::extract::MatchedPath>() {
        return Some(Cow::Borrowed(matched.as_str()));
    }
    None
}

/// The connection's peer: axum's `ConnectInfo<SocketAddr>` (feature `axum`), else a
/// `SocketAddr` request extension.
fn peer_address(parts: &Parts) -> Option<SocketAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(info.0);
    }
    parts.extensions.get::<SocketAddr>().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskwire_core::http::ClientAddress;

    fn parts(f: impl FnOnce(http::request::Builder) -> http::request::Builder) -> Parts {
        f(Request::builder()).body(()).unwrap().into_parts().0
    }

    #[test]
    fn client_address_comes_from_the_header_or_the_peer_extension() {
        let mut p = parts(|b| b.header("x-forwarded-for", "unknown"));
        let resolve = |source: ClientAddress, p: &Parts| {
            source.resolve(|| header_str(p, X_FORWARDED_FOR), || peer_address(p))
        };
        assert_eq!(resolve(ClientAddress::ForwardedFor, &p), None);
        p.extensions
            .insert("192.0.2.1:5000".parse::<SocketAddr>().unwrap());
        assert_eq!(
            resolve(ClientAddress::ForwardedFor, &p),
            Some(("192.0.2.1".parse().unwrap(), Some(5000)))
        );
        let p = parts(|b| b.header("x-forwarded-for", "203.0.113.7, 10.0.0.1"));
        assert_eq!(
            resolve(ClientAddress::ForwardedFor, &p),
            Some(("203.0.113.7".parse().unwrap(), None))
        );
        assert_eq!(resolve(ClientAddress::Off, &p), None);
    }

    #[test]
    fn versions() {
        assert_eq!(protocol_version(&Version::HTTP_2, &VERSIONS), Some("2"));
        assert_eq!(protocol_version(&Version::HTTP_11, &VERSIONS), Some("1.1"));
    }
}
