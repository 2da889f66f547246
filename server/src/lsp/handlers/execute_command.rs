//! `workspace/executeCommand`: the commands of the palette. Read-only ones answer from the
//! loaded workspace; those that write files or run commands need a trusted workspace and run in
//! the background.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;

use crate::lsp::commands::{
    argument, invalid, FolderArgument, NoArgument, QuestionsArgs, WorkspaceCommand, COMMANDS,
};
use crate::lsp::server::{guarded, Backend, Change, Folder, Settings, CLIENT_TIMEOUT};
use crate::workspace::Workspace;

/// Sets its flag when dropped: a cancelled request drops its future, which stops the work.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub async fn execute_command(backend: &Backend, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
    let command = params.command.as_str();
    let arguments = params.arguments.as_slice();
    if let Some(parsed) = WorkspaceCommand::parse(command, arguments) {
        // Trust first: an untrusted workspace hears that, whatever the argument.
        if !backend.settings().trusted {
            return Err(untrusted(command));
        }
        let parsed = parsed?;
        let folder = command_folder(backend, command, parsed.folder())?;
        return run_workspace_command(backend, &folder, command, parsed).await;
    }
    if command == "concord.status" {
        argument::<NoArgument>(command, arguments)?;
    }
    match command {
        "concord.status" => Ok(Some(status(backend))),
        "concord.reload" => {
            // No folder named: every folder reloads (nothing is guessed, nothing is written).
            let FolderArgument { folder } = argument(command, arguments)?;
            let folders = match folder {
                Some(named) => vec![command_folder(backend, command, Some(&named))?],
                None => backend.folders(),
            };
            for folder in folders {
                backend.reload_and_wait(&folder).await;
            }
            Ok(Some(status(backend)))
        }
        "concord.crosswalk" => {
            if !backend.settings().trusted {
                return Err(untrusted(command));
            }
            let FolderArgument { folder } = argument(command, arguments)?;
            let folder = command_folder(backend, command, folder.as_deref())?;
            let Some(loaded) = folder.loaded() else { return Err(Error::invalid_request()) };
            let written = tokio::task::spawn_blocking(move || {
                let ws = &loaded.ws;
                let files = crate::coverage::files_of(&ws.config, &ws.model, ws.facts());
                let text = loaded.analysis.coverage.to_crosswalk_json(&files);
                crate::fsutil::write_in_workspace(&ws.root, &ws.config.paths.crosswalk, text.as_bytes())
                    .map(|_| loaded.analysis.coverage.chunks.len())
            })
            .await;
            match written {
                Ok(Ok(chunks)) => {
                    let message = format!("Concord: crosswalk written ({chunks} chunks)");
                    backend.client.show_message(MessageType::INFO, &message).await;
                    Ok(Some(json!({ "ok": true, "message": message })))
                }
                Ok(Err(e)) => Err(Error {
                    code: ErrorCode::InternalError,
                    message: format!("cannot write the crosswalk: {e}").into(),
                    data: None,
                }),
                Err(_) => Err(Error::internal_error()),
            }
        }
        "concord.queue" => {
            let FolderArgument { folder } = argument(command, arguments)?;
            // A server with no folder (a single file open) has nothing to list, as before.
            if backend.folders().is_empty() {
                return Ok(Some(json!([])));
            }
            let folder = command_folder(backend, command, folder.as_deref())?;
            let Some(loaded) = folder.loaded_when_ready().await else { return Ok(Some(json!([]))) };
            let items: Vec<Value> = crate::ops::dispatch::in_priority_order(&loaded.ws)
                .into_iter()
                .map(|w| {
                    let eligible = crate::ops::dispatch::eligibility(&loaded.ws, w);
                    json!({
                        "id": w.id, "title": w.title, "status": loaded.ws.model.status_of(&w.id).as_str(),
                        "risk": w.risk.as_str(), "eligible": eligible.is_ok(), "why": eligible.err(),
                    })
                })
                .collect();
            Ok(Some(Value::Array(items)))
        }
        "concord.questions" => {
            let QuestionsArgs { all, folder } = argument(command, arguments)?;
            // A server with no folder (a single file open) has nothing to list, as before.
            if backend.folders().is_empty() {
                return Ok(Some(json!([])));
            }
            let folder = command_folder(backend, command, folder.as_deref())?;
            let Some(loaded) = folder.loaded_when_ready().await else { return Ok(Some(json!([]))) };
            let questions: Vec<Value> = crate::ops::questions::ordered(&loaded.ws.model.questions)
                .into_iter()
                .filter(|q| all || q.status == crate::formats::QuestionStatus::Pending)
                .map(|q| serde_json::to_value(q).unwrap_or(Value::Null))
                .collect();
            Ok(Some(Value::Array(questions)))
        }
        "concord.health" => {
            // Read-only (the queue, locks, reviews and smoke record): no trust needed.
            let FolderArgument { folder } = argument(command, arguments)?;
            let folder = command_folder(backend, command, folder.as_deref())?;
            let Some(loaded) = folder.model_when_ready().await else {
                return Err(Error::invalid_request());
            };
            let progress = backend.begin_progress("Concord", "Checking the agent loop's health").await;
            let health = tokio::task::spawn_blocking(move || crate::ops::health::health(&loaded.ws)).await;
            if let Some(p) = progress {
                let message = health.as_ref().map_or("failed", |h| h.level.as_str());
                p.finish_with_message(message).await;
            }
            match health {
                Ok(health) => Ok(Some(serde_json::to_value(health).unwrap_or(Value::Null))),
                Err(_) => Err(Error::internal_error()),
            }
        }
        "concord.test.sleep" if std::env::var_os("CONCORD_TEST_COMMANDS").is_some() => {
            // A deliberately slow command, enabled only by the test suite's environment.
            let millis = params.arguments.first().and_then(Value::as_u64).unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Ok(Some(json!({ "slept": millis })))
        }
        "concord.test.panic" if std::env::var_os("CONCORD_TEST_COMMANDS").is_some() => {
            guarded(|| -> Option<LSPAny> { panic!("a deliberate panic from the test suite") })
        }
        _ => Err(Error {
            code: ErrorCode::InvalidParams,
            message: format!("unknown command {command:?}; the server offers {}", COMMANDS.join(", ")).into(),
            data: None,
        }),
    }
}

