//! The capture's redactor: widened while the stack is built (each reader layer with a redactor
//! of its own adds its keys), then read by every new span and every `Span::record`.
//!
//! Reading it through a lock would cost every span two atomic read-modify-writes on one cache
//! line that all threads share. So the first read freezes a copy that later reads take with a
//! plain load; a widening after that (a layer attached once spans flow, which tracing-subscriber's
//! composition does not do) sends every later read back to the lock, so no key it adds is ever
//! missed.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard};

use crate::Redactor;

/// A [`Redactor`] that is widened rarely and read for each span.
#[derive(Debug)]
pub(super) struct RedactorCell {
    lock: RwLock<Redactor>,
    /// The redactor as of the first read, read without a lock.
    frozen: OnceLock<Redactor>,
    /// Widened after `frozen` was taken: `frozen` is stale, the lock decides.
    widened_late: AtomicBool,
}

/// The redactor as [`RedactorCell::get`] found it.
pub(super) enum RedactorRef<'a> {
    Frozen(&'a Redactor),
    Locked(RwLockReadGuard<'a, Redactor>),
}

impl Deref for RedactorRef<'_> {
    type Target = Redactor;

    #[inline]
    fn deref(&self) -> &Redactor {
        match self {
            RedactorRef::Frozen(r) => r,
            RedactorRef::Locked(g) => g,
        }
    }
}

impl RedactorCell {
    pub(super) fn new(redactor: Redactor) -> Self {
        RedactorCell {
            lock: RwLock::new(redactor),
            frozen: OnceLock::new(),
            widened_late: AtomicBool::new(false),
        }
    }

    /// The current redactor.
    #[inline]
    pub(super) fn get(&self) -> RedactorRef<'_> {
        if !self.widened_late.load(Ordering::Acquire) {
            if let Some(r) = self.frozen.get() {
                return RedactorRef::Frozen(r);
            }
        }
        self.get_locked()
    }

    #[cold]
    fn get_locked(&self) -> RedactorRef<'_> {
        let guard = self.lock.read().unwrap_or_else(PoisonError::into_inner);
        // Frozen while the read lock is held: a widening waits for it, then sees the copy.
        let _ = self.frozen.set(guard.clone());
        RedactorRef::Locked(guard)
    }

    /// Also redacts what `redactor` calls sensitive.
    pub(super) fn widen(&self, redactor: &Redactor) {
        let mut mine = self.lock.write().unwrap_or_else(PoisonError::into_inner);
        *mine = mine.union(redactor);
        if self.frozen.get().is_some() {
            self.widened_late.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_widening_before_the_first_read_is_in_the_frozen_copy() {
        let cell = RedactorCell::new(Redactor::with_keys(["alpha"]));
        cell.widen(&Redactor::with_keys(["beta"]));
        assert!(cell.get().is_sensitive_field("beta"));
        assert!(
            matches!(cell.get(), RedactorRef::Frozen(_)),
            "read without the lock"
        );
        assert!(cell.get().is_sensitive_field("alpha"));
    }

    #[test]
    fn a_widening_after_the_first_read_is_never_missed() {
        let cell = RedactorCell::new(Redactor::with_keys(["alpha"]));
        assert!(!cell.get().is_sensitive_field("gamma"));
        cell.widen(&Redactor::with_keys(["gamma"]));
        assert!(cell.get().is_sensitive_field("gamma"));
        assert!(cell.get().is_sensitive_field("alpha"));
    }
}
