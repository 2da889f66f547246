//! `concord plan`: work items proposed for the spec chunks no work item lists. The primary
//! decider proposes them under a strict schema, in batches of chunks; the assistant manager
//! criticises the whole set; Concord checks it itself (chunks left out, scopes overlapping
//! other items). The result is a proposal file and one owner question, never a change to the
//! WBS: `concord plan accept P-0001` (or answering the question `A`) appends the items, checked
//! again against the WBS as it is then; `plan reject` (or `B`) records the refusal.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::journal::{self, Plan as JournalPlan};
use super::llm;
use super::questions::{self, Ask};
use crate::config::Priority;
use crate::formats::{Critique, Proposal, ProposalStatus, ProposedWorkItem, QuestionStatus};
use crate::ids::IdKind;
use crate::workspace::Workspace;

/// Which chunks to plan for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every chunk no work item lists.
    Uncovered,
    /// Those of one topic.
    Topic(String),
    /// These chunks, each of which must have no work item.
    Ids(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub selection: Selection,
    /// Chunks per request to the primary decider (default `[plan] chunks_per_call`).
    pub chunks_per_call: Option<usize>,
    /// Chunks in this run (default `[plan] max_chunks`).
    pub max_chunks: Option<usize>,
    /// Print what would be sent; send and write nothing.
    pub dry_run: bool,
}

const DECIDER_SYSTEM: &str = "You are the primary decider planning work for AI coding agents. For the spec chunks given, propose work items an agent can finish in one run: each implements one or more of the chunks (only IDs from the list), names the files it may change as workspace-relative globs (no `..`, no absolute paths), has acceptance criteria a reviewer can check and test commands that prove them. Give payments, security, authentication, personal data and deletion high or critical risk. Depend on existing work items by ID, or on items of your answer by their `ref`.";
const CRITIC_SYSTEM: &str = "You are the assistant manager criticising a proposed work breakdown before the owner sees it. Be paranoid: name chunks that no item really implements, scopes that are too broad or touch risky areas, and scopes that overlap each other or existing work. Recommend accept, revise or reject.";

