//! Reads a range of history from git for `concord check --changed-since`: which base to compare
//! with (`auto` works it out from the CI's environment), the files changed since the merge base
//! (renames followed) and the commits in between. A shallow clone that lacks the history is an
//! error that says how much to fetch; nothing is guessed.

use std::collections::BTreeMap;
use std::path::Path;

use super::git::git_at as git;
use crate::changes::{ChangeKind, ChangeSet, ChangedFile, Commit};

/// The environment variables `auto` reads (a map, so tests can give their own).
pub type Env = BTreeMap<String, String>;

/// The variables of the process environment that `auto` looks at.
pub fn process_env() -> Env {
    [
        "GITHUB_ACTIONS",
        "GITHUB_EVENT_NAME",
        "GITHUB_BASE_REF",
        "GITHUB_EVENT_PATH",
        "GITLAB_CI",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA",
        "CI_COMMIT_BEFORE_SHA",
    ]
    .iter()
    .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
    .collect()
}

/// Why the range could not be read. Both are usage errors (exit 2): the pipeline is set up wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeError(pub String);

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// The commit a revision names, if it names one in this clone.
pub fn resolve(root: &Path, rev: &str) -> Option<String> {
    if rev.starts_with('-') {
        return None;
    }
    git(root, &["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")])
        .ok()
        .map(text)
        .filter(|h| !h.is_empty())
}

fn is_shallow(root: &Path) -> bool {
    git(root, &["rev-parse", "--is-shallow-repository"]).map(text).is_ok_and(|t| t == "true")
}

/// The commits at the edge of a shallow clone (their parents were not fetched).
fn shallow_edges(root: &Path) -> Vec<String> {
    let Ok(path) = git(root, &["rev-parse", "--git-path", "shallow"]).map(text) else { return Vec::new() };
    let path = if Path::new(&path).is_absolute() { path.into() } else { root.join(path) };
    crate::fsutil::read_regular(&path, crate::fsutil::DEFAULT_READ_CAP)
        .map(|b| String::from_utf8_lossy(&b).lines().map(|l| l.trim().to_string()).collect())
        .unwrap_or_default()
}

const DEPTH_ADVICE: &str = "fetch the history first: `fetch-depth: 0` for actions/checkout (GitHub's default checkout is shallow, depth 1), `GIT_DEPTH: 0` (or `git fetch --unshallow`) on GitLab, or `git fetch --deepen=<commits in the range>`";

/// The default branch: origin/HEAD, else main, else master (local or on origin).
pub fn default_branch(root: &Path) -> Option<String> {
    if let Ok(name) = git(root, &["symbolic-ref", "-q", "refs/remotes/origin/HEAD"]).map(text) {
        if let Some(short) = name.strip_prefix("refs/remotes/") {
            if resolve(root, short).is_some() {
                return Some(short.to_string());
            }
        }
    }
    ["origin/main", "main", "origin/master", "master"]
        .iter()
        .find(|b| resolve(root, b).is_some())
        .map(|b| b.to_string())
}

/// How `auto` chose the base, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// What to diff from (a revision; its merge base with the head is the start of the range).
    pub rev: String,
    pub why: String,
    /// The depth a shallow clone needs to hold the range, when the CI event says (a pull
    /// request's commit count + 1).
    pub depth_hint: Option<u64>,
}

