//! [`RequestId`]: the request id the middleware chose, for handlers.

use std::fmt;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

/// The id of the current request: the caller's valid `x-request-id`, or the request task's span
/// id (16 lowercase hex digits). The same value is recorded in the task's `http.request_id`
/// field and sent back in the response header.
///
/// The middleware puts it in the request extensions. Handlers take it as an extractor;
/// `Option<RequestId>` is `None` when the middleware is not installed or the path is skipped
/// (a bare `RequestId` answers 500 then).
///
/// ```
/// use actix_web::{web, App};
/// use taskwire_actix::RequestId;
///
/// async fn handler(id: Option<RequestId>) -> String {
///     id.map(|id| id.as_str().to_owned()).unwrap_or_default()
/// }
///
/// let app = App::new()
///     .wrap(taskwire_actix::middleware())
///     .route("/", web::get().to(handler));
/// # let _ = app;
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(Box<str>);

impl RequestId {
    pub(crate) fn new(id: impl Into<Box<str>>) -> Self {
        RequestId(id.into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<RequestId>().cloned().ok_or_else(|| {
            actix_web::error::ErrorInternalServerError(
                "RequestId needs the taskwire_actix middleware",
            )
        }))
    }
}
