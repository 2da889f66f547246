//! The workspace's ops data (spec chunks, work items, queue, locks, access checks, the
//! crosswalk), built from file texts handed in by the I/O layer. Loading never fails:
//! whatever is malformed becomes a positioned finding and the rest is kept.

mod access;
mod blueprints;
mod crosswalk;
pub mod fingerprint;
mod locks;
mod pull_requests;
pub mod quality_gates;
mod questions;
mod queue;
pub mod reader;
pub mod shown;
mod wbs;

pub use secrets_baseline::parse_secrets_baseline;
mod secrets_baseline;
pub use trace_lock::{parse_trace_lock, RefKey, Reviewed};
mod trace_lock;

use std::collections::BTreeMap;

use crate::config::{Config, Priority};
use crate::findings::{Code, Finding};
use crate::ids::IdKind;
use crate::text::Span;

pub use access::{parse_access, AccessCheck};
pub use blueprints::parse_index;
pub use crosswalk::{parse_crosswalk, CrosswalkMapping};
pub use locks::{parse_lock, read_lock, Lock};
pub use pull_requests::parse_pull_requests;
pub use questions::parse_questions;
pub use queue::{parse_queue, QueueEvent, Status};
pub use wbs::{parse_wbs, Autopilot, Budget, Risk, WorkItem};

/// A place in a file where an ID is defined or named.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    pub path: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub source: Option<String>,
    pub topic: Option<String>,
    pub priority: Priority,
    /// The index entry, if the chunk is in the index.
    pub index_entry: Option<Place>,
    /// The markdown heading that defines it, if any.
    pub heading: Option<Place>,
    /// The fingerprint of its normalised text ([`fingerprint::chunk_fingerprint`]): of its
    /// markdown section when it has a heading, else the index's stored `fingerprint`, else of
    /// its title and index `summary`.
    pub fingerprint: String,
}

impl Chunk {
    /// Where "go to definition" goes: the heading people read, else the index entry.
    pub fn definition(&self) -> Option<&Place> {
        self.heading.as_ref().or(self.index_entry.as_ref())
    }
}

/// A markdown heading that defines a chunk (found by the scanner).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Heading {
    pub id: String,
    pub title: String,
    pub place: Place,
    /// The fingerprint of the title and the section under the heading.
    pub fingerprint: String,
}

/// The text of one ops file, as read from disk (or an editor buffer).
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// Everything the model is built from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub index: Option<Source>,
    pub wbs: Option<Source>,
    pub queue: Option<Source>,
    pub crosswalk: Option<Source>,
    pub access: Option<Source>,
    pub locks: Vec<Source>,
    pub headings: Vec<Heading>,
    pub trace_lock: Option<Source>,
    pub owner_questions: Option<Source>,
    pub pull_requests: Option<Source>,
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub chunks: BTreeMap<String, Chunk>,
    pub work: BTreeMap<String, WorkItem>,
    pub queue: Vec<QueueEvent>,
    pub status: BTreeMap<String, Status>,
    pub locks: Vec<Lock>,
    pub access: BTreeMap<String, AccessCheck>,
    /// The owner's questions, each in its latest state.
    pub questions: Vec<crate::formats::OwnerQuestion>,
    /// The pull requests opened for work items, in file order (the last of an item is current).
    pub pull_requests: Vec<crate::formats::PullRequestRecord>,
    pub crosswalk: CrosswalkMapping,
    /// The spec text each reference was last reviewed against (`ops/trace.lock`).
    pub reviewed: Reviewed,
    /// Which work items' `scope_paths` match a path.
    pub scopes: ScopeIndex,
    /// Problems found while loading: malformed files, duplicates, unknown references.
    pub findings: Vec<Finding>,
}

