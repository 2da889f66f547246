//! `concord health`: green, yellow or red for the agent loop, and why, in words an owner who is
//! not an engineer acts on. The level comes from four signals: the recent runs (the queue), the
//! recent reviews (docs/reviews), stale locks, and the autopilot's last smoke check. [`evaluate`]
//! is pure (inputs in, level and reasons out); [`gather`] reads the workspace for it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::HealthSection;
use crate::model::{Lock, QueueEvent, Status};
use crate::workspace::Workspace;

pub use crate::formats::{
    Health, HealthLevel as Level, HealthReason as Reason, HealthSignal as Signal, RunTally, SmokeCheck,
};

/// Where the autopilot records its last smoke check (workspace-relative; local, not committed).
pub const SMOKE_FILE: &str = ".concord/autopilot/smoke.json";

/// A finished run, as the queue tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The run's ID; `None` when its `in_progress` event names none (written by hand or by an
    /// older dispatcher).
    pub run: Option<String>,
    /// 1-based line of the queue where it started.
    pub line: u32,
    pub item: String,
    /// Why it failed (the queue event's reason); `None` when it succeeded.
    pub failure: Option<String>,
}

/// One review, as its decision and gates files tell it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSeen {
    /// The decision file, workspace-relative.
    pub file: String,
    pub item: String,
    /// What failed when a model reviewer failed and a person must review instead.
    pub reviewer_error: Option<String>,
    /// The failed gates: (name, detail).
    pub failed_gates: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaleLock {
    pub agent: String,
    pub task_id: String,
    /// Seconds since it was taken; `None` when its time does not read.
    pub age_secs: Option<i64>,
}

/// The last smoke check: none recorded, recorded, or a record that does not read.
#[derive(Debug, Clone, PartialEq)]
pub enum Smoke {
    None,
    Recorded(SmokeCheck),
    Unreadable(String),
}

/// Everything the level is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Finished runs, oldest first.
    pub runs: Vec<RunOutcome>,
    /// Reviews, oldest first.
    pub reviews: Vec<ReviewSeen>,
    pub stale_locks: Vec<StaleLock>,
    pub stale_after_secs: u64,
    pub smoke: Smoke,
    /// Review files that could not be read, each with where and why.
    pub unreadable: Vec<String>,
}

/// The health of the workspace's agent loop, now.
pub fn health(ws: &Workspace) -> Health {
    let now = crate::time::now_secs();
    evaluate(&gather(ws, now), &ws.config.health, &crate::time::format_rfc3339(now))
}

/// Read what [`evaluate`] needs: the queue and locks from the model, the reviews and the smoke
/// check from disk.
pub fn gather(ws: &Workspace, now: i64) -> Inputs {
    let (reviews, unreadable) = read_reviews(ws);
    Inputs {
        runs: runs_from_queue(&ws.model.queue),
        reviews,
        stale_locks: stale_locks(&ws.model.locks, now, ws.config.stale_lock_after_secs),
        stale_after_secs: ws.config.stale_lock_after_secs,
        smoke: read_smoke(&ws.root, ws.config.max_file_size),
        unreadable,
    }
}

/// The runs the queue shows finished, oldest first. A run starts with an `in_progress` event
/// (naming the run, as dispatch writes it, or not); the item's next event ends it: `review` (or
/// later) is a success, `todo` or `blocked` a failure (a failed run, or a dead one requeued).
/// A run still going is left out.
pub fn runs_from_queue(events: &[QueueEvent]) -> Vec<RunOutcome> {
    let mut open: BTreeMap<&str, &QueueEvent> = BTreeMap::new();
    let mut out = Vec::new();
    for event in events {
        let started = event.status == Status::InProgress;
        if let Some(start) = open.get(event.id.as_str()).copied() {
            if started && event.run.is_some() && event.run == start.run {
                continue;
            }
            open.remove(event.id.as_str());
            let failure = match event.status {
                Status::Review | Status::AwaitingApproval | Status::AwaitingChecks | Status::Done => None,
                Status::Todo | Status::Blocked => {
                    Some(event.reason.clone().unwrap_or_else(|| "it went back without a reason".into()))
                }
                Status::InProgress => Some("it was started again before it reported a result".into()),
            };
            out.push(RunOutcome {
                run: start.run.clone(),
                line: start.line + 1,
                item: event.id.clone(),
                failure,
            });
        }
        if started {
            open.insert(&event.id, event);
        }
    }
    out
}

