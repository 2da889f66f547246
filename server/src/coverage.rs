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
    /// How many code and test files trace the chunk. The files themselves are not kept (a
    /// million chunk-file pairs at 100,000 files, most of a language server's memory):
    /// [`files_of`] makes them when they are asked for.
    pub code_files: usize,
    pub test_files: usize,
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

/// What one file adds to the coverage: the chunks it traces (as code or as a test, by its
/// kind), and its traced items per chunk. The coverage is the sum of these over the files, so a
/// changed file changes it by its old and new contributions alone.
struct Contribution<'m> {
    /// The file is a test file (else code); `None`: it counts for no chunk (docs, others).
    test: Option<bool>,
    chunks: BTreeSet<&'m str>,
    items: BTreeMap<&'m str, ItemCounts>,
}

/// Whether `facts` is a test file (else code; `None`: it counts for no chunk), and the chunks
/// it traces.
fn traced_chunks<'m>(
    config: &Config,
    model: &'m Model,
    facts: &FileFacts,
) -> (Option<bool>, BTreeSet<&'m str>) {
    let test = match facts.kind {
        FileKind::Code => Some(false),
        FileKind::Test => Some(true),
        FileKind::Doc | FileKind::Other => None,
    };
    let mut chunks: BTreeSet<&'m str> = BTreeSet::new();
    if test.is_some() {
        for reference in facts.refs.iter().filter(|r| r.traces) {
            chunks.extend(chunks_of(config, model, reference.id));
        }
    }
    (test, chunks)
}

/// The code and test files that trace a chunk, by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChunkFiles<'f> {
    pub code: BTreeSet<&'f str>,
    pub test: BTreeSet<&'f str>,
}

/// The files that trace each chunk (the chunks traced by none are absent): what the coverage
/// counts, made from the files' facts when a crosswalk, a report or a tool needs the paths.
pub fn files_of<'m, 'f>(
    config: &Config,
    model: &'m Model,
    files: impl Iterator<Item = &'f FileFacts>,
) -> BTreeMap<&'m str, ChunkFiles<'f>> {
    let mut out: BTreeMap<&'m str, ChunkFiles<'f>> = BTreeMap::new();
    for facts in files {
        let (test, chunks) = traced_chunks(config, model, facts);
        for chunk in chunks {
            let entry = out.entry(chunk).or_default();
            let paths = if test == Some(true) { &mut entry.test } else { &mut entry.code };
            paths.insert(facts.path.as_str());
        }
    }
    out
}

fn contribution<'m>(config: &Config, model: &'m Model, facts: &FileFacts) -> Contribution<'m> {
    let (test, chunks) = traced_chunks(config, model, facts);
    let mut items: BTreeMap<&'m str, ItemCounts> = BTreeMap::new();
    if !facts.items.is_empty() {
        for (item, traced) in facts.items.iter().zip(crate::analysis::item_traces(config, model, facts)) {
            let mut traced_chunks: BTreeSet<&'m str> = BTreeSet::new();
            for id in &traced {
                traced_chunks.extend(chunks_of(config, model, id));
            }
            for chunk in traced_chunks {
                let entry = items.entry(chunk).or_default();
                if item.is_test || facts.kind == FileKind::Test {
                    entry.tests += 1;
                } else {
                    entry.code += 1;
                }
            }
        }
    }
    Contribution { test, chunks, items }
}