impl Model {
    pub fn build(config: &Config, sources: &Sources) -> Model {
        let mut model = Model::default();
        let mut duplicates: BTreeMap<String, Vec<Place>> = BTreeMap::new();

        if let Some(src) = &sources.index {
            let (entries, findings) = parse_index(config, &src.path, &src.text);
            model.findings.extend(findings);
            for chunk in entries {
                let place = chunk.index_entry.clone().expect("index chunks carry their entry");
                match model.chunks.get(&chunk.id) {
                    Some(first) => duplicates
                        .entry(chunk.id.clone())
                        .or_insert_with(|| vec![first.index_entry.clone().expect("index entry")])
                        .push(place),
                    None => {
                        model.chunks.insert(chunk.id.clone(), chunk);
                    }
                }
            }
        }

        let mut heading_of: BTreeMap<&str, &Place> = BTreeMap::new();
        for heading in &sources.headings {
            if let Some(first) = heading_of.get(heading.id.as_str()) {
                duplicates
                    .entry(heading.id.clone())
                    .or_insert_with(|| vec![(*first).clone()])
                    .push(heading.place.clone());
                continue;
            }
            heading_of.insert(&heading.id, &heading.place);
            let chunk = model.chunks.entry(heading.id.clone()).or_insert_with(|| Chunk {
                id: heading.id.clone(),
                title: String::new(),
                summary: String::new(),
                source: Some(heading.place.path.clone()),
                topic: None,
                priority: Priority::Should,
                index_entry: None,
                heading: None,
                fingerprint: String::new(),
            });
            chunk.heading = Some(heading.place.clone());
            chunk.fingerprint = heading.fingerprint.clone();
            if chunk.title.is_empty() {
                // The heading's file reports its own secrets; elsewhere the title is redacted.
                chunk.title = shown::shown(config, &heading.title, shown::TITLE_CHARS);
            }
        }

        if let Some(src) = &sources.wbs {
            let (items, findings) = parse_wbs(config, &src.path, &src.text);
            model.findings.extend(findings);
            for mut item in items {
                // The WBS reports its own secrets (it is scanned as a file); elsewhere its texts
                // are redacted. Nothing writes these back: `apply` edits the file's own text.
                item.title = shown::shown(config, &item.title, shown::TITLE_CHARS);
                for criterion in &mut item.acceptance_criteria {
                    *criterion = shown::shown(config, criterion, shown::TEXT_CHARS);
                }
                match model.work.get(&item.id) {
                    Some(first) => duplicates
                        .entry(item.id.clone())
                        .or_insert_with(|| vec![first.place.clone()])
                        .push(item.place.clone()),
                    None => {
                        model.work.insert(item.id.clone(), item);
                    }
                }
            }
        }

        if let Some(src) = &sources.queue {
            let (events, findings) = parse_queue(&src.path, &src.text);
            model.findings.extend(findings);
            for event in &events {
                model.status.insert(event.id.clone(), event.status);
            }
            model.queue = events;
        }

        if let Some(src) = &sources.crosswalk {
            let (mapping, findings) = parse_crosswalk(&src.path, &src.text);
            model.findings.extend(findings);
            model.crosswalk = mapping;
        }

        if let Some(src) = &sources.access {
            let (checks, findings) = parse_access(&src.path, &src.text);
            model.findings.extend(findings);
            model.access = checks.into_iter().map(|c| (c.name.clone(), c)).collect();
        }
        if let Some(src) = &sources.owner_questions {
            let (questions, findings) = parse_questions(&src.path, &src.text);
            model.findings.extend(findings);
            model.questions = questions;
        }
        if let Some(src) = &sources.pull_requests {
            let (records, findings) = parse_pull_requests(&src.path, &src.text);
            model.findings.extend(findings);
            model.pull_requests = records;
        }
        if let Some(src) = &sources.trace_lock {
            let (reviewed, findings) = parse_trace_lock(&src.path, &src.text);
            model.findings.extend(findings);
            model.reviewed = reviewed;
        }

        for src in &sources.locks {
            let (lock, findings) = read_lock(&src.path, &src.text);
            model.locks.extend(lock);
            model.findings.extend(findings);
        }
        model.locks.sort_by(|a, b| a.agent.cmp(&b.agent));

        for (id, places) in duplicates {
            for (n, place) in places.iter().enumerate() {
                let others: Vec<String> = places
                    .iter()
                    .enumerate()
                    .filter(|(m, _)| *m != n)
                    .map(|(_, p)| format!("{}:{}", p.path, p.span.start.line + 1))
                    .collect();
                let message = format!(
                    "{id} is defined more than once: also at {}. Give one definition a new ID or delete the duplicate; until then references to {id} are ambiguous.",
                    others.join(", ")
                );
                model
                    .findings
                    .push(Finding::new(Code::DuplicateId, &place.path, place.span, message).with_id(&id));
            }
        }

        model.scopes = ScopeIndex::new(model.work.values());
        model.check_references(config, sources);
        model
    }

