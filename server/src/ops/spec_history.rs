//! What a chunk said before: its markdown section at an older fingerprint, found in the git
//! history of the file that defines it, for the hover's "what changed" of a stale reference.

use std::path::Path;

use crate::config::Config;
use crate::model::fingerprint::{normalised_chunk_text, section_body};
use crate::model::Chunk;

/// How many versions of the defining file are looked through, newest first.
const VERSIONS: &str = "40";

/// The normalised text (title, newline, body) of `chunk` when its fingerprint was
/// `fingerprint`, from the newest versions of the markdown file its heading is in; `None` when
/// the chunk has no heading, the folder is not a git repository, or no version matches.
pub fn text_at(root: &Path, config: &Config, chunk: &Chunk, fingerprint: &str) -> Option<String> {
    let path = &chunk.heading.as_ref()?.path;
    let log = super::git::git_at(root, &["log", "--format=%H", "-n", VERSIONS, "--", path]).ok()?;
    for commit in String::from_utf8_lossy(&log).lines().filter(|l| !l.is_empty()) {
        let Ok(bytes) = super::git::git_at(root, &["show", &format!("{commit}:{path}")]) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        let facts = crate::scan::scan_text(config, path, &text);
        if let Some(heading) =
            facts.headings.iter().find(|h| h.id == chunk.id && h.fingerprint == fingerprint)
        {
            let body = section_body(&text, heading.place.span.start.line as usize);
            return Some(normalised_chunk_text(&heading.title, body));
        }
    }
    None
}
