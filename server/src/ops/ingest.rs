//! `concord ingest`: the chunk index as data derived from the spec's markdown. Every heading
//! under the blueprints folder that starts with an ID is a chunk; its index entry gets the
//! heading's title, an extractive summary of its section, the file and line, the topic (the
//! nearest enclosing heading without an ID), the priority (a `Priority: must` line in the
//! section, else `should`) and the fingerprint. Entries the markdown does not define (written by
//! hand or another tool) are kept as they are; extra fields of derived entries are kept too,
//! except an `embedding` whose chunk text changed. Deterministic: sorted by ID, so running it
//! twice changes nothing.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::findings::{Code, Finding};
use crate::model::fingerprint::{normalise, section_body};
use crate::text::Span;
use crate::workspace::Workspace;

/// Roughly how long an extractive summary is: whole sentences up to this many characters.
const SUMMARY_CHARS: usize = 280;

/// What ingest did, for the message.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub chunks: usize,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub kept: usize,
}

/// Build the index from the markdown and write it (unless `dry_run`); the message says what
/// changed.
pub fn ingest(ws: &Workspace, dry_run: bool) -> Result<String, String> {
    let rel = &ws.config.paths.blueprint_index;
    if ws.model.findings.iter().any(|f| &f.path == rel && f.code == crate::findings::Code::MalformedFile) {
        return Err(format!("{rel} cannot be read exactly (`concord check` says where): fix or remove it first; nothing was written"));
    }
    let (current, old_entries) = read_index(ws)?;
    let derived = derive(ws)?;
    let (entries, counts) = merge(ws, &old_entries, derived);
    let text =
        serde_json::to_string_pretty(&json!({ "version": 1, "chunks": entries })).expect("json") + "\n";
    let summary = format!(
        "{} chunks from the markdown ({} new, {} changed, {} removed), {} entries the markdown does not define kept",
        counts.chunks, counts.added, counts.changed, counts.removed, counts.kept
    );
    if current.as_deref() == Some(text.as_str()) {
        return Ok(format!("{rel} is up to date: {summary}"));
    }
    if dry_run {
        return Ok(format!("would write {rel}: {summary} (--dry-run: nothing was written)"));
    }
    crate::fsutil::write_in_workspace(&ws.root, rel, text.as_bytes())
        .map_err(|e| format!("cannot write {rel}: {e}"))?;
    Ok(format!("wrote {rel}: {summary}"))
}

/// Where the index disagrees with the markdown (`concord verify-blueprints`): what `ingest`
/// would change, and entries no markdown section defines. Duplicate IDs and malformed entries
/// are the model's own findings, added by the caller.
pub fn verify(ws: &Workspace) -> Result<Vec<Finding>, String> {
    let rel = &ws.config.paths.blueprint_index;
    // An index that is not JSON is the model's `malformed-file`, at its place.
    let index = read_index(ws).map(|(_, entries)| entries).unwrap_or_default();
    let derived = derive(ws)?;
    let at_entry = |id: &str| {
        ws.model
            .chunks
            .get(id)
            .and_then(|c| c.index_entry.clone())
            .map_or((rel.clone(), Span::default()), |p| (p.path, p.span))
    };
    let finding = |(path, span): (String, Span), message: String, id: &str| {
        Finding::new(Code::BlueprintDrift, path, span, message).with_id(id)
    };
    let mut out = Vec::new();
    let mut listed = std::collections::BTreeSet::new();
    for entry in &index {
        let Some(id) = entry.get("id").and_then(Value::as_str) else { continue };
        if !listed.insert(id.to_string()) {
            continue;
        }
        let source = entry.get("source").and_then(Value::as_str);
        match derived.get(id) {
            Some(section) => {
                let defined_in = section.get("source").and_then(Value::as_str).unwrap_or_default();
                if let Some(source) = source.filter(|s| *s != defined_in) {
                    out.push(finding(at_entry(id), format!("{id}: the index says {source}, but its section is in {defined_in}; run `concord ingest`"), id));
                }
                let stored = entry.get("fingerprint").and_then(Value::as_str);
                let now = section.get("fingerprint").and_then(Value::as_str).unwrap_or_default();
                if stored.is_some_and(|f| f != now) {
                    out.push(finding(at_entry(id), format!("{id}: its section changed since the index was written (fingerprint {} in the index, {now} in the markdown); run `concord ingest`", stored.unwrap_or_default()), id));
                }
            }
            // A source the walk did not see (gone, or not a file of the workspace).
            None if source.is_some_and(|s| !ws.files.contains_key(s) && !ws.root.join(s).is_file()) => out.push(finding(
                at_entry(id),
                format!("{id}: its source {} does not exist (moved or deleted?); run `concord ingest`, or correct `source`", source.unwrap_or_default()),
                id,
            )),
            None => out.push(finding(
                at_entry(id),
                format!("{id}: no markdown section under {} defines it; write a `## {id} Title` section for it, or keep it as an index-only chunk", ws.config.paths.blueprints_dir),
                id,
            )),
        }
    }
    for (id, section) in &derived {
        if listed.contains(id) {
            continue;
        }
        let place = ws.model.chunks.get(id).and_then(|c| c.heading.clone());
        let at = place
            .map_or((section["source"].as_str().unwrap_or_default().to_string(), Span::default()), |p| {
                (p.path, p.span)
            });
        out.push(finding(
            at,
            format!("{id}: the markdown defines it but {rel} lacks it; run `concord ingest`"),
            id,
        ));
    }
    Ok(out)
}

