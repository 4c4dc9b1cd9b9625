//! Per-thread scratch buffers for the layers that render lines (JSON, console): one set per
//! thread, reused from event to event, with a fresh set when the thread's own is in use (an
//! event raised while one is written) or already gone (an event from a thread-local
//! destructor).

use std::cell::RefCell;
use std::thread::LocalKey;

/// Buffers a line-writing layer keeps per thread.
pub trait Scratch: Default {
    /// Gives back memory a huge line made a buffer grow to; runs after every use.
    fn trim(&mut self);
}

/// Buffers that grew past this after a huge line are given back by [`trim_buffer`].
pub const KEEP_CAPACITY: usize = 64 * 1024;

/// Replaces `buf` with a small one when a huge line made it grow past [`KEEP_CAPACITY`].
///
/// ```
/// let mut buf = Vec::with_capacity(1 << 20);
/// taskwire_core::scratch::trim_buffer(&mut buf);
/// assert!(buf.capacity() < 1 << 20);
/// ```
#[inline]
pub fn trim_buffer(buf: &mut Vec<u8>) {
    if buf.capacity() > KEEP_CAPACITY {
        *buf = Vec::with_capacity(1024);
    }
}

/// Runs `f` with this thread's scratch in `key`, or a fresh one when it is in use or gone.
///
/// ```
/// use std::cell::RefCell;
/// use taskwire_core::scratch::{with_scratch, Scratch};
///
/// #[derive(Default)]
/// struct Line(Vec<u8>);
/// impl Scratch for Line {
///     fn trim(&mut self) {
///         taskwire_core::scratch::trim_buffer(&mut self.0);
///     }
/// }
/// thread_local!(static LINE: RefCell<Line> = RefCell::new(Line::default()));
///
/// let len = with_scratch(&LINE, |line| {
///     line.0.clear();
///     line.0.extend_from_slice(b"hello");
///     // an event raised while the buffer is in use gets a fresh one
///     let inner = with_scratch(&LINE, |inner| inner.0.len());
///     assert_eq!(inner, 0);
///     line.0.len()
/// });
/// assert_eq!(len, 5);
/// ```
pub fn with_scratch<T: Scratch, R>(
    key: &'static LocalKey<RefCell<T>>,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let mut f = Some(f);
    let done = key
        .try_with(|cell| {
            let mut guard = cell.try_borrow_mut().ok()?;
            let f = f.take()?;
            let r = f(&mut guard);
            guard.trim();
            Some(r)
        })
        .ok()
        .flatten();
    match (done, f) {
        (Some(r), _) => r,
        (None, Some(f)) => f(&mut T::default()),
        // `f` is taken only right before it runs to completion, which yields `Some`.
        (None, None) => unreachable!("scratch closure ran without a result"),
    }
}

/// Writes a function that runs a closure with this thread's scratch of type `T` (a
/// [`Scratch`]): the `thread_local!` and the call to [`with_scratch`], for a layer's module.
///
/// ```
/// #[derive(Default)]
/// struct Line(Vec<u8>);
/// impl taskwire_core::scratch::Scratch for Line {
///     fn trim(&mut self) {
///         taskwire_core::scratch::trim_buffer(&mut self.0);
///     }
/// }
/// taskwire_core::thread_scratch!(fn with_line() -> Line);
///
/// let len = with_line(|line| {
///     line.0.clear();
///     line.0.extend_from_slice(b"hello");
///     line.0.len()
/// });
/// assert_eq!(len, 5);
/// ```
#[macro_export]
macro_rules! thread_scratch {
    ($(#[$attr:meta])* $vis:vis fn $name:ident() -> $ty:ty) => {
        $(#[$attr])*
        $vis fn $name<R>(f: impl FnOnce(&mut $ty) -> R) -> R {
            ::std::thread_local! {
                static SCRATCH: ::std::cell::RefCell<$ty> =
                    ::std::cell::RefCell::new(<$ty as ::std::default::Default>::default());
            }
            $crate::scratch::with_scratch(&SCRATCH, f)
        }
    };
}
