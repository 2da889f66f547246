//! The findings. `analyze` is the one entry point for a whole workspace; `file_findings`
//! is the same logic for one file's text (the language server calls it on live buffers).
//! Both the CLI and the server render what these return, so they never disagree.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::coverage::{self, Coverage, CoverageStatus};
use crate::findings::{self, Candidate, Code, Edit, Finding, Fix, Severity};
use crate::model::Model;
use crate::scan::FileFacts;
use crate::text::{LineCol, Span};
use crate::workspace::Workspace;

/// Candidates offered per suggestion: the ranking is measured on the first and the first three.
pub const SUGGESTIONS: usize = 3;

/// What suggestions are drawn from: the known IDs each directory uses, and the spec's words.
#[derive(Debug, Clone, Default)]
pub struct Neighbours {
    /// Each folder's counts (a few bytes per ID, where a folder's own map of ID strings cost
    /// far more). Persistent: the counts after a save share every other folder's with the ones
    /// before.
    by_dir: imbl::OrdMap<String, DocCounts>,
    /// Built from the model alone: shared by every state with the same model.
    suggester: std::sync::Arc<crate::suggest::Suggester>,
}

/// Known IDs and how often they are used, as pairs of the suggester's document number (see
/// [`crate::suggest::Suggester::doc_of`]) and count, sorted by document.
pub type DocCounts = Vec<(u32, u32)>;

/// Adds `delta` to `doc`'s count in `counts`, dropping a count that falls to zero.
fn add_count(counts: &mut DocCounts, doc: u32, delta: i32) {
    match counts.binary_search_by_key(&doc, |&(d, _)| d) {
        Ok(at) => {
            let n = counts[at].1.saturating_add_signed(delta);
            if n == 0 {
                counts.remove(at);
            } else {
                counts[at].1 = n;
            }
        }
        Err(at) if delta > 0 => counts.insert(at, (doc, delta.unsigned_abs())),
        Err(_) => {}
    }
}

impl Neighbours {
    pub fn new<'f>(model: &Model, files: impl Iterator<Item = &'f FileFacts>) -> Neighbours {
        let suggester = std::sync::Arc::new(crate::suggest::Suggester::new(model));
        let mut by_dir: imbl::OrdMap<String, DocCounts> = imbl::OrdMap::new();
        for facts in files {
            let mut docs = suggester.traced_docs(facts).peekable();
            if docs.peek().is_some() {
                let counts = by_dir.entry(parent_dir(&facts.path).to_string()).or_default();
                docs.for_each(|doc| add_count(counts, doc, 1));
            }
        }
        Neighbours { by_dir, suggester }
    }

    /// The counts after files changed (the model is the same): the old facts' uses taken away,
    /// the new ones added.
    fn after_files_changed(&self, before: &[&FileFacts], after: &[&FileFacts]) -> Neighbours {
        let mut by_dir = self.by_dir.clone();
        for facts in before {
            let dir = parent_dir(&facts.path);
            if let Some(counts) = by_dir.get_mut(dir) {
                self.suggester.traced_docs(facts).for_each(|doc| add_count(counts, doc, -1));
                if counts.is_empty() {
                    by_dir.remove(dir);
                }
            }
        }
        for facts in after {
            let mut docs = self.suggester.traced_docs(facts).peekable();
            if docs.peek().is_some() {
                let counts = by_dir.entry(parent_dir(&facts.path).to_string()).or_default();
                docs.for_each(|doc| add_count(counts, doc, 1));
            }
        }
        Neighbours { by_dir, suggester: self.suggester.clone() }
    }

    /// Ranked candidates for a place in `facts` described by `words`; references on the lines
    /// in `ignore` (the place's own tag, when measuring) are left out.
    pub fn suggest(
        &self,
        model: &Model,
        facts: &FileFacts,
        words: &[String],
        ignore: Option<(u32, u32)>,
    ) -> Vec<Candidate> {
        self.suggest_up_to(model, facts, words, ignore, SUGGESTIONS)
    }

    /// [`Neighbours::suggest`] with another number of candidates.
    pub fn suggest_up_to(
        &self,
        model: &Model,
        facts: &FileFacts,
        words: &[String],
        ignore: Option<(u32, u32)>,
        limit: usize,
    ) -> Vec<Candidate> {
        let (same_file, same_dir) = self.context(facts, ignore);
        self.suggester.suggest(model, &facts.path, words, &same_file, &same_dir, limit)
    }

    /// The spec search (BM25 over chunk titles and summaries, and work items).
    pub fn search(&self, query: &str, chunks_only: bool, limit: usize) -> Vec<(String, f64)> {
        self.suggester.search(query, chunks_only, limit)
    }

    /// The known IDs used in the folder holding `path` (its files' uses included), by document.
    pub fn folder_counts(&self, path: &str) -> &[(u32, u32)] {
        self.by_dir.get(parent_dir(path)).map_or(&[], Vec::as_slice)
    }

    /// The known IDs used in the file (outside `ignore`'s lines) and in the rest of its directory.
    pub fn context(&self, facts: &FileFacts, ignore: Option<(u32, u32)>) -> (DocCounts, DocCounts) {
        let mut same_file = DocCounts::new();
        for r in facts.refs.iter().filter(|r| r.traces) {
            if ignore.is_some_and(|(from, to)| (from..=to).contains(&r.span.start.line)) {
                continue;
            }
            if let Some(doc) = self.suggester.doc_of(r.id) {
                add_count(&mut same_file, doc, 1);
            }
        }
        // The directory's other files: this file's own uses are counted above, once.
        let mut same_dir = self.by_dir.get(parent_dir(&facts.path)).cloned().unwrap_or_default();
        self.suggester.traced_docs(facts).for_each(|doc| add_count(&mut same_dir, doc, -1));
        (same_file, same_dir)
    }
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Everything `concord check` reports.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
    pub files_scanned: usize,
    pub files_skipped: usize,
    /// Everything passed over (files and directories), sorted by path.
    pub skipped: Vec<crate::workspace::Skipped>,
    pub gate_failures: Vec<String>,
    /// The priorities the coverage gate checks.
    pub gate_priorities: Vec<crate::config::Priority>,
    pub items: coverage::ItemTotals,
    /// Set by a `--changed-since` check: the range that was checked (coverage and its gate
    /// are then not computed: they need the whole tree).
    pub range: Option<RangeSummary>,
}

