//! SARIF 2.1.0 as GitHub code scanning reads it: one run, a rule per finding code with help
//! text, results with relative URIs and 1-based regions (columns in UTF-16 units, SARIF's
//! default `columnKind`).

use std::borrow::Borrow;
use std::cell::RefCell;
use std::io::Write;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use super::Tally;
use crate::analysis::Report;
use crate::findings::{Code, Finding, Severity};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

pub fn render_sarif(report: &Report, min: Severity) -> String {
    let mut bytes = Vec::new();
    write_sarif(report.findings.iter(), min, &mut bytes).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

/// The SARIF log of `findings` (in report order), written as they come: a result per finding
/// at or above `min`.
pub fn write_sarif<F: Borrow<Finding>>(
    findings: impl IntoIterator<Item = F>,
    min: Severity,
    out: &mut dyn Write,
) -> std::io::Result<Tally> {
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
    let results =
        Results { findings: RefCell::new(Some(findings.into_iter())), min, tally: RefCell::default() };
    let run = Run {
        tool: json!({ "driver": {
            "name": "concord",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }}),
        column_kind: "utf16CodeUnits",
        results: &results,
    };
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    Log { schema: "https://json.schemastore.org/sarif-2.1.0.json", version: "2.1.0", runs: [run] }
        .serialize(&mut serde_json::Serializer::pretty(&mut buffered))
        .map_err(std::io::Error::other)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    drop(buffered);
    Ok(results.tally.into_inner())
}

#[derive(Serialize)]
#[serde(bound(serialize = "Results<I>: Serialize"))]
struct Log<'a, I> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a, I>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase", bound(serialize = "Results<I>: Serialize"))]
struct Run<'a, I> {
    tool: Value,
    column_kind: &'static str,
    results: &'a Results<I>,
}

/// The results, pulled from the iterator while written, and counted.
struct Results<I> {
    findings: RefCell<Option<I>>,
    min: Severity,
    tally: RefCell<Tally>,
}

impl<F: Borrow<Finding>, I: Iterator<Item = F>> Serialize for Results<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let findings = self.findings.borrow_mut().take();
        for f in findings.into_iter().flatten() {
            let f = f.borrow();
            self.tally.borrow_mut().add(f);
            if f.severity >= self.min {
                seq.serialize_element(&result(f, &mut seen))?;
            }
        }
        seq.end()
    }
}

/// One result. Several findings of one key in a run (untraced items of one file) are told
/// apart by their order in the file, not their line.
fn result(f: &Finding, seen: &mut std::collections::HashMap<String, usize>) -> Value {
    // Several findings of one key in a run (untraced items of one file) are told apart by
    // their order in the file, not their line.
    let key = fingerprint(f);
    let n = seen.entry(key.clone()).or_default();
    *n += 1;
    let key = if *n == 1 { key } else { format!("{key}:{n}") };
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
        "partialFingerprints": { "concordFinding/v1": key },
    });
    let mut properties = serde_json::Map::new();
    if let Some(id) = &f.id {
        properties.insert("id".into(), json!(id));
    }
    if let Some(commit) = &f.commit {
        properties.insert("commit".into(), json!(commit));
    }
    if !properties.is_empty() {
        result["properties"] = Value::Object(properties);
    }
    result
}

/// Concord's own fingerprint of a result, stable across commits: the rule, the path and the
/// ID (never a line number, so an edit above a finding does not make it new). A commit-level
/// finding is the rule and the commit (its anchor file changes as the range grows).
pub fn fingerprint(f: &crate::findings::Finding) -> String {
    match &f.commit {
        Some(commit) => format!("{}:commit:{commit}:{}", f.code, f.id.as_deref().unwrap_or("")),
        None => format!("{}:{}:{}", f.code, f.path, f.id.as_deref().unwrap_or("")),
    }
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
