//! [`RequestTasksService`]: opens the request task.

use std::fmt;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AsHeaderName, HeaderValue};
use actix_web::http::Version;
use actix_web::{Error, HttpMessage};
use taskwire_core::http::{
    continue_trace, host_and_port, incoming_request_id, minted_request_id, protocol_version,
    redact_query, request_method, ServerTaskName, X_FORWARDED_FOR,
};
use taskwire_core::propagation::extract;
use tracing::field::Empty;

use crate::body::TaskBody;
use crate::config::Config;
use crate::future::ResponseFuture;
use crate::headers::{traceresponse, HeaderExtractor};
use crate::request_id::RequestId;
use crate::task::Task;

/// The service [`RequestTasks`](crate::RequestTasks) wraps around an app (or a scope, or a
/// resource).
pub struct RequestTasksService<S> {
    service: S,
    config: Arc<Config>,
}

impl<S> RequestTasksService<S> {
    pub(crate) fn new(service: S, config: Arc<Config>) -> Self {
        RequestTasksService { service, config }
    }
}

impl<S> fmt::Debug for RequestTasksService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestTasksService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for RequestTasksService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<TaskBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        if self.config.server.skips(req.path()) {
            return ResponseFuture::new(&self.service, req, None);
        }
        let task = open_task(&self.config, &mut req);
        ResponseFuture::new(&self.service, req, Some(task))
    }
}

/// Opens the request task: reads the trace context and request id, creates the span,
/// re-parents it under the remote task, and gives the request an id if it had no valid one.
fn open_task(config: &Config, req: &mut ServiceRequest) -> Task {
    let incoming_id = incoming_request_id(req.headers().get_all(&config.request_id_name)).cloned();
    let span = {
        let (method, original) = request_method(req.method().as_str());
        let route = req.match_pattern();
        // The method alone when no route matched: a path is not a name (it is `url.path`).
        let name = ServerTaskName::new(req.method().as_str(), route.as_deref());
        let client = config
            .server
            .client_address()
            .resolve(|| header_str(req, X_FORWARDED_FOR), || req.peer_addr());
        // The connection's own TLS, not a header any client could send.
        let scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let server = req
            .uri()
            .authority()
            .map(actix_web::http::uri::Authority::as_str)
            .or_else(|| header_str(req, actix_web::http::header::HOST))
            .and_then(|a| host_and_port(a, scheme));
        let query = Some(req.query_string())
            .filter(|q| !q.is_empty())
            .map(|q| redact_query(q, config.server.redactor()));
        tracing::info_span!(
            "http.server.request",
            task.name = %name,
            http.request.method = method,
            http.request.method_original = original,
            http.route = route.as_deref(),
            url.scheme = scheme,
            url.path = req.path(),
            url.query = query.as_deref(),
            server.address = server.map(|(host, _)| host),
            server.port = server.map(|(_, port)| port),
            user_agent.original = header_str(req, actix_web::http::header::USER_AGENT),
            network.protocol.version = protocol_version(&req.version(), &VERSIONS),
            http.request_id = incoming_id.as_ref().and_then(|v| v.to_str().ok()),
            client.address = client.map(|(ip, _)| display(ip)),
            client.port = client.and_then(|(_, port)| port),
            http.response.status_code = Empty,
            error.type = Empty,
            error.message = Empty,
        )
    };

    let remote = extract(&HeaderExtractor::new(req.headers()));
    let ids = span
        .with_subscriber(|(id, dispatch)| continue_trace(dispatch, id, &remote))
        .flatten();

    let request_id = match incoming_id {
        Some(id) => id,
        None => {
            let minted = minted_request_id(ids.map(|t| t.span_id));
            let value = HeaderValue::from_bytes(&minted).unwrap_or(HeaderValue::from_static("0"));
            span.record("http.request_id", value.to_str().unwrap_or_default());
            req.headers_mut()
                .insert(config.request_id_name.clone(), value.clone());
            value
        }
    };
    // Valid ids and minted ones are visible ASCII.
    req.extensions_mut()
        .insert(RequestId::new(request_id.to_str().unwrap_or_default()));

    Task {
        server_error_tickets: config.server.server_error_tickets(),
        span,
        traceresponse: ids
            .filter(|_| config.server.traceresponse())
            .as_ref()
            .and_then(traceresponse),
        request_id: config
            .server
            .request_id_header()
            .then(|| (config.request_id_name.clone(), request_id)),
    }
}

/// actix's HTTP versions in the order [`protocol_version`] takes them.
const VERSIONS: [Version; 5] = taskwire_core::http_versions!(Version);

/// The value of the request's header `name`, when it has one and it is text.
fn header_str(req: &ServiceRequest, name: impl AsHeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use taskwire_core::http::ClientAddress;

    #[test]
    fn client_address_comes_from_the_header_or_the_peer() {
        let req = TestRequest::default()
            .insert_header(("x-forwarded-for", "unknown"))
            .peer_addr("192.0.2.1:5000".parse().unwrap())
            .to_srv_request();
        let resolve = |source: ClientAddress, req: &ServiceRequest| {
            source.resolve(|| header_str(req, X_FORWARDED_FOR), || req.peer_addr())
        };
        assert_eq!(
            resolve(ClientAddress::ForwardedFor, &req),
            Some(("192.0.2.1".parse().unwrap(), Some(5000)))
        );
        let req = TestRequest::default()
            .insert_header(("x-forwarded-for", "203.0.113.7, 10.0.0.1"))
            .peer_addr("192.0.2.1:5000".parse().unwrap())
            .to_srv_request();
        assert_eq!(
            resolve(ClientAddress::ForwardedFor, &req),
            Some(("203.0.113.7".parse().unwrap(), None))
        );
        assert_eq!(
            resolve(ClientAddress::Peer, &req),
            Some(("192.0.2.1".parse().unwrap(), Some(5000)))
        );
        assert_eq!(resolve(ClientAddress::Off, &req), None);
    }

    #[test]
    fn versions() {
        assert_eq!(protocol_version(&Version::HTTP_2, &VERSIONS), Some("2"));
        assert_eq!(protocol_version(&Version::HTTP_10, &VERSIONS), Some("1.0"));
    }
}
