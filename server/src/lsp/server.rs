//! The protocol adapter. Rules that keep it correct under a concurrent dispatcher:
//! - an edit is stored before the handler's first `.await`, and only if its version is newer;
//! - no lock is held across an `.await` (clippy.toml enforces it);
//! - slow work (loading, commands) runs on spawned tasks; every request to the client has a timeout;
//! - diagnostics are debounced with a generation counter and dropped when stale;
//! - the workspace changes in one place, in order: every event becomes a [`Change`] that one
//!   task applies, so a burst (Save All, a save and its watcher event) ends in one state;
//! - a file's diagnostics are sent again only when they changed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
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
use super::diagnostics::{in_scope, result_id};
use super::documents::{Document, Encoding};
use super::features::{self, Loaded};
use crate::config::{DiagnosticsScope, CONFIG_FILE};
use crate::scan::{scan_text, FileFacts};
use crate::workspace::{LoadError, Workspace};

/// How long a request to the client may take before it is abandoned.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an early request waits for the first workspace load before answering with less.
const FIRST_LOAD_WAIT: Duration = Duration::from_secs(5);

/// How long the change queue waits after an event for the rest of its burst.
const BURST: Duration = Duration::from_millis(20);

/// What changes the workspace. Applied in order by one task ([`Backend::apply_changes`]).
#[derive(Debug)]
enum Change {
    /// Everything again: the configuration or an ops file changed, or it was asked for. The
    /// sender, when given, hears when the reload is done.
    Reload(Option<tokio::sync::oneshot::Sender<()>>),
    /// Files changed, were created or deleted on disk (which of these, the disk says when
    /// they are rescanned).
    Files(Vec<String>),
    /// The clock passed the moment a lock becomes stale.
    Clock,
}

pub const COMMANDS: &[&str] = &[
    "concord.status",
    "concord.queue",
    "concord.reload",
    "concord.crosswalk",
    "concord.dispatch",
    "concord.autopilot",
    "concord.review",
    "concord.apply",
    "concord.approve",
    "concord.questions",
    "concord.answer",
    "concord.health",
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
    /// The client pulls diagnostics (`textDocument/diagnostic`): nothing is pushed.
    pub pull: bool,
    /// The client accepts `workspace/diagnostic/refresh`.
    pub refresh: bool,
    /// From the client's `diagnosticsScope`; when absent, `lsp.diagnostics_scope` applies.
    pub scope: Option<DiagnosticsScope>,
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
            pull: false,
            refresh: false,
            scope: None,
        }
    }
}