/// The index's text (if the file exists) and its entries, whichever top-level form it has.
fn read_index(ws: &Workspace) -> Result<(Option<String>, Vec<Value>), String> {
    let rel = &ws.config.paths.blueprint_index;
    let text = crate::fsutil::read_text_in_workspace(&ws.root, rel, ws.config.max_file_size)
        .map_err(|e| format!("cannot read {rel}: {e}"))?;
    let entries = match text.as_deref().map(serde_json::from_str::<Value>) {
        None => Vec::new(),
        Some(Err(e)) => return Err(format!("{rel}: {e}")),
        Some(Ok(Value::Array(entries))) => entries,
        Some(Ok(object)) => object.get("chunks").and_then(Value::as_array).cloned().unwrap_or_default(),
    };
    Ok((text, entries))
}

/// The entries the markdown defines, by ID (the first heading of an ID wins).
fn derive(ws: &Workspace) -> Result<BTreeMap<String, Map<String, Value>>, String> {
    let mut out = BTreeMap::new();
    let blueprints = ws.config.paths.blueprints_dir.trim_end_matches('/');
    for facts in ws.files.values().filter(|f| !f.headings.is_empty()) {
        if !crate::config::is_under(&facts.path, blueprints) {
            continue;
        }
        let text = crate::fsutil::read_text_in_workspace(&ws.root, &facts.path, ws.config.max_file_size)
            .map_err(|e| format!("cannot read {}: {e}", facts.path))?
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        for heading in &facts.headings {
            if out.contains_key(&heading.id) {
                continue;
            }
            let line = heading.place.span.start.line as usize;
            let body = section_body(&text, line);
            let mut entry = Map::new();
            entry.insert("id".into(), json!(heading.id));
            entry.insert("title".into(), json!(heading.title));
            entry.insert("summary".into(), json!(summary_of(body)));
            entry.insert("source".into(), json!(facts.path));
            entry.insert("line".into(), json!(line + 1));
            if let Some(topic) = topic_of(&lines, line, ws) {
                entry.insert("topic".into(), json!(topic));
            }
            entry.insert("priority".into(), json!(priority_of(body).unwrap_or("should")));
            entry.insert("fingerprint".into(), json!(heading.fingerprint));
            out.insert(heading.id.clone(), entry);
        }
    }
    Ok(out)
}

