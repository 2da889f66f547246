use serde_json::{json, Value};

use crate::analysis::Report;
use crate::findings::{Finding, Severity};

pub fn finding_json(f: &Finding) -> Value {
    let mut value = json!({
        "code": f.code.as_str(),
        "severity": f.severity.as_str(),
        "path": f.path,
        "range": f.span.utf16_range(),
        "message": f.message,
    });
    if let Some(id) = &f.id {
        value["data"] = json!({ "id": id });
    }
    if let Some(fix) = &f.fix {
        value["fix"] = json!({
            "title": fix.title,
            "edits": fix.edits.iter().map(|e| json!({ "range": e.span.utf16_range(), "new_text": e.new_text })).collect::<Vec<_>>(),
            "candidates": fix.candidates,
        });
    }
    value
}

/// The `concord check --format json` document (docs/schemas/findings.schema.json).
pub fn render_json(report: &Report, root: &str, min: Severity) -> String {
    let shown = super::visible(report, min);
    let (by_severity, by_code) = super::counts(&shown);
    let coverage = report.coverage.summary();
    let mut doc = json!({
        "version": 1,
        "root": root,
        "findings": null,
        "summary": {
            "files_scanned": report.files_scanned,
            "files_skipped": report.files_skipped,
            "by_severity": by_severity,
            "by_code": by_code,
            "coverage": coverage,
            "items": report.items,
            "gate": {
                "passed": report.gate_failures.is_empty(),
                "priorities": report.gate_priorities,
                "failing": report.gate_failures,
            },
        },
    });
    // Moved in, not passed to `json!`, which would copy every finding once more.
    doc["findings"] = Value::Array(shown.iter().map(|f| finding_json(f)).collect());
    let mut text = serde_json::to_string_pretty(&doc).expect("report serializes");
    text.push('\n');
    text
}
