//! A chunk's fingerprint: a hash of its *normalised* text, so that reflowing a paragraph,
//! re-indenting a list or changing emphasis does not count as a change of what the chunk says.
//! Pure (text in, text out): the index loader, the markdown scanner and an ingest tool all
//! compute the same value from the same words.
//!
//! Normalisation, in order:
//! - fenced code blocks keep their content (it is part of the spec) but lose the fence lines;
//! - per line: leading heading marks (`#`), block quote marks (`>`), list markers (`-`, `*`, `+`,
//!   `1.`, `1)`), task boxes (`[ ]`, `[x]`) and table pipes are dropped; a line made only of
//!   table rule characters (`|`, `-`, `:`) or a thematic break (`---`, `***`, `___`) is dropped;
//! - inline: images `![alt](url)` become `alt`, links `[text](url)` become `text`, autolinks
//!   `<https://…>` their address, HTML comments and tags are dropped, and the emphasis and code
//!   marks `*`, `_` (at word edges), `` ` ``, `~~` are removed;
//! - whitespace (newlines included) is collapsed to single spaces and trimmed.
//!
//! The title and the body are normalised alone and joined by a newline, so text cannot move
//! between the two unnoticed. The fingerprint is the first 16 hex digits (64 bits) of the
//! SHA-256 of that text.

use sha2::{Digest, Sha256};

/// The normalised text of a chunk: its title, a newline, its body (see the module docs).
pub fn normalised_chunk_text(title: &str, body: &str) -> String {
    format!("{}\n{}", normalise(title), normalise(body))
}

/// The fingerprint of a chunk: 16 hex digits of the SHA-256 of [`normalised_chunk_text`].
/// `body` is the markdown section under the chunk's heading (or the index `summary` when the
/// chunk has no markdown).
pub fn chunk_fingerprint(title: &str, body: &str) -> String {
    fingerprint_of_normalised(&normalised_chunk_text(title, body))
}