pub fn stale_locks(locks: &[Lock], now: i64, limit: u64) -> Vec<StaleLock> {
    locks
        .iter()
        .filter(|l| super::locks::is_older_than(l, now, limit))
        .map(|l| StaleLock {
            agent: l.agent.clone(),
            task_id: l.task_id.clone(),
            age_secs: crate::time::parse_rfc3339(&l.acquired_at).map(|t| now.saturating_sub(t)),
        })
        .collect()
}

/// The level, its reasons and what was looked at. Pure: the same inputs give the same health.
pub fn evaluate(inputs: &Inputs, t: &HealthSection, checked_at: &str) -> Health {
    let mut reasons = Vec::new();
    let mut facts = Vec::new();
    let plural =
        |n: usize, one: &str, many: &str| if n == 1 { one.to_string() } else { format!("{n} {many}") };

    // Runs: the share that failed among the newest finished ones.
    let recent: Vec<&RunOutcome> = inputs.runs.iter().rev().take(t.window).collect();
    let failed: Vec<&&RunOutcome> = recent.iter().filter(|r| r.failure.is_some()).collect();
    let share = |percent: u32| !recent.is_empty() && failed.len() * 100 >= percent as usize * recent.len();
    if recent.is_empty() {
        facts.push("No dispatched run has finished yet.".into());
    } else {
        facts.push(format!(
            "{} of the last {} finished run{} succeeded.",
            recent.len() - failed.len(),
            recent.len(),
            if recent.len() == 1 { "" } else { "s" }
        ));
    }
    let level = if recent.len() >= t.min_runs && share(t.red_failure_percent) {
        Some(Level::Red)
    } else if share(t.yellow_failure_percent) {
        Some(Level::Yellow)
    } else {
        None
    };
    if let (Some(level), Some(newest)) = (level, failed.first()) {
        reasons.push(Reason {
            level,
            signal: Signal::RunFailures,
            text: format!(
                "{} of the last {} runs failed. The newest failure: {} ({}): {}",
                failed.len(),
                recent.len(),
                newest.item,
                match &newest.run {
                    Some(run) => format!("run {run}"),
                    None => format!("started at line {} of the queue", newest.line),
                },
                sentence(newest.failure.as_deref().unwrap_or(""))
            ),
            next: format!(
                "Read what the agent printed ({}) and fix the cause (the agent CLI's set-up, its key, or the task) before dispatching more.",
                match &newest.run {
                    Some(run) => format!("in .concord/runs/{run}/"),
                    None => "its run's logs".to_string(),
                }
            ),
        });
    }

    // Reviews: a reviewer that failed, and the same gates failing twice in a row for one item.
    let window: Vec<&ReviewSeen> = {
        let mut newest: Vec<&ReviewSeen> = inputs.reviews.iter().rev().take(t.window).collect();
        newest.reverse();
        newest
    };
    let errors: Vec<&&ReviewSeen> = window.iter().filter(|r| r.reviewer_error.is_some()).collect();
    if window.is_empty() {
        facts.push("No review is recorded yet.".into());
    } else {
        facts.push(format!(
            "{} in the window; {} a reviewer that failed.",
            plural(window.len(), "1 review", "reviews"),
            match errors.len() {
                0 => "none had".to_string(),
                n => format!("{n} had"),
            }
        ));
    }
    if let Some(last) = window.last().filter(|r| r.reviewer_error.is_some()) {
        reasons.push(Reason {
            level: Level::Red,
            signal: Signal::ReviewerError,
            text: format!(
                "The last review ({}, {}) could not be done by the reviewers: {}",
                last.item,
                last.file,
                sentence(last.reviewer_error.as_deref().unwrap_or(""))
            ),
            next: "Check the reviewers' endpoints, models and API keys ([review] in concord.toml and the key variables), then run `concord review` again. Until then every review stops for a person.".into(),
        });
    } else if let Some(newest) = errors.last() {
        reasons.push(Reason {
            level: Level::Yellow,
            signal: Signal::ReviewerError,
            text: format!(
                "{} of the last {} reviews had a reviewer that failed (the newest: {}, {}).",
                errors.len(),
                window.len(),
                newest.item,
                newest.file
            ),
            next: "Check the reviewers' endpoints and API keys ([review] in concord.toml) before the next review.".into(),
        });
    }
    let mut last_of_item: BTreeMap<&str, &ReviewSeen> = BTreeMap::new();
    let mut repeated: BTreeMap<&str, (&ReviewSeen, &ReviewSeen)> = BTreeMap::new();
    for review in &window {
        if let Some(before) = last_of_item.insert(&review.item, review) {
            let signature = signature(review);
            if !signature.is_empty() && signature == self::signature(before) {
                repeated.insert(&review.item, (before, review));
            }
        }
    }
    for (item, (_, newest)) in &repeated {
        let gates: Vec<String> = newest
            .failed_gates
            .iter()
            .map(|(name, detail)| format!("{name} ({})", one_line(detail)))
            .collect();
        reasons.push(Reason {
            level: Level::Yellow,
            signal: Signal::RepeatedFailure,
            text: format!(
                "{item} failed the same way in two reviews in a row: {}. Another run is unlikely to fix it.",
                gates.join("; ")
            ),
            next: format!(
                "Read {} and fix the cause by hand, or change {item}'s work item (scope, test commands, criteria), before dispatching it again.",
                newest.file.strip_suffix(".json").map_or(newest.file.clone(), |stem| format!("{stem}.md"))
            ),
        });
    }
    for note in &inputs.unreadable {
        facts.push(format!("Not counted: {note}"));
    }

    // Locks held too long: the agent may be gone, and its scope stays closed to the others.
    if inputs.stale_locks.is_empty() {
        facts.push("No lock is stale.".into());
    } else {
        facts.push(format!("{} stale.", plural(inputs.stale_locks.len(), "1 lock is", "locks are")));
    }
    for lock in &inputs.stale_locks {
        reasons.push(Reason {
            level: Level::Yellow,
            signal: Signal::StaleLock,
            text: format!(
                "{}'s lock on {} is {} old (locks go stale after {}); the files in its scope stay closed to every other agent.",
                lock.agent,
                lock.task_id,
                lock.age_secs.map_or("of unknown age, so counted as".to_string(), crate::time::human_age),
                crate::time::human_age(i64::try_from(inputs.stale_after_secs).unwrap_or(i64::MAX))
            ),
            next: format!(
                "If {} is no longer working on {}, run `concord requeue {} --reason \"…\"` (its run died) or `concord lock sweep`.",
                lock.agent, lock.task_id, lock.task_id
            ),
        });
    }

    // The smoke check the autopilot ran last.
    match &inputs.smoke {
        Smoke::None => facts.push("No smoke check is recorded.".into()),
        Smoke::Recorded(smoke) if smoke.passed => {
            facts.push(format!("The last smoke check passed ({}).", smoke.at));
        }
        Smoke::Recorded(smoke) => {
            facts.push(format!("The last smoke check failed ({}).", smoke.at));
            reasons.push(Reason {
                level: Level::Red,
                signal: Signal::SmokeCheck,
                text: if smoke.failed.is_empty() {
                    format!("The last smoke check ({}) failed.", smoke.at)
                } else {
                    format!(
                        "The last smoke check ({}) failed: {}.",
                        smoke.at,
                        smoke.failed.iter().map(|c| format!("`{}`", one_line(c))).collect::<Vec<_>>().join(", ")
                    )
                },
                next: "Run the failed commands yourself and fix what they show; the product itself is broken, so more agent work would build on a broken base.".into(),
            });
        }
        Smoke::Unreadable(why) => reasons.push(Reason {
            level: Level::Yellow,
            signal: Signal::SmokeCheck,
            text: format!("The last smoke check cannot be read: {}", sentence(why)),
            next: format!("Delete {SMOKE_FILE} or run the smoke check again; the autopilot writes it."),
        }),
    }

    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    let level = reasons.first().map_or(Level::Green, |r| r.level);
    let summary = match level {
        Level::Green => "Healthy: the agent loop is working.".to_string(),
        Level::Yellow => format!(
            "Look soon: the loop works, but {} attention.",
            plural(reasons.len(), "1 thing needs", "things need")
        ),
        Level::Red => "Stop: fix what is below before the agent loop runs again.".to_string(),
    };
    Health {
        level,
        checked_at: checked_at.to_string(),
        summary,
        reasons,
        facts,
        runs: RunTally { window: t.window, counted: recent.len(), failed: failed.len() },
        reviews: window.len(),
        stale_locks: inputs.stale_locks.len(),
        smoke: match &inputs.smoke {
            Smoke::Recorded(smoke) => Some(smoke.clone()),
            _ => None,
        },
    }
}

