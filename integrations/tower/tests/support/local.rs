//! Driving a `TaskService` in process (no sockets), for the paths a real server can't easily
//! provoke: service errors, panics in `call`, failing bodies, custom methods, peer addresses.

use std::future::poll_fn;
use std::pin::Pin;

use http_body::Body;
use tracing::dispatcher::DefaultGuard;

use super::subscriber;
use taskwire_test_support::Capture;

/// The subscriber under test, as this thread's default while the guard lives.
pub fn capture() -> (Capture, DefaultGuard) {
    let buf = Capture::default();
    let guard = tracing::subscriber::set_default(subscriber(&buf));
    (buf, guard)
}

/// Reads a body to its end, or to its first error; returns the data and the error.
pub async fn drain<B>(body: B) -> (Vec<u8>, Option<B::Error>)
where
    B: Body + Unpin,
{
    let mut body = body;
    let mut data = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        match frame {
            Ok(frame) => {
                if let Ok(chunk) = frame.into_data() {
                    use bytes::Buf as _;
                    data.extend_from_slice(chunk.chunk());
                }
            }
            Err(e) => return (data, Some(e)),
        }
    }
    (data, None)
}
