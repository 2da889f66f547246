//! The tools of `concord mcp` as plain functions: arguments in, an [`Answer`] (structured data,
//! a one-line summary, what to call next) or a [`ToolError`] out. No protocol types: `server`
//! wraps these, and the in-process tests call them directly. Every answer goes through the
//! secret scrubber before it leaves.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::session::{Freshness, Session, Snapshot};
use crate::facts::{id_facts, IdFacts};
use crate::model::Lock;
use crate::scope::Change;

/// The most a text field of an answer carries (a chunk's section, a task file).
const TEXT_CAP: usize = 32 * 1024;

/// A tool's answer: `data` is the structured content (with `workspace`, `summary` and `next`
/// added), `summary` and `next` make its one-line text.
#[derive(Debug, Clone)]
pub struct Answer {
    pub summary: String,
    pub next: String,
    pub data: Value,
}

/// A call that could not be answered, in words an agent acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError(pub String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError(message)
    }
}

type Result<T> = std::result::Result<T, ToolError>;

fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(ToolError(message.into()))
}

/// The tool names, in the order `tools/list` gives them.
pub const TOOLS: &[&str] = &[
    "whoami_scope",
    "lookup",
    "search_spec",
    "suggest_ids",
    "check_changes",
    "coverage",
    "task",
    "lock_acquire",
    "lock_release",
];

/// Where to work: every tool takes it, since clients give a server no reliable working folder.
#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CwdArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` was started
    /// for (`-C`), else its working folder.
    pub cwd: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` serves.
    pub cwd: Option<String>,
    /// The agent (the name its lock is held under). Default: the CONCORD_AGENT environment
    /// variable of the server.
    pub agent: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` serves.
    pub cwd: Option<String>,
    /// A chunk or work-item ID: `TD-0103`, `NT-0012`, `WBS-005`.
    pub id: String,
    /// Include the chunk's markdown section (default true).
    pub text: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` serves.
    pub cwd: Option<String>,
    /// Words to look for in chunk titles and summaries (and work-item titles and criteria).
    pub query: String,
    /// How many results (default 10, at most 50).
    pub limit: Option<u32>,
    /// Only spec chunks, no work items (default false).
    pub chunks_only: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` serves.
    pub cwd: Option<String>,
    /// The file, relative to the workspace root.
    pub path: String,
    /// A function, method or class in it, by name (its doc comment is used when it is found).
    pub item: Option<String>,
    /// How many candidates (default 5, at most 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` serves.
    pub cwd: Option<String>,
    /// The agent whose lock the changes must stay in. Default: CONCORD_AGENT.
    pub agent: Option<String>,
    /// The files to check, relative to the root. Default: every file git sees changed since the
    /// agent's lock was taken (its `base_commit`, else HEAD), untracked files included.
    pub paths: Option<Vec<String>>,
    /// Compare with this commit instead of the lock's.
    pub base: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` serves.
    pub cwd: Option<String>,
    /// A chunk ID (its coverage), or a work-item ID (the coverage of its chunks).
    pub id: Option<String>,
    /// A topic (the chunks whose `topic` it is, case-insensitively). With neither, the totals.
    pub topic: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcquireArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` serves.
    pub cwd: Option<String>,
    /// The agent. Default: CONCORD_AGENT.
    pub agent: Option<String>,
    /// The work item to lock, e.g. `WBS-005`.
    pub task: String,
    /// Globs of the files the lock holds. Default: the work item's `scope_paths`.
    pub scope: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseArgs {
    /// The workspace root (or a folder inside it). Default: the folder `concord mcp` serves.
    pub cwd: Option<String>,
    /// The agent. Default: CONCORD_AGENT.
    pub agent: Option<String>,
    /// Refuse unless the lock is for this work item.
    pub task: Option<String>,
}

/// How the server was started: what it may do beyond reading.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `concord mcp --trust`: the lock tools work in any workspace the server is asked about.
    pub trust: bool,
    /// The server's CONCORD_AGENT.
    pub agent: Option<String>,
}

/// The tools over one session.
#[derive(Debug)]
pub struct Tools {
    pub session: Session,
    pub policy: Policy,
}

