//! FC's JSON request conventions.
//!
//! Clients disagree on spelling (Go sends `logstore`, docs say `logStore`, fun sends `CAPort`), the Go SDK
//! sends every field with `null` for "unset", and fun streams bodies as `application/octet-stream`. So a
//! request body is parsed as JSON whatever its Content-Type, its keys are folded onto the canonical
//! camelCase names case-insensitively (only at the levels Ferric knows: user maps such as
//! `environmentVariables` and verbatim objects such as `triggerConfig` keep their keys), unknown keys are
//! dropped, and `null` deserialises as "absent".

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::FcError;

/// The canonical field names of one JSON object level.
pub struct Shape {
    pub fields: &'static [Field],
}

/// One canonical field and what its value looks like.
pub struct Field {
    pub name: &'static str,
    pub nested: Nested,
}

/// Whether a field's value is itself a known object whose keys are folded too.
pub enum Nested {
    /// A scalar, or an object whose keys are the user's (kept verbatim).
    Opaque,
    Object(&'static Shape),
    ArrayOf(&'static Shape),
}

/// Shorthand for a field whose value is kept as it is.
pub const fn opaque(name: &'static str) -> Field {
    Field { name, nested: Nested::Opaque }
}

/// Renames keys to their canonical spelling and drops unknown ones, recursively along `shape`.
pub fn fold_keys(value: &mut Value, shape: &Shape) {
    let Value::Object(map) = value else { return };
    let old = std::mem::take(map);
    let mut folded = Map::with_capacity(old.len());
    for (key, mut v) in old {
        let Some(field) = shape.fields.iter().find(|f| f.name.eq_ignore_ascii_case(&key)) else {
            continue;
        };
        match field.nested {
            Nested::Opaque => {}
            Nested::Object(inner) => fold_keys(&mut v, inner),
            Nested::ArrayOf(inner) => {
                if let Value::Array(items) = &mut v {
                    items.iter_mut().for_each(|item| fold_keys(item, inner));
                }
            }
        }
        folded.insert(field.name.to_string(), v);
    }
    *map = folded;
}

/// Parses a request body of the given shape. An empty body is refused as FC refuses it: every official
/// SDK sends a JSON object (at least `{}`) on create and update.
pub fn parse_body<T: DeserializeOwned>(body: &[u8], shape: &Shape) -> Result<T, FcError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FcError::invalid("Bad data in request body: the body is empty; send a JSON object"));
    }
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| FcError::invalid(format!("Bad data in request body: {e}")))?;
    if !value.is_object() {
        return Err(FcError::invalid("Bad data in request body: expected a JSON object"));
    }
    fold_keys(&mut value, shape);
    serde_json::from_value(value).map_err(|e| FcError::invalid(format!("Bad data in request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static INNER: Shape = Shape { fields: &[opaque("logstore"), opaque("project")] };
    static OUTER: Shape = Shape {
        fields: &[
            opaque("serviceName"),
            Field { name: "logConfig", nested: Nested::Object(&INNER) },
            opaque("environmentVariables"),
        ],
    };

    #[test]
    fn folds_known_levels_and_drops_unknown_keys() {
        let mut v = json!({
            "ServiceName": "s",
            "LOGCONFIG": {"logStore": "l", "Extra": 1},
            "environmentVariables": {"myVar": "x"},
            "unknown": true
        });
        fold_keys(&mut v, &OUTER);
        assert_eq!(
            v,
            json!({"serviceName": "s", "logConfig": {"logstore": "l"}, "environmentVariables": {"myVar": "x"}})
        );
    }

    #[test]
    fn empty_body_and_garbage_are_invalid_but_an_empty_object_is_fine() {
        assert!(parse_body::<Value>(b"", &OUTER).is_err());
        assert!(parse_body::<Value>(b"  ", &OUTER).is_err());
        let v: Value = parse_body(b"{}", &OUTER).expect("empty object ok");
        assert_eq!(v, json!({}));
        assert!(parse_body::<Value>(b"[1]", &OUTER).is_err());
        assert!(parse_body::<Value>(b"{nope", &OUTER).is_err());
    }
}
