//! Core types to LSP types: spans in the negotiated encoding, findings as diagnostics,
//! workspace paths as URIs.

use std::path::Path;

use serde_json::json;
use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticSeverity, NumberOrString, Position, Range, TextEdit, Uri,
};

use super::documents::Encoding;
use crate::findings::{Finding, Severity};
use crate::text::{LineCol, Span};

pub fn position(at: LineCol, encoding: Encoding) -> Position {
    let character = match encoding {
        Encoding::Utf8 => at.utf8,
        Encoding::Utf16 => at.utf16,
    };
    Position::new(at.line, character)
}

pub fn range(span: Span, encoding: Encoding) -> Range {
    Range::new(position(span.start, encoding), position(span.end, encoding))
}

pub fn uri(root: &Path, rel: &str) -> Option<Uri> {
    Uri::from_file_path(root.join(rel))
}

/// A file URI with a `#L<line>` fragment, which editors open at that line.
pub fn uri_at_line(root: &Path, rel: &str, line: u32) -> String {
    match uri(root, rel) {
        Some(u) => format!("{}#L{}", u.as_str(), line + 1),
        None => rel.to_string(),
    }
}

/// The workspace-relative path of a URI inside `root`.
pub fn rel_path(root: &Path, uri: &Uri) -> Option<String> {
    let path = uri.to_file_path()?;
    crate::workspace::relative(root, &path)
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

/// A finding as a diagnostic. Its fixes travel in `data`, already in the client's encoding,
/// so that a code action can apply exactly what the diagnostic offered.
pub fn diagnostic(finding: &Finding, encoding: Encoding) -> Diagnostic {
    let fixes: Vec<serde_json::Value> = finding
        .fix
        .iter()
        .flat_map(|fix| fix.variants())
        .map(|(title, edits)| {
            let edits: Vec<TextEdit> = edits
                .iter()
                .map(|e| TextEdit { range: range(e.span, encoding), new_text: e.new_text.clone() })
                .collect();
            json!({ "title": title, "edits": edits })
        })
        .collect();
    Diagnostic {
        range: range(finding.span, encoding),
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(finding.code.as_str().to_string())),
        source: Some("concord".into()),
        message: finding.message.clone(),
        data: Some(json!({ "id": finding.id, "fixes": fixes })),
        ..Default::default()
    }
}