/// The range a `--changed-since` check covered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RangeSummary {
    /// What the base was given as, and why (for `auto`).
    pub base_ref: String,
    pub why: String,
    /// The merge base (excluded) and the head (included).
    pub base: String,
    pub head: String,
    pub files_changed: usize,
    pub commits: usize,
    /// Commits that needed no trailer (merges, allowlisted).
    pub commits_skipped: usize,
}

/// A summary of each file's own findings by path, in a persistent map (a state after a save
/// shares the unchanged files' entries with the one before).
pub type FindingsSummaries = imbl::OrdMap<String, FindingsSummary>;

/// What is kept of a file's own findings between requests: enough to choose the files in a
/// diagnostics scope and to tell a client that holds them that they did not change. The
/// findings themselves are computed again when they are sent: a big item-level workspace has
/// hundreds of thousands, each with its ranked suggestions, far more than its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FindingsSummary {
    pub count: u32,
    pub worst: Severity,
    /// Equal findings have equal fingerprints, in this process and across restarts.
    pub fingerprint: u64,
}

impl FindingsSummary {
    /// `None` for no findings (such files are left out of [`FindingsSummaries`]).
    pub fn of(found: &[Finding]) -> Option<FindingsSummary> {
        let worst = found.iter().map(|f| f.severity).max()?;
        Some(FindingsSummary {
            count: u32::try_from(found.len()).unwrap_or(u32::MAX),
            worst,
            fingerprint: findings::fingerprint(found),
        })
    }
}

/// A loaded workspace and what was derived from it; the language server and the MCP server
/// answer from one, replaced whole when the workspace changes.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub ws: Workspace,
    pub analysis: Analysis,
    /// Every file was scanned. A partial one (see [`Loaded::partial`]) answers for documents
    /// from their own text, without workspace-level findings.
    pub complete: bool,
    /// A summary of each file's own findings (severities applied), by path: computed on first
    /// use, and carried over file by file by [`Loaded::after_files_changed`].
    summaries: std::sync::OnceLock<FindingsSummaries>,
}

impl Loaded {
    pub fn new(ws: Workspace) -> Loaded {
        let analysis = Analysis::new(&ws);
        Loaded { ws, analysis, complete: true, summaries: Default::default() }
    }

    /// The summary of every file's own findings, by path (files without any are absent). The
    /// findings are computed file by file on every core and not kept.
    pub fn summaries(&self) -> &FindingsSummaries {
        self.summaries.get_or_init(|| {
            let files: Vec<&FileFacts> = self.ws.facts().collect();
            parallel_flat_map(&files, |facts| {
                let summary = FindingsSummary::of(&self.own_findings_of(facts));
                summary.map(|summary| (facts.path.clone(), summary)).into_iter().collect()
            })
            .into_iter()
            .collect()
        })
    }

