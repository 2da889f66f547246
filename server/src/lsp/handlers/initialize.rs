//! The session's lifecycle: `initialize` (the client's settings and capabilities, the server's),
//! `initialized` (each workspace folder's change queue starts, its first load is asked for) and
//! `shutdown`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use super::configuration::client_debounce;
use crate::config::DiagnosticsScope;
use crate::lsp::commands::COMMANDS;
use crate::lsp::documents::Encoding;
use crate::lsp::server::{Backend, Folder, Settings};

pub async fn initialize(backend: &Backend, params: InitializeParams) -> Result<InitializeResult> {
    let folders = initial_folders(&params);
    let (agent, trusted, debounce) = init_options(&params);
    if let Some(level) =
        params.initialization_options.as_ref().and_then(|o| o.get("logLevel")).and_then(Value::as_str)
    {
        crate::lsp::logging::set_client_level(level);
    }
    let agent_preset = params
        .initialization_options
        .as_ref()
        .and_then(|o| o.get("agentPreset"))
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let capabilities = &params.capabilities;
    let utf8 = capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|encodings| encodings.contains(&PositionEncodingKind::UTF8));
    let settings = Settings {
        agent: agent.or_else(|| std::env::var("CONCORD_AGENT").ok().filter(|a| !a.is_empty())),
        agent_preset,
        trusted,
        debounce,
        encoding: if utf8 { Encoding::Utf8 } else { Encoding::Utf16 },
        work_done_progress: capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false),
        watched_files_dynamic: capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
        pull: capabilities.text_document.as_ref().is_some_and(|t| t.diagnostic.is_some()),
        refresh: capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.diagnostics.as_ref())
            .and_then(|d| d.refresh_support)
            .unwrap_or(false),
        scope: params
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("diagnosticsScope"))
            .and_then(Value::as_str)
            .and_then(|name| {
                let scope = DiagnosticsScope::from_name(name);
                if scope.is_none() {
                    tracing::warn!("initializationOptions: diagnosticsScope {name:?} is not \"open\" or \"workspace\"; ignored");
                }
                scope
            }),
    };
    let pull = settings.pull;
    tracing::info!(
        folders = ?folders.iter().map(|f| f.root.display().to_string()).collect::<Vec<_>>(),
        agent = ?settings.agent,
        trusted = settings.trusted,
        encoding = ?settings.encoding,
        pull_diagnostics = settings.pull,
        "initialize"
    );
    *backend.shared.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
    *backend.shared.folders.write().unwrap_or_else(|e| e.into_inner()) = folders;
    Ok(InitializeResult {
        server_info: Some(ServerInfo {
            name: "concord".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        capabilities: ServerCapabilities {
            position_encoding: Some(if utf8 {
                PositionEncodingKind::UTF8
            } else {
                PositionEncodingKind::UTF16
            }),
            text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            })),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec!["-".into()]),
                ..Default::default()
            }),
            workspace_symbol_provider: Some(OneOf::Left(true)),
            document_link_provider: Some(DocumentLinkOptions {
                resolve_provider: Some(false),
                work_done_progress_options: Default::default(),
            }),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..Default::default()
            })),
            code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
            // Each folder is served as its own workspace; folders may come and go.
            workspace: Some(WorkspaceServerCapabilities {
                workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                    supported: Some(true),
                    change_notifications: Some(OneOf::Left(true)),
                }),
                file_operations: None,
            }),
            // Offered only to clients that pull; the others are sent diagnostics.
            diagnostic_provider: pull.then(|| {
                DiagnosticServerCapabilities::Options(DiagnosticOptions {
                    identifier: Some("concord".into()),
                    inter_file_dependencies: true,
                    workspace_diagnostics: true,
                    work_done_progress_options: Default::default(),
                })
            }),
            // Settings the client may change with workspace/didChangeConfiguration, no restart.
            experimental: Some(
                json!({ "concord": { "liveSettings": ["agent", "agentPreset", "debounceMs", "trusted"] } }),
            ),
            execute_command_provider: Some(ExecuteCommandOptions {
                commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
                work_done_progress_options: Default::default(),
            }),
            ..Default::default()
        },
        offset_encoding: None,
    })
}

pub async fn initialized(backend: &Backend, _: InitializedParams) {
    backend.shared.initialized.store(true, Ordering::SeqCst);
    for folder in backend.folders() {
        backend.start(&folder);
    }
    let this = backend.clone();
    tokio::spawn(async move { super::watched_files::register_watchers(&this).await });
}

pub async fn shutdown(backend: &Backend) -> Result<()> {
    backend.shared.shutdown_requested.store(true, Ordering::SeqCst);
    Ok(())
}

/// The folders the client names: `workspaceFolders`, else `rootUri`, else `rootPath`. A folder
/// that is not a local path is skipped (logged); the same folder twice is served once.
fn initial_folders(params: &InitializeParams) -> Vec<Arc<Folder>> {
    let named: Vec<(Uri, Option<String>)> = match params.workspace_folders.as_deref() {
        Some(folders) if !folders.is_empty() => {
            folders.iter().map(|f| (f.uri.clone(), Some(f.name.clone()))).collect()
        }
        #[allow(deprecated)]
        _ => params
            .root_uri
            .clone()
            .or_else(|| params.root_path.as_deref().and_then(Uri::from_file_path))
            .map(|u| vec![(u, None)])
            .unwrap_or_default(),
    };
    let mut out: Vec<Arc<Folder>> = Vec::new();
    for (uri, name) in named {
        let Some(root) = uri.to_file_path().map(|p| p.into_owned()) else {
            tracing::warn!(uri = uri.as_str(), "a workspace folder that is not a local path: not served");
            continue;
        };
        if out.iter().all(|f| f.root != root) {
            out.push(Arc::new(Folder::new(uri, root, name)));
        }
    }
    out
}

fn init_options(params: &InitializeParams) -> (Option<String>, bool, Option<Duration>) {
    let options = params.initialization_options.as_ref();
    let get = |key: &str| options.and_then(|o| o.get(key));
    let agent = get("agent").and_then(Value::as_str).filter(|a| !a.is_empty()).map(str::to_string);
    let trusted = get("trusted").and_then(Value::as_bool).unwrap_or(false);
    let debounce = get("debounceMs").and_then(|v| client_debounce(v, "initializationOptions"));
    (agent, trusted, debounce)
}
