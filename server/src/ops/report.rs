//! `concord report`: where the project stands, for its owner. One model of the report (coverage
//! by status, priority and topic with its trend, the work board, pending questions, what
//! changed since the last report, the top risks, what the loop would dispatch next, and every
//! chunk's drill-down) is built here from the workspace, the reviews and the coverage history;
//! the renderers turn it into docs/OWNER_DASHBOARD.md (`paths.owner_dashboard`). Each report
//! appends a snapshot to `ops/coverage-history.jsonl` (`paths.coverage_history`), which is what
//! the next report compares against.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analysis::Report as Analysis;
use crate::formats::{CoverageStatus, QuestionStatus};
use crate::model::{Risk, Status};
use crate::workspace::Workspace;

/// At most this many snapshots are read for the trend (the newest).
const TREND_POINTS: usize = 30;

/// One line of the history: enough to tell the next report what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub at: String,
    pub chunks: usize,
    pub by_status: BTreeMap<String, usize>,
    /// Chunks that were not `covered`.
    pub uncovered: Vec<String>,
    /// Every work item's status.
    pub items: BTreeMap<String, String>,
    /// Findings by code.
    pub findings: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub generated_at: String,
    pub chunks: usize,
    pub covered: usize,
    pub by_status: BTreeMap<String, usize>,
    /// Priority → status → chunks.
    pub by_priority: BTreeMap<String, BTreeMap<String, usize>>,
    pub topics: Vec<TopicRow>,
    /// Oldest first, this report last.
    pub trend: Vec<(String, usize, usize)>,
    pub board: Vec<BoardRow>,
    pub questions: Vec<QuestionRow>,
    pub changes: Option<Changes>,
    pub risks: Vec<String>,
    pub next: Option<String>,
    pub waiting: Vec<(String, String)>,
    pub chunk_rows: Vec<ChunkRow>,
    /// The agent loop's health ([`crate::ops::health::health`]).
    pub health: crate::formats::Health,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicRow {
    pub topic: String,
    pub chunks: usize,
    pub covered: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardRow {
    pub id: String,
    pub title: String,
    pub status: String,
    pub risk: String,
    pub autopilot: String,
    pub lock: Option<String>,
    pub attempts: i64,
    pub last_decision: Option<String>,
    /// Why it waits, in words (not dispatchable, or held by a question).
    pub waiting: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionRow {
    pub id: String,
    pub question: String,
    pub about: Vec<String>,
    pub recommended: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub since: String,
    /// (item, from, to)
    pub moved: Vec<(String, String, String)>,
    pub newly_covered: Vec<String>,
    pub newly_uncovered: Vec<String>,
    /// (code, before, now) for codes whose count changed.
    pub findings: Vec<(String, usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkRow {
    pub id: String,
    pub title: String,
    pub priority: String,
    pub topic: Option<String>,
    pub status: String,
    pub summary: String,
    pub work: Vec<String>,
    /// `path:line` of the first place tracing to the chunk, or the path alone.
    pub code: Vec<String>,
    pub tests: Vec<String>,
}

/// Build the dashboard from the workspace, its analysis, the reviews and the earlier snapshots.
pub fn build(ws: &Workspace, analysis: &Analysis, history: &[Snapshot], at: &str) -> Dashboard {
    let model = &ws.model;
    let snapshot = snapshot(ws, analysis, at);
    let status_of = |c: &crate::coverage::ChunkCoverage| c.status.as_str().to_string();
    let mut by_priority: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut topics: BTreeMap<String, TopicRow> = BTreeMap::new();
    for chunk in &analysis.coverage.chunks {
        *by_priority
            .entry(chunk.priority.as_str().into())
            .or_default()
            .entry(status_of(chunk))
            .or_default() += 1;
        let topic = chunk.topic.clone().unwrap_or_else(|| "(no topic)".into());
        let row = topics.entry(topic.clone()).or_insert(TopicRow { topic, chunks: 0, covered: 0 });
        row.chunks += 1;
        row.covered += usize::from(chunk.status == CoverageStatus::Covered);
    }
    let decisions = last_decisions(ws);
    let mut attempts: BTreeMap<&str, i64> = BTreeMap::new();
    for event in &model.queue {
        if let Some(attempt) = event.attempt {
            let most = attempts.entry(event.id.as_str()).or_default();
            *most = (*most).max(attempt);
        }
    }
    // One pass in the loop's own order: the board's rows, and the item it would dispatch next.
    let mut next = None;
    let mut board: Vec<BoardRow> = Vec::new();
    for item in crate::ops::dispatch::in_priority_order(ws) {
        let status = model.status_of(&item.id);
        let waiting = match crate::ops::dispatch::eligibility(ws, item) {
            Ok(()) => {
                next = next.or_else(|| {
                    Some(format!(
                        "{} {} (the first eligible item in phase and WBS order)",
                        item.id, item.title
                    ))
                });
                None
            }
            Err(why) if status == Status::Todo => Some(why),
            Err(_) => super::questions::pending_for(model, &item.id).filter(|_| status != Status::Done),
        };
        board.push(BoardRow {
            id: item.id.clone(),
            title: item.title.clone(),
            status: status.as_str().into(),
            risk: item.risk.as_str().into(),
            autopilot: item.autopilot.as_str().into(),
            lock: model.lock_for_task(&item.id).map(|l| l.agent.clone()),
            attempts: attempts.get(item.id.as_str()).copied().unwrap_or(0),
            last_decision: decisions.get(&item.id).map(|(verdict, _)| verdict.clone()),
            waiting,
        });
    }
    // What needs a person first: awaiting approval, then blocked, then the rest in loop order.
    let rank = |row: &BoardRow| match row.status.as_str() {
        "awaiting_approval" => 0,
        "blocked" => 1,
        _ => 2,
    };
    board.sort_by_key(rank);
    let questions = super::questions::ordered(&model.questions)
        .into_iter()
        .filter(|q| q.status == QuestionStatus::Pending)
        .map(|q| QuestionRow {
            id: q.id.clone(),
            question: q.question.clone(),
            about: q.wbs.iter().chain(&q.chunks).cloned().collect(),
            recommended: q.recommendation.as_ref().map(|r| format!("{}: {}", r.option, r.reason)),
        })
        .collect();
    let mut risks: Vec<String> = Vec::new();
    for (id, (_, decision_risks)) in &decisions {
        if model.status_of(id) == Status::Done {
            continue;
        }
        for risk in decision_risks {
            risks.push(format!("{id}: {risk}"));
        }
    }
    for item in model.work.values() {
        if matches!(item.risk, Risk::High | Risk::Critical) && model.status_of(&item.id) != Status::Done {
            risks.push(format!(
                "{} ({}) is {} risk and not done: it always stops for a person's approval.",
                item.id,
                item.title,
                item.risk.as_str()
            ));
        }
    }
    for chunk in analysis.coverage.gate_failures(&ws.config.gate) {
        risks.push(format!(
            "{} ({}, {}) is {}: the coverage gate fails on it.",
            chunk.blueprint_id,
            chunk.title,
            chunk.priority.as_str(),
            chunk.status.as_str()
        ));
    }
    let waiting = board
        .iter()
        .filter(|r| r.status == "todo")
        .filter_map(|r| Some((r.id.clone(), r.waiting.clone()?)))
        .collect();
    let files = crate::coverage::files_of(&ws.config, model, ws.facts());
    let chunk_rows = analysis
        .coverage
        .chunks
        .iter()
        .map(|c| (c, files.get(c.blueprint_id.as_str())))
        .map(|(c, files)| ChunkRow {
            id: c.blueprint_id.clone(),
            title: c.title.clone(),
            priority: c.priority.as_str().into(),
            topic: c.topic.clone(),
            status: status_of(c),
            summary: model.chunks.get(&c.blueprint_id).map(|m| m.summary.clone()).unwrap_or_default(),
            work: c.wbs_ids.clone(),
            code: files
                .into_iter()
                .flat_map(|f| &f.code)
                .map(|path| place_of(ws, path, &c.blueprint_id))
                .collect(),
            tests: files
                .into_iter()
                .flat_map(|f| &f.test)
                .map(|path| place_of(ws, path, &c.blueprint_id))
                .collect(),
        })
        .collect();
    let mut trend: Vec<(String, usize, usize)> = history
        .iter()
        .rev()
        .take(TREND_POINTS - 1)
        .rev()
        .map(|s| (s.at.clone(), s.chunks, s.by_status.get("covered").copied().unwrap_or(0)))
        .collect();
    let covered = snapshot.by_status.get("covered").copied().unwrap_or(0);
    trend.push((at.to_string(), snapshot.chunks, covered));
    Dashboard {
        generated_at: at.to_string(),
        chunks: snapshot.chunks,
        covered,
        by_status: snapshot.by_status.clone(),
        by_priority,
        topics: topics.into_values().collect(),
        trend,
        board,
        questions,
        changes: history.last().map(|before| {
            let chunks_now = analysis.coverage.chunks.iter().map(|c| c.blueprint_id.as_str()).collect();
            changes(before, &snapshot, &chunks_now)
        }),
        risks,
        next,
        waiting,
        chunk_rows,
        health: super::health::health(ws),
    }
}

/// `path:line` of the first place in `path` that traces to `chunk` (the path alone when the
/// file maps to it as a whole, by scope or by the crosswalk).
fn place_of(ws: &Workspace, path: &str, chunk: &str) -> String {
    let line = ws
        .files
        .get(path)
        .and_then(|facts| facts.refs.iter().find(|r| r.traces && *r.id == *chunk))
        .map(|r| r.span.start.line + 1);
    match line {
        Some(line) => format!("{path}:{line}"),
        None => path.to_string(),
    }
}

/// This moment's snapshot, for the history.
pub fn snapshot(ws: &Workspace, analysis: &Analysis, at: &str) -> Snapshot {
    let mut by_status = BTreeMap::new();
    let mut uncovered = Vec::new();
    for chunk in &analysis.coverage.chunks {
        *by_status.entry(chunk.status.as_str().to_string()).or_default() += 1;
        if chunk.status != CoverageStatus::Covered {
            uncovered.push(chunk.blueprint_id.clone());
        }
    }
    let mut findings = BTreeMap::new();
    for finding in &analysis.findings {
        *findings.entry(finding.code.as_str().to_string()).or_default() += 1;
    }
    Snapshot {
        at: at.to_string(),
        chunks: analysis.coverage.chunks.len(),
        by_status,
        uncovered,
        items: ws
            .model
            .work
            .keys()
            .map(|id| (id.clone(), ws.model.status_of(id).as_str().to_string()))
            .collect(),
        findings,
    }
}

fn changes(before: &Snapshot, now: &Snapshot, chunks_now: &std::collections::BTreeSet<&str>) -> Changes {
    let was_uncovered: std::collections::BTreeSet<&String> = before.uncovered.iter().collect();
    let is_uncovered: std::collections::BTreeSet<&String> = now.uncovered.iter().collect();
    let moved = now
        .items
        .iter()
        .filter_map(|(id, status)| {
            let from = before.items.get(id).cloned().unwrap_or_else(|| "(new)".into());
            (from != *status).then(|| (id.clone(), from, status.clone()))
        })
        .collect();
    let mut codes: std::collections::BTreeSet<&String> = before.findings.keys().collect();
    codes.extend(now.findings.keys());
    Changes {
        since: before.at.clone(),
        moved,
        // A chunk removed from the spec since counts as neither; a new one not yet covered is
        // newly uncovered.
        newly_covered: was_uncovered
            .difference(&is_uncovered)
            .filter(|id| chunks_now.contains(id.as_str()))
            .map(|s| s.to_string())
            .collect(),
        newly_uncovered: is_uncovered.difference(&was_uncovered).map(|s| s.to_string()).collect(),
        findings: codes
            .into_iter()
            .filter_map(|code| {
                let (a, b) = (
                    before.findings.get(code).copied().unwrap_or(0),
                    now.findings.get(code).copied().unwrap_or(0),
                );
                (a != b).then(|| (code.clone(), a, b))
            })
            .collect(),
    }
}

/// The newest review decision of each item: its verdict and its risks in words.
fn last_decisions(ws: &Workspace) -> BTreeMap<String, (String, Vec<String>)> {
    let dir = ws.root.join(&ws.config.paths.reviews_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else { return BTreeMap::new() };
    let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json") && !p.to_string_lossy().ends_with(".gates.json")
        })
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    files.sort();
    let mut out = BTreeMap::new();
    for (_, path) in files {
        let Ok(bytes) = crate::fsutil::read_regular(&path, ws.config.max_file_size) else { continue };
        let Ok(decision) = serde_json::from_slice::<Value>(&bytes) else { continue };
        let Some(id) = decision["wbs_id"].as_str() else { continue };
        let verdict = decision["decision"].as_str().unwrap_or("?").to_string();
        let risks = decision["risks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| matches!(r["severity"].as_str(), Some("high" | "critical")))
            .filter_map(|r| Some(format!("{} ({})", r["description"].as_str()?, r["severity"].as_str()?)))
            .collect();
        out.insert(id.to_string(), (verdict, risks));
    }
    out
}

/// The history's snapshots, oldest first; lines that do not read are skipped.
pub fn read_history(ws: &Workspace) -> Vec<Snapshot> {
    let text = crate::fsutil::read_text_in_workspace(
        &ws.root,
        &ws.config.paths.coverage_history,
        ws.config.max_file_size,
    )
    .ok()
    .flatten()
    .unwrap_or_default();
    crate::model::reader::jsonl_lines(&text).filter_map(|l| serde_json::from_str(l.text).ok()).collect()
}

/// How a page in `dir` links to the workspace's files: relative when `dir` is inside the
/// workspace (the report can move with it), else the root's `file://` URL.
fn root_href(root: &std::path::Path, dir: &std::path::Path) -> String {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let _ = std::fs::create_dir_all(dir);
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    match dir.strip_prefix(&root) {
        Ok(inside) => "../".repeat(inside.components().count()),
        Err(_) => format!("file://{}/", root.display()),
    }
}

/// Where the HTML report goes unless `-o DIR` says otherwise (local, not committed).
pub const HTML_DIR: &str = ".concord/report";

/// Build the dashboard, write docs/OWNER_DASHBOARD.md and, with `html`, `index.html` in
/// `html_dir` (default [`HTML_DIR`]); then append this snapshot to the history.
pub fn report(ws: &Workspace, html: bool, html_dir: Option<&std::path::Path>) -> Result<String, String> {
    let analysis = crate::analysis::analyze(ws);
    let history = read_history(ws);
    let at = crate::time::format_rfc3339(crate::time::now_secs());
    let dashboard = build(ws, &analysis, &history, &at);
    let (dashboard_rel, history_rel) = (&ws.config.paths.owner_dashboard, &ws.config.paths.coverage_history);
    // The dashboard links to files relative to itself (it is committed; no absolute path).
    let depth = std::path::Path::new(dashboard_rel).parent().map_or(0, |p| p.components().count());
    let markdown = crate::render::dashboard::markdown(&dashboard, &"../".repeat(depth));
    crate::fsutil::write_in_workspace(&ws.root, dashboard_rel, markdown.as_bytes())
        .map_err(|e| format!("cannot write {dashboard_rel}: {e}"))?;
    let mut written = dashboard_rel.clone();
    if html {
        let root_href = match html_dir {
            Some(dir) => root_href(&ws.root, dir),
            None => "../".repeat(HTML_DIR.split('/').count()),
        };
        // The local page may also open a place in the editor, which needs the absolute path.
        let root = ws.root.canonicalize().unwrap_or_else(|_| ws.root.clone());
        let page = crate::render::html::html(&dashboard, &root_href, &root.display().to_string());
        let path = match html_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let path = dir.join("index.html");
                crate::fsutil::write_atomic(&path, page.as_bytes())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                path.display().to_string()
            }
            None => {
                let rel = format!("{HTML_DIR}/index.html");
                crate::fsutil::write_in_workspace(&ws.root, &rel, page.as_bytes())
                    .map_err(|e| format!("cannot write {rel}: {e}"))?;
                rel
            }
        };
        written = format!("{written} and {path} ({} KB)", page.len() / 1024);
    }
    let line = serde_json::to_string(&snapshot(ws, &analysis, &at)).expect("a snapshot serializes");
    crate::fsutil::append_line_in_workspace(&ws.root, history_rel, &line)
        .map_err(|e| format!("cannot write {history_rel}: {e}"))?;
    Ok(format!(
        "wrote {written}: {} of {} chunks covered, {} work items, {} owner question(s) pending; appended to {history_rel}",
        dashboard.covered,
        dashboard.chunks,
        dashboard.board.len(),
        dashboard.questions.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(
        at: &str,
        uncovered: &[&str],
        items: &[(&str, &str)],
        findings: &[(&str, usize)],
    ) -> Snapshot {
        Snapshot {
            at: at.into(),
            chunks: 3,
            by_status: BTreeMap::new(),
            uncovered: uncovered.iter().map(|s| s.to_string()).collect(),
            items: items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            findings: findings.iter().map(|(a, b)| (a.to_string(), *b)).collect(),
        }
    }

    #[test]
    fn what_changed_between_two_snapshots() {
        let before = snapshot(
            "t1",
            &["TD-1", "TD-2", "TD-9"],
            &[("WBS-1", "todo"), ("WBS-2", "review")],
            &[("unknown-id", 2)],
        );
        let now = snapshot(
            "t2",
            &["TD-2", "TD-3"],
            &[("WBS-1", "in_progress"), ("WBS-2", "review"), ("WBS-3", "todo")],
            &[("unknown-id", 2), ("secret", 1)],
        );
        // TD-9 left the spec: it is not "newly covered".
        let chunks_now = ["TD-1", "TD-2", "TD-3"].into_iter().collect();
        let c = changes(&before, &now, &chunks_now);
        assert_eq!(c.since, "t1");
        assert_eq!(
            c.moved,
            [
                ("WBS-1".into(), "todo".into(), "in_progress".into()),
                ("WBS-3".into(), "(new)".into(), "todo".into())
            ]
        );
        assert_eq!(c.newly_covered, ["TD-1"]);
        assert_eq!(c.newly_uncovered, ["TD-3"]);
        assert_eq!(c.findings, [("secret".into(), 0, 1)]);
    }
}