    /// The own findings of the file at `path` (severities applied, in the order they are made).
    pub fn own_findings(&self, path: &str) -> Vec<Finding> {
        self.ws.files.get(path).map(|facts| self.own_findings_of(facts)).unwrap_or_default()
    }

    fn own_findings_of(&self, facts: &FileFacts) -> Vec<Finding> {
        let ws = &self.ws;
        apply_severities(&ws.config, file_findings(&ws.config, &ws.model, &self.analysis.neighbours, facts))
    }

    /// The state after `changed` files were rescanned into `ws` (the model is the same): the
    /// coverage and workspace-level findings again, the suggester kept, and the own findings of
    /// only the files that can have moved: the changed ones and the others in their folders
    /// (suggestions count the IDs used in a file's folder).
    pub fn after_files_changed(&self, ws: Workspace, changed: &[String]) -> Loaded {
        let before: Vec<&FileFacts> = changed.iter().filter_map(|p| self.ws.facts_of(p)).collect();
        let after: Vec<&FileFacts> = changed.iter().filter_map(|p| ws.facts_of(p)).collect();
        let coverage = self.analysis.coverage.after_files_changed(&ws.config, &ws.model, &before, &after);
        let neighbours = self.analysis.neighbours.after_files_changed(&before, &after);
        let mut stale_places = self.analysis.stale_places.clone();
        for path in changed {
            stale_places.remove(path);
        }
        for facts in &after {
            let places = crate::stale::stale_places(&ws.config, &ws.model, facts);
            if !places.is_empty() {
                stale_places.insert(facts.path.clone(), places);
            }
        }
        let analysis = Analysis::with(&ws, coverage, neighbours, stale_places);
        let next = Loaded { ws, analysis, complete: true, summaries: Default::default() };
        if let Some(previous) = self.summaries.get() {
            let dirs: std::collections::BTreeSet<&str> = changed.iter().map(|p| parent_dir(p)).collect();
            let mut by_path = previous.clone();
            for dir in &dirs {
                for facts in crate::workspace::files_in_dir(&self.ws.files, dir) {
                    by_path.remove(&facts.path);
                }
            }
            let in_dirs = dirs.iter().flat_map(|dir| crate::workspace::files_in_dir(&next.ws.files, dir));
            for facts in in_dirs {
                if let Some(summary) = FindingsSummary::of(&next.own_findings_of(facts)) {
                    by_path.insert(facts.path.clone(), summary);
                }
            }
            let _ = next.summaries.set(by_path);
        }
        next
    }

    /// The workspace before its files are scanned (the model, the spec's markdown): enough for
    /// an open document's own findings while the rest is indexed. Workspace-level findings
    /// (coverage, locks, staleness) wait for the whole scan: from a part they would be wrong.
    pub fn partial(ws: Workspace) -> Loaded {
        let analysis = Analysis {
            coverage: coverage::compute(&ws.config, &ws.model, ws.facts()),
            neighbours: Neighbours::new(&ws.model, ws.facts()),
            stale_places: Default::default(),
            workspace_findings: BTreeMap::new(),
        };
        Loaded { ws, analysis, complete: false, summaries: Default::default() }
    }

    /// The stale-lock findings at `now` differ from those computed at the last load: a lock
    /// went stale (or was renewed) since.
    pub fn stale_locks_moved(&self, now: i64) -> bool {
        let mut then: Vec<&Finding> = self
            .analysis
            .workspace_findings
            .values()
            .flatten()
            .filter(|f| f.code == crate::findings::Code::StaleLock)
            .collect();
        let now = apply_severities(
            &self.ws.config,
            crate::scope::stale_lock_findings(&self.ws.config, &self.ws.model, now),
        );
        then.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        let mut now: Vec<&Finding> = now.iter().collect();
        now.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        then != now
    }
}

/// What is derived from a whole workspace once and then asked per file: coverage, the IDs
/// used per directory, and the workspace-level findings grouped by the file they are shown in.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub coverage: Coverage,
    pub neighbours: Neighbours,
    /// Each file's stale places (see [`crate::stale::stale_places`]), for the files that have
    /// any: the `stale-reference` findings at chunk definitions are built from these.
    stale_places: imbl::OrdMap<String, Vec<(String, String)>>,
    /// Severities applied.
    pub workspace_findings: BTreeMap<String, Vec<Finding>>,
}

impl Analysis {
    pub fn new(ws: &Workspace) -> Analysis {
        let neighbours = Neighbours::new(&ws.model, ws.facts());
        let coverage = coverage::compute(&ws.config, &ws.model, ws.facts());
        let stale_places = ws
            .files
            .values()
            .map(|facts| (facts.path.clone(), crate::stale::stale_places(&ws.config, &ws.model, facts)))
            .filter(|(_, places)| !places.is_empty())
            .collect();
        Analysis::with(ws, coverage, neighbours, stale_places)
    }

