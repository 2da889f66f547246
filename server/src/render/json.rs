//! The `concord check --format json` document (docs/schemas/findings.schema.json), written as
//! it is serialized: an item-level check of a big tree has hundreds of thousands of findings,
//! and neither a `serde_json::Value` per finding nor the whole text may be held in memory.

use std::borrow::Borrow;
use std::io::Write;

use serde::Serialize;
use serde_json::{json, Value};

use super::{Layout, ReportWriter, Tally};
use crate::analysis::Report;
use crate::findings::{Candidate, Finding, Severity};
use crate::text::Range;

#[derive(Serialize)]
struct FindingView<'a> {
    code: &'static str,
    severity: &'static str,
    path: &'a str,
    range: Range,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<DataView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<FixView<'a>>,
}

#[derive(Serialize)]
struct DataView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
}

#[derive(Serialize)]
struct FixView<'a> {
    title: &'a str,
    edits: Vec<EditView<'a>>,
    candidates: &'a [Candidate],
}

#[derive(Serialize)]
struct EditView<'a> {
    range: Range,
    new_text: &'a str,
}

impl<'a> FindingView<'a> {
    fn of(f: &'a Finding) -> FindingView<'a> {
        FindingView {
            code: f.code.as_str(),
            severity: f.severity.as_str(),
            path: &f.path,
            range: f.span.utf16_range(),
            message: &f.message,
            data: (f.id.is_some() || f.commit.is_some())
                .then_some(DataView { id: f.id.as_deref(), commit: f.commit.as_deref() }),
            fix: f.fix.as_ref().map(|fix| FixView {
                title: &fix.title,
                edits: fix
                    .edits
                    .iter()
                    .map(|e| EditView { range: e.span.utf16_range(), new_text: &e.new_text })
                    .collect(),
                candidates: &fix.candidates,
            }),
        }
    }
}

/// How many skipped files and directories the summary lists (the counts are complete).
const SKIPPED_LISTED: usize = 1000;

/// One finding as `concord check --format json` writes it (for `concord mcp`'s answers).
pub fn finding_value(f: &Finding) -> Value {
    serde_json::to_value(FindingView::of(f)).expect("a finding serializes")
}

/// The JSON report of `findings` (in report order; the report's own are not read), written as
/// they come: the findings at or above `min`, then the summary counted from them. The same
/// bytes as serde_json's pretty printer gives for the document (`tests` hold them to it), but
/// each finding written by [`pretty::finding`]: on a big tree the findings are nearly all the
/// output, and the generic serializer spent more on keys and indents than on the text.
pub fn write_json<F: Borrow<Finding>>(
    report: &Report,
    findings: impl IntoIterator<Item = F>,
    root: &str,
    min: Severity,
    out: &mut dyn Write,
) -> std::io::Result<Tally> {
    let mut writer = ReportWriter::start(Layout::Json, root, min, out);
    for f in findings {
        writer.finding(f.borrow())?;
    }
    writer.finish(report)
}

/// The document's start, up to its findings.
pub(super) fn header(buffer: &mut Vec<u8>, root: &str) {
    buffer.extend_from_slice(b"{\n  \"version\": 1,\n  \"root\": ");
    pretty::string(buffer, root);
    buffer.extend_from_slice(b",\n  \"findings\": [");
}

/// A finding in the document's list (at its indent; [`SEPARATOR`] goes between two).
pub(super) fn finding(buffer: &mut Vec<u8>, f: &Finding) {
    pretty::finding(buffer, f, 4);
}

/// What goes before the first finding of the list, and between two.
pub(super) const FIRST: &[u8] = b"\n    ";
pub(super) const SEPARATOR: &[u8] = b",\n    ";

/// The document's end after its findings: the summary counted from them.
pub(super) fn footer(
    buffer: &mut Vec<u8>,
    report: &Report,
    tally: &Tally,
    min: Severity,
    any_shown: bool,
) -> std::io::Result<()> {
    buffer.extend_from_slice(if any_shown { b"\n  ],\n  \"summary\": " } else { b"],\n  \"summary\": " });
    let summary = serde_json::to_vec_pretty(&summary(report, tally, min)).map_err(std::io::Error::other)?;
    // Nested one level deeper: a JSON text has newlines only between its tokens.
    for (i, line) in summary.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            buffer.extend_from_slice(b"\n  ");
        }
        buffer.extend_from_slice(line);
    }
    buffer.extend_from_slice(b"\n}\n");
    Ok(())
}

/// Pretty JSON written by hand, as serde_json writes it: two spaces a level, `": "` after a
/// key, `[]` and `{}` when empty, strings escaped the same way.
mod pretty {
    use super::{Finding, Range};

    const SPACES: &[u8; 64] = &[b' '; 64];

