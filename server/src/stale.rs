//! Stale references: code and tests that trace to a chunk, reviewed against an older text of it.
//!
//! Each place that traces to a chunk — a source file, and in an item-level file the item whose
//! comments name it — is a [`RefKey`]; `ops/trace.lock` records the chunk's fingerprint when that
//! place was last reviewed (`concord ack`). When the chunk is rewritten its fingerprint changes
//! (whitespace and markdown decoration do not count), and every recorded place still pointing at
//! the old one is a `stale-reference`. A place with no record yet is not stale: `concord ack`
//! records it. Pure: facts and the model in, keys and findings out.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::findings::{Code, Finding};
use crate::ids::IdKind;
use crate::model::{Model, RefKey};
use crate::scan::{FileFacts, FileKind};
use crate::text::Span;

/// Every place in `facts` that traces to a known chunk, with where to show it: the item's name,
/// or the reference itself for a file-level one. Code and test files only (spec text naming
/// another chunk, run reports and reviews are not implementations).
pub fn reference_keys(config: &Config, model: &Model, facts: &FileFacts) -> Vec<(RefKey, Span)> {
    if !matches!(facts.kind, FileKind::Code | FileKind::Test) || config.is_ops_file(&facts.path) {
        return Vec::new();
    }
    let is_chunk = |id: &str| config.ids.kind_of(id) == Some(IdKind::Chunk) && model.chunks.contains_key(id);
    let key = |chunk: &str, item: Option<String>| RefKey {
        chunk: chunk.to_string(),
        path: facts.path.clone(),
        item,
    };
    let first_reference = |id: &str| facts.refs.iter().find(|r| r.traces && r.id == id).map(|r| r.span);
    let mut out: BTreeMap<RefKey, Span> = BTreeMap::new();
    if facts.items.is_empty() {
        for reference in facts.refs.iter().filter(|r| r.traces && is_chunk(&r.id)) {
            out.entry(key(&reference.id, None)).or_insert(reference.span);
        }
    } else {
        for (index, item) in facts.items.iter().enumerate() {
            for id in item.ids.iter().filter(|id| is_chunk(id)) {
                out.entry(key(id, Some(name_path(facts, index)))).or_insert(item.name_span);
            }
        }
        for id in facts.header_ids.iter().filter(|id| is_chunk(id)) {
            if let Some(span) = first_reference(id) {
                out.entry(key(id, None)).or_insert(span);
            }
        }
    }
    out.into_iter().collect()
}

/// `Outer.inner`: the names of the item and the items enclosing it, outermost first.
fn name_path(facts: &FileFacts, index: usize) -> String {
    let mut names = vec![facts.items[index].name.as_str()];
    let mut at = facts.items[index].parent;
    while let Some(parent) = at {
        names.push(&facts.items[parent].name);
        at = facts.items[parent].parent;
    }
    names.reverse();
    names.join(".")
}

/// `path` or `path:Item.method`, as `concord ack` takes it.
pub fn place(key: &RefKey) -> String {
    match &key.item {
        Some(item) => format!("{}:{item}", key.path),
        None => key.path.clone(),
    }
}

/// A fingerprint as shown to people: its first 12 characters.
fn short(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}

/// The recorded places of `facts` whose chunk has changed since they were reviewed.
pub fn stale_keys(config: &Config, model: &Model, facts: &FileFacts) -> Vec<(RefKey, Span, String)> {
    if model.reviewed.is_empty() {
        return Vec::new();
    }
    reference_keys(config, model, facts)
        .into_iter()
        .filter_map(|(key, span)| {
            let recorded = model.reviewed.get(&key)?;
            let current = &model.chunks.get(&key.chunk)?.fingerprint;
            (recorded != current).then(|| (key, span, recorded.clone()))
        })
        .collect()
}

/// A `stale-reference` at each place of `facts` reviewed against an older text of its chunk.
pub fn reference_findings(config: &Config, model: &Model, facts: &FileFacts) -> Vec<Finding> {
    stale_keys(config, model, facts)
        .into_iter()
        .map(|(key, span, recorded)| {
            let chunk = &model.chunks[&key.chunk];
            let what = match &key.item {
                Some(item) => format!("`{item}`"),
                None => "this file".to_string(),
            };
            let message = format!(
                "{} \"{}\" was rewritten since {what} was reviewed against it (reviewed: {}, now: {}). Read the chunk again and change the code if it no longer does what the spec says, then record the review with `concord ack {} {}`; if the edit only changed wording, `concord bump --editorial {}` clears every place at once.",
                key.chunk,
                chunk.title,
                short(&recorded),
                short(&chunk.fingerprint),
                key.chunk,
                place(&key),
                key.chunk
            );
            Finding::new(Code::StaleReference, &facts.path, span, message).with_id(&key.chunk)
        })
        .collect()
}

