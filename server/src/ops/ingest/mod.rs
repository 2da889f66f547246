//! `concord ingest`: the chunk index as data derived from the spec's markdown. Every heading
//! under the blueprints folder that starts with an ID is a chunk; its index entry gets the
//! heading's title, a summary of its section, the file and line, the topic, the priority and the
//! fingerprint. Entries the markdown does not define (written by hand or another tool) are kept
//! as they are; extra fields of derived entries are kept too, except an `embedding` (and a
//! model's summary) whose chunk text changed. Deterministic: sorted by ID, so running it twice
//! changes nothing.
//!
//! `--assign-ids` first numbers the headings that should be chunks and have no ID yet, writing
//! the IDs into the markdown; `--summarize` and `--embed` ask an OpenAI-compatible server for
//! summaries and vectors (see `enrich`), cached by fingerprint so unchanged chunks cost nothing.

pub mod enrich;
pub mod markdown;

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use crate::findings::{Code, Finding};
use crate::ids::IdKind;
use crate::model::fingerprint::{normalise, section_body};
use crate::text::Span;
use crate::workspace::Workspace;
use markdown::{FrontMatter, HeadingEdit, Numbering, OutlineHeading};

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

/// What `concord ingest` is asked to do besides deriving the index.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// Say what would change; write nothing and ask no server.
    pub dry_run: bool,
    /// Give the headings at the chunk level that have no ID a new one, in the markdown.
    pub assign_ids: bool,
    /// Summaries written by a model instead of extracted.
    pub summarize: bool,
    /// A vector embedding of each chunk.
    pub embed: bool,
}

/// A markdown file of the spec, as read (and as `--assign-ids` would leave it).
struct SpecFile {
    path: String,
    /// The bytes on disk, to write only over what was read.
    original: String,
    text: String,
    front: FrontMatter,
    outline: Vec<OutlineHeading>,
}

/// A chunk's heading and section, for the summary and embedding requests.
pub struct Section {
    pub title: String,
    pub body: String,
    pub fingerprint: String,
}

/// Build the index from the markdown and write it (unless `dry_run`); the message says what
/// changed.
pub fn ingest(ws: &Workspace, options: Options) -> Result<String, String> {
    let rel = &ws.config.paths.blueprint_index;
    if ws.model.findings.iter().any(|f| &f.path == rel && f.code == crate::findings::Code::MalformedFile) {
        return Err(format!("{rel} cannot be read exactly (`concord check` says where): fix or remove it first; nothing was written"));
    }
    let (current, old_entries) = read_index(ws)?;
    let mut files = spec_files(ws)?;
    let mut out = Vec::new();
    let mut edited = Vec::new();
    if options.assign_ids {
        let plan = plan_ids(ws, &files, &old_entries)?;
        let headings: usize = plan.iter().map(|(_, edits)| edits.len()).sum();
        for (i, edits) in plan {
            let file = &mut files[i];
            out.push(markdown::heading_diff(&file.path, &file.text, &edits).trim_end().to_string());
            file.text = markdown::apply_edits(&file.text, &edits);
            file.outline = markdown::outline(&file.text, file.front.lines);
            edited.push(i);
        }
        let files = match edited.len() {
            1 => "1 file".to_string(),
            n => format!("{n} files"),
        };
        out.push(match (headings, options.dry_run) {
            (0, _) => "every heading at the chunk level has an ID".to_string(),
            (1, true) => format!("would give 1 heading an ID in {files}"),
            (1, false) => format!("gave 1 heading an ID in {files}"),
            (n, true) => format!("would give {n} headings an ID in {files}"),
            (n, false) => format!("gave {n} headings an ID in {files}"),
        });
    }
    let Derived { entries: derived, sections, .. } = derive(ws, &files).without_duplicates()?;
    let (mut entries, counts) = merge(ws, &old_entries, derived);
    if options.summarize {
        out.push(enrich::summarize(ws, &mut entries, &sections, options.dry_run)?);
    }
    if options.embed {
        out.push(enrich::embed(ws, &mut entries, &sections, options.dry_run)?);
    }
    let text =
        serde_json::to_string_pretty(&json!({ "version": 1, "chunks": entries })).expect("json") + "\n";
    let summary = format!(
        "{} chunks from the markdown ({} new, {} changed, {} removed), {} entries the markdown does not define kept",
        counts.chunks, counts.added, counts.changed, counts.removed, counts.kept
    );
    let up_to_date = current.as_deref() == Some(text.as_str());
    if options.dry_run {
        out.push(if up_to_date {
            format!("{rel} is up to date: {summary}")
        } else {
            format!("would write {rel}: {summary}")
        });
        out.push("(--dry-run: nothing was written)".into());
        return Ok(out.join("\n"));
    }
    for &i in &edited {
        write_spec_file(ws, &files[i])?;
    }
    if up_to_date {
        out.push(format!("{rel} is up to date: {summary}"));
        return Ok(out.join("\n"));
    }
    crate::fsutil::write_in_workspace(&ws.root, rel, text.as_bytes())
        .map_err(|e| format!("cannot write {rel}: {e}"))?;
    out.push(format!("wrote {rel}: {summary}"));
    Ok(out.join("\n"))
}

