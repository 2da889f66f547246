//! `concord review`: the gates first, run by Concord itself (test commands, smoke checks, scope,
//! secrets in the diff and the run's artifacts, acceptance criteria, the item's quality gates),
//! then the assistant manager and the primary decider. A failed gate caps the decision; a
//! reviewer that fails twice yields `needs_human`, never a loop.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::commands::TestResult;
use super::llm;
use crate::model::{Autopilot, Risk, WorkItem};
use crate::workspace::Workspace;

/// One hard gate and its result, as the gates file records it.
pub type Gate = crate::formats::GateResult;

#[derive(Debug)]
pub struct Outcome {
    pub decision: Value,
    pub gates: Vec<Gate>,
    pub markdown_path: PathBuf,
    pub json_path: PathBuf,
    pub message: String,
    /// Why the reviewers could not decide (a provider unreachable, refusing the key, timing
    /// out): the decision is then `needs_human`.
    pub reviewer_error: Option<String>,
    /// Tokens the providers reported for this review.
    pub usage: Vec<llm::Usage>,
}

/// The run report to review: a path, a run id, or (none) the run that most recently entered
/// `review`. Only a run in `review` is reviewed: a failed run's report (its item went back to
/// `todo`) or a stale one (a later run of the item is in review) is refused.
pub fn find_report(ws: &Workspace, run: Option<&str>) -> Result<PathBuf, String> {
    let runs = ws.root.join(&ws.config.paths.runs_dir);
    let queue_path = ws.root.join(&ws.config.paths.queue);
    let Some(run) = run else {
        let text = std::fs::read_to_string(&queue_path).unwrap_or_default();
        let newest = text
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["status"] == "review")
            .find(|e| {
                let id = e["id"].as_str().unwrap_or("");
                super::queue::current_status(&queue_path, id) == crate::model::Status::Review
            });
        let Some(event) = newest else {
            return Err("no run is in review (a run enters review when dispatch judged it a success; see `concord status`)".into());
        };
        let id = event["id"].as_str().unwrap_or("");
        let run = event["run"]
            .as_str()
            .ok_or_else(|| format!("{id} is in review, but its queue event names no run: name the report"))?;
        let path = runs.join(format!("{run}.md"));
        return path.is_file().then_some(path).ok_or_else(|| {
            format!(
                "{id}'s run {run} is in review, but its report {}/{run}.md is missing",
                ws.config.paths.runs_dir
            )
        });
    };
    for candidate in [ws.root.join(run), runs.join(run), runs.join(format!("{run}.md"))] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(format!("no run report {run} (looked in {} too)", ws.config.paths.runs_dir))
}

/// The report's run must be the one its item has in review.
fn require_in_review(ws: &Workspace, id: &str, run_id: Option<&str>, report_rel: &str) -> Result<(), String> {
    let queue_path = ws.root.join(&ws.config.paths.queue);
    let status = super::queue::current_status(&queue_path, id);
    if status != crate::model::Status::Review {
        return Err(format!(
            "{id} is {}, not review: only a run that dispatch judged a success is reviewed ({report_rel} is not in review)",
            status.as_str()
        ));
    }
    let in_review =
        super::queue::last_event(&queue_path, id).and_then(|e| e["run"].as_str().map(str::to_string));
    match (run_id, in_review) {
        (Some(mine), Some(theirs)) if mine != theirs => {
            Err(format!("{report_rel} is run {mine}, but {id}'s run in review is {theirs}: review that one"))
        }
        _ => Ok(()),
    }
}

/// A field line of the report (`wbs: WBS-005`).
fn field<'t>(report: &'t str, name: &str) -> Option<&'t str> {
    report.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        (key.trim().trim_start_matches(['-', '*', ' ']).eq_ignore_ascii_case(name))
            .then(|| value.trim())
            .filter(|v| !v.is_empty())
    })
}

