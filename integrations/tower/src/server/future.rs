//! [`ResponseFuture`]: runs the inner service's future inside the request task, catches its
//! panics, and hands the task on to the response body.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use super::task::Task;
use super::TaskBody;

pin_project! {
    /// The response future of [`TaskService`](super::TaskService).
    ///
    /// Each poll of the inner future runs inside the request task, under
    /// [`catch_unwind`](std::panic::catch_unwind): a panic becomes a `500` response and a failed
    /// task. When the response head is ready, its status code is recorded and the task moves
    /// into the [`TaskBody`], which ends it when the body ends.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    #[project_replace = StateReplace]
    enum State<F> {
        // A skipped path: no task, no catching.
        Untracked { #[pin] future: F },
        Running { #[pin] future: F, task: Task },
        // The inner service's `call` panicked.
        Panicked { task: Task, payload: Box<dyn Any + Send> },
        Done,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn untracked(future: F) -> Self {
        ResponseFuture {
            state: State::Untracked { future },
        }
    }

    pub(crate) fn running(future: F, task: Task) -> Self {
        ResponseFuture {
            state: State::Running { future, task },
        }
    }

    pub(crate) fn panicked(task: Task, payload: Box<dyn Any + Send>) -> Self {
        ResponseFuture {
            state: State::Panicked { task, payload },
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Untracked { .. } => "untracked",
            State::Running { .. } => "running",
            State::Panicked { .. } => "panicked",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<TaskBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        // What the inner future gave, for the two states that carry a task.
        let caught = match state.as_mut().project() {
            StateProj::Untracked { future } => {
                let result = ready!(future.poll(cx));
                state.project_replace(State::Done);
                return Poll::Ready(result.map(|res| res.map(TaskBody::untracked)));
            }
            StateProj::Running { future, task } => {
                let polled = {
                    let _entered = task.span.enter();
                    catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
                };
                match polled {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(result)) => Some(Ok(result)),
                    Err(payload) => Some(Err(payload)),
                }
            }
            StateProj::Panicked { .. } => None,
            StateProj::Done => panic!("ResponseFuture polled after completion"),
        };
        let output = match (state.project_replace(State::Done), caught) {
            (StateReplace::Running { task, .. }, Some(Ok(Ok(res)))) => Ok(task.respond(res)),
            (StateReplace::Running { task, .. }, Some(Ok(Err(error)))) => {
                task.service_error(&error);
                Err(error)
            }
            (StateReplace::Running { task, .. }, Some(Err(payload)))
            | (StateReplace::Panicked { task, payload }, None) => Ok(task.panicked(&*payload)),
            // `caught` is `Some` exactly when the state was `Running`.
            _ => unreachable!("ResponseFuture state changed while polled"),
        };
        Poll::Ready(output)
    }
}
