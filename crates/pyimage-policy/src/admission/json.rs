//! The JSON reader of AdmissionReview bodies: a serde [`Deserializer`](de::Deserializer) over UTF-8 text that
//! refuses what is not JSON (RFC 8259) as serde_json does, borrows strings that hold no escape, and reads over the
//! values the webhook keeps nothing of (a review's `managedFields`, annotations, status, the rest of each
//! container) in one tight loop rather than value by value through serde. Reading over those parts was most of
//! the cost of an admission request with serde_json.
//!
//! What it accepts is what serde_json accepts for the same types, which a differential test holds it to: every
//! value is checked, skipped ones too (numbers, literals, escapes, nesting, a raw control character in a string,
//! trailing commas or characters); a string that is kept must not hold a lone surrogate escape, a skipped one may
//! (as serde_json reads over `\uXXXX` without pairing it); a kept value nested [`MAX_DEPTH`] deep is refused, so no
//! body can exhaust the stack. Enums are not read: no review type has one.
//!
//! An AdmissionReview of the usual shape is read without serde's visitors at all ([`usual_review`]): the review,
//! its request and the object's view are read member by member by the reader itself, which saves about a tenth
//! of the reading; anything unusual is left to the serde path, so the two cannot answer differently.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::images::{ObjectView, is_read};
use super::review::{AdmissionRequest, AdmissionReview, GroupVersionKind, Text, UserInfo};

/// Arrays and objects a kept value may nest to are fewer than this (serde_json's limit too). A skipped value may
/// nest deeper, as in serde_json: it is read over with a stack on the heap, not by recursion.
pub const MAX_DEPTH: usize = 128;

/// Why a body is not the JSON asked for, and where (line and column, from 1, when known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: Box<str>,
    line: usize,
    column: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(
                f,
                "{} at line {} column {}",
                self.message, self.line, self.column
            )
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error {
            message: message.to_string().into(),
            line: 0,
            column: 0,
        }
    }
}

/// Reads a `T` from `text`, which must hold that one JSON value and nothing else but whitespace.
pub fn from_str<'de, T: de::Deserialize<'de>>(text: &'de str) -> Result<T, Error> {
    let mut reader = Reader::new(text);
    let value = T::deserialize(&mut reader).map_err(|error| reader.locate(error))?;
    if reader.peek().is_some() {
        return Err(reader.error("trailing characters"));
    }
    Ok(value)
}

