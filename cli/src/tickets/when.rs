//! Times for people: relative times (`3 min ago`), durations (`90s`, `2h30m`, `7d`) and
//! dates (`2026-11-21`, `2026-11-21T18:00:00Z`) without a date crate.

use std::time::Duration;

use taskwire_core::time::{days_from_civil, days_in_month};

/// Parses `30s`, `10m`, `2h`, `7d`, `1w` and sums like `1h30m`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    let mut rest = s.chars().peekable();
    while let Some(c) = rest.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = rest.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                rest.next();
            } else {
                break;
            }
        }
        let n: u64 = num
            .parse()
            .map_err(|_| format!("`{s}` is not a duration (like 30s, 10m, 2h, 7d)"))?;
        num.clear();
        let secs = match unit.as_str() {
            "s" | "sec" | "secs" => 1,
            "m" | "min" | "mins" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            _ => {
                return Err(format!(
                    "`{s}`: unknown unit `{unit}` (use s, m, h, d or w)"
                ))
            }
        };
        total = total.saturating_add(n.saturating_mul(secs));
    }
    if !num.is_empty() {
        return Err(format!("`{s}`: a number needs a unit (like {num}m)"));
    }
    Ok(Duration::from_secs(total))
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.ffffff]]` with an optional `Z` (always UTC)
/// into microseconds since the epoch.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let b = s.trim().trim_end_matches(['Z', 'z']).as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (y, m, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&m) {
        return None;
    }
    if !(1..=days_in_month(y, m)).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let mut micros = 0;
    if b.len() > 10 {
        if !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let (h, mi) = (num(11, 2)?, num(14, 2)?);
        if b.get(13) != Some(&b':') || h > 23 || mi > 59 {
            return None;
        }
        secs += h * 3600 + mi * 60;
        if b.len() > 16 {
            if b.get(16) != Some(&b':') {
                return None;
            }
            let sec = num(17, 2)?;
            if sec > 60 {
                return None;
            }
            secs += sec;
            if b.len() > 19 {
                if b[19] != b'.' {
                    return None;
                }
                let frac = &b[20..];
                if frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                for i in 0..6 {
                    micros = micros * 10 + frac.get(i).map_or(0, |c| i64::from(c - b'0'));
                }
            }
        }
    }
    Some(secs * 1_000_000 + micros)
}

/// `just now`, `42 s ago`, `3 min ago`, `5 h ago`, `2 days ago`, or `in …` for future times.
pub(crate) fn relative(micros: i64, now: i64) -> String {
    // i128: any two stored times, however far apart, have a difference.
    let diff = i128::from(now) - i128::from(micros);
    let (d, future) = if diff >= 0 {
        (diff, false)
    } else {
        (-diff, true)
    };
    let s = d / 1_000_000;
    let text = if s < 2 {
        return "just now".into();
    } else if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h", s / 3600)
    } else {
        let days = s / 86_400;
        format!("{days} day{}", if days == 1 { "" } else { "s" })
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("10y").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000_000));
        assert_eq!(
            parse_date("2023-11-14T22:13:20.123456Z"),
            Some(1_700_000_000_123_456)
        );
        assert_eq!(parse_date("2023-11-14T22:13"), Some(1_699_999_980_000_000));
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800_000_000));
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn relative_times_and_numbers() {
        let now = 1_000_000_000_000;
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now - 42_000_000, now), "42 s ago");
        assert_eq!(relative(now - 3_600_000_000 * 5, now), "5 h ago");
        assert_eq!(relative(now - 86_400_000_000, now), "1 day ago");
        assert_eq!(relative(i64::MIN, i64::MAX), "213503982 days ago");
        assert_eq!(relative(i64::MAX, i64::MIN), "in 213503982 days");
        assert_eq!(relative(now + 600_000_000, now), "in 10 min");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }
}
