//! `concord apply` and `concord approve`: turn a review decision into the queue event, a line in
//! the progress log, the lock released and follow-up work items. Each is planned whole and run
//! as a recorded, resumable sequence (`journal`): a run killed at any point is finished by the
//! next one, and a review applied once is recognised.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::journal::{self, Plan};
use super::queue::{check_transition, Event};
use crate::model::{Autopilot, Risk, Status, WorkItem};
use crate::workspace::Workspace;

/// The review decision to apply: a path, or (none) the newest decision in the reviews folder.
pub fn find_decision(ws: &Workspace, review: Option<&str>) -> Result<PathBuf, String> {
    let dir = ws.root.join(&ws.config.paths.reviews_dir);
    if let Some(review) = review {
        let path = ws.root.join(review);
        let path =
            if path.extension().is_some_and(|e| e == "md") { path.with_extension("json") } else { path };
        return path.exists().then_some(path).ok_or_else(|| format!("no review decision at {review}"));
    }
    std::fs::read_dir(&dir)
        .map_err(|_| {
            format!("no reviews: {} does not exist; run `concord review` first", ws.config.paths.reviews_dir)
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json") && !p.to_string_lossy().ends_with(".gates.json")
        })
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .ok_or_else(|| format!("no review decisions in {}", ws.config.paths.reviews_dir))
}

fn needs_person(item: &WorkItem) -> bool {
    matches!(item.risk, Risk::High | Risk::Critical) || item.autopilot == Autopilot::ReviewOnly
}

/// A file of the workspace as text, through the one reader.
fn read_text(ws: &Workspace, path: &Path) -> Result<String, String> {
    let rel = crate::workspace::relative(&ws.root, path).unwrap_or_else(|| path.display().to_string());
    crate::fsutil::read_text_in_workspace(
        &ws.root,
        path.strip_prefix(&ws.root).unwrap_or(path),
        ws.config.max_file_size,
    )
    .map_err(|e| format!("{rel} {e}"))?
    .ok_or_else(|| format!("{rel} does not exist"))
}

/// Whether the gates recorded beside a decision all passed.
fn gates_passed(ws: &Workspace, decision_path: &Path) -> Result<bool, String> {
    let gates = decision_path.with_extension("gates.json");
    let text = read_text(ws, &gates)
        .map_err(|e| format!("{e}: without recorded gates nothing can be marked done"))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", gates.display()))?;
    Ok(value["passed"] == Value::Bool(true))
}

/// Finish what an interrupted `apply` or `approve` left. When one was finished the workspace
/// changed under `ws`, so it is loaded again.
fn resume(ws: &Workspace) -> Result<(Vec<Plan>, Option<Workspace>), String> {
    let finished = journal::resume_pending(&ws.root, &ws.config)?;
    if finished.is_empty() {
        return Ok((finished, None));
    }
    let fresh = Workspace::load(&ws.root).map_err(|e| e.to_string())?;
    Ok((finished, Some(fresh)))
}

fn finished_message(finished: &[Plan], key: &str) -> Option<String> {
    finished
        .iter()
        .find(|p| p.key == key)
        .map(|p| format!("{} (finished what an interrupted run had left)", p.message))
}

fn progress_line(at: &str, text: &str) -> String {
    format!("- {at} {text}")
}

pub fn apply(ws: &Workspace, review: Option<&str>, by: &str) -> Result<String, String> {
    apply_with(ws, review, by, false)
}