fn workspace_value(snapshot: &Snapshot, freshness: &Freshness) -> Value {
    let update = match freshness {
        Freshness::Reused => json!({ "kind": "none" }),
        Freshness::Clock => json!({ "kind": "clock" }),
        Freshness::Loaded { reason } => {
            json!({ "kind": "full", "reason": reason, "files_scanned": snapshot.loaded.ws.files.len() })
        }
        Freshness::Updated { rescanned, model } => {
            json!({ "kind": if *model { "model" } else { "files" }, "files_rescanned": rescanned })
        }
    };
    json!({
        "root": snapshot.root.display().to_string(),
        "model_built_at": snapshot.built_at,
        "build_ms": snapshot.build_ms,
        "rebuilt_for_this_call": *freshness != Freshness::Reused,
        "update": update,
        "inputs_checked": snapshot.inputs(),
    })
}

impl Tools {
    pub fn new(session: Session, policy: Policy) -> Tools {
        Tools { session, policy }
    }

    /// Run one tool by name on JSON arguments (what the protocol adapter and the tests call).
    pub fn call(&self, name: &str, arguments: Value) -> Result<Answer> {
        fn parse<T: serde::de::DeserializeOwned>(name: &str, arguments: Value) -> Result<T> {
            let arguments = if arguments.is_null() { Value::Object(Map::new()) } else { arguments };
            serde_json::from_value(arguments).map_err(|e| ToolError(format!("{name}: bad arguments: {e}")))
        }
        match name {
            "whoami_scope" => self.whoami_scope(parse(name, arguments)?),
            "lookup" => self.lookup(parse(name, arguments)?),
            "search_spec" => self.search_spec(parse(name, arguments)?),
            "suggest_ids" => self.suggest_ids(parse(name, arguments)?),
            "check_changes" => self.check_changes(parse(name, arguments)?),
            "coverage" => self.coverage(parse(name, arguments)?),
            "task" => self.task(parse(name, arguments)?),
            "lock_acquire" => self.lock_acquire(parse(name, arguments)?),
            "lock_release" => self.lock_release(parse(name, arguments)?),
            other => fail(format!("unknown tool {other:?}; the tools are {}", TOOLS.join(", "))),
        }
    }

    /// The loaded workspace for `cwd`, fresh; answers are finished by [`finish`].
    fn open(&self, cwd: Option<&str>) -> Result<(std::sync::Arc<Snapshot>, Value)> {
        let root = self.session.resolve_root(cwd)?;
        let (snapshot, freshness) = self.session.snapshot(&root)?;
        crate::ops::scrub::use_config(&snapshot.loaded.ws.config);
        let workspace = workspace_value(&snapshot, &freshness);
        Ok((snapshot, workspace))
    }

    fn agent(&self, given: Option<String>) -> Result<String> {
        match given.filter(|a| !a.trim().is_empty()).or_else(|| self.policy.agent.clone()) {
            Some(agent) => Ok(agent),
            None => fail(
                "no agent: pass `agent` (the name your lock is held under), or start the server with CONCORD_AGENT set",
            ),
        }
    }