    /// Ops files that name IDs that do not exist.
    fn check_references(&mut self, config: &Config, sources: &Sources) {
        let mut findings = Vec::new();
        // "Did you mean" searches every known ID: once per distinct unknown ID.
        let mut hints: BTreeMap<String, String> = BTreeMap::new();
        for item in self.work.values() {
            for (chunk_id, span) in &item.blueprint_ids {
                if !self.chunks.contains_key(chunk_id) {
                    findings.push(self.unknown_reference(
                        config,
                        &mut hints,
                        &item.place.path,
                        *span,
                        chunk_id,
                        &format!("work item {} lists blueprint id", item.id),
                    ));
                }
            }
            for (dep, span) in &item.depends_on {
                if !self.work.contains_key(dep) {
                    findings.push(self.unknown_reference(
                        config,
                        &mut hints,
                        &item.place.path,
                        *span,
                        dep,
                        &format!("work item {} depends on", item.id),
                    ));
                }
            }
        }
        if let Some(src) = &sources.queue {
            for event in &self.queue {
                if !self.work.contains_key(&event.id) {
                    findings.push(self.unknown_reference(
                        config,
                        &mut hints,
                        &src.path,
                        event.id_span,
                        &event.id,
                        "the queue has an event for",
                    ));
                }
            }
        }
        for lock in &self.locks {
            if !self.work.contains_key(&lock.task_id) {
                findings.push(self.unknown_reference(
                    config,
                    &mut hints,
                    &lock.path,
                    lock.task_span,
                    &lock.task_id,
                    &format!("the lock of {} is for task", lock.agent),
                ));
            }
        }
        self.findings.extend(findings);
    }

    fn unknown_reference(
        &self,
        config: &Config,
        hints: &mut BTreeMap<String, String>,
        path: &str,
        span: Span,
        id: &str,
        context: &str,
    ) -> Finding {
        let hint = hints.entry(id.to_string()).or_insert_with(|| {
            let suggestions = self.did_you_mean(config, id);
            if suggestions.is_empty() {
                String::new()
            } else {
                format!(" Did you mean {}?", suggestions.join(" or "))
            }
        });
        let kind = match config.ids.kind_of(id) {
            Some(IdKind::Work) => "work item in the WBS",
            _ => "chunk in the blueprint index or a chunk heading",
        };
        Finding::new(
            Code::UnknownReference,
            path,
            span,
            format!("{context} {id}, but no {kind} has that ID.{hint} Correct the ID or create the missing entry."),
        )
        .with_id(id)
    }

    /// Known IDs near `id` (same family, small edit distance).
    pub fn did_you_mean(&self, config: &Config, id: &str) -> Vec<String> {
        let nearest = match config.ids.kind_of(id) {
            Some(IdKind::Work) => crate::ids::nearest(id, self.work.keys().map(String::as_str), 3),
            _ => crate::ids::nearest(id, self.chunks.keys().map(String::as_str), 3),
        };
        nearest.into_iter().map(str::to_string).collect()
    }

