//! The server's state (settings, open documents, what was published, and the workspace folders,
//! each served as its own Concord workspace) and the work that changes it (each folder's change
//! queue, loads, publishing), with the protocol's table at the end; the handlers themselves live
//! in `handlers/`, a file each. A URI belongs to the deepest folder containing it. Rules that
//! keep it correct under a concurrent dispatcher:
//! - an edit is stored before the handler's first `.await`, and only if its version is newer;
//! - no lock is held across an `.await` (clippy.toml enforces it);
//! - slow work (loading, commands) runs on spawned tasks; every request to the client has a timeout;
//! - diagnostics are debounced with a generation counter and dropped when stale;
//! - a folder changes in one place, in order: every event becomes a [`Change`] that the folder's
//!   one task applies, so a burst (Save All, a save and its watcher event) ends in one state;
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
use super::diagnostics::{closed_file_result_id, in_scope, result_id};
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

/// One workspace folder, served as its own Concord workspace: its own loaded state (and so its
/// own configuration), its own change queue, stale-lock clock and indexing progress.
pub(super) struct Folder {
    /// The folder as the client named it.
    pub(super) uri: Uri,
    pub(super) root: PathBuf,
    /// The client's name for it (or the last part of its path), for progress and messages.
    pub(super) name: String,
    loaded: RwLock<Option<Arc<Loaded>>>,
    /// The diagnostics of its `concord.toml` when that cannot be used (pull clients ask for them).
    config_problem: RwLock<Vec<Diagnostic>>,
    /// `None` once the folder is removed: the clock and late events then change nothing.
    changes: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Change>>>,
    /// Taken by the task that applies changes, when the folder starts being served.
    pending: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Change>>>,
    /// Becomes true once the first load finished (well or not).
    ready: tokio::sync::watch::Sender<bool>,
    /// Becomes true once the model is loaded (before the files are indexed) or the load ended.
    model_ready: tokio::sync::watch::Sender<bool>,
    removed: AtomicBool,
}

impl Folder {
    pub(super) fn new(uri: Uri, root: PathBuf, name: Option<String>) -> Folder {
        let (changes, pending) = tokio::sync::mpsc::unbounded_channel();
        let name = name.filter(|n| !n.is_empty()).unwrap_or_else(|| {
            root.file_name().map_or_else(|| root.display().to_string(), |n| n.to_string_lossy().into_owned())
        });
        Folder {
            uri,
            root,
            name,
            loaded: RwLock::new(None),
            config_problem: RwLock::new(Vec::new()),
            changes: Mutex::new(Some(changes)),
            pending: Mutex::new(Some(pending)),
            ready: tokio::sync::watch::channel(false).0,
            model_ready: tokio::sync::watch::channel(false).0,
            removed: AtomicBool::new(false),
        }
    }

    /// The folder-relative path of a URI inside it.
    pub(super) fn rel(&self, uri: &Uri) -> Option<String> {
        rel_path(&self.root, uri)
    }

    /// The loaded workspace, once every file is indexed.
    pub(super) fn loaded(&self) -> Option<Arc<Loaded>> {
        read(&self.loaded).filter(|l| l.complete)
    }

    /// The loaded workspace, or while its files are indexed the model alone: enough for an
    /// open document's own diagnostics, and for nothing that needs the whole workspace.
    pub(super) fn current(&self) -> Option<Arc<Loaded>> {
        read(&self.loaded)
    }

    /// The loaded workspace, waiting (briefly) for the first load when a request comes early.
    pub(super) async fn loaded_when_ready(&self) -> Option<Arc<Loaded>> {
        let mut rx = self.ready.subscribe();
        let _ = tokio::time::timeout(FIRST_LOAD_WAIT, rx.wait_for(|done| *done)).await;
        self.loaded()
    }

    /// The loaded model, waiting (briefly) for it when a request comes early; the files may
    /// not be indexed yet (enough for an open document's diagnostics).
    pub(super) async fn model_when_ready(&self) -> Option<Arc<Loaded>> {
        let mut rx = self.model_ready.subscribe();
        let _ = tokio::time::timeout(FIRST_LOAD_WAIT, rx.wait_for(|done| *done)).await;
        self.current()
    }