/// Plan, or with `dry_run` show what would be sent.
pub fn plan(ws: &Workspace, request: &Request) -> Result<String, String> {
    let selected = select(ws, &request.selection)?;
    let max = request.max_chunks.unwrap_or(ws.config.plan.max_chunks).max(1);
    let per_call = request.chunks_per_call.unwrap_or(ws.config.plan.chunks_per_call).max(1);
    let waiting = selected.len().saturating_sub(max);
    let chunks: Vec<&str> = selected.into_iter().take(max).collect();
    if chunks.is_empty() {
        return Ok("nothing to plan: every selected chunk has a work item or a pending proposal".into());
    }
    let batches: Vec<&[&str]> = chunks.chunks(per_call).collect();
    let later = if waiting > 0 {
        format!(" ({waiting} more wait for the next run: the budget is {max} chunks a run)")
    } else {
        String::new()
    };
    let review = &ws.config.review;
    if request.dry_run {
        let mut out = format!(
            "--dry-run: {} request(s) to the primary decider ({} at {}) for {} chunk(s){later}, then one to the assistant manager ({} at {}); nothing is sent or written.\n",
            batches.len(),
            review.openai_model,
            review.openai_base_url,
            chunks.len(),
            review.anthropic_model,
            review.anthropic_base_url
        );
        for (n, batch) in batches.iter().enumerate() {
            out.push_str(&format!(
                "\n=== request {} of {} ===\n[system]\n{DECIDER_SYSTEM}\n[user]\n{}\n",
                n + 1,
                batches.len(),
                decider_prompt(ws, batch)
            ));
        }
        return Ok(super::scrub::text(&out));
    }

    let deadline = || Instant::now() + Duration::from_secs(ws.config.llm_timeout_secs);
    let decider = llm::endpoint(&review.openai_base_url, &review.openai_model, &review.openai_key_env);
    let critic =
        llm::endpoint(&review.anthropic_base_url, &review.anthropic_model, &review.anthropic_key_env);
    let mut ids = IdAllocator::new(ws);
    let mut items: Vec<ProposedWorkItem> = Vec::new();
    // Refs of earlier batches, so a later batch may depend on them.
    let mut refs: BTreeMap<String, String> = BTreeMap::new();
    let schema = decider_schema();
    for (n, batch) in batches.iter().enumerate() {
        let prompt = decider_prompt(ws, batch);
        let answer = llm::ask_twice(
            || {
                llm::openai_json(
                    &decider,
                    &review.openai_api,
                    DECIDER_SYSTEM,
                    &prompt,
                    "work_items",
                    &schema,
                    deadline(),
                )
            },
            |v| llm::validate(&schema, v, "proposal").and_then(|_| check_answer(ws, batch, &refs, v)),
        )
        .map_err(|e| {
            format!(
                "the primary decider failed twice on request {} of {}: {e}; nothing was written",
                n + 1,
                batches.len()
            )
        })?;
        let proposed = answer["items"].as_array().cloned().unwrap_or_default();
        for item in &proposed {
            refs.insert(item["ref"].as_str().unwrap_or_default().to_string(), ids.next()?);
        }
        for item in &proposed {
            items.push(to_work_item(item, &refs));
        }
    }

    let critique_schema = critique_schema();
    let critique_prompt = critique_prompt(ws, &chunks, &items);
    let critique = llm::ask_twice(
        || {
            llm::anthropic_json(
                &critic,
                CRITIC_SYSTEM,
                &critique_prompt,
                "proposal_critique",
                &critique_schema,
                deadline(),
            )
        },
        |v| llm::validate(&critique_schema, v, "critique"),
    )
    .map_err(|e| format!("the assistant manager failed twice: {e}; nothing was written"))?;
    let critique: Critique = serde_json::from_value(critique)
        .map_err(|e| format!("the critique does not read: {e}; nothing was written"))?;

    let checks = own_checks(ws, &chunks, &items);
    let id = next_proposal_id(ws)?;
    let covered = items.iter().flat_map(|i| i.blueprint_ids.iter()).collect::<BTreeSet<_>>().len();
    let accept = critique.recommendation == crate::formats::CritiqueVerdict::Accept && checks.is_empty();
    // Concord's own findings come first in the reason: they are facts, the critique an opinion.
    let why = if checks.is_empty() {
        critique.reason.clone()
    } else {
        format!("{} {}", checks.join(" "), critique.reason)
    };
    let question = questions::ask(
        ws,
        &Ask {
            question: format!(
                "Add the {} work item(s) of proposal {id} ({}) to the WBS, for {} spec chunk(s)?",
                items.len(),
                items.iter().map(|i| format!("{} {}", i.id, i.title)).collect::<Vec<_>>().join("; "),
                covered
            ),
            options: vec![
                format!("Accept: append them to {} as proposed.", ws.config.paths.wbs),
                "Reject: keep the WBS as it is; the chunks stay without work items.".into(),
            ],
            recommend: Some((if accept { "A" } else { "B" }.into(), why)),
            chunks: chunks.iter().map(|c| c.to_string()).collect(),
            topic: match &request.selection {
                Selection::Topic(topic) => Some(topic.clone()),
                _ => None,
            },
            asked_by: "planner".into(),
            proposal: Some(id.clone()),
            ..Ask::default()
        },
    )?;
    let proposal = Proposal {
        id: id.clone(),
        status: ProposalStatus::Pending,
        created_at: crate::time::format_rfc3339(crate::time::now_secs()),
        chunks: chunks.iter().map(|c| c.to_string()).collect(),
        items,
        critique,
        checks,
        question: question.id.clone(),
        models: vec![
            format!("openai:{}", review.openai_model),
            format!("anthropic:{}", review.anthropic_model),
        ],
        decided_by: None,
        decided_at: None,
    };
    if let Err(e) = write_proposal(ws, &proposal) {
        let _ = questions::withdraw(ws, &question.id, "concord", Some("the proposal could not be written"));
        return Err(e);
    }
    Ok(format!(
        "proposal {id}: {} work item(s) for {} of {} chunk(s){later}; the assistant manager recommends {}{}. Written to {}/{id}.json; the owner decides with `concord answer {} A` (accept) or `B` (reject).",
        proposal.items.len(),
        covered,
        chunks.len(),
        verdict_name(proposal.critique.recommendation),
        if proposal.checks.is_empty() { String::new() } else { format!("; Concord's checks: {}", proposal.checks.join(" ")) },
        ws.config.paths.proposals_dir,
        question.id
    ))
}

