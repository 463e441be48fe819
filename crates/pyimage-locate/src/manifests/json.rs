//! JSON (and JSON with comments, as `devcontainer.json` allows) read through the YAML parser, with exact spans.
//!
//! JSON is YAML's flow style, trailing commas included, except for comments (`//`, `/* */`) and tabs used as
//! indentation, which YAML does not take. [`yaml_compatible`] returns a copy of the text in which every byte of a
//! comment and every tab outside a string is a space: same length, same bytes inside every string, so the spans the
//! YAML parser reports on the copy are the spans of the original.

/// The text with comments and tabs outside strings blanked, byte for byte.
pub(crate) fn yaml_compatible(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' && bytes[at] != b'\n' {
                    if bytes[at] == b'\\' {
                        at += 1;
                    }
                    at += 1;
                }
                at += 1;
            }
            b'\t' => {
                out[at] = b' ';
                at += 1;
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
                    out[at] = b' ';
                    at += 1;
                }
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                let end = text
                    .get(at + 2..)
                    .and_then(|rest| rest.find("*/"))
                    .map_or(bytes.len(), |offset| at + 2 + offset + 2);
                for byte in &mut out[at..end] {
                    // Line breaks stay, so lines and columns after the comment are unchanged.
                    if *byte != b'\n' && *byte != b'\r' {
                        *byte = b' ';
                    }
                }
                at = end;
            }
            _ => at += 1,
        }
    }
    // Only ASCII bytes were replaced by spaces and every multi-byte character either kept whole or blanked whole
    // (comments), so the copy is UTF-8; fall back to the text if that ever failed.
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_tabs_become_spaces_strings_stay() {
        let text = "{\n\t// a comment é\n\t\"image\": \"python:3.12 // not a comment\", /* x\n y */ \"a\": 1,\n}";
        let cleaned = yaml_compatible(text);
        assert_eq!(cleaned.len(), text.len());
        assert!(cleaned.contains("\"python:3.12 // not a comment\""));
        assert!(!cleaned.contains("é") && !cleaned.contains("x\n y"));
        assert!(!cleaned.contains('\t'));
        assert_eq!(cleaned.lines().count(), text.lines().count());
    }
}