/// `apply`; with `hold_for_checks`, work that would become done waits in `awaiting_checks`
/// (the autopilot is about to propose it in a pull request whose checks must pass first).
pub fn apply_with(
    ws: &Workspace,
    review: Option<&str>,
    by: &str,
    hold_for_checks: bool,
) -> Result<String, String> {
    let (finished, fresh) = resume(ws)?;
    let ws = fresh.as_ref().unwrap_or(ws);
    let path = find_decision(ws, review)?;
    let rel = crate::workspace::relative(&ws.root, &path).unwrap_or_else(|| path.display().to_string());
    let key = format!("apply {rel}");
    if let Some(message) = finished_message(&finished, &key) {
        return Ok(message);
    }
    let text = read_text(ws, &path)?;
    let mut decision: Value = serde_json::from_str(&text).map_err(|e| format!("{rel} is not JSON: {e}"))?;
    // Decisions written before reviews could raise owner questions raise none.
    if let Some(object) = decision.as_object_mut() {
        object.entry("owner_questions").or_insert_with(|| Value::Array(Vec::new()));
    }
    super::llm::validate(&super::llm::decision_schema(), &decision, &rel)?;
    if ws
        .model
        .queue
        .iter()
        .any(|e| e.reason.as_deref().is_some_and(|r| r.contains(&format!("applied {rel}"))))
    {
        return Ok(format!("{rel} was already applied; nothing changed"));
    }
    let id = decision["wbs_id"].as_str().unwrap_or_default();
    let item = ws.model.work.get(id).ok_or_else(|| format!("{rel} is for {id}, which is not in the WBS"))?;
    let current = ws.model.status_of(id);
    let verdict = decision["decision"].as_str().unwrap_or("");
    let mut target = match decision["recommended_status"].as_str().and_then(Status::parse) {
        Some(status) => status,
        None => return Err(format!("{rel}: unknown recommended_status")),
    };
    if verdict == "needs_human" {
        target = Status::AwaitingApproval;
    }
    // Only Concord holds accepted work for its checks; a decision asking for that asks for done,
    // and meets done's conditions.
    if target == Status::AwaitingChecks {
        target = Status::Done;
    }
    if target == Status::Done {
        if !gates_passed(ws, &path)? {
            return Err(format!("{rel} recommends done, but its gates did not all pass: done is impossible while a gate fails"));
        }
        if needs_person(item) {
            target = Status::AwaitingApproval;
        }
    }
    check_transition(item, current, target).map_err(|why| format!("cannot apply {rel}: {why}"))?;
    // Questions the review raised are recorded first (a rerun finds them recorded and asks
    // nothing again), and an item with a pending question waits for its owner instead of
    // becoming done.
    let raised = record_raised_questions(ws, id, &rel, &decision)?;
    let mut waits = String::new();
    if target == Status::Done {
        let pending = super::questions::pending_about(&ws.root, &ws.config, id)?;
        if !pending.is_empty() {
            target = Status::AwaitingApproval;
            waits = format!(". It waits for owner question {} before it can be approved", pending.join(", "));
        }
    }

    // Work with a pull request waits for its checks whoever applies the decision.
    let proposed = super::pull_requests::latest_for(ws, id).is_some();
    if target == Status::Done && (hold_for_checks || proposed) {
        target = Status::AwaitingChecks;
        waits = ". It waits for its pull request's required checks".into();
    }

    let followups = plan_followups(ws, item, &decision)?;
    let followup_ids: Vec<String> =
        followups.iter().filter_map(|f| f["id"].as_str().map(str::to_string)).collect();
    let at = crate::time::format_rfc3339(crate::time::now_secs());
    let reason = format!("{verdict}: applied {rel}");
    let mut queue = vec![Event { review: Some(&rel), ..Event::new(id, target, by, &reason) }.line(&at)];
    for new_id in &followup_ids {
        let reason = format!("follow-up of {id} from {rel}");
        queue.push(Event::new(new_id, Status::Todo, by, &reason).line(&at));
    }
    let summary = decision["summary"].as_str().unwrap_or("").lines().next().unwrap_or("");
    let progress = vec![progress_line(
        &at,
        &format!("{id} {} → {} ({verdict}): {summary} (review: {rel})", current.as_str(), target.as_str()),
    )];
    // A lock granted on the shared remote must still be the one the run worked under: a
    // decision about work whose lock was swept and taken again by someone else is refused.
    if let Some(lock) = ws.model.lock_for_task(id) {
        super::locks::LockDir::new(&ws.root, &ws.config)
            .check_fence(&lock.agent, id, lock.fencing_token)
            .map_err(|e| format!("cannot apply {rel}: {e}"))?;
    }
    let release = match ws.model.lock_for_task(id) {
        Some(lock) if target != Status::InProgress => Some((lock.agent.clone(), id.to_string())),
        _ => None,
    };
    let released =
        release.as_ref().map(|(agent, _)| format!("; released {agent}'s lock")).unwrap_or_default();
    let extra = if followup_ids.is_empty() {
        String::new()
    } else {
        format!("; follow-ups {}", followup_ids.join(", "))
    };
    let next = if !waits.is_empty() {
        waits
    } else if target == Status::AwaitingApproval {
        format!(". A person must approve it: `concord approve {id}`")
    } else {
        String::new()
    };
    let asked = if raised.is_empty() {
        String::new()
    } else {
        format!("; owner question {} raised", raised.join(", "))
    };
    let message = format!("{id}: {} → {}{released}{extra}{asked}{next}", current.as_str(), target.as_str());
    journal::run(&ws.root, &ws.config, &Plan { key, followups, queue, progress, release, message })
}

/// A person's sign-off for an item awaiting approval.
pub fn approve(ws: &Workspace, id: &str, by: &str) -> Result<String, String> {
    let (finished, fresh) = resume(ws)?;
    let ws = fresh.as_ref().unwrap_or(ws);
    let key = format!("approve {id}");
    if let Some(message) = finished_message(&finished, &key) {
        return Ok(message);
    }
    let item = ws.model.work.get(id).ok_or_else(|| format!("{id} is not a work item"))?;
    let current = ws.model.status_of(id);
    if current != Status::AwaitingApproval {
        return Err(format!(
            "{id} is {}, not awaiting_approval: there is nothing to approve",
            current.as_str()
        ));
    }
    check_transition(item, current, Status::Done)?;
    let pending = super::questions::pending_about(&ws.root, &ws.config, id)?;
    if let Some(first) = pending.first() {
        return Err(format!(
            "{id} cannot become done while owner question {} is pending: answer it first (`concord answer {first} <letter>`)",
            pending.join(", ")
        ));
    }
    // An item with a pull request is done only when its required checks are green.
    super::pull_requests::checks_gate(ws, id).map_err(|why| format!("{id} cannot become done: {why}"))?;
    let at = crate::time::format_rfc3339(crate::time::now_secs());
    let event = Event::new(id, Status::Done, by, "approved by a person");
    let plan = Plan {
        key,
        followups: Vec::new(),
        queue: vec![event.line(&at)],
        progress: vec![progress_line(&at, &format!("{id} awaiting_approval → done: approved by {by}"))],
        release: None,
        message: format!("{id}: approved by {by}; it is done"),
    };
    journal::run(&ws.root, &ws.config, &plan)
}