/// The chunks to plan for, must first, then by ID.
fn select<'w>(ws: &'w Workspace, selection: &Selection) -> Result<Vec<&'w str>, String> {
    let pending: BTreeSet<String> = proposals(ws)?
        .into_iter()
        .filter(|p| p.status == ProposalStatus::Pending)
        .flat_map(|p| p.chunks)
        .collect();
    let uncovered = |id: &str| ws.model.work_for_chunk(id).next().is_none();
    let mut chosen: Vec<&str> = match selection {
        Selection::Ids(ids) => {
            let mut out = Vec::new();
            for id in ids {
                let Some((known, _)) = ws.model.chunks.get_key_value(id.as_str()) else {
                    return Err(format!("{id} is not a chunk of the spec"));
                };
                if !uncovered(id) {
                    let items: Vec<&str> = ws.model.work_for_chunk(id).map(|w| w.id.as_str()).collect();
                    return Err(format!(
                        "{id} already has work items ({}): nothing to plan",
                        items.join(", ")
                    ));
                }
                if pending.contains(id) {
                    return Err(format!("{id} is in a pending proposal already; accept or reject it first"));
                }
                out.push(known.as_str());
            }
            out
        }
        Selection::Uncovered | Selection::Topic(_) => ws
            .model
            .chunks
            .values()
            .filter(|c| match selection {
                Selection::Topic(topic) => c.topic.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(topic)),
                _ => true,
            })
            .filter(|c| uncovered(&c.id) && !pending.contains(&c.id))
            .map(|c| c.id.as_str())
            .collect(),
    };
    let rank = |id: &str| match ws.model.chunks.get(id).map(|c| c.priority) {
        Some(Priority::Must) => 0,
        Some(Priority::Should) => 1,
        _ => 2,
    };
    chosen.sort_by(|a, b| (rank(a), *a).cmp(&(rank(b), *b)));
    chosen.dedup();
    Ok(chosen)
}

fn decider_prompt(ws: &Workspace, batch: &[&str]) -> String {
    let mut out = String::from("## Spec chunks that no work item covers yet\n");
    for id in batch {
        let Some(chunk) = ws.model.chunks.get(*id) else { continue };
        out.push_str(&format!(
            "- {id} [{}] {}{}{}: {}\n",
            chunk.priority.as_str(),
            chunk.title,
            chunk.topic.as_deref().map(|t| format!(" (topic: {t})")).unwrap_or_default(),
            chunk.source.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
            chunk_text(ws, chunk)
        ));
    }
    out.push_str("\n## Existing work items (do not duplicate them; depend on them where needed)\n");
    const MAX_LISTED: usize = 300;
    for item in ws.model.work.values().take(MAX_LISTED) {
        let chunks: Vec<&str> = item.blueprint_ids.iter().map(|(b, _)| b.as_str()).collect();
        out.push_str(&format!(
            "- {} ({}) {}: scope {}; chunks {}\n",
            item.id,
            ws.model.status_of(&item.id).as_str(),
            item.title,
            item.scope_paths.join(", "),
            chunks.join(", ")
        ));
    }
    if ws.model.work.len() > MAX_LISTED {
        out.push_str(&format!("- ... and {} more\n", ws.model.work.len() - MAX_LISTED));
    }
    let phases: BTreeSet<&str> = ws.model.work.values().filter_map(|w| w.phase.as_deref()).collect();
    if !phases.is_empty() {
        out.push_str(&format!("\nPhases in use: {}\n", phases.into_iter().collect::<Vec<_>>().join(", ")));
    }
    let folders: BTreeSet<&str> =
        ws.files.keys().filter_map(|p| p.split_once('/').map(|(top, _)| top)).collect();
    out.push_str(&format!(
        "\nTop-level folders of the workspace: {}\n",
        folders.into_iter().take(60).collect::<Vec<_>>().join(", ")
    ));
    out
}

