//! `apply` and `approve` as a recorded, resumable sequence.
//!
//! The whole change is planned first (the queue lines with their timestamps, the progress
//! lines, the follow-up work items, the lock to release) and written to a journal,
//! `.concord/journal/<key>.json`; then the steps run in order, and the journal is removed last.
//! Every step first checks whether it is already done (a queue or progress line present
//! exactly, a follow-up ID already in the WBS, the lock already gone), so a run killed at any
//! point is finished by the next `apply` or `approve`, and ends in the state an uninterrupted
//! run gives. A run killed before its journal is written has changed nothing.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;
use crate::fsutil;

pub const JOURNAL_DIR: &str = ".concord/journal";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    /// What the plan is for (`apply docs/reviews/x.json`, `approve WBS-002`).
    pub key: String,
    /// Work items to add at the end of the WBS items array.
    pub followups: Vec<Value>,
    /// Whole lines for the queue, in order.
    pub queue: Vec<String>,
    /// Whole lines for the progress log.
    pub progress: Vec<String>,
    /// The lock to give back: (agent, task).
    pub release: Option<(String, String)>,
    /// What the command prints when it is done.
    pub message: String,
}

impl Plan {
    fn journal_rel(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.key.as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let kind = self.key.split(' ').next().unwrap_or("plan");
        format!("{JOURNAL_DIR}/{kind}-{hex}.json")
    }
}

/// Record the plan, then carry it out. Its lines are scrubbed before the journal is written, so
/// the journal, the queue and the progress log never hold a secret, and a resumed run compares
/// the same lines.
pub fn run(root: &Path, config: &Config, plan: &Plan) -> Result<String, String> {
    let scrub = |lines: &[String]| lines.iter().map(|l| super::scrub::text(l)).collect::<Vec<_>>();
    let plan = &Plan {
        queue: scrub(&plan.queue),
        progress: scrub(&plan.progress),
        message: super::scrub::text(&plan.message),
        ..plan.clone()
    };
    let rel = plan.journal_rel();
    let mut text = serde_json::to_string_pretty(plan).expect("a plan serializes");
    text.push('\n');
    fsutil::write_in_workspace(root, &rel, text.as_bytes())
        .map_err(|e| format!("cannot write the journal {rel}: {e}"))?;
    finish(root, config, plan, &rel)?;
    Ok(plan.message.clone())
}

/// Finish every journal an interrupted run left; returns the plans finished.
pub fn resume_pending(root: &Path, config: &Config) -> Result<Vec<Plan>, String> {
    let Ok(entries) = std::fs::read_dir(root.join(JOURNAL_DIR)) else { return Ok(Vec::new()) };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    names.sort();
    let mut finished = Vec::new();
    for name in names {
        let rel = format!("{JOURNAL_DIR}/{name}");
        let text = fsutil::read_text_in_workspace(root, &rel, config.max_file_size)
            .map_err(|e| format!("{rel} {e}"))?;
        let Some(text) = text else { continue };
        let plan: Plan = serde_json::from_str(&text).map_err(|e| {
            format!("{rel} is not a journal Concord can finish ({e}); look at it, then remove it")
        })?;
        finish(root, config, &plan, &rel)?;
        finished.push(plan);
    }
    Ok(finished)
}

fn finish(root: &Path, config: &Config, plan: &Plan, journal: &str) -> Result<(), String> {
    let paths = &config.paths;
    if !plan.followups.is_empty() {
        add_work_items(root, config, &plan.followups)?;
    }
    append_missing_lines(root, config, &paths.queue, &plan.queue)?;
    append_missing_lines(root, config, &paths.progress, &plan.progress)?;
    if let Some((agent, task)) = &plan.release {
        match super::locks::LockDir::new(root, config).release(agent, Some(task)) {
            // Already given back (or taken again for other work): nothing to do.
            Ok(_) | Err(super::locks::LockError::Invalid(_) | super::locks::LockError::Conflict(_)) => {}
            Err(e) => return Err(format!("cannot release {agent}'s lock: {e}")),
        }
    }
    fsutil::remove_file(&root.join(journal)).map_err(|e| format!("cannot remove the journal {journal}: {e}"))
}

/// Append each of `lines` that the file does not hold yet (as a whole line).
fn append_missing_lines(root: &Path, config: &Config, rel: &str, lines: &[String]) -> Result<(), String> {
    if lines.is_empty() {
        return Ok(());
    }
    let text = fsutil::read_text_in_workspace(root, rel, config.max_file_size)
        .map_err(|e| format!("{rel} {e}"))?
        .unwrap_or_default();
    let present: std::collections::HashSet<&str> = text.lines().collect();
    for line in lines {
        if !present.contains(line.as_str()) {
            fsutil::append_line_in_workspace(root, rel, line)
                .map_err(|e| format!("cannot write {rel}: {e}"))?;
        }
    }
    Ok(())
}

