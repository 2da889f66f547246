//! The editor features, as functions of the loaded workspace and a document's text. No
//! protocol plumbing here: `server` calls these and sends what they return.

use std::collections::BTreeMap;
use std::fmt::Write;

use tower_lsp_server::ls_types::{
    CodeLens, Command, CompletionItem, CompletionItemKind, CompletionTextEdit, DocumentLink, Documentation,
    Location, MarkupContent, MarkupKind, Position, Range, SymbolInformation, SymbolKind, TextEdit, Uri,
};

use super::convert::{self, uri, uri_at_line};
use super::documents::{byte_column, Encoding};
use crate::ids::IdKind;
use crate::model::Place;
use crate::scan::FileFacts;

pub use crate::analysis::Loaded;

impl Loaded {
    fn location(&self, place: &Place, encoding: Encoding) -> Option<Location> {
        Some(Location { uri: uri(&self.ws.root, &place.path)?, range: convert::range(place.span, encoding) })
    }

    fn link(&self, place: &Place) -> String {
        uri_at_line(&self.ws.root, &place.path, place.span.start.line)
    }
}

/// The ID under the cursor in `line`, with its byte range in the line.
pub fn id_at(
    loaded: &Loaded,
    line: &str,
    character: u32,
    encoding: Encoding,
) -> Option<(String, usize, usize)> {
    let column = byte_column(line, character, encoding);
    loaded
        .ws
        .config
        .ids
        .find_iter(line.as_bytes())
        .find(|m| m.start <= column && column <= m.end)
        .map(|m| (line[m.start..m.end].to_string(), m.start, m.end))
}