    pub fn whoami_scope(&self, args: AgentArgs) -> Result<Answer> {
        let (snap, workspace) = self.open(args.cwd.as_deref())?;
        let agent = self.agent(args.agent)?;
        let ws = &snap.loaded.ws;
        let Some(lock) = ws.model.locks.iter().find(|l| l.agent == agent) else {
            let summary = format!("{agent} holds no lock in {}: no file is in its scope", ws.root.display());
            return Ok(finish(
                workspace,
                summary,
                "take a lock for your work item first: lock_acquire {\"task\": \"WBS-…\"} (or `concord lock acquire`)",
                json!({ "agent": agent, "lock": null, "task": null, "scope_paths": [], "budget": null, "changed": null }),
            ));
        };
        let item = ws.model.work.get(&lock.task_id);
        let (base, changes) = changes_for(ws, lock, None);
        let mut data = json!({
            "agent": agent,
            "lock": lock_value(lock),
            "task": {
                "id": lock.task_id,
                "title": item.map(|w| w.title.as_str()),
                "status": ws.model.status_of(&lock.task_id).as_str(),
            },
            "scope_paths": lock.scope_paths,
            "base": base,
        });
        let mut summary = format!(
            "{agent} holds the lock for {} ({}): scope {}",
            lock.task_id,
            item.map_or("not in the WBS", |w| w.title.as_str()),
            lock.scope_paths.join(" ")
        );
        let mut next = "check_changes before you finish; lookup or search_spec for the spec".to_string();
        match &changes {
            Ok(changes) => {
                let report = crate::scope::check_changes(
                    &ws.config,
                    &ws.model,
                    lock,
                    changes,
                    crate::time::now_secs(),
                );
                let (files, lines) = crate::scope::budget_use(&ws.config, changes);
                data["budget"] = match item.and_then(|w| w.change_budget) {
                    Some(b) => json!({
                        "max_files": b.max_files, "max_lines": b.max_lines,
                        "used_files": files, "used_lines": lines,
                        "left_files": b.max_files.map(|m| m.saturating_sub(files)),
                        "left_lines": b.max_lines.map(|m| m.saturating_sub(lines)),
                        "over": report.budget,
                    }),
                    None => {
                        json!({ "note": format!("{} sets no change_budget", lock.task_id), "used_files": files, "used_lines": lines })
                    }
                };
                data["changed"] = json!({
                    "files": changes.iter().map(change_value).collect::<Vec<_>>(),
                    "outside_scope": report.outside,
                    "locked_by_other": report.locked_by_other.iter().map(|(p, h)| json!({"path": p, "holder": h})).collect::<Vec<_>>(),
                });
                summary.push_str(&format!("; {files} files changed since {}", short(&base)));
                if !report.outside.is_empty() || !report.locked_by_other.is_empty() {
                    let n = report.outside.len() + report.locked_by_other.len();
                    summary.push_str(&format!(", {n} of them OUTSIDE your scope"));
                    next = "revert the files outside your scope (check_changes lists them), or hand the task back".into();
                }
                if !report.budget.is_empty() {
                    summary.push_str(&format!("; over budget: {}", report.budget.join("; ")));
                }
            }
            Err(why) => {
                data["budget"] = item
                    .and_then(|w| w.change_budget)
                    .map_or(Value::Null, |b| json!({"max_files": b.max_files, "max_lines": b.max_lines}));
                data["changed"] = json!({ "error": why });
                summary.push_str(&format!("; changed files unknown ({why})"));
            }
        }
        Ok(finish(workspace, summary, &next, data))
    }

