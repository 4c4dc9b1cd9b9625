//! The first hex digits of a trace id: what the console prints and `trace=` takes.

use std::fmt;

/// The fewest digits a prefix may have: the console prints eight.
pub const MIN_DIGITS: usize = 8;

/// The first 8 to 32 hex digits of a trace id; 32 digits name one trace.
///
/// Compared on the parsed id, so any case matches any case.
///
/// ```
/// use taskwire_explore::query::TracePrefix;
/// let p = TracePrefix::parse("4BF92F35").ok_or("not a prefix")?;
/// assert!(p.matches(0x4bf92f3577b34da6a3ce929d0e0e4736));
/// assert!(!p.matches(0x0af7651916cd43dd8448eb211c80319c));
/// assert_eq!((p.digits(), p.to_string()), (8, "4bf92f35".to_owned()));
/// assert_eq!(p.full(), None);
/// assert!(TracePrefix::parse("4bf92f3").is_none()); // seven digits: too short to paste
/// # Ok::<(), &str>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TracePrefix {
    /// The digits' value (the id shifted right by the digits left out).
    value: u128,
    digits: u8,
}

impl TracePrefix {
    /// `s` when it is 8 to 32 hex digits (any case).
    pub fn parse(s: &str) -> Option<TracePrefix> {
        if !(MIN_DIGITS..=32).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(TracePrefix {
            value: u128::from_str_radix(s, 16).ok()?,
            digits: u8::try_from(s.len()).ok()?,
        })
    }

    /// The whole id as a prefix of 32 digits.
    pub fn of_id(id: u128) -> TracePrefix {
        TracePrefix {
            value: id,
            digits: 32,
        }
    }

    /// How many hex digits (8 to 32).
    pub fn digits(&self) -> usize {
        usize::from(self.digits)
    }

    /// The trace id, when all 32 digits are given.
    pub fn full(&self) -> Option<u128> {
        (self.digits == 32).then_some(self.value)
    }

    /// Whether `id` starts with these digits.
    pub fn matches(&self, id: u128) -> bool {
        // 4 bits a digit; 8 to 32 digits leave a shift of 96 to 0 bits
        id.checked_shr(4 * (32 - u32::from(self.digits)))
            .is_some_and(|head| head == self.value)
    }
}

impl fmt::Display for TracePrefix {
    /// The digits in lower case, as the layers write ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$x}", self.value, width = self.digits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: u128 = 0x4bf92f3577b34da6a3ce929d0e0e4736;

    #[test]
    fn a_prefix_matches_the_ids_that_start_with_it() {
        let id = format!("{ID:032x}");
        for n in MIN_DIGITS..=32 {
            let p = TracePrefix::parse(&id[..n]).unwrap_or(TracePrefix::of_id(0));
            assert!(p.matches(ID), "{n}");
            assert!(!p.matches(ID ^ (1 << (4 * (32 - n)))), "{n}");
            assert_eq!(p.to_string(), id[..n]);
        }
        assert_eq!(TracePrefix::parse(&id).and_then(|p| p.full()), Some(ID));
    }

    #[test]
    fn leading_zeros_are_digits() {
        let p = TracePrefix::parse("00000000").unwrap_or(TracePrefix::of_id(1));
        assert!(p.matches(0x0000_0000_ffff_ffff_ffff_ffff_ffff_ffff));
        assert!(!p.matches(0x1000_0000_0000_0000_0000_0000_0000_0000));
        assert_eq!(p.to_string(), "00000000");
    }

    #[test]
    fn only_8_to_32_hex_digits_are_a_prefix() {
        for s in ["", "4bf92f3", "4bf92f35g", "+4bf92f35", &"a".repeat(33)] {
            assert_eq!(TracePrefix::parse(s), None, "{s}");
        }
    }
}
