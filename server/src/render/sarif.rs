//! SARIF 2.1.0 as GitHub code scanning reads it: one run, a rule per finding code with help
//! text, results with relative URIs and 1-based regions (columns in UTF-16 units, SARIF's
//! default `columnKind`).

use serde_json::{json, Value};

use crate::analysis::Report;
use crate::findings::{Code, Severity};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

pub fn render_sarif(report: &Report, min: Severity) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.as_str().split('-').map(|w| { let mut c = w.chars(); c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default() }).collect::<String>(),
                "shortDescription": { "text": code.summary() },
                "fullDescription": { "text": code.summary() },
                "help": { "text": code.help(), "markdown": format!("**{}**: {}\n\n{}", code.as_str(), code.summary(), code.help()) },
                "defaultConfiguration": { "level": level(code.default_severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = super::visible(report, min)
        .into_iter()
        .map(|f| {
            let rule_index = Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0);
            let mut region = json!({
                "startLine": f.span.start.line + 1,
                "startColumn": f.span.start.utf16 + 1,
            });
            if f.span.end != f.span.start {
                region["endLine"] = json!(f.span.end.line + 1);
                region["endColumn"] = json!(f.span.end.utf16 + 1);
            }
            let mut result = json!({
                "ruleId": f.code.as_str(),
                "ruleIndex": rule_index,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri_escape(&f.path), "uriBaseId": "%SRCROOT%" },
                        "region": region,
                    }
                }],
                "partialFingerprints": {
                    "concordFinding/v1": format!("{}:{}:{}", f.code, f.path, f.id.as_deref().unwrap_or("")),
                },
            });
            if let Some(id) = &f.id {
                result["properties"] = json!({ "id": id });
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "concord",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("sarif serializes");
    text.push('\n');
    text
}

/// Percent-encode what a relative URI reference cannot hold (spaces, `%`, `#`, `?`, non-ASCII).
fn uri_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'+'
            | b'@'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b','
            | b';'
            | b'='
            | b':' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
