//! Chunk coverage: which work items, code files and test files trace to each spec chunk,
//! and the crosswalk file that records it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::{Config, Priority};
use crate::ids::IdKind;
use crate::model::Model;
use crate::scan::{FileFacts, FileKind};

/// A chunk's coverage status and its traced-item counts: the crosswalk format's own types.
pub use crate::formats::{CoverageStatus, ItemCounts};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkCoverage {
    pub blueprint_id: String,
    pub title: String,
    pub priority: Priority,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    pub wbs_ids: Vec<String>,
    pub code_paths: BTreeSet<String>,
    pub test_paths: BTreeSet<String>,
    pub status: CoverageStatus,
    /// Traced items (functions, classes, tests) in item-level files, code and tests apart.
    pub items: ItemCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CoverageSummary {
    pub chunks: usize,
    pub by_status: BTreeMap<CoverageStatus, usize>,
    pub by_priority: BTreeMap<Priority, BTreeMap<CoverageStatus, usize>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    /// Sorted by chunk ID.
    pub chunks: Vec<ChunkCoverage>,
}

pub fn compute<'f>(config: &Config, model: &Model, files: impl Iterator<Item = &'f FileFacts>) -> Coverage {
    let mut code: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut tests: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut files_with_items: Vec<&FileFacts> = Vec::new();
    for facts in files {
        if !facts.items.is_empty() {
            files_with_items.push(facts);
        }
        let target = match facts.kind {
            FileKind::Code => &mut code,
            FileKind::Test => &mut tests,
            FileKind::Doc | FileKind::Other => continue,
        };
        for reference in facts.refs.iter().filter(|r| r.traces) {
            let mut add = |chunk_id: &str| {
                if let Some((key, _)) = model.chunks.get_key_value(chunk_id) {
                    target.entry(key.as_str()).or_default().insert(facts.path.clone());
                }
            };
            match config.ids.kind_of(&reference.id) {
                Some(IdKind::Chunk) => add(&reference.id),
                Some(IdKind::Work) if config.coverage_through_work_items => {
                    if let Some(item) = model.work.get(&reference.id) {
                        for (chunk_id, _) in &item.blueprint_ids {
                            add(chunk_id);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let item_counts = count_items(config, model, files_with_items.iter().copied());
    let mut wbs: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for item in model.work.values() {
        for (chunk_id, _) in &item.blueprint_ids {
            let ids = wbs.entry(chunk_id.as_str()).or_default();
            if !ids.contains(&item.id) {
                ids.push(item.id.clone());
            }
        }
    }
    let chunks = model
        .chunks
        .values()
        .map(|chunk| {
            let wbs_ids = wbs.remove(chunk.id.as_str()).unwrap_or_default();
            let code_paths = code.remove(chunk.id.as_str()).unwrap_or_default();
            let test_paths = tests.remove(chunk.id.as_str()).unwrap_or_default();
            let status = if wbs_ids.is_empty() {
                CoverageStatus::MissingWbs
            } else if code_paths.is_empty() {
                CoverageStatus::MissingCode
            } else if test_paths.is_empty() {
                CoverageStatus::MissingTests
            } else {
                CoverageStatus::Covered
            };
            ChunkCoverage {
                blueprint_id: chunk.id.clone(),
                title: chunk.title.clone(),
                priority: chunk.priority,
                topic: chunk.topic.clone(),
                wbs_ids,
                code_paths,
                test_paths,
                status,
                items: item_counts.get(chunk.id.as_str()).copied().unwrap_or_default(),
            }
        })
        .collect();
    Coverage { chunks }
}

impl Coverage {
    pub fn get(&self, id: &str) -> Option<&ChunkCoverage> {
        self.chunks.binary_search_by(|c| c.blueprint_id.as_str().cmp(id)).ok().map(|i| &self.chunks[i])
    }

    pub fn summary(&self) -> CoverageSummary {
        let mut summary = CoverageSummary { chunks: self.chunks.len(), ..Default::default() };
        for chunk in &self.chunks {
            *summary.by_status.entry(chunk.status).or_default() += 1;
            *summary.by_priority.entry(chunk.priority).or_default().entry(chunk.status).or_default() += 1;
        }
        summary
    }

    /// Chunks whose priority is gated and that are not covered.
    pub fn gate_failures(&self, gate: &[Priority]) -> Vec<&ChunkCoverage> {
        self.chunks
            .iter()
            .filter(|c| gate.contains(&c.priority) && c.status != CoverageStatus::Covered)
            .collect()
    }

    /// The crosswalk file ([`crate::formats::Crosswalk`]): deterministic (sorted, no
    /// timestamps), pretty, newline-terminated.
    pub fn to_crosswalk_json(&self) -> String {
        use crate::formats::{Crosswalk, CrosswalkEntry, CrosswalkSummary};
        let count = |n: usize| n as u64;
        let summary = self.summary();
        let file = Crosswalk {
            version: 1,
            generated_by: "concord crosswalk".into(),
            chunks: self
                .chunks
                .iter()
                .map(|c| CrosswalkEntry {
                    blueprint_id: c.blueprint_id.clone(),
                    title: c.title.clone(),
                    priority: c.priority,
                    topic: c.topic.clone(),
                    wbs_ids: c.wbs_ids.clone(),
                    code_paths: c.code_paths.iter().cloned().collect(),
                    test_paths: c.test_paths.iter().cloned().collect(),
                    status: c.status,
                    items: c.items,
                })
                .collect(),
            summary: CrosswalkSummary {
                chunks: count(summary.chunks),
                by_status: summary.by_status.iter().map(|(s, n)| (*s, count(*n))).collect(),
                by_priority: summary
                    .by_priority
                    .iter()
                    .map(|(p, by)| (*p, by.iter().map(|(s, n)| (*s, count(*n))).collect()))
                    .collect(),
            },
        };
        let mut text = serde_json::to_string_pretty(&file).expect("coverage serializes");
        text.push('\n');
        text
    }
}

/// Per chunk, the traced items of item-level files (through work items too, when configured).
fn count_items<'f>(
    config: &Config,
    model: &Model,
    files: impl Iterator<Item = &'f FileFacts>,
) -> BTreeMap<String, ItemCounts> {
    let mut counts: BTreeMap<String, ItemCounts> = BTreeMap::new();
    for facts in files {
        for (item, traced) in facts.items.iter().zip(crate::analysis::item_traces(config, model, facts)) {
            let mut chunks: BTreeSet<&str> = BTreeSet::new();
            for id in &traced {
                match config.ids.kind_of(id) {
                    Some(IdKind::Chunk) => {
                        chunks.insert(id);
                    }
                    Some(IdKind::Work) if config.coverage_through_work_items => {
                        if let Some(w) = model.work.get(id) {
                            chunks.extend(w.blueprint_ids.iter().map(|(c, _)| c.as_str()));
                        }
                    }
                    _ => {}
                }
            }
            for chunk in chunks {
                let entry = counts.entry(chunk.to_string()).or_default();
                if item.is_test || facts.kind == FileKind::Test {
                    entry.tests += 1;
                } else {
                    entry.code += 1;
                }
            }
        }
    }
    counts
}

/// Items of item-level files: traced and untraced, code and tests apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ItemTotals {
    pub code_traced: usize,
    pub code_untraced: usize,
    pub test_traced: usize,
    pub test_untraced: usize,
}

pub fn item_totals<'f>(
    config: &Config,
    model: &Model,
    files: impl Iterator<Item = &'f FileFacts>,
) -> ItemTotals {
    let mut totals = ItemTotals::default();
    for facts in files.filter(|f| !f.items.is_empty()) {
        for (item, traced) in facts.items.iter().zip(crate::analysis::item_traces(config, model, facts)) {
            if !crate::analysis::must_trace_item(config, item) {
                continue;
            }
            let test = item.is_test || facts.kind == FileKind::Test;
            match (test, traced.is_empty()) {
                (false, false) => totals.code_traced += 1,
                (false, true) => totals.code_untraced += 1,
                (true, false) => totals.test_traced += 1,
                (true, true) => totals.test_untraced += 1,
            }
        }
    }
    totals
}
