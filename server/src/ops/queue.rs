//! The queue's state machine and its append-only writer.
//!
//! `todo → in_progress → review → done`, with `awaiting_approval` between review and done for
//! items that need a person (high or critical risk, or `autopilot_mode = review_only`),
//! `awaiting_checks` for accepted work in a pull request until its required checks pass, `blocked`
//! from anywhere, and the ways back (`in_progress → todo` when a run fails, `review → todo` for
//! rework, `blocked → todo`). Every event records who, when and why. Events are appended whole,
//! with one write on a file opened for appending: earlier lines are never rewritten or lost.

use std::path::Path;

use serde_json::Value;

use crate::model::{Autopilot, Risk, Status, WorkItem};

/// Whether `from → to` is allowed, and if not, why.
pub fn check_transition(item: &WorkItem, from: Status, to: Status) -> Result<(), String> {
    use Status::*;
    let needs_person =
        matches!(item.risk, Risk::High | Risk::Critical) || item.autopilot == Autopilot::ReviewOnly;
    let allowed = match (from, to) {
        (_, Blocked) => from != Blocked,
        (Blocked, Todo) => true,
        (Todo, InProgress) => true,
        (InProgress, Todo | Review) => true,
        (Review, Todo | AwaitingApproval) => true,
        // Accepted work in a pull request waits there for its required checks.
        (Review, AwaitingChecks) => !needs_person,
        (AwaitingChecks, Done | Todo) => true,
        (Review, Done) => !needs_person,
        (AwaitingApproval, Done | Todo) => true,
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    let why = match (from, to) {
        (Review, Done) => format!(
            "{} needs a person's approval (risk {}, autopilot {}): it goes to awaiting_approval, then `concord approve {}`",
            item.id,
            item.risk.as_str(),
            item.autopilot.as_str(),
            item.id
        ),
        (_, Done) => format!("{} can only become done from review (after its gates passed) or awaiting_approval", item.id),
        (Done, _) => format!("{} is done; only `blocked` can follow (reopen it by blocking, then moving it to todo)", item.id),
        _ => format!("{} cannot go from {} to {}", item.id, from.as_str(), to.as_str()),
    };
    Err(why)
}

/// One queue event to write; [`Event::line`] gives its line in the queue format
/// ([`crate::formats::QueueEvent`]).
pub struct Event<'a> {
    pub id: &'a str,
    pub status: Status,
    pub by: &'a str,
    pub reason: &'a str,
    pub attempt: Option<u32>,
    /// The dispatch run the event belongs to.
    pub run: Option<&'a str>,
    /// Where a dispatched run's process lives, so `concord requeue` can tell a dead run from a
    /// live one.
    pub host: Option<&'a str>,
    pub pid: Option<u32>,
    /// The review an `apply` carried out.
    pub review: Option<&'a str>,
}

impl<'a> Event<'a> {
    pub fn new(id: &'a str, status: Status, by: &'a str, reason: &'a str) -> Self {
        Event { id, status, by, reason, attempt: None, run: None, host: None, pid: None, review: None }
    }

    /// The event's line, at time `at`.
    pub fn line(&self, at: &str) -> String {
        let record = crate::formats::QueueEvent {
            id: self.id.to_string(),
            status: self.status,
            at: at.to_string(),
            by: self.by.to_string(),
            reason: self.reason.to_string(),
            attempt: self.attempt,
            run: self.run.map(str::to_string),
            host: self.host.map(str::to_string),
            pid: self.pid,
            review: self.review.map(str::to_string),
            extra: serde_json::Map::new(),
        };
        serde_json::to_string(&record).expect("an event serializes")
    }
}

/// Append one event as one whole line.
pub fn append(path: &Path, event: &Event) -> std::io::Result<()> {
    append_line(path, &event.line(&crate::time::format_rfc3339(crate::time::now_secs())))
}

/// Append one whole line, scrubbed (the queue and the decision log are committed, append-only
/// files, so a secret written there could never be taken back); see `fsutil::append_line`:
/// never through a link, only to a regular file, a torn last line closed off first.
pub fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    crate::fsutil::append_line(path, &super::scrub::text(line))
}

/// A queue larger than this is not read for one item's last event (the loader reports it).
const QUEUE_READ_CAP: u64 = 256 * 1024 * 1024;

/// The last event of `id` in the queue file as written, with every field (the run, the host
/// and process that started it); read fresh, not from a loaded workspace.
pub fn last_event(path: &Path, id: &str) -> Option<Value> {
    let bytes = crate::fsutil::read_regular(path, QUEUE_READ_CAP).ok()?;
    String::from_utf8_lossy(&bytes)
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("id").and_then(Value::as_str) == Some(id))
}

/// The status of `id` according to the queue file now (`todo` when it has no event).
pub fn current_status(path: &Path, id: &str) -> Status {
    last_event(path, id)
        .and_then(|v| v.get("status").and_then(Value::as_str).and_then(Status::parse))
        .unwrap_or(Status::Todo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn item(risk: &str, mode: &str) -> WorkItem {
        let text = format!(
            r#"[{{"id": "WBS-001", "title": "t", "risk_level": "{risk}", "autopilot_mode": "{mode}"}}]"#
        );
        crate::model::parse_wbs(&Config::default(), "ops/wbs.json", &text).0.remove(0)
    }

    #[test]
    fn transitions() {
        use Status::*;
        let low = item("low", "full");
        let high = item("high", "full");
        let gated = item("low", "review_only");
        let table: &[(&WorkItem, Status, Status, bool)] = &[
            (&low, Todo, InProgress, true),
            (&low, InProgress, Review, true),
            (&low, Review, Done, true),
            (&high, Review, Done, false),
            (&gated, Review, Done, false),
            (&high, Review, AwaitingApproval, true),
            (&high, AwaitingApproval, Done, true),
            (&low, Review, AwaitingChecks, true),
            (&high, Review, AwaitingChecks, false),
            (&low, AwaitingChecks, Done, true),
            (&low, AwaitingChecks, Todo, true),
            (&low, Todo, AwaitingChecks, false),
            (&low, Todo, Done, false),
            (&low, InProgress, Done, false),
            (&low, Done, Todo, false),
            (&low, Done, Blocked, true),
            (&low, Blocked, Blocked, false),
            (&low, Blocked, Todo, true),
            (&low, Todo, Review, false),
        ];
        for (item, from, to, ok) in table {
            assert_eq!(
                check_transition(item, *from, *to).is_ok(),
                *ok,
                "{} {from:?} → {to:?}",
                item.risk.as_str()
            );
        }
        assert!(check_transition(&high, Review, Done).unwrap_err().contains("concord approve WBS-001"));
    }

    #[test]
    fn appending_after_a_torn_line_keeps_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.jsonl");
        std::fs::write(&path, "{\"id\":\"WBS-001\",\"status\":\"todo\"}\n{\"id\":\"WBS-0").unwrap();
        let event = Event { attempt: Some(1), ..Event::new("WBS-001", Status::InProgress, "t", "r") };
        append(&path, &event).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "{\"id\":\"WBS-0");
        assert!(lines[2].starts_with("{\"id\":\"WBS-001\",\"status\":\"in_progress\""));
    }
}
