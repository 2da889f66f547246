//! The `concord check --format json` document (docs/schemas/findings.schema.json), written as
//! it is serialized: an item-level check of a big tree has hundreds of thousands of findings,
//! and neither a `serde_json::Value` per finding nor the whole text may be held in memory.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::io::Write;

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use super::Tally;
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
/// they come: the findings at or above `min`, then the summary counted from them.
pub fn write_json<F: Borrow<Finding>>(
    report: &Report,
    findings: impl IntoIterator<Item = F>,
    root: &str,
    min: Severity,
    out: &mut dyn Write,
) -> std::io::Result<Tally> {
    let document = Document {
        report,
        root,
        min,
        findings: RefCell::new(Some(findings.into_iter())),
        tally: RefCell::new(Tally::default()),
    };
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    document.serialize(&mut serde_json::Serializer::pretty(&mut buffered)).map_err(std::io::Error::other)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    drop(buffered);
    Ok(document.tally.into_inner())
}

/// The document: `version`, `root`, `findings` (pulled from the iterator while written, and
/// counted), then `summary` (from those counts).
struct Document<'a, I> {
    report: &'a Report,
    root: &'a str,
    min: Severity,
    findings: RefCell<Option<I>>,
    tally: RefCell<Tally>,
}

impl<F: Borrow<Finding>, I: Iterator<Item = F>> Serialize for Document<'_, I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut document = serializer.serialize_struct("Document", 4)?;
        document.serialize_field("version", &1)?;
        document.serialize_field("root", self.root)?;
        document.serialize_field("findings", &Findings { document: self })?;
        document.serialize_field("summary", &summary(self.report, &self.tally.borrow(), self.min))?;
        document.end()
    }
}

/// The findings as a sequence, each serialized when its turn comes.
struct Findings<'d, 'a, I> {
    document: &'d Document<'a, I>,
}

impl<F: Borrow<Finding>, I: Iterator<Item = F>> Serialize for Findings<'_, '_, I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let findings = self.document.findings.borrow_mut().take();
        for f in findings.into_iter().flatten() {
            let f = f.borrow();
            self.document.tally.borrow_mut().add(f);
            if f.severity >= self.document.min {
                seq.serialize_element(&FindingView::of(f))?;
            }
        }
        seq.end()
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