/// What a review failed on: its failed gates and their details, in a stable order.
fn signature(review: &ReviewSeen) -> Vec<(String, String)> {
    let mut gates: Vec<(String, String)> =
        review.failed_gates.iter().map(|(name, detail)| (name.clone(), one_line(detail))).collect();
    gates.sort();
    gates
}

/// Quoted text as the end of a sentence: on one line, with a full stop.
fn sentence(text: &str) -> String {
    let mut line = one_line(text);
    if !line.ends_with(['.', '!', '?']) {
        line.push('.');
    }
    line
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The newest `[health] window` reviews under `paths.reviews_dir`, oldest first, and the files
/// that do not read among the newer ones (older files are never opened: a long-lived project's
/// thousands of reviews cost one directory listing).
fn read_reviews(ws: &Workspace) -> (Vec<ReviewSeen>, Vec<String>) {
    let dir_rel = &ws.config.paths.reviews_dir;
    let Ok(entries) = std::fs::read_dir(ws.root.join(dir_rel)) else { return (Vec::new(), Vec::new()) };
    let mut files: Vec<(String, String)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let stem = name.strip_suffix(".json").filter(|s| !s.ends_with(".gates"))?.to_string();
            let time = e.metadata().ok()?.modified().ok()?;
            Some((review_time(&stem, time), name))
        })
        .collect();
    files.sort();
    let mut reviews = Vec::new();
    let mut unreadable = Vec::new();
    // Read as the type asked for; what does not read is said with its line and column.
    fn read<T: serde::de::DeserializeOwned>(ws: &Workspace, rel: &str) -> Result<Option<T>, String> {
        match crate::fsutil::read_text_in_workspace(&ws.root, rel, ws.config.max_file_size) {
            Ok(None) => Ok(None),
            Ok(Some(text)) => {
                serde_json::from_str(&text).map(Some).map_err(|e| format!("{rel}: {}", json_error(&e)))
            }
            Err(e) => Err(format!("{rel}: {e}")),
        }
    }
    for (_, name) in files.into_iter().rev() {
        if reviews.len() == ws.config.health.window {
            break;
        }
        let rel = format!("{dir_rel}/{name}");
        let decision: serde_json::Value = match read(ws, &rel) {
            Ok(Some(decision)) => decision,
            Ok(None) => continue,
            Err(why) => {
                unreadable.push(why);
                continue;
            }
        };
        let (Some(item), Some(verdict)) = (decision["wbs_id"].as_str(), decision["decision"].as_str()) else {
            unreadable.push(format!("{rel}: not a review decision (no `wbs_id` and `decision`)"));
            continue;
        };
        let gates_rel = format!("{dir_rel}/{}.gates.json", name.trim_end_matches(".json"));
        let gates: Option<crate::formats::GatesFile> = match read(ws, &gates_rel) {
            Ok(gates) => gates,
            Err(why) => {
                unreadable.push(why);
                None
            }
        };
        let summary = decision["summary"].as_str().unwrap_or("");
        // A review written before the gates file recorded reviewer errors says so in its summary.
        let legacy_error = (verdict == "needs_human"
            && summary.starts_with("A person must review this run: ")
            && (summary.contains(") failed twice: ") || summary.contains("the tie-breaker failed: ")))
        .then(|| summary.trim_start_matches("A person must review this run: ").to_string());
        reviews.push(ReviewSeen {
            file: rel,
            item: item.to_string(),
            reviewer_error: gates.as_ref().and_then(|g| g.reviewer_error.clone()).or(legacy_error),
            failed_gates: gates
                .into_iter()
                .flat_map(|g| g.gates)
                .filter(|g| !g.passed)
                .map(|g| (g.name, g.detail))
                .collect(),
        });
    }
    reviews.reverse();
    unreadable.reverse();
    (reviews, unreadable)
}