/// What the models read of a chunk: its summary, or (a chunk the index does not summarise) the
/// first sentences of its markdown section.
fn chunk_text(ws: &Workspace, chunk: &crate::model::Chunk) -> String {
    if !chunk.summary.trim().is_empty() {
        return chunk.summary.clone();
    }
    let Some(heading) = &chunk.heading else { return String::new() };
    let text = crate::fsutil::read_text_in_workspace(&ws.root, &heading.path, ws.config.max_file_size);
    let Ok(Some(text)) = text else { return String::new() };
    let body = crate::model::fingerprint::section_body(&text, heading.span.start.line as usize);
    super::ingest::summary_of(body)
}

fn decider_schema() -> Value {
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    json!({
        "type": "object", "additionalProperties": false, "required": ["items"],
        "properties": { "items": { "type": "array", "items": {
            "type": "object", "additionalProperties": false,
            "required": ["ref", "title", "phase", "blueprint_ids", "scope_paths", "acceptance_criteria", "test_commands", "risk_level", "autopilot_mode", "depends_on"],
            "properties": {
                "ref": { "type": "string" }, "title": { "type": "string" }, "phase": { "type": "string" },
                "blueprint_ids": strings, "scope_paths": strings, "acceptance_criteria": strings,
                "test_commands": strings,
                "risk_level": { "type": "string", "enum": ["low", "medium", "high", "critical"] },
                "autopilot_mode": { "type": "string", "enum": ["full", "review_only", "disabled"] },
                "depends_on": strings
            }
        }}}
    })
}

fn critique_schema() -> Value {
    let concerns = json!({ "type": "array", "items": {
        "type": "object", "additionalProperties": false, "required": ["item", "concern"],
        "properties": { "item": { "type": "string" }, "concern": { "type": "string" } }
    }});
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["recommendation", "reason", "missing_chunks", "risky_scopes", "overlapping_scopes"],
        "properties": {
            "recommendation": { "type": "string", "enum": ["accept", "revise", "reject"] },
            "reason": { "type": "string" },
            "missing_chunks": { "type": "array", "items": { "type": "string" } },
            "risky_scopes": concerns, "overlapping_scopes": concerns
        }
    })
}

