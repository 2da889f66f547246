//! `concord dispatch`: pick the next eligible work item, hand it to an agent CLI, and leave
//! the queue in a true state whatever happens.
//!
//! Eligible: status `todo`, every `depends_on` item `done`, `autopilot_mode` not `disabled`,
//! every `access` check `PASS`, and a scope that overlaps no live lock. Order: by phase, in
//! the order phases first appear in the WBS, then by position in the WBS.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::agents::{self, Placeholders};
use super::locks::{LockDir, LockError};
use super::queue::{self, Event};
use crate::mcp::install;
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
    if let Some(why) = super::questions::pending_for(model, &item.id) {
        return Err(why);
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
    /// Where the agent works: a git worktree of the workspace (the autopilot's), or `None` for
    /// the workspace itself. The queue, locks and run records stay in the workspace either way.
    pub work_dir: Option<&'a Path>,
    /// A shorter wall-clock limit than `dispatch.timeout` (the autopilot's remaining time).
    pub timeout: Option<Duration>,
}

impl<'a> Request<'a> {
    pub fn new(agent: &'a str) -> Request<'a> {
        Request { id: None, agent, cli: None, model: None, work_dir: None, timeout: None }
    }
}

/// The run folder's record of the directory its agent worked in, when not the workspace.
pub const WORK_DIR_FILE: &str = "work-dir.txt";

/// The directory run `run_id` worked in: its recorded worktree, or the workspace.
pub fn work_dir_of(root: &Path, run_id: &str) -> std::path::PathBuf {
    std::fs::read_to_string(agents::run_dir(root, run_id).join(WORK_DIR_FILE))
        .ok()
        .map(|text| std::path::PathBuf::from(text.trim()))
        .filter(|dir| dir.is_dir())
        .unwrap_or_else(|| root.to_path_buf())
}

#[derive(Debug)]
pub struct Outcome {
    pub id: String,
    pub run_id: String,
    pub ok: bool,
    pub message: String,
    /// Stopped by SIGINT/SIGTERM (through the cancel flag): the caller exits non-zero.
    pub interrupted: bool,
}

/// Dispatch one item. `Err` means nothing was started (and nothing changed); `Ok` with
/// `ok: false` means the run failed, its changes were undone and kept as a patch, and the item
/// went back to `todo` with its lock released. Every message is scrubbed.
pub fn dispatch(ws: &Workspace, request: &Request, cancel: &Arc<AtomicBool>) -> Result<Outcome, String> {
    super::scrub::use_config(&ws.config);
    match dispatch_unscrubbed(ws, request, cancel) {
        Ok(mut outcome) => {
            outcome.message = super::scrub::text(&outcome.message);
            Ok(outcome)
        }
        Err(message) => Err(super::scrub::text(&message)),
    }
}

/// The items to try, in order: the one named (if eligible), else every eligible one.
fn candidates<'w>(ws: &'w Workspace, request: &Request) -> Result<Vec<&'w WorkItem>, String> {
    match request.id {
        Some(id) => {
            let item = ws.model.work.get(id).ok_or_else(|| format!("{id} is not a work item"))?;
            eligibility(ws, item).map_err(|why| format!("{id} cannot be dispatched: {why}"))?;
            Ok(vec![item])
        }
        None => {
            let eligible: Vec<&WorkItem> =
                in_priority_order(ws).into_iter().filter(|w| eligibility(ws, w).is_ok()).collect();
            if eligible.is_empty() {
                let counts =
                    ws.model.work.values().filter(|w| ws.model.status_of(&w.id) == Status::Todo).count();
                return Err(format!(
                    "no work item is eligible ({counts} todo; see `concord status` for why each is waiting)"
                ));
            }
            Ok(eligible)
        }
    }
}

