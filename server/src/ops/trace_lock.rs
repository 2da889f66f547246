//! `concord ack` and `concord bump --editorial`: record, in `ops/trace.lock`, the spec text each
//! place that traces to a chunk was reviewed against (its fingerprint). The file is rewritten
//! whole, sorted and atomically, and never over a trace lock that cannot be read exactly.

use std::collections::BTreeSet;

use crate::formats::{TraceLock, TraceLockEntry};
use crate::model::{RefKey, Reviewed};
use crate::workspace::Workspace;

/// What to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack<'a> {
    /// Every place not recorded yet, against its chunk's current text; records of places that
    /// no longer exist are dropped. Stale records are left as they are.
    Unrecorded,
    /// The places of one chunk (or one of them: `PATH` or `PATH:ITEM`) reviewed against its
    /// current text.
    Chunk { id: &'a str, place: Option<&'a str> },
    /// A wording-only edit of the chunk: every recorded place of it is kept current.
    Editorial { id: &'a str },
}

pub fn ack(ws: &Workspace, what: Ack) -> Result<String, String> {
    let rel = &ws.config.paths.trace_lock;
    if ws.model.findings.iter().any(|f| &f.path == rel) {
        return Err(format!("{rel} cannot be read exactly (`concord check` says where): fix or remove it first; nothing was written"));
    }
    let current: BTreeSet<RefKey> = ws
        .files
        .values()
        .flat_map(|facts| crate::stale::reference_keys(&ws.config, &ws.model, facts))
        .map(|(key, _)| key)
        .collect();
    let fingerprint = |key: &RefKey| ws.model.chunks[&key.chunk].fingerprint.clone();
    let mut reviewed: Reviewed = ws.model.reviewed.clone();
    let message = match what {
        Ack::Unrecorded => {
            let before = reviewed.len();
            reviewed.retain(|key, _| current.contains(key));
            let dropped = before - reviewed.len();
            let mut added = 0;
            for key in &current {
                if !reviewed.contains_key(key) {
                    reviewed.insert(key.clone(), fingerprint(key));
                    added += 1;
                }
            }
            let stale = reviewed.iter().filter(|(key, recorded)| **recorded != fingerprint(key)).count();
            let stale = if stale == 0 {
                String::new()
            } else {
                format!(
                    "; {stale} stale place(s) left as they are (review them, then `concord ack ID PLACE`)"
                )
            };
            format!(
                "recorded {added} new place(s), dropped {dropped} that no longer trace to their chunk{stale}"
            )
        }
        Ack::Chunk { id, place } => {
            known_chunk(ws, id)?;
            let (path, item) = match place {
                Some(p) => match p.split_once(':') {
                    Some((path, item)) => (Some(path), Some(item)),
                    None => (Some(p), None),
                },
                None => (None, None),
            };
            let matching: Vec<&RefKey> = current
                .iter()
                .filter(|k| k.chunk == id)
                .filter(|k| path.is_none_or(|p| k.path == p))
                .filter(|k| item.is_none_or(|i| k.item.as_deref() == Some(i)))
                .collect();
            if matching.is_empty() {
                let at = place.map(|p| format!(" at {p}")).unwrap_or_default();
                let known: Vec<String> =
                    current.iter().filter(|k| k.chunk == id).map(crate::stale::place).take(5).collect();
                let hint = if known.is_empty() {
                    String::new()
                } else {
                    format!(" (places tracing to it: {})", known.join(", "))
                };
                return Err(format!("no place traces to {id}{at}{hint}; nothing was written"));
            }
            for key in &matching {
                reviewed.insert((*key).clone(), fingerprint(key));
            }
            format!("{} place(s) of {id} recorded as reviewed against its current text", matching.len())
        }
        Ack::Editorial { id } => {
            known_chunk(ws, id)?;
            let now = ws.model.chunks[id].fingerprint.clone();
            let mut kept = 0;
            for (_, recorded) in reviewed.iter_mut().filter(|(k, _)| k.chunk == id) {
                if *recorded != now {
                    *recorded = now.clone();
                    kept += 1;
                }
            }
            format!("{id}: a wording-only edit; {kept} recorded place(s) kept current, none goes stale")
        }
    };
    write(ws, &reviewed)?;
    Ok(format!("{message} ({rel})"))
}

fn known_chunk(ws: &Workspace, id: &str) -> Result<(), String> {
    if ws.model.chunks.contains_key(id) {
        return Ok(());
    }
    let hint = ws.model.did_you_mean(&ws.config, id);
    let hint = if hint.is_empty() { String::new() } else { format!(" Did you mean {}?", hint.join(" or ")) };
    Err(format!("{id} is not a known chunk.{hint}"))
}

/// The trace lock with one more place recorded as reviewed against its chunk's current text,
/// for the editor's "reviewed" quick fix: the file's path, its text now (if any) and its text
/// after (the client applies the change; nothing is written here).
pub fn with_reviewed(ws: &Workspace, key: &RefKey) -> Result<(String, Option<String>, String), String> {
    let rel = ws.config.paths.trace_lock.clone();
    if ws.model.findings.iter().any(|f| f.path == rel) {
        return Err(format!("{rel} cannot be read exactly: fix or remove it first"));
    }
    let chunk =
        ws.model.chunks.get(&key.chunk).ok_or_else(|| format!("{} is not a known chunk", key.chunk))?;
    let now = crate::fsutil::read_text_in_workspace(&ws.root, &rel, ws.config.max_file_size)
        .map_err(|e| format!("cannot read {rel}: {e}"))?;
    let mut reviewed = ws.model.reviewed.clone();
    reviewed.insert(key.clone(), chunk.fingerprint.clone());
    Ok((rel, now, render(&reviewed)))
}

fn write(ws: &Workspace, reviewed: &Reviewed) -> Result<(), String> {
    let text = render(reviewed);
    let rel = &ws.config.paths.trace_lock;
    crate::fsutil::write_in_workspace(&ws.root, rel, text.as_bytes())
        .map_err(|e| format!("cannot write {rel}: {e}"))
}

/// The trace lock's text: the format ([`TraceLock`]), sorted, pretty, newline-terminated.
fn render(reviewed: &Reviewed) -> String {
    let file = TraceLock {
        version: 1,
        references: reviewed
            .iter()
            .map(|(key, fingerprint)| TraceLockEntry {
                chunk: key.chunk.clone(),
                path: key.path.clone(),
                item: key.item.clone(),
                fingerprint: fingerprint.clone(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a trace lock serializes");
    text.push('\n');
    text
}
