//! The protocol adapter. Rules that keep it correct under a concurrent dispatcher:
//! - an edit is stored before the handler's first `.await`, and only if its version is newer;
//! - no lock is held across an `.await` (clippy.toml enforces it);
//! - slow work (loading, commands) runs on spawned tasks; every request to the client has a timeout;
//! - diagnostics are debounced with a generation counter and dropped when stale.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::convert::{self, rel_path};
use super::documents::{Document, Encoding};
use super::features::{self, Loaded};
use crate::config::CONFIG_FILE;
use crate::scan::{scan_text, FileFacts};
use crate::workspace::{LoadError, Workspace};

/// How long a request to the client may take before it is abandoned.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an early request waits for the first workspace load before answering with less.
const FIRST_LOAD_WAIT: Duration = Duration::from_secs(5);

pub const COMMANDS: &[&str] = &[
    "concord.status",
    "concord.queue",
    "concord.reload",
    "concord.crosswalk",
    "concord.dispatch",
    "concord.review",
    "concord.apply",
    "concord.approve",
    "concord.lock.acquire",
    "concord.lock.release",
    "concord.lock.sweep",
];

/// Sets its flag when dropped: a cancelled request drops its future, which stops the work.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub agent: Option<String>,
    /// The agent CLI preset the editor prefers for dispatch (e.g. `cursor-agent` in Cursor).
    pub agent_preset: Option<String>,
    pub trusted: bool,
    /// From the client; when absent, `lsp.debounce_ms` of concord.toml applies.
    pub debounce: Option<Duration>,
    pub encoding: Encoding,
    pub work_done_progress: bool,
    pub watched_files_dynamic: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            agent: None,
            agent_preset: None,
            trusted: false,
            debounce: None,
            encoding: Encoding::Utf16,
            work_done_progress: false,
            watched_files_dynamic: false,
        }
    }
}

#[derive(Default)]
struct Shared {
    root: RwLock<Option<PathBuf>>,
    settings: RwLock<Settings>,
    docs: Mutex<HashMap<Uri, Document>>,
    loaded: RwLock<Option<Arc<Loaded>>>,
    /// URIs of files that are not open and have workspace diagnostics published.
    published: Mutex<HashSet<Uri>>,
    reload_generation: AtomicU64,
    shutdown_requested: Arc<AtomicBool>,
    /// Becomes true once the first load finished (well or not).
    ready: Option<tokio::sync::watch::Sender<bool>>,
}

#[derive(Clone)]
pub struct Backend {
    client: Client,
    shared: Arc<Shared>,
}

/// Run `work`, turning a panic into an error response instead of a dead server.
fn guarded<T>(work: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|_| Error {
        code: ErrorCode::InternalError,
        message: "concord: internal error while handling this request; the server keeps running (details in its log)".into(),
        data: None,
    })
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|e| e.into_inner()).clone()
}

impl Backend {
    pub fn new(client: Client, shutdown_requested: Arc<AtomicBool>) -> Backend {
        let (ready, _) = tokio::sync::watch::channel(false);
        let shared = Shared { shutdown_requested, ready: Some(ready), ..Default::default() };
        Backend { client, shared: Arc::new(shared) }
    }

    fn settings(&self) -> Settings {
        read(&self.shared.settings)
    }

    fn loaded(&self) -> Option<Arc<Loaded>> {
        read(&self.shared.loaded)
    }

    /// The loaded workspace, waiting (briefly) for the first load when a request comes early.
    async fn loaded_when_ready(&self) -> Option<Arc<Loaded>> {
        if let Some(ready) = &self.shared.ready {
            let mut rx = ready.subscribe();
            let _ = tokio::time::timeout(FIRST_LOAD_WAIT, rx.wait_for(|done| *done)).await;
        }
        self.loaded()
    }

    fn mark_ready(&self) {
        if let Some(ready) = &self.shared.ready {
            ready.send_replace(true);
        }
    }

    fn root(&self) -> Option<PathBuf> {
        read(&self.shared.root)
    }

    fn rel(&self, uri: &Uri) -> Option<String> {
        rel_path(&self.root()?, uri)
    }