/// What the schema cannot say: chunk IDs from the batch only, refs unique, scopes inside the
/// workspace and valid, dependencies that exist.
fn check_answer(
    ws: &Workspace,
    batch: &[&str],
    earlier: &BTreeMap<String, String>,
    answer: &Value,
) -> Result<(), String> {
    let items = answer["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        return Err("the proposal has no work items".into());
    }
    let refs: Vec<&str> = items.iter().filter_map(|i| i["ref"].as_str()).collect();
    for (n, item) in items.iter().enumerate() {
        let at = format!("items[{n}]");
        let text = |key: &str| item[key].as_str().unwrap_or_default().trim().to_string();
        if text("title").is_empty() || text("ref").is_empty() {
            return Err(format!("{at}: `title` and `ref` must not be empty"));
        }
        if refs.iter().filter(|r| **r == item["ref"]).count() > 1 || earlier.contains_key(&text("ref")) {
            return Err(format!("{at}: ref {:?} is used twice", text("ref")));
        }
        let list = |key: &str| -> Vec<String> {
            item[key].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
        };
        let chunks = list("blueprint_ids");
        if chunks.is_empty() {
            return Err(format!("{at}: `blueprint_ids` is empty; every item implements a chunk"));
        }
        if let Some(other) = chunks.iter().find(|c| !batch.contains(&c.as_str())) {
            return Err(format!("{at}: {other} is not one of the chunks given ({})", batch.join(", ")));
        }
        let scope = list("scope_paths");
        if scope.is_empty() {
            return Err(format!("{at}: `scope_paths` is empty"));
        }
        for glob in &scope {
            if let Some(why) = outside_workspace(glob) {
                return Err(format!("{at}: scope {glob:?} {why}"));
            }
            globset::Glob::new(glob).map_err(|e| format!("{at}: scope {glob:?} is not a glob: {e}"))?;
        }
        for dependency in list("depends_on") {
            let known = ws.model.work.contains_key(&dependency)
                || refs.contains(&dependency.as_str())
                || earlier.contains_key(&dependency)
                || earlier.values().any(|id| *id == dependency);
            if !known {
                return Err(format!(
                    "{at}: depends on {dependency}, which is neither a work item nor a ref of this answer"
                ));
            }
        }
    }
    Ok(())
}

/// Why a scope glob does not stay inside the workspace, if it does not.
fn outside_workspace(glob: &str) -> Option<&'static str> {
    if glob.starts_with('/') || glob.starts_with('\\') || glob.get(1..2) == Some(":") {
        return Some("is absolute; scopes are relative to the workspace root");
    }
    if glob.split(['/', '\\']).any(|segment| segment == "..") {
        return Some("leaves the workspace (`..`)");
    }
    None
}

fn to_work_item(item: &Value, refs: &BTreeMap<String, String>) -> ProposedWorkItem {
    let list = |key: &str| -> Vec<String> {
        item[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_string())
            .collect()
    };
    let id = refs.get(item["ref"].as_str().unwrap_or_default()).cloned().unwrap_or_default();
    ProposedWorkItem {
        id,
        title: item["title"].as_str().unwrap_or_default().trim().to_string(),
        phase: item["phase"].as_str().unwrap_or_default().trim().to_string(),
        blueprint_ids: list("blueprint_ids"),
        scope_paths: list("scope_paths"),
        acceptance_criteria: list("acceptance_criteria"),
        test_commands: list("test_commands"),
        risk_level: serde_json::from_value(item["risk_level"].clone()).unwrap_or(crate::model::Risk::High),
        autopilot_mode: serde_json::from_value(item["autopilot_mode"].clone())
            .unwrap_or(crate::model::Autopilot::ReviewOnly),
        depends_on: list("depends_on").into_iter().map(|d| refs.get(&d).cloned().unwrap_or(d)).collect(),
    }
}

fn critique_prompt(ws: &Workspace, chunks: &[&str], items: &[ProposedWorkItem]) -> String {
    let mut out = String::from("## Chunks sent for planning\n");
    for id in chunks {
        if let Some(chunk) = ws.model.chunks.get(*id) {
            out.push_str(&format!(
                "- {id} [{}] {}: {}\n",
                chunk.priority.as_str(),
                chunk.title,
                chunk_text(ws, chunk)
            ));
        }
    }
    out.push_str("\n## Proposed work items\n");
    out.push_str(&serde_json::to_string_pretty(items).unwrap_or_default());
    out.push_str("\n\n## Existing work items and their scopes\n");
    for item in ws.model.work.values().take(300) {
        out.push_str(&format!("- {} {}: {}\n", item.id, item.title, item.scope_paths.join(", ")));
    }
    out
}