    fn indent(out: &mut Vec<u8>, depth: usize) {
        out.push(b'\n');
        out.extend_from_slice(&SPACES[..depth.min(SPACES.len())]);
    }

    /// An object being written at `depth`, one key at a time.
    struct Object<'o> {
        out: &'o mut Vec<u8>,
        depth: usize,
        empty: bool,
    }

    impl<'o> Object<'o> {
        fn open(out: &'o mut Vec<u8>, depth: usize) -> Object<'o> {
            out.push(b'{');
            Object { out, depth, empty: true }
        }

        /// Starts `key`'s entry; its value is written next.
        fn key(&mut self, key: &str) -> &mut Vec<u8> {
            if !self.empty {
                self.out.push(b',');
            }
            self.empty = false;
            indent(self.out, self.depth + 2);
            string(self.out, key);
            self.out.extend_from_slice(b": ");
            self.out
        }

        fn close(self) {
            if !self.empty {
                indent(self.out, self.depth);
            }
            self.out.push(b'}');
        }
    }

    /// The array of `items` at `depth`, each written by `item` (at `depth + 2`).
    fn array<T>(out: &mut Vec<u8>, depth: usize, items: &[T], item: impl Fn(&mut Vec<u8>, &T, usize)) {
        out.push(b'[');
        for (i, value) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            indent(out, depth + 2);
            item(out, value, depth + 2);
        }
        if !items.is_empty() {
            indent(out, depth);
        }
        out.push(b']');
    }

    pub(super) fn string(out: &mut Vec<u8>, text: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(b'"');
        let mut rest = text.as_bytes();
        while let Some(at) = first_to_escape(rest) {
            out.extend_from_slice(&rest[..at]);
            let byte = rest[at];
            match byte {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => {
                    out.extend_from_slice(b"\\u00");
                    out.extend_from_slice(&[HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]]);
                }
            }
            rest = &rest[at + 1..];
        }
        out.extend_from_slice(rest);
        out.push(b'"');
    }

    fn needs_escape(byte: u8) -> bool {
        byte < 0x20 || byte == b'"' || byte == b'\\'
    }

    /// Where the first byte to escape is. Sixteen bytes at a time with no early exit inside
    /// them, so the test compiles to vector instructions: most text has nothing to escape.
    fn first_to_escape(bytes: &[u8]) -> Option<usize> {
        let mut chunks = bytes.chunks_exact(16);
        let mut offset = 0;
        for chunk in &mut chunks {
            if chunk.iter().fold(false, |any, &b| any | needs_escape(b)) {
                return chunk.iter().position(|&b| needs_escape(b)).map(|at| offset + at);
            }
            offset += 16;
        }
        chunks.remainder().iter().position(|&b| needs_escape(b)).map(|at| offset + at)
    }

    fn number(out: &mut Vec<u8>, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend_from_slice(&digits[at..]);
    }

    fn range(out: &mut Vec<u8>, range: &Range, depth: usize) {
        let mut object = Object::open(out, depth);
        for (key, at) in [("start", range.start), ("end", range.end)] {
            let out = object.key(key);
            let mut position = Object::open(out, depth + 2);
            number(position.key("line"), at.line);
            number(position.key("character"), at.character);
            position.close();
        }
        object.close();
    }

    /// One finding as `FindingView` serializes it, its `{` at `depth`.
    pub(super) fn finding(out: &mut Vec<u8>, f: &Finding, depth: usize) {
        let mut object = Object::open(out, depth);
        string(object.key("code"), f.code.as_str());
        string(object.key("severity"), f.severity.as_str());
        string(object.key("path"), &f.path);
        range(object.key("range"), &f.span.utf16_range(), depth + 2);
        string(object.key("message"), &f.message);
        if f.id.is_some() || f.commit.is_some() {
            let mut data = Object::open(object.key("data"), depth + 2);
            if let Some(id) = &f.id {
                string(data.key("id"), id);
            }
            if let Some(commit) = &f.commit {
                string(data.key("commit"), commit);
            }
            data.close();
        }
        if let Some(fix) = &f.fix {
            let mut object_fix = Object::open(object.key("fix"), depth + 2);
            string(object_fix.key("title"), &fix.title);
            array(object_fix.key("edits"), depth + 4, &fix.edits, |out, edit, depth| {
                let mut e = Object::open(out, depth);
                range(e.key("range"), &edit.span.utf16_range(), depth + 2);
                string(e.key("new_text"), &edit.new_text);
                e.close();
            });
            array(object_fix.key("candidates"), depth + 4, &fix.candidates, |out, c, depth| {
                let mut candidate = Object::open(out, depth);
                string(candidate.key("id"), &c.id);
                string(candidate.key("title"), &c.title);
                // Floats as serde_json writes them (shortest round-trip form, `null` if not finite).
                serde_json::to_writer(&mut *candidate.key("score"), &c.score).expect("writing to memory");
                string(candidate.key("why"), &c.why);
                candidate.close();
            });
            object_fix.close();
        }
        object.close();
    }
}