    fn with(
        ws: &Workspace,
        coverage: Coverage,
        neighbours: Neighbours,
        stale_places: imbl::OrdMap<String, Vec<(String, String)>>,
    ) -> Analysis {
        let mut found = workspace_findings(&ws.config, &ws.model, &coverage);
        found.extend(ws.io_findings.iter().cloned());
        found.extend(crate::scope::stale_lock_findings(&ws.config, &ws.model, crate::time::now_secs()));
        found.extend(crate::stale::findings_at_definitions(&ws.model, stale_places.values().flatten()));
        let mut workspace_findings: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
        for finding in apply_severities(&ws.config, found) {
            workspace_findings.entry(finding.path.clone()).or_default().push(finding);
        }
        Analysis { coverage, neighbours, stale_places, workspace_findings }
    }

    /// Every finding shown in one file: its own (from `facts`, which may come from an unsaved
    /// buffer) and the workspace-level ones placed in it. Severities applied, sorted.
    pub fn findings_for(&self, config: &Config, model: &Model, facts: &FileFacts) -> Vec<Finding> {
        let mut out = apply_severities(config, file_findings(config, model, &self.neighbours, facts));
        out.extend(self.workspace_findings.get(&facts.path).into_iter().flatten().cloned());
        findings::sort(&mut out);
        // The blueprint index's secrets are found both by its loader and by a scan of its open
        // buffer: the same finding, shown once.
        out.dedup();
        out
    }
}

/// Every file's own findings (severities applied), computed on every core: they are
/// independent given the analysis.
pub fn all_file_findings(ws: &Workspace, analysis: &Analysis) -> Vec<Finding> {
    let files: Vec<&FileFacts> = ws.facts().collect();
    parallel_flat_map(&files, |facts| {
        apply_severities(&ws.config, file_findings(&ws.config, &ws.model, &analysis.neighbours, facts))
    })
}

pub fn analyze(ws: &Workspace) -> Report {
    let analysis = Analysis::new(ws);
    let findings = FindingStream::new(ws, &analysis).collect();
    Report { findings, ..report_without_findings(ws, &analysis) }
}

/// The whole-workspace report but its findings, which [`FindingStream`] gives one batch at a
/// time (a big tree's item-level findings are written as they are computed, never held).
pub fn report_without_findings(ws: &Workspace, analysis: &Analysis) -> Report {
    let gate_failures = analysis
        .coverage
        .gate_failures(&ws.config.gate)
        .into_iter()
        .map(|c| c.blueprint_id.clone())
        .collect();
    Report {
        findings: Vec::new(),
        coverage: analysis.coverage.clone(),
        files_scanned: ws.files.len(),
        files_skipped: ws.skipped.iter().filter(|s| !s.dir).count(),
        skipped: ws.skipped.clone(),
        gate_failures,
        gate_priorities: ws.config.gate.clone(),
        items: coverage::item_totals(&ws.config, &ws.model, ws.facts()),
        range: None,
    }
}

/// Files whose findings are computed together (on every core), then sorted and handed out.
const FILES_PER_BATCH: usize = 2048;

/// Every finding of the workspace in report order (sorted as [`findings::sort`] does):
/// each file's own and the workspace-level ones placed in it, severities applied. Files are
/// taken in path order a batch at a time, so only a batch or two of findings (with their ranked
/// suggestions) is held.
pub struct FindingStream<'a> {
    batch: usize,
    /// The report shows findings from this severity up (see [`file_findings_shown_from`]).
    shown_from: Severity,
    ws: &'a Workspace,
    analysis: &'a Analysis,
    files: Box<dyn Iterator<Item = &'a FileFacts> + 'a>,
    /// Workspace-level findings by path, in path order, not yet handed out.
    placed: std::iter::Peekable<std::collections::btree_map::Iter<'a, String, Vec<Finding>>>,
    ready: std::vec::IntoIter<Finding>,
}

