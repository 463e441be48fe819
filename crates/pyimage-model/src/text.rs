//! Byte offsets → 1-based lines and character columns: the one conversion every located message uses (findings,
//! configuration and lock-file diagnostics, YAML and Dockerfile problems).

/// Where line `n` (0-based) starts, so byte offsets can be turned into 1-based lines and character columns.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    bom_len: usize,
    /// The last position asked for, as (line start, byte offset, 0-based column): positions are mostly asked in
    /// file order, and counting on from the last one instead of from the line start keeps a file on one long line
    /// (minified JSON) linear instead of quadratic.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        let bom_len = if text.starts_with('\u{feff}') { 3 } else { 0 };
        LineIndex {
            starts,
            bom_len,
            last: std::cell::Cell::new((usize::MAX, 0, 0)),
        }
    }

    /// 1-based line and 1-based column in characters of a byte offset. The BOM is not counted as a column: editors
    /// do not show it.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        let mut line_start = self.starts.get(line - 1).copied().unwrap_or(0);
        if line_start == 0 && offset >= self.bom_len {
            line_start = self.bom_len;
        }
        let (last_line_start, last_offset, last_column) = self.last.get();
        let (from, counted) =
            if last_line_start == line_start && (line_start..=offset).contains(&last_offset) {
                (last_offset, last_column)
            } else {
                (line_start, 0)
            };
        let column = counted
            + text
                .get(from..offset)
                .map_or(0, |before| before.chars().count());
        self.last.set((line_start, offset, column));
        (line, column + 1)
    }
}

/// The 1-based line and character column of one byte offset (for a single lookup; [`LineIndex`] for many).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).position(text, offset.min(text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_character_columns() {
        let text = "ab
çd = 1
";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        // `ç` is two bytes but one column.
        assert_eq!(line_column(text, 6), (2, 3));
        assert_eq!(line_column(text, 999), (3, 1));
        // The BOM is not a column.
        assert_eq!(line_column("\u{feff}x", 3), (1, 1));
    }

    /// The remembered last position only ever shortens the count: asked in any order, on one line or many, with
    /// characters of several bytes, every answer is the one a fresh index gives.
    #[test]
    fn positions_in_any_order_match_a_fresh_index() {
        let text = "\u{feff}ab ç😀 {\"image\": \"python\"}\nx ç\n\nlast ☕ line";
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&at| text.is_char_boundary(at))
            .collect();
        let index = LineIndex::new(text);
        let orders = [
            boundaries.clone(),
            boundaries.iter().rev().copied().collect(),
            boundaries
                .iter()
                .step_by(3)
                .chain(boundaries.iter().step_by(2))
                .copied()
                .collect::<Vec<_>>(),
        ];
        for order in orders {
            for &offset in &order {
                assert_eq!(
                    index.position(text, offset),
                    line_column(text, offset),
                    "offset {offset}"
                );
            }
        }
    }
}