/// `- criterion: Pass` lines of the `## Acceptance criteria` section.
fn reported_criteria(report: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in report.lines() {
        if line.starts_with('#') {
            inside = line.trim_start_matches('#').trim().to_lowercase().starts_with("acceptance");
            continue;
        }
        let Some(item) = line.trim().strip_prefix(['-', '*']) else { continue };
        if !inside {
            continue;
        }
        let item = item.trim();
        let Some(cut) = item.rfind([':', '—', '-']) else { continue };
        let verdict = item[cut..]
            .trim_start_matches([':', '—', '-'])
            .trim()
            .trim_matches(['*', '`', '[', ']'])
            .to_lowercase();
        let passed = match verdict.as_str() {
            "pass" | "passed" | "ok" | "yes" => true,
            "fail" | "failed" | "no" => false,
            _ => continue,
        };
        out.push((normalize(&item[..cut]), passed));
    }
    out
}

fn normalize(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub struct Options<'a> {
    pub run: Option<&'a str>,
    pub no_llm: bool,
}

/// Review without outside cancellation (the language server).
pub fn review(ws: &Workspace, options: &Options) -> Result<Outcome, String> {
    review_with(ws, options, &std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)))
}

/// Review; `cancel` (SIGINT/SIGTERM) stops a running test command, and then nothing is written.
/// Every file written and every message returned is scrubbed.
pub fn review_with(ws: &Workspace, options: &Options, cancel: &Arc<AtomicBool>) -> Result<Outcome, String> {
    super::scrub::use_config(&ws.config);
    match review_unscrubbed(ws, options, cancel) {
        Ok(mut outcome) => {
            outcome.message = super::scrub::text(&outcome.message);
            outcome.reviewer_error = outcome.reviewer_error.map(|e| super::scrub::text(&e));
            for gate in &mut outcome.gates {
                gate.detail = super::scrub::text(&gate.detail);
            }
            Ok(outcome)
        }
        Err(message) => Err(super::scrub::text(&message)),
    }
}