/// One `stale-reference` at each rewritten chunk's definition, naming its stale places (those
/// found in `files`).
pub fn chunk_findings<'f>(
    config: &Config,
    model: &Model,
    files: impl Iterator<Item = &'f FileFacts>,
) -> Vec<Finding> {
    if model.reviewed.is_empty() {
        return Vec::new();
    }
    let mut by_chunk: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for facts in files {
        for (key, _, _) in stale_keys(config, model, facts) {
            by_chunk.entry(key.chunk.clone()).or_default().push(place(&key));
        }
    }
    at_definitions(model, by_chunk)
}

/// The same from the trace lock's records alone, for a check that has not scanned every file
/// (`--changed-since`): each recorded place of a rewritten chunk, as it was last recorded.
pub fn recorded_chunk_findings(model: &Model) -> Vec<Finding> {
    let mut by_chunk: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, recorded) in &model.reviewed {
        if model.chunks.get(&key.chunk).is_some_and(|c| &c.fingerprint != recorded) {
            by_chunk.entry(key.chunk.clone()).or_default().push(place(key));
        }
    }
    at_definitions(model, by_chunk)
}

fn at_definitions(model: &Model, by_chunk: BTreeMap<String, Vec<String>>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, mut places) in by_chunk {
        let Some(definition) = model.chunks.get(&id).and_then(|c| c.definition()) else {
            continue;
        };
        places.sort();
        const SHOWN: usize = 5;
        let more = places.len().saturating_sub(SHOWN);
        let mut listed = places.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
        if more > 0 {
            listed.push_str(&format!(" and {more} more"));
        }
        let message = format!(
            "{id} was rewritten since {} place(s) tracing to it were reviewed: {listed}. Check each against the new text and `concord ack {id} PLACE` (or name it in a `Spec-Reviewed: {id}` commit trailer), or, if the edit only changed wording, `concord bump --editorial {id}`.",
            places.len()
        );
        out.push(Finding::new(Code::StaleReference, &definition.path, definition.span, message).with_id(&id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_with(chunks: &[(&str, &str)], reviewed: &[(&str, &str, Option<&str>, &str)]) -> Model {
        let mut model = Model::default();
        for (id, fingerprint) in chunks {
            model.chunks.insert(
                id.to_string(),
                crate::model::Chunk {
                    id: id.to_string(),
                    title: format!("Title of {id}"),
                    summary: String::new(),
                    source: None,
                    topic: None,
                    priority: crate::config::Priority::Should,
                    index_entry: Some(crate::model::Place {
                        path: "index.json".into(),
                        span: Span::default(),
                    }),
                    heading: None,
                    fingerprint: fingerprint.to_string(),
                },
            );
        }
        for (chunk, path, item, fingerprint) in reviewed {
            let key =
                RefKey { chunk: chunk.to_string(), path: path.to_string(), item: item.map(str::to_string) };
            model.reviewed.insert(key, fingerprint.to_string());
        }
        model
    }

    fn facts(config: &Config, path: &str, text: &str) -> FileFacts {
        crate::scan::scan_text(config, path, text)
    }

    #[test]
    fn item_level_places_are_keyed_by_name_path_and_file_level_ones_by_file() {
        let config = Config::parse(Some("[trace]\nlevel = \"item\"\nitems = \"all\"\n")).unwrap();
        let model = model_with(&[("TD-0001", "f1"), ("TD-0002", "f2")], &[]);
        let text =
            "# implements TD-0002\n\nclass Billing:\n    # TD-0001\n    def charge(self):\n        pass\n";
        let keys: Vec<(Option<String>, String)> =
            reference_keys(&config, &model, &facts(&config, "svc/billing.py", text))
                .into_iter()
                .map(|(k, _)| (k.item, k.chunk))
                .collect();
        assert_eq!(
            keys,
            [(Some("Billing.charge".to_string()), "TD-0001".to_string()), (None, "TD-0002".to_string())]
        );
        // Spec text and unknown IDs are not places.
        assert!(reference_keys(&config, &model, &facts(&config, "docs/spec.md", "see TD-0001\n")).is_empty());
        assert!(reference_keys(&config, &model, &facts(&config, "a.py", "# TD-0009\nx = 1\n")).is_empty());
    }

    #[test]
    fn only_recorded_places_of_a_rewritten_chunk_are_stale() {
        let config = Config::parse(None).unwrap();
        let file = facts(&config, "a.rs", "// implements TD-0001 and TD-0002\nfn main() {}\n");
        let recorded = [("TD-0001", "a.rs", None, "old"), ("TD-0002", "a.rs", None, "f2")];
        let model = model_with(&[("TD-0001", "new"), ("TD-0002", "f2")], &recorded);
        let found = reference_findings(&config, &model, &file);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id.as_deref(), Some("TD-0001"));
        assert!(found[0].message.contains("concord ack TD-0001 a.rs"), "{}", found[0].message);
        let at_chunk = chunk_findings(&config, &model, [&file].into_iter());
        assert_eq!(at_chunk.len(), 1);
        assert_eq!(at_chunk[0].path, "index.json");
        // Not yet recorded: not stale.
        let model = model_with(&[("TD-0001", "new")], &[]);
        assert!(reference_findings(&config, &model, &file).is_empty());
    }
}