    pub fn lookup(&self, args: LookupArgs) -> Result<Answer> {
        let (snap, workspace) = self.open(args.cwd.as_deref())?;
        let ws = &snap.loaded.ws;
        let id = args.id.trim();
        if !ws.config.ids.is_id(id) {
            return fail(format!(
                "{id:?} is not an ID of this workspace's families ({}); search_spec finds IDs by words",
                ws.config.ids.families().iter().map(|f| f.pattern.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        let facts = id_facts(ws, &snap.loaded.analysis, id);
        let mut data = serde_json::to_value(&facts).expect("facts serialize");
        let (summary, next) = match &facts {
            IdFacts::Chunk(c) => {
                if args.text.unwrap_or(true) {
                    let (text, cut) = chunk_text(ws, c.heading.as_ref());
                    data["text"] = text.map_or(Value::Null, Value::String);
                    data["text_truncated"] = Value::Bool(cut);
                }
                (
                    format!("{id} {} ({}, coverage {}, {} work items)", c.title, c.priority, c.coverage, c.work_items.len()),
                    format!("coverage {{\"id\": \"{id}\"}} for its code and tests; tag code that implements it with `{id}`"),
                )
            }
            IdFacts::Work(w) => (
                format!(
                    "{id} {} (status {}, risk {}, {})",
                    w.title,
                    w.status,
                    w.risk,
                    w.lock.as_ref().map_or("not locked".to_string(), |l| format!("locked by {}", l.agent))
                ),
                "lookup its chunks for the spec text; task for the run's task file".to_string(),
            ),
            IdFacts::Unknown { did_you_mean, .. } => {
                let options: Vec<&str> = did_you_mean.iter().map(|s| s.id.as_str()).collect();
                return fail(if options.is_empty() {
                    format!("{id} is unknown: no chunk or work item has it; search_spec finds IDs by words")
                } else {
                    format!(
                        "{id} is unknown: no chunk or work item has it. Did you mean {}?",
                        options.join(" or ")
                    )
                });
            }
        };
        Ok(finish(workspace, summary, &next, data))
    }

    pub fn search_spec(&self, args: SearchArgs) -> Result<Answer> {
        let (snap, workspace) = self.open(args.cwd.as_deref())?;
        if crate::suggest::words(&args.query).is_empty() {
            return fail("search_spec needs a `query` with at least one word of three letters or more (not only common words)");
        }
        let limit = args.limit.unwrap_or(10).clamp(1, 50) as usize;
        let model = &snap.loaded.ws.model;
        let results: Vec<Value> = snap
            .loaded
            .analysis
            .neighbours
            .search(&args.query, args.chunks_only.unwrap_or(false), limit)
            .into_iter()
            .map(|(id, score)| match model.chunks.get(&id) {
                Some(c) => json!({
                    "id": id, "kind": "chunk", "title": c.title, "score": score,
                    "summary": cut(&c.summary, 300), "topic": c.topic, "priority": c.priority.as_str(),
                }),
                None => json!({
                    "id": id, "kind": "work", "title": model.title_of(&id), "score": score,
                    "status": model.status_of(&id).as_str(),
                }),
            })
            .collect();
        let summary = match results.first() {
            Some(best) => format!(
                "{} results for {:?}; best {} {}",
                results.len(),
                args.query,
                best["id"].as_str().unwrap_or(""),
                best["title"].as_str().unwrap_or("")
            ),
            None => format!("nothing in the spec matches {:?}", args.query),
        };
        let next = if results.is_empty() { "try other words" } else { "lookup an ID for its facts and text" };
        Ok(finish(workspace, summary, next, json!({ "query": args.query, "results": results })))
    }

    pub fn suggest_ids(&self, args: SuggestArgs) -> Result<Answer> {
        let (snap, workspace) = self.open(args.cwd.as_deref())?;
        let ws = &snap.loaded.ws;
        let path = workspace_path(&ws.root, &args.path)?;
        let Some(facts) = ws.files.get(&path) else {
            return fail(format!(
                "{path} is not a scanned file of {} (missing, ignored, excluded, binary or too large)",
                ws.root.display()
            ));
        };
        let limit = args.limit.unwrap_or(5).clamp(1, 20) as usize;
        let model = &ws.model;
        let neighbours = &snap.loaded.analysis.neighbours;
        let (words, item_value) = match args.item.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            Some(name) => match facts.items.iter().find(|i| *i.name == *name) {
                Some(item) => (
                    item.suggestion_words(),
                    json!({"name": item.name, "kind": item.kind, "line": item.name_span.start.line + 1, "traces_to": item.ids}),
                ),
                None => (
                    crate::suggest::words(name),
                    json!({"name": name, "found": false, "note": "not found among the file's traced items: ranked by its name"}),
                ),
            },
            None => (Vec::new(), Value::Null),
        };
        let candidates = neighbours.suggest_up_to(model, facts, &words, None, limit);
        let comment = facts.line_comment.unwrap_or("//");
        let tagged: Vec<&str> = {
            let mut ids: Vec<&str> =
                facts.refs.iter().filter(|r| r.traces && model.is_known(r.id)).map(|r| r.id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let summary = match candidates.first() {
            Some(best) => format!(
                "best ID for {path}{}: {} {} (of {})",
                item_suffix(&args.item),
                best.id,
                best.title,
                candidates.len()
            ),
            None => format!(
                "no candidate ID for {path}: nothing in the spec, the scopes or the neighbours points at it"
            ),
        };
        let next = match candidates.first() {
            Some(best) => {
                format!("add the tag `{comment} implements {}` (lookup it first to be sure)", best.id)
            }
            None => "search_spec with words of what the code does".to_string(),
        };
        Ok(finish(
            workspace,
            summary,
            &next,
            json!({ "path": path, "item": item_value, "already_traces_to": tagged, "candidates": candidates.iter().map(|c| json!({"id": c.id, "title": c.title, "score": c.score, "why": c.why})).collect::<Vec<_>>() }),
        ))
    }

    pub fn check_changes(&self, args: CheckArgs) -> Result<Answer> {
        let (snap, workspace) = self.open(args.cwd.as_deref())?;
        let ws = &snap.loaded.ws;
        let agent = args.agent.filter(|a| !a.trim().is_empty()).or_else(|| self.policy.agent.clone());
        let lock = agent.as_deref().and_then(|a| ws.model.locks.iter().find(|l| l.agent == a));
        let (base, changes): (Option<String>, Vec<Change>) = match &args.paths {
            Some(paths) if !paths.is_empty() => {
                let mut out = Vec::new();
                for p in paths {
                    out.push(Change { path: workspace_path(&ws.root, p)?, added: 0, removed: 0 });
                }
                (None, out)
            }
            _ => {
                let (base, changes) = match lock {
                    Some(lock) => changes_for(ws, lock, args.base.as_deref()),
                    None => {
                        let base = args.base.clone().unwrap_or_else(|| "HEAD".into());
                        let changes = crate::ops::git::changes_since(&ws.root, &base);
                        (base, changes)
                    }
                };
                (
                    Some(base),
                    changes.map_err(|e| {
                        ToolError(format!("cannot list the changed files: {e}; pass `paths`"))
                    })?,
                )
            }
        };
        let now = crate::time::now_secs();
        let config = &ws.config;
        let mut files = Vec::new();
        let (mut errors, mut warnings, mut scope_problems) = (0, 0, 0);
        for change in &changes {
            let mut findings = Vec::new();
            if let Some(agent) = &agent {
                findings.extend(crate::scope::edit_findings(config, &ws.model, agent, &change.path, 0, now));
            }
            let scanned = ws.files.get(&change.path);
            if let Some(facts) = scanned {
                findings.extend(snap.loaded.analysis.findings_for(config, &ws.model, facts));
            }
            let findings = crate::analysis::apply_severities(config, findings);
            for f in &findings {
                match f.severity {
                    crate::findings::Severity::Error => errors += 1,
                    crate::findings::Severity::Warning => warnings += 1,
                    _ => {}
                }
                if matches!(
                    f.code,
                    crate::findings::Code::OutsideScope | crate::findings::Code::LockedByOther
                ) {
                    scope_problems += 1;
                }
            }
            files.push(json!({
                "path": change.path,
                "added": change.added,
                "removed": change.removed,
                "scanned": scanned.is_some(),
                "findings": findings.iter().map(crate::render::finding_value).collect::<Vec<_>>(),
            }));
        }
        let budget = lock
            .map(|l| crate::scope::check_changes(config, &ws.model, l, &changes, now).budget)
            .unwrap_or_default();
        let passed = errors == 0 && scope_problems == 0 && budget.is_empty();
        let summary = format!(
            "{} changed files{}: {errors} errors, {warnings} warnings, {scope_problems} scope problems{}{}",
            changes.len(),
            base.as_deref().map(|b| format!(" since {}", short(b))).unwrap_or_default(),
            if budget.is_empty() { String::new() } else { format!(", over budget ({})", budget.join("; ")) },
            if passed { " — the review's scope and trace checks would pass" } else { "" }
        );
        let next = if scope_problems > 0 {
            "revert the files outside your scope first (each finding says what to do), then check_changes again"
        } else if !passed {
            "fix each finding (its message says how; suggest_ids gives tags), then check_changes again"
        } else {
            "run the work item's test commands (task lists them) and write the run report"
        };
        Ok(finish(
            workspace,
            summary,
            next,
            json!({
                "agent": agent, "lock": lock.map(lock_value), "base": base, "passed": passed,
                "errors": errors, "warnings": warnings, "scope_problems": scope_problems,
                "budget_problems": budget, "files": files,
            }),
        ))
    }

    pub fn coverage(&self, args: CoverageArgs) -> Result<Answer> {
        let (snap, workspace) = self.open(args.cwd.as_deref())?;
        let ws = &snap.loaded.ws;
        let coverage = &snap.loaded.analysis.coverage;
        // The paths are made from the files when asked (the coverage keeps their counts).
        let files = std::cell::OnceCell::new();
        let one = |id: &str| {
            let mut value = serde_json::to_value(coverage.get(id)).expect("coverage serializes");
            if let Some(entry) = value.as_object_mut() {
                let files =
                    files.get_or_init(|| crate::coverage::files_of(&ws.config, &ws.model, ws.facts()));
                let paths = files.get(id).cloned().unwrap_or_default();
                entry.insert("code_paths".into(), json!(paths.code));
                entry.insert("test_paths".into(), json!(paths.test));
            }
            value
        };
        if let Some(id) = args.id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            if let Some(c) = coverage.get(id) {
                let summary = format!(
                    "{id} {}: {} ({} work items, {} code files, {} test files)",
                    c.title,
                    c.status.as_str(),
                    c.wbs_ids.len(),
                    c.code_files,
                    c.test_files
                );
                return Ok(finish(
                    workspace,
                    summary,
                    next_for_status(c.status.as_str()),
                    json!({"chunks": [one(id)]}),
                ));
            }
            if let Some(item) = ws.model.work.get(id) {
                let chunks: Vec<Value> = item.blueprint_ids.iter().map(|(c, _)| one(c)).collect();
                let uncovered = item
                    .blueprint_ids
                    .iter()
                    .filter(|(c, _)| coverage.get(c).is_none_or(|c| c.status.as_str() != "covered"))
                    .count();
                let summary =
                    format!("{id} plans {} chunks, {uncovered} of them not yet covered", chunks.len());
                return Ok(finish(
                    workspace,
                    summary,
                    "lookup a chunk for its facts",
                    json!({"work_item": id, "chunks": chunks}),
                ));
            }
            return fail(format!(
                "{id} is neither a chunk nor a work item of this workspace; search_spec finds IDs by words"
            ));
        }
        if let Some(topic) = args.topic.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let chunks: Vec<&crate::coverage::ChunkCoverage> = coverage
                .chunks
                .iter()
                .filter(|c| c.topic.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(topic)))
                .collect();
            if chunks.is_empty() {
                let mut topics: Vec<&str> =
                    coverage.chunks.iter().filter_map(|c| c.topic.as_deref()).collect();
                topics.sort_unstable();
                topics.dedup();
                return fail(format!(
                    "no chunk has the topic {topic:?}; the topics are: {}",
                    if topics.is_empty() {
                        "none (no chunk sets a topic; use search_spec)".into()
                    } else {
                        topics.join(", ")
                    }
                ));
            }
            let mut by_status: std::collections::BTreeMap<&str, usize> = Default::default();
            for c in &chunks {
                *by_status.entry(c.status.as_str()).or_default() += 1;
            }
            let covered = by_status.get("covered").copied().unwrap_or(0);
            let summary =
                format!("topic {topic}: {covered} of {} chunks covered ({by_status:?})", chunks.len());
            return Ok(finish(
                workspace,
                summary,
                "lookup an uncovered chunk to see what is missing",
                json!({"topic": topic, "by_status": by_status, "chunks": chunks}),
            ));
        }
        let totals = coverage.summary();
        let summary = format!("coverage of {} chunks", coverage.chunks.len());
        Ok(finish(
            workspace,
            summary,
            "coverage {\"topic\": …} or {\"id\": …} for details",
            json!({"summary": totals}),
        ))
    }

    pub fn task(&self, args: AgentArgs) -> Result<Answer> {
        let (snap, workspace) = self.open(args.cwd.as_deref())?;
        let agent = self.agent(args.agent)?;
        let ws = &snap.loaded.ws;
        let Some(lock) = ws.model.locks.iter().find(|l| l.agent == agent) else {
            return fail(format!(
                "{agent} holds no lock, so it has no task; whoami_scope says what it holds"
            ));
        };
        let item = ws.model.work.get(&lock.task_id);
        // The newest dispatch of the item names its run, whose folder holds the task file.
        let run = ws
            .model
            .queue
            .iter()
            .rev()
            .find(|e| e.id == lock.task_id && e.run.is_some())
            .and_then(|e| e.run.clone());
        let task_file = run.as_ref().map(|r| format!(".concord/runs/{r}/task.md"));
        let (text, truncated) = match &task_file {
            Some(rel) => {
                match crate::fsutil::read_text_in_workspace(&ws.root, rel, ws.config.max_file_size) {
                    Ok(Some(t)) => {
                        let (t, cut) = cap_text(&t);
                        (Some(t), cut)
                    }
                    _ => (None, false),
                }
            }
            None => (None, false),
        };
        let summary = format!(
            "{agent}'s task {}: {}{}",
            lock.task_id,
            item.map_or("not in the WBS", |w| w.title.as_str()),
            match (&task_file, &text) {
                (Some(f), Some(_)) => format!(" (task file {f})"),
                (Some(f), None) => format!(" (its task file {f} is gone)"),
                (None, _) => " (no dispatched run: the lock was taken by hand)".to_string(),
            }
        );
        Ok(finish(
            workspace,
            summary,
            "do what the task says inside your scope, then check_changes and run the test commands",
            json!({
                "agent": agent, "task_id": lock.task_id, "title": item.map(|w| &w.title),
                "run": run, "task_file": task_file, "text": text, "text_truncated": truncated,
                "acceptance_criteria": item.map(|w| &w.acceptance_criteria),
                "test_commands": item.map(|w| &w.test_commands),
                "smoke_checks": item.map(|w| &w.smoke_checks),
                "quality_gates": item.map(|w| w.quality_gates.iter().map(|g| &g.text).collect::<Vec<_>>()),
                "scope_paths": lock.scope_paths,
            }),
        ))
    }

    fn require_trust(&self, root: &Path, tool: &str) -> Result<()> {
        if self.policy.trust
            || crate::ops::trust::trusted_by_environment()
            || crate::ops::trust::is_trusted(root)
        {
            return Ok(());
        }
        fail(format!(
            "{tool} is refused: {} is not a trusted workspace, and {tool} writes its lock folder. Trust it once with `concord trust {}`, or start the server with `concord mcp --trust` (CONCORD_TRUST=1).",
            root.display(),
            root.display()
        ))
    }

    pub fn lock_acquire(&self, args: AcquireArgs) -> Result<Answer> {
        let root = self.session.resolve_root(args.cwd.as_deref())?;
        self.require_trust(&root, "lock_acquire")?;
        let agent = self.agent(args.agent)?;
        let config = crate::workspace::load_config(&root).map_err(|e| ToolError(e.to_string()))?;
        let lock = crate::ops::locks::LockDir::new(&root, &config)
            .acquire(&root, &config, &agent, args.task.trim(), args.scope)
            .map_err(|e| ToolError(format!("lock_acquire: {e}")))?;
        let (snap, workspace) = self.open(args.cwd.as_deref())?;
        let _ = snap;
        Ok(finish(
            workspace,
            format!("{agent} holds the lock for {}: {}", lock.task_id, lock.scope_paths.join(" ")),
            "task for what to do; whoami_scope shows the scope; lock_release when the review is applied",
            json!({"agent": agent, "lock": lock_value(&lock)}),
        ))
    }

    pub fn lock_release(&self, args: ReleaseArgs) -> Result<Answer> {
        let root = self.session.resolve_root(args.cwd.as_deref())?;
        self.require_trust(&root, "lock_release")?;
        let agent = self.agent(args.agent)?;
        let config = crate::workspace::load_config(&root).map_err(|e| ToolError(e.to_string()))?;
        let lock = crate::ops::locks::LockDir::new(&root, &config)
            .release(&agent, args.task.as_deref().map(str::trim))
            .map_err(|e| ToolError(format!("lock_release: {e}")))?;
        let (_, workspace) = self.open(args.cwd.as_deref())?;
        Ok(finish(
            workspace,
            format!("released the lock of {} for {}", lock.agent, lock.task_id),
            "nothing is in your scope now",
            json!({"agent": agent, "released": lock_value(&lock)}),
        ))
    }
}

/// The answer with the workspace it came from and the summary and hint folded into the data,
/// every string scrubbed of secrets.
fn finish(workspace: Value, summary: impl Into<String>, next: &str, data: Value) -> Answer {
    let mut data = match data {
        Value::Object(map) => map,
        other => Map::from_iter([("result".to_string(), other)]),
    };
    let summary = crate::ops::scrub::text(&summary.into());
    let next = crate::ops::scrub::text(next);
    data.insert("workspace".into(), workspace);
    data.insert("summary".into(), Value::String(summary.clone()));
    data.insert("next".into(), Value::String(next.clone()));
    Answer { summary, next, data: scrub_value(Value::Object(data)) }
}

/// Every string in `value` through the scrubber.
pub fn scrub_value(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(crate::ops::scrub::text(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(scrub_value).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, scrub_value(v))).collect()),
        other => other,
    }
}

