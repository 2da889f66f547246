//! Stale references: code and tests that trace to a chunk, reviewed against an older text of it.
//!
//! Each place that traces to a chunk — a source file, and in an item-level file the item whose
//! comments name it — is a [`RefKey`]; `ops/trace.lock` records the chunk's fingerprint when that
//! place was last reviewed (`concord ack`). When the chunk is rewritten its fingerprint changes
//! (whitespace and markdown decoration do not count), and every recorded place still pointing at
//! the old one is a `stale-reference`. A place with no record yet is not stale: `concord ack`
//! records it. A reference may carry its own pin instead, `TD-0103@9f2c4e1a` (a prefix of the
//! fingerprint it was written against): it is stale when the chunk's fingerprint no longer
//! starts with it, and a place whose references to a chunk are all pinned is checked by its pins
//! alone. Pure: facts and the model in, keys and findings out.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::findings::{Code, Edit, Finding, Fix};
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
    let known = |id: &str| config.ids.kind_of(id) == Some(IdKind::Chunk) && model.chunks.contains_key(id);
    // A chunk every reference of which in this file is pinned is checked by the pins.
    let pinned_only = |id: &str| {
        let mut refs = facts.refs.iter().filter(|r| r.traces && *r.id == *id).peekable();
        refs.peek().is_some() && refs.all(|r| r.pin.is_some())
    };
    let is_chunk = |id: &str| known(id) && !pinned_only(id);
    let key = |chunk: &str, item: Option<String>| RefKey {
        chunk: chunk.to_string(),
        path: facts.path.clone(),
        item,
    };
    let first_reference = |id: &str| facts.refs.iter().find(|r| r.traces && *r.id == *id).map(|r| r.span);
    let mut out: BTreeMap<RefKey, Span> = BTreeMap::new();
    if facts.items.is_empty() {
        for reference in facts.refs.iter().filter(|r| r.traces && is_chunk(r.id)) {
            out.entry(key(reference.id, None)).or_insert(reference.span);
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
    let mut names: Vec<&str> = vec![&facts.items[index].name];
    let mut at = facts.items[index].parent;
    while let Some(parent) = at {
        names.push(&facts.items[parent as usize].name);
        at = facts.items[parent as usize].parent;
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

/// The pinned references of `facts` whose chunk's fingerprint no longer starts with their pin.
fn stale_pins<'f>(
    config: &Config,
    model: &'f Model,
    facts: &'f FileFacts,
) -> impl Iterator<Item = (&'f crate::scan::Reference, &'f crate::scan::Pin, &'f crate::model::Chunk)> {
    let code = matches!(facts.kind, FileKind::Code | FileKind::Test) && !config.is_ops_file(&facts.path);
    facts.refs.iter().filter(move |r| code && r.traces).filter_map(move |r| {
        let pin = r.pin.as_deref()?;
        let chunk = model.chunks.get(r.id)?;
        (!chunk.fingerprint.starts_with(&pin.fingerprint)).then_some((r, pin, chunk))
    })
}

/// A `stale-reference` at each place of `facts` reviewed against an older text of its chunk.
pub fn reference_findings(config: &Config, model: &Model, facts: &FileFacts) -> Vec<Finding> {
    let pinned = stale_pins(config, model, facts).map(|(reference, pin, chunk)| {
        let now: String = chunk.fingerprint.chars().take(pin.fingerprint.len().max(8)).collect();
        let message = format!(
            "{}@{} was written against an older text of \"{}\" (its fingerprint is now {now}). Read the chunk again and change the code if it no longer does what the spec says, then update the pin to @{now}.",
            reference.id, pin.fingerprint, chunk.title
        );
        let mut finding = Finding::new(Code::StaleReference, &facts.path, reference.span, message).with_id(reference.id);
        finding.fix = Some(Fix {
            title: format!("Reviewed: pin {} to its current text (@{now})", reference.id),
            edits: vec![Edit { span: pin.span, new_text: now }],
            candidates: Vec::new(),
        });
        finding
    });
    let mut out: Vec<Finding> = pinned.collect();
    out.extend(stale_keys(config, model, facts)
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
        }));
    out
}

/// A file's stale places: (chunk ID, place as shown), reviewed places and pins alike.
pub fn stale_places(config: &Config, model: &Model, facts: &FileFacts) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = stale_keys(config, model, facts)
        .into_iter()
        .map(|(key, _, _)| (key.chunk.clone(), place(&key)))
        .collect();
    for (reference, pin, _) in stale_pins(config, model, facts) {
        let at = format!("{}:{} (@{})", facts.path, reference.span.start.line + 1, pin.fingerprint);
        out.push((reference.id.to_string(), at));
    }
    out
}

/// One `stale-reference` at each rewritten chunk's definition, from the stale places of every
/// file (see [`stale_places`]).
pub fn findings_at_definitions<'p>(
    model: &Model,
    places: impl Iterator<Item = &'p (String, String)>,
) -> Vec<Finding> {
    let mut by_chunk: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (chunk, at) in places {
        by_chunk.entry(chunk.clone()).or_default().push(at.clone());
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

    /// The `stale-reference` findings at chunk definitions for `files`.
    fn chunk_findings<'f>(
        config: &Config,
        model: &Model,
        files: impl Iterator<Item = &'f FileFacts>,
    ) -> Vec<Finding> {
        let places: Vec<(String, String)> =
            files.flat_map(|facts| stale_places(config, model, facts)).collect();
        findings_at_definitions(model, places.iter())
    }

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
    fn a_pinned_reference_is_checked_by_its_pin_and_offers_the_new_one() {
        let config = Config::parse(None).unwrap();
        let file = facts(&config, "a.py", "# implements TD-0001@0123ABCD\nx = 1\n");
        assert_eq!(file.refs[0].pin.as_ref().map(|p| p.fingerprint.as_str()), Some("0123abcd"));
        let current = model_with(&[("TD-0001", "0123abcd99887766")], &[]);
        assert!(reference_findings(&config, &current, &file).is_empty());
        assert!(reference_keys(&config, &current, &file).is_empty(), "a pinned place needs no record");
        let rewritten = model_with(&[("TD-0001", "fedcba9876543210")], &[]);
        let found = reference_findings(&config, &rewritten, &file);
        assert_eq!(found.len(), 1);
        let fix = found[0].fix.as_ref().unwrap();
        assert_eq!(fix.edits[0].new_text, "fedcba98");
        assert_eq!((fix.edits[0].span.start.utf8, fix.edits[0].span.end.utf8), (21, 29));
        assert_eq!(chunk_findings(&config, &rewritten, [&file].into_iter()).len(), 1);
        // Not a pin: too short, or glued to a word.
        for text in ["# TD-0001@ab\n", "# TD-0001@abcdefgz\n", "# TD-0001@abcd_e\n"] {
            assert!(facts(&config, "b.py", text).refs[0].pin.is_none(), "{text}");
        }
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
