//! Facts about the process and thread that every record carries, computed once.

use std::cell::OnceCell;
use std::sync::OnceLock;

/// The process id (cached).
pub fn pid() -> u32 {
    static PID: OnceLock<u32> = OnceLock::new();
    *PID.get_or_init(std::process::id)
}

/// The host name, read once; `"unknown"` when the system has none that is UTF-8.
///
/// ```
/// assert!(!taskwire_core::process::hostname().is_empty());
/// ```
pub fn hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        gethostname::gethostname()
            .into_string()
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".to_owned())
    })
}

thread_local! {
    static THREAD_NAME: OnceCell<Box<str>> = const { OnceCell::new() };
}

/// Calls `f` with the current thread's name, or `ThreadId(N)` for an unnamed thread. The name
/// is looked up once per thread.
pub fn with_thread_name<R>(f: impl FnOnce(&str) -> R) -> R {
    let mut f = Some(f);
    let res = THREAD_NAME.try_with(|cell| {
        let name = cell.get_or_init(thread_name);
        // `f` is still there: try_with ran this closure, so it was not taken.
        f.take().map(|f| f(name))
    });
    match res {
        Ok(Some(r)) => r,
        // The thread-local is being destroyed (an event from a TLS destructor).
        _ => match f.take() {
            Some(f) => f(&thread_name()),
            None => unreachable!("closure taken only on success"),
        },
    }
}

fn thread_name() -> Box<str> {
    let t = std::thread::current();
    match t.name() {
        Some(n) => n.into(),
        None => format!("{:?}", t.id()).into_boxed_str(),
    }
}