/// Concord's own checks of a proposal against the WBS as it is: chunks no item lists, scopes
/// that overlap an unfinished item's or each other's. Each is a sentence.
fn own_checks(ws: &Workspace, chunks: &[&str], items: &[ProposedWorkItem]) -> Vec<String> {
    let mut out = Vec::new();
    let listed: BTreeSet<&str> =
        items.iter().flat_map(|i| i.blueprint_ids.iter().map(String::as_str)).collect();
    let left: Vec<&str> = chunks.iter().copied().filter(|c| !listed.contains(c)).collect();
    if !left.is_empty() {
        out.push(format!("No proposed item lists {}.", left.join(", ")));
    }
    out.extend(overlaps(ws, items));
    out
}

/// Scope overlaps of proposed items with unfinished work items and with each other: two agents
/// could not hold both locks at once.
fn overlaps(ws: &Workspace, items: &[ProposedWorkItem]) -> Vec<String> {
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        for existing in ws.model.work.values() {
            if ws.model.status_of(&existing.id) == crate::model::Status::Done {
                continue;
            }
            if let Some((a, b)) = crate::globs::first_overlap(&item.scope_paths, &existing.scope_paths) {
                out.push(format!("{}'s scope {a} overlaps {}'s {b}.", item.id, existing.id));
            }
        }
        for other in &items[n + 1..] {
            if let Some((a, b)) = crate::globs::first_overlap(&item.scope_paths, &other.scope_paths) {
                out.push(format!("{}'s scope {a} overlaps {}'s {b}.", item.id, other.id));
            }
        }
    }
    out
}

/// The next free IDs of the work-item family: after the highest number in use, with its width.
struct IdAllocator {
    prefix: String,
    width: usize,
    next: u64,
    taken: BTreeSet<String>,
    ids: crate::ids::IdMatcher,
}

impl IdAllocator {
    fn new(ws: &Workspace) -> IdAllocator {
        let family = ws.config.ids.families().iter().find(|f| f.kind == IdKind::Work).map(|f| f.name.clone());
        let prefix = format!("{}-", family.unwrap_or_else(|| "WBS".into()));
        let numbers: Vec<(u64, usize)> = ws
            .model
            .work
            .keys()
            .filter_map(|id| {
                let digits = id.strip_prefix(&prefix)?;
                let digits = digits.trim_end_matches(|c: char| c.is_ascii_uppercase());
                Some((digits.parse().ok()?, digits.len()))
            })
            .collect();
        let next = numbers.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
        let width = numbers.iter().map(|(_, w)| *w).max().unwrap_or(3);
        IdAllocator {
            prefix,
            width,
            next,
            taken: ws.model.work.keys().cloned().collect(),
            ids: ws.config.ids.clone(),
        }
    }

    fn next(&mut self) -> Result<String, String> {
        for _ in 0..10_000 {
            let id = format!("{}{:0width$}", self.prefix, self.next, width = self.width);
            self.next += 1;
            if self.taken.contains(&id) {
                continue;
            }
            if !self.ids.is_id(&id) {
                return Err(format!(
                    "{id} does not fit the work-item ID pattern; no free ID is left for the proposal"
                ));
            }
            self.taken.insert(id.clone());
            return Ok(id);
        }
        Err("no free work-item ID found".into())
    }
}

/// Every proposal under the proposals folder.
pub fn proposals(ws: &Workspace) -> Result<Vec<Proposal>, String> {
    let dir = &ws.config.paths.proposals_dir;
    let Ok(entries) = std::fs::read_dir(ws.root.join(dir)) else { return Ok(Vec::new()) };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("P-") && n.ends_with(".json"))
        .collect();
    names.sort();
    names.iter().map(|name| read_proposal(ws, name.trim_end_matches(".json"))).collect()
}

fn read_proposal(ws: &Workspace, id: &str) -> Result<Proposal, String> {
    let valid = id.strip_prefix("P-").is_some_and(|n| n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        return Err(format!("{id} is not a proposal ID (P- and four digits, like P-0001)"));
    }
    let rel = format!("{}/{id}.json", ws.config.paths.proposals_dir);
    let text = crate::fsutil::read_text_in_workspace(&ws.root, &rel, ws.config.max_file_size)
        .map_err(|e| format!("{rel} {e}"))?
        .ok_or_else(|| format!("there is no proposal {id} ({rel} does not exist)"))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{rel} is not a proposal (line {}, column {}: {e}); see docs/schemas/proposal.schema.json",
            e.line(),
            e.column()
        )
    })
}

