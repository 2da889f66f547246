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
    /// Workspace-relative path, when the document is inside the workspace.
    pub path: Option<String>,
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
    pub fn new(text: &str, version: i32, path: Option<String>) -> Document {
        Document {
            version,
            rope: Rope::from_str(text),
            generation: 0,
            path,
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
        let mut doc = Document::new("😀 TD-0001\r\nline two\n", 1, None);
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