impl<'a> FindingStream<'a> {
    pub fn new(ws: &'a Workspace, analysis: &'a Analysis) -> FindingStream<'a> {
        FindingStream::with_batches_of(ws, analysis, FILES_PER_BATCH)
    }

    /// With batches of `files` files (at least one): the order never depends on it.
    pub fn with_batches_of(ws: &'a Workspace, analysis: &'a Analysis, files: usize) -> FindingStream<'a> {
        FindingStream {
            batch: files.max(1),
            shown_from: Severity::Hint,
            ws,
            analysis,
            files: Box::new(ws.facts()),
            placed: analysis.workspace_findings.iter().peekable(),
            ready: Vec::new().into_iter(),
        }
    }

    /// For a report that shows findings from `severity` up: the ones below it come without
    /// suggestions (see [`file_findings_shown_from`]).
    pub fn shown_from(mut self, severity: Severity) -> FindingStream<'a> {
        self.shown_from = severity;
        self
    }

    /// The same findings (for a report showing them from `shown_from` up), each batch computed
    /// on a thread of `scope` while the one before is consumed (written): at most two batches
    /// wait. Dropping the iterator stops the work.
    pub fn ahead<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        ws: &'a Workspace,
        analysis: &'a Analysis,
        shown_from: Severity,
    ) -> impl Iterator<Item = Finding> + 'scope
    where
        'a: 'scope,
    {
        let (batches, ready) = std::sync::mpsc::sync_channel::<Vec<Finding>>(1);
        scope.spawn(move || {
            let mut stream = FindingStream::new(ws, analysis).shown_from(shown_from);
            while let Some(batch) = stream.next_batch() {
                if batches.send(batch).is_err() {
                    break;
                }
            }
        });
        ready.into_iter().flatten()
    }

    /// The next batch in order: the next files' own findings and every workspace-level one
    /// at a path up to the batch's last (all of them once the files run out); `None` once
    /// every file and every workspace-level finding was handed out.
    fn next_batch(&mut self) -> Option<Vec<Finding>> {
        let batch: Vec<&FileFacts> = self.files.by_ref().take(self.batch).collect();
        if batch.is_empty() && self.placed.peek().is_none() {
            return None;
        }
        let (ws, analysis, shown_from) = (self.ws, self.analysis, self.shown_from);
        let mut found = parallel_flat_map(&batch, |facts| {
            let own =
                file_findings_shown_from(&ws.config, &ws.model, &analysis.neighbours, facts, shown_from);
            apply_severities(&ws.config, own)
        });
        let last = batch.last().map(|facts| facts.path.as_str());
        let up_to_last = |(path, _): &(&String, &Vec<Finding>)| last.is_none_or(|last| path.as_str() <= last);
        while let Some((_, placed)) = self.placed.next_if(up_to_last) {
            found.extend(placed.iter().cloned());
        }
        findings::sort(&mut found);
        Some(found)
    }
}

impl Iterator for FindingStream<'_> {
    type Item = Finding;

    fn next(&mut self) -> Option<Finding> {
        loop {
            if let Some(finding) = self.ready.next() {
                return Some(finding);
            }
            self.ready = self.next_batch()?.into_iter();
        }
    }
}

/// `work` on every item, on up to eight threads, the results in the items' order. The items
/// are dealt out in small runs as threads come free: files differ widely in cost (one folder's
/// untraced files each want ranked suggestions), and halves fixed up front left a core idle.
pub(crate) fn parallel_flat_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> Vec<R> + Sync) -> Vec<R> {
    // Asked once: the answer reads the cgroup's files, and a check asks for every batch.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let threads = *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()).min(8));
    let run = items.len().div_ceil(threads * 8).max(1);
    let runs: Vec<&[T]> = items.chunks(run).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (next, runs, work) = (&next, &runs, &work);
    let take_runs = move || {
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(part) = runs.get(at) else { break done };
            done.push((at, part.iter().flat_map(work).collect::<Vec<R>>()));
        }
    };
    // The calling thread takes runs too: it would only wait for the others.
    let mut done: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.min(runs.len())).map(|_| scope.spawn(take_runs)).collect();
        let mut done = take_runs();
        for helper in helpers {
            done.extend(helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        done
    });
    done.sort_unstable_by_key(|(at, _)| *at);
    // Sized once: grown run by run, the results would be copied and held up to twice over.
    let mut all = Vec::with_capacity(done.iter().map(|(_, found)| found.len()).sum());
    for (_, found) in done {
        all.extend(found);
    }
    all
}

