//! Presenting a report: text for people, JSON for scripts, SARIF for code-scanning UIs.

pub mod dashboard;
pub mod html;
mod json;
mod sarif;
mod summary;
mod text;

pub use json::{finding_value, render_json, write_json};
pub use sarif::{fingerprint, render_sarif};
pub use summary::render_summary;
pub use text::{one_line, quoted_path, render_coverage_summary, render_text};

use std::collections::BTreeMap;

use crate::analysis::Report;
use crate::findings::{Finding, Severity};

/// Counts by severity (every severity present, zero or not) and by code.
pub fn counts(findings: &[&Finding]) -> (BTreeMap<&'static str, usize>, BTreeMap<&'static str, usize>) {
    let mut by_severity: BTreeMap<&'static str, usize> =
        [Severity::Error, Severity::Warning, Severity::Info, Severity::Hint]
            .iter()
            .map(|s| (s.as_str(), 0))
            .collect();
    let mut by_code = BTreeMap::new();
    for f in findings {
        *by_severity.entry(f.severity.as_str()).or_default() += 1;
        *by_code.entry(f.code.as_str()).or_default() += 1;
    }
    (by_severity, by_code)
}

/// The findings at or above `min`.
pub fn visible(report: &Report, min: Severity) -> Vec<&Finding> {
    report.findings.iter().filter(|f| f.severity >= min).collect()
}
