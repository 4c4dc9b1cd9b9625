//! Ticket titles: the first message with its variable parts replaced by placeholders, so that
//! `order 4711 failed for bob@example.com` and `order 4712 failed for eve@example.org` read
//! the same.
//!
//! | replaced | by |
//! |---|---|
//! | RFC 3339 / ISO 8601 timestamps, dates, clock times | `<ts>` |
//! | UUIDs | `<uuid>` |
//! | e-mail addresses | `<email>` |
//! | IPv4 addresses (with a port), IPv6 addresses | `<ip>` |
//! | `0x…` numbers, and runs of 8 or more hex digits with at least one digit | `<hex>` |
//! | other numbers (with a fraction or exponent; a unit may follow: `350ms`) | `<num>` |
//!
//! Digits inside words (`utf8`, `user42`, `http2`) are kept. Titles are cut to
//! [`MAX_TITLE_CHARS`].
//!
//! ```
//! use taskwire_tickets::title::normalize;
//! assert_eq!(
//!     normalize("order 4711 failed for bob@example.com from 10.0.0.7:443 after 350ms"),
//!     "order <num> failed for <email> from <ip> after <num>ms",
//! );
//! assert_eq!(
//!     normalize("trace 4bf92f3577b34da6a3ce929d0e0e4736 at 2024-05-01T10:00:00Z"),
//!     "trace <hex> at <ts>",
//! );
//! ```

/// The longest title, in characters; longer ones end with `…`.
pub const MAX_TITLE_CHARS: usize = 200;