    fn mark_ready(&self) {
        self.ready.send_replace(true);
        self.mark_model_ready();
    }

    fn mark_model_ready(&self) {
        self.model_ready.send_replace(true);
    }

    pub(super) fn is_removed(&self) -> bool {
        self.removed.load(Ordering::SeqCst)
    }

    /// Stop serving: later changes, the clock's included, are dropped, and a load still under
    /// way publishes nothing.
    pub(super) fn remove(&self) {
        self.removed.store(true, Ordering::SeqCst);
        self.changes.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).take();
        // Dropped now, not when the last task holding the folder (a clock armed for hours) ends.
        self.loaded.write().unwrap_or_else(|e| e.into_inner()).take();
        // A request waiting for a load that will never come answers at once.
        self.mark_ready();
    }

    /// Queue a change of this folder; they are applied in order by its own task.
    pub(super) fn submit(&self, change: Change) {
        if let Some(changes) = self.changes.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = changes.send(change);
        }
    }

    /// See [`crate::host::needs_reload`]; before the first load, every change is a reload.
    pub(super) fn needs_reload(&self, path: &str) -> bool {
        self.loaded().is_none_or(|loaded| crate::host::needs_reload(&loaded.ws.config, path))
    }

    fn config_problem(&self) -> Vec<Diagnostic> {
        read(&self.config_problem)
    }
}

