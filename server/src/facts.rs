//! What is known about one ID, as data: a chunk's title, summary, coverage and work items; a
//! work item's status, risk, lock, criteria and chunks; for an unknown ID, the near misses.
//! The editor's hover renders these facts as markdown and `concord mcp`'s `lookup` returns them
//! as JSON, so the two never disagree. Pure: no I/O, no protocol types.

use serde::Serialize;

use crate::analysis::Analysis;
use crate::model::{Model, Place};
use crate::workspace::Workspace;

/// A place in the workspace: its path and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct At {
    pub path: String,
    pub line: u32,
}

impl At {
    pub fn of(place: &Place) -> At {
        At { path: place.path.clone(), line: place.span.start.line + 1 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkRef {
    pub id: String,
    pub title: String,
    pub status: &'static str,
    pub at: At,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChunkRef {
    pub id: String,
    /// None when the work item names a chunk that does not exist.
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockRef {
    pub agent: String,
    pub acquired_at: String,
    pub scope_paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChunkFacts {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub priority: &'static str,
    pub topic: Option<String>,
    /// The hash of its normalised text (see `model::fingerprint`).
    pub fingerprint: String,
    /// `covered`, `missing_wbs`, `missing_code`, `missing_tests`, or `unknown`.
    pub coverage: &'static str,
    pub work_items: Vec<WorkRef>,
    pub code_files: Option<usize>,
    pub test_files: Option<usize>,
    /// The heading that defines it, else its index entry.
    pub source: Option<At>,
    /// The markdown heading, when a heading defines it (where its text is).
    pub heading: Option<At>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkFacts {
    pub id: String,
    pub title: String,
    pub phase: Option<String>,
    pub status: &'static str,
    pub risk: &'static str,
    pub autopilot: &'static str,
    pub lock: Option<LockRef>,
    pub acceptance_criteria: Vec<String>,
    pub test_commands: Vec<String>,
    pub smoke_checks: Vec<String>,
    /// As written; a review runs each as a gate.
    pub quality_gates: Vec<String>,
    pub scope_paths: Vec<String>,
    pub depends_on: Vec<String>,
    pub chunks: Vec<ChunkRef>,
    /// The owner's pending questions about the item: `(id, question)`.
    pub pending_questions: Vec<(String, String)>,
    pub definition: At,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdFacts {
    Chunk(ChunkFacts),
    Work(WorkFacts),
    Unknown { id: String, did_you_mean: Vec<ChunkRef> },
}

pub fn id_facts(ws: &Workspace, analysis: &Analysis, id: &str) -> IdFacts {
    let model = &ws.model;
    if let Some(chunk) = model.chunks.get(id) {
        let coverage = analysis.coverage.get(id);
        IdFacts::Chunk(ChunkFacts {
            id: id.to_string(),
            title: chunk.title.clone(),
            summary: chunk.summary.clone(),
            priority: chunk.priority.as_str(),
            fingerprint: chunk.fingerprint.clone(),
            topic: chunk.topic.clone(),
            coverage: coverage.map_or("unknown", |c| c.status.as_str()),
            work_items: model.work_for_chunk(id).map(|w| work_ref(model, w)).collect(),
            code_files: coverage.map(|c| c.code_files),
            test_files: coverage.map(|c| c.test_files),
            source: chunk.definition().map(At::of),
            heading: chunk.heading.as_ref().map(At::of),
        })
    } else if let Some(item) = model.work.get(id) {
        IdFacts::Work(WorkFacts {
            id: id.to_string(),
            title: item.title.clone(),
            phase: item.phase.clone(),
            status: model.status_of(id).as_str(),
            risk: item.risk.as_str(),
            autopilot: item.autopilot.as_str(),
            lock: model.lock_for_task(id).map(|l| LockRef {
                agent: l.agent.clone(),
                acquired_at: l.acquired_at.clone(),
                scope_paths: l.scope_paths.clone(),
            }),
            acceptance_criteria: item.acceptance_criteria.clone(),
            test_commands: item.test_commands.clone(),
            smoke_checks: item.smoke_checks.clone(),
            quality_gates: item.quality_gates.iter().map(|g| g.text.clone()).collect(),
            scope_paths: item.scope_paths.clone(),
            depends_on: item.depends_on.iter().map(|(d, _)| d.clone()).collect(),
            chunks: item.blueprint_ids.iter().map(|(c, _)| chunk_ref(model, c)).collect(),
            pending_questions: model
                .pending_questions(id)
                .map(|q| (q.id.clone(), q.question.clone()))
                .collect(),
            definition: At::of(&item.place),
        })
    } else {
        IdFacts::Unknown {
            id: id.to_string(),
            did_you_mean: model.did_you_mean(&ws.config, id).iter().map(|s| chunk_ref(model, s)).collect(),
        }
    }
}

fn work_ref(model: &Model, w: &crate::model::WorkItem) -> WorkRef {
    WorkRef {
        id: w.id.clone(),
        title: w.title.clone(),
        status: model.status_of(&w.id).as_str(),
        at: At::of(&w.place),
    }
}

fn chunk_ref(model: &Model, id: &str) -> ChunkRef {
    ChunkRef { id: id.to_string(), title: model.title_of(id).map(str::to_string) }
}

/// The markdown section that starts at the heading on `line` (0-based): the heading and every
/// line up to the next heading of the same or a higher level (`#` lines inside code fences do
/// not count), at most `cap` bytes (cut at a line end). Returns the text and whether it was cut.
pub fn section_text(text: &str, line: u32, cap: usize) -> Option<(String, bool)> {
    let mut lines = text.split_inclusive('\n').skip(line as usize);
    let first = lines.next()?;
    let level = heading_level(first)?;
    let mut out = String::from(first);
    let mut fenced = false;
    for l in lines {
        let trimmed = l.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
        }
        if !fenced && heading_level(l).is_some_and(|n| n <= level) {
            break;
        }
        if out.len() + l.len() > cap {
            return Some((out.trim_end().to_string(), true));
        }
        out.push_str(l);
    }
    Some((out.trim_end().to_string(), false))
}

fn heading_level(line: &str) -> Option<usize> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes).then_some(hashes).filter(|_| line[hashes..].starts_with([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_ends_at_the_next_heading_of_its_level() {
        let text = "# Spec\n\n## TD-0001 Pay\nbody\n### detail\nmore\n```\n# not a heading\n```\n## TD-0002 Next\nx\n";
        let (section, cut) = section_text(text, 2, 10_000).unwrap();
        assert!(!cut);
        assert!(section.starts_with("## TD-0001 Pay"));
        assert!(section.contains("### detail") && section.contains("# not a heading"));
        assert!(!section.contains("TD-0002"));
        let (short, cut) = section_text(text, 2, 20).unwrap();
        assert!(cut);
        assert_eq!(short, "## TD-0001 Pay\nbody");
        assert_eq!(section_text(text, 3, 100), None, "line 3 is not a heading");
    }
}