/// The folder a command acts on: the one its argument names, else the only one. With several
/// folders and none named, the command is refused with the folders to choose from: acting on
/// one of them would be a guess.
fn command_folder(backend: &Backend, command: &str, named: Option<&str>) -> Result<Arc<Folder>> {
    let folders = backend.folders();
    let listed = || folders.iter().map(|f| f.uri.as_str().to_string()).collect::<Vec<_>>().join(", ");
    match named {
        Some(named) => {
            let root = named.parse::<Uri>().ok().and_then(|u| u.to_file_path().map(|p| p.into_owned()));
            root.and_then(|root| folders.iter().find(|f| f.root == root).cloned()).ok_or_else(|| {
                invalid(
                    command,
                    format!(
                        "`folder` {named:?} is not a workspace folder; the workspace folders are: {}",
                        listed()
                    ),
                )
            })
        }
        None => match folders.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(Error {
                code: ErrorCode::InvalidRequest,
                message: format!("{command}: the client named no workspace folder").into(),
                data: None,
            }),
            _ => Err(invalid(
                command,
                format!(
                    "the workspace has {} folders; name one with {{\"folder\": <its URI>}}: {}",
                    folders.len(),
                    listed()
                ),
            )),
        },
    }
}

/// The state of one folder, as `concord.status` reports it.
fn folder_status(folder: &Folder, settings: &Settings) -> Value {
    let Some(loaded) = folder.loaded() else {
        let indexing = folder.current().is_some();
        return json!({ "uri": folder.uri.as_str(), "name": folder.name, "loaded": false, "indexing": indexing });
    };
    let summary = loaded.analysis.coverage.summary();
    let covered = summary.by_status.get(&crate::coverage::CoverageStatus::Covered).copied().unwrap_or(0);
    let lock = settings.agent.as_deref().and_then(|a| loaded.ws.model.locks.iter().find(|l| l.agent == a));
    json!({
        "uri": folder.uri.as_str(),
        "name": folder.name,
        "loaded": true,
        "lock": lock.map(|l| json!({ "task": l.task_id, "scope": l.scope_paths, "since": l.acquired_at })),
        "coverage": { "covered": covered, "chunks": summary.chunks },
        "gate_failures": loaded.analysis.coverage.gate_failures(&loaded.ws.config.gate).len(),
    })
}