/// The time a review was written: from its name (`<run>-<YYYYMMDDTHHMMSSZ>`, as review names
/// them), else the file's modification time in the same form, so the two sort together.
fn review_time(stem: &str, modified: std::time::SystemTime) -> String {
    let stamp = stem.rsplit('-').next().unwrap_or("");
    let is_stamp = stamp.len() == 16
        && stamp.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'T',
            15 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if is_stamp {
        return stamp.to_string();
    }
    let secs = modified.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    crate::time::format_rfc3339(secs).replace([':', '-'], "")
}

fn json_error(e: &serde_json::Error) -> String {
    format!("line {} column {}: {e}", e.line(), e.column())
}

/// The autopilot's last smoke check, if it recorded one.
pub fn read_smoke(root: &Path, max_size: u64) -> Smoke {
    match crate::fsutil::read_text_in_workspace(root, SMOKE_FILE, max_size) {
        Ok(None) => Smoke::None,
        Err(e) => Smoke::Unreadable(format!("{SMOKE_FILE}: {e}")),
        Ok(Some(text)) => match serde_json::from_str::<SmokeCheck>(&text) {
            Ok(smoke) if crate::time::parse_rfc3339(&smoke.at).is_none() => Smoke::Unreadable(format!(
                "{SMOKE_FILE}: `at` is {:?}, not an RFC 3339 time like 2026-12-05T20:00:00Z",
                smoke.at
            )),
            Ok(smoke) => Smoke::Recorded(smoke),
            Err(e) => Smoke::Unreadable(format!("{SMOKE_FILE}: {} (see docs/formats.md)", json_error(&e))),
        },
    }
}