/// Old entries merged with the derived ones: derived fields replaced, others kept (an embedding
/// only while the fingerprint is the same), entries the markdown does not define kept unless
/// they say they came from a markdown file that no longer defines them.
fn merge(
    ws: &Workspace,
    old: &[Value],
    mut derived: BTreeMap<String, Map<String, Value>>,
) -> (Vec<Value>, Counts) {
    let mut counts = Counts { chunks: derived.len(), ..Counts::default() };
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let blueprints = ws.config.paths.blueprints_dir.trim_end_matches('/');
    for entry in old {
        let Some(id) = entry.get("id").and_then(Value::as_str) else { continue };
        match derived.remove(id) {
            Some(new) => {
                let mut merged = entry.as_object().cloned().unwrap_or_default();
                let same_text = merged.get("fingerprint") == new.get("fingerprint");
                if !same_text {
                    merged.remove("embedding");
                }
                let before = Value::Object(merged.clone());
                merged.extend(new);
                if Value::Object(merged.clone()) != before {
                    counts.changed += 1;
                }
                out.insert(id.to_string(), Value::Object(merged));
            }
            None => {
                let from_markdown = entry
                    .get("source")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.ends_with(".md") && crate::config::is_under(s, blueprints));
                if from_markdown {
                    counts.removed += 1;
                } else {
                    counts.kept += 1;
                    out.insert(id.to_string(), entry.clone());
                }
            }
        }
    }
    for (id, new) in derived {
        counts.added += 1;
        out.insert(id, Value::Object(new));
    }
    (out.into_values().collect(), counts)
}

/// Whole sentences of the section's text (markdown removed) up to about [`SUMMARY_CHARS`]; the
/// first sentence whole however long, cut at a word only past twice that.
pub fn summary_of(body: &str) -> String {
    let kept: String = body.lines().filter(|l| priority_of(l).is_none()).collect::<Vec<_>>().join("\n");
    let text = normalise(&kept);
    let mut out = String::new();
    for sentence in sentences(&text) {
        if !out.is_empty() && out.chars().count() + sentence.chars().count() > SUMMARY_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(sentence);
    }
    if out.chars().count() > 2 * SUMMARY_CHARS {
        let cut: String = out.chars().take(2 * SUMMARY_CHARS).collect();
        out = format!("{}…", cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head));
    }
    out
}

/// Sentences: ending in `.`, `!` or `?` followed by a space (or the end).
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text.trim();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .char_indices()
            .find(|&(i, c)| matches!(c, '.' | '!' | '?') && rest[i + 1..].starts_with(' '))
            .map_or(rest.len(), |(i, _)| i + 1);
        let (sentence, tail) = rest.split_at(end);
        rest = tail.trim_start();
        Some(sentence.trim())
    })
}

/// `Priority: must` (any case, optionally in bold or a list item) on a line of its own.
fn priority_of(text: &str) -> Option<&'static str> {
    text.lines().find_map(|line| {
        let line = line.trim().trim_start_matches(['-', '*', ' ']).replace("**", "");
        let (key, value) = line.split_once(':')?;
        if !key.trim().eq_ignore_ascii_case("priority") {
            return None;
        }
        ["must", "should", "could"].into_iter().find(|p| value.trim().eq_ignore_ascii_case(p))
    })
}

/// The nearest heading above `line` of a higher level that does not define a chunk itself.
fn topic_of(lines: &[&str], line: usize, ws: &Workspace) -> Option<String> {
    let level = |l: &str| l.bytes().take_while(|&b| b == b'#').count();
    let own = level(lines.get(line)?);
    let mut in_fence = false;
    let mut found = None;
    for text in &lines[..line] {
        let trimmed = text.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        let hashes = level(text);
        if in_fence || hashes == 0 || hashes >= own || !text[hashes..].starts_with(' ') {
            continue;
        }
        let title = text[hashes..].trim();
        if ws.config.ids.find_iter(title.as_bytes()).next().is_some_and(|m| m.start == 0) {
            continue;
        }
        found = Some(normalise(title));
    }
    found.filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_whole_sentences_without_the_priority_line() {
        let long_third = format!("A third sentence {}that ends.", "that goes on and on ".repeat(14));
        let body =
            format!("Priority: **must**\n\nRefunds go back to the *card*. Within 5 days!\n\n{long_third}\n");
        let body = body.as_str();
        assert_eq!(summary_of(body), "Refunds go back to the card. Within 5 days!");
        assert_eq!(priority_of(body), Some("must"));
        assert_eq!(priority_of("- **Priority:** Could\n"), Some("could"));
        assert_eq!(priority_of("The priority: we must ship\n"), None);
        let long = format!("{}.", "word ".repeat(200));
        assert!(
            summary_of(&long).ends_with('…') && summary_of(&long).chars().count() <= 2 * SUMMARY_CHARS + 1
        );
    }
}
