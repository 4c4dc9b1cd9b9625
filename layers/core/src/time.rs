//! RFC 3339 timestamps in UTC with microseconds: rendered without allocating on the hot path,
//! parsed back, and the proleptic Gregorian calendar arithmetic both use.
//!
//! - [`write_rfc3339`]: what every record's `ts` is written with. The date-and-seconds part is
//!   cached per thread and reused while the second does not change, so a busy thread formats
//!   only the six fraction digits per record.
//! - [`parse_rfc3339_us`], [`Rfc3339`]: microseconds since the epoch from and to RFC 3339, for
//!   readers of records (the `taskwire` command line).
//! - [`days_from_civil`], [`civil_from_days`], [`days_in_month`]: the calendar.
//!
//! ```
//! use taskwire_core::time::{parse_rfc3339_us, Rfc3339};
//! let us = parse_rfc3339_us("2026-11-21T18:56:25.855095Z");
//! assert_eq!(us, Some(1_795_287_385_855_095));
//! assert_eq!(Rfc3339(1_795_287_385_855_095).to_string(), "2026-11-21T18:56:25.855095Z");
//! ```

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    static CACHE: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

/// Appends `t` as `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` (UTC, microseconds). Times before 1970 are
/// written as the epoch.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let mut out = Vec::new();
/// let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
/// taskwire_core::time::write_rfc3339(&mut out, t);
/// assert_eq!(out, b"2023-11-14T22:13:20.123456Z");
/// ```
#[inline]
pub fn write_rfc3339(out: &mut Vec<u8>, t: SystemTime) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let micros = d.subsec_micros();
    let prefix = CACHE.with(|c| {
        let (cached_secs, cached) = c.get();
        if cached_secs == secs {
            cached
        } else {
            let p = date_time(secs);
            c.set((secs, p));
            p
        }
    });
    // One copy of the whole timestamp; the fraction's digits two at a time.
    let mut ts = [0u8; 27];
    ts[..19].copy_from_slice(&prefix);
    ts[19] = b'.';
    let (hi, lo) = (micros / 10_000, micros % 10_000);
    ts[20..22].copy_from_slice(&DIGIT_PAIRS[(hi % 100) as usize]);
    ts[22..24].copy_from_slice(&DIGIT_PAIRS[(lo / 100) as usize]);
    ts[24..26].copy_from_slice(&DIGIT_PAIRS[(lo % 100) as usize]);
    ts[26] = b'Z';
    out.extend_from_slice(&ts);
}

/// The two decimal digits of each number below 100.
static DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the epoch (years up to 9999; later is clamped).
fn date_time(secs: u64) -> [u8; 19] {
    let secs = secs.min(253_402_300_799); // 9999-12-31T23:59:59
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, (rem / 60) % 60, rem % 60);
    let mut out = *b"0000-00-00T00:00:00";
    let put = |out: &mut [u8; 19], at: usize, v: u64, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut out, 0, y as u64, 4);
    put(&mut out, 5, u64::from(m), 2);
    put(&mut out, 8, u64::from(d), 2);
    put(&mut out, 11, hh, 2);
    put(&mut out, 14, mm, 2);
    put(&mut out, 17, ss, 2);
    out
}
/// Parses an RFC 3339 timestamp (`2026-11-21T18:56:25.855095Z`, `…+02:00`) into microseconds
/// since the Unix epoch, UTC. Fractions beyond microseconds are truncated; `t` and a space are
/// accepted for `T`, `z` for `Z`. `None` when it is not one.
///
/// ```
/// use taskwire_core::time::parse_rfc3339_us;
/// assert_eq!(parse_rfc3339_us("1970-01-01T02:00:00.5+02:00"), Some(500_000));
/// assert_eq!(parse_rfc3339_us("2026-02-30T00:00:00Z"), None);
/// ```
pub fn parse_rfc3339_us(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let min = digits(b, 14, 2)?;
    let sec = digits(b, 17, 2)?;
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
        || !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || min > 59
        || sec > 60
    {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                micros = micros * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..6 {
            micros *= 10;
        }
    }
    let offset_s = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = digits(b, i + 1, 2)?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_s;
    Some(secs * 1_000_000 + micros)
}

