//! Typed reads of JSON fields that record a positioned `malformed-file` finding for every
//! problem and carry on, so one bad entry never hides the rest of a file.

use crate::findings::{Code, Finding};
use crate::json::{self, Json};
use crate::text::{LineIndex, Span};

/// One non-blank line of a JSON Lines file.
pub struct JsonlLine<'t> {
    /// 0-based line number.
    pub number: usize,
    /// Byte offset of the line in the file.
    pub start: usize,
    /// The line without its line break.
    pub text: &'t str,
    /// Why a line that does not parse may be broken: the last line of the file, with no line
    /// break, is most likely a write that was cut short.
    pub torn_note: &'static str,
}

/// The non-blank lines of a JSON Lines file (the queue, the owner's questions).
pub fn jsonl_lines(text: &str) -> impl Iterator<Item = JsonlLine<'_>> {
    let mut line_start = 0;
    text.split_inclusive('\n').enumerate().filter_map(move |(number, raw)| {
        let start = line_start;
        line_start += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let torn = !raw.ends_with('\n') && line_start == text.len();
        let torn_note =
            if torn { " (the last line is incomplete: a write was probably interrupted)" } else { "" };
        (!line.trim().is_empty()).then_some(JsonlLine { number, start, text: line, torn_note })
    })
}

pub struct FileReader<'t> {
    pub path: &'t str,
    pub text: &'t str,
    pub index: LineIndex,
    pub findings: Vec<Finding>,
}

impl<'t> FileReader<'t> {
    pub fn new(path: &'t str, text: &'t str) -> FileReader<'t> {
        FileReader { path, text, index: LineIndex::new(text), findings: Vec::new() }
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        self.index.span(self.text, start, end)
    }

    pub fn span_of(&self, value: &Json) -> Span {
        // A string is marked without its quotes (an ID in `"TD-0103"` is the ID itself);
        // a multi-line value on its first line only: editors show that best.
        let (start, end) = match value.value {
            crate::json::Value::String(_) => (value.start + 1, (value.end - 1).max(value.start + 1)),
            _ => (value.start, value.end),
        };
        let end = self.text[start..end].find('\n').map_or(end, |n| start + n);
        self.span(start, end)
    }

    pub fn malformed(&mut self, start: usize, end: usize, message: impl Into<String>) {
        let span = self.span(start, end);
        self.findings.push(Finding::new(Code::MalformedFile, self.path, span, message));
    }

    pub fn malformed_at(&mut self, value: &Json, message: impl Into<String>) {
        let span = self.span_of(value);
        self.findings.push(Finding::new(Code::MalformedFile, self.path, span, message));
    }

    /// Parse the whole file; a syntax error becomes a finding and `None`.
    pub fn parse(&mut self, skip_keys: &[&str]) -> Option<Json<'t>> {
        match json::parse(self.text, skip_keys) {
            Ok(value) => Some(value),
            Err(err) => {
                let message = format!(
                    "{}: invalid JSON: {}. Nothing in this file can be used until it is fixed.",
                    self.path, err.message
                );
                self.malformed(err.offset, err.offset, message);
                None
            }
        }
    }

    pub fn string(&mut self, object: &Json, key: &str, what: &str) -> Option<String> {
        let value = object.get(key)?;
        if value.is_null() {
            return None;
        }
        match value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                let message = format!("{what}: `{key}` must be a string, found {}", value.type_name());
                self.malformed_at(value, message);
                None
            }
        }
    }

    pub fn required_string(&mut self, object: &Json, key: &str, what: &str) -> Option<(String, Span)> {
        match object.get(key) {
            Some(value) => {
                let span = self.span_of(value);
                self.string(object, key, what).map(|s| (s, span))
            }
            None => {
                self.malformed_at(
                    object,
                    format!("{what} has no `{key}` field; add one (see docs/formats.md)"),
                );
                None
            }
        }
    }

    /// A list of strings; a lone string is accepted as a list of one.
    pub fn strings(&mut self, object: &Json, key: &str, what: &str) -> Vec<(String, Span)> {
        let Some(value) = object.get(key) else {
            return Vec::new();
        };
        if let Some(s) = value.as_str() {
            return vec![(s.to_string(), self.span_of(value))];
        }
        if value.is_null() {
            return Vec::new();
        }
        let Some(items) = value.as_array() else {
            let message = format!("{what}: `{key}` must be an array of strings, found {}", value.type_name());
            self.malformed_at(value, message);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.as_str() {
                Some(s) => out.push((s.to_string(), self.span_of(item))),
                None => {
                    let message = format!(
                        "{what}: every entry of `{key}` must be a string, found {}",
                        item.type_name()
                    );
                    self.malformed_at(item, message);
                }
            }
        }
        out
    }

    /// One of a fixed set of words; anything else is reported and the default used.
    pub fn choice<T: Copy>(
        &mut self,
        object: &Json,
        key: &str,
        what: &str,
        options: &[(&str, T)],
        default: T,
    ) -> T {
        let Some(value) = object.get(key) else {
            return default;
        };
        if value.is_null() {
            return default;
        }
        if let Some(word) = value.as_str() {
            if let Some((_, v)) = options.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)) {
                return *v;
            }
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let message =
            format!("{what}: `{key}` must be one of {}, found {}", names.join(", "), describe(value));
        self.malformed_at(value, message);
        default
    }

    pub fn integer(&mut self, object: &Json, key: &str, what: &str) -> Option<i64> {
        let value = object.get(key)?;
        if value.is_null() {
            return None;
        }
        let n = value.as_i64();
        if n.is_none() {
            let message = format!("{what}: `{key}` must be a whole number, found {}", describe(value));
            self.malformed_at(value, message);
        }
        n
    }
}

fn describe(value: &Json) -> String {
    match value.as_str() {
        Some(s) => format!("{s:?}"),
        None => value.type_name().to_string(),
    }
}