/// The base for `--changed-since auto`: a pull request's merge commit → its first parent; a push
/// → the event's `before` (a new branch, all zeros: the merge base with the default branch);
/// GitLab merge requests → `CI_MERGE_REQUEST_DIFF_BASE_SHA`; otherwise the merge base with the
/// default branch.
pub fn auto_base(root: &Path, head: &str, env: &Env) -> Result<Base, RangeError> {
    let event = || -> Option<serde_json::Value> {
        let path = env.get("GITHUB_EVENT_PATH")?;
        let bytes = crate::fsutil::read_regular(Path::new(path), 64 * 1024 * 1024).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let zero = |s: &str| !s.is_empty() && s.bytes().all(|b| b == b'0');
    let pr_base = env.get("GITHUB_BASE_REF").filter(|b| !b.is_empty());
    if let Some(base_ref) = pr_base {
        let commits = event().and_then(|e| e["pull_request"]["commits"].as_u64());
        let parents = git(root, &["rev-list", "--parents", "-n", "1", head]).map(text).unwrap_or_default();
        if parents.split_whitespace().count() >= 3 {
            return Ok(Base {
                rev: format!("{head}^1"),
                why: format!("the pull request's merge commit: its first parent (the tip of {base_ref})"),
                depth_hint: commits.map(|c| c + 1),
            });
        }
        return Ok(Base {
            rev: format!("origin/{base_ref}"),
            why: format!("the pull request's base branch origin/{base_ref}"),
            depth_hint: None,
        });
    }
    if env.get("GITHUB_EVENT_NAME").map(String::as_str) == Some("push") {
        if let Some(before) = event().and_then(|e| e["before"].as_str().map(str::to_string)) {
            if !zero(&before) {
                return Ok(Base {
                    rev: before,
                    why: "the push event's `before` commit".into(),
                    depth_hint: None,
                });
            }
        }
    }
    if let Some(sha) = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA").filter(|s| !s.is_empty()) {
        return Ok(Base { rev: sha.clone(), why: "the merge request's diff base".into(), depth_hint: None });
    }
    if let Some(sha) = env.get("CI_COMMIT_BEFORE_SHA").filter(|s| !zero(s) && !s.is_empty()) {
        return Ok(Base { rev: sha.clone(), why: "the push's previous commit".into(), depth_hint: None });
    }
    match default_branch(root) {
        Some(branch) => Ok(Base { rev: branch.clone(), why: format!("the default branch {branch}"), depth_hint: None }),
        None => Err(RangeError(
            "--changed-since auto: no pull request or push event in the environment and no default branch (origin/HEAD, main or master) to compare with; name the base (`--changed-since origin/main`)".into(),
        )),
    }
}

/// Read the range from the merge base of `base` and `head` to `head`.
pub fn read_range(root: &Path, base: &Base, head: &str) -> Result<ChangeSet, RangeError> {
    if git(root, &["rev-parse", "--git-dir"]).is_err() {
        return Err(RangeError(format!(
            "{} is not inside a git repository: --changed-since reads the history of the repository (in CI, check it out first)",
            root.display()
        )));
    }
    let shallow = is_shallow(root);
    let depth = |hint: Option<u64>| match hint {
        Some(n) => format!("fetch-depth: {n} (the pull request's commits and its base), or fetch-depth: 0"),
        None => "fetch-depth: 0".to_string(),
    };
    let head_hash = resolve(root, head).ok_or_else(|| {
        RangeError(format!(
            "--head {head} is not a commit in this repository: name a branch, tag or commit that exists here"
        ))
    })?;
    let Some(base_hash) = resolve(root, &base.rev) else {
        let why = if shallow {
            format!(
                "this clone is shallow and does not hold it; {DEPTH_ADVICE} (with actions/checkout: {})",
                depth(base.depth_hint)
            )
        } else {
            format!(
                "fetch it (`git fetch origin {}`) or name a branch, tag or commit that exists here",
                base.rev
            )
        };
        return Err(RangeError(format!(
            "the base {} ({}) is not a commit in this clone: {why}",
            base.rev, base.why
        )));
    };
    let merge_base = match git(root, &["merge-base", &base_hash, &head_hash]) {
        Ok(out) => text(out),
        Err(_) if shallow => {
            return Err(RangeError(format!(
                "{} and {head} have no merge base in this shallow clone (the history that joins them was not fetched): {DEPTH_ADVICE} (with actions/checkout: {})",
                base.rev,
                depth(base.depth_hint)
            )))
        }
        Err(_) => {
            return Err(RangeError(format!(
                "{} and {head} share no history (no merge base): compare with a commit the head descends from",
                base.rev
            )))
        }
    };
    let range = format!("{merge_base}..{head_hash}");
    let commits = read_commits(root, &range).map_err(RangeError)?;
    if shallow {
        let edges = shallow_edges(root);
        // A commit at the clone's edge whose parents were not fetched may hide commits of the
        // range; unless the CI event says how many the range holds and they are all here.
        let cut_at = |c: &&Commit| edges.contains(&c.hash) && !parents_present(root, &c.hash);
        let found = commits.iter().filter(|c| c.parents <= 1).count() as u64;
        let complete = base.depth_hint.is_some_and(|depth| found + 1 >= depth);
        if let Some(cut) = commits.iter().find(cut_at).filter(|_| !complete) {
            return Err(RangeError(format!(
                "the history from {} to {head} is cut off at {} by the shallow clone, so commits in the range are missing: {DEPTH_ADVICE} (with actions/checkout: {})",
                base.rev,
                cut.short(),
                depth(base.depth_hint)
            )));
        }
    }
    let raw = git(root, &["diff", "--name-status", "-z", "-M", "--relative", &merge_base, &head_hash, "--"])
        .map_err(RangeError)?;
    Ok(ChangeSet { base: merge_base, head: head_hash, files: parse_name_status(&raw), commits })
}

