//! `ops/queue.jsonl`: an append-only event log; the last event for an item is its status.

use super::reader::FileReader;
use crate::findings::Finding;
use crate::json;
use crate::text::Span;

/// A work item's status: the queue format's own type.
pub use crate::formats::QueueStatus as Status;

#[derive(Debug, Clone, PartialEq)]
pub struct QueueEvent {
    pub id: String,
    pub status: Status,
    pub at: Option<String>,
    pub by: Option<String>,
    pub reason: Option<String>,
    pub attempt: Option<i64>,
    /// The dispatch run the event belongs to (`.concord/runs/<run>/`), when it names one.
    pub run: Option<String>,
    /// 0-based line in the queue file.
    pub line: u32,
    pub id_span: Span,
}

const STATUSES: &[(&str, Status)] = &[
    ("todo", Status::Todo),
    ("in_progress", Status::InProgress),
    ("review", Status::Review),
    ("awaiting_approval", Status::AwaitingApproval),
    ("awaiting_checks", Status::AwaitingChecks),
    ("done", Status::Done),
    ("blocked", Status::Blocked),
];

pub fn parse_queue(path: &str, text: &str) -> (Vec<QueueEvent>, Vec<Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut events = Vec::new();
    for super::reader::JsonlLine { number: n, start, text: line, torn_note: why } in
        super::reader::jsonl_lines(text)
    {
        let value = match json::parse(line, &[]) {
            Ok(value) => value,
            Err(err) => {
                reader.malformed(
                    start + err.offset,
                    start + err.offset,
                    format!("line {} of the queue is not valid JSON: {}{why}. The line is skipped; fix or remove it, the events before and after it still count.", n + 1, err.message),
                );
                continue;
            }
        };
        if value.as_members().is_none() {
            reader.malformed(
                start,
                start + line.len(),
                format!("line {} of the queue must be a JSON object, found {}", n + 1, value.type_name()),
            );
            continue;
        }
        // Offsets inside the line are shifted to the file; strings are marked without quotes.
        let place = |v: &json::Json| match v.value {
            json::Value::String(_) => (start + v.start + 1, start + v.end - 1),
            _ => (start + v.start, start + v.end),
        };
        let id_value = ["id", "wbs_id", "task_id"].iter().find_map(|k| value.get(k));
        let Some(id_value) = id_value else {
            reader.malformed(
                start,
                start + line.len(),
                format!("line {} of the queue has no `id`; every event names its work item", n + 1),
            );
            continue;
        };
        let Some(id) = id_value.as_str() else {
            let (from, to) = place(id_value);
            reader.malformed(from, to, format!("line {}: `id` must be a string", n + 1));
            continue;
        };
        let Some(status_value) = value.get("status") else {
            reader.malformed(
                start,
                start + line.len(),
                format!("line {} of the queue has no `status`", n + 1),
            );
            continue;
        };
        let Some(status) = status_value
            .as_str()
            .and_then(|s| STATUSES.iter().find(|(name, _)| *name == s).map(|(_, st)| *st))
        else {
            let names: Vec<&str> = STATUSES.iter().map(|(n, _)| *n).collect();
            let (from, to) = place(status_value);
            reader.malformed(
                from,
                to,
                format!("line {}: `status` must be one of {}", n + 1, names.join(", ")),
            );
            continue;
        };
        let text_of = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
        events.push(QueueEvent {
            id: id.to_string(),
            status,
            at: text_of("at").or_else(|| text_of("ts")).or_else(|| text_of("timestamp")),
            by: text_of("by").or_else(|| text_of("agent")),
            reason: text_of("reason"),
            attempt: value.get("attempt").and_then(|v| v.as_i64()),
            run: text_of("run"),
            line: n as u32,
            id_span: {
                let (from, to) = place(id_value);
                reader.span(from, to)
            },
        });
    }
    (events, reader.findings)
}
