//! Presenting a report: text for people, JSON for scripts, SARIF for code-scanning UIs.

pub mod dashboard;
pub mod html;
mod json;
mod sarif;
mod summary;
mod text;
mod writer;

pub use json::{finding_value, render_json, write_json};
pub use sarif::{fingerprint, render_sarif, write_sarif};
pub use summary::render_summary;
pub use text::{one_line, quoted_path, render_coverage_summary, render_text, write_text};
pub use writer::{Layout, ReportWriter};

use std::collections::BTreeMap;

use crate::findings::{Code, Finding, Severity};

/// What a report's findings add up to, counted while they are written (a streamed report is
/// never held whole): how many of each severity and code, commit-level ones apart, and the
/// first of each severity, for the rows of a summary.
#[derive(Debug, Default)]
pub struct Tally {
    counts: BTreeMap<(Severity, Code), usize>,
    commit_level: BTreeMap<Severity, usize>,
    /// (order, finding): the first [`summary::SUMMARY_ROWS`] of each severity and level.
    first: Vec<(usize, Finding)>,
    seen: usize,
}

/// How many findings of a code, at a severity and level, a file's part of a report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub severity: Severity,
    pub code: Code,
    /// Commit-level findings (see [`Finding::commit`]) are summarized apart.
    pub commit: bool,
    pub n: u32,
}

impl Count {
    /// The counts of `findings`, by severity, code and level.
    pub fn of(findings: &[Finding]) -> Vec<Count> {
        let mut counts: Vec<Count> = Vec::new();
        for f in findings {
            let (severity, code, commit) = (f.severity, f.code, f.commit.is_some());
            match counts.iter_mut().find(|c| (c.severity, c.code, c.commit) == (severity, code, commit)) {
                Some(count) => count.n += 1,
                None => counts.push(Count { severity, code, commit, n: 1 }),
            }
        }
        counts
    }
}

const SEVERITIES: [Severity; 4] = [Severity::Error, Severity::Warning, Severity::Info, Severity::Hint];

impl Tally {
    pub fn add(&mut self, f: &Finding) {
        *self.counts.entry((f.severity, f.code)).or_default() += 1;
        if f.commit.is_some() {
            *self.commit_level.entry(f.severity).or_default() += 1;
        }
        if self.kept_of_kind(f.severity, f.commit.is_some()) <= summary::SUMMARY_ROWS {
            self.first.push((self.seen, f.clone()));
        }
        self.seen += 1;
    }

    /// Adds findings by their counts alone (a file's part of a report, rendered elsewhere),
    /// unless a summary still wants rows of a kind among them: then it adds nothing and says
    /// so, and the findings are to be added one by one.
    pub fn add_counted(&mut self, counts: &[Count]) -> bool {
        let rows_wanted =
            counts.iter().any(|c| self.kept_of_kind(c.severity, c.commit) < summary::SUMMARY_ROWS);
        if rows_wanted {
            return false;
        }
        for c in counts {
            *self.counts.entry((c.severity, c.code)).or_default() += c.n as usize;
            if c.commit {
                *self.commit_level.entry(c.severity).or_default() += c.n as usize;
            }
            self.seen += c.n as usize;
        }
        true
    }

    /// How many findings of `severity` at the level `commit` says were added so far.
    fn kept_of_kind(&self, severity: Severity, commit: bool) -> usize {
        let commits = self.commit_level.get(&severity).copied().unwrap_or(0);
        if commit {
            return commits;
        }
        self.counts.iter().filter(|((s, _), _)| *s == severity).map(|(_, n)| n).sum::<usize>() - commits
    }

    /// Counts of the findings at or above `min` by severity (every severity present, zero or
    /// not) and by code.
    pub fn counts(&self, min: Severity) -> (BTreeMap<&'static str, usize>, BTreeMap<&'static str, usize>) {
        let mut by_severity: BTreeMap<&'static str, usize> =
            SEVERITIES.iter().map(|s| (s.as_str(), 0)).collect();
        let mut by_code = BTreeMap::new();
        for (&(severity, code), &n) in self.counts.iter().filter(|((s, _), _)| *s >= min) {
            *by_severity.entry(severity.as_str()).or_default() += n;
            *by_code.entry(code.as_str()).or_default() += n;
        }
        (by_severity, by_code)
    }

    /// How many findings are at or above `min`, and how many of those are commit-level.
    pub fn shown(&self, min: Severity) -> (usize, usize) {
        let all = self.counts.iter().filter(|((s, _), _)| *s >= min).map(|(_, n)| n).sum();
        let commits = self.commit_level.iter().filter(|(s, _)| **s >= min).map(|(_, n)| n).sum();
        (all, commits)
    }

    pub fn total(&self) -> usize {
        self.seen
    }

    /// The first findings at or above `min`, in report order (at least
    /// [`summary::SUMMARY_ROWS`] of each level when there are that many).
    pub fn first(&self, min: Severity) -> impl Iterator<Item = &Finding> {
        self.first.iter().filter(move |(_, f)| f.severity >= min).map(|(_, f)| f)
    }
}