/// The fingerprint of text already normalised (what a lock file may store to diff against).
pub fn fingerprint_of_normalised(normalised: &str) -> String {
    let digest = Sha256::digest(normalised.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Markdown text reduced to its words (see the module docs).
pub fn normalise(markdown: &str) -> String {
    let mut words = String::with_capacity(markdown.len());
    let mut in_fence: Option<&str> = None;
    let mut in_comment = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(fence) = in_fence {
            if trimmed.starts_with(fence) {
                in_fence = None;
            } else {
                push_words(&mut words, line);
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = Some(if trimmed.starts_with("```") { "```" } else { "~~~" });
            continue;
        }
        let mut text = line.to_string();
        if in_comment {
            match text.find("-->") {
                Some(end) => {
                    text = text[end + 3..].to_string();
                    in_comment = false;
                }
                None => continue,
            }
        }
        // A comment that opens here and does not close on this line.
        if let Some(start) = text.find("<!--") {
            if !text[start..].contains("-->") {
                text.truncate(start);
                in_comment = true;
            }
        }
        let block = strip_block_marks(&text);
        if is_rule_line(block) {
            continue;
        }
        push_words(&mut words, &strip_inline(block));
    }
    words
}

fn push_words(out: &mut String, text: &str) {
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// The line without heading, quote, list and task marks.
fn strip_block_marks(line: &str) -> &str {
    let mut rest = line.trim();
    loop {
        let before = rest;
        rest = rest.trim_start_matches('>').trim_start();
        if rest.starts_with('#') {
            let hashes = rest.bytes().take_while(|&b| b == b'#').count();
            if hashes <= 6 && rest[hashes..].starts_with([' ', '\t']) || hashes == rest.len() {
                rest = rest[hashes..].trim_start();
                rest = rest.trim_end().trim_end_matches('#').trim_end();
            }
        }
        for marker in ["- ", "* ", "+ "] {
            if let Some(after) = rest.strip_prefix(marker) {
                rest = after.trim_start();
            }
        }
        let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && digits <= 9 {
            let after = &rest[digits..];
            if let Some(after) = after.strip_prefix(". ").or_else(|| after.strip_prefix(") ")) {
                rest = after.trim_start();
            }
        }
        for task in ["[ ] ", "[x] ", "[X] "] {
            if let Some(after) = rest.strip_prefix(task) {
                rest = after.trim_start();
            }
        }
        if rest == before {
            return rest;
        }
    }
}

/// A table rule (`|---|:--:|`) or a thematic break (`---`, `***`, `___`, spaced or not).
fn is_rule_line(line: &str) -> bool {
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return false;
    }
    let table_rule = compact.contains('-') && compact.chars().all(|c| matches!(c, '|' | '-' | ':'));
    let thematic =
        compact.len() >= 3 && ["-", "*", "_"].iter().any(|m| compact.chars().all(|c| c.to_string() == *m));
    table_rule || thematic
}

/// Links and images to their text, HTML dropped, emphasis and code marks removed, table
/// pipes to spaces.
fn strip_inline(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // `![alt](url)` and `[text](url)`: keep the bracketed text, drop the target.
        if c == '[' || (c == '!' && chars.get(i + 1) == Some(&'[')) {
            let open = if c == '!' { i + 1 } else { i };
            if let Some(close) = find(&chars, open + 1, ']') {
                if chars.get(close + 1) == Some(&'(') {
                    if let Some(end) = find(&chars, close + 2, ')') {
                        out.push(' ');
                        out.extend(&chars[open + 1..close]);
                        out.push(' ');
                        i = end + 1;
                        continue;
                    }
                }
            }
        }
        if c == '<' {
            if let Some(end) = find(&chars, i + 1, '>') {
                let inner: String = chars[i + 1..end].iter().collect();
                if inner.starts_with("http://")
                    || inner.starts_with("https://")
                    || inner.starts_with("mailto:")
                {
                    out.push_str(&inner);
                    i = end + 1;
                    continue;
                }
                let tag = inner.starts_with("!--")
                    || inner.starts_with('/')
                    || inner.chars().next().is_some_and(|f| f.is_ascii_alphabetic());
                if tag {
                    out.push(' ');
                    i = end + 1;
                    continue;
                }
            }
        }
        match c {
            '`' | '*' | '|' => out.push(if c == '|' { ' ' } else { '\u{0}' }),
            '~' if chars.get(i + 1) == Some(&'~') => {
                i += 2;
                continue;
            }
            '_' => {
                // Emphasis only at a word's edge: `snake_case` keeps its underscore.
                let before = i.checked_sub(1).and_then(|p| chars.get(p)).is_some_and(|p| p.is_alphanumeric());
                let after = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if before && after {
                    out.push('_');
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out.replace('\u{0}', "")
}

fn find(chars: &[char], from: usize, wanted: char) -> Option<usize> {
    chars.get(from..)?.iter().position(|&c| c == wanted).map(|p| p + from)
}

/// The body of the markdown section a chunk heading opens: the lines after the heading line up
/// to the next heading of the same or a higher level (outside code fences), or the end.
/// `heading_line` is the 0-based line of the heading.
pub fn section_body(markdown: &str, heading_line: usize) -> &str {
    let mut offset = 0;
    let mut level = 0;
    let mut start = None;
    let mut in_fence = false;
    for (n, line) in markdown.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += line.len();
        if n < heading_line {
            continue;
        }
        let trimmed = line.trim_start();
        let hashes = line.bytes().take_while(|&b| b == b'#').count();
        let is_heading =
            !in_fence && hashes > 0 && hashes <= 6 && line[hashes..].starts_with([' ', '\t', '\n', '\r']);
        if n == heading_line {
            level = hashes.max(1);
            start = Some(offset);
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if is_heading && hashes <= level {
            return &markdown[start.unwrap_or(line_start)..line_start];
        }
    }
    start.map_or("", |s| &markdown[s.min(markdown.len())..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoration_and_whitespace_do_not_change_the_fingerprint() {
        let plain = chunk_fingerprint("Payments / Stripe", "Charge the card once. Retry on timeout.\n");
        let decorated = chunk_fingerprint(
            "**Payments** / Stripe",
            "\n\nCharge the *card*   once.\n  Retry on `timeout`.\n\n<!-- note: reviewed -->\n",
        );
        let listed = chunk_fingerprint("Payments / Stripe", "- Charge the card once.\n- Retry on timeout.\n");
        assert_eq!(plain, decorated);
        assert_eq!(plain, listed);
        assert_eq!(plain.len(), 16);
        assert!(plain.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn words_do_change_it() {
        let a = chunk_fingerprint("Payments", "Charge the card once.");
        assert_ne!(a, chunk_fingerprint("Payments", "Charge the card twice."));
        assert_ne!(a, chunk_fingerprint("Payments Charge", "the card once."));
        assert_ne!(a, chunk_fingerprint("payments", "Charge the card once."));
    }

    #[test]
    fn links_tables_and_code_keep_their_words() {
        assert_eq!(
            normalise("See [the API](https://x.test/api) and ![a diagram](d.png)."),
            "See the API and a diagram ."
        );
        assert_eq!(normalise("| a | b |\n|---|:-:|\n| 1 | 2 |\n"), "a b 1 2");
        assert_eq!(normalise("```rust\nlet retry_count = 3;\n```\n"), "let retry_count = 3;");
        assert_eq!(
            normalise("## Title ##\n> quoted _emphasis_ in snake_case\n---\n1. one\n- [x] done"),
            "Title quoted emphasis in snake_case one done"
        );
        assert_eq!(normalise("a <!-- hidden\nstill hidden --> b <br/> c ~~gone~~"), "a b c gone");
    }

    /// A chunk's fingerprint in the model: from its markdown section, else the index's stored
    /// value, else its title and summary; a reflow keeps it, an edit of the words changes it.
    #[test]
    fn the_model_fingerprints_each_chunk() {
        let config = crate::config::Config::default();
        let build = |md: &str| {
            let path = "docs/blueprints/spec.md";
            let facts = crate::scan::scan_text(&config, path, md);
            let index = crate::model::Source {
                path: config.paths.blueprint_index.clone(),
                text: r#"[{"id": "TD-0001", "title": "Payments", "fingerprint": "00112233445566ff"},
                          {"id": "TD-0002", "title": "Search", "summary": "Find things."},
                          {"id": "TD-0003", "title": "Bad", "fingerprint": "XYZ"}]"#
                    .into(),
            };
            let sources =
                crate::model::Sources { index: Some(index), headings: facts.headings, ..Default::default() };
            crate::model::Model::build(&config, &sources)
        };
        let model = build("## TD-0001 Payments\n\nCharge the card once.\n");
        assert_eq!(
            model.chunks["TD-0001"].fingerprint,
            chunk_fingerprint("Payments", "Charge the card once.")
        );
        assert_eq!(model.chunks["TD-0002"].fingerprint, chunk_fingerprint("Search", "Find things."));
        assert_eq!(model.chunks["TD-0003"].fingerprint, chunk_fingerprint("Bad", ""));
        assert!(model.findings.iter().any(|f| f.message.contains("`fingerprint` must be 16 lowercase hex")));
        let reflowed = build("## TD-0001 Payments\n\nCharge the\n*card* once.\n");
        assert_eq!(reflowed.chunks["TD-0001"].fingerprint, model.chunks["TD-0001"].fingerprint);
        let edited = build("## TD-0001 Payments\n\nCharge the card twice.\n");
        assert_ne!(edited.chunks["TD-0001"].fingerprint, model.chunks["TD-0001"].fingerprint);
        // Without markdown the stored value is used.
        let stored = build("# nothing here\n");
        assert_eq!(stored.chunks["TD-0001"].fingerprint, "00112233445566ff");
    }

    #[test]
    fn the_section_runs_to_the_next_heading_of_its_level() {
        let md = "# Spec\n\n## TD-0001 Payments\n\nCharge.\n\n### Detail\n\nMore.\n```\n## not a heading\n```\n## TD-0002 Search\n\nFind.\n";
        assert_eq!(section_body(md, 2), "\nCharge.\n\n### Detail\n\nMore.\n```\n## not a heading\n```\n");
        assert_eq!(section_body(md, 12), "\nFind.\n");
        assert_eq!(section_body(md, 99), "");
    }
}