fn dispatch_unscrubbed(
    ws: &Workspace,
    request: &Request,
    cancel: &Arc<AtomicBool>,
) -> Result<Outcome, String> {
    let candidates = candidates(ws, request)?;
    let config = &ws.config;
    let work_dir = request.work_dir.unwrap_or(&ws.root);
    let cli_name = request.cli.unwrap_or(&config.dispatch.agent_cli);
    let cli = agents::resolve(cli_name, &config.agents)?;
    let model_name = request.model.unwrap_or(&config.dispatch.model);
    let mcp = config.dispatch.mcp.then(|| mcp_launch(ws, request.agent));
    if mcp.is_some() && cli.mcp == agents::McpHandoff::None {
        return Err(format!(
            "refusing to start {cli_name}: [dispatch] mcp = true, but {cli_name} has no way to receive Concord's MCP server (aider has no MCP client; a custom [agents.{cli_name}] needs `mcp` and `mcp_args`). Set mcp = false, or pick another agent CLI."
        ));
    }
    // Flags are checked before anything is written or locked: only flags the help defines.
    let help = agents::help_text(&cli, work_dir, cancel)
        .map_err(|e| format!("cannot read {cli_name}'s help to check its flags: {e}"))?;
    let defined = agents::defined_flags(&help);
    let render = |task_file: &str, instruction: &str, last_message: &str, mcp_config_file: &str| {
        let argv = agents::render_argv(
            &cli,
            &Placeholders { model: model_name, task_file, instruction, last_message_file: last_message },
        );
        let argv = agents::with_supported_flags(&cli, argv, &defined);
        match &mcp {
            Some(launch) => agents::insert_before_first_flag(argv, mcp_args(&cli, launch, mcp_config_file)),
            None => argv,
        }
    };
    if let Some(flag) = agents::unknown_flag(&render("TASK", "INSTRUCTION", "LAST", "MCP"), &defined) {
        return Err(format!(
            "refusing to start {cli_name}: its `{}` does not define the flag {flag} (an option line must list it; a mention in another option's description does not count). Fix the command line in concord.toml ([agents] / [dispatch]); Concord never passes a flag the CLI does not document.",
            cli.help.join(" ")
        ));
    }

    // Two dispatches started together may both pick the same item: the one that loses the
    // lock takes the next eligible item instead.
    let locks = LockDir::new(&ws.root, config);
    let mut passed_over = Vec::new();
    let mut taken = None;
    for item in &candidates {
        // A worktree of the autopilot's holds only its own item's work (earlier rounds' included).
        let leftovers = if request.work_dir.is_some() { Ok(()) } else { leftovers_block(ws, item) };
        if let Err(why) = leftovers {
            if request.id.is_some() || candidates.len() == 1 {
                return Err(why);
            }
            passed_over.push(format!("{}: {why}", item.id));
            continue;
        }
        match locks.acquire(&ws.root, config, request.agent, &item.id, None) {
            Ok(lock) => {
                // The queue may have moved since the workspace was read.
                let status = queue::current_status(&ws.root.join(&config.paths.queue), &item.id);
                if status == Status::Todo {
                    taken = Some((*item, lock));
                    break;
                }
                let _ = locks.release(request.agent, Some(&item.id));
                passed_over.push(format!("{} is now {}", item.id, status.as_str()));
            }
            Err(LockError::Conflict(why)) if request.id.is_none() => {
                passed_over.push(format!("{}: {why}", item.id));
            }
            Err(e) => return Err(format!("cannot take the lock: {e}")),
        }
    }
    let Some((item, lock)) = taken else {
        return Err(format!("no eligible item could be taken: {}", passed_over.join("; ")));
    };

    // Unique even for two runs of one item in the same second (the autopilot's rework rounds).
    let stamp = format!(
        "{}-{}",
        item.id,
        crate::time::format_rfc3339(crate::time::now_secs()).replace([':', '-'], "")
    );
    let run_id = (1..)
        .map(|k| if k == 1 { stamp.clone() } else { format!("{stamp}-{k}") })
        .find(|id| !agents::run_dir(&ws.root, id).exists())
        .expect("some suffix is free");
    let run_dir = agents::run_dir(&ws.root, &run_id);
    let task_file = run_dir.join("task.md");
    let last_message = run_dir.join("last-message.txt");
    let report = format!("{}/{run_id}.md", ws.config.paths.runs_dir);
    let instruction = format!("Read the task file {} and do exactly what it says.", task_file.display());
    let mcp_config_file = run_dir.join("mcp.json");
    let argv = render(
        &task_file.display().to_string(),
        &instruction,
        &last_message.display().to_string(),
        &mcp_config_file.display().to_string(),
    );

    let give_back = |why: String| {
        let _ = locks.release_fenced(request.agent, Some(&item.id), lock.fencing_token);
        Err(format!("{why}; the lock was released"))
    };
    if let Err(e) = std::fs::create_dir_all(&run_dir) {
        return give_back(format!("cannot create {}: {e}", run_dir.display()));
    }
    let _ = std::fs::write(ws.root.join(".concord/.gitignore"), "*\n");
    let mut task_text = super::scrub::text(&task_file_text(ws, item, &lock.scope_paths, &report, &run_id));
    if let Some(trailer) = super::locks::trailer(&lock) {
        // The lock was granted on the shared remote with a fencing token: the run records it,
        // and the agent's commits name it, so work under a lock since swept can be told apart.
        task_text.push_str(&format!(
            "\n## Lock\nEnd every commit message of this work with the trailer line `{trailer}`.\n"
        ));
        let record = json!({
            "agent": lock.agent, "task_id": lock.task_id,
            "fencing_token": lock.fencing_token, "trailer": trailer,
        });
        let _ = crate::fsutil::write_atomic(&run_dir.join("lock.json"), record.to_string().as_bytes());
    }
    // What was already changed before the run is not the run's doing; it is copied so that a
    // failed run can be undone without losing it.
    let base = run_base(ws, &lock.agent, work_dir);
    let before = super::git::dirty_snapshot(work_dir, &base);
    let _ =
        std::fs::write(run_dir.join("dirty-before.json"), serde_json::to_string(&before).unwrap_or_default());
    if request.work_dir.is_some() {
        let _ = crate::fsutil::write_atomic(
            &run_dir.join(WORK_DIR_FILE),
            work_dir.display().to_string().as_bytes(),
        );
    }
    if let Err(e) = super::rollback::save_before(work_dir, &run_dir, &before) {
        return give_back(format!("cannot keep a copy of the files changed before the run: {e}"));
    }
    let attempt = ws.model.queue.iter().filter(|e| e.id == item.id && e.status == Status::InProgress).count()
        as u32
        + 1;
    let host = super::locks::hostname().unwrap_or_default();
    let pid = std::process::id();
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
        super::tools_manifest::append(ws, &decision, &cli, mcp.is_some(), &argv, &instruction)?;
        queue::append(
            &ws.root.join(&config.paths.queue),
            &Event {
                attempt: Some(attempt),
                // Where the run lives, so `concord requeue` can tell a dead run from a live one.
                run: Some(run_id.as_str()),
                host: (!host.is_empty()).then_some(host.as_str()),
                pid: Some(pid),
                ..Event::new(
                    &item.id,
                    Status::InProgress,
                    request.agent,
                    &format!("dispatched run {run_id} to {cli_name}"),
                )
            },
        )
    })();
    if let Err(e) = setup {
        return give_back(format!("cannot record the dispatch: {e}"));
    }

    let timeout =
        Duration::from_secs(config.dispatch_timeout_secs).min(request.timeout.unwrap_or(Duration::MAX));
    let record_process = |agent_pid: u32| {
        let process = json!({ "host": host, "pid": pid, "agent_pid": agent_pid });
        let _ = crate::fsutil::write_atomic(&run_dir.join("process.json"), process.to_string().as_bytes());
    };
    let options = agents::RunOptions {
        stdin: cli.stdin.then_some(task_text.as_str()),
        timeout,
        cancel,
        env: &[],
        success_grace: (cli.judge == agents::Judge::JsonResult).then_some(agents::SUCCESS_GRACE),
        on_start: Some(&record_process),
    };
    // The MCP server is handed over for this run only: a project file Concord changed is put back
    // as it was before the run's changes are looked at.
    let handed_over = match &mcp {
        Some(launch) => match hand_over_mcp(work_dir, &cli, launch, &mcp_config_file) {
            Ok(restore) => restore,
            Err(e) => {
                let _ = queue::append(
                    &ws.root.join(&config.paths.queue),
                    &Event {
                        attempt: Some(attempt),
                        run: Some(run_id.as_str()),
                        ..Event::new(&item.id, Status::Todo, "concord", &e)
                    },
                );
                return give_back(e);
            }
        },
        None => None,
    };
    let finished = agents::run(&argv, work_dir, &options);
    if let Some(restore) = handed_over {
        restore.put_back();
    }
    let mut leaks = Vec::new();
    let verdict = match finished {
        Ok(finished) => {
            // Secrets in the output are recorded (never copied) before the logs are scrubbed.
            let scrubber = super::scrub::active();
            for (name, text) in [("stdout.log", &finished.stdout), ("stderr.log", &finished.stderr)] {
                leaks.extend(scrubber.leaks(text).into_iter().map(|l| (name, l)));
                let _ = crate::fsutil::write_atomic(&run_dir.join(name), scrubber.scrub(text).as_bytes());
            }
            write_leaks(&run_dir, &leaks);
            agents::judge(&cli, &finished, &last_message).and_then(|why| {
                // A run that outlived its lock (swept and taken again on the remote while the
                // agent was paused) must not pass: its changes are undone like a failed run's.
                locks
                    .check_fence(request.agent, &item.id, lock.fencing_token)
                    .map_err(|e| format!("the run's lock is no longer its own: {e}"))?;
                after_success(ws, work_dir, item, &cli, &lock, &report, (&base, &before), cancel)
                    .map(|extra| format!("{why}; {extra}"))
            })
        }
        Err(e) => Err(e),
    };
    let leak_note = if leaks.is_empty() {
        String::new()
    } else {
        let places: Vec<String> =
            leaks.iter().map(|(f, l)| format!("{} in {f} line {}", l.rule, l.line)).collect();
        format!(
            " WARNING: the agent's output held a secret ({}); the logs were scrubbed, but rotate this key. The review's secrets gate fails until then.",
            places.join(", ")
        )
    };
    let queue_path = ws.root.join(&config.paths.queue);
    let interrupted = cancel.load(std::sync::atomic::Ordering::SeqCst) && agents::received_signal().is_some();
    match verdict {
        Ok(why) => {
            let reason = format!("run {run_id} succeeded: {why}");
            queue::append(
                &queue_path,
                &Event {
                    attempt: Some(attempt),
                    run: Some(run_id.as_str()),
                    ..Event::new(&item.id, Status::Review, request.agent, &reason)
                },
            )
            .map_err(|e| format!("the run succeeded but the queue could not be written: {e}"))?;
            Ok(Outcome {
                id: item.id.clone(),
                run_id,
                ok: true,
                message: format!("{}: {reason}. Next: `concord review {report}`.{leak_note}", item.id),
                interrupted: false,
            })
        }
        Err(why) => {
            // The run's changes do not survive it: kept as a patch, the files put back.
            let undone = match super::git::changes_during(work_dir, &base, &before) {
                Ok(mut changes) => {
                    changes.retain(|c| !crate::scope::always_allowed(config, &c.path));
                    super::rollback::undo(work_dir, &run_dir, &base, &before, &changes).describe(work_dir)
                }
                Err(_) => "not a git repository: the run's changes could not be undone".into(),
            };
            let reason = format!("run {run_id} failed: {why}");
            let written = queue::append(
                &queue_path,
                &Event {
                    attempt: Some(attempt),
                    run: Some(run_id.as_str()),
                    ..Event::new(&item.id, Status::Todo, "concord", &reason)
                },
            );
            // Fenced: a lock swept and taken again by someone else while the run was paused stays.
            let released = locks.release_fenced(request.agent, Some(&item.id), lock.fencing_token);
            let mut message = format!(
                "{}: {reason}. The item is back in todo (attempt {attempt}) and the lock was released; {undone}; logs in {}.{leak_note}",
                item.id,
                run_dir.display()
            );
            if let Err(e) = written {
                message.push_str(&format!(" WARNING: the queue could not be written ({e})."));
            }
            if let Err(e) = released {
                message.push_str(&format!(" WARNING: the lock could not be released ({e})."));
            }
            Ok(Outcome { id: item.id.clone(), run_id, ok: false, message, interrupted })
        }
    }
}

