//! The parts of a spec markdown file `concord ingest` reads beyond its ID headings: the front
//! matter, the outline of headings (for topics and for which headings get new IDs), and the
//! heading edits of `--assign-ids`. Pure: text in, data out.

use crate::formats::Priority;
use crate::text::BOM;

/// What a file's front matter sets for its chunks.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FrontMatter {
    pub topic: Option<String>,
    pub priority: Option<Priority>,
    /// The family new IDs of this file are numbered in, with its 0-based line.
    pub id_family: Option<(String, usize)>,
    /// The number of lines the block takes (0 without front matter).
    pub lines: usize,
}

/// Front matter that cannot be read: the 0-based line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterError {
    pub line: usize,
    pub message: String,
}

const KEYS_READ: [&str; 3] = ["topic", "priority", "id_family"];

/// The `---` block opening a file: `key: value` lines (values optionally quoted, `#` comments),
/// closed by `---` or `...`. Keys other than `topic`, `priority` and `id_family` are other
/// tools' and are skipped, nested values under them included; the keys read take one value on
/// their own line.
pub fn front_matter(text: &str) -> Result<FrontMatter, FrontMatterError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut lines = crate::text::lines_inclusive(text).map(|l| l.trim_end_matches(['\n', '\r']));
    if lines.next().map(str::trim_end) != Some("---") {
        return Ok(FrontMatter::default());
    }
    let error = |line: usize, message: String| Err(FrontMatterError { line, message });
    let mut out = FrontMatter::default();
    let mut last_key: Option<&str> = None;
    for (n, line) in lines.enumerate() {
        let n = n + 1;
        let trimmed = line.trim();
        if line.trim_end() == "---" || line.trim_end() == "..." {
            out.lines = n + 1;
            return Ok(out);
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) || trimmed.starts_with("- ") || trimmed == "-" {
            match last_key {
                None => return error(n, "a nested value with no key above it".into()),
                Some(key) if KEYS_READ.contains(&key) => {
                    return error(n, format!("`{key}` takes one value, on its own line: `{key}: value`"))
                }
                Some(_) => continue,
            }
        }
        let Some((key, value)) = line.split_once(':') else {
            return error(n, format!("expected `key: value`, found {trimmed:?}"));
        };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return error(n, format!("{key:?} is not a key (letters, digits, `_` and `-`)"));
        }
        last_key = Some(key);
        if !KEYS_READ.contains(&key) {
            continue;
        }
        let value = scalar(value).map_err(|message| FrontMatterError { line: n, message })?;
        if value.is_empty() {
            return error(n, format!("`{key}` has no value"));
        }
        let taken = match key {
            "topic" => out.topic.replace(value).is_some(),
            "priority" => {
                let priority = match value.to_ascii_lowercase().as_str() {
                    "must" => Priority::Must,
                    "should" => Priority::Should,
                    "could" => Priority::Could,
                    _ => return error(n, format!("priority {value:?} is not one of must, should, could")),
                };
                out.priority.replace(priority).is_some()
            }
            _ => out.id_family.replace((value, n)).is_some(),
        };
        if taken {
            return error(n, format!("`{key}` is set twice"));
        }
    }
    error(0, "the front matter opened here is never closed: end it with a `---` line (or remove this line if it is not front matter)".into())
}

/// A one-line value: quoted (`"…"`, `'…'`) or plain, a plain value ending at ` #`.
fn scalar(value: &str) -> Result<String, String> {
    let value = value.trim();
    for quote in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(quote) {
            let Some(end) = rest.find(quote) else {
                return Err(format!("the value {value:?} opens a quote it does not close"));
            };
            let after = rest[end + 1..].trim();
            if !after.is_empty() && !after.starts_with('#') {
                return Err(format!("unexpected text {after:?} after the quoted value"));
            }
            return Ok(rest[..end].trim().to_string());
        }
    }
    let plain = value.split(" #").next().unwrap_or_default().trim();
    Ok(plain.to_string())
}

/// One ATX heading (`## Title`) outside code fences and front matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineHeading {
    /// 0-based line.
    pub line: usize,
    pub level: usize,
    /// Byte offset in the file where the heading's text starts (after `## `).
    pub text_start: usize,
    /// The heading's text, without the closing `#`s.
    pub text: String,
}