pub fn hover_markdown(loaded: &Loaded, id: &str) -> String {
    use crate::facts::{id_facts, IdFacts};
    let link = |at: &crate::facts::At| uri_at_line(&loaded.ws.root, &at.path, at.line - 1);
    let mut out = String::new();
    match id_facts(&loaded.ws, &loaded.analysis, id) {
        IdFacts::Chunk(chunk) => {
            let _ = writeln!(out, "**{id}** · {}\n", chunk.title);
            let topic = chunk.topic.as_deref().map(|t| format!(" · {t}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "`{}`{topic} · coverage: **{}** · fingerprint `{}`\n",
                chunk.priority, chunk.coverage, chunk.fingerprint
            );
            if !chunk.summary.is_empty() {
                let _ = writeln!(out, "{}\n", chunk.summary);
            }
            let work: Vec<String> = chunk
                .work_items
                .iter()
                .map(|w| format!("[{}]({}) {} ({})", w.id, link(&w.at), w.title, w.status))
                .collect();
            if work.is_empty() {
                let _ = writeln!(out, "- Work items: none");
            } else {
                let _ = writeln!(out, "- Work items: {}", work.join(", "));
            }
            if let (Some(code), Some(tests)) = (chunk.code_files, chunk.test_files) {
                let _ = writeln!(out, "- Code: {code} files · Tests: {tests} files");
            }
            if let Some(source) = &chunk.source {
                let _ = writeln!(out, "- Source: [{}:{}]({})", source.path, source.line, link(source));
            }
            out.push_str(&rewritten_since_review(loaded, id));
        }
        IdFacts::Work(item) => {
            let _ = writeln!(out, "**{id}** · {}\n", item.title);
            let phase = item.phase.as_deref().map(|p| format!("phase {p} · ")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{phase}status **{}** · risk **{}** · autopilot `{}`\n",
                item.status, item.risk, item.autopilot
            );
            match &item.lock {
                Some(lock) => {
                    let _ = writeln!(
                        out,
                        "Locked by **{}** since {} · scope `{}`\n",
                        lock.agent,
                        lock.acquired_at,
                        lock.scope_paths.join("`, `")
                    );
                }
                None => {
                    let _ = writeln!(out, "Not locked\n");
                }
            }
            if !item.pending_questions.is_empty() {
                let _ = writeln!(out, "Waiting for the owner (not dispatched, cannot become done):");
                for (question, text) in &item.pending_questions {
                    let _ = writeln!(out, "- **{question}** {text} (`concord answer {question} <letter>`)");
                }
                out.push('\n');
            }
            if !item.acceptance_criteria.is_empty() {
                let _ = writeln!(out, "Acceptance criteria:");
                for criterion in item.acceptance_criteria.iter().take(8) {
                    let _ = writeln!(out, "- {criterion}");
                }
                if item.acceptance_criteria.len() > 8 {
                    let _ = writeln!(out, "- … {} more", item.acceptance_criteria.len() - 8);
                }
                out.push('\n');
            }
            let chunks: Vec<String> = item
                .chunks
                .iter()
                .take(12)
                .map(|c| match &c.title {
                    Some(title) => format!("{} {title}", c.id),
                    None => format!("{} (unknown)", c.id),
                })
                .collect();
            if !chunks.is_empty() {
                let more = item.chunks.len().saturating_sub(12);
                let tail = if more > 0 { format!(", … {more} more") } else { String::new() };
                let _ = writeln!(out, "Chunks: {}{tail}\n", chunks.join(", "));
            }
            let _ = writeln!(out, "[Definition]({})", link(&item.definition));
        }
        IdFacts::Unknown { did_you_mean, .. } => {
            let _ = write!(out, "**{id}**: unknown ID, no chunk or work item has it.");
            if !did_you_mean.is_empty() {
                let options: Vec<String> = did_you_mean
                    .iter()
                    .map(|s| format!("{} ({})", s.id, s.title.as_deref().unwrap_or("")))
                    .collect();
                let _ = write!(out, " Did you mean {}?", options.join(" or "));
            }
        }
    }
    out.trim_end().to_string()
}

pub fn definition(loaded: &Loaded, id: &str, encoding: Encoding) -> Option<Location> {
    let model = &loaded.ws.model;
    let place = match model.chunks.get(id) {
        Some(chunk) => chunk.definition()?,
        None => &model.work.get(id)?.place,
    };
    loaded.location(place, encoding)
}

/// Every occurrence of `id`: files on disk, with open buffers' current text instead.
pub fn references(
    loaded: &Loaded,
    id: &str,
    open: &BTreeMap<String, FileFacts>,
    encoding: Encoding,
) -> Vec<Location> {
    let mut out = Vec::new();
    let disk = loaded.ws.files.iter().filter(|(path, _)| !open.contains_key(*path)).map(|(_, f)| &**f);
    for facts in disk.chain(open.values()) {
        for r in facts.refs.iter().filter(|r| *r.id == *id) {
            if let Some(u) = uri(&loaded.ws.root, &facts.path) {
                out.push(Location { uri: u, range: convert::range(r.span, encoding) });
            }
        }
    }
    // Ops files are not scanned as text, but their definitions are occurrences too.
    let model = &loaded.ws.model;
    if let Some(place) = model.chunks.get(id).and_then(|c| c.index_entry.as_ref()) {
        out.extend(loaded.location(place, encoding));
    }
    out.sort_by(|a, b| {
        (a.uri.as_str(), a.range.start.line, a.range.start.character).cmp(&(
            b.uri.as_str(),
            b.range.start.line,
            b.range.start.character,
        ))
    });
    out.dedup();
    out
}

/// Completion of IDs after a family prefix (`TD-`, `WBS-01`): the typed token is replaced.
pub fn completion(
    loaded: &Loaded,
    line: &str,
    position: Position,
    encoding: Encoding,
) -> Option<(Vec<CompletionItem>, bool)> {
    let column = byte_column(line, position.character, encoding);
    let before = &line[..column];
    let token_start =
        before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).map_or(0, |i| i + 1);
    let token = &before[token_start..];
    let (prefix, _) = token.split_once('-')?;
    let model = &loaded.ws.model;
    let family =
        loaded.ws.config.ids.families().iter().find(|f| f.pattern.starts_with(&format!("{prefix}-")))?;
    let start_char = crate::text::utf16_len(&line[..token_start]) as u32;
    let start_character = match encoding {
        Encoding::Utf16 => start_char,
        Encoding::Utf8 => token_start as u32,
    };
    let range = Range::new(Position::new(position.line, start_character), position);
    const LIMIT: usize = 500;
    let candidates: Box<dyn Iterator<Item = (&String, &str, &str)>> = match family.kind {
        IdKind::Chunk => {
            Box::new(model.chunks.values().map(|c| (&c.id, c.title.as_str(), c.summary.as_str())))
        }
        IdKind::Work => Box::new(model.work.values().map(|w| (&w.id, w.title.as_str(), ""))),
    };
    let mut items = Vec::new();
    let mut truncated = false;
    for (id, title, summary) in candidates.filter(|(id, _, _)| id.starts_with(token)) {
        if items.len() == LIMIT {
            truncated = true;
            break;
        }
        items.push(CompletionItem {
            label: id.clone(),
            kind: Some(CompletionItemKind::REFERENCE),
            detail: Some(title.to_string()),
            documentation: (!summary.is_empty()).then(|| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: summary.to_string(),
                })
            }),
            filter_text: Some(format!("{id} {title}")),
            sort_text: Some(id.clone()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text: id.clone() })),
            ..Default::default()
        });
    }
    Some((items, truncated))
}

