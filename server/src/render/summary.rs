//! A Markdown job summary (GitHub's `$GITHUB_STEP_SUMMARY`, or any file): the counts, the
//! checked range, and the findings as a table, commit-level findings first (they have no file
//! of their own, so code scanning can only show them at a changed file).

use std::fmt::Write;

use super::Tally;
use crate::analysis::Report;
use crate::findings::{Finding, Severity};

/// Rows shown before the table is cut (the full list is in the text, JSON or SARIF output).
pub const SUMMARY_ROWS: usize = 100;

/// A table cell: one line, no `|`, no HTML.
fn cell(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;")
}

fn row(out: &mut String, f: &Finding, place: String) {
    let _ =
        writeln!(out, "| {} | `{}` | {} | {} |", f.severity.as_str(), f.code, cell(&place), cell(&f.message));
}

pub fn render_summary(report: &Report, tally: &Tally, min: Severity) -> String {
    let (by_severity, _) = tally.counts(min);
    let mut out = String::from("## Concord check\n\n");
    let verdict = if by_severity["error"] > 0 { "failed" } else { "passed" };
    let _ = writeln!(
        out,
        "**{verdict}**: {} errors, {} warnings, {} info, {} hints in {} files.\n",
        by_severity["error"],
        by_severity["warning"],
        by_severity["info"],
        by_severity["hint"],
        report.files_scanned
    );
    if let Some(range) = &report.range {
        let _ = writeln!(
            out,
            "Checked the change since `{}` ({}): {} files changed, {} commits ({} needed no trailer), merge base `{}`.\n",
            cell(&range.base_ref),
            cell(&range.why),
            range.files_changed,
            range.commits,
            range.commits_skipped,
            &range.base[..range.base.len().min(10)]
        );
    } else if !report.gate_failures.is_empty() {
        let _ = writeln!(
            out,
            "Coverage gate **failed**: {} gated chunks not covered.\n",
            report.gate_failures.len()
        );
    }
    let (shown, commit_level) = tally.shown(min);
    let commits: Vec<&Finding> = tally.first(min).filter(|f| f.commit.is_some()).take(SUMMARY_ROWS).collect();
    if !commits.is_empty() {
        out.push_str("### Commits\n\n| severity | code | commit | what to do |\n|---|---|---|---|\n");
        for f in commits {
            let hash = f.commit.as_deref().unwrap_or("");
            row(&mut out, f, format!("`{}`", &hash[..hash.len().min(10)]));
        }
        out.push('\n');
    }
    let files: Vec<&Finding> = tally.first(min).filter(|f| f.commit.is_none()).take(SUMMARY_ROWS).collect();
    if !files.is_empty() {
        out.push_str("### Files\n\n| severity | code | where | what to do |\n|---|---|---|---|\n");
        for f in &files {
            row(&mut out, f, format!("`{}:{}`", f.path, f.span.start.line + 1));
        }
        let file_level = shown - commit_level;
        if file_level > SUMMARY_ROWS {
            let _ =
                writeln!(out, "\n… and {} more (see the check's full output).", file_level - SUMMARY_ROWS);
        }
        out.push('\n');
    }
    out
}