/// The message with its variable parts replaced (see the [module docs](self)).
pub fn normalize(message: &str) -> String {
    let b = message.as_bytes();
    let mut out = String::with_capacity(message.len().min(MAX_TITLE_CHARS * 4));
    let mut i = 0;
    let mut chars = 0;
    while i < b.len() {
        if chars >= MAX_TITLE_CHARS {
            out.push('…');
            return out;
        }
        let at_start = i == 0 || !is_word(b[i - 1]);
        if at_start {
            if let Some((len, ph)) = match_token(b, i) {
                out.push_str(ph);
                chars += ph.len();
                i += len;
                continue;
            }
            if is_word(b[i]) {
                // Copy the whole word: digits inside it are part of a name.
                let end = i + b[i..].iter().take_while(|&&c| is_word(c)).count();
                out.push_str(&message[i..end]);
                chars += end - i;
                i = end;
                continue;
            }
        }
        // One character (maybe multi-byte).
        let ch_len = utf8_len(b[i]);
        let end = (i + ch_len).min(b.len());
        match message.get(i..end) {
            Some(s) => out.push_str(s),
            None => out.push('\u{fffd}'),
        }
        chars += 1;
        i = end;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// The boundary after a token: end of input or a byte that is not part of a word.
fn ends_token(b: &[u8], i: usize) -> bool {
    i >= b.len() || !is_word(b[i])
}

fn digits(b: &[u8], i: usize) -> usize {
    b[i.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

fn hexes(b: &[u8], i: usize) -> usize {
    b[i.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_hexdigit())
        .count()
}

/// A token starting at `i` (at a word start): its length and placeholder.
fn match_token(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    if let Some(n) = timestamp(b, i) {
        return Some((n, "<ts>"));
    }
    if let Some(n) = uuid(b, i) {
        return Some((n, "<uuid>"));
    }
    if let Some(n) = email(b, i) {
        return Some((n, "<email>"));
    }
    if let Some(n) = ipv4(b, i) {
        return Some((n, "<ip>"));
    }
    if let Some(n) = ipv6(b, i) {
        return Some((n, "<ip>"));
    }
    if let Some(n) = hex(b, i) {
        return Some((n, "<hex>"));
    }
    number(b, i).map(|n| (n, "<num>"))
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.f+]]][Z|±HH[:]MM]`, or `HH:MM:SS[.f+]`.
fn timestamp(b: &[u8], i: usize) -> Option<usize> {
    let fixed = |j: usize, n: usize| digits(b, j) == n;
    let mut j = i;
    if fixed(j, 4) && b.get(j + 4) == Some(&b'-') && fixed(j + 5, 2) && b.get(j + 7) == Some(&b'-')
    {
        if !fixed(j + 8, 2) {
            return None;
        }
        j += 10;
        if matches!(b.get(j), Some(b'T' | b't' | b' ')) && fixed(j + 1, 2) {
            if let Some(n) = clock(b, j + 1) {
                j += 1 + n;
                j += zone(b, j);
            }
        }
        return ends_token(b, j).then_some(j - i);
    }
    let n = clock(b, i)?;
    // A bare clock time needs seconds, so `10:30` (a ratio, a port) is left alone.
    (n >= 8 && ends_token(b, i + n)).then_some(n)
}

/// `HH:MM[:SS[.f+]]` at `i`: its length.
fn clock(b: &[u8], i: usize) -> Option<usize> {
    if digits(b, i) != 2 || b.get(i + 2) != Some(&b':') || digits(b, i + 3) != 2 {
        return None;
    }
    let mut j = i + 5;
    if b.get(j) == Some(&b':') && digits(b, j + 1) == 2 {
        j += 3;
        if matches!(b.get(j), Some(b'.' | b',')) {
            let f = digits(b, j + 1);
            if f > 0 {
                j += 1 + f;
            }
        }
    }
    Some(j - i)
}

/// `Z` or `±HH[:]MM` at `i`: its length (0 when none).
fn zone(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'Z' | b'z') => 1,
        Some(b'+' | b'-') => {
            if digits(b, i + 1) == 4 {
                5
            } else if digits(b, i + 1) == 2 && b.get(i + 3) == Some(&b':') && digits(b, i + 4) == 2
            {
                6
            } else {
                0
            }
        }
        _ => 0,
    }
}

fn uuid(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for (k, n) in [8, 4, 4, 4, 12].into_iter().enumerate() {
        if hexes(b, j) != n {
            return None;
        }
        j += n;
        if k < 4 {
            if b.get(j) != Some(&b'-') {
                return None;
            }
            j += 1;
        }
    }
    ends_token(b, j).then_some(j - i)
}

fn email(b: &[u8], i: usize) -> Option<usize> {
    let local = b[i..]
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || b"._%+-".contains(&c))
        .count();
    if local == 0 || b.get(i + local) != Some(&b'@') {
        return None;
    }
    let start = i + local + 1;
    let mut j = start;
    let mut labels = 0;
    loop {
        let n = b[j.min(b.len())..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'-')
            .count();
        if n == 0 {
            break;
        }
        j += n;
        labels += 1;
        if b.get(j) == Some(&b'.')
            && b.get(j + 1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            j += 1;
        } else {
            break;
        }
    }
    (labels >= 2 && ends_token(b, j)).then_some(j - i)
}

fn ipv4(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for k in 0..4 {
        let n = digits(b, j);
        if n == 0 || n > 3 {
            return None;
        }
        j += n;
        if k < 3 {
            if b.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
    }
    if b.get(j) == Some(&b':') {
        let p = digits(b, j + 1);
        if p > 0 && p <= 5 && ends_token(b, j + 1 + p) {
            j += 1 + p;
        }
    }
    ends_token(b, j).then_some(j - i)
}

/// An IPv6 address: hex groups and colons with `::` or exactly eight groups.
fn ipv6(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    let mut groups = 0;
    let mut colons = 0;
    let mut double = false;
    loop {
        let n = hexes(b, j);
        if n > 4 {
            return None;
        }
        if n > 0 {
            groups += 1;
            j += n;
        }
        if b.get(j) == Some(&b':') {
            if b.get(j + 1) == Some(&b':') {
                if double {
                    return None;
                }
                double = true;
                colons += 2;
                j += 2;
            } else if n > 0 {
                colons += 1;
                j += 1;
            } else {
                return None;
            }
        } else {
            break;
        }
    }
    // A trailing single colon belongs to the text (`at fe80::1: refused`).
    if j > i + 1 && colons > 0 && b[j - 1] == b':' && b[j - 2] != b':' {
        j -= 1;
        colons -= 1;
    }
    let ok = groups >= 1 && colons >= 2 && (double || groups == 8) && groups <= 8;
    (ok && ends_token(b, j)).then_some(j - i)
}

fn hex(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'0') && matches!(b.get(i + 1), Some(b'x' | b'X')) {
        let n = hexes(b, i + 2);
        return (n > 0 && ends_token(b, i + 2 + n)).then_some(n + 2);
    }
    let n = hexes(b, i);
    let has_digit = b[i..i + n].iter().any(u8::is_ascii_digit);
    let has_letter = b[i..i + n].iter().any(u8::is_ascii_alphabetic);
    (n >= 8 && has_digit && has_letter && ends_token(b, i + n)).then_some(n)
}

/// Digits, an optional fraction and exponent. Letters may follow (a unit).
fn number(b: &[u8], i: usize) -> Option<usize> {
    let n = digits(b, i);
    if n == 0 {
        return None;
    }
    let mut j = i + n;
    if b.get(j) == Some(&b'.') {
        let f = digits(b, j + 1);
        if f > 0 {
            j += 1 + f;
        }
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(j + 1), Some(b'+' | b'-')));
        let e = digits(b, j + 1 + sign);
        if e > 0 && ends_token(b, j + 1 + sign + e) {
            j += 1 + sign + e;
        }
    }
    Some(j - i)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn examples() {
        for (input, want) in [
            (
                "site 0 failed for item 17",
                "site <num> failed for item <num>",
            ),
            (
                "utf8 decode of user42 failed",
                "utf8 decode of user42 failed",
            ),
            ("took 1.5e3 ms (2.25s)", "took <num> ms (<num>s)"),
            ("id=550e8400-e29b-41d4-a716-446655440000", "id=<uuid>"),
            (
                "peer [2001:db8::ff00:42:8329]:443 reset",
                "peer [<ip>]:<num> reset",
            ),
            (
                "from ::1 and fe80::1: refused",
                "from <ip> and <ip>: refused",
            ),
            ("ptr 0x7ffee3b8 deadbeef", "ptr <hex> deadbeef"),
            ("at 12:30:01.5 and 10:30", "at <ts> and <num>:<num>"),
            ("on 2024-02-29 03:04:05+02:00!", "on <ts>!"),
            ("mail a.b+c@mail.example.co.uk.", "mail <email>."),
            ("v1.2.3.4 and 1.2.3.4:8080", "v1.<num>.<num> and <ip>"),
            ("naïve 42 é", "naïve <num> é"),
            ("", ""),
        ] {
            assert_eq!(normalize(input), want, "{input}");
        }
    }

    #[test]
    fn long_titles_are_cut() {
        let t = normalize(&"word ".repeat(100));
        assert!(t.chars().count() <= super::MAX_TITLE_CHARS + 1);
        assert!(t.ends_with('…'));
    }
}
