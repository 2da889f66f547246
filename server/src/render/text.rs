use std::borrow::{Borrow, Cow};
use std::fmt::Write;
use std::io::Write as _;

use super::{Layout, ReportWriter, Tally};
use crate::analysis::Report;
use crate::coverage::{CoverageStatus, CoverageSummary};
use crate::findings::{Finding, Severity};

/// How many skipped directories the text summary names.
const SKIPPED_LISTED: usize = 10;

/// `path:line:col: severity[code]: message`, 1-based like compilers, then a summary.
pub fn render_text(report: &Report, min: Severity) -> String {
    let mut bytes = Vec::new();
    write_text(report, report.findings.iter(), min, &mut bytes).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the text is UTF-8")
}

/// The text report of `findings` (in report order; the report's own are not read), written
/// as they come: a line per finding at or above `min`, then the counts and the coverage.
pub fn write_text<F: Borrow<Finding>>(
    report: &Report,
    findings: impl IntoIterator<Item = F>,
    min: Severity,
    out: &mut dyn std::io::Write,
) -> std::io::Result<Tally> {
    let mut writer = ReportWriter::start(Layout::Text, "", min, out);
    for f in findings {
        writer.finding(f.borrow())?;
    }
    writer.finish(report)
}

/// A finding's line (and its fix's), `path:line:col: severity[code]: message`.
pub(super) fn finding(out: &mut Vec<u8>, f: &Finding) {
    let _ = writeln!(
        out,
        "{}:{}:{}: {}[{}]: {}",
        quoted_path(&f.path),
        f.span.start.line + 1,
        f.span.start.utf16 + 1,
        f.severity.as_str(),
        f.code,
        one_line(&f.message)
    );
    if let Some(fix) = &f.fix {
        let _ = writeln!(out, "  fix: {}", one_line(&fix.title));
    }
}

/// The counts, the skipped folders, the range or the coverage, and the gate.
pub(super) fn text_footer(report: &Report, tally: &Tally, min: Severity) -> String {
    let mut out = String::new();
    let hidden = tally.total() - tally.shown(min).0;
    let (by_severity, _) = tally.counts(Severity::Hint);
    let _ = writeln!(
        out,
        "\n{} errors, {} warnings, {} info, {} hints in {} files ({} skipped)",
        by_severity["error"],
        by_severity["warning"],
        by_severity["info"],
        by_severity["hint"],
        report.files_scanned,
        report.files_skipped
    );
    let dirs: Vec<_> = report.skipped.iter().filter(|s| s.dir).collect();
    if !dirs.is_empty() {
        let _ = writeln!(out, "{} directories not scanned (nothing under them was checked):", dirs.len());
        for s in dirs.iter().take(SKIPPED_LISTED) {
            let _ = writeln!(out, "  {}: {}", quoted_path(&s.path), s.reason);
        }
        if dirs.len() > SKIPPED_LISTED {
            let _ =
                writeln!(out, "  … and {} more (the JSON report lists them)", dirs.len() - SKIPPED_LISTED);
        }
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{hidden} findings below {} not shown (use --min-severity hint to see them)",
            min.as_str()
        );
    }
    if let Some(range) = &report.range {
        let _ = writeln!(
            out,
            "checked the change since {} ({}): {} files changed, {} commits ({} needed no trailer), merge base {}",
            range.base_ref,
            range.why,
            range.files_changed,
            range.commits,
            range.commits_skipped,
            &range.base[..range.base.len().min(10)]
        );
        let _ = writeln!(out, "coverage and the coverage gate are checked by a full `concord check`");
        return out;
    }
    out.push_str(&render_coverage_summary(&report.coverage.summary()));
    if report.gate_failures.is_empty() {
        let _ = writeln!(out, "coverage gate: passed");
    } else {
        let mut listed = report.gate_failures.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        if report.gate_failures.len() > 10 {
            let _ = write!(listed, ", … ({} in all)", report.gate_failures.len());
        }
        let _ = writeln!(out, "coverage gate: FAILED: gated chunks not covered: {listed}");
    }
    out
}

/// A path as a text line shows it: as it is, unless it holds a control character (a newline in
/// a file name would split the line in two) or starts with a double quote; then as a JSON
/// string, quotes included: `"docs/a\nb.md":1:1: …`.
pub fn quoted_path(path: &str) -> Cow<'_, str> {
    if path.starts_with('"') || path.chars().any(char::is_control) {
        Cow::Owned(serde_json::to_string(path).expect("a string serializes"))
    } else {
        Cow::Borrowed(path)
    }
}

/// `text` on one line: each control character written as JSON writes it (`\n`, `\t`,
/// `\u001b`), so a message quoting a file name or a title never splits or colours the output.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Coverage by status and by priority, for people.
pub fn render_coverage_summary(summary: &CoverageSummary) -> String {
    let mut out = String::new();
    let count =
        |map: &std::collections::BTreeMap<CoverageStatus, usize>, s| map.get(&s).copied().unwrap_or(0);
    let percent = |covered: usize, total: usize| {
        if total == 0 {
            100.0
        } else {
            covered as f64 * 100.0 / total as f64
        }
    };
    let covered = count(&summary.by_status, CoverageStatus::Covered);
    let _ = writeln!(
        out,
        "coverage: {covered}/{} chunks covered ({:.1}%)",
        summary.chunks,
        percent(covered, summary.chunks)
    );
    let _ = writeln!(
        out,
        "  {:<8} {:>8} {:>12} {:>12} {:>14} {:>7}",
        "priority", "covered", "missing_wbs", "missing_code", "missing_tests", "total"
    );
    for (priority, statuses) in &summary.by_priority {
        let total: usize = statuses.values().sum();
        let _ = writeln!(
            out,
            "  {:<8} {:>8} {:>12} {:>12} {:>14} {:>7}",
            priority.as_str(),
            count(statuses, CoverageStatus::Covered),
            count(statuses, CoverageStatus::MissingWbs),
            count(statuses, CoverageStatus::MissingCode),
            count(statuses, CoverageStatus::MissingTests),
            total
        );
    }
    out
}
