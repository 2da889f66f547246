//! An error that stops the loop and would stop it again (a reviewer that is unreachable, a key
//! refused) is recorded once, as a work item a person must clear, not on every iteration.

use serde_json::json;

use crate::model::Status;
use crate::ops::journal::{self, Plan};
use crate::ops::queue::Event;
use crate::workspace::Workspace;

/// The words of an error that stay the same when it happens again: its first line, without
/// numbers that change from call to call (times, durations), at most 100 characters.
pub fn signature(error: &str) -> String {
    let first = error.lines().next().unwrap_or("").trim();
    let mut out = String::new();
    let mut chars = first.chars().peekable();
    while let Some(c) = chars.next() {
        // HTTP statuses stay (`401`); longer or fractional numbers (times, sizes) do not.
        if c.is_ascii_digit() {
            let mut number = String::from(c);
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '.') {
                number.push(d);
                chars.next();
            }
            out.push_str(if number.len() == 3 && !number.contains('.') { &number } else { "N" });
        } else {
            out.push(c);
        }
    }
    out.chars().take(100).collect()
}

/// Record `title` (about `about`, a work item) as a blocked work item, unless an item of that
/// title is in the WBS already. Returns the new item's ID, or `None` when it was known.
pub fn record_once(ws: &Workspace, about: &str, title: &str, detail: &str) -> Result<Option<String>, String> {
    if ws.model.work.values().any(|w| w.title == title) {
        return Ok(None);
    }
    let Some(item) = ws.model.work.get(about) else { return Ok(None) };
    let base = item.id.trim_end_matches(|c: char| c.is_ascii_uppercase());
    let Some(id) = ('A'..='Z')
        .rev()
        .map(|c| format!("{base}{c}"))
        .find(|id| !ws.model.work.contains_key(id) && ws.config.ids.is_id(id))
    else {
        return Err(format!("{base} has no free letter left for the incident \"{title}\""));
    };
    let incident = json!({
        "id": id, "title": title, "phase": item.phase,
        "blueprint_ids": [],
        "scope_paths": ["concord.toml"],
        "acceptance_criteria": [format!("The cause is fixed: {detail}")],
        "test_commands": [],
        "risk_level": "low", "autopilot_mode": "disabled",
    });
    let at = crate::time::format_rfc3339(crate::time::now_secs());
    let reason = format!("recorded by the autopilot: {detail}");
    let plan = Plan {
        key: format!("incident {id}"),
        followups: vec![incident],
        queue: vec![Event::new(&id, Status::Blocked, "autopilot", &reason).line(&at)],
        progress: vec![format!("- {at} {id} recorded (blocked): {title}")],
        release: None,
        message: format!("recorded {id}: {title}"),
    };
    journal::run(&ws.root, &ws.config, &plan)?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_error_has_one_signature() {
        let a = signature(
            "primary decider failed: http://127.0.0.1:40123/v1/chat/completions: HTTP 401: bad key\nmore",
        );
        let b = signature(
            "primary decider failed: http://127.0.0.1:40999/v1/chat/completions: HTTP 401: bad key",
        );
        assert_eq!(a, b);
        assert!(a.contains("401"), "{a}");
        assert_ne!(a, signature("primary decider failed: http://127.0.0.1:1/v1: HTTP 500: down"));
        assert_eq!(signature("took 12.5 s"), "took N s");
    }
}