fn review_unscrubbed(ws: &Workspace, options: &Options, cancel: &Arc<AtomicBool>) -> Result<Outcome, String> {
    llm::take_usage();
    let report_path = find_report(ws, options.run)?;
    let report = crate::fsutil::read_regular(&report_path, ws.config.max_file_size)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("{} {e}", report_path.display()))?;
    let report_rel = crate::workspace::relative(&ws.root, &report_path)
        .unwrap_or_else(|| report_path.display().to_string());
    let wbs_id = field(&report, "wbs")
        .map(str::to_string)
        .or_else(|| {
            ws.config
                .ids
                .find_iter(report.as_bytes())
                .map(|m| report[m.start..m.end].to_string())
                .find(|id| ws.model.work.contains_key(id))
        })
        .ok_or_else(|| format!("{report_rel} names no work item (add a `wbs: WBS-…` line)"))?;
    let item = ws
        .model
        .work
        .get(&wbs_id)
        .ok_or_else(|| format!("{report_rel} is for {wbs_id}, which is not in the WBS"))?;
    // The run: named in the report, or the report's own name (dispatch names it after the run).
    let run_id = field(&report, "run").map(str::to_string).or_else(|| {
        let stem = report_path.file_stem()?.to_str()?;
        super::agents::run_dir(&ws.root, stem).is_dir().then(|| stem.to_string())
    });
    require_in_review(ws, &item.id, run_id.as_deref(), &report_rel)?;

    let (gates, tests) = run_gates(ws, item, &report, &report_rel, run_id.as_deref(), cancel);
    if cancel.load(std::sync::atomic::Ordering::SeqCst) {
        let why = super::agents::received_signal()
            .map_or("cancelled".to_string(), |(_, name)| format!("interrupted by {name}"));
        return Err(format!("the review of {} was {why} while its test commands ran; their process groups were stopped and nothing was written", item.id));
    }
    let gates_passed = gates.iter().all(|g| g.passed);
    let acceptance: Vec<Value> = {
        let reported = reported_criteria(&report);
        item.acceptance_criteria
            .iter()
            .map(|c| {
                let result = match reported.iter().find(|(r, _)| *r == normalize(c)) {
                    Some((_, true)) => "pass",
                    Some((_, false)) => "fail",
                    None => "unknown",
                };
                json!({ "criterion": c, "result": result })
            })
            .collect()
    };

    let mut notes = Vec::new();
    let mut decision = if options.no_llm {
        json!({
            "wbs_id": wbs_id,
            "decision": if gates_passed { "accept" } else { "reject" },
            "recommended_status": if gates_passed { "done" } else { "todo" },
            "summary": if gates_passed { "Every gate passed (no model review was asked for)." } else { "A gate failed (no model review was asked for); the work goes back for rework." },
            "risks": [], "missing_deliverables": [], "test_gaps": [], "followups": [], "acceptance": acceptance, "owner_questions": [],
        })
    } else {
        ask_reviewers(ws, item, &report, &gates, &acceptance, &mut notes)
    };
    // The fallback's marker: recorded with the gates, since the decision's schema is the reviewers'.
    let reviewer_error = decision
        .as_object_mut()
        .and_then(|d| d.remove("reviewer_error"))
        .and_then(|v| v.as_str().map(str::to_string));
    // The decision is about the reviewed item, and its acceptance results are Concord's own
    // reading of the report, whatever a model wrote there.
    decision["wbs_id"] = json!(item.id);
    decision["acceptance"] = json!(acceptance);
    cap(&mut decision, item, gates_passed, &mut notes);
    llm::validate(&llm::decision_schema(), &decision, "decision")
        .map_err(|e| format!("internal: the decision does not fit its schema: {e}"))?;
    // Written in the decision format, whatever a model added.
    let typed: crate::formats::ReviewDecision = serde_json::from_value(decision.clone())
        .map_err(|e| format!("internal: the decision does not fit its format: {e}"))?;

    // Written under docs/reviews: the decision, its gates, and a markdown review for people.
    let stem = format!(
        "{}-{}",
        run_id.as_deref().unwrap_or(&wbs_id),
        crate::time::format_rfc3339(crate::time::now_secs()).replace([':', '-'], "")
    );
    let dir = ws.root.join(&ws.config.paths.reviews_dir);
    let json_path = dir.join(format!("{stem}.json"));
    let gates_path = dir.join(format!("{stem}.gates.json"));
    let markdown_path = dir.join(format!("{stem}.md"));
    let gates_file = crate::formats::GatesFile {
        wbs_id: wbs_id.clone(),
        report: report_rel.clone(),
        passed: gates_passed,
        gates: gates.clone(),
        reviewer_error,
    };
    let scrub = |text: String| super::scrub::text(&text);
    let write = |path: &Path, text: String| {
        crate::fsutil::write_atomic(path, scrub(text).as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(&json_path, serde_json::to_string_pretty(&typed).expect("json") + "\n")?;
    write(&gates_path, serde_json::to_string_pretty(&gates_file).expect("json") + "\n")?;
    write(&markdown_path, markdown(item, &report_rel, &gates, &tests, &decision, &notes))?;
    let rel = |p: &Path| crate::workspace::relative(&ws.root, p).unwrap_or_default();
    let message = format!(
        "{wbs_id}: {} → {} ({} of {} gates passed). Review: {}. Next: `concord apply {}`.",
        decision["decision"].as_str().unwrap_or(""),
        decision["recommended_status"].as_str().unwrap_or(""),
        gates.iter().filter(|g| g.passed).count(),
        gates.len(),
        rel(&markdown_path),
        rel(&json_path)
    );
    let reviewer_error =
        notes.iter().find(|n| REVIEWER_FAILURES.iter().any(|prefix| n.starts_with(prefix))).cloned();
    Ok(Outcome {
        decision,
        gates,
        markdown_path,
        json_path,
        message,
        reviewer_error,
        usage: llm::take_usage(),
    })
}

fn run_gates(
    ws: &Workspace,
    item: &WorkItem,
    report: &str,
    report_rel: &str,
    run_id: Option<&str>,
    cancel: &Arc<AtomicBool>,
) -> (Vec<Gate>, Vec<TestResult>) {
    let timeout = Duration::from_secs(ws.config.test_timeout_secs);
    // Where the run worked: the workspace, or the autopilot's worktree for it.
    let dir = run_id.map_or_else(|| ws.root.clone(), |run| super::dispatch::work_dir_of(&ws.root, run));
    let dir = dir.as_path();
    let (tests_gate, mut tests) =
        super::gates::run_commands("tests", &item.test_commands, dir, timeout, cancel);
    let (smoke_gate, smoke) = super::gates::run_commands("smoke", &item.smoke_checks, dir, timeout, cancel);
    tests.extend(smoke);
    let mut gates = vec![tests_gate, smoke_gate];

    // Scope: every file that differs from the lock's base commit, as dispatch counted them.
    let lock = ws.model.lock_for_task(&item.id);
    let before = run_id
        .map(|run| super::git::read_snapshot(&super::agents::run_dir(&ws.root, run)))
        .unwrap_or_default();
    let base = lock
        .filter(|l| dir != ws.root || super::git::head_at_lock(&ws.root, &ws.config, &l.agent).is_some())
        .map(|l| super::dispatch::run_base(ws, &l.agent, dir));
    let changes = base.as_deref().and_then(|base| {
        super::dispatch::counted_changes(ws, dir, item, &ws.model.locks, base, &before).ok()
    });
    gates.push(match (lock, &changes) {
        (Some(lock), Some(changes)) => {
            let scope =
                crate::scope::check_changes(&ws.config, &ws.model, lock, changes, crate::time::now_secs());
            let mut problems: Vec<String> =
                scope.outside.iter().map(|p| format!("{p} outside the scope")).collect();
            problems.extend(scope.locked_by_other.iter().map(|(p, h)| format!("{p} locked by {h}")));
            problems.extend(scope.budget.iter().cloned());
            Gate {
                name: "scope".into(),
                passed: problems.is_empty(),
                detail: if problems.is_empty() {
                    format!("{} changed files, all inside {}", changes.len(), lock.scope_paths.join(" "))
                } else {
                    problems.join("; ")
                },
            }
        }
        (Some(_), None) => Gate {
            name: "scope".into(),
            passed: true,
            detail: "not a git repository or no base commit in the lock: not checked".into(),
        },
        (None, _) => Gate {
            name: "scope".into(),
            passed: true,
            detail: format!("no lock is held for {}: nothing to check against", item.id),
        },
    });

    // Secrets: the changed files and every artifact of the run.
    let mut places: Vec<PathBuf> = changes.iter().flatten().map(|c| dir.join(&c.path)).collect();
    places.push(ws.root.join(report_rel));
    if let Some(run) = run_id {
        if let Ok(entries) = std::fs::read_dir(super::agents::run_dir(&ws.root, run)) {
            places.extend(entries.flatten().map(|e| e.path()));
        }
    }
    let mut leaks = Vec::new();
    // Secrets the agent printed: recorded by dispatch before its logs were scrubbed.
    if let Some(run) = run_id {
        let dir = super::agents::run_dir(&ws.root, run);
        let recorded: Vec<Value> =
            crate::fsutil::read_regular(&dir.join(super::dispatch::LEAKS_FILE), ws.config.max_file_size)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default();
        for leak in recorded {
            leaks.push(format!(
                "the agent printed a secret ({}, fingerprint {}) in {}: it was scrubbed from the logs, but it left the machine's control: rotate this key",
                leak["rule"].as_str().unwrap_or("?"),
                leak["fingerprint"].as_str().unwrap_or("?"),
                leak["where"].as_str().unwrap_or("?")
            ));
        }
    }
    for path in places {
        let Ok(bytes) = crate::fsutil::read_regular(&path, ws.config.max_file_size) else { continue };
        if crate::workspace::unscannable(&bytes).is_some() {
            continue;
        }
        let rel = crate::workspace::relative(&ws.root, &path).unwrap_or_default();
        for secret in ws.config.secrets().scan_file(&rel, &String::from_utf8_lossy(&bytes)) {
            leaks.push(format!("{rel}: {} ({})", secret.description, secret.redacted));
        }
    }
    gates.push(Gate {
        name: "secrets".into(),
        passed: leaks.is_empty(),
        detail: if leaks.is_empty() {
            "no secret in the diff or the run's artifacts".into()
        } else {
            leaks.join("; ")
        },
    });

    // Acceptance criteria: each marked Pass in the report.
    let reported = reported_criteria(report);
    let missing: Vec<String> = item
        .acceptance_criteria
        .iter()
        .filter(|c| !reported.iter().any(|(r, passed)| *passed && *r == normalize(c)))
        .map(|c| format!("\"{c}\""))
        .collect();
    gates.push(Gate {
        name: "acceptance".into(),
        passed: missing.is_empty(),
        detail: if missing.is_empty() {
            format!("{} criteria marked Pass", item.acceptance_criteria.len())
        } else {
            format!("not marked Pass in the report: {}", missing.join(", "))
        },
    });
    let (quality, output) =
        super::gates::quality_gates(ws, item, dir, base.as_deref(), changes.as_deref(), timeout, cancel);
    gates.extend(quality);
    tests.extend(output);
    (gates, tests)
}

/// How the notes of a reviewer that could not answer begin.
const REVIEWER_FAILURES: [&str; 3] =
    ["assistant manager failed: ", "primary decider failed: ", "tie-breaker failed: "];

fn ask_reviewers(
    ws: &Workspace,
    item: &WorkItem,
    report: &str,
    gates: &[Gate],
    acceptance: &[Value],
    notes: &mut Vec<String>,
) -> Value {
    let r = &ws.config.review;
    let deadline = || Instant::now() + Duration::from_secs(ws.config.llm_timeout_secs);
    let anthropic = llm::endpoint(&r.anthropic_base_url, &r.anthropic_model, &r.anthropic_key_env);
    let openai = llm::endpoint(&r.openai_base_url, &r.openai_model, &r.openai_key_env);
    let context = review_context(ws, item, report, gates);
    let needs_human = |why: String| {
        json!({
            "wbs_id": item.id, "decision": "needs_human", "recommended_status": "awaiting_approval",
            "summary": format!("A person must review this run: {why}"), "reviewer_error": why,
            "risks": [], "missing_deliverables": [], "test_gaps": [], "followups": [], "acceptance": acceptance, "owner_questions": [],
        })
    };
    let am_schema = llm::assistant_schema();
    let am_system = "You are the assistant manager reviewing an AI agent's run against its work item. Be paranoid: find risks (security, data, money, legal), missing deliverables, test gaps and follow-ups. Gates marked failed are facts.";
    let assistant = match llm::ask_twice(
        || {
            llm::anthropic_json(
                &anthropic,
                am_system,
                &context,
                "assistant_manager_review",
                &am_schema,
                deadline(),
            )
        },
        |v| llm::validate(&am_schema, v, "assistant manager"),
    ) {
        Ok(v) => v,
        Err(e) => {
            notes.push(format!("assistant manager failed: {e}"));
            return needs_human(format!("the assistant manager (Anthropic) failed twice: {e}"));
        }
    };
    let schema = llm::decision_schema();
    let pd_system = "You are the primary decider. Decide whether the work item is done, using the run report, the gates (facts, run independently) and the assistant manager's review. Answer with the decision JSON.";
    let pd_prompt = format!(
        "{context}\n\n## Assistant manager's review\n{}",
        serde_json::to_string_pretty(&assistant).unwrap_or_default()
    );
    let decider = match llm::ask_twice(
        || {
            llm::openai_json(
                &openai,
                &r.openai_api,
                pd_system,
                &pd_prompt,
                "review_decision",
                &schema,
                deadline(),
            )
        },
        |v| llm::validate(&schema, v, "primary decider"),
    ) {
        Ok(v) => v,
        Err(e) => {
            notes.push(format!("primary decider failed: {e}"));
            return needs_human(format!("the primary decider (OpenAI) failed twice: {e}"));
        }
    };
    let recommendation = assistant["recommendation"].as_str().unwrap_or("");
    if decider["decision"].as_str() == Some(recommendation) {
        return merge_followups(decider, &assistant);
    }
    // They disagree: one more pass that sees both and must be pessimistic.
    notes.push(format!(
        "the reviewers disagreed ({recommendation} vs {}); a tie-breaker pass decided",
        decider["decision"].as_str().unwrap_or("")
    ));
    let tie_prompt = format!(
        "{pd_prompt}\n\n## Primary decider's first decision\n{}\n\nThe two reviews disagree. Resolve the conflict and be pessimistic when in doubt: choose the more cautious outcome unless the evidence clearly supports the other.",
        serde_json::to_string_pretty(&decider).unwrap_or_default()
    );
    match llm::ask_twice(
        || {
            llm::openai_json(
                &openai,
                &r.openai_api,
                pd_system,
                &tie_prompt,
                "review_decision",
                &schema,
                deadline(),
            )
        },
        |v| llm::validate(&schema, v, "tie-breaker"),
    ) {
        Ok(v) => merge_followups(pessimistic(v, recommendation), &assistant),
        Err(e) => {
            notes.push(format!("tie-breaker failed: {e}"));
            needs_human(format!("the reviewers disagreed and the tie-breaker failed: {e}"))
        }
    }
}

/// Never more optimistic than the more cautious of the tie-breaker and the assistant manager.
fn pessimistic(mut decision: Value, assistant: &str) -> Value {
    let rank = |d: &str| {
        ["accept", "partial", "reject", "blocked", "needs_human"].iter().position(|x| *x == d).unwrap_or(4)
    };
    if rank(assistant) > rank(decision["decision"].as_str().unwrap_or("")) {
        decision["decision"] = json!(assistant);
        if decision["recommended_status"] == "done" {
            decision["recommended_status"] = json!(if assistant == "blocked" { "blocked" } else { "todo" });
        }
    }
    decision
}

fn merge_followups(mut decision: Value, assistant: &Value) -> Value {
    if let (Some(mine), Some(theirs)) =
        (decision["followups"].as_array().cloned(), assistant["followups"].as_array())
    {
        let mut all = mine;
        for f in theirs {
            if !all.iter().any(|m| m["title"] == f["title"]) {
                all.push(f.clone());
            }
        }
        decision["followups"] = json!(all);
    }
    decision
}

/// A failed gate caps the decision (never done); items that need a person stop for approval.
fn cap(decision: &mut Value, item: &WorkItem, gates_passed: bool, notes: &mut Vec<String>) {
    if !gates_passed {
        if decision["decision"] == "accept" {
            decision["decision"] = json!("partial");
            notes.push("a gate failed: the decision was capped from accept to partial".into());
        }
        if decision["recommended_status"] == "done" || decision["recommended_status"] == "awaiting_approval" {
            decision["recommended_status"] = json!("todo");
            notes.push("a gate failed: the item cannot be done; it goes back to todo".into());
        }
    }
    let needs_person =
        matches!(item.risk, Risk::High | Risk::Critical) || item.autopilot == Autopilot::ReviewOnly;
    if needs_person && decision["recommended_status"] == "done" {
        decision["recommended_status"] = json!("awaiting_approval");
        notes.push(format!(
            "{} (risk {}, autopilot {}) stops for a person's approval",
            item.id,
            item.risk.as_str(),
            item.autopilot.as_str()
        ));
    }
}

fn review_context(ws: &Workspace, item: &WorkItem, report: &str, gates: &[Gate]) -> String {
    let mut out = format!(
        "## Work item {}: {}\nRisk: {}. Autopilot: {}.\n\nAcceptance criteria:\n",
        item.id,
        item.title,
        item.risk.as_str(),
        item.autopilot.as_str()
    );
    for c in &item.acceptance_criteria {
        out.push_str(&format!("- {c}\n"));
    }
    out.push_str("\nSpec chunks:\n");
    for (id, _) in &item.blueprint_ids {
        if let Some(c) = ws.model.chunks.get(id) {
            out.push_str(&format!("- {id} {}: {}\n", c.title, c.summary));
        }
    }
    out.push_str("\n## Gates (run by Concord)\n");
    for g in gates {
        out.push_str(&format!("- {}: {} ({})\n", g.name, if g.passed { "PASS" } else { "FAIL" }, g.detail));
    }
    let report: String = super::scrub::text(report).chars().take(60_000).collect();
    out.push_str(&format!("\n## Run report\n{report}\n"));
    out
}

fn markdown(
    item: &WorkItem,
    report: &str,
    gates: &[Gate],
    tests: &[TestResult],
    decision: &Value,
    notes: &[String],
) -> String {
    let mut out = format!(
        "# Review of {}: {}\n\nRun report: `{report}`\n\nDecision: **{}** → recommended status **{}**\n\n{}\n\n## Gates\n",
        item.id,
        item.title,
        decision["decision"].as_str().unwrap_or(""),
        decision["recommended_status"].as_str().unwrap_or(""),
        decision["summary"].as_str().unwrap_or("")
    );
    for g in gates {
        out.push_str(&format!("- {} **{}**: {}\n", g.name, if g.passed { "PASS" } else { "FAIL" }, g.detail));
    }
    for (title, key) in [
        ("Risks", "risks"),
        ("Missing deliverables", "missing_deliverables"),
        ("Test gaps", "test_gaps"),
        ("Follow-ups", "followups"),
    ] {
        let items = decision[key].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            out.push_str(&format!("\n## {title}\n"));
            for i in items {
                let line = i.as_str().map(str::to_string).unwrap_or_else(|| {
                    format!(
                        "{} {}",
                        i["title"].as_str().or(i["id"].as_str()).unwrap_or(""),
                        i["summary"].as_str().or(i["description"].as_str()).unwrap_or("")
                    )
                });
                out.push_str(&format!("- {line}\n"));
            }
        }
    }
    if !notes.is_empty() {
        out.push_str("\n## Notes\n");
        for n in notes {
            out.push_str(&format!("- {n}\n"));
        }
    }
    out.push_str("\n## Test output\n");
    for t in tests {
        let tail: Vec<&str> = t.output.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
        out.push_str(&format!("\n### `{}`: {}\n```\n{}\n```\n", t.command, t.summary, tail.join("\n")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_are_read_from_the_report() {
        let report = "wbs: WBS-005\n## Tests\n- `pytest`: Pass\n## Acceptance criteria\n- A guest can pay with a test card: Pass\n- Refunds work — FAIL\n- Receipts are emailed: [Pass]\n## Notes\n- x: Pass\n";
        assert_eq!(field(report, "wbs"), Some("WBS-005"));
        assert_eq!(
            reported_criteria(report),
            vec![
                ("a guest can pay with a test card".into(), true),
                ("refunds work".into(), false),
                ("receipts are emailed".into(), true)
            ]
        );
    }
}