/// Replace a markdown file whole, unless it changed on disk since it was read.
fn write_spec_file(ws: &Workspace, file: &SpecFile) -> Result<(), String> {
    let now = crate::fsutil::read_text_in_workspace(&ws.root, &file.path, ws.config.max_file_size)
        .map_err(|e| format!("{}: {e}", file.path))?;
    if now.as_deref() != Some(file.original.as_str()) {
        return Err(format!(
            "{} changed while ingest ran; run it again (this file was not written)",
            file.path
        ));
    }
    let mode = std::fs::metadata(ws.root.join(&file.path)).map(|m| m.permissions()).ok();
    crate::fsutil::write_in_workspace(&ws.root, &file.path, file.text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", file.path))?;
    // The new file has the default mode; the old one's (read-only for others, say) is kept.
    if let Some(mode) = mode {
        let _ = std::fs::set_permissions(ws.root.join(&file.path), mode);
    }
    Ok(())
}

/// The spec's markdown files under the blueprints folder, in path order, with their front
/// matter (malformed front matter is an error naming the file and line).
fn spec_files(ws: &Workspace) -> Result<Vec<SpecFile>, String> {
    let blueprints = ws.config.paths.blueprints_dir.trim_end_matches('/');
    let mut out = Vec::new();
    for facts in ws.files.values() {
        let lower = facts.path.to_ascii_lowercase();
        let markdown = lower.ends_with(".md") || lower.ends_with(".markdown");
        let spec = markdown || !facts.headings.is_empty();
        if !spec || !crate::config::is_under(&facts.path, blueprints) {
            continue;
        }
        let text = crate::fsutil::read_text_in_workspace(&ws.root, &facts.path, ws.config.max_file_size)
            .map_err(|e| format!("cannot read {}: {e}", facts.path))?
            .unwrap_or_default();
        let front = markdown::front_matter(&text).map_err(|e| {
            format!("{}:{}: front matter: {}; nothing was written", facts.path, e.line + 1, e.message)
        })?;
        let outline = markdown::outline(&text, front.lines);
        out.push(SpecFile { path: facts.path.clone(), original: text.clone(), text, front, outline });
    }
    Ok(out)
}

/// A heading that starts with any ID (a chunk's, or a work item's).
fn starts_with_id(ws: &Workspace, heading: &OutlineHeading) -> bool {
    ws.config.ids.leading_id(&heading.text).is_some()
}

fn starts_with_chunk_id(ws: &Workspace, heading: &OutlineHeading) -> bool {
    ws.config.ids.leading_id(&heading.text).is_some_and(|id| ws.config.ids.kind_of(id) == Some(IdKind::Chunk))
}

/// The new IDs, per file (by index): numbered in path and line order from the highest ID of the
/// family found anywhere in the workspace (markdown, index, references), so none is reused.
fn plan_ids(
    ws: &Workspace,
    files: &[SpecFile],
    index: &[Value],
) -> Result<Vec<(usize, Vec<HeadingEdit>)>, String> {
    let ids = &ws.config.ids;
    let mut taken: HashSet<String> = ws.model.chunks.keys().cloned().collect();
    taken.extend(ws.model.work.keys().cloned());
    taken.extend(index.iter().filter_map(|e| e.get("id").and_then(Value::as_str)).map(str::to_string));
    for facts in ws.files.values() {
        taken.extend(facts.refs.iter().map(|r| r.id.to_string()));
    }
    for file in files {
        taken.extend(file.outline.iter().filter_map(|h| ids.leading_id(&h.text)).map(str::to_string));
    }
    let mut numberings: BTreeMap<usize, Numbering> = BTreeMap::new();
    let mut plan = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let wanted = markdown::headings_needing_ids(
            &file.outline,
            |h| starts_with_chunk_id(ws, h),
            |h| starts_with_id(ws, h),
            usize::from(ws.config.ingest.heading_level),
        );
        if wanted.is_empty() {
            continue;
        }
        let (name, line) = match &file.front.id_family {
            Some((name, line)) => (name.as_str(), Some(*line)),
            None => (ws.config.ingest.id_family.as_str(), None),
        };
        let family = ids.families().iter().position(|f| f.name == name && f.kind == IdKind::Chunk).ok_or_else(|| {
            match line {
                Some(line) => format!("{}:{}: front matter: id_family {name:?} is not a chunk family of [ids]; nothing was written", file.path, line + 1),
                None => format!("ingest.id_family {name:?} is not a chunk family of [ids]: configure one; nothing was written"),
            }
        })?;
        let spec = &ids.families()[family];
        let numbering = numberings.entry(family).or_insert_with(|| {
            let own = taken.iter().filter(|id| ids.family_of(id.as_bytes()) == Some(family));
            Numbering::after(&spec.name, &spec.pattern, own)
        });
        let mut edits = Vec::new();
        for h in wanted {
            let id = loop {
                let candidate = numbering.id(numbering.next);
                if ids.family_of(candidate.as_bytes()) != Some(family) {
                    return Err(format!(
                        "cannot number a new {} chunk: {candidate} does not match the family's pattern {:?} (the numbers are used up, or the pattern is not a prefix and digits); nothing was written",
                        spec.name, spec.pattern
                    ));
                }
                numbering.next += 1;
                if taken.insert(candidate.clone()) {
                    break candidate;
                }
            };
            let heading = &file.outline[h];
            edits.push(HeadingEdit { line: heading.line, at: heading.text_start, id });
        }
        plan.push((i, edits));
    }
    Ok(plan)
}
/// Where the index disagrees with the markdown (`concord verify-blueprints`): what `ingest`
/// would change, and entries no markdown section defines. Duplicate IDs and malformed entries
/// are the model's own findings, added by the caller.
pub fn verify(ws: &Workspace) -> Result<Vec<Finding>, String> {
    let rel = &ws.config.paths.blueprint_index;
    // An index that is not JSON is the model's `malformed-file`, at its place.
    let index = read_index(ws).map(|(_, entries)| entries).unwrap_or_default();
    // Duplicate headings are the model's own `duplicate-id` findings.
    let derived = derive(ws, &spec_files(ws)?).entries;
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

/// What the markdown defines: the entries and sections by ID (the first heading of an ID), and
/// the IDs more than one heading defines, each with its places.
struct Derived {
    entries: BTreeMap<String, Map<String, Value>>,
    sections: BTreeMap<String, Section>,
    twice: Vec<String>,
}

impl Derived {
    /// An ID two headings define stops ingest: which section the entry should describe is a
    /// person's call.
    fn without_duplicates(self) -> Result<Derived, String> {
        if self.twice.is_empty() {
            return Ok(self);
        }
        Err(format!(
            "{}\ngive each of those headings its own ID (or remove the copy), then run ingest again; nothing was written",
            self.twice.join("\n")
        ))
    }
}

fn derive(ws: &Workspace, files: &[SpecFile]) -> Derived {
    let mut out = BTreeMap::new();
    let mut sections = BTreeMap::new();
    let mut defined_at: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let default_priority = ws.config.ingest.default_priority.as_str();
    for file in files {
        let text = &file.text;
        let index = crate::text::LineIndex::new(text);
        for heading in crate::scan::chunk_headings(&ws.config, &file.path, text, &index) {
            let line = heading.place.span.start.line as usize;
            let places = defined_at.entry(heading.id.clone()).or_default();
            places.push(format!("{}:{}", file.path, line + 1));
            if places.len() > 1 {
                continue;
            }
            let section = section_body(text, line);
            let at = file.outline.binary_search_by_key(&line, |h| h.line).ok();
            // The summary and the priority are the chunk's own: its section up to a nested chunk.
            let body = at.map_or(section, |at| own_text(text, section, &file.outline, at, ws));
            let mut entry = Map::new();
            entry.insert("id".into(), json!(heading.id));
            entry.insert("title".into(), json!(heading.title));
            entry.insert("summary".into(), json!(summary_of(body)));
            entry.insert("source".into(), json!(file.path));
            entry.insert("line".into(), json!(line + 1));
            let enclosing = || {
                markdown::enclosing_topic(&file.outline, at?, |h| starts_with_id(ws, h))
                    .map(|h| normalise(&h.text))
                    .filter(|t| !t.is_empty())
            };
            if let Some(topic) = file.front.topic.clone().or_else(enclosing) {
                entry.insert("topic".into(), json!(topic));
            }
            let priority = priority_of(body)
                .or(file.front.priority.map(crate::formats::Priority::as_str))
                .unwrap_or(default_priority);
            entry.insert("priority".into(), json!(priority));
            entry.insert("fingerprint".into(), json!(heading.fingerprint));
            sections.insert(
                heading.id.clone(),
                Section {
                    title: heading.title.clone(),
                    body: body.to_string(),
                    fingerprint: heading.fingerprint,
                },
            );
            out.insert(heading.id, entry);
        }
    }
    let twice: Vec<String> = defined_at
        .iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(id, places)| format!("{id} is defined by more than one heading: {}", places.join(", ")))
        .collect();
    Derived { entries: out, sections, twice }
}