/// The headings of a file, as the scanner finds chunk headings: a line starting with one to six
/// `#` and a space or tab, outside ``` and ~~~ fences; the front matter's lines are skipped.
pub fn outline(text: &str, front_matter_lines: usize) -> Vec<OutlineHeading> {
    crate::text::atx_headings(text, front_matter_lines)
        .map(|h| {
            let text = h.rest.trim_end_matches(['\n', '\r']).trim_end().trim_end_matches('#').trim_end();
            OutlineHeading { line: h.line, level: h.level, text_start: h.text_start, text: text.to_string() }
        })
        .collect()
}

/// The topic of the chunk heading at `index` of the outline: the nearest enclosing heading (of
/// a lower level, not closed by another heading of its level or lower) that is not a chunk.
pub fn enclosing_topic(
    outline: &[OutlineHeading],
    index: usize,
    is_chunk: impl Fn(&OutlineHeading) -> bool,
) -> Option<&OutlineHeading> {
    let mut level = outline.get(index)?.level;
    for heading in outline[..index].iter().rev() {
        if heading.level < level {
            if !is_chunk(heading) {
                return Some(heading);
            }
            level = heading.level;
        }
    }
    None
}

/// The headings `--assign-ids` gives an ID, as indexes into the outline: those without an ID
/// at the chunk levels (the levels of the file's chunk headings, else `default_level`), except
/// a heading that holds chunk headings below it, which stays their topic, and an empty one.
pub fn headings_needing_ids(
    outline: &[OutlineHeading],
    is_chunk: impl Fn(&OutlineHeading) -> bool,
    has_id: impl Fn(&OutlineHeading) -> bool,
    default_level: usize,
) -> Vec<usize> {
    let chunk: Vec<bool> = outline.iter().map(&is_chunk).collect();
    let mut levels: Vec<usize> =
        outline.iter().zip(&chunk).filter(|(_, c)| **c).map(|(h, _)| h.level).collect();
    if levels.is_empty() {
        levels.push(default_level);
    }
    let mut out = Vec::new();
    for (i, heading) in outline.iter().enumerate() {
        if !levels.contains(&heading.level) || heading.text.is_empty() || has_id(heading) {
            continue;
        }
        let holds_chunks = outline[i + 1..]
            .iter()
            .zip(&chunk[i + 1..])
            .take_while(|(h, _)| h.level > heading.level)
            .any(|(_, c)| *c);
        if !holds_chunks {
            out.push(i);
        }
    }
    out
}

/// One heading `--assign-ids` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadingEdit {
    /// 0-based line.
    pub line: usize,
    /// Where `ID ` goes: the start of the heading's text.
    pub at: usize,
    pub id: String,
}

/// `text` with each edit's `ID ` inserted; every other byte (line endings, BOM) as it was.
pub fn apply_edits(text: &str, edits: &[HeadingEdit]) -> String {
    let mut out = String::with_capacity(text.len() + edits.len() * 12);
    let mut done = 0;
    let mut sorted: Vec<&HeadingEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.at);
    for edit in sorted {
        out.push_str(&text[done..edit.at]);
        out.push_str(&edit.id);
        out.push(' ');
        done = edit.at;
    }
    out.push_str(&text[done..]);
    out
}

/// The edits as a unified diff of the heading lines (`--dry-run`).
pub fn heading_diff(path: &str, text: &str, edits: &[HeadingEdit]) -> String {
    if edits.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = crate::text::lines_inclusive(text).collect();
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let mut sorted: Vec<&HeadingEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.at);
    for edit in sorted {
        let line = lines.get(edit.line).copied().unwrap_or_default();
        let line_start = text[..edit.at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let old = line.trim_end_matches(['\n', '\r']).trim_start_matches(BOM);
        let column = edit.at - line_start - (line.len() - line.trim_start_matches(BOM).len());
        let new = format!("{}{} {}", &old[..column.min(old.len())], edit.id, &old[column.min(old.len())..]);
        out.push_str(&format!("@@ -{n} +{n} @@\n-{old}\n+{new}\n", n = edit.line + 1));
    }
    out
}

/// The most digits a new ID is padded to (a pattern may ask for absurdly many).
const MAX_WIDTH: usize = 20;