/// The known chunks an ID stands for: itself, or (when configured) a work item's chunks.
fn chunks_of<'m>(config: &Config, model: &'m Model, id: &str) -> Vec<&'m str> {
    match config.ids.kind_of(id) {
        Some(IdKind::Chunk) => {
            model.chunks.get_key_value(id).map(|(key, _)| key.as_str()).into_iter().collect()
        }
        Some(IdKind::Work) if config.coverage_through_work_items => model
            .work
            .get(id)
            .map(|w| {
                w.blueprint_ids
                    .iter()
                    .filter_map(|(c, _)| model.chunks.get_key_value(c.as_str()).map(|(key, _)| key.as_str()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

pub fn compute<'f>(config: &Config, model: &Model, files: impl Iterator<Item = &'f FileFacts>) -> Coverage {
    let mut wbs: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for item in model.work.values() {
        for (chunk_id, _) in &item.blueprint_ids {
            let ids = wbs.entry(chunk_id.as_str()).or_default();
            if !ids.contains(&item.id) {
                ids.push(item.id.clone());
            }
        }
    }
    let mut coverage = Coverage {
        chunks: model
            .chunks
            .values()
            .map(|chunk| ChunkCoverage {
                blueprint_id: chunk.id.clone(),
                title: chunk.title.clone(),
                priority: chunk.priority,
                topic: chunk.topic.clone(),
                wbs_ids: wbs.remove(chunk.id.as_str()).unwrap_or_default(),
                code_files: 0,
                test_files: 0,
                status: CoverageStatus::MissingWbs,
                items: ItemCounts::default(),
            })
            .collect(),
    };
    for facts in files {
        coverage.add(&contribution(config, model, facts), 1);
    }
    coverage.settle();
    coverage
}

impl Coverage {
    /// The coverage after files changed (the model is the same): `before` are the files' old
    /// facts, `after` their new ones (a deleted file is in `before` only, a new one in `after`).
    pub fn after_files_changed(
        &self,
        config: &Config,
        model: &Model,
        before: &[&FileFacts],
        after: &[&FileFacts],
    ) -> Coverage {
        let mut next = self.clone();
        for facts in before {
            next.add(&contribution(config, model, facts), -1);
        }
        for facts in after {
            next.add(&contribution(config, model, facts), 1);
        }
        next.settle();
        next
    }

    /// Add (`sign` 1) or take away (-1) one file's contribution.
    fn add(&mut self, contribution: &Contribution, sign: i8) {
        let at = |chunk: &str| self.chunks.binary_search_by(|c| c.blueprint_id.as_str().cmp(chunk)).ok();
        let mut touched: Vec<(usize, Option<ItemCounts>)> = Vec::new();
        if contribution.test.is_some() {
            for chunk in &contribution.chunks {
                if let Some(i) = at(chunk) {
                    touched.push((i, None));
                }
            }
        }
        for (chunk, counts) in &contribution.items {
            if let Some(i) = at(chunk) {
                touched.push((i, Some(*counts)));
            }
        }
        for (i, counts) in touched {
            let entry = &mut self.chunks[i];
            match counts {
                None => {
                    let count = if contribution.test == Some(true) {
                        &mut entry.test_files
                    } else {
                        &mut entry.code_files
                    };
                    *count = if sign > 0 { *count + 1 } else { count.saturating_sub(1) };
                }
                Some(counts) if sign > 0 => {
                    entry.items.code += counts.code;
                    entry.items.tests += counts.tests;
                }
                Some(counts) => {
                    entry.items.code = entry.items.code.saturating_sub(counts.code);
                    entry.items.tests = entry.items.tests.saturating_sub(counts.tests);
                }
            }
        }
    }

    /// Every chunk's status from its work items, code and tests.
    fn settle(&mut self) {
        for chunk in &mut self.chunks {
            chunk.status = if chunk.wbs_ids.is_empty() {
                CoverageStatus::MissingWbs
            } else if chunk.code_files == 0 {
                CoverageStatus::MissingCode
            } else if chunk.test_files == 0 {
                CoverageStatus::MissingTests
            } else {
                CoverageStatus::Covered
            };
        }
    }

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

    /// The crosswalk file ([`crate::formats::Crosswalk`]), with the paths `files` (see
    /// [`files_of`]): deterministic (sorted, no timestamps), pretty, newline-terminated.
    pub fn to_crosswalk_json(&self, files: &BTreeMap<&str, ChunkFiles>) -> String {
        use crate::formats::{Crosswalk, CrosswalkEntry, CrosswalkSummary};
        let count = |n: usize| n as u64;
        let summary = self.summary();
        let file = Crosswalk {
            version: 1,
            generated_by: "concord crosswalk".into(),
            chunks: self
                .chunks
                .iter()
                .map(|c| {
                    let paths = files.get(c.blueprint_id.as_str());
                    let listed = |set: Option<&BTreeSet<&str>>| {
                        set.into_iter().flatten().map(|path| path.to_string()).collect()
                    };
                    CrosswalkEntry {
                        blueprint_id: c.blueprint_id.clone(),
                        title: c.title.clone(),
                        priority: c.priority,
                        topic: c.topic.clone(),
                        wbs_ids: c.wbs_ids.clone(),
                        code_paths: listed(paths.map(|p| &p.code)),
                        test_paths: listed(paths.map(|p| &p.test)),
                        status: c.status,
                        items: c.items,
                    }
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