    /// The current text of a line: from the open buffer, else from disk.
    fn line_text(&self, uri: &Uri, line: u32) -> Option<String> {
        if let Some(doc) = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).get(uri) {
            return Some(doc.line(line));
        }
        // Through the one reader: a link out of the workspace, a FIFO or `/dev/zero` gives no text.
        let root = self.root()?;
        let path = uri.to_file_path()?;
        let rel = path.strip_prefix(&root).ok()?;
        let text =
            crate::fsutil::read_text_in_workspace(&root, rel, crate::fsutil::DEFAULT_READ_CAP).ok()??;
        Some(text.lines().nth(line as usize).unwrap_or("").to_string())
    }

    /// What a request at a position needs: the loaded workspace, the line's text, the encoding.
    async fn at_position(&self, uri: &Uri, position: Position) -> Option<(Arc<Loaded>, String, Encoding)> {
        let loaded = self.loaded_when_ready().await?;
        let line = self.line_text(uri, position.line)?;
        Some((loaded, line, self.settings().encoding))
    }

    /// Facts for a document: from the open buffer's current text, else from the last scan.
    /// "Reviewed" quick fixes for `stale-reference` diagnostics at places: each records the
    /// place as checked against its chunk's current text, as an edit of the trace lock that the
    /// client applies (the person sees the change; the server writes nothing).
    fn reviewed_actions(&self, uri: &Uri, diagnostics: &[Diagnostic]) -> Vec<CodeActionOrCommand> {
        let stale: Vec<&Diagnostic> = diagnostics
            .iter()
            .filter(|d| d.source.as_deref() == Some("concord"))
            .filter(|d| d.code == Some(NumberOrString::String("stale-reference".into())))
            .collect();
        let Some(loaded) = self.loaded().filter(|_| !stale.is_empty()) else { return Vec::new() };
        let Some(facts) = self.facts(&loaded, uri) else { return Vec::new() };
        let encoding = self.settings().encoding;
        let ws = &loaded.ws;
        let keys = crate::stale::stale_keys(&ws.config, &ws.model, &facts);
        let mut out = Vec::new();
        for diagnostic in stale {
            let Some((key, _, _)) = keys.iter().find(|(key, span, _)| {
                convert::range(*span, encoding) == diagnostic.range
                    && diagnostic.data.as_ref().and_then(|d| d.get("id")).and_then(Value::as_str)
                        == Some(key.chunk.as_str())
            }) else {
                continue;
            };
            let Ok((rel, now, after)) = crate::ops::trace_lock::with_reviewed(ws, key) else { continue };
            let Some(target) = convert::uri(&ws.root, &rel) else { continue };
            let now = now.unwrap_or_default();
            let end = crate::text::LineIndex::new(&now).line_col(&now, now.len());
            let whole = crate::text::Span { start: crate::text::LineCol::default(), end };
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!(
                    "Reviewed: record {} as checked against the current text of {}",
                    crate::stale::place(key),
                    key.chunk
                ),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(
                        [(
                            target,
                            vec![TextEdit { range: convert::range(whole, encoding), new_text: after }],
                        )]
                        .into_iter()
                        .collect(),
                    ),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        out
    }

    fn facts(&self, loaded: &Loaded, uri: &Uri) -> Option<FileFacts> {
        let open = {
            let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            docs.get(uri).map(|d| (d.rope.to_string(), d.path.clone()))
        };
        match open {
            Some((text, path)) => Some(scan_text(&loaded.ws.config, &path.or_else(|| self.rel(uri))?, &text)),
            None => loaded.ws.files.get(&self.rel(uri)?).cloned(),
        }
    }

    // ----- diagnostics -----

    /// Debounced diagnostics for an open document: a newer edit cancels this run.
    fn schedule_diagnostics(&self, uri: Uri) {
        let generation = {
            let mut docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            let Some(doc) = docs.get_mut(&uri) else { return };
            doc.generation += 1;
            doc.generation
        };
        let this = self.clone();
        let debounce = self
            .settings()
            .debounce
            .unwrap_or_else(|| Duration::from_millis(self.loaded().map_or(150, |l| l.ws.config.debounce_ms)));
        tokio::spawn(async move {
            tokio::time::sleep(debounce).await;
            let Some((version, diagnostics)) = this.document_diagnostics(&uri, generation) else { return };
            this.client.publish_diagnostics(uri, diagnostics, Some(version)).await;
        });
    }

    /// The diagnostics of an open document at `generation`, or `None` if it moved on.
    fn document_diagnostics(&self, uri: &Uri, generation: u64) -> Option<(i32, Vec<Diagnostic>)> {
        let (text, version, path, opened_hash, changed_line) = {
            let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            let doc = docs.get(uri).filter(|d| d.generation == generation)?;
            (doc.rope.to_string(), doc.version, doc.path.clone(), doc.opened_hash, doc.first_changed_line)
        };
        let loaded = self.loaded()?;
        let path = path?;
        let settings = self.settings();
        let encoding = settings.encoding;
        let findings = guarded(|| {
            let mut findings = self.findings_for_text(&loaded, &path, &text);
            // The active agent answers for its edits: a document changed away from what was opened.
            if let (Some(agent), Some(line)) = (&settings.agent, changed_line) {
                if super::documents::text_hash(&text) != opened_hash {
                    let found = crate::scope::edit_findings(
                        &loaded.ws.config,
                        &loaded.ws.model,
                        agent,
                        &path,
                        line,
                        crate::time::now_secs(),
                    );
                    findings.extend(crate::analysis::apply_severities(&loaded.ws.config, found));
                }
            }
            findings
        })
        .ok()?;
        let diagnostics = findings.iter().map(|f| convert::diagnostic(f, encoding)).collect();
        // A result computed for an older edit is dropped.
        let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
        (docs.get(uri)?.generation == generation).then_some((version, diagnostics))
    }

    fn findings_for_text(&self, loaded: &Loaded, path: &str, text: &str) -> Vec<crate::findings::Finding> {
        let config = &loaded.ws.config;
        // An ops file edited but not saved: its own loader's findings, from the buffer. The
        // cross-file checks come back when it is saved and the model reloads.
        let on_disk =
            crate::fsutil::read_text_in_workspace(&loaded.ws.root, path, config.max_file_size).ok().flatten();
        if on_disk.as_deref() != Some(text) {
            if let Some(found) = crate::model::ops_file_findings(config, path, text) {
                return crate::analysis::apply_severities(config, found);
            }
        }
        let facts = scan_text(config, path, text);
        loaded.analysis.findings_for(config, &loaded.ws.model, &facts)
    }

    /// Publish workspace-wide diagnostics for every file that is not open, clearing files that
    /// no longer have any, and refresh open documents.
    async fn publish_workspace(&self) {
        let Some(loaded) = self.loaded() else { return };
        let open: HashSet<Uri> =
            self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        let encoding = self.settings().encoding;
        let computed = tokio::task::spawn_blocking({
            let loaded = loaded.clone();
            move || {
                let mut by_path: BTreeMap<String, Vec<crate::findings::Finding>> = BTreeMap::new();
                for (path, findings) in &loaded.analysis.workspace_findings {
                    by_path.entry(path.clone()).or_default().extend(findings.iter().cloned());
                }
                for finding in crate::analysis::all_file_findings(&loaded.ws, &loaded.analysis) {
                    by_path.entry(finding.path.clone()).or_default().push(finding);
                }
                by_path
                    .into_iter()
                    .filter_map(|(path, mut findings)| {
                        crate::findings::sort(&mut findings);
                        let uri = convert::uri(&loaded.ws.root, &path)?;
                        Some((
                            uri,
                            findings.iter().map(|f| convert::diagnostic(f, encoding)).collect::<Vec<_>>(),
                        ))
                    })
                    .collect::<Vec<_>>()
            }
        })
        .await;
        let Ok(computed) = computed else { return };
        let now: HashSet<Uri> =
            computed.iter().map(|(u, _)| u.clone()).filter(|u| !open.contains(u)).collect();
        let stale: Vec<Uri> = {
            let mut published = self.shared.published.lock().unwrap_or_else(|e| e.into_inner());
            let stale = published.difference(&now).cloned().collect();
            *published = now;
            stale
        };
        for uri in stale.into_iter().filter(|u| !open.contains(u)) {
            self.client.publish_diagnostics(uri, Vec::new(), None).await;
        }
        for (uri, diagnostics) in computed.into_iter().filter(|(u, _)| !open.contains(u)) {
            self.client.publish_diagnostics(uri, diagnostics, None).await;
        }
        for uri in open {
            self.schedule_diagnostics(uri);
        }
    }

    // ----- loading -----

    /// Reload the workspace in the background, coalescing bursts of requests.
    fn request_reload(&self) {
        let generation = self.shared.reload_generation.fetch_add(1, Ordering::SeqCst) + 1;
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if this.shared.reload_generation.load(Ordering::SeqCst) == generation {
                this.reload().await;
            }
        });
    }

    async fn reload(&self) {
        let Some(root) = self.root() else {
            self.mark_ready();
            return;
        };
        // The load starts at once; progress is reported beside it, never waited for first.
        let load = tokio::task::spawn_blocking(move || Workspace::load(&root).map(Loaded::new));
        let progress = self.begin_progress("Concord", "Scanning the workspace").await;
        match load.await {
            Ok(Ok(loaded)) => {
                let summary = format!(
                    "{} files, {} chunks, {} work items",
                    loaded.ws.files.len(),
                    loaded.ws.model.chunks.len(),
                    loaded.ws.model.work.len()
                );
                *self.shared.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(loaded));
                self.mark_ready();
                if let Some(p) = progress {
                    p.finish_with_message(summary).await;
                }
                self.publish_config_problem(None).await;
                self.publish_workspace().await;
            }
            Ok(Err(error)) => {
                self.mark_ready();
                if let Some(p) = progress {
                    p.finish_with_message("failed").await;
                }
                log::error!("loading the workspace failed: {error}");
                self.publish_config_problem(Some(&error)).await;
                self.client.show_message(MessageType::ERROR, format!("Concord: {error}")).await;
            }
            Err(join) => {
                self.mark_ready();
                log::error!("the workspace loader crashed: {join}");
            }
        }
    }

    /// A configuration error is shown in concord.toml itself, at its position.
    async fn publish_config_problem(&self, error: Option<&LoadError>) {
        let Some(uri) = self.root().and_then(|r| convert::uri(&r, CONFIG_FILE)) else { return };
        let diagnostics = match error {
            Some(LoadError::Config(e)) => vec![Diagnostic {
                range: e.span.map(|s| convert::range(s, self.settings().encoding)).unwrap_or_default(),
                severity: Some(DiagnosticSeverity::ERROR),
                code: Some(NumberOrString::String("malformed-file".into())),
                source: Some("concord".into()),
                message: format!("{}. Concord uses no configuration until this is fixed.", e.message),
                ..Default::default()
            }],
            _ => Vec::new(),
        };
        self.client.publish_diagnostics(uri, diagnostics, None).await;
    }

    async fn begin_progress(
        &self,
        title: &str,
        message: &str,
    ) -> Option<
        tower_lsp_server::OngoingProgress<tower_lsp_server::Unbounded, tower_lsp_server::NotCancellable>,
    > {
        if !self.settings().work_done_progress {
            return None;
        }
        let token = NumberOrString::String(format!(
            "concord/{}",
            self.shared.reload_generation.load(Ordering::SeqCst)
        ));
        match tokio::time::timeout(CLIENT_TIMEOUT, self.client.create_work_done_progress(token.clone())).await
        {
            Ok(Ok(())) => Some(self.client.progress(token, title).with_message(message).begin().await),
            _ => None,
        }
    }

    /// A file changed on disk (and is not an ops file): rescan just it.
    fn rescan(&self, paths: Vec<(String, bool)>) {
        let this = self.clone();
        tokio::spawn(async move {
            let Some(old) = this.loaded() else { return };
            let updated = tokio::task::spawn_blocking(move || {
                let mut ws = old.ws.clone();
                for (path, deleted) in paths {
                    ws.files.remove(&path);
                    if !deleted {
                        let limit = ws.config.max_file_size;
                        if let Ok(bytes) = crate::fsutil::read_in_workspace(&ws.root, &path, limit) {
                            if crate::workspace::unscannable(&bytes).is_none()
                                && !ws.config.scan_exclude.is_match(&path)
                            {
                                let text = String::from_utf8_lossy(&bytes);
                                ws.files.insert(path.clone(), scan_text(&ws.config, &path, &text));
                            }
                        }
                    }
                }
                Loaded::new(ws)
            })
            .await;
            if let Ok(loaded) = updated {
                *this.shared.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(loaded));
                this.publish_workspace().await;
            }
        });
    }

    /// Ops files, the config and chunk markdown change the model: those need a full reload.
    fn needs_reload(&self, path: &str) -> bool {
        let Some(loaded) = self.loaded() else { return true };
        let config = &loaded.ws.config;
        path == CONFIG_FILE
            || config.is_ops_file(path)
            || (path.ends_with(".md") && crate::config::is_under(path, &config.paths.blueprints_dir))
    }

    async fn register_watchers(&self) {
        if !self.settings().watched_files_dynamic {
            return;
        }
        let watchers =
            vec![FileSystemWatcher { glob_pattern: GlobPattern::String("**/*".into()), kind: None }];
        let registration = Registration {
            id: "concord-watched-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions { watchers })
                .ok(),
        };
        if tokio::time::timeout(CLIENT_TIMEOUT, self.client.register_capability(vec![registration]))
            .await
            .is_err()
        {
            log::warn!("the client did not answer the file-watcher registration in time");
        }
    }

    fn status(&self) -> Value {
        let settings = self.settings();
        let Some(loaded) = self.loaded() else {
            return json!({ "loaded": false, "agent": settings.agent, "trusted": settings.trusted });
        };
        let summary = loaded.analysis.coverage.summary();
        let covered = summary.by_status.get(&crate::coverage::CoverageStatus::Covered).copied().unwrap_or(0);
        let lock =
            settings.agent.as_deref().and_then(|a| loaded.ws.model.locks.iter().find(|l| l.agent == a));
        json!({
            "loaded": true,
            "agent": settings.agent,
            "trusted": settings.trusted,
            "lock": lock.map(|l| json!({ "task": l.task_id, "scope": l.scope_paths, "since": l.acquired_at })),
            "coverage": { "covered": covered, "chunks": summary.chunks },
            "gate_failures": loaded.analysis.coverage.gate_failures(&loaded.ws.config.gate).len(),
        })
    }
}