fn lock_value(lock: &Lock) -> Value {
    json!({
        "agent": lock.agent, "task_id": lock.task_id, "scope_paths": lock.scope_paths,
        "acquired_at": lock.acquired_at, "path": lock.path,
    })
}

fn change_value(c: &Change) -> Value {
    json!({"path": c.path, "added": c.added, "removed": c.removed})
}

/// The changes since the lock's base commit (or `base`), as `concord scope-check` counts them.
fn changes_for(
    ws: &crate::workspace::Workspace,
    lock: &Lock,
    base: Option<&str>,
) -> (String, std::result::Result<Vec<Change>, String>) {
    let base = base
        .map(str::to_string)
        .or_else(|| crate::ops::git::head_at_lock(&ws.root, &ws.config, &lock.agent))
        .unwrap_or_else(|| "HEAD".into());
    if base.starts_with('-') {
        return (base, Err("a base commit cannot start with '-'".into()));
    }
    let changes = crate::ops::git::changes_since(&ws.root, &base);
    (base, changes)
}

fn short(commit: &str) -> &str {
    if commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        &commit[..10]
    } else {
        commit
    }
}

/// A path argument as a workspace-relative `/` path; a path that leaves the root is refused.
fn workspace_path(root: &Path, given: &str) -> Result<String> {
    let given = given.trim();
    if given.is_empty() {
        return fail("`path` is empty: give a file relative to the workspace root");
    }
    let path = Path::new(given);
    let rel = if path.is_absolute() {
        match path.strip_prefix(root) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => return fail(format!("{given} is outside the workspace {}", root.display())),
        }
    } else {
        path.to_path_buf()
    };
    let mut parts = Vec::new();
    for part in rel.components() {
        match part {
            std::path::Component::Normal(p) => {
                parts.push(p.to_str().ok_or_else(|| ToolError(format!("{given} is not UTF-8")))?.to_string())
            }
            std::path::Component::CurDir => {}
            _ => return fail(format!("{given} leaves the workspace root: give a path inside it")),
        }
    }
    if parts.is_empty() {
        return fail(format!("{given} names the root itself: give a file"));
    }
    Ok(parts.join("/"))
}