/// The health as text for a person: the level and its sentence, each reason with what to do,
/// then what was looked at.
pub fn text(h: &Health) -> String {
    let mut out = format!("Health: {}. {}\n", h.level.as_str().to_uppercase(), h.summary);
    if !h.reasons.is_empty() {
        out.push_str("\nWhy:\n");
        for r in &h.reasons {
            out.push_str(&format!("- [{}] {}\n  Next: {}\n", r.level.as_str(), r.text, r.next));
        }
    }
    out.push_str("\nWhat was looked at:\n");
    for fact in &h.facts {
        out.push_str(&format!("- {fact}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(lines: &[&str]) -> Vec<QueueEvent> {
        let (events, findings) = crate::model::parse_queue("ops/queue.jsonl", &lines.join("\n"));
        assert!(findings.is_empty(), "{findings:?}");
        events
    }

    /// A started run and how it ended, as dispatch writes them.
    fn run(item: &str, n: usize, ok: bool) -> [String; 2] {
        let run = format!("{item}-{n}");
        [
            format!(
                r#"{{"id":"{item}","status":"in_progress","run":"{run}","reason":"dispatched run {run}"}}"#
            ),
            if ok {
                format!(
                    r#"{{"id":"{item}","status":"review","run":"{run}","reason":"run {run} succeeded: exit code 0"}}"#
                )
            } else {
                format!(
                    r#"{{"id":"{item}","status":"todo","run":"{run}","reason":"run {run} failed: the agent exited with code 3"}}"#
                )
            },
        ]
    }

    fn runs(outcomes: &[bool]) -> Vec<RunOutcome> {
        let lines: Vec<String> = outcomes
            .iter()
            .enumerate()
            .flat_map(|(i, ok)| run(&format!("WBS-{:03}", i + 1), i, *ok))
            .collect();
        runs_from_queue(&queue(&lines.iter().map(String::as_str).collect::<Vec<_>>()))
    }

    fn review(item: &str, n: usize, error: Option<&str>, failed: &[(&str, &str)]) -> ReviewSeen {
        ReviewSeen {
            file: format!("docs/reviews/{item}-{n}.json"),
            item: item.into(),
            reviewer_error: error.map(str::to_string),
            failed_gates: failed.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        }
    }

    fn inputs() -> Inputs {
        Inputs {
            runs: Vec::new(),
            reviews: Vec::new(),
            stale_locks: Vec::new(),
            stale_after_secs: 86_400,
            smoke: Smoke::None,
            unreadable: Vec::new(),
        }
    }

    fn level_and_signals(inputs: &Inputs) -> (Level, Vec<(Level, Signal)>) {
        let h = evaluate(inputs, &HealthSection::default(), "2026-12-05T20:00:00Z");
        (h.level, h.reasons.iter().map(|r| (r.level, r.signal)).collect())
    }

    #[test]
    fn runs_are_read_from_the_queue_and_only_finished_ones_count() {
        let lines = [
            r#"{"id":"WBS-001","status":"todo"}"#,
            r#"{"id":"WBS-001","status":"in_progress","run":"R1"}"#,
            r#"{"id":"WBS-002","status":"in_progress","run":"R2"}"#,
            r#"{"id":"WBS-001","status":"review","run":"R1","reason":"run R1 succeeded"}"#,
            // Applying the review later is no run of its own.
            r#"{"id":"WBS-001","status":"done"}"#,
            r#"{"id":"WBS-002","status":"todo","reason":"requeued: the machine died"}"#,
            r#"{"id":"WBS-003","status":"in_progress","run":"R3"}"#,
            r#"{"id":"WBS-003","status":"in_progress","run":"R4"}"#,
            r#"{"id":"WBS-004","status":"in_progress","run":"R5"}"#,
            // A run its event does not name (an older dispatcher) counts too.
            r#"{"id":"WBS-005","status":"in_progress","reason":"dispatched"}"#,
            r#"{"id":"WBS-005","status":"todo","reason":"agent exited with code 2"}"#,
        ];
        let runs = runs_from_queue(&queue(&lines));
        let seen: Vec<(Option<&str>, u32, Option<&str>)> =
            runs.iter().map(|r| (r.run.as_deref(), r.line, r.failure.as_deref())).collect();
        assert_eq!(
            seen,
            [
                (Some("R1"), 2, None),
                (Some("R2"), 3, Some("requeued: the machine died")),
                (Some("R3"), 7, Some("it was started again before it reported a result")),
                (None, 10, Some("agent exited with code 2"))
            ]
        );
    }

    #[test]
    fn nothing_recorded_is_green() {
        let h = evaluate(&inputs(), &HealthSection::default(), "t");
        assert_eq!(h.level, Level::Green);
        assert!(h.reasons.is_empty());
        assert!(h.facts.contains(&"No dispatched run has finished yet.".to_string()), "{:?}", h.facts);
    }

    /// (runs, oldest first: true = succeeded) → level.
    #[test]
    fn the_share_of_failed_runs_sets_the_level() {
        let table: &[(&[bool], Level)] = &[
            (&[true, true, true, true], Level::Green),
            // 1 of 4 is 25%: yellow.
            (&[true, true, true, false], Level::Yellow),
            // 2 of 4 is 50%, with the 4 runs red needs.
            (&[true, true, false, false], Level::Red),
            // Every run failed, but 3 runs are too few for red.
            (&[false, false, false], Level::Yellow),
            // 1 of 5 is 20%: under yellow.
            (&[false, true, true, true, true], Level::Green),
            // Only the newest 10 count: the 6 old failures have left the window.
            (
                &[
                    false, false, false, false, false, false, true, true, true, true, true, true, true, true,
                    true, true,
                ],
                Level::Green,
            ),
        ];
        for (outcomes, expected) in table {
            let i = Inputs { runs: runs(outcomes), ..inputs() };
            let h = evaluate(&i, &HealthSection::default(), "t");
            assert_eq!(h.level, *expected, "{outcomes:?}: {:?}", h.reasons);
            if *expected != Level::Green {
                assert_eq!(h.reasons[0].signal, Signal::RunFailures);
                assert!(h.reasons[0].text.contains("the agent exited with code 3"), "{}", h.reasons[0].text);
                assert!(h.reasons[0].next.contains(".concord/runs/"), "{}", h.reasons[0].next);
            }
        }
        let h = evaluate(
            &Inputs { runs: runs(&[true, false, true]), ..inputs() },
            &HealthSection::default(),
            "t",
        );
        assert_eq!((h.runs.counted, h.runs.failed, h.runs.window), (3, 1, 10));
    }

    #[test]
    fn thresholds_come_from_the_configuration() {
        let strict =
            HealthSection { window: 2, min_runs: 2, red_failure_percent: 50, yellow_failure_percent: 10 };
        let i = Inputs { runs: runs(&[false, false, true, false]), ..inputs() };
        let h = evaluate(&i, &strict, "t");
        assert_eq!((h.level, h.runs.counted, h.runs.failed), (Level::Red, 2, 1));
    }

    #[test]
    fn a_reviewer_error_in_the_last_review_is_red_and_earlier_yellow() {
        let failed = review("WBS-001", 1, Some("the primary decider (OpenAI) failed twice: HTTP 500"), &[]);
        let fine = review("WBS-002", 2, None, &[]);
        let last = Inputs { reviews: vec![fine.clone(), failed.clone()], ..inputs() };
        assert_eq!(level_and_signals(&last), (Level::Red, vec![(Level::Red, Signal::ReviewerError)]));
        let h = evaluate(&last, &HealthSection::default(), "t");
        assert!(h.reasons[0].text.contains("HTTP 500"), "{}", h.reasons[0].text);
        let earlier = Inputs { reviews: vec![failed, fine], ..inputs() };
        assert_eq!(
            level_and_signals(&earlier),
            (Level::Yellow, vec![(Level::Yellow, Signal::ReviewerError)])
        );
    }

    #[test]
    fn the_same_failed_gates_twice_in_a_row_for_one_item_is_a_repeated_failure() {
        let tests_fail = [("tests", "failed: `pytest -q` (exit 1)")];
        let other = [("scope", "src/x.py outside the scope")];
        let table: Vec<(Vec<ReviewSeen>, Level)> = vec![
            (
                vec![review("WBS-005", 1, None, &tests_fail), review("WBS-005", 2, None, &tests_fail)],
                Level::Yellow,
            ),
            // Whitespace in the detail does not make it a different failure.
            (
                vec![
                    review("WBS-005", 1, None, &tests_fail),
                    review("WBS-005", 2, None, &[("tests", "failed:  `pytest -q`\n(exit 1)")]),
                ],
                Level::Yellow,
            ),
            // Another item's review between them does not break the pair: consecutive for the item.
            (
                vec![
                    review("WBS-005", 1, None, &tests_fail),
                    review("WBS-006", 2, None, &other),
                    review("WBS-005", 3, None, &tests_fail),
                ],
                Level::Yellow,
            ),
            // A different failure, or the same failure of two items, is not a repetition.
            (vec![review("WBS-005", 1, None, &tests_fail), review("WBS-005", 2, None, &other)], Level::Green),
            (
                vec![review("WBS-005", 1, None, &tests_fail), review("WBS-006", 2, None, &tests_fail)],
                Level::Green,
            ),
            // Passing twice is no failure.
            (vec![review("WBS-005", 1, None, &[]), review("WBS-005", 2, None, &[])], Level::Green),
        ];
        for (reviews, expected) in table {
            let names: Vec<String> = reviews.iter().map(|r| r.file.clone()).collect();
            let (level, signals) = level_and_signals(&Inputs { reviews, ..inputs() });
            assert_eq!(level, expected, "{names:?}");
            if expected == Level::Yellow {
                assert_eq!(signals, [(Level::Yellow, Signal::RepeatedFailure)]);
            }
        }
        let h = evaluate(
            &Inputs {
                reviews: vec![
                    review("WBS-005", 1, None, &tests_fail),
                    review("WBS-005", 2, None, &tests_fail),
                ],
                ..inputs()
            },
            &HealthSection::default(),
            "t",
        );
        assert!(h.reasons[0].text.starts_with("WBS-005 failed the same way"), "{}", h.reasons[0].text);
        assert!(h.reasons[0].next.contains("docs/reviews/WBS-005-2.md"), "{}", h.reasons[0].next);
    }

    #[test]
    fn stale_locks_are_yellow_with_what_to_do() {
        let lock = |agent: &str, at: &str| Lock {
            agent: agent.into(),
            task_id: "WBS-006".into(),
            scope_paths: vec!["src/**".into()],
            acquired_at: at.into(),
            host: None,
            pid: None,
            fencing_token: None,
            base_commit: None,
            path: format!("ops/locks/{agent}.lock"),
            task_span: Default::default(),
        };
        let now = crate::time::parse_rfc3339("2026-12-05T20:00:00Z").unwrap();
        let locks =
            [lock("A1", "2026-12-05T19:00:00Z"), lock("A2", "2026-12-01T20:00:00Z"), lock("A3", "yesterday")];
        let stale = stale_locks(&locks, now, 86_400);
        assert_eq!(stale.iter().map(|s| s.agent.as_str()).collect::<Vec<_>>(), ["A2", "A3"]);
        let h = evaluate(&Inputs { stale_locks: stale, ..inputs() }, &HealthSection::default(), "t");
        assert_eq!(h.level, Level::Yellow);
        assert_eq!(h.stale_locks, 2);
        assert!(h.reasons[0].text.starts_with("A2's lock on WBS-006 is 4d 0h old"), "{}", h.reasons[0].text);
        assert!(h.reasons[0].next.contains("concord lock sweep"));
    }

    #[test]
    fn the_smoke_check_failing_is_red_and_an_unreadable_record_yellow() {
        let smoke = |passed: bool| {
            Smoke::Recorded(SmokeCheck {
                at: "2026-12-05T19:00:00Z".into(),
                passed,
                failed: if passed { vec![] } else { vec!["npm test".into()] },
            })
        };
        assert_eq!(level_and_signals(&Inputs { smoke: smoke(true), ..inputs() }).0, Level::Green);
        let (level, signals) = level_and_signals(&Inputs { smoke: smoke(false), ..inputs() });
        assert_eq!((level, signals), (Level::Red, vec![(Level::Red, Signal::SmokeCheck)]));
        let (level, _) = level_and_signals(&Inputs { smoke: Smoke::Unreadable("bad".into()), ..inputs() });
        assert_eq!(level, Level::Yellow);
    }

    #[test]
    fn red_reasons_come_before_yellow_ones() {
        let i = Inputs {
            runs: runs(&[true, true, true, false]),
            smoke: Smoke::Recorded(SmokeCheck { at: "t".into(), passed: false, failed: vec![] }),
            ..inputs()
        };
        let (level, signals) = level_and_signals(&i);
        assert_eq!(level, Level::Red);
        assert_eq!(signals, [(Level::Red, Signal::SmokeCheck), (Level::Yellow, Signal::RunFailures)]);
    }

    #[test]
    fn the_smoke_record_is_read_with_positioned_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_smoke(dir.path(), 1 << 20), Smoke::None);
        std::fs::create_dir_all(dir.path().join(".concord/autopilot")).unwrap();
        let write = |text: &str| std::fs::write(dir.path().join(SMOKE_FILE), text).unwrap();
        write(r#"{"at": "2026-12-05T20:00:00Z", "passed": false, "failed": ["make smoke"], "took_ms": 3}"#);
        assert_eq!(
            read_smoke(dir.path(), 1 << 20),
            Smoke::Recorded(SmokeCheck {
                at: "2026-12-05T20:00:00Z".into(),
                passed: false,
                failed: vec!["make smoke".into()]
            })
        );
        write("{\"at\": \"2026-12-05T20:00:00Z\",\n \"passed\": \"yes\"}");
        let Smoke::Unreadable(why) = read_smoke(dir.path(), 1 << 20) else { panic!() };
        assert!(why.starts_with(".concord/autopilot/smoke.json: line 2 column"), "{why}");
        write(r#"{"at": "noon", "passed": true}"#);
        let Smoke::Unreadable(why) = read_smoke(dir.path(), 1 << 20) else { panic!() };
        assert!(why.contains("not an RFC 3339 time"), "{why}");
    }
}
