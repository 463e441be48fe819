//! HTML escaping of every piece of text that reaches the page (registry and file data included).

use std::fmt::Write as _;

/// `text` with `& < > " '` replaced by entities, and control characters (other than tab and new line) dropped, so it
/// is safe in element content and in quoted attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A digest shortened for reading (`sha256:9e869b0816f5…`); the full digest goes in a `title` next to it.
pub fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) if hex.len() > 12 => {
            let mut out = String::new();
            let _ = write!(out, "{algorithm}:{}…", hex.get(..12).unwrap_or(hex));
            out
        }
        _ => digest.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_controls_are_neutralised() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\"\u{1b}[31m"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;[31m"
        );
        assert_eq!(
            short_digest("sha256:9e869b0816f5537709825b49"),
            "sha256:9e869b0816f5…"
        );
        assert_eq!(short_digest("sha256:abc"), "sha256:abc");
    }
}
