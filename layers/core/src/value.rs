//! Typed field values as taskwire keeps them: what a span recorded, in a form every layer can
//! read (the JSON layer renders it, tickets store it, metrics turn it into labels).

use std::error::Error;
use std::fmt;

use tracing_core::field::{Field, Visit};

/// One field value, captured with its type so it renders with its JSON type.
///
/// `Debug`- and `Display`-only values (`?x`, `%x`) become [`FieldValue::Str`]; errors keep their
/// source chain.
///
/// ```
/// use taskwire_core::FieldValue;
/// assert_eq!(FieldValue::from(3_i64), FieldValue::I64(3));
/// assert_eq!(FieldValue::from("x").as_str(), Some("x"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A 128-bit signed integer.
    I128(i128),
    /// A 128-bit unsigned integer.
    U128(u128),
    /// A float; NaN and infinities are kept here and rendered by the JSON rule.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// A string, or the `Debug`/`Display` rendering of a value.
    Str(Box<str>),
    /// An error with its `source()` chain.
    Error(Box<ErrorValue>),
    /// A value whose key is sensitive; rendered as `"[redacted]"`.
    Redacted,
}

/// An error value: its `Display` message and the messages of its `source()` chain, outermost
/// first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorValue {
    /// The error's own message.
    pub message: String,
    /// The messages of the source chain, nearest first.
    pub sources: Vec<String>,
}

/// The longest source chain kept; a longer one is cyclic or hostile.
pub const MAX_ERROR_SOURCES: usize = 64;

impl ErrorValue {
    /// Captures an error and its source chain (at most [`MAX_ERROR_SOURCES`] links). A
    /// `Display` impl that fails keeps what it wrote; nothing here panics.
    pub fn from_error(err: &(dyn std::error::Error + 'static)) -> Self {
        let mut sources = Vec::new();
        let mut cur = err.source();
        while let Some(e) = cur {
            if sources.len() == MAX_ERROR_SOURCES {
                break;
            }
            sources.push(display(e));
            cur = e.source();
        }
        ErrorValue {
            message: display(err),
            sources,
        }
    }
}

/// `to_string()` without its panic on a failing `Display`.
fn display(v: &dyn fmt::Display) -> String {
    let mut s = String::new();
    let _ = fmt::Write::write_fmt(&mut s, format_args!("{v}"));
    s
}

impl FieldValue {
    /// The value as a string slice, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        self.view().as_str()
    }

    /// The value as an `i64`, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.view().as_i64()
    }

    /// The value borrowed, as [`SpanFields`](crate::SpanFields) hands out its fields.
    ///
    /// ```
    /// use taskwire_core::{FieldRef, FieldValue};
    /// let v = FieldValue::from("checkout");
    /// assert_eq!(v.view(), FieldRef::Str("checkout"));
    /// assert_eq!(v.view().to_value(), v);
    /// ```
    pub fn view(&self) -> FieldRef<'_> {
        match self {
            FieldValue::I64(v) => FieldRef::I64(*v),
            FieldValue::U64(v) => FieldRef::U64(*v),
            FieldValue::I128(v) => FieldRef::I128(*v),
            FieldValue::U128(v) => FieldRef::U128(*v),
            FieldValue::F64(v) => FieldRef::F64(*v),
            FieldValue::Bool(v) => FieldRef::Bool(*v),
            FieldValue::Str(s) => FieldRef::Str(s),
            FieldValue::Error(e) => FieldRef::Error(e),
            FieldValue::Redacted => FieldRef::Redacted,
        }
    }
}

/// A field value borrowed from where it is kept: what [`SpanFields`](crate::SpanFields)
/// returns, since a span keeps its string values in one buffer rather than one allocation
/// each. [`FieldRef::to_value`] makes an owned [`FieldValue`].
///
/// ```
/// use taskwire_core::FieldRef;
/// assert_eq!(FieldRef::Str("x").as_str(), Some("x"));
/// assert_eq!(FieldRef::U64(7).as_i64(), Some(7));
/// assert_eq!(FieldRef::Bool(true).to_string(), "true");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum FieldRef<'a> {
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A 128-bit signed integer.
    I128(i128),
    /// A 128-bit unsigned integer.
    U128(u128),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// A string, or the `Debug`/`Display` rendering of a value.
    Str(&'a str),
    /// An error with its `source()` chain.
    Error(&'a ErrorValue),
    /// A value whose key is sensitive; rendered as `"[redacted]"`.
    Redacted,
}

impl<'a> FieldRef<'a> {
    /// The value as a string slice, when it is a string.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            FieldRef::Str(s) => Some(s),
            FieldRef::Redacted => Some(crate::redact::REDACTED),
            _ => None,
        }
    }

    /// The value as an `i64`, when it is an integer that fits.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            FieldRef::I64(v) => Some(v),
            FieldRef::U64(v) => i64::try_from(v).ok(),
            FieldRef::I128(v) => i64::try_from(v).ok(),
            FieldRef::U128(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// An owned copy.
    pub fn to_value(self) -> FieldValue {
        match self {
            FieldRef::I64(v) => FieldValue::I64(v),
            FieldRef::U64(v) => FieldValue::U64(v),
            FieldRef::I128(v) => FieldValue::I128(v),
            FieldRef::U128(v) => FieldValue::U128(v),
            FieldRef::F64(v) => FieldValue::F64(v),
            FieldRef::Bool(v) => FieldValue::Bool(v),
            FieldRef::Str(s) => FieldValue::Str(s.into()),
            FieldRef::Error(e) => FieldValue::Error(Box::new(e.clone())),
            FieldRef::Redacted => FieldValue::Redacted,
        }
    }
}

