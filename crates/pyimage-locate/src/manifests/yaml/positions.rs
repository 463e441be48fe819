//! Positions: saphyr's character indexes turned into byte offsets, the spaces a repair inserts mapped back to the
//! original text, and character columns of offsets met in increasing order — each in memory and time linear in
//! the text with a small constant (a table of every character's offset was 8 bytes per input byte).

use std::borrow::Cow;

/// Characters between two entries of [`CharOffsets`]' table.
const STRIDE: usize = 64;

/// Byte offsets of character indexes. ASCII text (nearly every manifest) needs no table: a character index is its
/// byte offset. Other text keeps the byte offset of every [`STRIDE`]th character and walks at most `STRIDE - 1`
/// characters from there, so the table is an eighth of a byte per character.
pub(super) struct CharOffsets<'a> {
    text: &'a str,
    checkpoints: Option<Vec<usize>>,
}

impl<'a> CharOffsets<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let checkpoints = (!text.is_ascii()).then(|| {
            text.char_indices()
                .step_by(STRIDE)
                .map(|(at, _)| at)
                .collect()
        });
        CharOffsets { text, checkpoints }
    }

    /// The byte offset of character `index`; past the last character, the length of the text.
    pub(super) fn byte(&self, index: usize) -> usize {
        let Some(checkpoints) = &self.checkpoints else {
            return index.min(self.text.len());
        };
        let Some(&from) = checkpoints.get(index / STRIDE) else {
            return self.text.len();
        };
        self.text
            .get(from..)
            .and_then(|rest| rest.char_indices().nth(index % STRIDE))
            .map_or(self.text.len(), |(at, _)| from + at)
    }
}

/// The character column of byte offsets asked for in increasing order, each found from the one before: the text
/// between them is read once, so a file written on one line (minified JSON) costs no more than one on many.
#[derive(Debug, Default)]
pub(super) struct Columns {
    /// The last offset asked for, and its column.
    at: usize,
    column: usize,
}

impl Columns {
    /// The 0-based character column of `offset` in `text` (an offset before the last one asked for is counted
    /// from its line start).
    pub(super) fn column(&mut self, text: &str, offset: usize) -> usize {
        let between = if offset >= self.at {
            text.get(self.at..offset)
        } else {
            None
        };
        self.column = match between {
            Some(between) => match between.rfind('\n') {
                Some(newline) => between.get(newline + 1..).map_or(0, |s| s.chars().count()),
                None => self.column + between.chars().count(),
            },
            None => {
                let line_start = text
                    .get(..offset)
                    .and_then(|before| before.rfind('\n'))
                    .map_or(0, |newline| newline + 1);
                text.get(line_start..offset)
                    .map_or(0, |before| before.chars().count())
            }
        };
        self.at = offset;
        self.column
    }
}

/// Spaces inserted at the start of lines, as `(byte offset in the original text, number of spaces)`, sorted.
#[derive(Debug, Default)]
pub(super) struct Padding {
    insertions: Vec<(usize, usize)>,
}

impl Padding {
    /// The text with the spaces inserted (the text itself while there are none).
    pub(super) fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.insertions.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + self.total());
        let mut from = 0;
        for &(at, count) in &self.insertions {
            out.push_str(text.get(from..at).unwrap_or(""));
            out.extend(std::iter::repeat_n(' ', count));
            from = at;
        }
        out.push_str(text.get(from..).unwrap_or(""));
        Cow::Owned(out)
    }

    /// The number of spaces inserted.
    pub(super) fn total(&self) -> usize {
        self.insertions.iter().map(|&(_, count)| count).sum()
    }

    /// Adds `count` spaces at `at` (an original line start).
    pub(super) fn insert(&mut self, (at, count): (usize, usize)) {
        match self
            .insertions
            .binary_search_by_key(&at, |&(start, _)| start)
        {
            Ok(existing) => {
                if let Some((_, existing_count)) = self.insertions.get_mut(existing) {
                    *existing_count += count;
                }
            }
            Err(position) => self.insertions.insert(position, (at, count)),
        }
    }

    /// The original byte offset of a byte offset in the padded text (an inserted space maps to where it was
    /// inserted).
    pub(super) fn original(&self, padded: usize) -> usize {
        let mut shift = 0;
        for &(at, count) in &self.insertions {
            let padded_at = at + shift;
            if padded < padded_at {
                break;
            }
            if padded < padded_at + count {
                return at;
            }
            shift += count;
        }
        padded - shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_maps_back() {
        let mut padding = Padding::default();
        padding.insert((4, 2));
        assert_eq!(padding.apply("abcdefgh"), "abcd  efgh");
        assert_eq!(padding.original(3), 3);
        assert_eq!(padding.original(4), 4);
        assert_eq!(padding.original(5), 4);
        assert_eq!(padding.original(6), 4);
        assert_eq!(padding.original(7), 5);
    }

    #[test]
    fn no_padding_borrows() {
        assert!(matches!(
            Padding::default().apply("a: b"),
            Cow::Borrowed("a: b")
        ));
    }

    #[test]
    fn character_indexes_become_byte_offsets() {
        let ascii = "a: b\n";
        let offsets = CharOffsets::new(ascii);
        assert_eq!(offsets.byte(3), 3);
        assert_eq!(offsets.byte(99), ascii.len());
        // Past a checkpoint and with characters of 1 to 4 bytes.
        let text = format!("{}é{}€x😀y", "a".repeat(70), "b".repeat(100));
        let offsets = CharOffsets::new(&text);
        for (index, (at, _)) in text.char_indices().enumerate() {
            assert_eq!(offsets.byte(index), at, "character {index}");
        }
        assert_eq!(offsets.byte(text.chars().count()), text.len());
        assert_eq!(offsets.byte(10_000), text.len());
    }

    #[test]
    fn columns_in_increasing_order_and_back() {
        let text = "ab\nçd [x\n  {y";
        let mut columns = Columns::default();
        assert_eq!(columns.column(text, 1), 1);
        // `ç` is two bytes, one column.
        assert_eq!(columns.column(text, 7), 3);
        assert_eq!(columns.column(text, 12), 2);
        assert_eq!(columns.column(text, 7), 3);
    }
}