pub fn workspace_symbols(loaded: &Loaded, query: &str, encoding: Encoding) -> Vec<SymbolInformation> {
    let query = query.to_lowercase();
    let model = &loaded.ws.model;
    let matches = |id: &str, title: &str| {
        query.is_empty() || id.to_lowercase().contains(&query) || title.to_lowercase().contains(&query)
    };
    let chunks = model.chunks.values().filter(|c| matches(&c.id, &c.title)).filter_map(|c| {
        Some((
            format!("{} {}", c.id, c.title),
            SymbolKind::STRING,
            loaded.location(c.definition()?, encoding)?,
            "spec chunk",
        ))
    });
    let work = model.work.values().filter(|w| matches(&w.id, &w.title)).filter_map(|w| {
        Some((
            format!("{} {}", w.id, w.title),
            SymbolKind::EVENT,
            loaded.location(&w.place, encoding)?,
            "work item",
        ))
    });
    #[allow(deprecated)]
    let symbols = chunks
        .chain(work)
        .take(256)
        .map(|(name, kind, location, container)| SymbolInformation {
            name,
            kind,
            tags: None,
            deprecated: None,
            location,
            container_name: Some(container.into()),
        })
        .collect();
    symbols
}

pub fn document_links(loaded: &Loaded, facts: &FileFacts, encoding: Encoding) -> Vec<DocumentLink> {
    let model = &loaded.ws.model;
    facts
        .refs
        .iter()
        .filter_map(|r| {
            let place = match model.chunks.get(r.id) {
                Some(chunk) => chunk.definition()?,
                None => &model.work.get(r.id)?.place,
            };
            // A definition does not link to itself.
            if place.path == facts.path && place.span == r.span {
                return None;
            }
            let target: Uri = loaded.link(place).parse().ok()?;
            Some(DocumentLink {
                range: convert::range(r.span, encoding),
                target: Some(target),
                tooltip: model.title_of(r.id).map(|t| format!("{}: {t}", r.id)),
                data: None,
            })
        })
        .collect()
}

/// Lenses: coverage on chunk headings, status and lock on work items.
pub fn code_lenses(loaded: &Loaded, facts: &FileFacts, encoding: Encoding) -> Vec<CodeLens> {
    let model = &loaded.ws.model;
    let lens = |span: crate::text::Span, title: String| CodeLens {
        range: convert::range(span, encoding),
        command: Some(Command { title, command: String::new(), arguments: None }),
        data: None,
    };
    let mut out = Vec::new();
    for heading in &facts.headings {
        if let Some(c) = loaded.analysis.coverage.get(&heading.id) {
            let title = format!(
                "{} WBS · {} code · {} test · {}",
                c.wbs_ids.len(),
                c.code_files,
                c.test_files,
                c.status.as_str()
            );
            out.push(lens(heading.place.span, title));
        }
    }
    // Item-level files: each item with the IDs it traces to (its own, inherited or the header's).
    let traces = crate::analysis::item_traces(&loaded.ws.config, model, facts);
    for (item, ids) in facts.items.iter().zip(traces) {
        let title = if ids.is_empty() {
            "traces to nothing".to_string()
        } else {
            format!("traces to {}", ids.join(", "))
        };
        out.push(lens(item.name_span, title));
    }
    for item in model.work.values().filter(|w| w.place.path == facts.path) {
        let lock = match model.lock_for_task(&item.id) {
            Some(l) => format!("locked by {}", l.agent),
            None => "no lock".to_string(),
        };
        let pending = model.pending_questions(&item.id).count();
        let waiting = match pending {
            0 => String::new(),
            1 => " · 1 owner question pending".to_string(),
            n => format!(" · {n} owner questions pending"),
        };
        let title = format!(
            "{} · {} · risk {} · {} chunks{waiting}",
            model.status_of(&item.id).as_str(),
            lock,
            item.risk.as_str(),
            item.blueprint_ids.len()
        );
        out.push(lens(item.place.span, title));
    }
    out
}

/// For a chunk rewritten since places tracing to it were reviewed: which places, and what
/// changed since the text they were checked against. Empty when nothing is stale.
fn rewritten_since_review(loaded: &Loaded, id: &str) -> String {
    let ws = &loaded.ws;
    let Some(chunk) = ws.model.chunks.get(id) else { return String::new() };
    let stale: Vec<(&crate::model::RefKey, &String)> = ws
        .model
        .reviewed
        .iter()
        .filter(|(key, recorded)| key.chunk == id && **recorded != chunk.fingerprint)
        .collect();
    let Some((_, older)) = stale.first() else { return String::new() };
    let mut places: Vec<String> = stale.iter().map(|(key, _)| crate::stale::place(key)).collect();
    let count = places.len();
    places.truncate(5);
    let more = if count > 5 { format!(" and {} more", count - 5) } else { String::new() };
    let mut out = format!(
        "\n**Rewritten since review**: {count} place(s) were checked against an older text: {}{more}. `concord ack {id} PLACE` once each is checked again.\n",
        places.join(", ")
    );
    match crate::ops::spec_history::what_changed(ws, chunk, older) {
        Some(diff) => out.push_str(&format!("\nWhat changed: {diff}\n")),
        None => out.push_str("\n(The older text is not in the last versions of its file in git, so no word diff can be shown.)\n"),
    }
    out
}