impl fmt::Display for FieldRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::I64(v) => v.fmt(f),
            FieldRef::U64(v) => v.fmt(f),
            FieldRef::I128(v) => v.fmt(f),
            FieldRef::U128(v) => v.fmt(f),
            FieldRef::F64(v) => v.fmt(f),
            FieldRef::Bool(v) => v.fmt(f),
            FieldRef::Str(v) => f.write_str(v),
            FieldRef::Error(e) => f.write_str(&e.message),
            FieldRef::Redacted => f.write_str(crate::redact::REDACTED),
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.view().fmt(f)
    }
}

macro_rules! from_int {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for FieldValue {
            fn from(v: $t) -> Self {
                FieldValue::$v(v.into())
            }
        }
    )*};
}
from_int!(i8 => I64, i16 => I64, i32 => I64, i64 => I64, u8 => U64, u16 => U64, u32 => U64,
    u64 => U64, i128 => I128, u128 => U128, f32 => F64, f64 => F64, bool => Bool);

impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        FieldValue::Str(v.into())
    }
}

impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        FieldValue::Str(v.into_boxed_str())
    }
}

/// Receives the fields of a span or an event as typed [`FieldValue`]s. Wrap it in [`Typed`] to
/// get the `tracing` [`Visit`] that converts each value once, the same way for every layer.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use taskwire_core::value::{FieldSink, Typed};
/// use taskwire_core::FieldValue;
/// use tracing_core::field::Field;
/// use tracing_subscriber::{layer::Context, prelude::*, Layer};
///
/// /// The typed fields of one event.
/// struct Fields(Vec<(&'static str, FieldValue)>);
///
/// impl FieldSink for Fields {
///     fn put(&mut self, field: &Field, value: FieldValue) {
///         self.0.push((field.name(), value));
///     }
/// }
///
/// struct Collect(Arc<Mutex<Vec<(&'static str, FieldValue)>>>);
///
/// impl<S: tracing::Subscriber> Layer<S> for Collect {
///     fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
///         let mut typed = Typed(Fields(Vec::new()));
///         event.record(&mut typed);
///         self.0.lock().unwrap().extend(typed.0 .0);
///     }
/// }
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let subscriber = tracing_subscriber::registry().with(Collect(seen.clone()));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(n = 3_i64, ok = true, who = ?"me");
/// });
/// let seen = seen.lock().unwrap();
/// assert!(seen.contains(&("n", FieldValue::I64(3))));
/// assert!(seen.contains(&("ok", FieldValue::Bool(true))));
/// assert!(seen.contains(&("who", FieldValue::Str("\"me\"".into()))));
/// ```
pub trait FieldSink {
    /// Whether the sink takes `field` at all; asked before the value is converted, so a sink
    /// that skips a field spares its rendering. The default takes every field.
    fn wants(&mut self, field: &Field) -> bool {
        let _ = field;
        true
    }

    /// One field and its value.
    fn put(&mut self, field: &Field, value: FieldValue);

    /// A string field; the default copies it into a [`FieldValue::Str`]. Override to bound it.
    fn put_str(&mut self, field: &Field, value: &str) {
        self.put(field, FieldValue::Str(value.into()));
    }

    /// A string made for the field (the rendering of a `Debug` value); the default keeps it
    /// without copying. Override to bound it.
    fn put_string(&mut self, field: &Field, value: String) {
        self.put(field, FieldValue::Str(value.into_boxed_str()));
    }

    /// A `Debug` value (`?x`, and `%x` through its `Display`); the default renders it into a
    /// new [`String`] for [`FieldSink::put_string`]. Override to render it into a buffer of
    /// the sink's own. A `Debug` impl that fails keeps what it wrote.
    fn put_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // Not `format!`: it panics when a `Debug` impl returns an error.
        let mut s = String::new();
        let _ = fmt::Write::write_fmt(&mut s, format_args!("{value:?}"));
        self.put_string(field, s);
    }

    /// An error field, with its `source()` chain. Override to bound it.
    fn put_error(&mut self, field: &Field, value: ErrorValue) {
        self.put(field, FieldValue::Error(Box::new(value)));
    }
}

/// The `tracing` [`Visit`] of a [`FieldSink`]: integers, floats and booleans keep their types,
/// strings are strings, errors keep their chain, and `Debug` values are rendered to strings
/// without panicking when their `Debug` impl fails (what was written before the failure is
/// kept).
#[derive(Debug, Default)]
pub struct Typed<S>(pub S);

impl<S: FieldSink> Typed<S> {
    /// Puts a value that needs no conversion, if the sink wants the field.
    #[inline]
    fn put_plain(&mut self, field: &Field, value: FieldValue) {
        if self.0.wants(field) {
            self.0.put(field, value);
        }
    }
}

impl<S: FieldSink> Visit for Typed<S> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put_plain(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put_plain(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put_plain(field, FieldValue::U64(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put_plain(field, FieldValue::I128(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put_plain(field, FieldValue::U128(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put_plain(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.0.wants(field) {
            self.0.put_str(field, value);
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if self.0.wants(field) {
            self.0.put_error(field, ErrorValue::from_error(value));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.0.wants(field) {
            self.0.put_debug(field, value);
        }
    }
}
