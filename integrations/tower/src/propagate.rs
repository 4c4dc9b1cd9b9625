//! Client middleware: writes the current task into outgoing requests as `traceparent` and
//! `tracestate`, so the server that receives them continues the task.

use std::task::{Context, Poll};

use http::Request;
use taskwire_core::propagation::{Injector, TRACEPARENT, TRACESTATE};
use taskwire_core::span;
use tower_layer::Layer;
use tower_service::Service;

use crate::HeaderInjector;

/// Wraps an HTTP client service (hyper-util's `Client`, a tonic `Channel`, any
/// `Service<http::Request<B>>`) in a [`PropagateService`].
///
/// ```
/// use tower_layer::Layer;
/// use taskwire_tower::PropagateLayer;
///
/// # fn wrap<C>(client: C) -> taskwire_tower::PropagateService<C> {
/// let client = PropagateLayer::new().layer(client);
/// # client
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PropagateLayer {
    _private: (),
}

impl PropagateLayer {
    /// The layer. It has no options.
    pub fn new() -> Self {
        PropagateLayer::default()
    }
}

impl<S> Layer<S> for PropagateLayer {
    type Service = PropagateService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PropagateService { inner }
    }
}

/// Sets `traceparent` (and `tracestate`, when the trace has one) on each request to the task
/// current when [`Service::call`] runs, replacing any value already there. Outside a task, or
/// without a taskwire layer, the request is left as it is.
///
/// The context is read from a thread-local (`taskwire_core::span::current`): call the
/// service inside the task, e.g. from a future `.instrument(span)`-ed with it, as tracing's
/// spans require anyway.
#[derive(Clone, Debug)]
pub struct PropagateService<S> {
    inner: S,
}

impl<S> PropagateService<S> {
    define_inner_service_accessors!();
}

impl<S, B> Service<Request<B>> for PropagateService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if let Some(parent) = span::current() {
            // the task crosses a process boundary: the tasks layer writes its record
            span::note_current_exported();
            let mut headers = HeaderInjector(req.headers_mut());
            parent.with_str(|tp| headers.set(TRACEPARENT, tp));
            if let Some(state) = span::current_tracestate() {
                headers.set(TRACESTATE, &state);
            } else {
                headers.0.remove(TRACESTATE);
            }
        }
        self.inner.call(req)
    }
}
