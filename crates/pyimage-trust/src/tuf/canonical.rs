//! OLPC canonical JSON, the bytes TUF signs: the `signed` object with its keys sorted, no whitespace, strings with
//! only `"` and `\` escaped (every other character, control characters included, written as is), integers only. This
//! is what securesystemslib's `encode_canonical` (python-tuf, tuf-on-ci, which sign Sigstore's repository) writes;
//! the tests check it against the signatures of the real Sigstore metadata.

use serde_json::Value;

/// The canonical form of `value`; a number that is not an integer is an error (canonical JSON has none).
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            if let Some(n) = number.as_u64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else if let Some(n) = number.as_i64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else {
                return Err(format!(
                    "the number {number} is not an integer, and canonical JSON has integers only"
                ));
            }
        }
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sorted by the keys' UTF-8 bytes, which is Unicode code point order (Python's `sorted` on str).
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for byte in text.bytes() {
        if byte == b'"' || byte == b'\\' {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: Value) -> String {
        String::from_utf8(canonical_json(&value).unwrap()).unwrap()
    }

    #[test]
    fn keys_are_sorted_by_code_point_and_nothing_is_spaced() {
        assert_eq!(
            canonical(json!({"b": [1, -2, true, null], "a": {"é": "x", "z": "y", "Z": 0}})),
            r#"{"a":{"Z":0,"z":"y","é":"x"},"b":[1,-2,true,null]}"#
        );
    }

    #[test]
    fn only_quote_and_backslash_are_escaped() {
        assert_eq!(
            canonical(json!({"k": "a\"b\\c\nd\u{1}é"})),
            "{\"k\":\"a\\\"b\\\\c\nd\u{1}é\"}"
        );
    }

    #[test]
    fn a_fraction_is_refused() {
        let error = canonical_json(&json!({"threshold": 1.5})).unwrap_err();
        assert!(error.contains("1.5"), "{error}");
    }
}
