//! `concord dispatch`: pick the next eligible work item, hand it to an agent CLI, and leave
//! the queue in a true state whatever happens.
//!
//! Eligible: status `todo`, every `depends_on` item `done`, `autopilot_mode` not `disabled`,
//! every `access` check `PASS`, and a scope that overlaps no live lock. Order: by phase, in
//! the order phases first appear in the WBS, then by position in the WBS.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::agents::{self, Placeholders};
use super::locks::LockDir;
use super::queue::{self, Event};
use crate::model::{Autopilot, Status, WorkItem};
use crate::workspace::Workspace;

/// Why an item cannot be dispatched now, or `Ok` when it can.
pub fn eligibility(ws: &Workspace, item: &WorkItem) -> Result<(), String> {
    let model = &ws.model;
    let status = model.status_of(&item.id);
    if status != Status::Todo {
        return Err(format!("its status is {}", status.as_str()));
    }
    if item.autopilot == Autopilot::Disabled {
        return Err("its autopilot_mode is disabled".into());
    }
    let waiting: Vec<&str> = item
        .depends_on
        .iter()
        .filter(|(dep, _)| model.status_of(dep) != Status::Done)
        .map(|(dep, _)| dep.as_str())
        .collect();
    if !waiting.is_empty() {
        return Err(format!("it depends on {} (not done)", waiting.join(", ")));
    }
    let blocked: Vec<&str> = item
        .access
        .iter()
        .filter(|a| !model.access.get(*a).is_some_and(|c| c.passed))
        .map(String::as_str)
        .collect();
    if !blocked.is_empty() {
        return Err(format!("access checks not PASS: {}", blocked.join(", ")));
    }
    if item.scope_paths.is_empty() {
        return Err("it has no scope_paths, so no lock can be taken".into());
    }
    if let Some(lock) =
        model.locks.iter().find(|l| crate::globs::first_overlap(&item.scope_paths, &l.scope_paths).is_some())
    {
        return Err(format!("its scope overlaps the lock of {} ({})", lock.agent, lock.task_id));
    }
    Ok(())
}

/// Work items in dispatch order: phase (first appearance), then WBS order.
pub fn in_priority_order(ws: &Workspace) -> Vec<&WorkItem> {
    let mut items: Vec<&WorkItem> = ws.model.work.values().collect();
    // The WBS's own order: the line of each item's id.
    items.sort_by_key(|w| (w.place.span.start.line, w.id.clone()));
    let mut phases: Vec<Option<&str>> = Vec::new();
    for item in &items {
        if !phases.contains(&item.phase.as_deref()) {
            phases.push(item.phase.as_deref());
        }
    }
    items.sort_by_key(|w| phases.iter().position(|p| *p == w.phase.as_deref()).unwrap_or(usize::MAX));
    items
}

pub struct Request<'a> {
    pub id: Option<&'a str>,
    pub agent: &'a str,
    /// Overrides `dispatch.agent_cli`.
    pub cli: Option<&'a str>,
    /// Overrides `dispatch.model`.
    pub model: Option<&'a str>,
}

#[derive(Debug)]
pub struct Outcome {
    pub id: String,
    pub run_id: String,
    pub ok: bool,
    pub message: String,
}

