//! The keys of a record that the trace reader reads, deserialized as borrowed strings; every
//! other key is skipped unparsed; and the decoding of their values (ids, levels, own fields).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

pub(crate) use crate::borrowed::Str;
use serde::Deserialize;
use serde_json::{Map, Value};
use taskwire_core::schema::header;
use tracing_core::Level;

/// The keys of a record that the trace reader reads; every other key is skipped unparsed.
#[derive(Deserialize)]
pub(crate) struct Raw<'a> {
    #[serde(borrow)]
    pub(crate) ts: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) level: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) target: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) msg: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) trace_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) span_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) parent_span_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) service: Option<Str<'a>>,
    #[serde(borrow, rename = "task.name")]
    pub(crate) name: Option<Str<'a>>,
    #[serde(borrow, rename = "task.target")]
    pub(crate) task_target: Option<Str<'a>>,
    #[serde(borrow, rename = "task.outcome")]
    pub(crate) outcome: Option<Str<'a>>,
    #[serde(rename = "task.duration_us")]
    pub(crate) duration_us: Option<u64>,
    #[serde(rename = "task.busy_us")]
    pub(crate) busy_us: Option<u64>,
    #[serde(rename = "task.errors")]
    pub(crate) errors: Option<u64>,
    #[serde(rename = "task.failed_children")]
    pub(crate) failed_children: Option<u64>,
    #[serde(rename = "task.remote_parent")]
    pub(crate) remote_parent: Option<bool>,
    #[serde(borrow, rename = "task.failure")]
    pub(crate) failure: Option<Str<'a>>,
    #[serde(rename = "task.children")]
    pub(crate) children: Option<u64>,
    #[serde(borrow, rename = "task.children_summary")]
    pub(crate) children_summary: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) error: Option<ErrorField<'a>>,
    /// `client` or `producer` marks an outgoing call.
    #[serde(borrow, rename = "otel.kind")]
    pub(crate) otel_kind: Option<Str<'a>>,
    /// Written by HTTP client tasks (OpenTelemetry's semantic conventions): an outgoing call.
    #[serde(rename = "url.full")]
    pub(crate) url_full: Option<IgnoredAny>,
    /// `taskwire_core::schema::TICKET_FINGERPRINT`: the ticket the error was counted in.
    #[serde(borrow, rename = "ticket.fingerprint")]
    pub(crate) ticket: Option<Str<'a>>,
}

/// An `error` field, as the JSON layer writes an `&dyn Error` (`{"message": …, "source": […]}`)
/// or as a plain string; anything else is accepted and ignored (it is a user field).
pub(crate) struct ErrorField<'a>(pub(crate) Option<Str<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for ErrorField<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ErrorField<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ErrorField(Some(Str(Cow::Borrowed(v)))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ErrorField(Some(Str(Cow::Owned(v.to_owned())))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(ErrorField(Some(Str(Cow::Owned(v)))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut message = None;
                while let Some(key) = map.next_key::<Str<'de>>()? {
                    if &*key == "message" && message.is_none() {
                        message = map.next_value::<ErrorField<'de>>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(ErrorField(message))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ErrorField(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ErrorField(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ErrorField(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ErrorField(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ErrorField(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ErrorField(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The record's own fields (without the header and, for a task record, the `task.*` keys), as
/// a JSON object; `None` when there are none.
pub(crate) fn own_fields(line: &[u8], task: bool) -> Option<Box<str>> {
    let mut map: Map<String, Value> = serde_json::from_slice(line).ok()?;
    map.retain(|k, _| !(header::ALL.contains(&k.as_str()) || (task && k.starts_with("task."))));
    (!map.is_empty()).then(|| Value::Object(map).to_string().into_boxed_str())
}

/// `ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE`.
pub(crate) fn parse_level(s: &str) -> Option<Level> {
    Some(match s {
        "ERROR" => Level::ERROR,
        "WARN" => Level::WARN,
        "INFO" => Level::INFO,
        "DEBUG" => Level::DEBUG,
        "TRACE" => Level::TRACE,
        _ => return None,
    })
}

/// 32 lowercase hex digits.
pub(crate) fn parse_hex_u128(s: &str) -> Option<u128> {
    hex_u128(s.as_bytes())
}

/// 32 lowercase hex digits, as bytes: what the line search reads a trace id with, once per
/// line, so without a UTF-8 check or `from_str_radix`.
pub(crate) fn hex_u128(b: &[u8]) -> Option<u128> {
    if b.len() != 32 {
        return None;
    }
    b.iter().try_fold(0u128, |n, &c| {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        Some(n << 4 | u128::from(digit))
    })
}

/// 16 lowercase hex digits.
pub(crate) fn parse_hex_u64(s: &str) -> Option<u64> {
    (s.len() == 16 && s.bytes().all(is_lower_hex))
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// The trace id of a parsed record.
pub(crate) fn trace_of(record: &Map<String, Value>) -> Option<u128> {
    record
        .get(header::TRACE_ID)
        .and_then(Value::as_str)
        .and_then(parse_hex_u128)
}
