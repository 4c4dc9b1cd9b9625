//! [`Config`]: the options of [`RequestTasks`](crate::RequestTasks), shared by its services.

use actix_web::http::header::HeaderName;
use taskwire_core::http::{ServerConfig, X_REQUEST_ID};

/// taskwire-core's [`ServerConfig`], and the request id header name parsed once.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) server: ServerConfig,
    /// `server.request_id_header_name()` as actix's header name.
    pub(crate) request_id_name: HeaderName,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig::default(),
            request_id_name: HeaderName::from_static(X_REQUEST_ID),
        }
    }
}
