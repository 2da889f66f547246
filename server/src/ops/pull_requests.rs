//! The pull request of each work item (`ops/pull-requests.jsonl`, append-only) and the gate it
//! puts on `done`: while an item has a pull request, it becomes done only when the pull
//! request's required checks are green. Checks that cannot be read are not green.

use std::time::Duration;

use super::github::{self, CheckState, Checks, ChecksState, GitHub};
use crate::formats::PullRequestRecord;
use crate::workspace::Workspace;

/// The limit of each GitHub call made to gate `done`.
const GATE_TIMEOUT: Duration = Duration::from_secs(20);

/// Append `pr` to the record.
pub fn record(ws: &Workspace, pr: &PullRequestRecord) -> Result<(), String> {
    let rel = &ws.config.paths.pull_requests;
    if pr.wbs.trim().is_empty() || pr.branch.trim().is_empty() || pr.number == 0 {
        return Err(format!(
            "{rel}: a pull-request record needs a work item, a branch and a number (got {:?}, {:?}, {})",
            pr.wbs, pr.branch, pr.number
        ));
    }
    let line = serde_json::to_string(pr).map_err(|e| format!("{rel}: {e}"))?;
    let path = crate::fsutil::writable_in_workspace(&ws.root, std::path::Path::new(rel))
        .map_err(|e| format!("cannot write {rel}: {e}"))?;
    super::queue::append_line(&path, &line).map_err(|e| format!("cannot write {rel}: {e}"))
}

/// The current pull request of work item `wbs_id`: its last record in the workspace's model.
pub fn latest_for(ws: &Workspace, wbs_id: &str) -> Option<PullRequestRecord> {
    ws.model.pull_requests.iter().rev().find(|r| r.wbs == wbs_id).cloned()
}

/// What a work item's pull request is opened with.
#[derive(Debug, Clone)]
pub struct Opening<'a> {
    pub wbs: &'a str,
    pub branch: &'a str,
    pub base: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub run: Option<&'a str>,
    pub draft: bool,
}

/// Open (or find already open) the pull request of a work item, put `[github] labels` on it,
/// and record it.
pub fn open_and_record(ws: &Workspace, gh: &GitHub, opening: &Opening) -> Result<PullRequestRecord, String> {
    let pr = github::open_pull_request(
        gh,
        opening.branch,
        opening.base,
        opening.title,
        opening.body,
        opening.draft,
    )?;
    let labels: Vec<&str> = ws.config.github.labels.iter().map(String::as_str).collect();
    github::add_labels(gh, pr.number, &labels)
        .map_err(|e| format!("pull request #{} ({}) is open but unlabelled: {e}", pr.number, pr.url))?;
    let opened = PullRequestRecord {
        wbs: opening.wbs.to_string(),
        branch: opening.branch.to_string(),
        base: opening.base.to_string(),
        number: pr.number,
        url: pr.url,
        head_sha: pr.head_sha,
        run: opening.run.map(str::to_string),
        opened_at: crate::time::format_rfc3339(crate::time::now_secs()),
        draft: pr.draft,
    };
    record(ws, &opened)?;
    Ok(opened)
}

/// The checks that count on `pr`'s head commit (its branch when no commit was recorded), each
/// call limited to `timeout`.
pub fn checks_for(ws: &Workspace, pr: &PullRequestRecord, timeout: Duration) -> Result<Checks, String> {
    let gh = GitHub::from_config(ws)?.with_timeout(timeout);
    let git_ref = if pr.head_sha.is_empty() { &pr.branch } else { &pr.head_sha };
    github::checks(&gh, git_ref, &ws.config.github.required_checks)
}

/// `green`, `pending (waiting: deploy)`, `red (failed: build, lint)`.
pub fn describe(checks: &Checks) -> String {
    let names = |state| checks.named(state).iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
    match checks.state {
        ChecksState::Red => format!("red (failed: {})", names(CheckState::Red)),
        ChecksState::Pending => format!("pending (waiting: {})", names(CheckState::Pending)),
        ChecksState::Green => "green".to_string(),
        ChecksState::None => "none reported".to_string(),
    }
}

/// May work item `wbs_id` become done, as far as its pull request goes? `Ok(None)`: it has no
/// pull request. `Ok(Some(summary))`: the required checks are all green. `Err(why)`: they are
/// red, pending, not reported yet, or cannot be read; `why` names them and the next step.
pub fn checks_gate(ws: &Workspace, wbs_id: &str) -> Result<Option<String>, String> {
    let Some(pr) = latest_for(ws, wbs_id) else { return Ok(None) };
    let at = format!("PR #{} ({})", pr.number, pr.url);
    let checks = checks_for(ws, &pr, GATE_TIMEOUT).map_err(|why| {
        format!("the checks of {at} cannot be read, and unread checks are not green: {why}")
    })?;
    let listed = |state| {
        checks
            .named(state)
            .iter()
            .map(|i| {
                if i.url.is_empty() {
                    format!("{} (not reported)", i.name)
                } else {
                    format!("{} {}", i.name, i.url)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match checks.state {
        ChecksState::Green => Ok(Some(format!(
            "{at}: checks green ({})",
            checks.items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
        ))),
        ChecksState::Red => Err(format!(
            "the checks of {at} are red: failed: {}. Fix the branch {} and push, then try again once they are green",
            listed(CheckState::Red),
            pr.branch
        )),
        ChecksState::Pending => Err(format!(
            "the checks of {at} are pending: {}. Wait until they finish green, then try again",
            listed(CheckState::Pending)
        )),
        ChecksState::None if ws.config.github.allow_no_checks && ws.config.github.required_checks.is_empty() => {
            Ok(Some(format!("{at}: no checks reported, and [github] allow_no_checks is set")))
        }
        ChecksState::None => Err(format!(
            "no checks are reported on {at} (commit {}) yet. Wait for CI to report, then try again (a repository without CI sets [github] allow_no_checks = true)",
            if pr.head_sha.is_empty() { &pr.branch } else { &pr.head_sha }
        )),
    }
}

/// Move every item in `awaiting_checks` whose pull request's required checks all passed to
/// `done` (one whose pull request was never recorded too: no checks can hold it). Red, pending
/// or unreadable checks keep it waiting. Returns a line per item looked at.
pub fn settle(ws: &Workspace) -> Vec<String> {
    let queue = ws.root.join(&ws.config.paths.queue);
    let mut lines = Vec::new();
    for item in ws.model.work.values() {
        if ws.model.status_of(&item.id) != crate::model::Status::AwaitingChecks {
            continue;
        }
        let reason = match checks_gate(ws, &item.id) {
            Ok(Some(summary)) => summary,
            Ok(None) => "no pull request was recorded for it, so no check holds it".to_string(),
            Err(why) => {
                lines.push(format!("{} waits: {why}", item.id));
                continue;
            }
        };
        let event = super::queue::Event::new(&item.id, crate::model::Status::Done, "concord", &reason);
        lines.push(match super::queue::append(&queue, &event) {
            Ok(()) => format!("{}: awaiting_checks → done ({reason})", item.id),
            Err(e) => format!("{}: could not be marked done: {e}", item.id),
        });
    }
    lines
}
