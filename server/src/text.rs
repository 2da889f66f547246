//! Positions in text: byte offsets turned into 0-based lines and columns counted both in
//! UTF-8 bytes and in UTF-16 code units, so one finding serves CLI output (UTF-16, as LSP
//! defaults to) and a server that negotiated UTF-8.

use serde::Serialize;

/// A 0-based line and column. `utf8` and `utf16` are the same column in two units.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, serde::Deserialize,
)]
pub struct LineCol {
    pub line: u32,
    pub utf8: u32,
    pub utf16: u32,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, serde::Deserialize,
)]
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

/// The byte-order mark that may open a UTF-8 file.
pub const BOM: &str = "\u{FEFF}";

/// Start offsets of every line, for turning byte offsets into line/column, as an editor counts
/// them (the LSP's rule): a line ends at `\n`, `\r\n` or a lone `\r`, and nothing else (not
/// U+2028, not a form feed). A byte-order mark opening the file is not text: editors drop it, so
/// columns on the first line start after it.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut line_starts = Vec::with_capacity(text.len() / 40 + 1);
        line_starts.push(if text.starts_with(BOM) { BOM.len() } else { 0 });
        for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            // `\r\n` is one break: the line starts after its `\n`.
            if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                continue;
            }
            line_starts.push(at + 1);
        }
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
            // Inside the byte-order mark: the first line.
            Err(0) => 0,
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
        let start = self.line_starts[line].min(offset);
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

/// The lines of `text` with their line breaks, split as [`LineIndex`] splits them (`\n`,
/// `\r\n`, a lone `\r`); the byte-order mark stays at the start of the first.
/// A markdown ATX heading: one to six `#`, then a space or tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtxHeading<'t> {
    /// 0-based line number.
    pub line: usize,
    /// Byte offset of the line (after a byte-order mark opening the file).
    pub line_start: usize,
    pub level: usize,
    /// Byte offset where the heading's text starts (after `## `).
    pub text_start: usize,
    /// The rest of the line from `text_start`, line break included.
    pub rest: &'t str,
}

/// The ATX headings of a markdown text from line `first_line` on, outside ``` and ~~~ fences:
/// the one reading of headings that the scanner (chunk headings) and ingest (the outline) share.
pub fn atx_headings(text: &str, first_line: usize) -> impl Iterator<Item = AtxHeading<'_>> {
    let mut in_fence = false;
    let mut offset = 0;
    lines_inclusive(text).enumerate().filter_map(move |(n, line)| {
        let mut line_start = offset;
        offset += line.len();
        let line = match line.strip_prefix(BOM) {
            Some(rest) if line_start == 0 => {
                line_start = BOM.len();
                rest
            }
            _ => line,
        };
        if n < first_line {
            return None;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            return None;
        }
        if in_fence || !line.starts_with('#') {
            return None;
        }
        let level = line.bytes().take_while(|&b| b == b'#').count();
        if level > 6 || !line[level..].starts_with([' ', '\t']) {
            return None;
        }
        let rest = line[level..].trim_start();
        Some(AtxHeading {
            line: n,
            line_start,
            level,
            text_start: line_start + line.len() - rest.len(),
            rest,
        })
    })
}

pub fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut rest = 0;
    std::iter::from_fn(move || {
        if rest >= text.len() {
            return None;
        }
        let start = rest;
        let end = match memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
            Some(i) if bytes[start + i] == b'\r' && bytes.get(start + i + 1) == Some(&b'\n') => start + i + 2,
            Some(i) => start + i + 1,
            None => text.len(),
        };
        rest = end;
        Some(&text[start..end])
    })
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
    fn lines_break_at_lf_crlf_and_a_lone_cr_only() {
        let text = "a\rb\r\nc\nd\u{2028}e\u{c}f";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 4);
        let at = |s: &str| index.line_col(text, text.find(s).unwrap());
        assert_eq!((at("b").line, at("b").utf16), (1, 0));
        assert_eq!((at("c").line, at("c").utf16), (2, 0));
        assert_eq!((at("e").line, at("e").utf16), (3, 2), "U+2028 is text, as in the LSP");
        assert_eq!(index.line_text(text, 1), "b");
        let lines: Vec<&str> = lines_inclusive(text).collect();
        assert_eq!(lines, vec!["a\r", "b\r\n", "c\n", "d\u{2028}e\u{c}f"]);
        assert_eq!(lines_inclusive("").count(), 0);
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let text = "\u{FEFF}TD-0001 x\nTD";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 3), LineCol { line: 0, utf8: 0, utf16: 0 });
        assert_eq!(index.line_col(text, 0), LineCol { line: 0, utf8: 0, utf16: 0 });
        assert_eq!(index.line_col(text, 11).utf16, 8);
        assert_eq!(index.line_text(text, 0), "TD-0001 x");
        assert_eq!(index.line_col(text, text.len() - 2), LineCol { line: 1, utf8: 0, utf16: 0 });
    }

    #[test]
    fn offsets_inside_a_character_snap_back() {
        let text = "é";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 1).utf8, 0);
    }
}

/// One piece of a word-level diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordChange<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// The words of `old` and `new` (split at whitespace) as kept, removed and added, by a longest
/// common subsequence; `None` when either has more than `limit` words (the table would be
/// their product).
pub fn word_diff<'a>(old: &'a str, new: &'a str, limit: usize) -> Option<Vec<WordChange<'a>>> {
    let a: Vec<&str> = old.split_whitespace().collect();
    let b: Vec<&str> = new.split_whitespace().collect();
    if a.len() > limit || b.len() > limit {
        return None;
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let width = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(WordChange::Same(a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
            // What was there before first, then what replaced it.
            out.push(WordChange::Removed(a[i]));
            i += 1;
        } else {
            out.push(WordChange::Added(b[j]));
            j += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod word_diff_tests {
    use super::*;

    #[test]
    fn words_kept_removed_and_added() {
        let diff = word_diff(
            "refunds within 5 days to the card",
            "refunds within 10 days to the card or wallet",
            100,
        );
        use WordChange::*;
        assert_eq!(
            diff.unwrap(),
            [
                Same("refunds"),
                Same("within"),
                Removed("5"),
                Added("10"),
                Same("days"),
                Same("to"),
                Same("the"),
                Same("card"),
                Added("or"),
                Added("wallet")
            ]
        );
        assert!(word_diff("a b c", "a b c d", 3).is_none());
    }
}