fn init_options(params: &InitializeParams) -> (Option<String>, bool, Option<Duration>) {
    let options = params.initialization_options.as_ref();
    let get = |key: &str| options.and_then(|o| o.get(key));
    let agent = get("agent").and_then(Value::as_str).filter(|a| !a.is_empty()).map(str::to_string);
    let trusted = get("trusted").and_then(Value::as_bool).unwrap_or(false);
    let debounce = get("debounceMs").and_then(|v| client_debounce(v, "initializationOptions"));
    (agent, trusted, debounce)
}

/// A client's `debounceMs`, clamped to 0..=`DEBOUNCE_MS_MAX` (saying so in the log); `None`
/// (also logged) for a value that is not a whole number.
fn client_debounce(value: &Value, source: &str) -> Option<Duration> {
    let max = crate::config::DEBOUNCE_MS_MAX;
    let ms = match (value.as_u64(), value.as_i64()) {
        (Some(ms), _) if ms <= max => ms,
        (Some(ms), _) => {
            log::warn!("{source}: debounceMs {ms} is above the maximum; using {max} ms");
            max
        }
        (None, Some(ms)) => {
            log::warn!("{source}: debounceMs {ms} is negative; using 0 ms");
            0
        }
        (None, None) => {
            log::warn!("{source}: debounceMs {value} is not a whole number of milliseconds; ignored");
            return None;
        }
    };
    Some(Duration::from_millis(ms))
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
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
            super::logging::set_client_level(level);
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
        };
        log::info!(
            "initialize: root {root:?}, agent {:?}, trusted {}, encoding {:?}",
            settings.agent,
            settings.trusted,
            settings.encoding
        );
        *self.shared.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
        *self.shared.root.write().unwrap_or_else(|e| e.into_inner()) = root;
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

    async fn initialized(&self, _: InitializedParams) {
        let this = self.clone();
        tokio::spawn(async move { this.reload().await });
        let this = self.clone();
        tokio::spawn(async move { this.register_watchers().await });
    }

    async fn shutdown(&self) -> Result<()> {
        self.shared.shutdown_requested.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let path = self.rel(&doc.uri);
        self.shared
            .docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(doc.uri.clone(), Document::new(&doc.text, doc.version, path));
        self.schedule_diagnostics(doc.uri);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        let encoding = self.settings().encoding;
        {
            let mut docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            let Some(doc) = docs.get_mut(&uri) else {
                log::warn!("didChange for {} which is not open: ignored", uri.as_str());
                return;
            };
            if version <= doc.version {
                log::warn!(
                    "didChange for {} with version {version} after {}: ignored",
                    uri.as_str(),
                    doc.version
                );
                return;
            }
            for change in &params.content_changes {
                doc.apply(change, encoding);
            }
            doc.version = version;
        }
        self.schedule_diagnostics(uri);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let Some(path) = self.rel(&params.text_document.uri) else { return };
        if self.needs_reload(&path) {
            self.request_reload();
        } else {
            self.rescan(vec![(path, false)]);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).remove(&uri);
        // What was published for the buffer is replaced by what the file on disk has.
        let diagnostics = match (self.loaded(), self.rel(&uri)) {
            (Some(loaded), Some(path)) => loaded
                .ws
                .files
                .get(&path)
                .map(|facts| loaded.analysis.findings_for(&loaded.ws.config, &loaded.ws.model, facts))
                .or_else(|| loaded.analysis.workspace_findings.get(&path).cloned())
                .unwrap_or_default()
                .iter()
                .map(|f| convert::diagnostic(f, self.settings().encoding))
                .collect(),
            _ => Vec::new(),
        };
        if !diagnostics.is_empty() {
            self.shared.published.lock().unwrap_or_else(|e| e.into_inner()).insert(uri.clone());
        }
        self.client.publish_diagnostics(uri, diagnostics, None).await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let Some(concord) = params.settings.get("concord").filter(|c| c.is_object()) else { return };
        {
            let mut settings = self.shared.settings.write().unwrap_or_else(|e| e.into_inner());
            if let Some(agent) = concord.get("agent") {
                settings.agent = agent.as_str().filter(|a| !a.is_empty()).map(str::to_string);
            }
            if let Some(preset) = concord.get("agentPreset") {
                settings.agent_preset = preset.as_str().filter(|p| !p.is_empty()).map(str::to_string);
            }
            if let Some(trusted) = concord.get("trusted").and_then(Value::as_bool) {
                settings.trusted = trusted;
            }
            if let Some(debounce) =
                concord.get("debounceMs").and_then(|v| client_debounce(v, "didChangeConfiguration"))
            {
                settings.debounce = Some(debounce);
            }
            log::info!("settings changed: agent {:?}, trusted {}", settings.agent, settings.trusted);
        }
        // Scope diagnostics depend on the agent: recompute open documents.
        let open: Vec<Uri> =
            self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        for uri in open {
            self.schedule_diagnostics(uri);
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut reload = false;
        let mut changed = Vec::new();
        for event in &params.changes {
            let Some(path) = self.rel(&event.uri) else { continue };
            if self.needs_reload(&path) {
                reload = true;
            } else {
                changed.push((path, event.typ == FileChangeType::DELETED));
            }
        }
        if reload {
            self.request_reload();
        } else if !changed.is_empty() {
            self.rescan(changed);
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let position = params.text_document_position_params.position;
        let uri = params.text_document_position_params.text_document.uri;
        let Some((loaded, line, encoding)) = self.at_position(&uri, position).await else { return Ok(None) };
        guarded(|| {
            let (id, start, end) = features::id_at(&loaded, &line, position.character, encoding)?;
            let column = |byte: usize| match encoding {
                Encoding::Utf8 => byte as u32,
                Encoding::Utf16 => crate::text::utf16_len(&line[..byte]) as u32,
            };
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: features::hover_markdown(&loaded, &id),
                }),
                range: Some(Range::new(
                    Position::new(position.line, column(start)),
                    Position::new(position.line, column(end)),
                )),
            })
        })
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let position = params.text_document_position_params.position;
        let uri = params.text_document_position_params.text_document.uri;
        let Some((loaded, line, encoding)) = self.at_position(&uri, position).await else { return Ok(None) };
        guarded(|| {
            let (id, _, _) = features::id_at(&loaded, &line, position.character, encoding)?;
            features::definition(&loaded, &id, encoding).map(GotoDefinitionResponse::Scalar)
        })
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let position = params.text_document_position.position;
        let uri = params.text_document_position.text_document.uri;
        let Some((loaded, line, encoding)) = self.at_position(&uri, position).await else { return Ok(None) };
        let open: Vec<(String, String)> = {
            let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            docs.values().filter_map(|d| Some((d.path.clone()?, d.rope.to_string()))).collect()
        };
        guarded(|| {
            let (id, _, _) = features::id_at(&loaded, &line, position.character, encoding)?;
            let open: BTreeMap<String, FileFacts> = open
                .iter()
                .map(|(path, text)| (path.clone(), scan_text(&loaded.ws.config, path, text)))
                .collect();
            Some(features::references(&loaded, &id, &open, encoding))
        })
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let position = params.text_document_position.position;
        let uri = params.text_document_position.text_document.uri;
        let Some((loaded, line, encoding)) = self.at_position(&uri, position).await else { return Ok(None) };
        guarded(|| {
            let (items, truncated) = features::completion(&loaded, &line, position, encoding)?;
            Some(CompletionResponse::List(CompletionList { is_incomplete: truncated, items }))
        })
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        let Some(loaded) = self.loaded_when_ready().await else { return Ok(None) };
        let encoding = self.settings().encoding;
        guarded(|| {
            Some(WorkspaceSymbolResponse::Flat(features::workspace_symbols(&loaded, &params.query, encoding)))
        })
    }

    async fn document_link(&self, params: DocumentLinkParams) -> Result<Option<Vec<DocumentLink>>> {
        let Some(loaded) = self.loaded_when_ready().await else { return Ok(None) };
        let encoding = self.settings().encoding;
        let Some(facts) = self.facts(&loaded, &params.text_document.uri) else { return Ok(None) };
        guarded(|| Some(features::document_links(&loaded, &facts, encoding)))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let Some(loaded) = self.loaded_when_ready().await else { return Ok(None) };
        let encoding = self.settings().encoding;
        let Some(facts) = self.facts(&loaded, &params.text_document.uri) else { return Ok(None) };
        guarded(|| Some(features::code_lenses(&loaded, &facts, encoding)))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        guarded(|| {
            let mut actions = Vec::new();
            for diagnostic in
                params.context.diagnostics.iter().filter(|d| d.source.as_deref() == Some("concord"))
            {
                let Some(fixes) =
                    diagnostic.data.as_ref().and_then(|d| d.get("fixes")).and_then(Value::as_array)
                else {
                    continue;
                };
                for (n, fix) in fixes.iter().enumerate() {
                    let Some(title) = fix.get("title").and_then(Value::as_str) else { continue };
                    let Some(edits) = fix
                        .get("edits")
                        .and_then(|e| serde_json::from_value::<Vec<TextEdit>>(e.clone()).ok())
                    else {
                        continue;
                    };
                    actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                        title: title.to_string(),
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![diagnostic.clone()]),
                        edit: Some(WorkspaceEdit {
                            changes: Some([(uri.clone(), edits)].into_iter().collect()),
                            ..Default::default()
                        }),
                        is_preferred: Some(n == 0),
                        ..Default::default()
                    }));
                }
            }
            actions.extend(self.reviewed_actions(&uri, &params.context.diagnostics));
            Some(actions)
        })
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        let command = params.command.as_str();
        match command {
            "concord.status" => Ok(Some(self.status())),
            "concord.reload" => {
                self.reload().await;
                Ok(Some(self.status()))
            }
            "concord.crosswalk" => {
                if !self.settings().trusted {
                    return Err(untrusted(command));
                }
                let Some(loaded) = self.loaded() else { return Err(Error::invalid_request()) };
                let written = tokio::task::spawn_blocking(move || {
                    let text = loaded.analysis.coverage.to_crosswalk_json();
                    let ws = &loaded.ws;
                    crate::fsutil::write_in_workspace(&ws.root, &ws.config.paths.crosswalk, text.as_bytes())
                        .map(|_| loaded.analysis.coverage.chunks.len())
                })
                .await;
                match written {
                    Ok(Ok(chunks)) => {
                        let message = format!("Concord: crosswalk written ({chunks} chunks)");
                        self.client.show_message(MessageType::INFO, &message).await;
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
                let Some(loaded) = self.loaded_when_ready().await else { return Ok(Some(json!([]))) };
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
            "concord.dispatch"
            | "concord.review"
            | "concord.apply"
            | "concord.approve"
            | "concord.lock.acquire"
            | "concord.lock.release"
            | "concord.lock.sweep" => {
                if !self.settings().trusted {
                    return Err(untrusted(command));
                }
                let argument = params.arguments.first().cloned().unwrap_or(Value::Null);
                self.run_workspace_command(command, argument).await
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
                message: format!("unknown command {command:?}; the server offers {}", COMMANDS.join(", "))
                    .into(),
                data: None,
            }),
        }
    }
}

