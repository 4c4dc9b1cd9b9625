//! The keys of a record that `taskwire tree` reads, deserialized as borrowed strings; every
//! other key is skipped unparsed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The keys of a record that `taskwire tree` reads; every other key is skipped unparsed.
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
    #[serde(borrow)]
    pub(crate) error: Option<ErrorField<'a>>,
    /// `taskwire_core::schema::TICKET_FINGERPRINT`: the ticket the error was counted in.
    #[serde(borrow, rename = "ticket.fingerprint")]
    pub(crate) ticket: Option<Str<'a>>,
}

/// A JSON string, borrowed from the line unless it had escapes. (`Option<Cow<str>>` with
/// `#[serde(borrow)]` would always copy.)
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
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