/// The commit a run's changes are counted from: in the workspace, the commit its lock was taken
/// on; in a worktree, the worktree's own commit (it was made from the workspace's, and the
/// autopilot commits on it only once the item's work is accepted).
pub fn run_base(ws: &Workspace, agent: &str, work_dir: &Path) -> String {
    if work_dir != ws.root {
        if let Some(head) = super::git::head(work_dir) {
            return head;
        }
    }
    super::git::head_at_lock(&ws.root, &ws.config, agent).unwrap_or_else(|| "HEAD".into())
}

/// Secrets found in a run's output: rule, fingerprint and where, never the secret. The review's
/// secrets gate reads this file.
fn write_leaks(run_dir: &std::path::Path, leaks: &[(&str, super::scrub::Leak)]) {
    if leaks.is_empty() {
        return;
    }
    let list: Vec<serde_json::Value> = leaks
        .iter()
        .map(|(file, l)| json!({ "rule": l.rule, "fingerprint": l.fingerprint, "where": format!("{file}:{}", l.line), "redacted": l.redacted }))
        .collect();
    let _ = crate::fsutil::write_atomic(
        &run_dir.join(LEAKS_FILE),
        (serde_json::to_string_pretty(&list).unwrap_or_default() + "\n").as_bytes(),
    );
}

