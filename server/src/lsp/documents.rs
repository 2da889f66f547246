//! Open documents: their text (a rope, edited incrementally), version, and the generation
//! counter that lets a newer edit cancel a pending diagnostics run.

use ropey::Rope;
use tower_lsp_server::ls_types::{Position, TextDocumentContentChangeEvent};

/// How the client counts columns (negotiated at initialize).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
}

#[derive(Debug, Clone)]
pub struct Document {
    pub version: i32,
    pub rope: Rope,
    /// Bumped on every change; a diagnostics run started for an older generation is dropped.
    pub generation: u64,
    /// A hash of the text as opened: a document back at it has no edits to answer for.
    pub opened_hash: u64,
    /// The first line changed since opening (scope diagnostics point there).
    pub first_changed_line: Option<u32>,
}

pub fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

impl Document {
    pub fn new(text: &str, version: i32) -> Document {
        Document {
            version,
            rope: Rope::from_str(text),
            generation: 0,
            opened_hash: text_hash(text),
            first_changed_line: None,
        }
    }

    pub fn apply(&mut self, change: &TextDocumentContentChangeEvent, encoding: Encoding) {
        let line = change.range.map_or(0, |r| r.start.line);
        self.first_changed_line = Some(self.first_changed_line.map_or(line, |l| l.min(line)));
        match change.range {
            None => self.rope = Rope::from_str(&change.text),
            Some(range) => {
                let start = char_index(&self.rope, range.start, encoding);
                let end = char_index(&self.rope, range.end, encoding).max(start);
                self.rope.remove(start..end);
                self.rope.insert(start, &change.text);
            }
        }
    }

    /// The text of one line without its line break ("" past the end).
    pub fn line(&self, line: u32) -> String {
        line_text(&self.rope, line as usize)
    }
}

pub fn line_text(rope: &Rope, line: usize) -> String {
    if line >= rope.len_lines() {
        return String::new();
    }
    let text = rope.line(line).to_string();
    text.trim_end_matches(['\n', '\r']).to_string()
}

/// The rope's character index of an LSP position, clamped to the line (and the text).
pub fn char_index(rope: &Rope, position: Position, encoding: Encoding) -> usize {
    let line = position.line as usize;
    if line >= rope.len_lines() {
        return rope.len_chars();
    }
    let line_start = rope.line_to_char(line);
    let line_slice = rope.line(line);
    // Columns never reach into the line break.
    let mut line_chars = line_slice.len_chars();
    while line_chars > 0 && matches!(line_slice.char(line_chars - 1), '\n' | '\r') {
        line_chars -= 1;
    }
    let column = position.character as usize;
    let offset = match encoding {
        Encoding::Utf16 => {
            let line_units = line_slice.char_to_utf16_cu(line_chars);
            line_slice.utf16_cu_to_char(column.min(line_units))
        }
        Encoding::Utf8 => {
            let line_bytes = line_slice.char_to_byte(line_chars);
            line_slice.byte_to_char(column.min(line_bytes))
        }
    };
    line_start + offset.min(line_chars)
}

/// A column of `line` (LSP units) as a byte offset into that line's text.
pub fn byte_column(line: &str, character: u32, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Utf16 => crate::text::utf16_to_byte(line, character as usize),
        Encoding::Utf8 => crate::text::utf8_to_byte(line, character as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::Range;

    fn change(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(sl, sc), Position::new(el, ec))),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_edits_in_both_encodings() {
        let mut doc = Document::new("😀 TD-0001\r\nline two\n", 1);
        // After the emoji: 2 UTF-16 units, 4 UTF-8 bytes.
        doc.apply(&change(0, 2, 0, 2, "X"), Encoding::Utf16);
        assert_eq!(doc.line(0), "😀X TD-0001");
        doc.apply(&change(0, 4, 0, 5, "Y"), Encoding::Utf8);
        assert_eq!(doc.line(0), "😀Y TD-0001");
        // A column past the end of the line stops before the CRLF.
        doc.apply(&change(0, 99, 0, 99, "!"), Encoding::Utf16);
        assert_eq!(doc.rope.to_string(), "😀Y TD-0001!\r\nline two\n");
        // A range across lines, and past the end of the text.
        doc.apply(&change(0, 3, 1, 4, ""), Encoding::Utf16);
        assert_eq!(doc.rope.to_string(), "😀Y two\n");
        doc.apply(&change(7, 0, 9, 0, "end"), Encoding::Utf16);
        assert_eq!(doc.rope.to_string(), "😀Y two\nend");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use tower_lsp_server::ls_types::Range;

    /// Byte offsets of the line starts as the LSP counts lines: `\n`, `\r\n` and a lone `\r`
    /// end a line, nothing else (not U+2028, not NEL), as in VS Code.
    fn lsp_line_starts(text: &str) -> Vec<usize> {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        starts
    }

    /// The byte offset of an LSP position (UTF-16 columns), clamped to the line's text; a
    /// column inside a surrogate pair means the character's start.
    fn lsp_offset(text: &str, line: u32, character: u32) -> usize {
        let starts = lsp_line_starts(text);
        let Some(&start) = starts.get(line as usize) else { return text.len() };
        let end = starts.get(line as usize + 1).copied().unwrap_or(text.len());
        let line_text = text[start..end].trim_end_matches(['\n', '\r']);
        let mut units = 0;
        for (byte, ch) in line_text.char_indices() {
            units += ch.len_utf16();
            if units > character as usize {
                return start + byte;
            }
        }
        start + line_text.len()
    }

    fn text() -> impl Strategy<Value = String> {
        "(a|é|𝄞|中|\n|\r\n|\r|\u{2028}|\u{85}| ){0,30}"
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

        /// Incremental edits give the text the client has: the same edits applied to a plain
        /// string by the protocol's rules.
        #[test]
        fn incremental_edits_match_the_protocol(
            start in text(),
            edits in prop::collection::vec((0u32..6, 0u32..8, 0u32..6, 0u32..8, text()), 1..6),
        ) {
            let mut document = Document::new(&start, 0);
            let mut expected = start.clone();
            for (l1, c1, l2, c2, new_text) in edits {
                let (from, to) = (lsp_offset(&expected, l1, c1), lsp_offset(&expected, l2, c2));
                let (from, to) = (from, to.max(from));
                expected.replace_range(from..to, &new_text);
                let range = Range {
                    start: Position { line: l1, character: c1 },
                    end: Position { line: l2, character: c2 },
                };
                let change = TextDocumentContentChangeEvent { range: Some(range), range_length: None, text: new_text };
                document.apply(&change, Encoding::Utf16);
                prop_assert_eq!(document.rope.to_string(), expected.clone());
            }
        }
    }
}