/// How new IDs of a family are spelt and where numbering goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbering {
    pub prefix: String,
    /// Digits, zero-padded.
    pub width: usize,
    pub next: u64,
}

impl Numbering {
    /// The family's numbering after the IDs already `taken` (its own, as `prefix` + digits):
    /// the next number after the highest, as wide as that ID; with none taken, from the
    /// pattern (`TD-\d{4}` → `TD-0001`).
    pub fn after(family: &str, pattern: &str, taken: impl Iterator<Item = impl AsRef<str>>) -> Numbering {
        let mut best: Option<(u64, String, usize)> = None;
        for id in taken {
            let id = id.as_ref();
            let digits = id.bytes().rev().take_while(u8::is_ascii_digit).count();
            let Ok(number) = id[id.len() - digits..].parse::<u64>() else { continue };
            if best.as_ref().is_none_or(|(n, _, _)| number > *n) {
                best = Some((number, id[..id.len() - digits].to_string(), digits));
            }
        }
        match best {
            Some((number, prefix, width)) => {
                Numbering { prefix, width: width.min(MAX_WIDTH), next: number.saturating_add(1) }
            }
            None => {
                let (prefix, width) = pattern_shape(pattern).unwrap_or((format!("{family}-"), 4));
                Numbering { prefix, width: width.min(MAX_WIDTH), next: 1 }
            }
        }
    }

    /// The ID of number `n`.
    pub fn id(&self, n: u64) -> String {
        format!("{}{:0width$}", self.prefix, n, width = self.width)
    }
}

