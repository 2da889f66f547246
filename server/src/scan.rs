//! Facts about one file, from its text alone: the IDs it names (with exact ranges), the
//! chunk headings it defines, and what kind of file it is. Pure: no I/O, so the language
//! server can run it on an unsaved buffer and the CLI on a file read from disk.

use serde::{Deserialize, Serialize};

use crate::config::{is_under, Config};
use crate::ids::IdKind;
use crate::languages::Role;
use crate::model::{Heading, Place};
use crate::text::{LineIndex, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FileKind {
    Code,
    Test,
    Doc,
    Other,
}

impl FileKind {
    pub fn of(config: &Config, path: &str) -> FileKind {
        match crate::languages::of_path(path).map(|spec| spec.role) {
            Some(Role::Source) if config.is_test(path) => FileKind::Test,
            Some(Role::Source) => FileKind::Code,
            Some(Role::Doc) => FileKind::Doc,
            Some(Role::Other) | None => FileKind::Other,
        }
    }
}

/// Compact: a large workspace holds a million of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// Interned: a workspace names the same few thousand IDs a million times.
    #[serde(deserialize_with = "crate::cache::static_str")]
    pub id: crate::cache::StaticStr,
    /// It counts as a trace: in a parsed language, inside a comment or docstring (an ID in a
    /// string literal is data); elsewhere, any occurrence.
    pub traces: bool,
    pub span: Span,
    /// Byte offsets in the file (a file Concord reads is far smaller than 4 GiB).
    pub start: u32,
    pub end: u32,
    /// A pin written after the ID, `TD-0103@9f2c4e1a`: the leading hex digits (4 to 16,
    /// lower-cased) of the chunk's fingerprint the reference was written against.
    pub pin: Option<Box<Pin>>,
}

impl Reference {
    /// The bytes `start..end` of the file.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A pin: the fingerprint prefix and where it is (after the `@`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub fingerprint: String,
    pub span: Span,
}

/// The pin right after an ID ending at `end`: `@` and 4 to 16 hex digits, not followed by
/// another word character.
fn pin_at(text: &str, end: usize, index: &LineIndex) -> Option<Pin> {
    let rest = text[end..].strip_prefix('@')?;
    let digits = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
    let after = rest.as_bytes().get(digits);
    if !(4..=16).contains(&digits) || after.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') {
        return None;
    }
    Some(Pin {
        fingerprint: rest[..digits].to_ascii_lowercase(),
        span: index.span(text, end + 1, end + 1 + digits),
    })
}

/// A credential found in the text (never the credential itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretHit {
    #[serde(deserialize_with = "crate::cache::static_str")]
    pub rule_id: crate::cache::StaticStr,
    #[serde(deserialize_with = "crate::cache::static_str")]
    pub description: crate::cache::StaticStr,
    pub span: Span,
    pub redacted: String,
    pub fingerprint: String,
}

/// A function, method, class or test found by the tree-sitter queries (item-level files only).
/// Compact: a real tree holds hundreds of thousands of them at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFacts {
    pub kind: crate::items::ItemKind,
    pub is_test: bool,
    pub is_public: bool,
    /// Index of the enclosing item.
    pub parent: Option<u32>,
    pub name: Box<str>,
    /// A name lies on one line: its line, start column and end column.
    pub name_span: Span,
    /// IDs in the comments attributed to it: its leading comments, doc comment or docstring,
    /// and comments in its body outside its nested items.
    pub ids: Box<[String]>,
    /// The line a tag comment goes on (the line of its first decorator or leading comment),
    /// and the indentation it takes.
    pub insert_line: u32,
    pub indent: Box<str>,
    /// The words of its leading comments that suggestions match on, each once, space-separated
    /// ([`crate::suggest::distinct_unstemmed_words`]): a long doc comment costs a few words.
    pub doc: Box<str>,
}

