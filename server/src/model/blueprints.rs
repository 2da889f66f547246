//! The blueprint index: a top-level array of chunks or an object with `chunks`.

use super::reader::FileReader;
use super::{shown, Chunk, Place};
use crate::config::{Config, Priority};
use crate::findings::{Code, Finding};
use crate::ids::IdKind;
use crate::json::Json;

const PRIORITIES: &[(&str, Priority)] =
    &[("must", Priority::Must), ("should", Priority::Should), ("could", Priority::Could)];

pub fn parse_index(config: &Config, path: &str, text: &str) -> (Vec<Chunk>, Vec<Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut chunks = Vec::new();
    let Some(root) = reader.parse(&["embedding"]) else {
        return (chunks, reader.findings);
    };
    let entries = match (root.as_array(), root.get("chunks")) {
        (Some(items), _) => items,
        (None, Some(list)) => match list.as_array() {
            Some(items) => items,
            None => {
                reader.malformed_at(
                    list,
                    format!("`chunks` must be an array of chunk objects, found {}", list.type_name()),
                );
                return (chunks, reader.findings);
            }
        },
        (None, None) => {
            reader.malformed_at(
                &root,
                "the blueprint index must be an array of chunks or an object with a `chunks` array",
            );
            return (chunks, reader.findings);
        }
    };
    for entry in entries {
        if let Some(chunk) = read_chunk(config, &mut reader, entry) {
            chunks.push(chunk);
        }
    }
    (chunks, reader.findings)
}

fn read_chunk(config: &Config, reader: &mut FileReader, entry: &Json) -> Option<Chunk> {
    if entry.as_members().is_none() {
        reader.malformed_at(entry, format!("a chunk must be an object, found {}", entry.type_name()));
        return None;
    }
    let (id, id_span) = reader.required_string(entry, "id", "a chunk")?;
    if config.ids.kind_of(&id) != Some(IdKind::Chunk) {
        let families: Vec<&str> = config
            .ids
            .families()
            .iter()
            .filter(|f| f.kind == IdKind::Chunk)
            .map(|f| f.pattern.as_str())
            .collect();
        reader.malformed_at(
            entry.get("id")?,
            format!("chunk id {id:?} does not match a chunk ID family ({})", families.join(", ")),
        );
        return None;
    }
    let what = format!("chunk {id}");
    let title = reader.required_string(entry, "title", &what).map(|(t, _)| t).unwrap_or_default();
    let title = shown_field(config, reader, entry, "title", &title, shown::TITLE_CHARS);
    let summary = reader.string(entry, "summary", &what).unwrap_or_default();
    let summary = shown_field(config, reader, entry, "summary", &summary, shown::TEXT_CHARS);
    let mut source = reader.string(entry, "source", &what);
    // `source` may carry the line as `path:LINE`; only the path is kept.
    if let Some(s) = &source {
        if let Some((file, line)) = s.rsplit_once(':') {
            if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) {
                source = Some(file.to_string());
            }
        }
    }
    if let Some(line) = reader.integer(entry, "line", &what) {
        if line < 1 {
            let value = entry.get("line")?;
            reader.malformed_at(value, format!("{what}: `line` is 1-based and must be at least 1"));
        }
    }
    let topic = reader.string(entry, "topic", &what);
    let priority = reader.choice(entry, "priority", &what, PRIORITIES, Priority::Should);
    if let Some(embedding) = entry.get("embedding") {
        // Skipped while parsing; only its shape is worth checking, cheaply.
        if !reader.text[embedding.start..].starts_with('[') && !embedding.is_null() {
            reader.malformed_at(embedding, format!("{what}: `embedding` must be an array of numbers"));
        }
    }
    // Stored by whatever wrote the index (computed from the markdown it ingested); else the
    // title and summary are all the text there is.
    let fingerprint = match reader.string(entry, "fingerprint", &what) {
        Some(f) if f.len() == 16 && f.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => f,
        Some(_) => {
            let value = entry.get("fingerprint")?;
            reader.malformed_at(
                value,
                format!("{what}: `fingerprint` must be 16 lowercase hex digits (model::fingerprint::chunk_fingerprint); remove it to have it computed"),
            );
            crate::model::fingerprint::chunk_fingerprint(&title, &summary)
        }
        None => crate::model::fingerprint::chunk_fingerprint(&title, &summary),
    };
    Some(Chunk {
        fingerprint,
        id,
        title,
        summary,
        source,
        topic,
        priority,
        index_entry: Some(Place { path: reader.path.to_string(), span: id_span }),
        heading: None,
    })
}

/// A chunk's `key` text as it is shown elsewhere (see [`shown`]). The index is not scanned as a
/// file (it can be very large), so a secret found in the text is reported here, where it is
/// written: exactly, when the JSON string has no escapes, else on the whole string.
fn shown_field(
    config: &Config,
    reader: &mut FileReader,
    entry: &Json,
    key: &str,
    text: &str,
    max_chars: usize,
) -> String {
    let (clean, secrets) = shown::shown_with_secrets(config, text, max_chars);
    let reported =
        !config.secrets_allow_paths.is_match(reader.path) && !config.secrets().is_path_allowed(reader.path);
    if let (Some(value), true) = (entry.get(key), reported) {
        let inner = (value.start + 1, value.end.saturating_sub(1).max(value.start + 1));
        let exact = reader.text.get(inner.0..inner.1) == Some(text);
        for secret in secrets {
            let span = if exact {
                reader.span(inner.0 + secret.start, inner.0 + secret.end)
            } else {
                reader.span_of(value)
            };
            let message = crate::findings::secret_message(
                secret.description,
                &secret.redacted,
                &config.secrets_baseline,
            );
            reader
                .findings
                .push(Finding::new(Code::Secret, reader.path, span, message).with_id(secret.rule_id));
        }
    }
    clean
}