/// The run folder's record of secrets found in the agent's output.
pub const LEAKS_FILE: &str = "leaks.json";

/// Whether a file that already differs from the base commit is someone else's business: inside
/// another live lock, or inside the scope of another work item whose work passed its own gates
/// (in review, awaiting approval, or done).
fn belongs_elsewhere(ws: &Workspace, locks: &[crate::model::Lock], own: &WorkItem, path: &str) -> bool {
    let in_scope = |globs: &[String]| crate::scope::scope_set(globs).is_match(path);
    locks.iter().any(|l| l.task_id != own.id && in_scope(&l.scope_paths))
        || ws.model.work.values().any(|w| {
            w.id != own.id
                && matches!(
                    ws.model.status_of(&w.id),
                    Status::Review | Status::AwaitingApproval | Status::AwaitingChecks | Status::Done
                )
                && in_scope(&w.scope_paths)
        })
}

/// The changes a run's scope gate counts: every file that differs from the lock's base commit
/// (not only those the run touched: a failed attempt's leftover counts against the next one),
/// except Concord's own files and files that were already changed before the run, unchanged
/// by it, and belong to another lock or to another item's accepted work.
pub fn counted_changes(
    ws: &Workspace,
    work_dir: &Path,
    item: &WorkItem,
    locks: &[crate::model::Lock],
    base: &str,
    before: &std::collections::BTreeMap<String, u64>,
) -> Result<Vec<crate::scope::Change>, String> {
    let mut changes = super::git::changes_since(work_dir, base)?;
    changes.retain(|c| {
        if crate::scope::always_allowed(&ws.config, &c.path) {
            return false;
        }
        let untouched = before.get(&c.path) == Some(&super::git::content_hash(&work_dir.join(&c.path)));
        let others =
            belongs_elsewhere(ws, locks, item, &c.path) || crate::scope::owners_file(&ws.config, &c.path);
        !(untouched && others)
    });
    Ok(changes)
}