fn item_suffix(item: &Option<String>) -> String {
    item.as_deref().map(|i| format!(" ({i})")).unwrap_or_default()
}

fn next_for_status(status: &str) -> &'static str {
    match status {
        "covered" => "nothing missing: a work item, code and tests trace to it",
        "missing_wbs" => "no work item plans it: it needs one in the WBS",
        "missing_code" => "no code traces to it: tag the implementing code with its ID (suggest_ids)",
        _ => "no test traces to it: tag the tests that exercise it with its ID",
    }
}

fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn cap_text(text: &str) -> (String, bool) {
    if text.len() <= TEXT_CAP {
        (text.to_string(), false)
    } else {
        (cut(text, TEXT_CAP), true)
    }
}

/// A chunk's markdown section, read (capped) from its heading's file.
fn chunk_text(
    ws: &crate::workspace::Workspace,
    heading: Option<&crate::facts::At>,
) -> (Option<String>, bool) {
    let Some(at) = heading else { return (None, false) };
    let Ok(Some(text)) = crate::fsutil::read_text_in_workspace(&ws.root, &at.path, ws.config.max_file_size)
    else {
        return (None, false);
    };
    match crate::facts::section_text(&text, at.line - 1, TEXT_CAP) {
        Some((section, cut)) => (Some(section), cut),
        None => (None, false),
    }
}
