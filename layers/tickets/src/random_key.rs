//! Fresh random 64-bit keys: a spool file's name, a batch's idempotence key, a MongoDB write
//! token. Its own module because both the spool and the stores draw from it, and neither
//! should depend on the other for it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh random 64-bit key (for a spool file's name, or a batch's idempotence key).
pub(crate) fn random_key() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(N.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}