/// Refuse to start a run that could only fail its scope gate: files that differ from HEAD
/// outside the item's scope and belong to no other lock or accepted work.
fn leftovers_block(ws: &Workspace, item: &WorkItem) -> Result<(), String> {
    let Some(head) = super::git::head(&ws.root) else { return Ok(()) };
    let Ok(changes) = super::git::changes_since(&ws.root, &head) else { return Ok(()) };
    let locks = LockDir::new(&ws.root, &ws.config).read_all().0;
    let scope = crate::scope::scope_set(&item.scope_paths);
    let stray: Vec<String> = changes
        .into_iter()
        .map(|c| c.path)
        .filter(|p| {
            !crate::scope::always_allowed(&ws.config, p)
                && !crate::scope::owners_file(&ws.config, p)
                && !scope.is_match(p)
                && !belongs_elsewhere(ws, &locks, item, p)
        })
        .collect();
    if stray.is_empty() {
        return Ok(());
    }
    Err(format!(
        "refusing to dispatch {}: {} differ from HEAD outside its scope ({}) and belong to no live lock or accepted work item, so its scope gate would fail. Commit, stash (`git stash -u`) or revert them first.",
        item.id,
        stray.join(", "),
        item.scope_paths.join(" ")
    ))
}

/// After the agent says it succeeded: the run report must exist, the diff must stay in scope,
/// and for CLIs without a result record the diff must be non-empty and the tests must pass.
#[allow(clippy::too_many_arguments)]
fn after_success(
    ws: &Workspace,
    work_dir: &Path,
    item: &WorkItem,
    cli: &agents::AgentCli,
    lock: &crate::model::Lock,
    report: &str,
    // The lock's base commit, and the files already changed before the run.
    (base, before): (&str, &std::collections::BTreeMap<String, u64>),
    cancel: &Arc<AtomicBool>,
) -> Result<String, String> {
    if !work_dir.join(report).is_file() {
        return Err(format!("the agent wrote no run report at {report}"));
    }
    if work_dir != ws.root {
        // The workspace keeps the run's record; the worktree's copy is never committed.
        crate::fsutil::write_atomic(
            &ws.root.join(report),
            &std::fs::read(work_dir.join(report)).map_err(|e| format!("cannot read the run report: {e}"))?,
        )
        .map_err(|e| format!("cannot copy the run report into the workspace: {e}"))?;
    }
    let mut notes = Vec::new();
    // Other agents may have taken locks during the run: only the lock folder is read again.
    let mut model = ws.model.clone();
    model.locks = LockDir::new(&ws.root, &ws.config).read_all().0;
    if let Ok(changes) = counted_changes(ws, work_dir, item, &model.locks, base, before) {
        let scope = crate::scope::check_changes(&ws.config, &model, lock, &changes, crate::time::now_secs());
        if !scope.is_clean() {
            let mut what: Vec<String> =
                scope.outside.iter().map(|p| format!("{p} (outside scope)")).collect();
            what.extend(scope.locked_by_other.iter().map(|(p, h)| format!("{p} (locked by {h})")));
            what.extend(scope.budget.iter().cloned());
            return Err(format!("the diff breaks the lock's scope: {}", what.join(", ")));
        }
        if cli.judge == agents::Judge::DiffAndTests && changes.is_empty() {
            return Err("the agent changed nothing in its scope".into());
        }
        notes.push(match changes.len() {
            1 => "1 file changed, in scope".to_string(),
            n => format!("{n} files changed, all in scope"),
        });
    } else {
        notes.push("not a git repository: the scope check was skipped".into());
    }
    if cli.judge == agents::Judge::DiffAndTests {
        for command in &item.test_commands {
            let result = super::commands::run_test(
                command,
                work_dir,
                Duration::from_secs(ws.config.test_timeout_secs),
                cancel,
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
    // Chunks rewritten since the code tracing to them was reviewed: the agent checks that code,
    // told what changed.
    let stale: Vec<(crate::model::RefKey, String)> = ws
        .files
        .values()
        .flat_map(|facts| crate::stale::stale_keys(&ws.config, model, facts))
        .filter(|(key, _, _)| item.blueprint_ids.iter().any(|(id, _)| *id == key.chunk))
        .map(|(key, _, recorded)| (key, recorded))
        .collect();
    if !stale.is_empty() {
        out.push_str("\n## Spec changed since review\nThese places were reviewed against an older text of their chunk; read the chunk again, bring the code in line with it, then record the review with `concord ack ID PLACE`:\n");
        for (key, _) in &stale {
            out.push_str(&format!("- {}: `{}`\n", key.chunk, crate::stale::place(key)));
        }
        let mut told = std::collections::BTreeSet::new();
        for (key, recorded) in &stale {
            let Some(chunk) = model.chunks.get(&key.chunk) else { continue };
            if told.insert((key.chunk.clone(), recorded.clone())) {
                if let Some(diff) = crate::ops::spec_history::what_changed(ws, chunk, recorded) {
                    out.push_str(&format!("\nWhat changed in {}: {diff}\n", key.chunk));
                }
            }
        }
    }
    let decided: Vec<String> =
        model.answered_questions(&item.id).filter_map(super::questions::decision_line).collect();
    if !decided.is_empty() {
        out.push_str("\n## Owner decisions (constraints)\n");
        for line in decided {
            out.push_str(&format!("- {line}\n"));
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
    // The review runs these as gates too: the agent is told up front, not at rejection.
    if !item.smoke_checks.is_empty() {
        out.push_str("\n## Smoke checks (all must pass)\n");
        for command in &item.smoke_checks {
            out.push_str(&format!("- `{command}`\n"));
        }
    }
    if !item.quality_gates.is_empty() {
        out.push_str("\n## Quality gates (the review checks each)\n");
        for entry in &item.quality_gates {
            out.push_str(&format!(
                "- `{}`: {}\n",
                entry.text.trim(),
                crate::model::quality_gates::explain(entry)
            ));
        }
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

/// How a dispatched agent's MCP client starts Concord's server: this very binary, on this
/// workspace, as this agent (so `whoami_scope` and `task` know whose lock it is).
fn mcp_launch(ws: &Workspace, agent: &str) -> install::Launch {
    let command = std::env::current_exe().map_or_else(|_| "concord".to_string(), |p| p.display().to_string());
    install::Launch {
        command,
        args: vec!["mcp".into(), "-C".into(), ws.root.display().to_string()],
        env: vec![("CONCORD_AGENT".into(), agent.to_string())],
    }
}

/// The arguments that hand the server to `cli`, inserted before its first flag.
fn mcp_args(cli: &agents::AgentCli, launch: &install::Launch, mcp_config_file: &str) -> Vec<String> {
    let mut args: Vec<String> =
        cli.mcp_args.iter().map(|a| a.replace("{mcp_config_file}", mcp_config_file)).collect();
    if cli.mcp == agents::McpHandoff::CodexOverrides {
        args.splice(0..0, install::codex_overrides(launch));
    }
    args
}

/// A project file changed for one run, what it held before, and the folder made for it.
struct PutBack {
    path: std::path::PathBuf,
    before: Option<Vec<u8>>,
    made_dir: Option<std::path::PathBuf>,
}

impl PutBack {
    fn put_back(self) {
        let _ = match self.before {
            Some(bytes) => crate::fsutil::write_atomic(&self.path, &bytes),
            None => std::fs::remove_file(&self.path),
        };
        if let Some(dir) = self.made_dir {
            // Only when empty: whatever else the run put there is the run's own change.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Write what `cli` reads to find the server: the run's own configuration file, or the
/// project's `.cursor/mcp.json` (returned to be put back after the run).
fn hand_over_mcp(
    work_dir: &Path,
    cli: &agents::AgentCli,
    launch: &install::Launch,
    mcp_config_file: &Path,
) -> Result<Option<PutBack>, String> {
    match cli.mcp {
        agents::McpHandoff::ConfigFile => {
            let text = install::merge_json(None, launch.entry(install::Client::Claude))
                .map_err(|e| format!("cannot write the MCP configuration: {e}"))?;
            crate::fsutil::write_atomic(mcp_config_file, text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", mcp_config_file.display()))?;
            Ok(None)
        }
        agents::McpHandoff::CursorProject => {
            let client = install::Client::Cursor;
            let path = work_dir.join(client.config_file());
            let before = match std::fs::symlink_metadata(&path) {
                Ok(_) => Some(
                    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", client.config_file()))?,
                ),
                Err(_) => None,
            };
            let dir = path.parent().map(Path::to_path_buf);
            let made_dir = dir.filter(|d| !d.exists());
            install::install(work_dir, client, launch)?;
            Ok(Some(PutBack { path, before, made_dir }))
        }
        agents::McpHandoff::CodexOverrides | agents::McpHandoff::None => Ok(None),
    }
}
