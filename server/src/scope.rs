//! Scope rules, pure: which lock covers a path, what an edit outside the active agent's lock
//! earns, whether a set of changes stays inside a lock, and which locks are stale.

use globset::GlobSet;

use crate::config::Config;
use crate::findings::{Code, Finding};
use crate::model::{Lock, Model};
use crate::text::Span;
use crate::time::{human_age, parse_rfc3339};

pub fn scope_set(globs: &[String]) -> GlobSet {
    crate::config::build_globset(globs).unwrap_or_else(|_| GlobSet::empty())
}

pub fn lock_covers(lock: &Lock, path: &str) -> bool {
    scope_set(&lock.scope_paths).is_match(path)
}

/// Files outside every scope that a run may change: the ones Concord itself manages (locks,
/// queue, progress log, model decisions, the tools manifest, reviews, the crosswalk) and the
/// agent's run reports.
pub fn always_allowed(config: &Config, path: &str) -> bool {
    let p = &config.paths;
    [&p.runs_dir, &p.reviews_dir, &p.locks_dir].iter().any(|dir| crate::config::is_under(path, dir))
        || [&p.queue, &p.progress, &p.model_decisions, &p.tools_manifest, &p.crosswalk]
            .iter()
            .any(|f| path == f.as_str())
}

/// The owner's files (questions and their rendering, plan proposals): an agent's run may never
/// change them, but the owner's own uncommitted edits there never hold up a dispatch.
pub fn owners_file(config: &Config, path: &str) -> bool {
    let p = &config.paths;
    path == p.owner_questions
        || path == p.owner_questions_md
        || crate::config::is_under(path, &p.proposals_dir)
}

fn age_of(lock: &Lock, now: i64) -> Option<i64> {
    parse_rfc3339(&lock.acquired_at).map(|t| now - t)
}

/// A lock held by `holder`, described for messages: "AGENT-2 (task WBS-012, since …, 3h 2m ago)".
pub fn describe(lock: &Lock, now: i64) -> String {
    let age = age_of(lock, now).map(|a| format!(", {} ago", human_age(a))).unwrap_or_default();
    format!("{} (task {}, since {}{age})", lock.agent, lock.task_id, lock.acquired_at)
}

/// What editing `path` means for `agent` (at `line`, the first changed line). Written for
/// an AI agent reading lint output as much as for a person.
pub fn edit_findings(
    config: &Config,
    model: &Model,
    agent: &str,
    path: &str,
    line: u32,
    now: i64,
) -> Vec<Finding> {
    let span = Span::line_start(line);
    let mut out = Vec::new();
    if always_allowed(config, path) {
        return out;
    }
    let own = model.locks.iter().find(|l| l.agent == agent);
    for other in model.locks.iter().filter(|l| l.agent != agent && lock_covers(l, path)) {
        out.push(Finding::new(
            Code::LockedByOther,
            path,
            span,
            format!(
                "{path} is locked by {}. You ({agent}) must not change it: revert this edit now and leave the file alone until that lock is released. If your task needs this file, stop and hand the task back with a note saying so.",
                describe(other, now)
            ),
        ).with_id(&other.task_id));
    }
    match own {
        Some(lock) if !lock_covers(lock, path) => out.push(
            Finding::new(
                Code::OutsideScope,
                path,
                span,
                format!(
                    "{path} is outside your lock for task {}: you ({agent}) may only change files matching {}. Revert this edit or hand the task back; do not widen the scope yourself.",
                    lock.task_id,
                    lock.scope_paths.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", ")
                ),
            )
            .with_id(&lock.task_id),
        ),
        None if out.is_empty() => out.push(Finding::new(
            Code::OutsideScope,
            path,
            span,
            format!(
                "You ({agent}) hold no lock, so no file is in your scope. Revert this edit, then take the lock for your task first: `concord lock acquire --agent {agent} --task <WBS-ID>`."
            ),
        )),
        _ => {}
    }
    out
}

