//! JSON text <-> BSON, keeping the order of keys: samples' JSON fields are stored as documents
//! (queryable in the shell) and read back as the same JSON text.

use std::fmt;

use mongodb::bson::{Bson, Document};

/// The JSON text `s` as BSON (objects as documents, in their order); text that is not JSON is
/// kept as a string.
pub(super) fn json_to_bson(s: &str) -> Bson {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(s);
    match BsonSeed
        .deserialize(&mut de)
        .and_then(|b| de.end().map(|()| b))
    {
        Ok(b) => b,
        Err(_) => Bson::String(s.to_owned()),
    }
}

pub(super) struct BsonSeed;

impl<'de> serde::de::DeserializeSeed<'de> for BsonSeed {
    type Value = Bson;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Bson, D::Error> {
        d.deserialize_any(BsonVisitor)
    }
}

pub(super) struct BsonVisitor;

impl<'de> serde::de::Visitor<'de> for BsonVisitor {
    type Value = Bson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Bson, E> {
        Ok(Bson::Boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Bson, E> {
        Ok(Bson::Int64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Bson, E> {
        Ok(i64::try_from(v).map_or(Bson::Double(v as f64), Bson::Int64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Bson, E> {
        Ok(Bson::Double(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Bson, E> {
        Ok(Bson::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Bson, E> {
        Ok(Bson::String(v))
    }
    fn visit_unit<E>(self) -> Result<Bson, E> {
        Ok(Bson::Null)
    }
    fn visit_none<E>(self) -> Result<Bson, E> {
        Ok(Bson::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Bson, A::Error> {
        let mut v = Vec::new();
        while let Some(b) = seq.next_element_seed(BsonSeed)? {
            v.push(b);
        }
        Ok(Bson::Array(v))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Bson, A::Error> {
        let mut d = Document::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(BsonSeed)?;
            d.insert(k, v);
        }
        Ok(Bson::Document(d))
    }
}

/// BSON as JSON text, keys in their order (a string that holds non-JSON text comes back as it
/// was stored).
pub(super) fn bson_to_json(b: &Bson) -> String {
    match b {
        Bson::String(s) => s.clone(),
        other => {
            let mut out = String::new();
            write_json(&mut out, other);
            out
        }
    }
}

pub(super) fn write_json(out: &mut String, b: &Bson) {
    use std::fmt::Write as _;
    match b {
        Bson::Null | Bson::Undefined => out.push_str("null"),
        Bson::Boolean(v) => out.push_str(if *v { "true" } else { "false" }),
        Bson::Int32(v) => {
            let _ = write!(out, "{v}");
        }
        Bson::Int64(v) => {
            let _ = write!(out, "{v}");
        }
        Bson::Double(v) => match serde_json::Number::from_f64(*v) {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.push_str("null"),
        },
        Bson::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Bson::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, v);
            }
            out.push(']');
        }
        Bson::Document(d) => {
            out.push('{');
            for (i, (k, v)) in d.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
        other => out.push_str(
            &serde_json::to_string(&other.clone().into_relaxed_extjson()).unwrap_or_default(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_in_order() {
        for s in [
            r#"{"z":1,"a":"x","m":[1,2.5,{"q":null,"b":true}],"big":9223372036854775807}"#,
            "[]",
            "{}",
            r#"[{"name":"order","fields":{"order.id":7,"$weird":"v"}}]"#,
        ] {
            let b = json_to_bson(s);
            let back = bson_to_json(&b);
            let want: serde_json::Value = serde_json::from_str(s).unwrap_or_default();
            let got: serde_json::Value = serde_json::from_str(&back).unwrap_or_default();
            assert_eq!(got, want, "{s} -> {back}");
        }
        assert_eq!(
            bson_to_json(&json_to_bson(r#"{"z":1,"a":2}"#)),
            r#"{"z":1,"a":2}"#
        );
        assert_eq!(bson_to_json(&json_to_bson("not json")), "not json");
        // Beyond i64: a double, as in JavaScript.
        assert_eq!(
            json_to_bson("18446744073709551615"),
            Bson::Double(18_446_744_073_709_551_615.0)
        );
    }
}
