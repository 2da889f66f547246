//! What a range of commits changed, judged against the plan: changed files that map to no ID
//! (`unmapped-change`) and commits without a trace trailer (`untraced-commit`). Pure: the
//! changed paths and the commit messages come in as data (`ops::changes` reads them from git).

use crate::config::Config;
use crate::findings::{Candidate, Code, Edit, Finding, Fix};
use crate::model::Model;
use crate::scan::FileFacts;
use crate::text::Span;

/// How a file changed between the base and the head (`git diff --name-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    /// Renamed (or copied) from `ChangedFile::from`.
    Renamed,
    Copied,
    /// A type change (file ↔ link) or anything else git reports.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub kind: ChangeKind,
    /// Workspace-relative, `/`-separated: the path at the head.
    pub path: String,
    /// The path at the base, for a rename or copy.
    pub from: Option<String>,
}

impl ChangedFile {
    /// Whether the file exists at the head.
    pub fn exists(&self) -> bool {
        self.kind != ChangeKind::Deleted
    }
}

/// One commit of the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub hash: String,
    pub parents: usize,
    pub author_name: String,
    pub author_email: String,
    /// The raw message (`%B`).
    pub message: String,
}

impl Commit {
    pub fn short(&self) -> &str {
        &self.hash[..self.hash.len().min(10)]
    }

    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("").trim()
    }
}

/// What `concord check --changed-since` checks: the files changed between the merge base and
/// the head, and the commits in between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// The merge base the range starts from (excluded).
    pub base: String,
    /// The head commit (included).
    pub head: String,
    pub files: Vec<ChangedFile>,
    pub commits: Vec<Commit>,
}

impl ChangeSet {
    /// Where commit-level findings are shown: the first changed file that exists at the head,
    /// else the first changed file at all, else the WBS (a range that changed no file).
    pub fn anchor<'a>(&'a self, config: &'a Config) -> &'a str {
        self.files
            .iter()
            .find(|f| f.exists())
            .or(self.files.first())
            .map_or(config.paths.wbs.as_str(), |f| f.path.as_str())
    }

    /// The paths that exist at the head, to analyse.
    pub fn existing_paths(&self) -> Vec<String> {
        self.files.iter().filter(|f| f.exists()).map(|f| f.path.clone()).collect()
    }
}

/// One `Key: value` trailer of a message (continuation lines joined with a space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    pub key: String,
    pub value: String,
}

/// Trailers git itself writes: with them a trailer block may hold some other lines.
const GIT_TRAILERS: &[&str] = &["Signed-off-by", "(cherry picked from commit "];