/// Add the work items whose IDs the WBS does not have yet, at the end of its items array.
fn add_work_items(root: &Path, config: &Config, items: &[Value]) -> Result<(), String> {
    let rel = &config.paths.wbs;
    let text = fsutil::read_text_in_workspace(root, rel, config.max_file_size)
        .map_err(|e| format!("{rel} {e}"))?
        .ok_or_else(|| format!("{rel} does not exist, so follow-ups cannot be added"))?;
    let present = work_item_ids(&text).map_err(|e| format!("{rel}: {e}"))?;
    let missing: Vec<&Value> = items
        .iter()
        .filter(|i| i["id"].as_str().is_some_and(|id| !present.iter().any(|p| p == id)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let updated = append_work_items(&text, &missing).map_err(|e| format!("{rel}: {e}"))?;
    fsutil::write_in_workspace(root, rel, updated.as_bytes()).map_err(|e| format!("cannot write {rel}: {e}"))
}

/// The IDs of the WBS's work items, read with the same parser (and the same choice of items
/// array) as the model; a WBS that cannot be read exactly is an error, never guessed at.
pub fn work_item_ids(text: &str) -> Result<Vec<String>, String> {
    let json = crate::json::parse(text, &[]).map_err(|e| syntax_message(text, &e))?;
    let list = items_array(&json)?;
    Ok(list
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.get("id")?.as_str().map(str::to_string))
        .collect())
}

/// The items array: the document itself, or its first `items`, `wbs` or `tasks` member.
pub fn items_array<'j, 't>(json: &'j crate::json::Json<'t>) -> Result<&'j crate::json::Json<'t>, String> {
    let list = if json.as_array().is_some() {
        json
    } else {
        ["items", "wbs", "tasks"]
            .iter()
            .find_map(|key| json.get(key))
            .ok_or("the WBS has no items array (an array, or an object with `items`)")?
    };
    if list.as_array().is_none() {
        return Err(format!("the work items must be an array, found {}", list.type_name()));
    }
    Ok(list)
}

pub fn syntax_message(text: &str, error: &crate::json::SyntaxError) -> String {
    let before = &text[..error.offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    format!(
        "cannot be read exactly (line {line}, column {column}: {}), so Concord does not rewrite it; fix it first",
        error.message
    )
}

/// `text` with `items` (one compact line each) added at the end of its items array; every other
/// byte is kept. The result is parsed again and must hold exactly the old items and the new ones.
pub fn append_work_items(text: &str, items: &[&Value]) -> Result<String, String> {
    let json = crate::json::parse(text, &[]).map_err(|e| syntax_message(text, &e))?;
    let list = items_array(&json)?;
    let elements = list.as_array().unwrap_or_default();
    let rendered: Vec<String> =
        items.iter().map(|i| serde_json::to_string(i).expect("an item serializes")).collect();
    let line_start = |at: usize| text[..at].rfind('\n').map_or(0, |n| n + 1);
    let (at, insertion) = match elements.last() {
        Some(last) => {
            let lead = &text[line_start(last.start)..last.start];
            let separator = if lead.trim().is_empty() { format!(",\n{lead}") } else { ", ".to_string() };
            (last.end, rendered.iter().map(|r| format!("{separator}{r}")).collect::<String>())
        }
        None => {
            let open = &text[line_start(list.start)..list.start];
            let indent: String = open.chars().take_while(|c| c.is_whitespace()).collect();
            let inner = format!("{indent}  ");
            (list.start + 1, format!("\n{inner}{}\n{indent}", rendered.join(&format!(",\n{inner}"))))
        }
    };
    let updated = format!("{}{insertion}{}", &text[..at], &text[at..]);
    let mut expected = work_item_ids(text)?;
    expected.extend(items.iter().filter_map(|i| i["id"].as_str().map(str::to_string)));
    if work_item_ids(&updated)? != expected {
        return Err(
            "adding the follow-ups would not give the expected work items; nothing was written".into()
        );
    }
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn work_items_are_added_at_the_end_and_every_other_byte_is_kept() {
        let item = json!({"id": "WBS-001A", "title": "More"});
        let cases: &[(&str, &str)] = &[
            (
                "{\"items\": [\n  {\"id\": \"WBS-001\"}\n], \"x\": 1}\n",
                "{\"items\": [\n  {\"id\": \"WBS-001\"},\n  {\"id\":\"WBS-001A\",\"title\":\"More\"}\n], \"x\": 1}\n",
            ),
            ("[{\"id\": \"WBS-001\"}]", "[{\"id\": \"WBS-001\"}, {\"id\":\"WBS-001A\",\"title\":\"More\"}]"),
            ("{\"items\": []}", "{\"items\": [\n  {\"id\":\"WBS-001A\",\"title\":\"More\"}\n]}"),
        ];
        for (before, after) in cases {
            assert_eq!(append_work_items(before, &[&item]).unwrap(), *after, "{before}");
        }
    }

    #[test]
    fn a_wbs_that_cannot_be_read_exactly_is_never_rewritten() {
        let item = json!({"id": "WBS-001A"});
        for text in
            ["{\"items\": [{\"id\": \"WBS-001\"}], \"items\": []}", "{\"items\": [", "{\"items\": 5}", "{}"]
        {
            assert!(append_work_items(text, &[&item]).is_err(), "{text}");
        }
        let err = append_work_items("{\"items\": [],\n\"items\": []}", &[&item]).unwrap_err();
        assert!(err.contains("line 2, column 1") && err.contains("duplicate key"), "{err}");
    }
}