#[derive(Default)]
struct Shared {
    root: RwLock<Option<PathBuf>>,
    settings: RwLock<Settings>,
    docs: Mutex<HashMap<Uri, Document>>,
    loaded: RwLock<Option<Arc<Loaded>>>,
    /// What was last pushed for each URI (its result ID), open or not; absent: nothing.
    published: Mutex<HashMap<Uri, String>>,
    /// The diagnostics of `concord.toml` when it cannot be used (pull clients ask for them).
    config_problem: RwLock<Vec<Diagnostic>>,
    /// Counts loads, to name their progress.
    reload_generation: AtomicU64,
    changes: Option<tokio::sync::mpsc::UnboundedSender<Change>>,
    /// Taken by the task that applies changes, when the client is initialized.
    pending_changes: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Change>>>,
    shutdown_requested: Arc<AtomicBool>,
    /// Becomes true once the first load finished (well or not).
    ready: Option<tokio::sync::watch::Sender<bool>>,
    /// Becomes true once the model is loaded (before the files are indexed) or the load ended.
    model_ready: Option<tokio::sync::watch::Sender<bool>>,
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
        let (model_ready, _) = tokio::sync::watch::channel(false);
        let (changes, pending) = tokio::sync::mpsc::unbounded_channel();
        let shared = Shared {
            shutdown_requested,
            ready: Some(ready),
            model_ready: Some(model_ready),
            changes: Some(changes),
            pending_changes: Mutex::new(Some(pending)),
            ..Default::default()
        };
        Backend { client, shared: Arc::new(shared) }
    }

    fn settings(&self) -> Settings {
        read(&self.shared.settings)
    }

    /// The loaded workspace, once every file is indexed.
    fn loaded(&self) -> Option<Arc<Loaded>> {
        read(&self.shared.loaded).filter(|l| l.complete)
    }

    /// The loaded workspace, or while its files are indexed the model alone: enough for an
    /// open document's own diagnostics, and for nothing that needs the whole workspace.
    fn current(&self) -> Option<Arc<Loaded>> {
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

    /// The loaded model, waiting (briefly) for it when a request comes early; the files may
    /// not be indexed yet (enough for an open document's diagnostics).
    async fn model_when_ready(&self) -> Option<Arc<Loaded>> {
        if let Some(ready) = &self.shared.model_ready {
            let mut rx = ready.subscribe();
            let _ = tokio::time::timeout(FIRST_LOAD_WAIT, rx.wait_for(|done| *done)).await;
        }
        self.current()
    }

    fn mark_ready(&self) {
        if let Some(ready) = &self.shared.ready {
            ready.send_replace(true);
        }
        self.mark_model_ready();
    }

    fn mark_model_ready(&self) {
        if let Some(ready) = &self.shared.model_ready {
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

    /// The scope of pushed (and workspace-pulled) diagnostics: the client's, else the config's.
    fn scope(&self, loaded: &Loaded) -> DiagnosticsScope {
        self.settings().scope.unwrap_or(loaded.ws.config.diagnostics_scope)
    }

    /// Debounced diagnostics for an open document: a newer edit cancels this run. Pull clients
    /// ask for them instead.
    fn schedule_diagnostics(&self, uri: Uri) {
        let debounce = self.settings().debounce.unwrap_or_else(|| {
            Duration::from_millis(self.current().map_or(150, |l| l.ws.config.debounce_ms))
        });
        self.schedule_diagnostics_after(uri, debounce);
    }

    fn schedule_diagnostics_after(&self, uri: Uri, delay: Duration) {
        if self.settings().pull {
            return;
        }
        let generation = {
            let mut docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            let Some(doc) = docs.get_mut(&uri) else { return };
            doc.generation += 1;
            doc.generation
        };
        let this = self.clone();
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let Some((version, diagnostics)) = this.document_diagnostics(&uri, Some(generation)) else {
                return;
            };
            this.push(uri, diagnostics, Some(version)).await;
        });
    }

    /// Send a file's diagnostics. A file that is not open (no `version`) is sent them only when
    /// the client does not have exactly these already (an empty set for a file it was never
    /// sent any counts as had); an open document gets them for every version it reaches.
    async fn push(&self, uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
        let id = result_id(&diagnostics);
        {
            let mut published = self.shared.published.lock().unwrap_or_else(|e| e.into_inner());
            if version.is_none() {
                match published.get(&uri) {
                    Some(old) if *old == id => return,
                    None if diagnostics.is_empty() => return,
                    _ => {}
                }
            }
            published.insert(uri.clone(), id);
        }
        self.client.publish_diagnostics(uri, diagnostics, version).await;
    }

    /// The diagnostics of an open document (at `generation`, or `None` if it moved on), with
    /// its version.
    fn document_diagnostics(&self, uri: &Uri, generation: Option<u64>) -> Option<(i32, Vec<Diagnostic>)> {
        let (text, version, path, opened_hash, changed_line) = {
            let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            let doc = docs.get(uri).filter(|d| generation.is_none_or(|g| d.generation == g))?;
            (doc.rope.to_string(), doc.version, doc.path.clone(), doc.opened_hash, doc.first_changed_line)
        };
        let loaded = self.current()?;
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
        let mut diagnostics: Vec<Diagnostic> =
            findings.iter().map(|f| convert::diagnostic(f, encoding)).collect();
        if path == CONFIG_FILE {
            diagnostics.extend(read(&self.shared.config_problem));
        }
        // A result computed for an older edit is dropped.
        let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
        let current = docs.get(uri)?.generation;
        generation.is_none_or(|g| g == current).then_some((version, diagnostics))
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

    /// The findings of a file as it is on disk: its last scan's, and the workspace-level
    /// findings placed in it.
    fn disk_findings(loaded: &Loaded, path: &str) -> Vec<crate::findings::Finding> {
        loaded
            .ws
            .files
            .get(path)
            .map(|facts| loaded.analysis.findings_for(&loaded.ws.config, &loaded.ws.model, facts))
            .or_else(|| loaded.analysis.workspace_findings.get(path).cloned())
            .unwrap_or_default()
    }

    fn disk_diagnostics(&self, loaded: &Loaded, path: &str) -> Vec<Diagnostic> {
        let encoding = self.settings().encoding;
        let findings = Self::disk_findings(loaded, path);
        let mut diagnostics: Vec<Diagnostic> =
            findings.iter().map(|f| convert::diagnostic(f, encoding)).collect();
        if path == CONFIG_FILE {
            diagnostics.extend(read(&self.shared.config_problem));
        }
        diagnostics
    }

    /// The diagnostics of every file in the scope that is not open (open documents are
    /// answered from their buffers), by URI; with `only`, of those paths alone.
    async fn scoped_workspace_diagnostics(
        &self,
        loaded: Arc<Loaded>,
        only: Option<Arc<BTreeSet<String>>>,
    ) -> Vec<(Uri, Vec<Diagnostic>)> {
        let open: HashSet<Uri> =
            self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        let encoding = self.settings().encoding;
        let scope = self.scope(&loaded);
        let config_problem = read(&self.shared.config_problem);
        let computed = tokio::task::spawn_blocking(move || {
            let none: Vec<crate::findings::Finding> = Vec::new();
            let no_own = std::sync::Arc::new(Vec::new());
            let (nothing_own, nothing_placed) = (crate::analysis::FileFindings::new(), BTreeMap::new());
            let (own, placed) = if loaded.complete {
                (loaded.file_findings(), &loaded.analysis.workspace_findings)
            } else {
                (&nothing_own, &nothing_placed)
            };
            let mut paths: BTreeSet<&str> = match &only {
                Some(only) => only.iter().map(String::as_str).collect(),
                None => own.keys().chain(placed.keys()).map(String::as_str).collect(),
            };
            if !config_problem.is_empty() && only.is_none() {
                paths.insert(CONFIG_FILE);
            }
            let mut out = Vec::new();
            for path in paths {
                let findings =
                    || own.get(path).unwrap_or(&no_own).iter().chain(placed.get(path).unwrap_or(&none));
                let problem = path == CONFIG_FILE && !config_problem.is_empty();
                if !problem && !in_scope(scope, &loaded.ws.config, path, findings()) {
                    continue;
                }
                let Some(uri) = convert::uri(&loaded.ws.root, path).filter(|u| !open.contains(u)) else {
                    continue;
                };
                let mut sorted: Vec<crate::findings::Finding> = findings().cloned().collect();
                crate::findings::sort(&mut sorted);
                let mut diagnostics: Vec<Diagnostic> =
                    sorted.iter().map(|f| convert::diagnostic(f, encoding)).collect();
                if path == CONFIG_FILE {
                    diagnostics.extend(config_problem.iter().cloned());
                }
                out.push((uri, diagnostics));
            }
            out
        })
        .await;
        computed.unwrap_or_default()
    }

    /// Bring the client up to date after the workspace changed: push clients are sent the
    /// files in scope whose diagnostics changed (and an empty set for files that left it), and
    /// open documents are recomputed; pull clients are asked to pull again.
    async fn publish_workspace(&self) {
        self.publish_workspace_for(None).await;
    }

    /// [`Backend::publish_workspace`] for the paths in `only` (the others are known unchanged).
    async fn publish_workspace_for(&self, only: Option<Arc<BTreeSet<String>>>) {
        let Some(loaded) = self.current() else { return };
        let settings = self.settings();
        if settings.pull {
            if settings.refresh
                && tokio::time::timeout(CLIENT_TIMEOUT, self.client.workspace_diagnostic_refresh())
                    .await
                    .is_err()
            {
                log::warn!("the client did not answer workspace/diagnostic/refresh in time");
            }
            return;
        }
        let root = loaded.ws.root.clone();
        let only_uris: Option<HashSet<Uri>> =
            only.as_ref().map(|only| only.iter().filter_map(|p| convert::uri(&root, p)).collect());
        let computed = self.scoped_workspace_diagnostics(loaded, only).await;
        let open: HashSet<Uri> =
            self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        let now: HashSet<&Uri> = computed.iter().map(|(u, _)| u).collect();
        let gone: Vec<Uri> = {
            let published = self.shared.published.lock().unwrap_or_else(|e| e.into_inner());
            published
                .keys()
                .filter(|u| !open.contains(*u) && !now.contains(u))
                .filter(|u| only_uris.as_ref().is_none_or(|only| only.contains(*u)))
                .cloned()
                .collect()
        };
        for uri in gone {
            self.push(uri, Vec::new(), None).await;
        }
        for (uri, diagnostics) in computed {
            self.push(uri, diagnostics, None).await;
        }
        for uri in open {
            self.schedule_diagnostics_after(uri, Duration::ZERO);
        }
    }

    // ----- changes -----

    fn submit(&self, change: Change) {
        if let Some(changes) = &self.shared.changes {
            let _ = changes.send(change);
        }
    }

    /// Apply the workspace's changes in order, one burst at a time: the first event of a
    /// burst waits [`BURST`] for the rest; a reload in a burst covers its file events.
    async fn apply_changes(self, mut changes: tokio::sync::mpsc::UnboundedReceiver<Change>) {
        while let Some(first) = changes.recv().await {
            tokio::time::sleep(BURST).await;
            let mut burst = vec![first];
            while let Ok(next) = changes.try_recv() {
                burst.push(next);
            }
            let mut reload = false;
            let mut done = Vec::new();
            let mut files: BTreeSet<String> = BTreeSet::new();
            let mut clock = false;
            for change in burst {
                match change {
                    Change::Reload(sender) => {
                        reload = true;
                        done.extend(sender);
                    }
                    Change::Files(paths) => files.extend(paths),
                    Change::Clock => clock = true,
                }
            }
            if reload || self.loaded().is_none() {
                self.reload().await;
            } else {
                if !files.is_empty() {
                    self.update_files(files.into_iter().collect()).await;
                }
                if clock {
                    self.recheck_clock().await;
                }
            }
            for sender in done {
                let _ = sender.send(());
            }
        }
    }

    /// Reload the workspace (through the change queue) and wait until it is done.
    async fn reload_and_wait(&self) {
        let (sender, done) = tokio::sync::oneshot::channel();
        self.submit(Change::Reload(Some(sender)));
        let _ = done.await;
    }

    /// Store a new state and arm the clock for the next lock that will go stale.
    fn store(&self, loaded: Loaded) {
        let wake = crate::scope::next_stale_at(&loaded.ws.config, &loaded.ws.model, crate::time::now_secs());
        *self.shared.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(loaded));
        if let Some(at) = wake {
            let this = self.clone();
            let wait = (at - crate::time::now_secs()).clamp(1, 24 * 3600) as u64;
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(wait)).await;
                this.submit(Change::Clock);
            });
        }
    }

    /// Load the workspace. The first load makes open documents first: the model alone (the
    /// ops files and the spec, no source file) is loaded and every open document answered from
    /// its buffer, then the rest is indexed under "indexing" progress.
    async fn reload(&self) {
        let Some(root) = self.root() else {
            self.mark_ready();
            return;
        };
        self.shared.reload_generation.fetch_add(1, Ordering::SeqCst);
        if self.current().is_none() {
            let model_root = root.clone();
            let quick = tokio::task::spawn_blocking(move || {
                Workspace::load_paths(&model_root, &[]).map(Loaded::partial)
            })
            .await;
            if let Ok(Ok(quick)) = quick {
                self.store(quick);
                self.mark_model_ready();
                let open: Vec<Uri> =
                    self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
                for uri in open {
                    self.schedule_diagnostics_after(uri, Duration::ZERO);
                }
                self.publish_workspace().await;
            }
        }
        // The load starts at once; progress is reported beside it, never waited for first.
        // The facts cache `concord check` keeps is read (never written: an editor session
        // changes nothing in the workspace on its own).
        let load = tokio::task::spawn_blocking(move || {
            Workspace::load_cached(&root, crate::workspace::CacheUse::Read, None).map(Loaded::new)
        });
        let progress = self.begin_progress("Concord", "Indexing the workspace").await;
        match load.await {
            Ok(Ok(loaded)) => {
                let summary = format!(
                    "{} files, {} chunks, {} work items",
                    loaded.ws.files.len(),
                    loaded.ws.model.chunks.len(),
                    loaded.ws.model.work.len()
                );
                self.store(loaded);
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
        *self.shared.config_problem.write().unwrap_or_else(|e| e.into_inner()) = diagnostics.clone();
        let Some(uri) = self.root().and_then(|r| convert::uri(&r, CONFIG_FILE)) else { return };
        if self.settings().pull {
            if error.is_some() {
                self.publish_workspace().await;
            }
            return;
        }
        let open = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&uri);
        if open {
            self.schedule_diagnostics_after(uri, Duration::ZERO);
        } else {
            // Fixed: an empty set clears the problem; the file's other findings come with the
            // workspace's publish.
            self.push(uri, diagnostics, None).await;
        }
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

    /// Files changed on disk (not the configuration): rescan just them, through the walk's
    /// rules (an ignored, hidden or excluded file stays out, as in `concord check`); when an ops
    /// file or the spec's markdown is among them, rebuild the model from the ops files, without
    /// reading any other source file again. Nothing is recomputed or sent when the facts did
    /// not change (a save and its watcher event).
    async fn update_files(&self, paths: Vec<String>) {
        // A partial state (its full load failed) is not a base: only a reload completes it.
        let Some(old) = self.loaded() else { return };
        let updated = tokio::task::spawn_blocking(move || {
            let config = &old.ws.config;
            let model_changed = paths.iter().any(|path| {
                config.is_ops_file(path)
                    || (path.ends_with(".md") && crate::config::is_under(path, &config.paths.blueprints_dir))
            });
            let rescanned = crate::workspace::rescan(&old.ws.root, &old.ws.config, &paths);
            let unchanged = !model_changed
                && rescanned.iter().all(|(path, outcome)| {
                    let skipped = old.ws.skipped.iter().find(|s| !s.dir && s.path == *path);
                    match outcome {
                        Ok(facts) => old.ws.files.get(path) == Some(facts) && skipped.is_none(),
                        Err(skip) => {
                            !old.ws.files.contains_key(path)
                                && skipped.map(|s| s.reason) == skip.as_ref().map(|s| s.reason)
                        }
                    }
                });
            if unchanged {
                return None;
            }
            let mut ws = old.ws.clone();
            for (path, outcome) in rescanned {
                ws.files.remove(&path);
                ws.skipped.retain(|s| s.dir || s.path != path);
                match outcome {
                    Ok(facts) => {
                        ws.files.insert(path, facts);
                    }
                    Err(Some(skipped)) => ws.skipped.push(skipped),
                    Err(None) => {}
                }
            }
            if model_changed {
                ws.reload_model();
                return Some((Loaded::new(ws), None));
            }
            let next = old.after_files_changed(ws, &paths);
            let affected = affected_paths(&old, &next, &paths);
            Some((next, Some(Arc::new(affected))))
        })
        .await;
        if let Ok(Some((loaded, affected))) = updated {
            self.store(loaded);
            self.publish_workspace_for(affected).await;
        }
    }

    /// A lock may have gone stale: recompute when the stale-lock findings moved.
    async fn recheck_clock(&self) {
        let Some(old) = self.loaded() else { return };
        let updated = tokio::task::spawn_blocking(move || {
            old.stale_locks_moved(crate::time::now_secs()).then(|| Loaded::new(old.ws.clone()))
        })
        .await;
        if let Ok(Some(loaded)) = updated {
            self.store(loaded);
            self.publish_workspace().await;
        }
    }

    /// The configuration (with the secrets baseline and the query overrides it names) changes
    /// how every file is read: that needs a full reload. Other files are rescanned alone.
    fn needs_reload(&self, path: &str) -> bool {
        let Some(loaded) = self.loaded() else { return true };
        let config = &loaded.ws.config;
        path == CONFIG_FILE
            || path == config.secrets_baseline
            || config.queries_dir.as_deref().is_some_and(|dir| crate::config::is_under(path, dir))
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
            let indexing = self.current().is_some();
            return json!({ "loaded": false, "indexing": indexing, "agent": settings.agent, "trusted": settings.trusted });
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

/// The paths whose diagnostics can differ between two states that differ by the `changed` files:
/// those files, the others in their folders (suggestions count the IDs a folder uses), and the
/// files where a workspace-level finding appeared, went or changed.
fn affected_paths(before: &Loaded, after: &Loaded, changed: &[String]) -> BTreeSet<String> {
    fn dir(path: &str) -> &str {
        path.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
    let dirs: BTreeSet<&str> = changed.iter().map(|p| dir(p)).collect();
    let mut affected: BTreeSet<String> = changed.iter().cloned().collect();
    for folder in &dirs {
        affected
            .extend(crate::workspace::files_in_dir(&after.ws.files, folder).map(|facts| facts.path.clone()));
    }
    let (old, new) = (&before.analysis.workspace_findings, &after.analysis.workspace_findings);
    affected.extend(old.keys().chain(new.keys()).filter(|p| old.get(*p) != new.get(*p)).cloned());
    affected
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
                        log::warn!("initializationOptions: diagnosticsScope {name:?} is not \"open\" or \"workspace\"; ignored");
                    }
                    scope
                }),
        };
        let pull = settings.pull;
        log::info!(
            "initialize: root {root:?}, agent {:?}, trusted {}, encoding {:?}, pull diagnostics {}",
            settings.agent,
            settings.trusted,
            settings.encoding,
            settings.pull
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

    async fn initialized(&self, _: InitializedParams) {
        let pending = self.shared.pending_changes.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(changes) = pending {
            tokio::spawn(self.clone().apply_changes(changes));
        }
        self.submit(Change::Reload(None));
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
        let change = if self.needs_reload(&path) { Change::Reload(None) } else { Change::Files(vec![path]) };
        self.submit(change);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).remove(&uri);
        // What was published for the buffer is replaced by what the file on disk has, if the
        // scope keeps the file; else it is cleared. Pull clients ask again themselves.
        if self.settings().pull {
            return;
        }
        let diagnostics = match (self.loaded(), self.rel(&uri)) {
            (Some(loaded), Some(path)) => {
                let findings = Self::disk_findings(&loaded, &path);
                if in_scope(self.scope(&loaded), &loaded.ws.config, &path, &findings) {
                    self.disk_diagnostics(&loaded, &path)
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        };
        self.push(uri, diagnostics, None).await;
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
                changed.push(path);
            }
        }
        if reload {
            self.submit(Change::Reload(None));
        } else if !changed.is_empty() {
            self.submit(Change::Files(changed));
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

    async fn diagnostic(&self, params: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
        let uri = params.text_document.uri;
        let _ = self.model_when_ready().await;
        let diagnostics = match self.document_diagnostics(&uri, None) {
            Some((_, diagnostics)) => diagnostics,
            None => match (self.current(), self.rel(&uri)) {
                (Some(loaded), Some(path)) => guarded(|| self.disk_diagnostics(&loaded, &path))?,
                _ => Vec::new(),
            },
        };
        let id = result_id(&diagnostics);
        let report = if params.previous_result_id.as_deref() == Some(id.as_str()) {
            DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                related_documents: None,
                unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id: id },
            })
        } else {
            DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                    result_id: Some(id),
                    items: diagnostics,
                },
            })
        };
        Ok(DocumentDiagnosticReportResult::Report(report))
    }

    /// The files in the scope that are not open, each full or `unchanged` against the result
    /// IDs the client holds; a file it holds that left the scope gets an empty report.
    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        let Some(loaded) = self.loaded_when_ready().await else {
            return Ok(WorkspaceDiagnosticReportResult::Report(WorkspaceDiagnosticReport {
                items: Vec::new(),
            }));
        };
        let held: HashMap<Uri, String> =
            params.previous_result_ids.into_iter().map(|p| (p.uri, p.value)).collect();
        let computed = self.scoped_workspace_diagnostics(loaded, None).await;
        let open: HashSet<Uri> =
            self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        let reported: HashSet<Uri> = computed.iter().map(|(uri, _)| uri.clone()).collect();
        let mut items: Vec<WorkspaceDocumentDiagnosticReport> = computed
            .into_iter()
            .map(|(uri, diagnostics)| {
                let id = result_id(&diagnostics);
                if held.get(&uri) == Some(&id) {
                    WorkspaceDocumentDiagnosticReport::Unchanged(WorkspaceUnchangedDocumentDiagnosticReport {
                        uri,
                        version: None,
                        unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                            result_id: id,
                        },
                    })
                } else {
                    WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
                        uri,
                        version: None,
                        full_document_diagnostic_report: FullDocumentDiagnosticReport {
                            result_id: Some(id),
                            items: diagnostics,
                        },
                    })
                }
            })
            .collect();
        let empty = result_id(&[]);
        for uri in held.into_keys().filter(|u| !reported.contains(u) && !open.contains(u)) {
            items.push(WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
                uri,
                version: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                    result_id: Some(empty.clone()),
                    items: Vec::new(),
                },
            }));
        }
        Ok(WorkspaceDiagnosticReportResult::Report(WorkspaceDiagnosticReport { items }))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        // Diagnostics may come while the workspace is indexed; their fixes need all of it.
        let _ = self.loaded_when_ready().await;
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
                self.reload_and_wait().await;
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
            "concord.questions" => {
                let Some(loaded) = self.loaded_when_ready().await else { return Ok(Some(json!([]))) };
                let all = params.arguments.first().and_then(|a| a.get("all")).and_then(Value::as_bool);
                let questions: Vec<Value> = crate::ops::questions::ordered(&loaded.ws.model.questions)
                    .into_iter()
                    .filter(|q| all == Some(true) || q.status == crate::formats::QuestionStatus::Pending)
                    .map(|q| serde_json::to_value(q).unwrap_or(Value::Null))
                    .collect();
                Ok(Some(Value::Array(questions)))
            }
            "concord.health" => {
                // Read-only (the queue, locks, reviews and smoke record): no trust needed.
                let Some(loaded) = self.model_when_ready().await else {
                    return Err(Error::invalid_request());
                };
                let progress = self.begin_progress("Concord", "Checking the agent loop's health").await;
                let health =
                    tokio::task::spawn_blocking(move || crate::ops::health::health(&loaded.ws)).await;
                if let Some(p) = progress {
                    let message = health.as_ref().map_or("failed", |h| h.level.as_str());
                    p.finish_with_message(message).await;
                }
                match health {
                    Ok(health) => Ok(Some(serde_json::to_value(health).unwrap_or(Value::Null))),
                    Err(_) => Err(Error::internal_error()),
                }
            }
            "concord.dispatch"
            | "concord.autopilot"
            | "concord.review"
            | "concord.apply"
            | "concord.approve"
            | "concord.answer"
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
        // Steps of a long command (the autopilot's), reported as progress while it runs.
        let (steps, mut stepped) = tokio::sync::mpsc::unbounded_channel::<String>();
        let mut work = tokio::task::spawn_blocking(move || -> std::result::Result<String, String> {
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
                "concord.autopilot" => {
                    let number = |key: &str| argument.get(key).and_then(Value::as_u64);
                    let flag = |key: &str| argument.get(key).and_then(Value::as_bool).unwrap_or(false);
                    let options = crate::ops::autopilot::Options {
                        max_items: number("maxItems").map(|n| n.min(u32::MAX as u64) as u32),
                        max_runs: number("maxRuns").map(|n| n.min(u32::MAX as u64) as u32),
                        max_minutes: argument.get("maxMinutes").and_then(Value::as_f64).filter(|m| *m > 0.0),
                        parallel: number("parallel").map(|n| n.min(16) as u32),
                        push: flag("push"),
                        open_pr: flag("openPr"),
                        dry_run: flag("dryRun"),
                        ignore_red_health: flag("ignoreRedHealth"),
                        cli: preset.clone(),
                        model: text("model"),
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
                "concord.answer" => {
                    let id = text("id").ok_or("answer needs {\"id\": \"Q-…\", \"option\": \"A\"}")?;
                    let option = text("option").ok_or("answer needs {\"option\": \"A\"}")?;
                    let by = text("by").unwrap_or_else(|| "the owner (editor)".into());
                    crate::ops::plan::answer(&ws, &id, &option, &by, text("note").as_deref())
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
        self.client.show_message(kind, &message).await;
        self.submit(Change::Reload(None));
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