/// The place of the first quote, backslash or control character of `bytes` from `from`: eight bytes at a time,
/// each word tested with two tests. Flipping bit 1 of every byte turns the quote (0x22) into 0x20 and keeps the
/// control characters (0x00–0x1F) among themselves, while no other byte lands below 0x21, so one "below 0x21" test
/// finds both; the backslash is a zero byte after an exclusive or.
#[inline(always)]
pub(crate) fn string_stop(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let mut at = from;
    while let Some(word) = bytes.get(at..at + 8) {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        let word = u64::from_le_bytes(eight);
        let flipped = word ^ (ONES * 0x02);
        let backslash = word ^ (ONES * u64::from(b'\\'));
        // Each test sets the high bit of a byte that matches (a byte of 0x80 or more never does: `& !x`); a borrow
        // can also set bits above the first match, never below it, so the lowest bit set is the first stop.
        let stops = ((flipped.wrapping_sub(ONES * 0x21) & !flipped)
            | (backslash.wrapping_sub(ONES) & !backslash))
            & HIGH;
        if stops != 0 {
            return Some(at + (stops.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes
        .get(at..)?
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
        .map(|offset| at + offset)
}

/// The reader's place in the text.
struct Reader<'de> {
    text: &'de str,
    bytes: &'de [u8],
    at: usize,
    depth: usize,
    /// While a value is skipped, what closes each container open around the place (`}` or `]`), innermost last.
    open: Vec<u8>,
}

impl<'de> Reader<'de> {
    /// A reader at the start of `text`.
    fn new(text: &'de str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
            depth: 0,
            open: Vec::new(),
        }
    }

    /// An error at the current place.
    #[cold]
    fn error(&self, message: &str) -> Error {
        self.locate(Error {
            message: message.into(),
            line: 0,
            column: 0,
        })
    }

    /// `error` with the current place, unless it has one.
    #[cold]
    fn locate(&self, mut error: Error) -> Error {
        if error.line == 0 {
            let before = self.bytes.get(..self.at).unwrap_or(self.bytes);
            error.line = 1 + before.iter().filter(|&&byte| byte == b'\n').count();
            error.column = 1 + before
                .iter()
                .rev()
                .take_while(|&&byte| byte != b'\n')
                .count();
        }
        error
    }

    /// The next byte that is not whitespace, not consumed. One comparison when there is no whitespace, as in
    /// the compact JSON the API server sends (every whitespace byte is at most a space).
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        match self.bytes.get(self.at) {
            Some(&byte) if byte > b' ' => Some(byte),
            _ => self.peek_past_whitespace(),
        }
    }

    /// [`Self::peek`] where whitespace may come first.
    fn peek_past_whitespace(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes.get(self.at) {
            if matches!(byte, b' ' | b'\n' | b'\t' | b'\r') {
                self.at += 1;
            } else {
                return Some(byte);
            }
        }
        None
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        Ok(())
    }

    /// Consumes `literal` (`true`, `false`, `null`) at the current place.
    fn literal(&mut self, literal: &[u8]) -> Result<(), Error> {
        if self
            .bytes
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(literal))
        {
            self.at += literal.len();
            Ok(())
        } else {
            Err(self.error("expected value"))
        }
    }

    /// Consumes the `:` after a key.
    #[inline(always)]
    fn colon(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b':') => {
                self.at += 1;
                Ok(())
            }
            Some(_) => Err(self.error("expected `:`")),
            None => Err(self.error("EOF while parsing an object")),
        }
    }

    /// The place and byte of the end of a string's run from `from`: its closing quote or a backslash.
    #[inline(always)]
    fn string_run(&mut self, from: usize) -> Result<(usize, u8), Error> {
        match string_stop(self.bytes, from) {
            Some(stop) => {
                let byte = self.bytes[stop];
                if byte < 0x20 {
                    self.at = stop;
                    return Err(self.error(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
                Ok((stop, byte))
            }
            None => {
                self.at = self.bytes.len();
                Err(self.error("EOF while parsing a string"))
            }
        }
    }

    /// The text between two places that are ASCII bytes (so on character boundaries).
    #[inline(always)]
    fn slice(&self, start: usize, end: usize) -> Result<&'de str, Error> {
        match self.text.get(start..end) {
            Some(text) => Ok(text),
            None => Err(self.error("a string is cut inside a character")),
        }
    }

    /// Reads a string whose opening quote was consumed: borrowed from the text unless it holds an escape.
    fn read_str(&mut self) -> Result<Cow<'de, str>, Error> {
        let start = self.at;
        let (stop, byte) = self.string_run(start)?;
        if byte == b'"' {
            self.at = stop + 1;
            return Ok(Cow::Borrowed(self.slice(start, stop)?));
        }
        let mut owned = String::with_capacity(stop - start + 16);
        owned.push_str(self.slice(start, stop)?);
        self.at = stop;
        loop {
            // At a backslash.
            self.at += 1;
            self.unescape(&mut owned)?;
            let from = self.at;
            let (stop, byte) = self.string_run(from)?;
            owned.push_str(self.slice(from, stop)?);
            self.at = stop + 1;
            if byte == b'"' {
                return Ok(Cow::Owned(owned));
            }
            self.at = stop;
        }
    }

    /// Reads over a string whose opening quote was consumed, checking its escapes as serde_json does when it
    /// skips one (a `\uXXXX` needs four hex digits, not a pair).
    #[inline(always)]
    fn skip_str(&mut self) -> Result<(), Error> {
        loop {
            let (stop, byte) = self.string_run(self.at)?;
            self.at = stop + 1;
            if byte == b'"' {
                return Ok(());
            }
            self.skip_escape()?;
        }
    }

    /// Reads over the escape after a backslash.
    fn skip_escape(&mut self) -> Result<(), Error> {
        match self.bytes.get(self.at) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.at += 1;
                Ok(())
            }
            Some(b'u') => {
                self.at += 1;
                self.hex4().map(drop)
            }
            Some(_) => Err(self.error("invalid escape")),
            None => Err(self.error("EOF while parsing a string")),
        }
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, Error> {
        let mut value = 0;
        for _ in 0..4 {
            let Some(&byte) = self.bytes.get(self.at) else {
                return Err(self.error("EOF while parsing a string"));
            };
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                b'A'..=b'F' => byte - b'A' + 10,
                _ => return Err(self.error("invalid escape")),
            };
            value = value * 16 + u32::from(digit);
            self.at += 1;
        }
        Ok(value)
    }

    /// Decodes the escape after a backslash into `out`; surrogates must pair, as serde_json requires of a string
    /// it keeps.
    fn unescape(&mut self, out: &mut String) -> Result<(), Error> {
        let Some(&byte) = self.bytes.get(self.at) else {
            return Err(self.error("EOF while parsing a string"));
        };
        self.at += 1;
        let decoded = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xDC00..=0xDFFF => {
                        return Err(self.error("lone leading surrogate in hex escape"));
                    }
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.at..self.at + 2) != Some(b"\\u".as_slice()) {
                            return Err(self.error("unexpected end of hex escape"));
                        }
                        self.at += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error("lone leading surrogate in hex escape"));
                        }
                        0x1_0000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    }
                    code => code,
                };
                match char::from_u32(code) {
                    Some(decoded) => decoded,
                    None => return Err(self.error("invalid unicode code point")),
                }
            }
            _ => return Err(self.error("invalid escape")),
        };
        out.push(decoded);
        Ok(())
    }

    /// Consumes a number (RFC 8259's grammar); whether it has neither fraction nor exponent.
    fn scan_number(&mut self) -> Result<bool, Error> {
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.bytes.get(self.at) {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        let mut integer = true;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            self.some_digits()?;
            integer = false;
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.some_digits()?;
            integer = false;
        }
        Ok(integer)
    }

    fn digits(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Result<(), Error> {
        if !self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Err(self.error("invalid number"));
        }
        self.digits();
        Ok(())
    }

    /// Reads a number and hands it to `visitor` as serde_json does: an integer as `u64` or `i64` when it fits,
    /// anything else as a finite `f64`.
    fn visit_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let start = self.at;
        let integer = self.scan_number()?;
        let text = self.slice(start, self.at)?;
        if integer {
            if let Ok(value) = text.parse::<u64>() {
                return visitor.visit_u64(value);
            }
            // `-0` is the float -0.0 in serde_json, as is a negative integer below `i64::MIN`.
            match text.parse::<i64>() {
                Ok(0) => return visitor.visit_f64(-0.0),
                Ok(value) => return visitor.visit_i64(value),
                Err(_) => {}
            }
        }
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => visitor.visit_f64(value),
            _ => Err(self.error("number out of range")),
        }
    }

    /// Reads over one value of any kind, checking it is JSON, without recursion.
    fn skip_value(&mut self) -> Result<(), Error> {
        self.open.clear();
        loop {
            // A value starts here.
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    self.skip_str()?;
                }
                Some(b'{') => {
                    self.at += 1;
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                    } else {
                        self.open.push(b'}');
                        self.skip_key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.at += 1;
                    if self.peek() == Some(b']') {
                        self.at += 1;
                    } else {
                        self.open.push(b']');
                        continue;
                    }
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.scan_number()?;
                }
                Some(_) => return Err(self.error("expected value")),
                None => return Err(self.error("EOF while parsing a value")),
            }
            // A value ended: close what it ends, or go on to the next member or item.
            loop {
                let Some(&close) = self.open.last() else {
                    return Ok(());
                };
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if close == b'}' {
                            self.skip_key()?;
                        } else if self.peek() == Some(b']') {
                            return Err(self.error("trailing comma"));
                        }
                        break;
                    }
                    Some(byte) if byte == close => {
                        self.at += 1;
                        self.open.pop();
                    }
                    Some(_) if close == b'}' => return Err(self.error("expected `,` or `}`")),
                    Some(_) => return Err(self.error("expected `,` or `]`")),
                    None if close == b'}' => {
                        return Err(self.error("EOF while parsing an object"));
                    }
                    None => return Err(self.error("EOF while parsing a list")),
                }
            }
        }
    }

    /// Reads over a member's key and its colon.
    #[inline(always)]
    fn skip_key(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                self.skip_str()?;
            }
            Some(b'}') => return Err(self.error("trailing comma")),
            Some(_) => return Err(self.error("key must be a string")),
            None => return Err(self.error("EOF while parsing an object")),
        }
        self.colon()
    }

    /// Moves to the next member or item of a container (closed by `close`) whose members a visitor reads, past
    /// the comma before it; `false` at the container's end, which is left to [`Self::close`].
    #[inline(always)]
    fn next_in(&mut self, first: &mut bool, close: u8) -> Result<bool, Error> {
        let object = close == b'}';
        match self.peek() {
            Some(byte) if byte == close => return Ok(false),
            Some(b',') if !*first => {
                self.at += 1;
                if self.peek() == Some(close) {
                    return Err(self.error("trailing comma"));
                }
            }
            Some(_) if *first => {}
            Some(_) if object => return Err(self.error("expected `,` or `}`")),
            Some(_) => return Err(self.error("expected `,` or `]`")),
            None if object => return Err(self.error("EOF while parsing an object")),
            None => return Err(self.error("EOF while parsing a list")),
        }
        *first = false;
        Ok(true)
    }

    /// Consumes the `}` or `]` that closes a container whose members a visitor read.
    fn close(&mut self, byte: u8, message: &str) -> Result<(), Error> {
        match self.peek() {
            Some(found) if found == byte => {
                self.at += 1;
                self.depth -= 1;
                Ok(())
            }
            Some(_) => Err(self.error(message)),
            None => Err(self.error("EOF while parsing a value")),
        }
    }
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                match self.read_str()? {
                    Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
                    Cow::Owned(text) => visitor.visit_string(text),
                }
            }
            Some(open @ (b'{' | b'[')) => {
                self.enter()?;
                self.at += 1;
                let entries = Entries {
                    reader: &mut *self,
                    first: true,
                };
                let value = if open == b'{' {
                    let value = visitor.visit_map(entries)?;
                    self.close(b'}', "expected `,` or `}`")?;
                    value
                } else {
                    let value = visitor.visit_seq(entries)?;
                    self.close(b']', "expected `,` or `]`")?;
                    value
                };
                Ok(value)
            }
            Some(b't') => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            Some(b'-' | b'0'..=b'9') => self.visit_number(visitor),
            Some(_) => Err(self.error("expected value")),
            None => Err(self.error("EOF while parsing a value")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        seq tuple tuple_struct map struct enum identifier
    }
}

