//! The server's state (settings, open documents, the loaded workspace, what was published) and
//! the work that changes it (the change queue, loads, publishing), with the protocol's table at
//! the end; the handlers themselves live in `handlers/`, a file each. Rules that keep it correct
//! under a concurrent dispatcher:
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

use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::convert::{self, rel_path};
use super::diagnostics::{in_scope, result_id};
use super::documents::{Document, Encoding};
use super::features::Loaded;
use super::handlers;
use crate::config::{DiagnosticsScope, CONFIG_FILE};
use crate::scan::{scan_text, FileFacts};
use crate::workspace::{LoadError, Workspace};

/// How long a request to the client may take before it is abandoned.
pub(super) const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an early request waits for the first workspace load before answering with less.
const FIRST_LOAD_WAIT: Duration = Duration::from_secs(5);

/// How long the change queue waits after an event for the rest of its burst.
const BURST: Duration = Duration::from_millis(20);

/// What changes the workspace. Applied in order by one task ([`Backend::apply_changes`]).
#[derive(Debug)]
pub(super) enum Change {
    /// Everything again: the configuration or an ops file changed, or it was asked for. The
    /// sender, when given, hears when the reload is done.
    Reload(Option<tokio::sync::oneshot::Sender<()>>),
    /// Files changed, were created or deleted on disk (which of these, the disk says when
    /// they are rescanned).
    Files(Vec<String>),
    /// The clock passed the moment a lock becomes stale.
    Clock,
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
pub(super) struct Shared {
    pub(super) root: RwLock<Option<PathBuf>>,
    pub(super) settings: RwLock<Settings>,
    pub(super) docs: Mutex<HashMap<Uri, Document>>,
    pub(super) loaded: RwLock<Option<Arc<Loaded>>>,
    /// What was last pushed for each URI (its result ID), open or not; absent: nothing.
    pub(super) published: Mutex<HashMap<Uri, String>>,
    /// The diagnostics of `concord.toml` when it cannot be used (pull clients ask for them).
    pub(super) config_problem: RwLock<Vec<Diagnostic>>,
    /// Counts loads, to name their progress.
    pub(super) reload_generation: AtomicU64,
    pub(super) changes: Option<tokio::sync::mpsc::UnboundedSender<Change>>,
    /// Taken by the task that applies changes, when the client is initialized.
    pub(super) pending_changes: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Change>>>,
    pub(super) shutdown_requested: Arc<AtomicBool>,
    /// Becomes true once the first load finished (well or not).
    pub(super) ready: Option<tokio::sync::watch::Sender<bool>>,
    /// Becomes true once the model is loaded (before the files are indexed) or the load ended.
    pub(super) model_ready: Option<tokio::sync::watch::Sender<bool>>,
}

#[derive(Clone)]
pub struct Backend {
    pub(super) client: Client,
    pub(super) shared: Arc<Shared>,
}

/// Run `work`, turning a panic into an error response instead of a dead server.
pub(super) fn guarded<T>(work: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|_| Error {
        code: ErrorCode::InternalError,
        message: "concord: internal error while handling this request; the server keeps running (details in its log)".into(),
        data: None,
    })
}

