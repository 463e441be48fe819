//! Human output is for terminals, and a terminal obeys control characters: an ESC sequence in a Dockerfile, an
//! engine's error or a registry's message could clear the screen, retitle the window, hide text or fake output.
//! Every human line pyimage prints goes through [`escape`] once: the C0 controls except tab and newline, DEL, the
//! C1 controls and the bidirectional overrides (which reorder what is shown) are written as visible `\x1b`/`\u{202e}`
//! escapes. JSON needs none of this (serde escapes controls). The only raw escape sequences left are pyimage's own
//! colours, added by the check renderer after escaping what it shows.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

/// Whether `c` must not reach a terminal raw.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `text` with every control character (but tab and newline) and bidirectional override made visible.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// A writer that escapes what passes through it (see [`escape`]), line by line, so a character split across two
/// writes is still seen whole. Flushed when dropped.
pub struct Clean<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Clean<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Clean {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> std::io::Result<()> {
        let rest = self.pending.split_off(upto);
        let line = std::mem::replace(&mut self.pending, rest);
        let text = String::from_utf8_lossy(&line);
        self.inner.write_all(escape(&text).as_bytes())
    }
}

impl<W: Write> Write for Clean<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|b| *b == b'\n') {
            self.emit(end + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.emit(self.pending.len())?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Clean<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_made_visible_and_text_is_kept() {
        assert_eq!(escape("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            escape("a\x1b]0;pwned\x07b\rc\u{9b}d\u{202e}e"),
            "a\\x1b]0;pwned\\x07b\\x0dc\\x9bd\\u{202e}e"
        );
        let mut out = Vec::new();
        {
            let mut clean = Clean::new(&mut out);
            // The two bytes of U+009B (a C1 control) arrive in two writes.
            clean.write_all(b"x\xc2").unwrap();
            clean.write_all(b"\x9b[2J\n\x1b").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "x\\x9b[2J\n\\x1b");
    }
}