/// The members of an object, or the items of an array, whose `{` or `[` was consumed; the `}` or `]` is left to
/// the caller.
struct Entries<'r, 'de> {
    reader: &'r mut Reader<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let reader = &mut *self.reader;
        if !reader.next_in(&mut self.first, b'}')? {
            return Ok(None);
        }
        match reader.peek() {
            Some(b'"') => seed.deserialize(&mut *reader).map(Some),
            Some(_) => Err(reader.error("key must be a string")),
            None => Err(reader.error("EOF while parsing an object")),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.reader.colon()?;
        seed.deserialize(&mut *self.reader)
    }
}

impl<'de> SeqAccess<'de> for Entries<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let reader = &mut *self.reader;
        if !reader.next_in(&mut self.first, b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *reader).map(Some)
    }
}

/// Kept values of an [`ObjectView`] the fast path reads nested at most this deep (the review and its request
/// included); a deeper one is left to the serde path, which refuses it at [`MAX_DEPTH`] as serde_json does.
const USUAL_DEPTH: usize = 100;

/// The AdmissionReview of `text` when it has the usual shape, read without serde's visitors: an object whose
/// `request` is an object with a string `uid`, each known member of the type the API server sends and none twice,
/// and every other member read over as [`Reader::skip_value`] does (checked to be JSON). `None` for anything
/// else — an error, `null` where serde reads a default, a sequence where serde reads a struct, a number that
/// [`Reader::visit_number`] would have to judge, a duplicate member — which [`from_str`] then reads (and refuses,
/// with its message, where the body is wrong). What it returns is what [`from_str`] returns for the same text: a
/// differential test holds the two equal on every real payload and on mutations of them.
pub(super) fn usual_review(text: &str) -> Option<AdmissionReview<'_>> {
    let mut reader = Reader::new(text);
    let review = reader.usual_review()?;
    reader.peek().is_none().then_some(review)
}

