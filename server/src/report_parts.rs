//! A whole workspace's report in text or JSON, made path by path on every core: each path's
//! findings (a file's own, and the workspace-level ones placed at it) are computed and rendered
//! on the thread that makes them, or replayed from the findings cache when nothing they depend
//! on changed. The writer only joins the parts, in path order: the same bytes as writing each
//! finding of [`crate::analysis::FindingStream`] in turn.

use crate::analysis::{apply_severities, file_findings_shown_from, parallel_flat_map, Analysis};
use crate::findings::{self, Finding, Severity};
use crate::findings_cache::{file_key, Entry, FindingsCache};
use crate::render::{Count, Layout};
use crate::scan::FileFacts;
use crate::workspace::Workspace;

/// Paths whose parts are made together. Half the finding stream's batches: a part is its
/// findings rendered, and up to three batches of them are held at once (measured on 45,000 real
/// files: 2,048 raised the peak by 55 MB, 512 spent more on starting threads and waiting at the
/// end of each batch).
const PATHS_PER_BATCH: usize = 1024;

/// Every finding at one path, rendered.
pub struct Part<'a> {
    pub path: &'a str,
    /// The findings at or above the report's minimum, as [`Layout::part`] renders them.
    pub rendered: Vec<u8>,
    /// Of every finding at the path, shown or not.
    pub counts: Vec<Count>,
    /// What the findings cache keeps of the part: none for a path with workspace-level
    /// findings (those depend on the whole workspace) or when no cache is used.
    pub entry: Option<Entry<'a>>,
    /// Computed in this run (not replayed from the cache).
    pub computed: bool,
}

/// What a report's parts are made of and how.
#[derive(Clone, Copy)]
pub struct Parts<'a> {
    pub ws: &'a Workspace,
    pub analysis: &'a Analysis,
    pub layout: Layout,
    /// The report shows findings from here up (those below are counted, without suggestions).
    pub min: Severity,
    pub cache: Option<&'a FindingsCache>,
}

/// One path of the report: a file, workspace-level findings placed at it, or both.
struct Slot<'a> {
    path: &'a str,
    facts: Option<&'a FileFacts>,
    placed: &'a [Finding],
}

impl<'a> Parts<'a> {
    /// Every finding at `path`, in report order, severities applied: what its part renders.
    pub fn findings_at(&self, path: &str) -> Vec<Finding> {
        let placed = self.analysis.workspace_findings.get(path).map_or(&[][..], Vec::as_slice);
        self.findings_of(self.ws.facts_of(path), placed)
    }

    fn findings_of(&self, facts: Option<&FileFacts>, placed: &[Finding]) -> Vec<Finding> {
        let (ws, analysis) = (self.ws, self.analysis);
        let mut found = match facts {
            Some(facts) => apply_severities(
                &ws.config,
                file_findings_shown_from(&ws.config, &ws.model, &analysis.neighbours, facts, self.min),
            ),
            None => Vec::new(),
        };
        found.extend(placed.iter().cloned());
        findings::sort(&mut found);
        found
    }

    fn part(&self, slot: &Slot<'a>) -> Part<'a> {
        let cached = match (self.cache, slot.facts) {
            (Some(cache), Some(facts)) if slot.placed.is_empty() => {
                Some((cache, file_key(facts, self.analysis.neighbours.folder_counts(slot.path))))
            }
            _ => None,
        };
        if let Some((cache, key)) = &cached {
            if let Some(entry) = cache.get(slot.path, key) {
                if let Some(rendered) = entry.expand() {
                    return Part {
                        path: slot.path,
                        rendered,
                        counts: entry.counts.clone(),
                        entry: Some(entry),
                        computed: false,
                    };
                }
            }
        }
        let found = self.findings_of(slot.facts, slot.placed);
        let mut rendered = Vec::new();
        self.layout.part(&mut rendered, &found, self.min);
        let counts = Count::of(&found);
        let entry = cached.map(|(_, key)| Entry::new(slot.path, key, counts.clone(), &rendered));
        Part { path: slot.path, rendered, counts, entry, computed: true }
    }

    /// Every part in path order, a batch at a time, each batch made on a thread of `scope`
    /// while the one before is written: at most two wait. Dropping the iterator stops the work.
    pub fn ahead<'scope>(
        self,
        scope: &'scope std::thread::Scope<'scope, '_>,
    ) -> impl Iterator<Item = Part<'a>> + 'scope
    where
        'a: 'scope,
    {
        let (batches, ready) = std::sync::mpsc::sync_channel::<Vec<Part<'a>>>(1);
        scope.spawn(move || {
            let mut files = self.ws.facts().peekable();
            let mut placed = self.analysis.workspace_findings.iter().peekable();
            loop {
                let slots = next_slots(&mut files, &mut placed);
                if slots.is_empty() {
                    break;
                }
                let parts = parallel_flat_map(&slots, |slot| vec![self.part(slot)]);
                if batches.send(parts).is_err() {
                    break;
                }
            }
        });
        ready.into_iter().flatten()
    }
}

/// The next [`PATHS_PER_BATCH`] paths in order, files and placed findings merged by path.
fn next_slots<'a>(
    files: &mut std::iter::Peekable<impl Iterator<Item = &'a FileFacts>>,
    placed: &mut std::iter::Peekable<std::collections::btree_map::Iter<'a, String, Vec<Finding>>>,
) -> Vec<Slot<'a>> {
    let mut slots = Vec::with_capacity(PATHS_PER_BATCH);
    while slots.len() < PATHS_PER_BATCH {
        let file = files.peek().map(|facts| facts.path.as_str());
        let at = placed.peek().map(|(path, _)| path.as_str());
        let slot = match (file, at) {
            (None, None) => break,
            (Some(file), Some(at)) if file == at => {
                let (_, here) = placed.next().expect("peeked");
                Slot { path: file, facts: files.next(), placed: here }
            }
            (Some(file), at) if at.is_none_or(|at| file < at) => {
                Slot { path: file, facts: files.next(), placed: &[] }
            }
            _ => {
                let (path, here) = placed.next().expect("peeked");
                Slot { path, facts: None, placed: here }
            }
        };
        slots.push(slot);
    }
    slots
}