impl ItemFacts {
    /// What its ID suggestions match on: the words of its name, then those of its doc comment.
    pub fn suggestion_words(&self) -> Vec<String> {
        let mut query = crate::suggest::words(&self.name);
        query.extend(self.doc.split(' ').filter(|w| !w.is_empty()).map(crate::suggest::stem));
        query
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    pub path: String,
    pub kind: FileKind,
    /// The file must carry a trace (config `trace.include` minus `trace.exclude`).
    pub must_trace: bool,
    pub refs: Vec<Reference>,
    pub headings: Vec<Heading>,
    pub secrets: Vec<SecretHit>,
    /// Item-level files: the items, in order (empty otherwise).
    pub items: Vec<ItemFacts>,
    /// IDs in the file header: the leading comments of the file that lead no item.
    pub header_ids: Vec<String>,
    /// The line comment syntax of the file's language, when it is parsed.
    #[serde(deserialize_with = "crate::cache::static_str_option")]
    pub line_comment: Option<crate::cache::StaticStr>,
    /// The text starts with `#!` (a fix that inserts at the top goes below that line).
    pub shebang: bool,
}

pub fn scan_text(config: &Config, path: &str, text: &str) -> FileFacts {
    let kind = FileKind::of(config, path);
    let mut refs = Vec::new();
    let mut index: Option<LineIndex> = None;
    for m in config.ids.find_iter(text.as_bytes()) {
        // Offsets are kept in 32 bits: past 4 GiB (never read: see `max_file_size`) no ID counts.
        let (Ok(start), Ok(end)) = (u32::try_from(m.start), u32::try_from(m.end)) else { break };
        let index = index.get_or_insert_with(|| LineIndex::new(text));
        refs.push(Reference {
            id: crate::cache::intern(&text[m.start..m.end]),
            traces: true,
            span: index.span(text, m.start, m.end),
            start,
            end,
            pin: pin_at(text, m.end, index).map(Box::new),
        });
    }
    refs.shrink_to_fit();
    // Parsed only when it can matter: IDs to place in comments, or items to trace.
    let language = crate::items::Language::from_path(path);
    let must_trace = config.must_trace.matches(path);
    let item_level = must_trace && kind != FileKind::Doc && config.item_level(path);
    // An ID on a line that starts with a comment marker is in a comment: no parse needed. Only
    // the others (a docstring, a string, code) are settled by the tree-sitter comment query.
    let on_comment_line: Vec<bool> = match language {
        Some(l) if config.comments_only => refs.iter().map(|r| starts_comment_line(l, text, r)).collect(),
        _ => vec![true; refs.len()],
    };
    let parsed = language
        .filter(|_| item_level || on_comment_line.iter().any(|quick| !quick))
        .map(|l| crate::items::parse(config.queries(), l, text));
    if config.comments_only && language.is_some() {
        for (r, quick) in refs.iter_mut().zip(&on_comment_line) {
            r.traces = *quick || parsed.as_ref().is_some_and(|p| comment_at(&p.comments, r.range().start));
        }
    }
    let (items, header_ids) = match (&parsed, item_level) {
        (Some(parsed), true) => {
            let index = index.get_or_insert_with(|| LineIndex::new(text));
            items_of(parsed, &refs, text, index)
        }
        _ => (Vec::new(), Vec::new()),
    };
    let headings =
        if kind == FileKind::Doc && is_under(path, &config.paths.blueprints_dir) && !refs.is_empty() {
            chunk_headings(config, path, text, index.as_ref().expect("refs imply an index"))
        } else {
            Vec::new()
        };
    let secrets = if config.secrets_allow_paths.is_match(path) {
        Vec::new()
    } else {
        let found = config.secrets().scan_file(path, text);
        if !found.is_empty() && index.is_none() {
            index = Some(LineIndex::new(text));
        }
        found
            .into_iter()
            .map(|s| SecretHit {
                rule_id: s.rule_id,
                description: s.description,
                span: index.as_ref().expect("set above").span(text, s.start, s.end),
                redacted: s.redacted,
                fingerprint: s.fingerprint,
            })
            .collect()
    };
    FileFacts {
        path: path.to_string(),
        secrets,
        items,
        header_ids,
        line_comment: language.map(|l| l.line_comment()),
        kind,
        must_trace,
        refs,
        headings,
        shebang: text.starts_with("#!"),
    }
}

/// The reference's line, up to the reference, starts with the language's comment marker
/// (`//`, `/*`, a `*` continuing a block comment, or `#`).
fn starts_comment_line(language: crate::items::Language, text: &str, r: &Reference) -> bool {
    let line_start = r.range().start - r.span.start.utf8 as usize;
    let prefix = text[line_start..r.range().start].trim_start();
    match language.line_comment() {
        "#" => prefix.starts_with('#'),
        _ => prefix.starts_with("//") || prefix.starts_with("/*") || prefix.starts_with('*'),
    }
}

fn comment_at(comments: &[crate::items::Comment], at: usize) -> bool {
    let i = comments.partition_point(|c| c.end <= at);
    comments.get(i).is_some_and(|c| c.start <= at)
}

/// The items of a parsed file with the IDs that tag each directly, and the file header's IDs.
/// An ID in a comment tags the comment's owner (see [`crate::items::Item::comments`]); one
/// outside comments (when any occurrence traces) tags the innermost item holding it.
fn items_of(
    parsed: &crate::items::ParsedFile,
    refs: &[Reference],
    text: &str,
    index: &LineIndex,
) -> (Vec<ItemFacts>, Vec<String>) {
    let ids_in_comments = |comments: &[usize]| -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for &c in comments {
            let comment = &parsed.comments[c];
            let first = refs.partition_point(|r| r.range().start < comment.start);
            for r in refs[first..].iter().take_while(|r| r.range().end <= comment.end) {
                if r.traces && !ids.iter().any(|id| id == r.id) {
                    ids.push(r.id.to_string());
                }
            }
        }
        ids
    };
    let mut outside_comments: Vec<Vec<&str>> = vec![Vec::new(); parsed.items.len()];
    for r in refs.iter().filter(|r| r.traces && !comment_at(&parsed.comments, r.range().start)) {
        if let Some(i) = parsed.innermost_item(r.range().start, r.range().end) {
            outside_comments[i].push(r.id);
        }
    }
    let items = parsed
        .items
        .iter()
        .zip(outside_comments)
        .map(|(item, outside)| {
            let mut ids = ids_in_comments(&item.comments);
            for id in outside {
                if !ids.iter().any(|known| known == id) {
                    ids.push(id.to_string());
                }
            }
            let mut leading = String::new();
            for &c in &item.leading_comments {
                let comment = &parsed.comments[c];
                leading.push_str(&text[comment.start..comment.end]);
                leading.push(' ');
            }
            let doc = crate::suggest::distinct_unstemmed_words(&leading).join(" ");
            ItemFacts {
                kind: item.kind,
                is_test: item.is_test,
                is_public: item.is_public,
                parent: item.parent.map(|p| p as u32),
                name: item.name.as_str().into(),
                name_span: index.span(text, item.name_start, item.name_end),
                ids: ids.into_boxed_slice(),
                insert_line: index.line_col(text, item.insert_at).line,
                indent: item.indent.as_str().into(),
                doc: doc.into_boxed_str(),
            }
        })
        .collect();
    (items, ids_in_comments(&parsed.header))
}