#[derive(Default)]
pub(super) struct Shared {
    pub(super) settings: RwLock<Settings>,
    pub(super) docs: Mutex<HashMap<Uri, Document>>,
    /// The workspace folders served, in the client's order.
    pub(super) folders: RwLock<Vec<Arc<Folder>>>,
    /// What was last pushed for each URI (its result ID), open or not, whatever its folder;
    /// absent: nothing.
    pub(super) published: Mutex<HashMap<Uri, String>>,
    /// Counts work-done progress, to name each.
    pub(super) progress_generation: AtomicU64,
    /// Set by `initialized`: folders added before it start being served then.
    pub(super) initialized: AtomicBool,
    pub(super) shutdown_requested: Arc<AtomicBool>,
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
        let shared = Shared { shutdown_requested, ..Default::default() };
        Backend { client, shared: Arc::new(shared) }
    }

    pub(super) fn settings(&self) -> Settings {
        read(&self.shared.settings)
    }

    pub(super) fn folders(&self) -> Vec<Arc<Folder>> {
        read(&self.shared.folders)
    }

    /// The folder a URI belongs to (the deepest one containing it) with its path there; `None`
    /// for a URI outside every folder.
    pub(super) fn folder_of(&self, uri: &Uri) -> Option<(Arc<Folder>, String)> {
        self.folders_containing(uri).into_iter().max_by_key(|(f, _)| f.root.components().count())
    }

    /// Every folder containing a URI (several when folders are nested), with its path in each.
    /// A file on disk changes for all of them; its diagnostics are the deepest one's.
    pub(super) fn folders_containing(&self, uri: &Uri) -> Vec<(Arc<Folder>, String)> {
        let folders = self.shared.folders.read().unwrap_or_else(|e| e.into_inner());
        folders.iter().filter_map(|f| f.rel(uri).map(|rel| (f.clone(), rel))).collect()
    }

    /// Whether `uri` belongs to `folder` (and not to a folder nested in it).
    pub(super) fn owns(&self, folder: &Folder, uri: &Uri) -> bool {
        self.folder_of(uri).is_some_and(|(f, _)| std::ptr::eq(Arc::as_ptr(&f), folder))
    }

    /// The open documents that belong to `folder`.
    pub(super) fn open_in(&self, folder: &Folder) -> Vec<Uri> {
        let open: Vec<Uri> =
            self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        open.into_iter().filter(|u| self.owns(folder, u)).collect()
    }

    /// Start serving a folder: its change queue runs, and its first load is asked for.
    pub(super) fn start(&self, folder: &Arc<Folder>) {
        let pending = folder.pending.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(changes) = pending {
            tokio::spawn(self.clone().apply_changes(folder.clone(), changes));
            folder.submit(Change::Reload(None));
        }
    }

    /// The current text of a line: from the open buffer, else from disk.
    pub(super) fn line_text(&self, uri: &Uri, line: u32) -> Option<String> {
        if let Some(doc) = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).get(uri) {
            return Some(doc.line(line));
        }
        // Through the one reader: a link out of the workspace, a FIFO or `/dev/zero` gives no text.
        let (folder, rel) = self.folder_of(uri)?;
        let text = crate::fsutil::read_text_in_workspace(&folder.root, &rel, crate::fsutil::DEFAULT_READ_CAP)
            .ok()??;
        Some(text.lines().nth(line as usize).unwrap_or("").to_string())
    }

    /// What a request at a position needs: the loaded workspace of the document's folder, the
    /// line's text, the encoding.
    pub(super) async fn at_position(
        &self,
        uri: &Uri,
        position: Position,
    ) -> Option<(Arc<Loaded>, String, Encoding)> {
        let (folder, _) = self.folder_of(uri)?;
        let loaded = folder.loaded_when_ready().await?;
        let line = self.line_text(uri, position.line)?;
        Some((loaded, line, self.settings().encoding))
    }

    /// Facts for a document of `folder`: from the open buffer's current text, else from the
    /// last scan.
    pub(super) fn facts(&self, folder: &Folder, loaded: &Loaded, uri: &Uri) -> Option<FileFacts> {
        let path = folder.rel(uri)?;
        let open = {
            let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            docs.get(uri).map(|d| d.rope.to_string())
        };
        match open {
            Some(text) => Some(scan_text(&loaded.ws.config, &path, &text)),
            None => loaded.ws.facts_of(&path).cloned(),
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
            let configured =
                self.folder_of(&uri).and_then(|(f, _)| f.current()).map(|l| l.ws.config.debounce_ms);
            Duration::from_millis(configured.unwrap_or(150))
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
        self.push_with_id(uri, id, diagnostics, version).await;
    }

    /// [`Backend::push`] with the result ID already known.
    async fn push_with_id(&self, uri: Uri, id: String, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
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
    /// its version. A document outside every folder has none of Concord's (an empty set).
    pub(super) fn document_diagnostics(
        &self,
        uri: &Uri,
        generation: Option<u64>,
    ) -> Option<(i32, Vec<Diagnostic>)> {
        let (text, version, opened_hash, changed_line) = {
            let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
            let doc = docs.get(uri).filter(|d| generation.is_none_or(|g| d.generation == g))?;
            (doc.rope.to_string(), doc.version, doc.opened_hash, doc.first_changed_line)
        };
        let Some((folder, path)) = self.folder_of(uri) else { return Some((version, Vec::new())) };
        let loaded = folder.current()?;
        let settings = self.settings();
        let encoding = settings.encoding;
        let findings = guarded(|| {
            let mut findings = Self::findings_for_text(&loaded, &path, &text);
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
            diagnostics.extend(folder.config_problem());
        }
        // A result computed for an older edit is dropped.
        let docs = self.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
        let current = docs.get(uri)?.generation;
        generation.is_none_or(|g| g == current).then_some((version, diagnostics))
    }

    fn findings_for_text(loaded: &Loaded, path: &str, text: &str) -> Vec<crate::findings::Finding> {
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

    pub(super) fn disk_diagnostics(&self, folder: &Folder, loaded: &Loaded, path: &str) -> Vec<Diagnostic> {
        let encoding = self.settings().encoding;
        let findings = Self::disk_findings(loaded, path);
        let mut diagnostics: Vec<Diagnostic> =
            findings.iter().map(|f| convert::diagnostic(f, encoding)).collect();
        if path == CONFIG_FILE {
            diagnostics.extend(folder.config_problem());
        }
        diagnostics
    }

    /// The files of `folder` in the scope that are not open (open documents are answered from
    /// their buffers), by URI, each with its result ID and its diagnostics, or `None` for a file
    /// whose ID is the one in `held` (the client has these diagnostics: they are not computed
    /// again); with `only`, of those paths alone. A file of a folder nested in this one is that
    /// folder's to report.
    pub(super) async fn scoped_workspace_diagnostics(
        &self,
        folder: &Arc<Folder>,
        loaded: Arc<Loaded>,
        only: Option<Arc<BTreeSet<String>>>,
        held: HashMap<Uri, String>,
    ) -> Vec<(Uri, String, Option<Vec<Diagnostic>>)> {
        let open: HashSet<Uri> =
            self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        let encoding = self.settings().encoding;
        let scope = self.scope(&loaded);
        let config_problem = folder.config_problem();
        let nested: Vec<PathBuf> = self
            .folders()
            .iter()
            .filter(|f| f.root != folder.root && f.root.starts_with(&folder.root))
            .map(|f| f.root.clone())
            .collect();
        let computed = tokio::task::spawn_blocking(move || {
            let (nothing_own, nothing_placed) = (crate::analysis::FindingsSummaries::new(), BTreeMap::new());
            let (own, placed) = if loaded.complete {
                (loaded.summaries(), &loaded.analysis.workspace_findings)
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
                let summary = own.get(path);
                let placed = placed.get(path).map(Vec::as_slice).unwrap_or_default();
                let problem = if path == CONFIG_FILE { config_problem.as_slice() } else { &[] };
                let worst = summary.map(|s| s.worst).max(placed.iter().map(|f| f.severity).max());
                if problem.is_empty() && !in_scope(scope, &loaded.ws.config, path, worst) {
                    continue;
                }
                let absolute = loaded.ws.root.join(path);
                if nested.iter().any(|n| absolute.starts_with(n)) {
                    continue;
                }
                let Some(uri) = convert::uri(&loaded.ws.root, path).filter(|u| !open.contains(u)) else {
                    continue;
                };
                let id = closed_file_result_id(summary.map(|s| s.fingerprint), placed, problem);
                if held.get(&uri) == Some(&id) {
                    out.push((uri, id, None));
                    continue;
                }
                let mut sorted = if summary.is_some() { loaded.own_findings(path) } else { Vec::new() };
                sorted.extend(placed.iter().cloned());
                crate::findings::sort(&mut sorted);
                let mut diagnostics: Vec<Diagnostic> =
                    sorted.iter().map(|f| convert::diagnostic(f, encoding)).collect();
                diagnostics.extend(problem.iter().cloned());
                out.push((uri, id, Some(diagnostics)));
            }
            out
        })
        .await;
        computed.unwrap_or_default()
    }

    /// Bring the client up to date after a folder changed: push clients are sent the folder's
    /// files in scope whose diagnostics changed (and an empty set for its files that left it),
    /// and its open documents are recomputed; pull clients are asked to pull again.
    pub(super) async fn publish_workspace(&self, folder: &Arc<Folder>) {
        self.publish_workspace_for(folder, None).await;
    }

    /// Pull clients are asked to pull again (every folder's diagnostics: the request is the
    /// client's, not a folder's).
    pub(super) async fn refresh_pulled(&self) {
        if self.settings().refresh
            && tokio::time::timeout(CLIENT_TIMEOUT, self.client.workspace_diagnostic_refresh()).await.is_err()
        {
            tracing::warn!("the client did not answer workspace/diagnostic/refresh in time");
        }
    }

    /// [`Backend::publish_workspace`] for the paths in `only` (the others are known unchanged).
    async fn publish_workspace_for(&self, folder: &Arc<Folder>, only: Option<Arc<BTreeSet<String>>>) {
        if folder.is_removed() {
            return;
        }
        let Some(loaded) = folder.current() else { return };
        if self.settings().pull {
            self.refresh_pulled().await;
            return;
        }
        let root = loaded.ws.root.clone();
        let only_uris: Option<HashSet<Uri>> =
            only.as_ref().map(|only| only.iter().filter_map(|p| convert::uri(&root, p)).collect());
        let held = self.shared.published.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let computed = self.scoped_workspace_diagnostics(folder, loaded, only, held).await;
        let open: HashSet<Uri> =
            self.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        let now: HashSet<&Uri> = computed.iter().map(|(u, _, _)| u).collect();
        let candidates: Vec<Uri> = {
            let published = self.shared.published.lock().unwrap_or_else(|e| e.into_inner());
            published
                .keys()
                .filter(|u| !open.contains(*u) && !now.contains(u))
                .filter(|u| only_uris.as_ref().is_none_or(|only| only.contains(*u)))
                .cloned()
                .collect()
        };
        // Another folder's files are that folder's to clear.
        let gone: Vec<Uri> = candidates.into_iter().filter(|u| self.owns(folder, u)).collect();
        for uri in gone {
            if folder.is_removed() {
                return;
            }
            self.push(uri, Vec::new(), None).await;
        }
        // A file whose diagnostics the client has (`None`) is not sent again.
        for (uri, id, diagnostics) in computed {
            let Some(diagnostics) = diagnostics else { continue };
            if folder.is_removed() {
                return;
            }
            self.push_with_id(uri, id, diagnostics, None).await;
        }
        for uri in self.open_in(folder) {
            self.schedule_diagnostics_after(uri, Duration::ZERO);
        }
    }

    // ----- changes -----

    /// Apply a folder's changes in order, one burst at a time: the first event of a burst
    /// waits [`BURST`] for the rest; a reload in a burst covers its file events. Ends when the
    /// folder is removed.
    pub(super) async fn apply_changes(
        self,
        folder: Arc<Folder>,
        mut changes: tokio::sync::mpsc::UnboundedReceiver<Change>,
    ) {
        while let Some(first) = changes.recv().await {
            if folder.is_removed() {
                break;
            }
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
            if folder.is_removed() {
                break;
            }
            if reload || folder.loaded().is_none() {
                self.reload(&folder).await;
            } else {
                if !files.is_empty() {
                    self.update_files(&folder, files.into_iter().collect()).await;
                }
                if clock {
                    self.recheck_clock(&folder).await;
                }
            }
            for sender in done {
                let _ = sender.send(());
            }
        }
    }

    /// Reload a folder (through its change queue) and wait until it is done.
    pub(super) async fn reload_and_wait(&self, folder: &Folder) {
        let (sender, done) = tokio::sync::oneshot::channel();
        folder.submit(Change::Reload(Some(sender)));
        let _ = done.await;
    }

    /// Store a folder's new state and arm its clock for the next lock that will go stale.
    fn store(&self, folder: &Arc<Folder>, loaded: Loaded) {
        let wake = crate::scope::next_stale_at(&loaded.ws.config, &loaded.ws.model, crate::time::now_secs());
        {
            // A load that ends after its folder was removed keeps nothing. Checked under the
            // lock that `Folder::remove` clears the state under, after marking the folder.
            let mut state = folder.loaded.write().unwrap_or_else(|e| e.into_inner());
            if folder.is_removed() {
                return;
            }
            *state = Some(Arc::new(loaded));
        }
        if let Some(at) = wake {
            let folder = folder.clone();
            let wait = (at - crate::time::now_secs()).clamp(1, 24 * 3600) as u64;
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(wait)).await;
                folder.submit(Change::Clock);
            });
        }
    }

    /// Load a folder. The first load makes open documents first: the model alone (the ops
    /// files and the spec, no source file) is loaded and every open document of the folder
    /// answered from its buffer, then the rest is indexed under "indexing" progress.
    async fn reload(&self, folder: &Arc<Folder>) {
        let root = folder.root.clone();
        if folder.current().is_none() {
            let model_root = root.clone();
            let quick = tokio::task::spawn_blocking(move || {
                Workspace::load_paths(&model_root, &[]).map(Loaded::partial)
            })
            .await;
            if let Ok(Ok(quick)) = quick {
                self.store(folder, quick);
                folder.mark_model_ready();
                for uri in self.open_in(folder) {
                    self.schedule_diagnostics_after(uri, Duration::ZERO);
                }
                self.publish_workspace(folder).await;
            }
        }
        // The load starts at once; progress is reported beside it, never waited for first.
        // The facts cache `concord check` keeps is read (never written: an editor session
        // changes nothing in the workspace on its own).
        let load = tokio::task::spawn_blocking(move || {
            let loaded =
                Workspace::load_cached(&root, crate::workspace::CacheUse::Read, None).map(Loaded::new);
            if let Ok(loaded) = &loaded {
                // Every file's findings are made once here for their summaries; then what the
                // load freed (texts, findings) goes back to the system.
                let _ = loaded.summaries();
                crate::pages::return_freed_memory();
            }
            loaded
        });
        // With several folders, the progress says which one is indexed.
        let message = if self.folders().len() > 1 {
            format!("Indexing {}", folder.name)
        } else {
            "Indexing the workspace".to_string()
        };
        let progress = self.begin_progress("Concord", &message).await;
        match load.await {
            Ok(Ok(loaded)) => {
                let summary = format!(
                    "{} files, {} chunks, {} work items",
                    loaded.ws.files.len(),
                    loaded.ws.model.chunks.len(),
                    loaded.ws.model.work.len()
                );
                self.store(folder, loaded);
                folder.mark_ready();
                if let Some(p) = progress {
                    p.finish_with_message(summary).await;
                }
                self.publish_config_problem(folder, None).await;
                self.publish_workspace(folder).await;
                // What the first publish made and sent (every file in scope) is freed too.
                let _ = tokio::task::spawn_blocking(crate::pages::return_freed_memory).await;
            }
            Ok(Err(error)) => {
                folder.mark_ready();
                if let Some(p) = progress {
                    p.finish_with_message("failed").await;
                }
                tracing::error!(%error, folder = %folder.root.display(), "loading the workspace failed");
                self.publish_config_problem(folder, Some(&error)).await;
                if !folder.is_removed() {
                    self.client.show_message(MessageType::ERROR, format!("Concord: {error}")).await;
                }
            }
            Err(join) => {
                folder.mark_ready();
                tracing::error!(error = %join, "the workspace loader crashed");
            }
        }
    }

    /// A configuration error is shown in the folder's concord.toml itself, at its position.
    async fn publish_config_problem(&self, folder: &Arc<Folder>, error: Option<&LoadError>) {
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
        *folder.config_problem.write().unwrap_or_else(|e| e.into_inner()) = diagnostics.clone();
        if folder.is_removed() {
            return;
        }
        let Some(uri) = convert::uri(&folder.root, CONFIG_FILE) else { return };
        if self.settings().pull {
            if error.is_some() {
                self.refresh_pulled().await;
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
        // Each progress its own token: several folders may be indexed at once.
        let token = NumberOrString::String(format!(
            "concord/{}",
            self.shared.progress_generation.fetch_add(1, Ordering::SeqCst) + 1
        ));
        match tokio::time::timeout(CLIENT_TIMEOUT, self.client.create_work_done_progress(token.clone())).await
        {
            Ok(Ok(())) => Some(self.client.progress(token, title).with_message(message).begin().await),
            _ => None,
        }
    }

    /// Files of a folder changed on disk (not the configuration): the host's incremental step
    /// ([`crate::host::apply_file_changes`]); nothing is sent when the facts did not change (a
    /// save and its watcher event).
    async fn update_files(&self, folder: &Arc<Folder>, paths: Vec<String>) {
        // A partial state (its full load failed) is not a base: only a reload completes it.
        let Some(old) = folder.loaded() else { return };
        let updated =
            tokio::task::spawn_blocking(move || crate::host::apply_file_changes(&old, &paths)).await;
        if let Ok(Some(crate::host::Applied { loaded, affected })) = updated {
            let affected = affected.map(Arc::new);
            self.store(folder, loaded);
            self.publish_workspace_for(folder, affected).await;
        }
    }

    /// A lock of the folder may have gone stale: recompute when the stale-lock findings moved.
    async fn recheck_clock(&self, folder: &Arc<Folder>) {
        let Some(old) = folder.loaded() else { return };
        let updated = tokio::task::spawn_blocking(move || {
            old.stale_locks_moved(crate::time::now_secs()).then(|| Loaded::new(old.ws.clone()))
        })
        .await;
        if let Ok(Some(loaded)) = updated {
            self.store(folder, loaded);
            self.publish_workspace(folder).await;
        }
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

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        handlers::workspace_folders::did_change_workspace_folders(self, params).await
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