/// The `--changed-since` check: the findings of the changed files (loaded alone, see
/// [`Workspace::load_paths`]), of the ops files among them, and of the range itself
/// (`unmapped-change`, `untraced-commit`, unknown IDs in trailers). A changed file that is
/// `unmapped-change` is not also `untraced-file`. Coverage is left to the full check.
pub fn analyze_changes(ws: &Workspace, changes: &crate::changes::ChangeSet, range: RangeSummary) -> Report {
    let changed: std::collections::BTreeSet<&str> = changes.files.iter().map(|f| f.path.as_str()).collect();
    let neighbours = Neighbours::new(&ws.model, ws.facts());
    let mut found: Vec<Finding> = ws.model.findings.clone();
    found.extend(ws.io_findings.iter().cloned());
    found.extend(crate::scope::stale_lock_findings(&ws.config, &ws.model, crate::time::now_secs()));
    // A changed chunk definition names the places its rewrite made stale, scanned or not.
    found.extend(crate::stale::recorded_chunk_findings(&ws.model));
    found.retain(|f| changed.contains(f.path.as_str()));
    for facts in ws.facts().filter(|f| changed.contains(f.path.as_str())) {
        found.extend(file_findings(&ws.config, &ws.model, &neighbours, facts));
    }
    let range_findings = crate::changes::change_findings(&ws.config, &ws.model, changes, |p| ws.facts_of(p));
    let unmapped: std::collections::BTreeSet<String> =
        range_findings.iter().filter(|f| f.code == Code::UnmappedChange).map(|f| f.path.clone()).collect();
    found.retain(|f| !(f.code == Code::UntracedFile && unmapped.contains(&f.path)));
    // A commit of the range says its author checked the code against these chunks' new text.
    let spec_reviewed: std::collections::BTreeSet<String> = changes
        .commits
        .iter()
        .flat_map(|c| crate::changes::spec_reviewed_ids(&ws.config, &c.message))
        .collect();
    found.retain(|f| {
        !(f.code == Code::StaleReference && f.id.as_ref().is_some_and(|id| spec_reviewed.contains(id)))
    });
    found.extend(range_findings);
    let mut all = apply_severities(&ws.config, found);
    findings::sort(&mut all);
    Report {
        findings: all,
        coverage: Coverage::default(),
        files_scanned: ws.files.keys().filter(|p| changed.contains(p.as_str())).count(),
        files_skipped: ws.skipped.iter().filter(|s| !s.dir && changed.contains(s.path.as_str())).count(),
        skipped: ws.skipped.iter().filter(|s| changed.contains(s.path.as_str())).cloned().collect(),
        gate_failures: Vec::new(),
        gate_priorities: ws.config.gate.clone(),
        items: coverage::item_totals(
            &ws.config,
            &ws.model,
            ws.facts().filter(|f| changed.contains(f.path.as_str())),
        ),
        range: Some(range),
    }
}

/// Findings that belong to the workspace as a whole: ops-file problems and chunk coverage.
/// (Each still has a path: the file where it is shown.) Severities not yet applied.
pub fn workspace_findings(config: &Config, model: &Model, coverage: &Coverage) -> Vec<Finding> {
    let mut out = model.findings.clone();
    for chunk in &coverage.chunks {
        if chunk.status == CoverageStatus::Covered {
            continue;
        }
        let Some(def) = model.chunks.get(&chunk.blueprint_id) else {
            continue;
        };
        let Some(place) = def.definition() else {
            continue;
        };
        let gated = config.gate.contains(&chunk.priority);
        let gap = match chunk.status {
            CoverageStatus::MissingWbs => "no work item lists it: add it to the blueprint_ids of a work item in the WBS (or plan a new item)".to_string(),
            CoverageStatus::MissingCode => format!("no code traces to it: tag the implementing code with `{}` (planned in {})", chunk.blueprint_id, chunk.wbs_ids.join(", ")),
            CoverageStatus::MissingTests => format!("no test traces to it: tag a test that checks it with `{}`", chunk.blueprint_id),
            CoverageStatus::Covered => unreachable!(),
        };
        let gate = if gated {
            format!(
                " It is a {} chunk, so the coverage gate fails until this is fixed.",
                chunk.priority.as_str()
            )
        } else {
            String::new()
        };
        let mut finding = Finding::new(
            Code::UncoveredChunk,
            &place.path,
            place.span,
            format!(
                "{} \"{}\" is not covered ({}): {gap}.{gate}",
                chunk.blueprint_id,
                chunk.title,
                chunk.status.as_str()
            ),
        )
        .with_id(&chunk.blueprint_id);
        if gated {
            // The gate is the point of the priority: it always fails the check.
            finding.severity = Severity::Error;
        }
        out.push(finding);
    }
    out
}

/// Findings for one file's facts. Severities not yet applied. `check` replays them from the
/// findings cache while the inputs hashed by `workspace::inputs_key` stay the same: a model
/// input read here must be one of those.
pub fn file_findings(
    config: &Config,
    model: &Model,
    neighbours: &Neighbours,
    facts: &FileFacts,
) -> Vec<Finding> {
    file_findings_shown_from(config, model, neighbours, facts, Severity::Hint)
}