    pub fn is_known(&self, id: &str) -> bool {
        self.chunks.contains_key(id) || self.work.contains_key(id)
    }

    pub fn title_of(&self, id: &str) -> Option<&str> {
        self.chunks.get(id).map(|c| c.title.as_str()).or_else(|| self.work.get(id).map(|w| w.title.as_str()))
    }

    pub fn status_of(&self, id: &str) -> Status {
        self.status.get(id).copied().unwrap_or(Status::Todo)
    }

    pub fn lock_for_task(&self, id: &str) -> Option<&Lock> {
        self.locks.iter().find(|l| l.task_id == id)
    }

    /// The owner's questions about work item `id` that are still pending: while one is, the
    /// item is not dispatched and does not become done.
    pub fn pending_questions<'m>(
        &'m self,
        id: &'m str,
    ) -> impl Iterator<Item = &'m crate::formats::OwnerQuestion> + 'm {
        self.questions.iter().filter(move |q| {
            q.status == crate::formats::QuestionStatus::Pending && q.wbs.iter().any(|w| w == id)
        })
    }

    /// The answered questions about work item `id`, oldest first.
    pub fn answered_questions<'m>(
        &'m self,
        id: &'m str,
    ) -> impl Iterator<Item = &'m crate::formats::OwnerQuestion> + 'm {
        self.questions.iter().filter(move |q| {
            q.status == crate::formats::QuestionStatus::Answered && q.wbs.iter().any(|w| w == id)
        })
    }

    /// Work items that list `chunk_id`.
    pub fn work_for_chunk<'m>(&'m self, chunk_id: &'m str) -> impl Iterator<Item = &'m WorkItem> + 'm {
        self.work.values().filter(move |w| w.blueprint_ids.iter().any(|(c, _)| c == chunk_id))
    }
}

/// The work items' `scope_paths`, compiled once.
#[derive(Debug, Clone, Default)]
pub struct ScopeIndex {
    set: globset::GlobSet,
    owners: Vec<String>,
}

impl ScopeIndex {
    fn new<'w>(items: impl Iterator<Item = &'w WorkItem>) -> ScopeIndex {
        let mut builder = globset::GlobSetBuilder::new();
        let mut owners = Vec::new();
        for item in items {
            for glob in &item.scope_paths {
                // Invalid globs were reported by the WBS loader.
                if let Ok(glob) = crate::config::compile_glob(glob) {
                    builder.add(glob);
                    owners.push(item.id.clone());
                }
            }
        }
        ScopeIndex { set: builder.build().unwrap_or_else(|_| globset::GlobSet::empty()), owners }
    }

    /// The work items whose scope includes `path`, without repeats.
    pub fn owners_of(&self, path: &str) -> Vec<&str> {
        let mut out: Vec<&str> =
            self.set.matches(path).into_iter().map(|i| self.owners[i].as_str()).collect();
        out.dedup();
        out
    }

    pub fn maps(&self, path: &str) -> bool {
        self.set.is_match(path)
    }
}

/// Loader findings for an ops file's text alone (e.g. an unsaved editor buffer), or `None`
/// when `path` is not an ops file. Cross-file checks need the whole model and are left out.
pub fn ops_file_findings(config: &Config, path: &str, text: &str) -> Option<Vec<Finding>> {
    let p = &config.paths;
    let findings = if path == p.blueprint_index {
        parse_index(config, path, text).1
    } else if path == p.wbs {
        parse_wbs(config, path, text).1
    } else if path == p.queue {
        parse_queue(path, text).1
    } else if path == p.crosswalk {
        parse_crosswalk(path, text).1
    } else if path == p.access_status {
        parse_access(path, text).1
    } else if path == p.owner_questions {
        parse_questions(path, text).1
    } else if path == p.pull_requests {
        parse_pull_requests(path, text).1
    } else if crate::config::is_under(path, &p.locks_dir) && path.ends_with(".lock") {
        read_lock(path, text).1
    } else {
        return None;
    };
    Some(findings)
}
