//! Hostile inputs as proptest strategies: strings that break naive JSON writers, header values
//! a client may send, and (feature `sqlite`) stored values of any type for damaged databases.
//! Also [`ChainedError`], an error with a source whose texts need escaping.

use std::error::Error;
use std::fmt;

use proptest::prelude::*;

/// Characters a JSON writer must escape or keep exactly: quotes, backslash, controls, DEL, C1,
/// the line and paragraph separators and their neighbours, non-ASCII, BOM, replacement char.
pub const TRICKY_CHARS: &[char] = &[
    '"', '\\', '/', '\n', '\r', '\t', '\u{0}', '\u{1}', '\u{8}', '\u{c}', '\u{1f}', '\u{7f}',
    '\u{80}', '\u{2028}', '\u{2029}', '\u{2027}', '\u{202a}', 'â', 'é', '€', '😀', '\u{fffd}',
    '\u{feff}',
];

/// Up to 40 characters, mostly printable ASCII, often [`TRICKY_CHARS`], sometimes any `char`.
pub fn tricky_string() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => (0x20u8..0x7f).prop_map(char::from),
        2 => prop::sample::select(TRICKY_CHARS),
        1 => any::<char>(),
    ];
    prop::collection::vec(c, 0..40).prop_map(|v| v.into_iter().collect())
}

/// A string of at least `len` bytes made by repeating `seed` (a tricky one when `seed` is
/// empty).
pub fn repeat_to(seed: &str, len: usize) -> String {
    let seed = if seed.is_empty() {
        "\"\u{2028}\n"
    } else {
        seed
    };
    let mut s = String::with_capacity(len + seed.len());
    while s.len() < len {
        s.push_str(seed);
    }
    s
}

/// A [`tricky_string`], or now and then one of 100 to 100.4 KB.
pub fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => tricky_string(),
        1 => (tricky_string(), 100_000usize..=102_400).prop_map(|(s, len)| repeat_to(&s, len)),
    ]
}

/// A valid `traceparent` (sampled).
pub const VALID_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Header values as a client could send them, biased towards near-valid `traceparent`s and
/// `tracestate`s: any bytes (a `HeaderValue` may refuse some), hex and dashes of about the
/// right length, other versions and flags, list members, high bytes.
pub fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(VALID_TRACEPARENT.as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..300),
        "[0-9a-fA-F-]{50,60}".prop_map(String::into_bytes),
        "00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]".prop_map(String::into_bytes),
        "(00|ff|cc)-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-f]{2}".prop_map(String::into_bytes),
        "[a-z0-9]{1,8}=[ -~]{0,20}(,[a-z]{1,5}=[!-~]{0,10}){0,4}".prop_map(String::into_bytes),
        "[a-z0-9@=, \t]{0,60}".prop_map(String::into_bytes),
        proptest::collection::vec(0x80u8..=0xff, 0..20),
    ]
}

/// An error with one source, each with its own text: `outer` displayed, `inner` its source.
#[derive(Debug)]
pub struct ChainedError {
    outer: &'static str,
    inner: Source,
}

#[derive(Debug)]
struct Source(&'static str);

impl ChainedError {
    /// `outer`, caused by `inner`.
    pub fn new(outer: &'static str, inner: &'static str) -> ChainedError {
        ChainedError {
            outer,
            inner: Source(inner),
        }
    }
}

impl fmt::Display for ChainedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.outer)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Error for ChainedError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.inner)
    }
}

impl Error for Source {}

/// Stored values for damaged SQLite databases.
#[cfg(feature = "sqlite")]
pub mod sqlite {
    use proptest::prelude::*;
    use rusqlite::types::Value;

    /// The tables of a taskwire tickets database.
    pub const TABLES: [&str; 4] = [
        "taskwire_tickets",
        "taskwire_occurrences",
        "taskwire_tags",
        "taskwire_meta",
    ];

    /// A stored value of any type, including the ones a column does not expect: integers at
    /// their edges, any float, short text, words the schema uses, JSON of the wrong shape, blobs.
    pub fn any_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::Integer),
            prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0, 1, 2]).prop_map(Value::Integer),
            any::<f64>().prop_map(Value::Real),
            ".{0,12}".prop_map(Value::Text),
            prop::sample::select(vec![
                "open",
                "muted",
                "resolved",
                "ERROR",
                "1",
                "0",
                "abc",
                "",
                "{}",
                "[]",
                "[{\"name\":1}]",
                "[{\"name\":{}}]",
                "[{\"message\":7,\"source\":[1]}]",
            ])
            .prop_map(|s| Value::Text(s.to_owned())),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Blob),
        ]
    }

    /// A `schema_version` (or other meta value) as people and programs mistype it, or any
    /// value.
    pub fn meta_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            3 => prop::sample::select(vec![
                "1",
                "0",
                "2",
                "99",
                "-1",
                "",
                "abc",
                " 1",
                "01",
                "4294967295",
                "18446744073709551616",
            ])
            .prop_map(|s| Value::Text(s.to_owned())),
            1 => any_value(),
        ]
    }

    /// A key of `taskwire_meta`: a real one or any short name.
    pub fn meta_key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("schema_version".to_owned()),
            Just("created_at".to_owned()),
            "[a-z_]{0,8}",
        ]
    }

    /// One of [`TABLES`].
    pub fn table() -> impl Strategy<Value = &'static str> {
        prop::sample::select(TABLES.to_vec())
    }

    /// One of the tables that hold data (all of [`TABLES`] but `taskwire_meta`).
    pub fn data_table() -> impl Strategy<Value = &'static str> {
        prop::sample::select(TABLES[..3].to_vec())
    }
}