/// [`file_findings`] for a report that shows only findings at or above `shown_from`: those
/// below it are still counted, so they are made, but without the ranked suggestions (the
/// search of every chunk per item) that no one would see.
pub(crate) fn file_findings_shown_from(
    config: &Config,
    model: &Model,
    neighbours: &Neighbours,
    facts: &FileFacts,
    shown_from: Severity,
) -> Vec<Finding> {
    let shown = |code: Code| config.severity(code).is_some_and(|severity| severity >= shown_from);
    let mut out = Vec::new();
    if !config.is_ops_file(&facts.path) {
        // With no definitions of a kind at all (no index, no WBS), every ID of that kind would be
        // "unknown": that says nothing, so the check waits until the kind has definitions.
        let has_definitions = |id: &str| match config.ids.kind_of(id) {
            Some(crate::ids::IdKind::Work) => !model.work.is_empty(),
            _ => !model.chunks.is_empty(),
        };
        // One finding per reference, but its message and "did you mean" candidates (a search of
        // every known ID) once per distinct unknown ID: a file naming `TD-9999` on every line
        // costs a copy per line, not a search.
        let mut by_id: std::collections::HashMap<&str, Finding> = std::collections::HashMap::new();
        for reference in
            facts.refs.iter().filter(|r| r.traces && !model.is_known(r.id) && has_definitions(r.id))
        {
            let template =
                by_id.entry(reference.id).or_insert_with(|| unknown_id(config, model, facts, reference.id));
            let mut finding = template.clone();
            finding.span = reference.span;
            if let Some(fix) = &mut finding.fix {
                for edit in &mut fix.edits {
                    edit.span = reference.span;
                }
            }
            out.push(finding);
        }
    }
    out.extend(crate::stale::reference_findings(config, model, facts));
    for secret in &facts.secrets {
        let message =
            findings::secret_message(secret.description, &secret.redacted, &config.secrets_baseline);
        out.push(Finding::new(Code::Secret, &facts.path, secret.span, message).with_id(secret.rule_id));
    }
    if facts.must_trace {
        // A tag traces when its ID is known, or when nothing of its kind is defined at all
        // (then no ID can be checked, and calling the file untraced would say nothing).
        let kind_defined = |id: &str| match config.ids.kind_of(id) {
            Some(crate::ids::IdKind::Work) => !model.work.is_empty(),
            _ => !model.chunks.is_empty(),
        };
        let carries_known_id =
            facts.refs.iter().any(|r| r.traces && (model.is_known(r.id) || !kind_defined(r.id)));
        let item_level = config.item_level(&facts.path) && facts.line_comment.is_some();
        if item_level {
            out.extend(untraced_items(config, model, shown(Code::UntracedItem).then_some(neighbours), facts));
        } else if !carries_known_id && !model.crosswalk.maps(&facts.path) && !model.scopes.maps(&facts.path) {
            out.push(untraced_file(model, shown(Code::UntracedFile).then_some(neighbours), facts));
        }
    }
    out
}

/// The known IDs tracing each item of an item-level file: its own tags, else its enclosing
/// item's, else the file header's (when `trace.file_header` is on).
pub fn item_traces(config: &Config, model: &Model, facts: &FileFacts) -> Vec<Vec<String>> {
    let header: Vec<String> = if config.file_header {
        facts.header_ids.iter().filter(|id| model.is_known(id)).cloned().collect()
    } else {
        Vec::new()
    };
    let mut traces: Vec<Vec<String>> = Vec::with_capacity(facts.items.len());
    for item in &facts.items {
        let own: Vec<String> = item.ids.iter().filter(|id| model.is_known(id)).cloned().collect();
        let inherited = item.parent.and_then(|p| traces.get(p as usize)).filter(|t| !t.is_empty()).cloned();
        traces.push(if !own.is_empty() { own } else { inherited.unwrap_or_else(|| header.clone()) });
    }
    traces
}

/// Items are checked when they must be traced: tests always, else public ones (or all).
pub fn must_trace_item(config: &Config, item: &crate::scan::ItemFacts) -> bool {
    item.is_test || item.is_public || config.items_to_trace == crate::config::ItemsToTrace::All
}

