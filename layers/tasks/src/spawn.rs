//! Carrying the current task (and subscriber) into new tokio tasks and threads.

#[cfg(feature = "tokio")]
use std::future::Future;

#[cfg(feature = "tokio")]
use tracing::instrument::WithSubscriber;
#[cfg(feature = "tokio")]
use tracing::Instrument;
use tracing::Span;

/// `std::thread::spawn` that runs `f` inside the current task, with the current subscriber.
///
/// ```
/// let handle = taskwire_tasks::spawn_thread(|| 40 + 2);
/// assert_eq!(handle.join().unwrap(), 42);
/// ```
pub fn spawn_thread<F, T>(f: F) -> std::thread::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = Span::current();
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, move || {
            let out = span.in_scope(f);
            // Dropped while the subscriber is this thread's default: the registry releases
            // a closing span's parent through the default subscriber.
            drop(span);
            out
        })
    })
}

#[cfg(feature = "tokio")]
/// `tokio::spawn` that runs `future` inside the current task, with the current subscriber.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handle = taskwire_tasks::spawn(async { 1 + 1 });
/// assert_eq!(handle.await.unwrap(), 2);
/// # }
/// ```
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let span = Span::current();
    // The instrumented future is awaited (and so dropped) inside the poll that has the
    // subscriber as default: the registry releases a closing span's parent through the
    // default subscriber, and a worker thread's default may be another one.
    tokio::spawn(async move { future.instrument(span).await }.with_current_subscriber())
}

#[cfg(feature = "tokio")]
/// `tokio::task::spawn_blocking` that runs `f` inside the current task, with the current
/// subscriber.
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = Span::current();
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    tokio::task::spawn_blocking(move || {
        tracing::dispatcher::with_default(&dispatch, move || {
            let out = span.in_scope(f);
            drop(span);
            out
        })
    })
}