/// The literal prefix and digit count of a pattern like `TD-\d{4}` or `REQ-[0-9]+`.
fn pattern_shape(pattern: &str) -> Option<(String, usize)> {
    let digit_at = pattern.find("\\d").or_else(|| pattern.find("[0-9]"))?;
    let prefix = &pattern[..digit_at];
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return None;
    }
    let rest = &pattern[digit_at..];
    let rest = rest.strip_prefix("\\d").or_else(|| rest.strip_prefix("[0-9]"))?;
    let width = match rest.strip_prefix('{') {
        Some(count) => count.split(['}', ',']).next()?.parse().ok()?,
        None => 1,
    };
    Some((prefix.to_string(), width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_read_by_hand_and_its_errors_name_the_line() {
        let ok = |text: &str| front_matter(text).unwrap();
        let bad = |text: &str| front_matter(text).unwrap_err();
        // (text, topic, priority, family, lines)
        type Case<'a> = (&'a str, Option<&'a str>, Option<Priority>, Option<&'a str>, usize);
        let cases: &[Case] = &[
            ("# No front matter\n", None, None, None, 0),
            (
                "---\ntopic: Payments\npriority: Must\n---\n# T\n",
                Some("Payments"),
                Some(Priority::Must),
                None,
                4,
            ),
            (
                "\u{FEFF}---\r\ntopic: \"Zahlungen: Karte\" # de\r\n---\r\n",
                Some("Zahlungen: Karte"),
                None,
                None,
                3,
            ),
            (
                "---\ntitle: Other tools' key\ntags:\n  - a\n  - b\nid_family: NT\n...\n",
                None,
                None,
                Some("NT"),
                7,
            ),
            ("---\n# a comment\n\ntopic: 'Café' \n---\n", Some("Café"), None, None, 5),
            ("---\ntopic: plain # comment\n---\n", Some("plain"), None, None, 3),
        ];
        for (text, topic, priority, family, lines) in cases {
            let fm = ok(text);
            assert_eq!(fm.topic.as_deref(), *topic, "{text:?}");
            assert_eq!(fm.priority, *priority, "{text:?}");
            assert_eq!(fm.id_family.as_ref().map(|f| f.0.as_str()), *family, "{text:?}");
            assert_eq!(fm.lines, *lines, "{text:?}");
        }
        // (text, 0-based line, words of the message)
        let errors: &[(&str, usize, &str)] = &[
            ("---\ntopic: Payments\n", 0, "never closed"),
            ("---\ntopic Payments\n---\n", 1, "expected `key: value`"),
            ("---\npriority: urgent\n---\n", 1, "not one of must, should, could"),
            ("---\ntopic: a\ntopic: b\n---\n", 2, "set twice"),
            ("---\ntopic:\n  - a\n---\n", 1, "has no value"),
            ("---\ntopic: \"open\n---\n", 1, "does not close"),
            ("---\n  nested: x\n---\n", 1, "no key above it"),
            ("---\nbad key: x\n---\n", 1, "is not a key"),
        ];
        for (text, line, words) in errors {
            let error = bad(text);
            assert_eq!(error.line, *line, "{text:?}: {error:?}");
            assert!(error.message.contains(words), "{text:?}: {error:?}");
        }
    }

    #[test]
    fn topics_are_the_nearest_enclosing_heading_that_is_no_chunk() {
        let text = "# Payments\n## TD-0001 Refunds\n### TD-0002 Partial\n## Cards\n### TD-0003 Visa\n# TD-0004 Top\n## TD-0005 Under\n```\n# not a heading\n```\n";
        let outline = outline(text, 0);
        assert_eq!(outline.len(), 7);
        let is_chunk = |h: &OutlineHeading| h.text.starts_with("TD-");
        let topic = |i: usize| enclosing_topic(&outline, i, is_chunk).map(|h| h.text.as_str());
        assert_eq!(
            [topic(1), topic(2), topic(4), topic(5), topic(6)],
            [Some("Payments"), Some("Payments"), Some("Cards"), None, None]
        );
    }

    #[test]
    fn ids_go_to_the_chunk_level_and_topics_keep_theirs() {
        let is_chunk = |h: &OutlineHeading| h.text.starts_with("TD-");
        let has_id = |h: &OutlineHeading| h.text.starts_with("TD-") || h.text.starts_with("WBS-");
        // (markdown, default level, texts of the headings that get an ID)
        let cases: &[(&str, usize, &[&str])] = &[
            ("# Spec\n## A\n## B\n### detail\n", 2, &["A", "B"]),
            ("# Spec\n## A\n", 3, &[]),
            ("# Spec\n### TD-0001 X\n### Y\n## Z\n", 2, &["Y"]),
            ("## Topic\n### TD-0001 X\n## Leaf\n### TD-0002 Y\n### New\n", 3, &["New"]),
            ("## Holds\n### TD-0001 X\n## TD-0002 Y\n## New\n## WBS-001 Work\n##   \n", 2, &["New"]),
        ];
        for (text, level, expected) in cases {
            let outline = outline(text, 0);
            let got: Vec<&str> = headings_needing_ids(&outline, is_chunk, has_id, *level)
                .into_iter()
                .map(|i| outline[i].text.as_str())
                .collect();
            assert_eq!(&got, expected, "{text:?}");
        }
    }

    #[test]
    fn edits_change_the_heading_and_nothing_else() {
        let text = "\u{FEFF}## Zahlungsarten äöü\r\n\r\nText.\r\n## Second ##\r\n";
        let outline = outline(text, 0);
        let edits: Vec<HeadingEdit> = outline
            .iter()
            .zip(["TD-0007", "TD-0008"])
            .map(|(h, id)| HeadingEdit { line: h.line, at: h.text_start, id: id.into() })
            .collect();
        assert_eq!(
            apply_edits(text, &edits),
            "\u{FEFF}## TD-0007 Zahlungsarten äöü\r\n\r\nText.\r\n## TD-0008 Second ##\r\n"
        );
        assert_eq!(
            heading_diff("docs/a.md", text, &edits),
            "--- a/docs/a.md\n+++ b/docs/a.md\n@@ -1 +1 @@\n-## Zahlungsarten äöü\n+## TD-0007 Zahlungsarten äöü\n@@ -4 +4 @@\n-## Second ##\n+## TD-0008 Second ##\n"
        );
    }

    #[test]
    fn numbering_goes_on_after_the_highest_id_with_its_width() {
        let after = |taken: &[&str], pattern: &str| Numbering::after("TD", pattern, taken.iter());
        let numbering = after(&["TD-0009", "TD-0103", "TD-0002"], r"TD-\d{4}");
        assert_eq!(numbering.id(numbering.next), "TD-0104");
        assert_eq!(after(&[], r"TD-\d{4}").id(1), "TD-0001");
        assert_eq!(after(&[], r"REQ-[0-9]+").id(12), "REQ-12");
        assert_eq!(after(&[], r"(?:weird)").id(3), "TD-0003");
        assert_eq!(after(&["TD-0999"], r"TD-\d{3,4}").next, 1000);
    }
}