/// Every folder's state under `folders`; the first folder's also at the top level, as before
/// there were several (clients written for one folder read those).
fn status(backend: &Backend) -> Value {
    let settings = backend.settings();
    let folders: Vec<Value> = backend.folders().iter().map(|f| folder_status(f, &settings)).collect();
    let mut top = json!({ "loaded": false, "indexing": false });
    if let Some(Value::Object(first)) = folders.first() {
        top = Value::Object(
            first
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "uri" | "name"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
    }
    top["agent"] = json!(settings.agent);
    top["trusted"] = json!(settings.trusted);
    top["folders"] = Value::Array(folders);
    top
}

/// A command that changes the workspace: run in the background with progress, stopped when
/// the request is cancelled, reported as a message, followed by a reload.
async fn run_workspace_command(
    backend: &Backend,
    folder: &Folder,
    name: &str,
    command: WorkspaceCommand,
) -> Result<Option<LSPAny>> {
    let root = folder.root.clone();
    let settings = backend.settings();
    let agent = command.agent().map(str::to_string).or(settings.agent);
    let preset = command.cli().map(str::to_string).or(settings.agent_preset);
    let cancel = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    let progress = backend.begin_progress("Concord", name).await;
    // Steps of a long command (the autopilot's), reported as progress while it runs.
    let (steps, mut stepped) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut work = tokio::task::spawn_blocking(move || -> std::result::Result<String, String> {
        let ws = Workspace::load(&root).map_err(|e| e.to_string())?;
        let need_agent = || {
            agent.clone().ok_or_else(|| "no agent: start the server with initializationOptions.agent or CONCORD_AGENT, or pass {\"agent\": …}".to_string())
        };
        match command {
            WorkspaceCommand::Dispatch(args) => {
                let agent = need_agent()?;
                let id = args.id;
                let request = crate::ops::dispatch::Request {
                    id: id.as_deref(),
                    cli: preset.as_deref(),
                    ..crate::ops::dispatch::Request::new(&agent)
                };
                let outcome = crate::ops::dispatch::dispatch(&ws, &request, &cancel)?;
                if outcome.ok {
                    Ok(outcome.message)
                } else {
                    Err(outcome.message)
                }
            }
            WorkspaceCommand::Autopilot(args) => {
                let options = crate::ops::autopilot::Options {
                    max_items: args.max_items.map(|n| n.min(u32::MAX as u64) as u32),
                    max_runs: args.max_runs.map(|n| n.min(u32::MAX as u64) as u32),
                    max_minutes: args.max_minutes.filter(|m| *m > 0.0),
                    parallel: args.parallel.map(|n| n.min(16) as u32),
                    push: args.push,
                    open_pr: args.open_pr,
                    dry_run: args.dry_run,
                    ignore_red_health: args.ignore_red_health,
                    cli: preset.clone(),
                    model: args.model,
                };
                let say = |line: &str| {
                    let _ = steps.send(line.to_string());
                };
                let outcome = crate::ops::autopilot::run(&ws, &options, &cancel, &say)?;
                if outcome.ok {
                    Ok(outcome.message)
                } else {
                    Err(outcome.message)
                }
            }
            WorkspaceCommand::Review(args) => {
                let (run, no_llm) = (args.run, args.no_llm);
                crate::ops::review::review(&ws, &crate::ops::review::Options { run: run.as_deref(), no_llm })
                    .map(|o| o.message)
            }
            WorkspaceCommand::Apply(args) => {
                crate::ops::apply::apply(&ws, args.review.as_deref(), "concord (editor)")
            }
            WorkspaceCommand::Approve(args) => {
                let id = args.id;
                crate::ops::apply::approve(&ws, &id, &agent.unwrap_or_else(|| "a person (editor)".into()))
            }
            WorkspaceCommand::Answer(args) => {
                let by = args.by.unwrap_or_else(|| "the owner (editor)".into());
                crate::ops::plan::answer(&ws, &args.id, &args.option, &by, args.note.as_deref())
            }
            WorkspaceCommand::LockAcquire(args) => {
                let agent = need_agent()?;
                let (task, scope) = (args.task, args.scope);
                crate::ops::locks::LockDir::new(&ws.root, &ws.config)
                    .acquire(&ws.root, &ws.config, &agent, &task, scope)
                    .map(|l| {
                        format!("{} holds the lock for {}: {}", l.agent, l.task_id, l.scope_paths.join(" "))
                    })
                    .map_err(|e| e.to_string())
            }
            WorkspaceCommand::LockRelease(_) => {
                let agent = need_agent()?;
                crate::ops::locks::LockDir::new(&ws.root, &ws.config)
                    .release(&agent, None)
                    .map(|l| format!("released the lock of {} for {}", l.agent, l.task_id))
                    .map_err(|e| e.to_string())
            }
            WorkspaceCommand::LockSweep(args) => {
                let limit = args.older_than.unwrap_or(ws.config.stale_lock_after_secs);
                crate::ops::locks::LockDir::new(&ws.root, &ws.config)
                    .sweep(limit)
                    .map(|removed| format!("{} stale locks removed", removed.len()))
                    .map_err(|e| e.to_string())
            }
        }
    });
    let joined = loop {
        tokio::select! {
            joined = &mut work => break joined,
            Some(step) = stepped.recv() => {
                if let Some(p) = &progress {
                    p.report(step).await;
                }
            }
        }
    };
    let result = joined.unwrap_or_else(|e| Err(format!("the command crashed: {e}")));
    if let Some(p) = progress {
        p.finish_with_message(if result.is_ok() { "done" } else { "failed" }).await;
    }
    let (kind, message) = match &result {
        Ok(m) => (MessageType::INFO, format!("Concord: {m}")),
        Err(m) => (MessageType::ERROR, format!("Concord: {m}")),
    };
    backend.client.show_message(kind, &message).await;
    folder.submit(Change::Reload(None));
    let _ = tokio::time::timeout(CLIENT_TIMEOUT, backend.client.code_lens_refresh()).await;
    Ok(Some(match result {
        Ok(m) => json!({ "ok": true, "message": m }),
        Err(m) => json!({ "ok": false, "message": m }),
    }))
}

fn untrusted(command: &str) -> Error {
    Error {
        code: ErrorCode::InvalidRequest,
        message: format!(
            "{command} is refused: the workspace is not trusted, and this command writes files or runs commands named in the repository. Trust the workspace in the editor (initializationOptions.trusted) to enable it."
        )
        .into(),
        data: None,
    }
}
