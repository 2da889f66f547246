//! A streamed report in text or JSON: its findings arrive one at a time, or as a file's part
//! already rendered (on the thread that computed it, or from the findings cache), and only the
//! counts and the first rows of each kind are kept for the footer.

use std::io::Write;

use super::{json, text, Count, Tally};
use crate::analysis::Report;
use crate::findings::{Finding, Severity};

/// The report formats whose findings are rendered one by one, each independent of the rest
/// (SARIF is written by its serializer, whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Text,
    Json,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Text => "text",
            Layout::Json => "json",
        }
    }

    /// `f` as the report shows it in its list of findings.
    pub fn finding(self, out: &mut Vec<u8>, f: &Finding) {
        match self {
            Layout::Text => text::finding(out, f),
            Layout::Json => json::finding(out, f),
        }
    }

    /// What goes between two findings of the list (and before the first).
    pub fn separator(self, first: bool) -> &'static [u8] {
        match (self, first) {
            (Layout::Text, _) => b"",
            (Layout::Json, true) => json::FIRST,
            (Layout::Json, false) => json::SEPARATOR,
        }
    }

    /// The findings at or above `min` in `findings` (in report order), as the report lists
    /// them: what a file's part of the report holds.
    pub fn part(self, out: &mut Vec<u8>, findings: &[Finding], min: Severity) {
        for (i, f) in findings.iter().filter(|f| f.severity >= min).enumerate() {
            if i > 0 {
                out.extend_from_slice(self.separator(false));
            }
            self.finding(out, f);
        }
    }
}

/// Writes a report as its findings come, buffered; [`ReportWriter::finish`] adds the footer.
pub struct ReportWriter<'o> {
    layout: Layout,
    min: Severity,
    out: &'o mut dyn Write,
    buffer: Vec<u8>,
    any_shown: bool,
    tally: Tally,
}

const FLUSH_AT: usize = 1 << 16;

impl<'o> ReportWriter<'o> {
    /// A report of the findings at or above `min`; `root` is the workspace the JSON names.
    pub fn start(layout: Layout, root: &str, min: Severity, out: &'o mut dyn Write) -> ReportWriter<'o> {
        let mut buffer = Vec::with_capacity(FLUSH_AT + 4096);
        if layout == Layout::Json {
            json::header(&mut buffer, root);
        }
        ReportWriter { layout, min, out, buffer, any_shown: false, tally: Tally::default() }
    }

    pub fn finding(&mut self, f: &Finding) -> std::io::Result<()> {
        self.tally.add(f);
        if f.severity < self.min {
            return Ok(());
        }
        self.buffer.extend_from_slice(self.layout.separator(!self.any_shown));
        self.any_shown = true;
        self.layout.finding(&mut self.buffer, f);
        self.flush_full()
    }

    /// A file's part, rendered by [`Layout::part`] with this report's `min`; `counts` are of
    /// every finding it was made from. `findings` gives those findings again when the footer
    /// still wants rows of their kinds (the first files of a report).
    pub fn part(
        &mut self,
        rendered: &[u8],
        counts: &[Count],
        findings: impl FnOnce() -> Vec<Finding>,
    ) -> std::io::Result<()> {
        if !self.tally.add_counted(counts) {
            for f in findings() {
                self.tally.add(&f);
            }
        }
        if rendered.is_empty() {
            return Ok(());
        }
        self.buffer.extend_from_slice(self.layout.separator(!self.any_shown));
        self.any_shown = true;
        if self.buffer.len() + rendered.len() > FLUSH_AT {
            self.out.write_all(&self.buffer)?;
            self.buffer.clear();
            return self.out.write_all(rendered);
        }
        self.buffer.extend_from_slice(rendered);
        Ok(())
    }

    fn flush_full(&mut self) -> std::io::Result<()> {
        if self.buffer.len() >= FLUSH_AT {
            self.out.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// The footer (counts, coverage, gate) and what the findings added up to.
    pub fn finish(mut self, report: &Report) -> std::io::Result<Tally> {
        match self.layout {
            Layout::Json => json::footer(&mut self.buffer, report, &self.tally, self.min, self.any_shown)?,
            Layout::Text => {
                self.buffer.extend_from_slice(text::text_footer(report, &self.tally, self.min).as_bytes())
            }
        }
        self.out.write_all(&self.buffer)?;
        self.out.flush()?;
        Ok(self.tally)
    }
}