fn summary(report: &Report, tally: &Tally, min: Severity) -> Value {
    let (by_severity, by_code) = tally.counts(min);
    let mut summary = json!({
        "files_scanned": report.files_scanned,
        "files_skipped": report.files_skipped,
        "dirs_skipped": report.skipped.iter().filter(|s| s.dir).count(),
        "skipped": report.skipped.iter().take(SKIPPED_LISTED).map(|s| json!({
            "path": s.path, "reason": s.reason, "directory": s.dir,
        })).collect::<Vec<_>>(),
        "by_severity": by_severity,
        "by_code": by_code,
        "coverage": report.coverage.summary(),
        "items": report.items,
        "gate": {
            "passed": report.gate_failures.is_empty(),
            "priorities": report.gate_priorities,
            "failing": report.gate_failures,
        },
    });
    if let Some(range) = &report.range {
        summary["range"] = json!(range);
    }
    summary
}

/// The JSON document as a string (for tests and small reports).
pub fn render_json(report: &Report, root: &str, min: Severity) -> String {
    let mut bytes = Vec::new();
    write_json(report, report.findings.iter(), root, min, &mut bytes).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::findings::{Code, Edit, Fix};
    use crate::text::{LineCol, Span};

    fn span(line: u32, utf16: u32) -> Span {
        let at = |col| LineCol { line, utf8: col, utf16: col };
        Span { start: at(utf16), end: at(utf16 + 3) }
    }

    /// Text that needs every kind of escape: quotes, backslashes, each control character,
    /// DEL, and characters outside ASCII and the BMP.
    fn awkward_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('/'),
                Just('\u{7f}'),
                Just('é'),
                Just('😀'),
                (0u8..0x20).prop_map(char::from),
                proptest::char::range('a', 'z'),
            ],
            0..40,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    fn a_finding() -> impl Strategy<Value = Finding> {
        let candidate = (awkward_text(), awkward_text(), any::<f64>(), awkward_text())
            .prop_map(|(id, title, score, why)| Candidate { id, title, score, why });
        let edit = (any::<u32>(), awkward_text())
            .prop_map(|(line, new_text)| Edit { span: span(line, 0), new_text });
        let fix = (
            awkward_text(),
            proptest::collection::vec(edit, 0..3),
            proptest::collection::vec(candidate, 0..3),
        )
            .prop_map(|(title, edits, candidates)| Fix { title, edits, candidates });
        (
            0..Code::ALL.len(),
            awkward_text(),
            (any::<u32>(), 0u32..1_000_000),
            awkward_text(),
            proptest::option::of(awkward_text()),
            proptest::option::of(awkward_text()),
            proptest::option::of(fix),
        )
            .prop_map(|(code, path, (line, column), message, id, commit, fix)| {
                let mut f = Finding::new(Code::ALL[code], path, span(line, column), message);
                f.id = id;
                f.commit = commit;
                f.fix = fix;
                f
            })
    }

    proptest! {
        #[test]
        fn a_finding_is_written_as_serde_json_writes_it(f in a_finding()) {
            let mut by_hand = Vec::new();
            pretty::finding(&mut by_hand, &f, 0);
            let by_serde = serde_json::to_vec_pretty(&FindingView::of(&f)).unwrap();
            prop_assert_eq!(String::from_utf8(by_hand).unwrap(), String::from_utf8(by_serde).unwrap());
        }
    }

    /// The whole document, with no findings shown and with some, against serde_json's pretty
    /// printing of the same value.
    #[test]
    fn the_document_is_serde_json_pretty() {
        let report = Report::default();
        let findings = vec![
            Finding::new(Code::UnknownId, "src/a \"b\".rs", span(3, 7), "line\none\ttab"),
            Finding::new(Code::UntracedFile, "src/b.rs", span(0, 0), "untraced").with_id("TD-0001"),
        ];
        for min in [Severity::Error, Severity::Hint] {
            let mut written = Vec::new();
            let tally = write_json(&report, &findings, "root/é", min, &mut written).unwrap();
            let shown: Vec<_> = findings
                .iter()
                .filter(|f| f.severity >= min)
                .map(|f| serde_json::to_value(FindingView::of(f)).unwrap())
                .collect();
            let expected = json!({
                "version": 1,
                "root": "root/é",
                "findings": shown,
                "summary": summary(&report, &tally, min),
            });
            let mut expected = serde_json::to_string_pretty(&expected).unwrap();
            expected.push('\n');
            assert_eq!(String::from_utf8(written).unwrap(), expected);
        }
    }
}
