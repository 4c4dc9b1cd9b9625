//! Redaction of sensitive keys, applied before anything is written or stored.
//!
//! A key is sensitive when one of the configured names occurs in it as a run of whole words.
//! Keys and names are compared case-insensitively, and `-`, `.`, `_`, spaces and camelCase
//! humps all count as word breaks, so with the default name `password` the keys `password`,
//! `db_password`, `userPassword` and `X-Password` are redacted and `passwords_total` is
//! not; with `auth`, `auth` and `http.auth` are redacted and `author` is not.
//!
//! ```
//! use taskwire_core::Redactor;
//! let r = Redactor::default();
//! assert!(r.is_sensitive("Authorization"));
//! assert!(r.is_sensitive("db_password"));
//! assert!(r.is_sensitive("userApiKey"));
//! assert!(!r.is_sensitive("author"));
//! let r = r.with_key("ssn");
//! assert!(r.is_sensitive("customer.ssn"));
//! ```

use std::cell::RefCell;
use std::sync::Arc;

use crate::cache::{self, SiteCache};
use crate::ids;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The keys redacted by default.
pub const DEFAULT_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "auth",
    "cookie",
    "set-cookie",
    "session",
    "credentials",
    "private_key",
];

/// Decides which keys are sensitive. Cheap to clone (the name list is shared).
#[derive(Clone, Debug)]
pub struct Redactor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Identifies this list in the per-thread cache of decisions.
    id: u64,
    /// Normalized names: lowercase words joined by `_`.
    names: Vec<Box<[u8]>>,
    /// Whether any name starts with this byte: most keys are cleared by this alone.
    first: [bool; 256],
}

impl Default for Redactor {
    /// Redacts [`DEFAULT_KEYS`]. Every default redactor is a handle on one shared list, so
    /// the layers that use it share their cached decisions too.
    fn default() -> Self {
        static DEFAULT: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
        DEFAULT
            .get_or_init(|| Redactor::with_keys(DEFAULT_KEYS.iter().copied()))
            .clone()
    }
}

impl Redactor {
    /// A redactor for exactly these names (no defaults).
    pub fn with_keys<I, K>(keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        let mut names = Vec::new();
        let mut first = [false; 256];
        for k in keys {
            let mut norm = Vec::new();
            normalize(k.as_ref(), &mut norm);
            if let Some(&b) = norm.first() {
                first[usize::from(b)] = true;
                names.push(norm.into_boxed_slice());
            }
        }
        Redactor {
            inner: Arc::new(Inner {
                id: ids::next_id().get(),
                names,
                first,
            }),
        }
    }

    /// A redactor that redacts nothing.
    pub fn none() -> Self {
        Redactor::with_keys(std::iter::empty::<&str>())
    }

    /// This redactor plus one more name.
    #[must_use]
    pub fn with_key(self, key: impl AsRef<str>) -> Self {
        let mut keys: Vec<String> = self
            .inner
            .names
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        keys.push(key.as_ref().to_owned());
        Redactor::with_keys(keys)
    }

    /// A redactor for the names of both: a key either calls sensitive is redacted.
    #[must_use]
    pub fn union(&self, other: &Redactor) -> Redactor {
        if Arc::ptr_eq(&self.inner, &other.inner)
            || other
                .inner
                .names
                .iter()
                .all(|n| self.inner.names.contains(n))
        {
            return self.clone();
        }
        let names = self.inner.names.iter().chain(&other.inner.names);
        Redactor::with_keys(names.map(|n| String::from_utf8_lossy(n).into_owned()))
    }

    /// [`Redactor::is_sensitive`] for a field name of a `tracing` call site, whose answer is
    /// remembered per thread in a [`SiteCache`] keyed by the redactor and the name's address
    /// and length (a call site's names are `'static`): a hit neither locks nor allocates.
    #[inline]
    pub fn is_sensitive_field(&self, name: &'static str) -> bool {
        if self.inner.names.is_empty() {
            return false;
        }
        // Several redactors (one per layer or middleware) may ask about the same names: the
        // key holds the redactor too.
        let key = (self.inner.id, name.as_ptr() as usize, name.len());
        cache::with_entry(&DECISIONS, key, || self.is_sensitive(name), |d| *d)
    }