/// Dispatch one item. `Err` means nothing was started (and nothing changed); `Ok` with
/// `ok: false` means the run failed and the item went back to `todo` with its lock released.
pub fn dispatch(ws: &Workspace, request: &Request, cancel: &Arc<AtomicBool>) -> Result<Outcome, String> {
    let item = match request.id {
        Some(id) => {
            let item = ws.model.work.get(id).ok_or_else(|| format!("{id} is not a work item"))?;
            eligibility(ws, item).map_err(|why| format!("{id} cannot be dispatched: {why}"))?;
            item
        }
        None => in_priority_order(ws).into_iter().find(|w| eligibility(ws, w).is_ok()).ok_or_else(|| {
            let counts = ws.model.work.values().filter(|w| ws.model.status_of(&w.id) == Status::Todo).count();
            format!("no work item is eligible ({counts} todo; see `concord status` for why each is waiting)")
        })?,
    };
    let config = &ws.config;
    let cli_name = request.cli.unwrap_or(&config.dispatch.agent_cli);
    let cli = agents::resolve(cli_name, &config.agents)?;
    let model_name = request.model.unwrap_or(&config.dispatch.model);
    let run_id = format!(
        "{}-{}",
        item.id,
        crate::time::format_rfc3339(crate::time::now_secs()).replace([':', '-'], "")
    );
    let run_dir = agents::run_dir(&ws.root, &run_id);
    let task_file = run_dir.join("task.md");
    let last_message = run_dir.join("last-message.txt");
    let report = format!("{}/{run_id}.md", ws.config.paths.runs_dir);
    let instruction = format!("Read the task file {} and do exactly what it says.", task_file.display());
    let argv = agents::render_argv(
        &cli,
        &Placeholders {
            model: model_name,
            task_file: &task_file.display().to_string(),
            instruction: &instruction,
            last_message_file: &last_message.display().to_string(),
        },
    );
    // Flags are checked before anything is written or locked.
    let help = agents::help_text(&cli, &ws.root)
        .map_err(|e| format!("cannot read {cli_name}'s help to check its flags: {e}"))?;
    if let Some(flag) = agents::unknown_flag(&argv, &help) {
        return Err(format!(
            "refusing to start {cli_name}: its `{}` does not list the flag {flag}. Fix the command line in concord.toml ([agents] / [dispatch]); Concord never passes a flag the CLI does not document.",
            cli.help.join(" ")
        ));
    }

    let locks = LockDir::new(&ws.root, config);
    let lock = locks
        .acquire(&ws.root, config, request.agent, &item.id, None)
        .map_err(|e| format!("cannot take the lock: {e}"))?;
    std::fs::create_dir_all(&run_dir).map_err(|e| format!("cannot create {}: {e}", run_dir.display()))?;
    let _ = std::fs::write(ws.root.join(".concord/.gitignore"), "*\n");
    let task_text = task_file_text(ws, item, &lock.scope_paths, &report, &run_id);
    // What was already changed before the run is not the run's doing.
    let base = super::git::head_at_lock(&ws.root, config, &lock.agent).unwrap_or_else(|| "HEAD".into());
    let before = super::git::dirty_snapshot(&ws.root, &base);
    let _ =
        std::fs::write(run_dir.join("dirty-before.json"), serde_json::to_string(&before).unwrap_or_default());
    let attempt = ws.model.queue.iter().filter(|e| e.id == item.id && e.status == Status::InProgress).count()
        as i64
        + 1;
    let setup = (|| -> std::io::Result<()> {
        crate::fsutil::write_atomic(&task_file, task_text.as_bytes())?;
        let decision = json!({
            "at": crate::time::format_rfc3339(crate::time::now_secs()),
            "task_id": item.id, "agent": request.agent, "cli": cli_name,
            "model": if model_name.is_empty() { None } else { Some(model_name) },
            "reason": format!("dispatch attempt {attempt}: next eligible item in priority order (risk {}, autopilot {})", item.risk.as_str(), item.autopilot.as_str()),
            "run": run_id,
        });
        queue::append_line(&ws.root.join(&config.paths.model_decisions), &decision.to_string())?;
        queue::append(
            &ws.root.join(&config.paths.queue),
            &Event {
                id: &item.id,
                status: Status::InProgress,
                by: request.agent,
                reason: &format!("dispatched run {run_id} to {cli_name}"),
                attempt: Some(attempt),
                extra: Some(json!({ "run": run_id })),
            },
        )
    })();
    if let Err(e) = setup {
        let _ = locks.release(request.agent, Some(&item.id));
        return Err(format!("cannot record the dispatch: {e}; the lock was released"));
    }

    let timeout = Duration::from_secs(config.dispatch_timeout_secs);
    let finished =
        agents::run(&argv, &ws.root, cli.stdin.then_some(task_text.as_str()), timeout, cancel, &[]);
    let verdict = match finished {
        Ok(finished) => {
            let scrub = |t: &str| config.secrets().scrub(t);
            let _ = std::fs::write(run_dir.join("stdout.log"), scrub(&finished.stdout));
            let _ = std::fs::write(run_dir.join("stderr.log"), scrub(&finished.stderr));
            agents::judge(&cli, &finished, &last_message).and_then(|why| {
                after_success(ws, item, &cli, &lock, &report, &base, &before)
                    .map(|extra| format!("{why}; {extra}"))
            })
        }
        Err(e) => Err(e),
    };
    let queue_path = ws.root.join(&config.paths.queue);
    match verdict {
        Ok(why) => {
            let reason = format!("run {run_id} succeeded: {why}");
            queue::append(
                &queue_path,
                &Event {
                    id: &item.id,
                    status: Status::Review,
                    by: request.agent,
                    reason: &reason,
                    attempt: Some(attempt),
                    extra: Some(json!({ "run": run_id })),
                },
            )
            .map_err(|e| format!("the run succeeded but the queue could not be written: {e}"))?;
            Ok(Outcome {
                id: item.id.clone(),
                run_id,
                ok: true,
                message: format!("{}: {reason}. Next: `concord review {report}`.", item.id),
            })
        }
        Err(why) => {
            let reason = format!("run {run_id} failed: {why}");
            let written = queue::append(
                &queue_path,
                &Event {
                    id: &item.id,
                    status: Status::Todo,
                    by: "concord",
                    reason: &reason,
                    attempt: Some(attempt),
                    extra: Some(json!({ "run": run_id })),
                },
            );
            let released = locks.release(request.agent, Some(&item.id));
            let mut message = format!("{}: {reason}. The item is back in todo (attempt {attempt}) and the lock was released; logs in {}.", item.id, run_dir.display());
            if let Err(e) = written {
                message.push_str(&format!(" WARNING: the queue could not be written ({e})."));
            }
            if let Err(e) = released {
                message.push_str(&format!(" WARNING: the lock could not be released ({e})."));
            }
            Ok(Outcome { id: item.id.clone(), run_id, ok: false, message })
        }
    }
}

