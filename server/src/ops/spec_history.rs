//! What a chunk said before: its markdown section at an older fingerprint, found in the git
//! history of the file that defines it, for the hover's "what changed" of a stale reference.

use std::path::Path;

use crate::config::Config;
use crate::model::fingerprint::{normalised_chunk_text, section_body};
use crate::model::Chunk;
use crate::text::WordChange;
use crate::workspace::Workspace;

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

/// The chunk's normalised text now, from its markdown file on disk.
fn text_now(ws: &Workspace, chunk: &Chunk) -> Option<String> {
    let heading = chunk.heading.as_ref()?;
    // The title as scanned; the section from the file as it is on disk.
    let title = &ws.files.get(&heading.path)?.headings.iter().find(|h| h.id == chunk.id)?.title;
    let text =
        crate::fsutil::read_text_in_workspace(&ws.root, &heading.path, ws.config.max_file_size).ok()??;
    Some(normalised_chunk_text(title, section_body(&text, heading.span.start.line as usize)))
}

/// What changed in `chunk` since its text had `fingerprint`, word by word in markdown
/// (~~removed~~, **added**, long unchanged runs cut to their ends); `None` when the older text
/// is not found or either text is too long to compare.
pub fn what_changed(ws: &Workspace, chunk: &Chunk, fingerprint: &str) -> Option<String> {
    let before = text_at(&ws.root, &ws.config, chunk, fingerprint)?;
    let now = text_now(ws, chunk)?;
    Some(render(&crate::text::word_diff(&before, &now, 3000)?))
}

fn render(changes: &[WordChange]) -> String {
    const CONTEXT: usize = 4;
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, out: &mut Vec<String>, first: bool, last: bool| {
        let keep_head = if first { 0 } else { CONTEXT };
        let keep_tail = if last { 0 } else { CONTEXT };
        if run.len() > keep_head + keep_tail + 1 {
            out.extend(run[..keep_head].iter().map(|w| w.to_string()));
            out.push("…".into());
            out.extend(run[run.len() - keep_tail..].iter().map(|w| w.to_string()));
        } else {
            out.extend(run.iter().map(|w| w.to_string()));
        }
        run.clear();
    };
    let mut first = true;
    for change in changes {
        let (word, marks) = match change {
            WordChange::Same(word) => {
                run.push(word);
                continue;
            }
            WordChange::Removed(word) => (word, "~~"),
            WordChange::Added(word) => (word, "**"),
        };
        flush(&mut run, &mut out, first, false);
        first = false;
        out.push(format!("{marks}{}{marks}", word.replace('*', "\\*").replace('~', "\\~")));
    }
    flush(&mut run, &mut out, first, true);
    out.join(" ")
}