/// `## TD-0103 Payments / Stripe` defines TD-0103 with the title "Payments / Stripe".
pub(crate) fn chunk_headings(config: &Config, path: &str, text: &str, index: &LineIndex) -> Vec<Heading> {
    let mut headings = Vec::new();
    for heading in crate::text::atx_headings(text, 0) {
        let (body, body_start, line_start) = (heading.rest, heading.text_start, heading.line_start);
        let Some(id) = config.ids.leading_id(body) else {
            continue;
        };
        if config.ids.kind_of(id) != Some(IdKind::Chunk) {
            continue;
        }
        let title = body[id.len()..]
            .trim_end()
            .trim_end_matches('#')
            .trim()
            .trim_start_matches([':', '-', '–', '—', '.'])
            .trim()
            .to_string();
        let line_number = index.line_of(line_start);
        let fingerprint = crate::model::fingerprint::chunk_fingerprint(
            &title,
            crate::model::fingerprint::section_body(text, line_number),
        );
        headings.push(Heading {
            fingerprint,
            id: id.to_string(),
            title,
            place: Place {
                path: path.to_string(),
                span: index.span(text, body_start, body_start + id.len()),
            },
        });
    }
    headings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_define_chunks_outside_code_fences() {
        let config = Config::default();
        let text = "# Payments\n\n## TD-0103 Payments / Stripe\nSee NT-0007.\n```\n## TD-0999 not a heading\n```\n### NT-0007: Guest checkout ##\n## WBS-001 not a chunk\n#TD-0001 no space\n";
        let facts = scan_text(&config, "docs/blueprints/technical/payments.md", text);
        let got: Vec<(&str, &str, u32)> = facts
            .headings
            .iter()
            .map(|h| (h.id.as_str(), h.title.as_str(), h.place.span.start.line))
            .collect();
        assert_eq!(got, vec![("TD-0103", "Payments / Stripe", 2), ("NT-0007", "Guest checkout", 7)]);
        assert_eq!(facts.headings[0].place.span.start.utf16, 3);
        assert_eq!(facts.refs.len(), 6);
    }

    #[test]
    fn kinds_follow_extensions_and_test_globs() {
        let config = Config::default();
        assert_eq!(FileKind::of(&config, "services/payments/stripe.py"), FileKind::Code);
        assert_eq!(FileKind::of(&config, "tests/python/test_stripe.py"), FileKind::Test);
        assert_eq!(FileKind::of(&config, "web/src/cart.test.ts"), FileKind::Test);
        assert_eq!(FileKind::of(&config, "docs/PROGRESS.md"), FileKind::Doc);
        assert_eq!(FileKind::of(&config, "ops/wbs.json"), FileKind::Other);
    }
}