fn write_proposal(ws: &Workspace, proposal: &Proposal) -> Result<(), String> {
    let rel = format!("{}/{}.json", ws.config.paths.proposals_dir, proposal.id);
    let text = serde_json::to_string_pretty(proposal).expect("a proposal serializes") + "\n";
    crate::fsutil::write_in_workspace(&ws.root, &rel, super::scrub::text(&text).as_bytes())
        .map_err(|e| format!("cannot write {rel}: {e}"))
}

fn next_proposal_id(ws: &Workspace) -> Result<String, String> {
    let highest = proposals(ws)?.iter().filter_map(|p| p.id.strip_prefix("P-")?.parse::<u32>().ok()).max();
    Ok(format!("P-{:04}", highest.unwrap_or(0) + 1))
}

fn verdict_name(verdict: crate::formats::CritiqueVerdict) -> &'static str {
    match verdict {
        crate::formats::CritiqueVerdict::Accept => "accepting it",
        crate::formats::CritiqueVerdict::Revise => "revising it",
        crate::formats::CritiqueVerdict::Reject => "rejecting it",
    }
}

/// Append a pending proposal's items to the WBS, checked again against the WBS as it is now:
/// IDs still free, every chunk known, dependencies present, and (unless `allow_overlap`) no
/// scope overlapping an unfinished item's. Then the proposal is marked accepted and its
/// question answered `A`.
pub fn accept(ws: &Workspace, id: &str, by: &str, allow_overlap: bool) -> Result<String, String> {
    let mut proposal = pending(ws, id)?;
    let wbs_rel = &ws.config.paths.wbs;
    let text = crate::fsutil::read_text_in_workspace(&ws.root, wbs_rel, ws.config.max_file_size)
        .map_err(|e| format!("{wbs_rel} {e}"))?
        .unwrap_or_else(|| "[]\n".into());
    let present = journal::work_item_ids(&text).map_err(|e| format!("{wbs_rel}: {e}"))?;
    let mut problems = Vec::new();
    let ours: BTreeSet<&str> = proposal.items.iter().map(|i| i.id.as_str()).collect();
    for item in &proposal.items {
        if present.contains(&item.id) {
            problems.push(format!("{} is already a work item of the WBS", item.id));
        }
        if !ws.config.ids.is_id(&item.id) || ws.config.ids.kind_of(&item.id) != Some(IdKind::Work) {
            problems.push(format!("{} is not a work-item ID", item.id));
        }
        for chunk in &item.blueprint_ids {
            if !ws.model.chunks.contains_key(chunk) {
                problems.push(format!("{}: {chunk} is not a chunk of the spec (any more)", item.id));
            }
        }
        for dependency in &item.depends_on {
            if !present.contains(dependency) && !ours.contains(dependency.as_str()) {
                problems.push(format!("{}: depends on {dependency}, which is not a work item", item.id));
            }
        }
        for glob in &item.scope_paths {
            if let Some(why) = outside_workspace(glob) {
                problems.push(format!("{}: scope {glob:?} {why}", item.id));
            }
        }
    }
    if !allow_overlap {
        problems.extend(overlaps(ws, &proposal.items));
    }
    if !problems.is_empty() {
        let hint = if allow_overlap { "" } else { " (overlaps alone: pass --allow-overlap to accept them)" };
        return Err(format!(
            "{id} cannot be accepted into the WBS as it is now: {}. Nothing was written{hint}; `concord plan reject {id}` and plan again, or fix the WBS.",
            problems.join("; ")
        ));
    }
    let at = crate::time::format_rfc3339(crate::time::now_secs());
    let added: Vec<&str> = proposal.items.iter().map(|i| i.id.as_str()).collect();
    let journal = JournalPlan {
        key: format!("plan-accept {id}"),
        followups: proposal
            .items
            .iter()
            .map(|i| serde_json::to_value(i).expect("an item serializes"))
            .collect(),
        queue: Vec::new(),
        progress: vec![format!("- {at} {id} accepted by {by}: {} added to the WBS", added.join(", "))],
        release: None,
        message: format!("{id} accepted: {} added to {wbs_rel}", added.join(", ")),
    };
    let message = journal::run(&ws.root, &ws.config, &journal)?;
    proposal.status = ProposalStatus::Accepted;
    proposal.decided_by = Some(by.to_string());
    proposal.decided_at = Some(at);
    write_proposal(ws, &proposal)?;
    answer_question(ws, &proposal, "A", by, None)?;
    Ok(message)
}

