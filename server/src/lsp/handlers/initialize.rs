//! The session's lifecycle: `initialize` (the client's settings and capabilities, the server's),
//! `initialized` (the change queue starts, the first load is asked for) and `shutdown`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use super::configuration::client_debounce;
use crate::config::DiagnosticsScope;
use crate::lsp::commands::COMMANDS;
use crate::lsp::documents::Encoding;
use crate::lsp::server::{Backend, Change, Settings};

pub async fn initialize(backend: &Backend, params: InitializeParams) -> Result<InitializeResult> {
    #[allow(deprecated)]
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .and_then(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .or_else(|| params.root_uri.as_ref().and_then(|u| u.to_file_path().map(|p| p.into_owned())));
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
        root = ?root,
        agent = ?settings.agent,
        trusted = settings.trusted,
        encoding = ?settings.encoding,
        pull_diagnostics = settings.pull,
        "initialize"
    );
    *backend.shared.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
    *backend.shared.root.write().unwrap_or_else(|e| e.into_inner()) = root;
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
    let pending = backend.shared.pending_changes.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(changes) = pending {
        tokio::spawn(backend.clone().apply_changes(changes));
    }
    backend.submit(Change::Reload(None));
    let this = backend.clone();
    tokio::spawn(async move { super::watched_files::register_watchers(&this).await });
}

pub async fn shutdown(backend: &Backend) -> Result<()> {
    backend.shared.shutdown_requested.store(true, Ordering::SeqCst);
    Ok(())
}

fn init_options(params: &InitializeParams) -> (Option<String>, bool, Option<Duration>) {
    let options = params.initialization_options.as_ref();
    let get = |key: &str| options.and_then(|o| o.get(key));
    let agent = get("agent").and_then(Value::as_str).filter(|a| !a.is_empty()).map(str::to_string);
    let trusted = get("trusted").and_then(Value::as_bool).unwrap_or(false);
    let debounce = get("debounceMs").and_then(|v| client_debounce(v, "initializationOptions"));
    (agent, trusted, debounce)
}
