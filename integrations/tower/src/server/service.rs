//! [`TaskService`]: opens the request task.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HeaderValue;
use http::request::Parts;
use http::{Method, Request, Response, Version};
use taskwire_core::http::{host_and_port, redact_query, ServerTaskName};
use taskwire_core::propagation;
use taskwire_core::span;
use taskwire_core::{SpanData, SpanId};
use tower_service::Service;
use tracing::field::Empty;

use super::future::Task;
use super::{
    grpc, valid_request_id, ClientAddress, Config, ResponseFuture, TaskBody, X_REQUEST_ID_NAME,
};
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

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
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
        if self.config.skip_paths.contains(path) {
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
/// re-parents it under the remote task, and gives the request an `x-request-id` if it had no
/// valid one.
fn open_task(config: &Config, parts: &mut Parts) -> Task {
    let remote = propagation::extract(&HeaderExtractor(&parts.headers));
    let incoming_id = single_valid_request_id(parts);
    let grpc = grpc::is_grpc(&parts.headers);
    let span = {
        let parts: &Parts = parts;
        let template = route_template(config, parts);
        let (method, original) = match known_method(&parts.method) {
            Some(m) => (m, None),
            None => ("_OTHER", Some(parts.method.as_str())),
        };
        // The method alone when no route matched: a path is not a name (it is `url.path`).
        let name = ServerTaskName::new(parts.method.as_str(), template.as_deref());
        let client = client_address(config.client_address, parts);
        let scheme = parts.uri.scheme_str().unwrap_or("http");
        let server = parts
            .uri
            .authority()
            .map(http::uri::Authority::as_str)
            .or_else(|| header_str(parts, http::header::HOST))
            .and_then(|a| host_and_port(a, scheme));
        let query = parts.uri.query().map(|q| redact_query(q, &config.redactor));
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
            network.protocol.version = protocol_version(parts.version),
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
        .with_subscriber(|(id, dispatch)| {
            span::set_remote_parent(dispatch, id, &remote);
            span::read_span_data(dispatch, id, SpanData::traceparent)
        })
        .flatten();
    let request_id = match incoming_id {
        Some(id) => Some(id),
        None => {
            // The task's span id names the request: one id to search for in logs and traces.
            let hex = ids.map_or_else(SpanId::random, |t| t.span_id).to_hex();
            let value = HeaderValue::from_bytes(&hex).ok();
            if let Some(value) = &value {
                span.record("http.request_id", value.to_str().unwrap_or_default());
                parts.headers.insert(X_REQUEST_ID_NAME, value.clone());
            }
            value
        }
    };
    Task {
        span,
        ids,
        request_id,
        traceresponse: config.traceresponse,
        request_id_header: config.request_id_header,
        grpc,
    }
}

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

/// The request's `x-request-id` when it has exactly one and it is valid (see
/// [`valid_request_id`]).
fn single_valid_request_id(parts: &Parts) -> Option<HeaderValue> {
    let mut values = parts.headers.get_all(X_REQUEST_ID_NAME).iter();
    match (values.next(), values.next()) {
        (Some(v), None) if valid_request_id(v.as_bytes()) => Some(v.clone()),
        _ => None,
    }
}

/// The value of the request's header `name`, when it has one and it is text.
fn header_str(parts: &Parts, name: http::HeaderName) -> Option<&str> {
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

/// The method's name when it is one of the nine standard ones ([`taskwire_core::http::known_method`]).
fn known_method(method: &Method) -> Option<&'static str> {
    taskwire_core::http::known_method(method.as_str())
}

fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

fn client_address(source: ClientAddress, parts: &Parts) -> Option<(IpAddr, Option<u16>)> {
    match source {
        ClientAddress::Off => None,
        ClientAddress::Peer => peer_address(parts),
        ClientAddress::ForwardedFor => forwarded_for(parts)
            .map(|ip| (ip, None))
            .or_else(|| peer_address(parts)),
    }
}

fn peer_address(parts: &Parts) -> Option<(IpAddr, Option<u16>)> {
    #[cfg(feature = "axum")]
    if let Some(info) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some((info.0.ip(), Some(info.0.port())));
    }
    parts
        .extensions
        .get::<SocketAddr>()
        .map(|a| (a.ip(), Some(a.port())))
}

/// The first entry of the first `X-Forwarded-For` header, when it is an IP address (with or
/// without a port). Anything else is ignored: the value is the client's to choose.
fn forwarded_for(parts: &Parts) -> Option<IpAddr> {
    let value = parts.headers.get("x-forwarded-for")?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    first
        .parse::<IpAddr>()
        .ok()
        .or_else(|| first.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::X_REQUEST_ID;

    fn parts(f: impl FnOnce(http::request::Builder) -> http::request::Builder) -> Parts {
        f(Request::builder()).body(()).unwrap().into_parts().0
    }

    #[test]
    fn forwarded_for_takes_only_addresses() {
        let p = parts(|b| b.header("x-forwarded-for", "203.0.113.7, 10.0.0.1"));
        assert_eq!(forwarded_for(&p), Some("203.0.113.7".parse().unwrap()));
        let p = parts(|b| b.header("x-forwarded-for", "[2001:db8::1]:443"));
        assert_eq!(forwarded_for(&p), Some("2001:db8::1".parse().unwrap()));
        let p = parts(|b| b.header("x-forwarded-for", "<script>"));
        assert_eq!(forwarded_for(&p), None);
        let mut p = parts(|b| b.header("x-forwarded-for", "unknown"));
        p.extensions
            .insert("192.0.2.1:5000".parse::<SocketAddr>().unwrap());
        assert_eq!(
            client_address(ClientAddress::ForwardedFor, &p),
            Some(("192.0.2.1".parse().unwrap(), Some(5000)))
        );
        assert_eq!(client_address(ClientAddress::Off, &p), None);
    }

    #[test]
    fn request_id_must_be_single_and_valid() {
        let p = parts(|b| b.header(X_REQUEST_ID, "abc"));
        assert_eq!(single_valid_request_id(&p).unwrap(), "abc");
        let p = parts(|b| b.header(X_REQUEST_ID, "abc").header(X_REQUEST_ID, "def"));
        assert!(single_valid_request_id(&p).is_none());
        let p = parts(|b| b.header(X_REQUEST_ID, "a b"));
        assert!(single_valid_request_id(&p).is_none());
        let p = parts(|b| b.header(X_REQUEST_ID, "x".repeat(129)));
        assert!(single_valid_request_id(&p).is_none());
    }

    #[test]
    fn methods_and_versions() {
        assert_eq!(known_method(&Method::PATCH), Some("PATCH"));
        assert_eq!(known_method(&Method::from_bytes(b"BREW").unwrap()), None);
        assert_eq!(protocol_version(Version::HTTP_2), Some("2"));
    }
}