/// Microseconds since the epoch (negative: before it), displayed as RFC 3339 in UTC with
/// microseconds, the way [`write_rfc3339`] writes records.
///
/// ```
/// use taskwire_core::time::Rfc3339;
/// assert_eq!(Rfc3339(-1).to_string(), "1969-12-31T23:59:59.999999Z");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rfc3339(pub i64);

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )
    }
}

/// The value of `n` ASCII digits of `b` at `at`.
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let mut v = 0i64;
    for &c in b.get(at..at + n)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// The number of days of month `m` (1–12) of year `y` (proleptic Gregorian).
///
/// ```
/// use taskwire_core::time::days_in_month;
/// assert_eq!((days_in_month(2024, 2), days_in_month(2100, 2), days_in_month(2000, 2)), (29, 28, 29));
/// ```
pub const fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days-from-civil).
///
/// ```
/// use taskwire_core::time::days_from_civil;
/// assert_eq!(days_from_civil(1970, 1, 2), 1);
/// assert_eq!(days_from_civil(1969, 12, 31), -1);
/// ```
pub const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day count since 1970-01-01 (Howard Hinnant's
/// days-to-civil, proleptic Gregorian calendar).
///
/// ```
/// use taskwire_core::time::civil_from_days;
/// assert_eq!(civil_from_days(-1), (1969, 12, 31));
/// assert_eq!(civil_from_days(11_016), (2000, 2, 29));
/// ```
pub const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn render(micros: u64) -> String {
        let mut out = Vec::new();
        write_rfc3339(&mut out, UNIX_EPOCH + Duration::from_micros(micros));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn known_instants() {
        assert_eq!(render(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(render(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
        assert_eq!(render(1_709_251_199_999_999), "2024-02-29T23:59:59.999999Z");
        assert_eq!(render(4_102_444_800_000_000), "2100-01-01T00:00:00.000000Z");
    }

    #[test]
    fn cache_is_refreshed_when_the_second_changes() {
        assert_eq!(render(1_000_000), "1970-01-01T00:00:01.000000Z");
        assert_eq!(render(1_500_000), "1970-01-01T00:00:01.500000Z");
        assert_eq!(render(2_000_000), "1970-01-01T00:00:02.000000Z");
    }

    #[test]
    fn parses_the_layer_format() {
        assert_eq!(parse_rfc3339_us("1970-01-01T00:00:00.000000Z"), Some(0));
        assert_eq!(parse_rfc3339_us("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(
            parse_rfc3339_us("2000-02-29T00:00:00.5Z"),
            Some(951_782_400_500_000)
        );
        // nanoseconds are truncated, offsets applied
        assert_eq!(
            parse_rfc3339_us("1970-01-01T00:00:00.123456789Z"),
            Some(123_456)
        );
        assert_eq!(parse_rfc3339_us("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(parse_rfc3339_us("1969-12-31T23:00:00-01:00"), Some(0));
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for s in [
            "",
            "2026-11-21",
            "2026-11-21T18:56:25",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-21T18:56:25.Z",
            "2026-11-21T18:56:25ZZ",
            "2026-11-21T18:56:25+0200",
            "2026-11-21T18:5a:25Z",
            "２026-11-21T18:56:25Z",
        ] {
            assert_eq!(parse_rfc3339_us(s), None, "{s}");
        }
    }

    #[test]
    fn what_is_written_parses_back_and_displays_the_same() {
        for micros in [
            0,
            951_782_400_000_001,
            1_709_251_199_999_999,
            4_102_444_800_000_000,
        ] {
            let written = render(micros);
            let us = parse_rfc3339_us(&written);
            assert_eq!(us, Some(micros as i64), "{written}");
            assert_eq!(Rfc3339(micros as i64).to_string(), written);
        }
        for s in ["1901-03-01T00:00:00.000000Z", "2400-12-31T12:00:00.000000Z"] {
            let us = parse_rfc3339_us(s).unwrap_or_default();
            assert_eq!(Rfc3339(us).to_string(), s);
        }
    }

    #[test]
    fn calendar_functions_are_inverse() {
        for z in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(z);
            assert!((1..=days_in_month(y, i64::from(m))).contains(&i64::from(d)));
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), z);
        }
    }

    #[test]
    fn before_epoch_is_the_epoch() {
        let mut out = Vec::new();
        write_rfc3339(&mut out, UNIX_EPOCH - Duration::from_secs(5));
        assert_eq!(out, b"1970-01-01T00:00:00.000000Z");
    }
}