/// Record the owner questions a decision raises about item `id`, each once: a question of the
/// same text about the same item already recorded is not asked again. Returns the new IDs.
fn record_raised_questions(
    ws: &Workspace,
    id: &str,
    rel: &str,
    decision: &Value,
) -> Result<Vec<String>, String> {
    let raised: Vec<crate::formats::RaisedQuestion> =
        serde_json::from_value(decision["owner_questions"].clone())
            .map_err(|e| format!("{rel}: owner_questions: {e}"))?;
    let mut asked = Vec::new();
    // The questions already recorded about the item, by their text.
    let mut known: Vec<String> = super::questions::load(&ws.root, &ws.config)?
        .into_iter()
        .filter(|q| q.wbs.iter().any(|w| w == id))
        .map(|q| q.question)
        .collect();
    for question in raised {
        if known.iter().any(|k| k == question.question.trim()) {
            continue;
        }
        known.push(question.question.trim().to_string());
        let recommend = question
            .recommended
            .map(|letter| (letter.trim().to_ascii_uppercase(), question.reason.clone()))
            .filter(|(letter, _)| {
                letter.len() == 1
                    && letter.as_bytes()[0]
                        .checked_sub(b'A')
                        .is_some_and(|n| (n as usize) < question.options.len())
            });
        let ask = super::questions::Ask {
            question: question.question,
            options: question.options,
            recommend,
            wbs: vec![id.to_string()],
            asked_by: format!("reviewer ({rel})"),
            ..Default::default()
        };
        let recorded = super::questions::ask(ws, &ask)
            .map_err(|e| format!("{rel}: an owner question it raises: {e}"))?;
        asked.push(recorded.id);
    }
    Ok(asked)
}

/// The decision's follow-ups as new work items `<ID>A`, `<ID>B`, … (a follow-up already in the
/// WBS, by title and dependency, is not planned again). The WBS is read with the model's parser
/// and must read exactly: a file that does not (a syntax error, a duplicate key) is never
/// rewritten.
fn plan_followups(ws: &Workspace, item: &WorkItem, decision: &Value) -> Result<Vec<Value>, String> {
    let wanted = decision["followups"].as_array().cloned().unwrap_or_default();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let wbs_rel = &ws.config.paths.wbs;
    let text = read_text(ws, &ws.root.join(wbs_rel))?;
    let json = crate::json::parse(&text, &[])
        .map_err(|e| format!("{wbs_rel}: {}", journal::syntax_message(&text, &e)))?;
    let existing =
        journal::items_array(&json).map_err(|e| format!("{wbs_rel}: {e}"))?.as_array().unwrap_or_default();
    let mut taken: Vec<String> =
        existing.iter().filter_map(|w| w.get("id")?.as_str().map(str::to_string)).collect();
    let base = item.id.trim_end_matches(|c: char| c.is_ascii_uppercase());
    let mut planned = Vec::new();
    for followup in wanted {
        let title = followup["title"].as_str().unwrap_or("Follow-up").to_string();
        let already = existing.iter().any(|w| {
            w.get("title").and_then(|t| t.as_str()) == Some(title.as_str())
                && w.get("depends_on")
                    .and_then(|d| d.as_array())
                    .is_some_and(|d| d.iter().any(|x| x.as_str() == Some(item.id.as_str())))
        });
        if already {
            continue;
        }
        let Some(new_id) = ('A'..='Z')
            .map(|c| format!("{base}{c}"))
            .find(|id| !taken.contains(id) && ws.config.ids.is_id(id))
        else {
            return Err(format!("{base} has no free follow-up letter left"));
        };
        let scope = followup["scope_paths"]
            .as_array()
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| item.scope_paths.iter().map(|s| json!(s)).collect());
        planned.push(json!({
            "id": new_id, "title": title, "phase": item.phase,
            "blueprint_ids": item.blueprint_ids.iter().map(|(b, _)| b).collect::<Vec<_>>(),
            "scope_paths": scope,
            "acceptance_criteria": [followup["summary"].as_str().unwrap_or("")],
            "test_commands": item.test_commands,
            // The follow-up is held to the same gates as the work it follows.
            "smoke_checks": item.smoke_checks,
            "quality_gates": item.quality_gates.iter().map(|g| g.text.as_str()).collect::<Vec<_>>(),
            "risk_level": item.risk.as_str(), "autopilot_mode": item.autopilot.as_str(),
            "depends_on": [item.id],
        }));
        taken.push(new_id);
    }
    Ok(planned)
}