    /// Identifies this redactor's list of names (a clone shares it).
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    /// Whether values under `key` must be redacted.
    pub fn is_sensitive(&self, key: &str) -> bool {
        let inner = &*self.inner;
        if inner.names.is_empty() {
            return false;
        }
        // Cheap rejection: no word of the key starts with a byte any name starts with.
        let bytes = key.as_bytes();
        let mut candidate = false;
        let mut prev_lower = false;
        let mut at_break = true;
        for &b in bytes {
            let is_word = b.is_ascii_alphanumeric() || b >= 0x80;
            if is_word
                && (at_break || (prev_lower && b.is_ascii_uppercase()))
                && inner.first[usize::from(b.to_ascii_lowercase())]
            {
                candidate = true;
                break;
            }
            at_break = !is_word;
            prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        }
        if !candidate {
            return false;
        }
        let mut stack = [0u8; 128];
        let mut heap = Vec::new();
        let norm: &[u8] = if bytes.len() <= stack.len() / 2 {
            let n = normalize_into(key, &mut stack);
            &stack[..n]
        } else {
            normalize(key, &mut heap);
            &heap
        };
        inner.names.iter().any(|name| contains_words(norm, name))
    }
}

/// Decisions remembered per thread: (redactor id, name address, name length) → sensitive.
type Decisions = SiteCache<(u64, usize, usize), bool>;

thread_local! {
    static DECISIONS: RefCell<Decisions> = const { RefCell::new(SiteCache::new(4096)) };
}

/// Whether `name` occurs in `key` starting and ending at word breaks (`_`).
fn contains_words(key: &[u8], name: &[u8]) -> bool {
    if name.len() > key.len() {
        return false;
    }
    let mut i = 0;
    while i + name.len() <= key.len() {
        if (i == 0 || key[i - 1] == b'_')
            && &key[i..i + name.len()] == name
            && (i + name.len() == key.len() || key[i + name.len()] == b'_')
        {
            return true;
        }
        i += 1;
    }
    false
}

/// Lowercase words joined by single `_`: `X-Api.Key` and `xApiKey` → `x_api_key`.
fn normalize(key: &str, out: &mut Vec<u8>) {
    out.clear();
    let mut buf = vec![0u8; key.len() * 2 + 1];
    let n = normalize_into(key, &mut buf);
    out.extend_from_slice(&buf[..n]);
}

/// Writes the normalized key into `out`, which must hold `2 * key.len()` bytes.
fn normalize_into(key: &str, out: &mut [u8]) -> usize {
    let mut n = 0;
    let mut prev_lower = false;
    let mut pending_break = false;
    for &b in key.as_bytes() {
        let is_word = b.is_ascii_alphanumeric() || b >= 0x80;
        if !is_word {
            pending_break = n > 0;
            prev_lower = false;
            continue;
        }
        if (pending_break || (prev_lower && b.is_ascii_uppercase())) && n > 0 {
            out[n] = b'_';
            n += 1;
        }
        pending_break = false;
        out[n] = b.to_ascii_lowercase();
        n += 1;
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_match_whole_words_in_any_case_and_style() {
        let r = Redactor::default();
        for k in [
            "password",
            "PASSWORD",
            "db_password",
            "userPassword",
            "X-Api-Key",
            "api_key",
            "apiKey",
            "stripe.api_key",
            "Set-Cookie",
            "set_cookie",
            "cookie",
            "http.request.header.authorization",
            "session_id",
            "privateKey",
            "auth",
            "pwd",
            "mysql_pwd",
            "clientSecret",
            "credentials",
            "access_token",
        ] {
            assert!(r.is_sensitive(k), "{k} should be sensitive");
        }
        for k in [
            "author",
            "user_id",
            "passwords_total",
            "path",
            "tokenizer",
            "secretary",
            "",
            "_",
            "ééé",
        ] {
            assert!(!r.is_sensitive(k), "{k} should not be sensitive");
        }
    }

    #[test]
    fn configured_names_replace_the_defaults() {
        let r = Redactor::with_keys(["ssn"]);
        assert!(r.is_sensitive("customer_ssn"));
        assert!(!r.is_sensitive("password"));
        assert!(!Redactor::none().is_sensitive("password"));
        assert!(Redactor::none()
            .with_key("Card-Number")
            .is_sensitive("cardNumber"));
    }

    #[test]
    fn cached_field_decisions_match_and_are_per_redactor() {
        let a = Redactor::default();
        let b = Redactor::with_keys(["ssn"]);
        for name in ["password", "ssn", "user_id", "db_password"] {
            assert_eq!(a.is_sensitive_field(name), a.is_sensitive(name), "{name}");
            assert_eq!(b.is_sensitive_field(name), b.is_sensitive(name), "{name}");
            // twice: the second answer comes from the cache
            assert_eq!(a.is_sensitive_field(name), a.is_sensitive(name), "{name}");
            assert_eq!(b.is_sensitive_field(name), b.is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn long_keys_take_the_heap_path() {
        let r = Redactor::default();
        let long = format!("{}_password", "x".repeat(500));
        assert!(r.is_sensitive(&long));
        assert!(!r.is_sensitive(&"p".repeat(500)));
    }
}
