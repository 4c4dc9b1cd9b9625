//! [`JsonText`]: JSON text that is known to parse, for a sample's `fields`, `spans` and `errors`.

use std::fmt;

/// JSON text that parses: a [`Sample`](super::Sample)'s `fields`, `spans` or `errors`, to
/// embed as it is or to parse without a fallback.
///
/// Made from outside text with [`JsonText::parse`], which checks it; the layer's own samples are
/// rendered valid. A store reading back text that is not JSON (a database edited by hand) keeps
/// it as a JSON string ([`JsonText::from_stored`]), so nothing read is lost and every value
/// parses.
///
/// ```
/// use taskwire_tickets::store::JsonText;
/// let fields = JsonText::parse(r#"{"order":7}"#)?;
/// assert_eq!(fields.as_str(), r#"{"order":7}"#);
/// assert!(JsonText::parse("{order:7}").is_err());
/// assert_eq!(JsonText::from_stored("not json".into()).as_str(), r#""not json""#);
/// # Ok::<(), taskwire_tickets::store::InvalidJson>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonText(String);

impl JsonText {
    /// `text` when it is one JSON value (surrounding whitespace allowed).
    pub fn parse(text: impl Into<String>) -> Result<JsonText, InvalidJson> {
        let text = text.into();
        match serde_json::from_str::<serde::de::IgnoredAny>(&text) {
            Ok(_) => Ok(JsonText(text)),
            Err(e) => Err(InvalidJson(e)),
        }
    }

    /// Text read back from a store: kept as it is when it is JSON, otherwise as a JSON string
    /// holding it.
    pub fn from_stored(text: String) -> JsonText {
        if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() {
            return JsonText(text);
        }
        let mut quoted = Vec::with_capacity(text.len() + 2);
        taskwire_core::json::write_str(&mut quoted, &text);
        // `write_str` writes JSON, which is UTF-8.
        JsonText(String::from_utf8(quoted).unwrap_or_default())
    }

    /// Text this crate rendered as JSON itself.
    pub(crate) fn rendered(text: String) -> JsonText {
        debug_assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok(),
            "not JSON: {text}"
        );
        JsonText(text)
    }

    /// `{}`.
    pub fn empty_object() -> JsonText {
        JsonText("{}".to_owned())
    }

    /// `[]`.
    pub fn empty_array() -> JsonText {
        JsonText("[]".to_owned())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Default for JsonText {
    /// `null`.
    fn default() -> Self {
        JsonText("null".to_owned())
    }
}

impl AsRef<str> for JsonText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for JsonText {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for JsonText {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Why [`JsonText::parse`] refused a text.
#[derive(Debug)]
pub struct InvalidJson(serde_json::Error);

impl fmt::Display for InvalidJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not JSON: {}", self.0)
    }
}

impl std::error::Error for InvalidJson {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_that_is_not_json_becomes_a_json_string() {
        for text in ["{", "", "a\"b\n", "{\"a\":1} trailing"] {
            let j = JsonText::from_stored(text.to_owned());
            let back: String = serde_json::from_str(j.as_str()).expect("a JSON string");
            assert_eq!(back, text);
        }
        assert_eq!(JsonText::from_stored("[1,2]".into()), "[1,2]");
    }

    #[test]
    fn parse_accepts_one_value_only() {
        assert!(JsonText::parse(" {\"a\":[1,null]} ").is_ok());
        assert!(JsonText::parse("1 2").is_err());
        assert!(JsonText::parse("").is_err());
    }
}