impl Backend {
    /// A command that changes the workspace: run in the background with progress, stopped when
    /// the request is cancelled, reported as a message, followed by a reload.
    async fn run_workspace_command(&self, command: &str, argument: Value) -> Result<Option<LSPAny>> {
        let Some(root) = self.root() else { return Err(Error::invalid_request()) };
        let settings = self.settings();
        let agent = argument.get("agent").and_then(Value::as_str).map(str::to_string).or(settings.agent);
        let preset =
            argument.get("cli").and_then(Value::as_str).map(str::to_string).or(settings.agent_preset);
        let cancel = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(cancel.clone());
        let progress = self.begin_progress("Concord", command).await;
        let name = command.to_string();
        let work = tokio::task::spawn_blocking(move || -> std::result::Result<String, String> {
            let text = |key: &str| argument.get(key).and_then(Value::as_str).map(str::to_string);
            let ws = Workspace::load(&root).map_err(|e| e.to_string())?;
            let need_agent = || {
                agent.clone().ok_or_else(|| "no agent: start the server with initializationOptions.agent or CONCORD_AGENT, or pass {\"agent\": …}".to_string())
            };
            match name.as_str() {
                "concord.dispatch" => {
                    let agent = need_agent()?;
                    let id = text("id");
                    let request = crate::ops::dispatch::Request {
                        id: id.as_deref(),
                        agent: &agent,
                        cli: preset.as_deref(),
                        model: None,
                    };
                    let outcome = crate::ops::dispatch::dispatch(&ws, &request, &cancel)?;
                    if outcome.ok {
                        Ok(outcome.message)
                    } else {
                        Err(outcome.message)
                    }
                }
                "concord.review" => {
                    let run = text("run");
                    let no_llm = argument.get("noLlm").and_then(Value::as_bool).unwrap_or(false);
                    crate::ops::review::review(
                        &ws,
                        &crate::ops::review::Options { run: run.as_deref(), no_llm },
                    )
                    .map(|o| o.message)
                }
                "concord.apply" => {
                    crate::ops::apply::apply(&ws, text("review").as_deref(), "concord (editor)")
                }
                "concord.approve" => {
                    let id = text("id").ok_or("approve needs {\"id\": \"WBS-…\"}")?;
                    crate::ops::apply::approve(&ws, &id, &agent.unwrap_or_else(|| "a person (editor)".into()))
                }
                "concord.lock.acquire" => {
                    let agent = need_agent()?;
                    let task = text("task").ok_or("lock.acquire needs {\"task\": \"WBS-…\"}")?;
                    let scope = argument
                        .get("scope")
                        .and_then(Value::as_array)
                        .map(|s| s.iter().filter_map(Value::as_str).map(str::to_string).collect());
                    crate::ops::locks::LockDir::new(&ws.root, &ws.config)
                        .acquire(&ws.root, &ws.config, &agent, &task, scope)
                        .map(|l| {
                            format!(
                                "{} holds the lock for {}: {}",
                                l.agent,
                                l.task_id,
                                l.scope_paths.join(" ")
                            )
                        })
                        .map_err(|e| e.to_string())
                }
                "concord.lock.release" => {
                    let agent = need_agent()?;
                    crate::ops::locks::LockDir::new(&ws.root, &ws.config)
                        .release(&agent, None)
                        .map(|l| format!("released the lock of {} for {}", l.agent, l.task_id))
                        .map_err(|e| e.to_string())
                }
                "concord.lock.sweep" => {
                    let limit = text("olderThan")
                        .map_or(Ok(ws.config.stale_lock_after_secs), |d| crate::config::parse_duration(&d))?;
                    crate::ops::locks::LockDir::new(&ws.root, &ws.config)
                        .sweep(limit)
                        .map(|removed| format!("{} stale locks removed", removed.len()))
                        .map_err(|e| e.to_string())
                }
                _ => Err(format!("unknown command {name}")),
            }
        });
        let result = work.await.unwrap_or_else(|e| Err(format!("the command crashed: {e}")));
        if let Some(p) = progress {
            p.finish_with_message(if result.is_ok() { "done" } else { "failed" }).await;
        }
        let (kind, message) = match &result {
            Ok(m) => (MessageType::INFO, format!("Concord: {m}")),
            Err(m) => (MessageType::ERROR, format!("Concord: {m}")),
        };
        self.client.show_message(kind, &message).await;
        self.request_reload();
        let _ = tokio::time::timeout(CLIENT_TIMEOUT, self.client.code_lens_refresh()).await;
        Ok(Some(match result {
            Ok(m) => json!({ "ok": true, "message": m }),
            Err(m) => json!({ "ok": false, "message": m }),
        }))
    }
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