/// Mark a pending proposal rejected and answer its question `B`; the WBS is not touched.
pub fn reject(ws: &Workspace, id: &str, by: &str, note: Option<&str>) -> Result<String, String> {
    let mut proposal = pending(ws, id)?;
    proposal.status = ProposalStatus::Rejected;
    proposal.decided_by = Some(by.to_string());
    proposal.decided_at = Some(crate::time::format_rfc3339(crate::time::now_secs()));
    write_proposal(ws, &proposal)?;
    answer_question(ws, &proposal, "B", by, note)?;
    Ok(format!("{id} rejected; the WBS is unchanged and its chunks can be planned again"))
}

fn pending(ws: &Workspace, id: &str) -> Result<Proposal, String> {
    let proposal = read_proposal(ws, id)?;
    match proposal.status {
        ProposalStatus::Pending => Ok(proposal),
        ProposalStatus::Accepted => Err(format!("{id} was accepted already")),
        ProposalStatus::Rejected => Err(format!("{id} was rejected already")),
    }
}

fn answer_question(
    ws: &Workspace,
    proposal: &Proposal,
    option: &str,
    by: &str,
    note: Option<&str>,
) -> Result<(), String> {
    let all = questions::load(&ws.root, &ws.config)?;
    let open = all.iter().any(|q| q.id == proposal.question && q.status == QuestionStatus::Pending);
    if open {
        questions::answer(ws, &proposal.question, option, by, note)?;
    }
    Ok(())
}

/// Answer an owner question (`concord answer`, the editor's `concord.answer`): a question that
/// decides a proposal accepts it (`A`) or rejects it (`B`); any other is recorded, and the
/// message is the decision as a task file carries it.
pub fn answer(
    ws: &Workspace,
    question: &str,
    option: &str,
    by: &str,
    note: Option<&str>,
) -> Result<String, String> {
    match answer_decides(ws, question, option, by, note) {
        Some(decided) => decided,
        None => questions::answer(ws, question, option, by, note)
            .map(|q| questions::decision_line(&q).unwrap_or_else(|| format!("{question} answered"))),
    }
}

fn answer_decides(
    ws: &Workspace,
    question: &str,
    option: &str,
    by: &str,
    note: Option<&str>,
) -> Option<Result<String, String>> {
    let all = questions::load(&ws.root, &ws.config).ok()?;
    let proposal = all.iter().find(|q| q.id == question)?.proposal.clone()?;
    Some(match option.trim().to_ascii_uppercase().as_str() {
        "A" => accept(ws, &proposal, by, false),
        "B" => reject(ws, &proposal, by, note),
        other => Err(format!(
            "{question} decides proposal {proposal}: answer A (accept) or B (reject), not {other}"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_must_stay_inside_the_workspace() {
        for (glob, inside) in [
            ("services/pay/**", true),
            ("./src/*.rs", true),
            ("/etc/**", false),
            ("../other/**", false),
            ("a/../../b", false),
            ("C:/x", false),
            ("a\\..\\b", false),
        ] {
            assert_eq!(outside_workspace(glob).is_none(), inside, "{glob}");
        }
    }
}