/// `untraced-item` findings, with ranked suggestions when `suggest_from` is given.
fn untraced_items(
    config: &Config,
    model: &Model,
    suggest_from: Option<&Neighbours>,
    facts: &FileFacts,
) -> Vec<Finding> {
    let traces = item_traces(config, model, facts);
    // The nearby IDs and the scope are the same for every item of the file: weighed once.
    let context = suggest_from.map(|neighbours| (neighbours, neighbours.context(facts, None)));
    let ranking = context.as_ref().map(|(neighbours, (same_file, same_dir))| {
        neighbours.suggester.for_file(model, &facts.path, same_file, same_dir)
    });
    facts
        .items
        .iter()
        .zip(&traces)
        .filter(|(item, traced)| traced.is_empty() && must_trace_item(config, item))
        .map(|(item, _)| {
            let candidates =
                ranking.as_ref().map(|r| r.suggest(&item.suggestion_words(), SUGGESTIONS)).unwrap_or_default();
            let what = if item.is_test { format!("test {}", item.name) } else { format!("{} {}", item.kind, item.name) };
            let hint = candidates.first().map(|b| format!(" Likely: {} ({}).", b.id, b.title)).unwrap_or_default();
            let message = format!(
                "The {what} traces to no spec chunk or work item: add a comment naming what it implements (`{}`) above it or in its doc comment, or tag its enclosing item or the file header.{hint}",
                tag_comment(&facts.path, "implements TD-0103").trim_end()
            );
            let mut finding = Finding::new(Code::UntracedItem, &facts.path, item.name_span, message);
            if let Some(best) = candidates.first() {
                let insert = Span::point(LineCol { line: item.insert_line, utf8: 0, utf16: 0 });
                let tag = tag_comment(&facts.path, &format!("implements {}", best.id));
                finding = finding.with_fix(Fix {
                    title: format!("Add `{}` above {}", tag.trim_end(), item.name),
                    edits: vec![Edit { span: insert, new_text: format!("{}{tag}", item.indent) }],
                    candidates,
                });
            }
            finding
        })
        .collect()
}

/// The `unknown-id` finding for `id` in this file, placed nowhere yet (its span and its fix's
/// edit are set per reference).
fn unknown_id(config: &Config, model: &Model, facts: &FileFacts, id: &str) -> Finding {
    let suggestions = model.did_you_mean(config, id);
    let span = Span::default();
    let message = if suggestions.is_empty() {
        format!("{id} is not a known ID: no chunk or work item has it. Correct the ID, or define it (blueprint index, a `## {id} Title` heading, or the WBS).")
    } else {
        let options: Vec<String> =
            suggestions.iter().map(|s| format!("{s} ({})", model.title_of(s).unwrap_or(""))).collect();
        format!(
            "{id} is not a known ID. Did you mean {}? Replace it with the intended ID.",
            options.join(" or ")
        )
    };
    let mut finding = Finding::new(Code::UnknownId, &facts.path, span, message).with_id(id);
    if !suggestions.is_empty() {
        finding = finding.with_fix(Fix {
            title: format!("Replace {id} with {}", suggestions[0]),
            edits: vec![Edit { span, new_text: suggestions[0].clone() }],
            candidates: suggestions
                .iter()
                .enumerate()
                .map(|(rank, s)| Candidate {
                    id: s.clone(),
                    title: model.title_of(s).unwrap_or("").to_string(),
                    score: 1.0 / (rank as f64 + 1.0),
                    why: "closest known ID of the same family".into(),
                })
                .collect(),
        });
    }
    finding
}

/// The `untraced-file` finding, with ranked suggestions when `suggest_from` is given.
fn untraced_file(model: &Model, suggest_from: Option<&Neighbours>, facts: &FileFacts) -> Finding {
    let candidates =
        suggest_from.map(|neighbours| neighbours.suggest(model, facts, &[], None)).unwrap_or_default();
    let hint = match candidates.first() {
        Some(best) => format!(" Likely: {} ({}).", best.id, best.title),
        None => String::new(),
    };
    let message = format!(
        "{} carries no spec or work-item ID and no work item's scope_paths covers it, so nothing traces it to the spec. Add a comment naming what it implements (e.g. `implements TD-0103`), or add it to a work item's scope_paths.{hint}",
        facts.path
    );
    let mut finding = Finding::new(Code::UntracedFile, &facts.path, Span::line_start(0), message);
    if let Some(best) = candidates.first() {
        let tag = tag_comment(&facts.path, &format!("implements {}", best.id));
        // After a shebang line, the tag goes on the second line.
        let line = u32::from(facts.shebang);
        finding = finding.with_fix(Fix {
            title: format!("Add `{}` at the top of the file", tag.trim_end()),
            edits: vec![Edit { span: Span::point(LineCol { line, utf8: 0, utf16: 0 }), new_text: tag }],
            candidates,
        });
    }
    finding
}

pub use crate::languages::tag_comment;

/// Configured severities; findings of codes turned off are dropped.
pub fn apply_severities(config: &Config, findings: Vec<Finding>) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut f| {
            let configured = config.severity(f.code)?;
            let gated = f.code == Code::UncoveredChunk && f.severity == Severity::Error;
            if !gated {
                f.severity = configured;
            }
            Some(f)
        })
        .collect()
}
