//! `concord apply` and `concord approve`: turn a review decision into the queue event, a line in
//! the progress log, the lock released and follow-up work items. Idempotent (a review applied
//! once is recognised), every file written whole.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::queue::{self, check_transition, Event};
use crate::model::{Autopilot, Risk, Status, WorkItem};
use crate::workspace::Workspace;

/// The review decision to apply: a path, or (none) the newest decision in the reviews folder.
pub fn find_decision(ws: &Workspace, review: Option<&str>) -> Result<PathBuf, String> {
    let dir = ws.root.join(&ws.config.paths.reviews_dir);
    if let Some(review) = review {
        let path = ws.root.join(review);
        let path =
            if path.extension().is_some_and(|e| e == "md") { path.with_extension("json") } else { path };
        return path.is_file().then_some(path).ok_or_else(|| format!("no review decision at {review}"));
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

/// Whether the gates recorded beside a decision all passed.
fn gates_passed(decision_path: &Path) -> Result<bool, String> {
    let gates = decision_path.with_extension("gates.json");
    let text = std::fs::read_to_string(&gates).map_err(|_| {
        format!("{} is missing: without recorded gates nothing can be marked done", gates.display())
    })?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", gates.display()))?;
    Ok(value["passed"] == Value::Bool(true))
}

pub fn apply(ws: &Workspace, review: Option<&str>, by: &str) -> Result<String, String> {
    let path = find_decision(ws, review)?;
    let rel = crate::workspace::relative(&ws.root, &path).unwrap_or_else(|| path.display().to_string());
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {rel}: {e}"))?;
    let decision: Value = serde_json::from_str(&text).map_err(|e| format!("{rel} is not JSON: {e}"))?;
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
    if target == Status::Done {
        if !gates_passed(&path)? {
            return Err(format!("{rel} recommends done, but its gates did not all pass: done is impossible while a gate fails"));
        }
        if needs_person(item) {
            target = Status::AwaitingApproval;
        }
    }
    check_transition(item, current, target).map_err(|why| format!("cannot apply {rel}: {why}"))?;

    // Follow-ups first: a re-run after a crash finds them by title and does not add them twice.
    let followups = add_followups(ws, item, &decision)?;
    let reason = format!("{verdict}: applied {rel}");
    let queue_path = ws.root.join(&ws.config.paths.queue);
    queue::append(
        &queue_path,
        &Event {
            id,
            status: target,
            by,
            reason: &reason,
            attempt: None,
            extra: Some(json!({ "review": rel })),
        },
    )
    .map_err(|e| format!("cannot write the queue: {e}"))?;
    for new_id in &followups {
        queue::append(
            &queue_path,
            &Event {
                id: new_id,
                status: Status::Todo,
                by,
                reason: &format!("follow-up of {id} from {rel}"),
                attempt: None,
                extra: None,
            },
        )
        .map_err(|e| format!("cannot write the queue: {e}"))?;
    }
    let summary = decision["summary"].as_str().unwrap_or("").lines().next().unwrap_or("");
    progress_line(
        ws,
        &format!("{id} {} → {} ({verdict}): {summary} (review: {rel})", current.as_str(), target.as_str()),
    )?;
    let released = match ws.model.lock_for_task(id) {
        Some(lock) if target != Status::InProgress => super::locks::LockDir::new(&ws.root, &ws.config)
            .release(&lock.agent, Some(id))
            .map(|l| format!("; released {}'s lock", l.agent))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let extra =
        if followups.is_empty() { String::new() } else { format!("; follow-ups {}", followups.join(", ")) };
    let next = if target == Status::AwaitingApproval {
        format!(". A person must approve it: `concord approve {id}`")
    } else {
        String::new()
    };
    Ok(format!("{id}: {} → {}{released}{extra}{next}", current.as_str(), target.as_str()))
}

/// A person's sign-off for an item awaiting approval.
pub fn approve(ws: &Workspace, id: &str, by: &str) -> Result<String, String> {
    let item = ws.model.work.get(id).ok_or_else(|| format!("{id} is not a work item"))?;
    let current = ws.model.status_of(id);
    if current != Status::AwaitingApproval {
        return Err(format!(
            "{id} is {}, not awaiting_approval: there is nothing to approve",
            current.as_str()
        ));
    }
    check_transition(item, current, Status::Done)?;
    queue::append(
        &ws.root.join(&ws.config.paths.queue),
        &Event { id, status: Status::Done, by, reason: "approved by a person", attempt: None, extra: None },
    )
    .map_err(|e| format!("cannot write the queue: {e}"))?;
    progress_line(ws, &format!("{id} awaiting_approval → done: approved by {by}"))?;
    Ok(format!("{id}: approved by {by}; it is done"))
}

fn progress_line(ws: &Workspace, text: &str) -> Result<(), String> {
    let line = format!("- {} {text}", crate::time::format_rfc3339(crate::time::now_secs()));
    queue::append_line(&ws.root.join(&ws.config.paths.progress), &line)
        .map_err(|e| format!("cannot write {}: {e}", ws.config.paths.progress))
}

/// Append the decision's follow-ups to the WBS as `<ID>A`, `<ID>B`, …; returns the new IDs.
fn add_followups(ws: &Workspace, item: &WorkItem, decision: &Value) -> Result<Vec<String>, String> {
    let wanted = decision["followups"].as_array().cloned().unwrap_or_default();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let wbs_path = ws.root.join(&ws.config.paths.wbs);
    let text = std::fs::read_to_string(&wbs_path)
        .map_err(|e| format!("cannot read {}: {e}", ws.config.paths.wbs))?;
    let mut wbs: Value = serde_json::from_str(&text).map_err(|e| {
        format!("{} is not valid JSON, so follow-ups cannot be added: {e}", ws.config.paths.wbs)
    })?;
    let list = match &mut wbs {
        Value::Array(list) => list,
        Value::Object(map) => match ["items", "wbs", "tasks"].iter().find(|k| map.contains_key(**k)) {
            Some(key) => {
                map.get_mut(*key).and_then(Value::as_array_mut).ok_or("the WBS items are not an array")?
            }
            None => return Err("the WBS has no items array".into()),
        },
        _ => return Err("the WBS is neither an array nor an object".into()),
    };
    let base = item.id.trim_end_matches(|c: char| c.is_ascii_uppercase());
    let mut added = Vec::new();
    for followup in wanted {
        let title = followup["title"].as_str().unwrap_or("Follow-up").to_string();
        if list.iter().any(|w| {
            w["title"] == title.as_str()
                && w["depends_on"].as_array().is_some_and(|d| d.contains(&json!(item.id)))
        }) {
            continue;
        }
        let taken: Vec<String> = list.iter().filter_map(|w| w["id"].as_str().map(str::to_string)).collect();
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
        list.push(json!({
            "id": new_id, "title": title, "phase": item.phase,
            "blueprint_ids": item.blueprint_ids.iter().map(|(b, _)| b).collect::<Vec<_>>(),
            "scope_paths": scope,
            "acceptance_criteria": [followup["summary"].as_str().unwrap_or("")],
            "test_commands": item.test_commands,
            "risk_level": item.risk.as_str(), "autopilot_mode": item.autopilot.as_str(),
            "depends_on": [item.id],
        }));
        added.push(new_id);
    }
    if !added.is_empty() {
        let mut out = serde_json::to_string_pretty(&wbs).expect("json");
        out.push('\n');
        crate::fsutil::write_atomic(&wbs_path, out.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", ws.config.paths.wbs))?;
    }
    Ok(added)
}