/// Whether every parent a commit records (its object, not the shallow clone's view) is here.
fn parents_present(root: &Path, hash: &str) -> bool {
    let Ok(raw) = git(root, &["cat-file", "commit", hash]) else { return false };
    let raw = String::from_utf8_lossy(&raw);
    raw.lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix("parent "))
        .all(|p| git(root, &["cat-file", "-e", &format!("{}^{{commit}}", p.trim())]).is_ok())
}

/// `git diff --name-status -z` records: `M\0path\0`, `R100\0old\0new\0`.
pub fn parse_name_status(raw: &[u8]) -> Vec<ChangedFile> {
    let fields: Vec<String> =
        raw.split(|&b| b == 0).map(|f| String::from_utf8_lossy(f).into_owned()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let status = &fields[i];
        if status.is_empty() {
            i += 1;
            continue;
        }
        let kind = match status.as_bytes()[0] {
            b'A' => ChangeKind::Added,
            b'M' => ChangeKind::Modified,
            b'D' => ChangeKind::Deleted,
            b'R' => ChangeKind::Renamed,
            b'C' => ChangeKind::Copied,
            _ => ChangeKind::Other,
        };
        if matches!(kind, ChangeKind::Renamed | ChangeKind::Copied) {
            let (Some(from), Some(to)) = (fields.get(i + 1), fields.get(i + 2)) else { break };
            out.push(ChangedFile { kind, path: to.clone(), from: Some(from.clone()) });
            i += 3;
        } else {
            let Some(path) = fields.get(i + 1) else { break };
            out.push(ChangedFile { kind, path: path.clone(), from: None });
            i += 2;
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The commits of `range`, newest first: hash, parents, author and raw message.
fn read_commits(root: &Path, range: &str) -> Result<Vec<Commit>, String> {
    let raw = git(root, &["log", "-z", "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%B", range, "--"])?;
    Ok(raw
        .split(|&b| b == 0)
        .filter(|r| !r.is_empty())
        .filter_map(|record| {
            let record = String::from_utf8_lossy(record);
            let mut parts = record.splitn(5, '\u{1f}');
            let hash = parts.next()?.trim().to_string();
            let parents = parts.next()?.split_whitespace().count();
            let author_name = parts.next()?.to_string();
            let author_email = parts.next()?.to_string();
            let message = parts.next().unwrap_or("").to_string();
            Some(Commit { hash, parents, author_name, author_email, message })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_status_follows_renames() {
        let raw = b"M\0a.py\0R087\0old/b.py\0new/b.py\0D\0c.py\0A\0d e.py\0";
        let files = parse_name_status(raw);
        assert_eq!(files.len(), 4);
        assert_eq!(files[1], ChangedFile { kind: ChangeKind::Deleted, path: "c.py".into(), from: None });
        assert_eq!(files[3].from.as_deref(), Some("old/b.py"));
        assert_eq!(files[3].kind, ChangeKind::Renamed);
        assert_eq!(files[2].path, "d e.py");
    }
}