/// The trailers of a commit message, by the rules of `git interpret-trailers`: only the last
/// paragraph counts, and never the title (first paragraph); comment lines (`#`) and what
/// follows a scissors line or a `---` divider are not part of the message. The paragraph is a
/// trailer block when every line is a `Key: value` trailer or a continuation line (starting with
/// whitespace), or when it holds a git-generated or a `recognized` key and at least a quarter of
/// its lines are trailers. Keys are letters, digits and `-`.
pub fn parse_trailers(message: &str, recognized: &[String]) -> Vec<Trailer> {
    let mut lines: Vec<&str> = Vec::new();
    for line in message.lines() {
        if line.starts_with("# ------------------------ >8 ------------------------") {
            break;
        }
        if line.starts_with('#') {
            continue;
        }
        // A patch divider ends the message (as in `git format-patch` output).
        if line == "---" || line.starts_with("--- ") {
            break;
        }
        lines.push(line.trim_end());
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    // The title is the first paragraph.
    let Some(title_end) = lines.iter().position(|l| l.is_empty()) else {
        return Vec::new();
    };
    let start = lines.iter().rposition(|l| l.is_empty()).map_or(0, |i| i + 1);
    if start <= title_end {
        return Vec::new();
    }
    let block = &lines[start..];
    let mut trailers: Vec<Trailer> = Vec::new();
    let (mut trailer_lines, mut other_lines, mut recognized_seen) = (0usize, 0usize, false);
    let mut last_was_trailer = false;
    for line in block {
        if line.starts_with([' ', '\t']) && last_was_trailer {
            if let Some(t) = trailers.last_mut() {
                t.value = format!("{} {}", t.value, line.trim()).trim().to_string();
            }
            continue;
        }
        if GIT_TRAILERS.iter().any(|g| line.starts_with(g)) {
            recognized_seen = true;
        }
        match split_trailer(line) {
            Some((key, value)) => {
                trailer_lines += 1;
                if recognized.iter().any(|r| r.eq_ignore_ascii_case(key))
                    || GIT_TRAILERS.iter().any(|g| g.eq_ignore_ascii_case(key))
                {
                    recognized_seen = true;
                }
                trailers.push(Trailer { key: key.to_string(), value: value.to_string() });
                last_was_trailer = true;
            }
            None => {
                other_lines += 1;
                last_was_trailer = false;
            }
        }
    }
    let is_block =
        trailer_lines > 0 && (other_lines == 0 || (recognized_seen && trailer_lines * 3 >= other_lines));
    if is_block {
        trailers
    } else {
        Vec::new()
    }
}

/// `Key: value` (the key letters, digits and `-`; spaces allowed before the colon).
fn split_trailer(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let key = line[..colon].trim_end();
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    Some((key, line[colon + 1..].trim()))
}

/// The IDs a message's trace trailers name (keys of `[commits] trailer_keys`), in order.
pub fn trailer_ids(config: &Config, message: &str) -> Vec<String> {
    ids_in_trailers(config, message, &config.commits.trailer_keys)
}

/// The trailer key that says a commit's author checked the code against a chunk's new text
/// (`Spec-Reviewed: TD-0103`): a `--changed-since` check then reports no `stale-reference` for it.
pub const SPEC_REVIEWED: &str = "Spec-Reviewed";

/// The IDs named in `Spec-Reviewed:` trailers.
pub fn spec_reviewed_ids(config: &Config, message: &str) -> Vec<String> {
    ids_in_trailers(config, message, &[SPEC_REVIEWED.to_string()])
}

/// The IDs in the values of the trailers with one of `keys` (compared without regard to case).
fn ids_in_trailers(config: &Config, message: &str, keys: &[String]) -> Vec<String> {
    let mut recognized = config.commits.trailer_keys.clone();
    recognized.push(SPEC_REVIEWED.to_string());
    let mut ids = Vec::new();
    for trailer in parse_trailers(message, &recognized) {
        if !keys.iter().any(|k| k.eq_ignore_ascii_case(&trailer.key)) {
            continue;
        }
        for m in config.ids.find_iter(trailer.value.as_bytes()) {
            let id = trailer.value[m.start..m.end].to_string();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// `*` matches any run of characters, case-insensitively; nothing else is special.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let text = text.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text.as_str();
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(after) = rest.strip_prefix(part) else { return false };
            rest = after;
        } else if i == last {
            return rest.ends_with(part);
        } else if let Some(at) = rest.find(part) {
            rest = &rest[at + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Why a commit needs no trailer, if it does not.
pub fn skipped_commit(config: &Config, commit: &Commit) -> Option<&'static str> {
    let c = &config.commits;
    if c.skip_merges && commit.parents > 1 {
        return Some("a merge commit");
    }
    if c.allow_commits.iter().any(|h| commit.hash.to_ascii_lowercase().starts_with(&h.to_ascii_lowercase())) {
        return Some("listed in commits.allow_commits");
    }
    if c.allow_authors.iter().any(|p| {
        wildcard_match(p, &commit.author_name)
            || wildcard_match(p, &commit.author_email)
            || wildcard_match(p, &format!("{} <{}>", commit.author_name, commit.author_email))
    }) {
        return Some("by an author in commits.allow_authors");
    }
    None
}

/// The work items whose scope_paths come closest to `path`: most leading directories shared
/// with the literal part of a glob, best first (at most `limit`).
pub fn closest_scopes<'m>(model: &'m Model, path: &str, limit: usize) -> Vec<(&'m str, &'m str, usize)> {
    let dirs: Vec<&str> = path.split('/').collect();
    let mut ranked: Vec<(&str, &str, usize)> = Vec::new();
    for item in model.work.values() {
        let best = item
            .scope_paths
            .iter()
            .map(|glob| {
                let literal = glob.split(['*', '?', '[', '{']).next().unwrap_or("");
                let shared = literal
                    .split('/')
                    .zip(&dirs[..dirs.len().saturating_sub(1)])
                    .take_while(|(a, b)| !a.is_empty() && a == *b)
                    .count();
                (glob.as_str(), shared)
            })
            .max_by_key(|(_, shared)| *shared);
        if let Some((glob, shared)) = best.filter(|(_, shared)| *shared > 0) {
            ranked.push((item.id.as_str(), glob, shared));
        }
    }
    ranked.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    ranked.truncate(limit);
    ranked
}

/// The findings of a change set (severities not yet applied). `facts` gives the scanned facts
/// of a changed file (none for a file the scan passed over: binary, too large, excluded).
pub fn change_findings<'f>(
    config: &Config,
    model: &Model,
    changes: &ChangeSet,
    facts: impl Fn(&str) -> Option<&'f FileFacts>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for file in changes.files.iter().filter(|f| f.exists()) {
        let Some(facts) = facts(&file.path) else { continue };
        if !facts.must_trace {
            continue;
        }
        let carries_known_id = facts.refs.iter().any(|r| r.traces && model.is_known(r.id))
            || facts.items.iter().any(|i| i.ids.iter().any(|id| model.is_known(id)));
        if carries_known_id || model.scopes.maps(&file.path) || model.crosswalk.maps(&file.path) {
            continue;
        }
        out.push(unmapped_change(model, file, facts));
    }
    let anchor = changes.anchor(config);
    for commit in &changes.commits {
        if skipped_commit(config, commit).is_some() {
            continue;
        }
        let ids = trailer_ids(config, &commit.message);
        let has_definitions = |id: &str| match config.ids.kind_of(id) {
            Some(crate::ids::IdKind::Work) => !model.work.is_empty(),
            _ => !model.chunks.is_empty(),
        };
        let unknown: Vec<&String> =
            ids.iter().filter(|id| !model.is_known(id) && has_definitions(id)).collect();
        for id in &unknown {
            let suggestions = model.did_you_mean(config, id);
            let hint = if suggestions.is_empty() {
                String::new()
            } else {
                format!(" Did you mean {}?", suggestions.join(" or "))
            };
            out.push(
                Finding::new(
                    Code::UnknownId,
                    anchor,
                    Span::line_start(0),
                    format!(
                        "Commit {} (\"{}\") names {id} in a trace trailer, but no chunk or work item has it.{hint} Reword the commit with the intended ID (`git commit --amend` or `git rebase -i`).",
                        commit.short(),
                        commit.subject()
                    ),
                )
                .with_id(id.as_str())
                .with_commit(&commit.hash),
            );
        }
        if ids.is_empty() {
            let keys = config.commits.trailer_keys.join(":`, `");
            out.push(
                Finding::new(
                    Code::UntracedCommit,
                    anchor,
                    Span::line_start(0),
                    format!(
                        "Commit {} (\"{}\", by {}) has no trace trailer: its message must end with a paragraph of trailers such as `{}: WBS-005` naming the work item or chunk it implements (keys: `{keys}:`). Reword it (`git commit --amend` for the last commit, `git rebase -i` for older ones); `concord trailers` prints the lines for staged changes.",
                        commit.short(),
                        commit.subject(),
                        commit.author_name,
                        config.commits.trailer_keys[0],
                    ),
                )
                .with_commit(&commit.hash),
            );
        }
    }
    out
}

fn unmapped_change(model: &Model, file: &ChangedFile, facts: &FileFacts) -> Finding {
    let closest = closest_scopes(model, &file.path, 3);
    let what = match (&file.kind, &file.from) {
        (ChangeKind::Renamed, Some(from)) => format!("{} (renamed from {from})", file.path),
        (ChangeKind::Added, _) => format!("{} (added)", file.path),
        _ => file.path.clone(),
    };
    let hint = if closest.is_empty() {
        " No work item's scope is near it: plan a work item for it, or tag it with the chunk it implements."
            .to_string()
    } else {
        let list: Vec<String> = closest.iter().map(|(id, glob, _)| format!("{id} ({glob})")).collect();
        format!(" Closest work-item scopes: {}.", list.join(", "))
    };
    let message = format!(
        "{what} changed but maps to no ID: it carries no known chunk or work-item ID, and no work item's scope_paths or crosswalk path covers it. Tag it with what it implements (e.g. `implements TD-0103`) or add it to the scope_paths of its work item.{hint}"
    );
    let mut finding = Finding::new(Code::UnmappedChange, &file.path, Span::line_start(0), message);
    if let Some((best, _, _)) = closest.first() {
        let tag = crate::analysis::tag_comment(&file.path, &format!("implements {best}"));
        let line = u32::from(facts.shebang);
        finding = finding.with_fix(Fix {
            title: format!(
                "Add `{}` at the top of the file (closest scopes: {})",
                tag.trim_end(),
                closest.iter().map(|(id, _, _)| *id).collect::<Vec<_>>().join(", ")
            ),
            edits: vec![Edit {
                span: Span::point(crate::text::LineCol { line, utf8: 0, utf16: 0 }),
                new_text: tag,
            }],
            candidates: closest
                .iter()
                .enumerate()
                .map(|(rank, (id, glob, _))| Candidate {
                    id: id.to_string(),
                    title: model.title_of(id).unwrap_or("").to_string(),
                    score: 1.0 / (rank as f64 + 1.0),
                    why: format!("its scope {glob} is the closest to this path"),
                })
                .collect(),
        });
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        vec!["Implements".into(), "Refs".into(), "Fixes".into()]
    }

    #[test]
    fn trailers_are_the_last_paragraph_only() {
        let msg = "Add refunds\n\nImplements: TD-0001 in the body is prose\nmore prose\n\nImplements: WBS-005\nRefs: TD-0103,\n  TD-0104\nSigned-off-by: A <a@b>\n";
        let t = parse_trailers(msg, &keys());
        assert_eq!(t.len(), 3, "{t:?}");
        assert_eq!(t[0], Trailer { key: "Implements".into(), value: "WBS-005".into() });
        assert_eq!(t[1].value, "TD-0103, TD-0104");
    }

    #[test]
    fn the_title_is_never_a_trailer_block() {
        assert!(parse_trailers("Implements: WBS-005\n", &keys()).is_empty());
        assert!(parse_trailers("Implements: WBS-005\nRefs: TD-0103\n", &keys()).is_empty());
    }

    #[test]
    fn a_mixed_paragraph_needs_a_recognized_key_and_a_quarter_of_trailers() {
        let mixed = "T\n\nsome words here\nImplements: WBS-005\n";
        assert_eq!(parse_trailers(mixed, &keys()).len(), 1);
        let unrecognized = "T\n\nsome words here\nNote: WBS-005\n";
        assert!(parse_trailers(unrecognized, &keys()).is_empty());
        let too_few = "T\n\na\nb\nc\nd\nImplements: WBS-005\n";
        assert!(parse_trailers(too_few, &keys()).is_empty());
        let key_with_space = "T\n\nNot A Key: WBS-005\n";
        assert!(parse_trailers(key_with_space, &keys()).is_empty());
    }

    #[test]
    fn comments_and_scissors_are_not_the_message() {
        let msg = "T\n\nImplements: WBS-005\n# Please enter the commit message\n# ------------------------ >8 ------------------------\ndiff --git a b\n\nRefs: TD-9999\n";
        let t = parse_trailers(msg, &keys());
        assert_eq!(t, vec![Trailer { key: "Implements".into(), value: "WBS-005".into() }]);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*[bot]*", "dependabot[bot] <x@users.noreply.github.com>"));
        assert!(wildcard_match("renovate*", "Renovate Bot"));
        assert!(wildcard_match("a@b.c", "A@B.C"));
        assert!(!wildcard_match("*bot", "robots"));
        assert!(wildcard_match("*", ""));
    }
}
