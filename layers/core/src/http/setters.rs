//! [`server_option_setters!`](crate::server_option_setters): the `with_*` setters every
//! taskwire server middleware has, written once.

/// Writes, inside the `impl` block of a server middleware, the consuming `with_*` setters of
/// the options in the [table](crate::http#options) that need no framework type:
/// `with_traceresponse`, `with_request_id_header`, `with_client_address`, `with_skip_paths`,
/// `with_server_error_tickets` and `with_redactor`, each `#[must_use]` and applied to the middleware's
/// [`ServerConfig`](crate::http::ServerConfig).
///
/// The middleware has a method `fn server_config(&mut self) -> &mut ServerConfig`; the macro
/// also writes a private `fn server(self, set: impl FnOnce(ServerConfig) -> ServerConfig) ->
/// Self` that applies `set` to it, for the setters the middleware writes itself
/// (`with_request_id_header_name`, which takes the framework's `HeaderName`). The argument is
/// an expression, as a string, that builds the middleware in the setters' doc examples.
///
/// ```
/// use taskwire_core::http::{ClientAddress, ServerConfig};
///
/// /// A server middleware.
/// #[derive(Default)]
/// pub struct Middleware {
///     options: ServerConfig,
/// }
///
/// impl Middleware {
///     fn server_config(&mut self) -> &mut ServerConfig {
///         &mut self.options
///     }
///
///     taskwire_core::server_option_setters!("Middleware::default()");
/// }
///
/// let m = Middleware::default()
///     .with_skip_paths(["/health"])
///     .with_client_address(ClientAddress::Peer);
/// assert!(m.options.skips("/health"));
/// assert_eq!(m.options.client_address(), ClientAddress::Peer);
/// ```
#[macro_export]
macro_rules! server_option_setters {
    ($build:literal) => {
        /// Applies `set` to the server options.
        fn server(
            mut self,
            set: impl FnOnce($crate::http::ServerConfig) -> $crate::http::ServerConfig,
        ) -> Self {
            let config = self.server_config();
            *config = set(::std::mem::take(config));
            self
        }

        /// Whether responses carry a `traceresponse` header naming the request task, unless
        /// the handler set one. Default: on. See
        /// [`ServerConfig::with_traceresponse`](taskwire_core::http::ServerConfig::with_traceresponse).
        ///
        /// ```
        #[doc = concat!("let middleware = ", $build, ".with_traceresponse(false);")]
        /// # let _ = middleware;
        /// ```
        #[must_use]
        pub fn with_traceresponse(self, enabled: bool) -> Self {
            self.server(|s| s.with_traceresponse(enabled))
        }

        /// Whether responses carry the request id, unless the handler set one. Default: on.
        /// See [`ServerConfig::with_request_id_header`](taskwire_core::http::ServerConfig::with_request_id_header).
        #[must_use]
        pub fn with_request_id_header(self, enabled: bool) -> Self {
            self.server(|s| s.with_request_id_header(enabled))
        }

        /// Where `client.address` (and `client.port`) come from, if anywhere. Default:
        /// [`ClientAddress::Off`](taskwire_core::http::ClientAddress::Off). See
        /// [`ServerConfig::with_client_address`](taskwire_core::http::ServerConfig::with_client_address).
        #[must_use]
        pub fn with_client_address(self, source: $crate::http::ClientAddress) -> Self {
            self.server(|s| s.with_client_address(source))
        }

        /// Paths (exact matches, like `/health`) passed through untouched: no task, no
        /// headers. Adds to the paths given before. See
        /// [`ServerConfig::with_skip_paths`](taskwire_core::http::ServerConfig::with_skip_paths).
        ///
        /// ```
        #[doc = concat!("let middleware = ", $build, ".with_skip_paths([\"/health\", \"/ready\"]);")]
        /// # let _ = middleware;
        /// ```
        #[must_use]
        pub fn with_skip_paths<I, P>(self, paths: I) -> Self
        where
            I: IntoIterator<Item = P>,
            P: Into<String>,
        {
            self.server(|s| s.with_skip_paths(paths))
        }

        /// Whether a `5xx` response that nothing inside the request reported becomes an ERROR
        /// event inside the request task (so a ticket, grouped by route and status). Default:
        /// on. See
        /// [`ServerConfig::with_server_error_tickets`](taskwire_core::http::ServerConfig::with_server_error_tickets).
        ///
        /// ```
        #[doc = concat!("let middleware = ", $build, ".with_server_error_tickets(false);")]
        /// # let _ = middleware;
        /// ```
        #[must_use]
        pub fn with_server_error_tickets(self, enabled: bool) -> Self {
            self.server(|s| s.with_server_error_tickets(enabled))
        }

        /// Which query parameters have their value replaced with `REDACTED` in `url.query`.
        /// Default: taskwire's default redactor. See
        /// [`ServerConfig::with_redactor`](taskwire_core::http::ServerConfig::with_redactor).
        ///
        /// ```
        /// use taskwire_core::Redactor;
        #[doc = concat!("let middleware = ", $build, ".with_redactor(Redactor::default().with_key(\"ssn\"));")]
        /// # let _ = middleware;
        /// ```
        #[must_use]
        pub fn with_redactor(self, redactor: $crate::Redactor) -> Self {
            self.server(|s| s.with_redactor(redactor))
        }
    };
}