/// `section` (a slice of `text`, the section of outline heading `at`) up to the first heading
/// in it that starts with an ID.
fn own_text<'t>(
    text: &'t str,
    section: &'t str,
    outline: &[OutlineHeading],
    at: usize,
    ws: &Workspace,
) -> &'t str {
    // `section_body` answers a slice of `text`, or an empty string past its end.
    let Some(start) = (section.as_ptr() as usize).checked_sub(text.as_ptr() as usize) else { return section };
    let end = start + section.len();
    if end > text.len() {
        return section;
    }
    let nested = outline[at + 1..]
        .iter()
        .take_while(|h| h.text_start < end)
        .find(|h| h.text_start >= start && starts_with_id(ws, h));
    match nested {
        Some(h) => {
            let line_start = text[..h.text_start].rfind(['\n', '\r']).map_or(0, |i| i + 1).max(start);
            &text[start..line_start]
        }
        None => section,
    }
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
                let mut new = new;
                let same_text = merged.get("fingerprint") == new.get("fingerprint");
                if same_text {
                    // A model's summary stands while the text it summarises does.
                    if merged.get("summary_by").and_then(Value::as_str) == Some(enrich::BY_MODEL) {
                        new.remove("summary");
                    }
                } else {
                    for derived_from_text in ["embedding", "embedding_model", "summary_by"] {
                        merged.remove(derived_from_text);
                    }
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