/// Locks older than `locks.stale_after`, shown on the lock file.
pub fn stale_lock_findings(config: &Config, model: &Model, now: i64) -> Vec<Finding> {
    let limit = config.stale_lock_after_secs as i64;
    let limit_text = duration_text(config.stale_lock_after_secs);
    model
        .locks
        .iter()
        .filter_map(|lock| {
            let age = age_of(lock, now)?;
            (age > limit).then(|| {
                Finding::new(
                    Code::StaleLock,
                    &lock.path,
                    Span::default(),
                    // No "… ago" here: the message stays the same while the lock stays stale.
                    format!(
                        "The lock of {} (task {}, since {}) is stale: older than {limit_text}. If the agent is gone, run `concord lock sweep --older-than {limit_text}` (or `concord lock release --agent {}`) and put {} back in the queue; otherwise ask it to finish or release.",
                        lock.agent, lock.task_id, lock.acquired_at, lock.agent, lock.task_id
                    ),
                )
                .with_id(&lock.task_id)
            })
        })
        .collect()
}

/// When the next lock that is not stale yet becomes stale (seconds since the epoch): a long-lived
/// reader re-checks then instead of polling.
pub fn next_stale_at(config: &Config, model: &Model, now: i64) -> Option<i64> {
    let limit = config.stale_lock_after_secs as i64;
    model
        .locks
        .iter()
        .filter_map(|lock| Some(parse_rfc3339(&lock.acquired_at)?.saturating_add(limit).saturating_add(1)))
        .filter(|at| *at > now)
        .min()
}

/// One changed file and how many lines it gained and lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub added: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeReport {
    pub outside: Vec<String>,
    /// Files inside another agent's lock, with that lock's description.
    pub locked_by_other: Vec<(String, String)>,
    pub budget: Vec<String>,
}

impl ScopeReport {
    pub fn is_clean(&self) -> bool {
        self.outside.is_empty() && self.locked_by_other.is_empty() && self.budget.is_empty()
    }
}

/// Check an agent's changes against its lock and its task's change budget.
pub fn check_changes(
    config: &Config,
    model: &Model,
    lock: &Lock,
    changes: &[Change],
    now: i64,
) -> ScopeReport {
    let own = scope_set(&lock.scope_paths);
    let others: Vec<(GlobSet, &Lock)> = model
        .locks
        .iter()
        .filter(|l| l.agent != lock.agent)
        .map(|l| (scope_set(&l.scope_paths), l))
        .collect();
    let mut report = ScopeReport::default();
    let changes: Vec<&Change> = changes.iter().filter(|c| !always_allowed(config, &c.path)).collect();
    for change in &changes {
        if let Some((_, other)) = others.iter().find(|(set, _)| set.is_match(&change.path)) {
            report.locked_by_other.push((change.path.clone(), describe(other, now)));
        } else if !own.is_match(&change.path) {
            report.outside.push(change.path.clone());
        }
    }
    if let Some(budget) = model.work.get(&lock.task_id).and_then(|w| w.change_budget) {
        let (files, lines) = budget_use(config, &changes);
        if let Some(max) = budget.max_files.filter(|max| files > *max) {
            report.budget.push(format!("{files} files changed, the budget of {} is {max}", lock.task_id));
        }
        if let Some(max) = budget.max_lines.filter(|max| lines > *max) {
            report.budget.push(format!("{lines} lines changed, the budget of {} is {max}", lock.task_id));
        }
    }
    report
}

/// What a set of changes spends of a change budget: files and lines (added + removed), the
/// files Concord manages left out.
pub fn budget_use<C: std::borrow::Borrow<Change>>(config: &Config, changes: &[C]) -> (u64, u64) {
    let counted = changes.iter().map(|c| c.borrow()).filter(|c| !always_allowed(config, &c.path));
    counted.fold((0, 0), |(files, lines), c| (files + 1, lines + c.added + c.removed))
}

/// A duration as `concord.toml` and `--older-than` write it: `7d`, `24h`, `90m`, `45s`.
pub fn duration_text(secs: u64) -> String {
    match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