/// Puts `value` in an empty `slot`; `None` when the member came before (serde refuses a duplicate field).
fn first<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

impl<'de> Reader<'de> {
    /// Calls `member` with each key of the object at the current place, the reader after its colon; `member`
    /// reads the value.
    #[inline(always)]
    fn usual_members(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'de, str>) -> Option<()>,
    ) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.at += 1;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            self.at += 1;
            let key = self.read_str().ok()?;
            self.colon().ok()?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string.
    fn usual_text(&mut self) -> Option<Text<'de>> {
        if self.peek()? != b'"' {
            return None;
        }
        self.at += 1;
        self.read_str().ok().map(Text)
    }

    /// `null` as `Some(None)`, anything else as `read` reads it.
    fn usual_or_null<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.literal(b"null").ok()?;
            return Some(None);
        }
        read(self).map(Some)
    }

    /// A string or `null`.
    fn usual_optional_text(&mut self) -> Option<Option<Text<'de>>> {
        self.usual_or_null(Self::usual_text)
    }

    /// Reads over a value.
    fn usual_skip(&mut self) -> Option<()> {
        self.skip_value().ok()
    }

    fn usual_review(&mut self) -> Option<AdmissionReview<'de>> {
        let (mut api_version, mut kind, mut request) = (None, None, None);
        self.usual_members(|reader, key| match key.as_ref() {
            "apiVersion" => first(&mut api_version, reader.usual_text()?),
            "kind" => first(&mut kind, reader.usual_text()?),
            "request" => first(&mut request, reader.usual_request()?),
            _ => reader.usual_skip(),
        })?;
        Some(AdmissionReview {
            api_version: api_version.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
            request: Some(request?),
        })
    }

    fn usual_request(&mut self) -> Option<AdmissionRequest<'de>> {
        let mut uid = None;
        let mut kind = None;
        let mut sub_resource = None;
        let mut name = None;
        let mut namespace = None;
        let mut operation = None;
        let mut user_info = None;
        let mut object = None;
        let mut old_object = None;
        let mut dry_run = None;
        self.usual_members(|reader, key| match key.as_ref() {
            "uid" => first(&mut uid, reader.usual_text()?),
            "kind" => first(&mut kind, reader.usual_kind()?),
            "subResource" => first(&mut sub_resource, reader.usual_optional_text()?),
            "name" => first(&mut name, reader.usual_optional_text()?),
            "namespace" => first(&mut namespace, reader.usual_optional_text()?),
            "operation" => first(&mut operation, reader.usual_text()?),
            "userInfo" => first(&mut user_info, reader.usual_user()?),
            "object" => first(&mut object, reader.usual_optional_view()?),
            "oldObject" => first(&mut old_object, reader.usual_optional_view()?),
            "dryRun" => {
                let value = reader.usual_or_null(|reader| match reader.peek()? {
                    b't' => reader.literal(b"true").ok().map(|()| true),
                    b'f' => reader.literal(b"false").ok().map(|()| false),
                    _ => None,
                })?;
                first(&mut dry_run, value)
            }
            _ => reader.usual_skip(),
        })?;
        Some(AdmissionRequest {
            uid: uid?,
            kind: kind.unwrap_or_default(),
            sub_resource: sub_resource.flatten(),
            name: name.flatten(),
            namespace: namespace.flatten(),
            operation: operation.unwrap_or_default(),
            user_info: user_info.flatten(),
            object: object.flatten(),
            old_object: old_object.flatten(),
            dry_run: dry_run.flatten(),
            described: Default::default(),
        })
    }

    fn usual_kind(&mut self) -> Option<GroupVersionKind<'de>> {
        let (mut group, mut version, mut kind) = (None, None, None);
        self.usual_members(|reader, key| match key.as_ref() {
            "group" => first(&mut group, reader.usual_text()?),
            "version" => first(&mut version, reader.usual_text()?),
            "kind" => first(&mut kind, reader.usual_text()?),
            _ => reader.usual_skip(),
        })?;
        Some(GroupVersionKind {
            group: group.unwrap_or_default(),
            version: version.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
        })
    }

    fn usual_user(&mut self) -> Option<Option<UserInfo<'de>>> {
        self.usual_or_null(|reader| {
            let mut username = None;
            reader.usual_members(|reader, key| match key.as_ref() {
                "username" => first(&mut username, reader.usual_text()?),
                _ => reader.usual_skip(),
            })?;
            Some(UserInfo {
                username: username.unwrap_or_default(),
            })
        })
    }

    fn usual_optional_view(&mut self) -> Option<Option<ObjectView<'de>>> {
        // The review and its request are open around the object.
        self.usual_or_null(|reader| reader.usual_view(2))
    }

    /// The [`ObjectView`] of the value at the current place, `depth` containers deep.
    fn usual_view(&mut self, depth: usize) -> Option<ObjectView<'de>> {
        match self.peek()? {
            b'"' => self.usual_text().map(ObjectView::Text),
            b'{' if depth < USUAL_DEPTH => {
                let mut members = Vec::new();
                self.usual_members(|reader, key| {
                    if is_read(&key) {
                        let value = reader.usual_view(depth + 1)?;
                        members.push((Text(key), value));
                        Some(())
                    } else {
                        reader.usual_skip()
                    }
                })?;
                Some(ObjectView::Object(members))
            }
            b'[' if depth < USUAL_DEPTH => {
                self.at += 1;
                let mut items = Vec::new();
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(ObjectView::Array(items));
                }
                loop {
                    items.push(self.usual_view(depth + 1)?);
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(ObjectView::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true").ok().map(|()| ObjectView::Other),
            b'f' => self.literal(b"false").ok().map(|()| ObjectView::Other),
            b'n' => self.literal(b"null").ok().map(|()| ObjectView::Other),
            b'-' | b'0'..=b'9' => {
                // An integer of at most 18 characters always fits an i64; anything else is left to serde's
                // reading, which judges its range.
                let start = self.at;
                let integer = self.scan_number().ok()?;
                (integer && self.at - start <= 18).then_some(ObjectView::Other)
            }
            _ => None,
        }
    }
}