pub(super) fn read<T: Clone>(lock: &RwLock<T>) -> T {
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

    pub(super) fn settings(&self) -> Settings {
        read(&self.shared.settings)
    }

    /// The loaded workspace, once every file is indexed.
    pub(super) fn loaded(&self) -> Option<Arc<Loaded>> {
        read(&self.shared.loaded).filter(|l| l.complete)
    }

    /// The loaded workspace, or while its files are indexed the model alone: enough for an
    /// open document's own diagnostics, and for nothing that needs the whole workspace.
    pub(super) fn current(&self) -> Option<Arc<Loaded>> {
        read(&self.shared.loaded)
    }

    /// The loaded workspace, waiting (briefly) for the first load when a request comes early.
    pub(super) async fn loaded_when_ready(&self) -> Option<Arc<Loaded>> {
        if let Some(ready) = &self.shared.ready {
            let mut rx = ready.subscribe();
            let _ = tokio::time::timeout(FIRST_LOAD_WAIT, rx.wait_for(|done| *done)).await;
        }
        self.loaded()
    }

    /// The loaded model, waiting (briefly) for it when a request comes early; the files may
    /// not be indexed yet (enough for an open document's diagnostics).
    pub(super) async fn model_when_ready(&self) -> Option<Arc<Loaded>> {
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

    pub(super) fn root(&self) -> Option<PathBuf> {
        read(&self.shared.root)
    }

    pub(super) fn rel(&self, uri: &Uri) -> Option<String> {
        rel_path(&self.root()?, uri)
    }

    /// The current text of a line: from the open buffer, else from disk.
    pub(super) fn line_text(&self, uri: &Uri, line: u32) -> Option<String> {
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
    pub(super) async fn at_position(
        &self,
        uri: &Uri,
        position: Position,
    ) -> Option<(Arc<Loaded>, String, Encoding)> {
        let loaded = self.loaded_when_ready().await?;
        let line = self.line_text(uri, position.line)?;
        Some((loaded, line, self.settings().encoding))
    }

    /// Facts for a document: from the open buffer's current text, else from the last scan.
    pub(super) fn facts(&self, loaded: &Loaded, uri: &Uri) -> Option<FileFacts> {
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
    pub(super) fn scope(&self, loaded: &Loaded) -> DiagnosticsScope {
        self.settings().scope.unwrap_or(loaded.ws.config.diagnostics_scope)
    }

    /// Debounced diagnostics for an open document: a newer edit cancels this run. Pull clients
    /// ask for them instead.
    pub(super) fn schedule_diagnostics(&self, uri: Uri) {
        let debounce = self.settings().debounce.unwrap_or_else(|| {
            Duration::from_millis(self.current().map_or(150, |l| l.ws.config.debounce_ms))
        });
        self.schedule_diagnostics_after(uri, debounce);
    }

    pub(super) fn schedule_diagnostics_after(&self, uri: Uri, delay: Duration) {
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
    pub(super) async fn push(&self, uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
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
    pub(super) fn document_diagnostics(
        &self,
        uri: &Uri,
        generation: Option<u64>,
    ) -> Option<(i32, Vec<Diagnostic>)> {
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
    pub(super) fn disk_findings(loaded: &Loaded, path: &str) -> Vec<crate::findings::Finding> {
        loaded
            .ws
            .files
            .get(path)
            .map(|facts| loaded.analysis.findings_for(&loaded.ws.config, &loaded.ws.model, facts))
            .or_else(|| loaded.analysis.workspace_findings.get(path).cloned())
            .unwrap_or_default()
    }

    pub(super) fn disk_diagnostics(&self, loaded: &Loaded, path: &str) -> Vec<Diagnostic> {
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
    pub(super) async fn scoped_workspace_diagnostics(
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
                tracing::warn!("the client did not answer workspace/diagnostic/refresh in time");
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

    pub(super) fn submit(&self, change: Change) {
        if let Some(changes) = &self.shared.changes {
            let _ = changes.send(change);
        }
    }

    /// Apply the workspace's changes in order, one burst at a time: the first event of a
    /// burst waits [`BURST`] for the rest; a reload in a burst covers its file events.
    pub(super) async fn apply_changes(self, mut changes: tokio::sync::mpsc::UnboundedReceiver<Change>) {
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
    pub(super) async fn reload_and_wait(&self) {
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
                tracing::error!(%error, "loading the workspace failed");
                self.publish_config_problem(Some(&error)).await;
                self.client.show_message(MessageType::ERROR, format!("Concord: {error}")).await;
            }
            Err(join) => {
                self.mark_ready();
                tracing::error!(error = %join, "the workspace loader crashed");
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

    pub(super) async fn begin_progress(
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

    /// Files changed on disk (not the configuration): the host's incremental step
    /// ([`crate::host::apply_file_changes`]); nothing is sent when the facts did not change (a
    /// save and its watcher event).
    async fn update_files(&self, paths: Vec<String>) {
        // A partial state (its full load failed) is not a base: only a reload completes it.
        let Some(old) = self.loaded() else { return };
        let updated =
            tokio::task::spawn_blocking(move || crate::host::apply_file_changes(&old, &paths)).await;
        if let Ok(Some(crate::host::Applied { loaded, affected })) = updated {
            let affected = affected.map(Arc::new);
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

    /// See [`crate::host::needs_reload`]; before the first load, every change is a reload.
    pub(super) fn needs_reload(&self, path: &str) -> bool {
        self.loaded().is_none_or(|loaded| crate::host::needs_reload(&loaded.ws.config, path))
    }
}

/// The protocol's table: each method hands its parameters to its handler in `handlers/`.
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        handlers::initialize::initialize(self, params).await
    }

    async fn initialized(&self, params: InitializedParams) {
        handlers::initialize::initialized(self, params).await
    }

    async fn shutdown(&self) -> Result<()> {
        handlers::initialize::shutdown(self).await
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        handlers::text_document_sync::did_open(self, params).await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        handlers::text_document_sync::did_change(self, params).await
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        handlers::text_document_sync::did_save(self, params).await
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        handlers::text_document_sync::did_close(self, params).await
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        handlers::configuration::did_change_configuration(self, params).await
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        handlers::watched_files::did_change_watched_files(self, params).await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        handlers::hover::hover(self, params).await
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        handlers::definition::definition(self, params).await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        handlers::references::references(self, params).await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        handlers::completion::completion(self, params).await
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        handlers::workspace_symbol::workspace_symbol(self, params).await
    }

    async fn document_link(&self, params: DocumentLinkParams) -> Result<Option<Vec<DocumentLink>>> {
        handlers::document_link::document_link(self, params).await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        handlers::code_lens::code_lens(self, params).await
    }

    async fn diagnostic(&self, params: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
        handlers::pull_diagnostics::document_diagnostic(self, params).await
    }

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        handlers::pull_diagnostics::workspace_diagnostic(self, params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        handlers::code_action::code_action(self, params).await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        handlers::execute_command::execute_command(self, params).await
    }
}
