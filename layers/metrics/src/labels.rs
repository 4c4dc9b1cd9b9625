//! Label sets as data: a series' [`Labels`], the key that identifies a label set (built per
//! span into a reused per-thread buffer, parsed back into labels once per new label set), and
//! label names and values as Prometheus takes them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt::Write as _;

use taskwire_core::FieldRef;

/// Label values longer than this many bytes are cut (at a character boundary).
pub const MAX_LABEL_VALUE_LEN: usize = 128;

/// A series' labels, in order: names and values.
pub(crate) type Labels = Vec<(Cow<'static, str>, Box<str>)>;

thread_local! {
    /// This thread's label-set key buffer.
    pub(crate) static KEY: RefCell<String> = const { RefCell::new(String::new()) };
    /// This thread's label-value buffer.
    pub(crate) static VALUE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Takes this thread's buffer out of `cell`, cleared (a fresh one when it is already out).
pub(crate) fn take_buffer(cell: &'static std::thread::LocalKey<RefCell<String>>) -> String {
    let mut b = cell
        .try_with(|k| k.try_borrow_mut().ok().map(|mut k| std::mem::take(&mut *k)))
        .ok()
        .flatten()
        .unwrap_or_default();
    b.clear();
    b
}

/// Gives a buffer back for reuse.
pub(crate) fn put_buffer(cell: &'static std::thread::LocalKey<RefCell<String>>, b: String) {
    let _ = cell.try_with(|k| {
        if let Ok(mut k) = k.try_borrow_mut() {
            if k.capacity() < b.capacity() {
                *k = b;
            }
        }
    });
}

/// Runs `f` with this thread's cleared label-key buffer.
pub(crate) fn with_key<R>(f: impl FnOnce(&mut String) -> R) -> R {
    let mut key = take_buffer(&KEY);
    let out = f(&mut key);
    put_buffer(&KEY, key);
    out
}

/// Appends one label to a label-set key: unambiguous whatever the value holds.
pub(crate) fn push_key(key: &mut String, name: &str, value: &str) {
    key.push_str(name);
    key.push('=');
    // The length in decimal, without `fmt`: this runs per span for value-dependent labels.
    let mut digits = [0u8; 20];
    let mut n = value.len();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &digits[i..] {
        key.push(char::from(*d));
    }
    key.push(':');
    key.push_str(value);
}

/// The labels of a key made by [`push_key`].
pub(crate) fn parse_key(mut key: &str) -> Labels {
    let mut out = Labels::new();
    while let Some(eq) = key.find('=') {
        let name = &key[..eq];
        let rest = &key[eq + 1..];
        let Some(colon) = rest.find(':') else { break };
        let Ok(len) = rest[..colon].parse::<usize>() else {
            break;
        };
        let Some(value) = rest.get(colon + 1..colon + 1 + len) else {
            break;
        };
        let name = match name {
            "name" => Cow::Borrowed("name"),
            "target" => Cow::Borrowed("target"),
            "outcome" => Cow::Borrowed("outcome"),
            "level" => Cow::Borrowed("level"),
            other => Cow::Owned(other.to_owned()),
        };
        out.push((name, value.into()));
        key = &rest[colon + 1 + len..];
    }
    out
}

/// The value of the first label of a key made by [`push_key`] (`name=3:abc…` → `abc`); the
/// whole key when it is not one.
pub(crate) fn leading_value(key: &str) -> &str {
    let parsed = key.split_once('=').and_then(|(_, rest)| {
        let (len, rest) = rest.split_once(':')?;
        rest.get(..len.parse::<usize>().ok()?)
    });
    parsed.unwrap_or(key)
}

/// Appends `value` as label text to `out`, cut to [`MAX_LABEL_VALUE_LEN`] bytes.
pub(crate) fn push_value(out: &mut String, value: Option<FieldRef<'_>>) {
    let start = out.len();
    match value {
        Some(FieldRef::Str(s)) => out.push_str(s),
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => {}
    }
    if out.len() - start > MAX_LABEL_VALUE_LEN {
        let mut end = start + MAX_LABEL_VALUE_LEN;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
}

/// A field name as a Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`, other characters
/// replaced by `_` (`http.route` becomes `http_route`).
pub(crate) fn label_name(field: &str) -> String {
    let mut out: String = field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The key of a `name` and a `user` label.
    pub(crate) fn key(name: &str, user: &str) -> String {
        let mut k = String::new();
        push_key(&mut k, "name", name);
        push_key(&mut k, "user", user);
        k
    }

    #[test]
    fn keys_parse_back_into_labels() {
        let mut key = String::new();
        push_key(&mut key, "name", "GET /a=b:c");
        push_key(&mut key, "http_route", "");
        push_key(&mut key, "tier", "gold");
        let l = parse_key(&key);
        assert_eq!(l.len(), 3);
        assert_eq!(&*l[0].1, "GET /a=b:c");
        assert_eq!(&*l[1].1, "");
        assert_eq!(l[2].0, "tier");
    }

    #[test]
    fn leading_values_are_read_from_keys() {
        assert_eq!(leading_value(&key("GET /a=1:b", "x")), "GET /a=1:b");
        assert_eq!(leading_value(&key("", "x")), "");
        assert_eq!(leading_value("junk"), "junk");
        assert_eq!(leading_value("n=9:ab"), "n=9:ab");
    }

    #[test]
    fn keys_are_unambiguous() {
        let mut a = String::new();
        push_key(&mut a, "x", "1y=1:2");
        let mut b = String::new();
        push_key(&mut b, "x", "1");
        push_key(&mut b, "y", "2");
        assert_ne!(a, b);
        let mut c = String::new();
        push_key(&mut c, "n", &"x".repeat(1234));
        assert!(c.starts_with("n=1234:x"));
    }

    #[test]
    fn values_are_cut_at_a_char_boundary() {
        let mut s = String::new();
        let long = "é".repeat(100);
        push_value(&mut s, Some(FieldRef::Str(long.as_str())));
        assert!(s.len() <= MAX_LABEL_VALUE_LEN);
        assert!(s.chars().all(|c| c == 'é'));
        s.clear();
        push_value(&mut s, Some(FieldRef::U64(42)));
        assert_eq!(s, "42");
    }

    #[test]
    fn label_names_follow_prometheus() {
        assert_eq!(label_name("http.route"), "http_route");
        assert_eq!(label_name("9lives"), "_9lives");
        assert_eq!(label_name(""), "_");
    }
}
