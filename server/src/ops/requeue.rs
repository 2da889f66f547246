//! `concord requeue WBS-ID --reason …`: move an item whose run died (its machine crashed, or
//! the process was killed with `kill -9`) from `in_progress` back to `todo`, release its lock
//! and undo what the run left, when the run folder is on this machine. Refused while the run's
//! process or its agent is still alive on this host: a live run records its own outcome.

use serde_json::Value;

use super::locks::LockDir;
use super::queue::{self, Event};
use crate::model::Status;
use crate::workspace::Workspace;

/// Whether a recorded Concord process id is still that process (not a reused id).
fn still_concord(pid: i64) -> bool {
    if !super::agents::process_alive(pid) {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains("concord"),
        // No /proc: trust the liveness check.
        Err(_) => true,
    }
}

pub fn requeue(ws: &Workspace, id: &str, reason: &str, by: &str) -> Result<String, String> {
    super::scrub::use_config(&ws.config);
    requeue_unscrubbed(ws, id, reason, by).map(|m| super::scrub::text(&m)).map_err(|e| super::scrub::text(&e))
}

fn requeue_unscrubbed(ws: &Workspace, id: &str, reason: &str, by: &str) -> Result<String, String> {
    let config = &ws.config;
    let item = ws.model.work.get(id).ok_or_else(|| format!("{id} is not a work item"))?;
    if reason.trim().is_empty() {
        return Err("say why with --reason (it is recorded in the queue)".into());
    }
    let queue_path = ws.root.join(&config.paths.queue);
    let event = queue::last_event(&queue_path, id).unwrap_or(Value::Null);
    let status = queue::current_status(&queue_path, id);
    if status != Status::InProgress {
        return Err(format!(
            "{id} is {}, not in_progress: requeue only moves an item whose run died",
            status.as_str()
        ));
    }
    let run = event.get("run").and_then(Value::as_str).unwrap_or("").to_string();
    let host = event.get("host").and_then(Value::as_str).unwrap_or("").to_string();
    let this_host = super::locks::hostname().unwrap_or_default();
    let run_dir = super::agents::run_dir(&ws.root, &run);
    let mut notes = Vec::new();
    if host.is_empty() || host == this_host {
        if let Some(pid) = event.get("pid").and_then(Value::as_i64).filter(|p| still_concord(*p)) {
            return Err(format!(
                "{id}'s run {run} is still running on this host (concord, pid {pid}). Stop it with `kill -TERM {pid}`: it records todo and releases the lock itself."
            ));
        }
        let process: Value = std::fs::read_to_string(run_dir.join("process.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        if let Some(agent) =
            process.get("agent_pid").and_then(Value::as_i64).filter(|p| super::agents::process_alive(*p))
        {
            return Err(format!(
                "{id}'s run {run} died, but its agent (pid {agent}) is still running and may still change files. Stop its process group first: `kill -TERM -- -{agent}`."
            ));
        }
    } else {
        notes.push(format!(
            "the run was started on {host}, whose processes cannot be seen from here: requeued on your word"
        ));
    }

    // What the dead run left is undone as a failed run's would be, when its folder is here.
    let lock = ws.model.lock_for_task(id).cloned();
    if run_dir.is_dir() {
        let base = lock
            .as_ref()
            .and_then(|l| super::git::head_at_lock(&ws.root, config, &l.agent))
            .unwrap_or_else(|| "HEAD".into());
        let before = super::git::read_snapshot(&run_dir);
        match super::git::changes_during(&ws.root, &base, &before) {
            Ok(mut changes) => {
                changes.retain(|c| !crate::scope::always_allowed(config, &c.path));
                notes.push(
                    super::rollback::undo(&ws.root, &run_dir, &base, &before, &changes).describe(&ws.root),
                );
            }
            Err(_) => notes.push("not a git repository: the run's changes could not be undone".into()),
        }
    } else if !run.is_empty() {
        notes
            .push(format!("its run folder {} is not on this machine: nothing was undone", run_dir.display()));
    }

    queue::check_transition(item, Status::InProgress, Status::Todo)?;
    let attempt = event.get("attempt").and_then(Value::as_u64).and_then(|a| u32::try_from(a).ok());
    queue::append(
        &queue_path,
        &Event {
            attempt,
            run: (!run.is_empty()).then_some(run.as_str()),
            ..Event::new(id, Status::Todo, by, &format!("requeued: {}", reason.trim()))
        },
    )
    .map_err(|e| format!("cannot write the queue: {e}"))?;
    if let Some(lock) = lock {
        match LockDir::new(&ws.root, config).release(&lock.agent, Some(id)) {
            Ok(_) => notes.push(format!("released the lock of {}", lock.agent)),
            Err(e) => notes.push(format!("WARNING: the lock of {} could not be released ({e})", lock.agent)),
        }
    }
    let mut message = format!("{id}: in_progress → todo ({})", reason.trim());
    for note in notes {
        message.push_str(&format!("; {note}"));
    }
    Ok(message)
}
