//! Positions in text: byte offsets turned into 0-based lines and columns counted both in
//! UTF-8 bytes and in UTF-16 code units, so one finding serves CLI output (UTF-16, as LSP
//! defaults to) and a server that negotiated UTF-8.

use serde::Serialize;

/// A 0-based line and column. `utf8` and `utf16` are the same column in two units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LineCol {
    pub line: u32,
    pub utf8: u32,
    pub utf16: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: LineCol,
    pub end: LineCol,
}

/// The LSP-shaped position written in JSON output (UTF-16 columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

impl Span {
    pub fn point(at: LineCol) -> Span {
        Span { start: at, end: at }
    }

    pub fn utf16_range(&self) -> Range {
        Range {
            start: Position { line: self.start.line, character: self.start.utf16 },
            end: Position { line: self.end.line, character: self.end.utf16 },
        }
    }

    /// A span covering a whole line's first `len` bytes of ASCII (used for synthetic places).
    pub fn line_start(line: u32) -> Span {
        Span::point(LineCol { line, utf8: 0, utf16: 0 })
    }
}

/// Start offsets of every line, for turning byte offsets into line/column.
/// A line ends at `\n`; a `\r` before it belongs to the line break, not to the text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = Vec::with_capacity(text.len() / 40 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { line_starts }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).copied()
    }

    /// The line holding byte `offset` (offsets past the end map to the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Line and column of a byte offset. An offset inside a UTF-8 sequence is moved back to
    /// the start of its character so that a position is always valid.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let prefix = &text[start..offset];
        LineCol { line: line as u32, utf8: prefix.len() as u32, utf16: utf16_len(prefix) as u32 }
    }

    pub fn span(&self, text: &str, start: usize, end: usize) -> Span {
        Span { start: self.line_col(text, start), end: self.line_col(text, end) }
    }

    /// The text of a line without its line break.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.line_starts.get(line) else {
            return "";
        };
        let end = self.line_starts.get(line + 1).copied().unwrap_or(text.len());
        text[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// Length of `s` in UTF-16 code units, with an ASCII fast path.
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// Byte offset within `line_text` of a column counted in UTF-16 units (clamped to the line).
pub fn utf16_to_byte(line_text: &str, utf16_col: usize) -> usize {
    let mut units = 0;
    for (byte, ch) in line_text.char_indices() {
        if units >= utf16_col {
            return byte;
        }
        units += ch.len_utf16();
    }
    line_text.len()
}

/// Byte offset within `line_text` of a column counted in UTF-8 bytes (clamped, on a boundary).
pub fn utf8_to_byte(line_text: &str, utf8_col: usize) -> usize {
    let mut at = utf8_col.min(line_text.len());
    while !line_text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units_and_bytes() {
        let text = "a\n😀é TD-0001\r\nx";
        let index = LineIndex::new(text);
        let at = text.find("TD").unwrap();
        let pos = index.line_col(text, at);
        assert_eq!(pos.line, 1);
        assert_eq!(pos.utf16, 4); // 😀 is 2 units, é 1, space 1
        assert_eq!(pos.utf8, 7); // 4 + 2 + 1 bytes
        assert_eq!(index.line_text(text, 1), "😀é TD-0001");
        assert_eq!(utf16_to_byte(index.line_text(text, 1), 4), 7);
        assert_eq!(index.line_col(text, text.len()).line, 2);
    }

    #[test]
    fn offsets_inside_a_character_snap_back() {
        let text = "é";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 1).utf8, 0);
    }
}
