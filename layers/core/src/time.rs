//! RFC 3339 timestamps in UTC with microseconds, rendered without allocating.
//!
//! The date-and-seconds part is cached per thread and reused while the second does not change,
//! so a busy thread formats only the six fraction digits per record.

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
    out.extend_from_slice(&prefix);
    let mut frac = [b'.', 0, 0, 0, 0, 0, 0, b'Z'];
    let mut m = micros;
    for i in (1..7).rev() {
        frac[i] = b'0' + (m % 10) as u8;
        m /= 10;
    }
    out.extend_from_slice(&frac);
}

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

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
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
    fn before_epoch_is_the_epoch() {
        let mut out = Vec::new();
        write_rfc3339(&mut out, UNIX_EPOCH - Duration::from_secs(5));
        assert_eq!(out, b"1970-01-01T00:00:00.000000Z");
    }
}