/// After the agent says it succeeded: the run report must exist, the diff must stay in scope,
/// and for CLIs without a result record the diff must be non-empty and the tests must pass.
fn after_success(
    ws: &Workspace,
    item: &WorkItem,
    cli: &agents::AgentCli,
    lock: &crate::model::Lock,
    report: &str,
    base: &str,
    before: &std::collections::BTreeMap<String, u64>,
) -> Result<String, String> {
    if !ws.root.join(report).is_file() {
        return Err(format!("the agent wrote no run report at {report}"));
    }
    let mut notes = Vec::new();
    if let Ok(changes) = super::git::changes_during(&ws.root, base, before) {
        // Other agents may have taken locks during the run: only the lock folder is read again.
        let mut model = ws.model.clone();
        model.locks = LockDir::new(&ws.root, &ws.config).read_all().0;
        let scope = crate::scope::check_changes(&ws.config, &model, lock, &changes, crate::time::now_secs());
        if !scope.is_clean() {
            let mut what: Vec<String> =
                scope.outside.iter().map(|p| format!("{p} (outside scope)")).collect();
            what.extend(scope.locked_by_other.iter().map(|(p, h)| format!("{p} (locked by {h})")));
            what.extend(scope.budget.iter().cloned());
            return Err(format!("the diff breaks the lock's scope: {}", what.join(", ")));
        }
        if cli.judge == agents::Judge::DiffAndTests
            && changes.iter().all(|c| crate::scope::always_allowed(&ws.config, &c.path))
        {
            return Err("the agent changed nothing in its scope".into());
        }
        notes.push(format!("{} files changed, all in scope", changes.len()));
    } else {
        notes.push("not a git repository: the scope check was skipped".into());
    }
    if cli.judge == agents::Judge::DiffAndTests {
        for command in &item.test_commands {
            let result = super::commands::run_test(
                command,
                &ws.root,
                Duration::from_secs(ws.config.test_timeout_secs),
            );
            if !result.passed {
                return Err(format!("test command `{command}` failed: {}", result.summary));
            }
        }
        notes.push(format!("{} test commands passed", item.test_commands.len()));
    }
    Ok(notes.join("; "))
}

fn task_file_text(ws: &Workspace, item: &WorkItem, scope: &[String], report: &str, run_id: &str) -> String {
    let model = &ws.model;
    let mut out = format!(
        "# Task {}: {}\n\nRun: {run_id}\n\n## Scope\nChange only files matching:\n",
        item.id, item.title
    );
    for glob in scope {
        out.push_str(&format!("- `{glob}`\n"));
    }
    out.push_str("\n## Spec chunks\n");
    for (id, _) in &item.blueprint_ids {
        match model.chunks.get(id) {
            Some(c) => out.push_str(&format!("- **{id}** {}: {}\n", c.title, c.summary)),
            None => out.push_str(&format!("- **{id}** (not in the index)\n")),
        }
    }
    out.push_str("\n## Acceptance criteria\n");
    for criterion in &item.acceptance_criteria {
        out.push_str(&format!("- {criterion}\n"));
    }
    out.push_str("\n## Test commands (all must pass)\n");
    for command in &item.test_commands {
        out.push_str(&format!("- `{command}`\n"));
    }
    out.push_str(&format!(
        "\n## Run report\nWrite it to `{report}` with these sections:\n\n```\nwbs: {}\nagent: <your name>\nrun: {run_id}\n\n## Tests\n- `<command>`: Pass | Fail\n\n## Acceptance criteria\n- <criterion, as written above>: Pass | Fail\n```\n",
        item.id
    ));
    out.push_str(&format!(
        "\n## Rules\n- Change only files inside the scope above; the lock is yours until the review is applied.\n- Tag code and tests with the spec chunk or work-item IDs they implement (`implements {}`).\n- Never write an API key or other secret into any file or log; read keys from environment variables.\n- Run every test command yourself and report each result honestly; the review re-runs them.\n- If you cannot finish, say so in the run report; do not mark a criterion Pass that is not met.\n",
        item.id
    ));
    out
}
