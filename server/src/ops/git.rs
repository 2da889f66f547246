//! What git says about changes, run as `git -C <root> …` with an argument vector (never a
//! shell). Paths are relative to the workspace root (`--relative`), which may sit below the
//! repository's top.

use std::path::Path;
use std::process::Command;

use crate::scope::Change;

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

pub fn head(root: &Path) -> Option<String> {
    let out = git(root, &["rev-parse", "--verify", "-q", "HEAD"]).ok()?;
    Some(String::from_utf8_lossy(&out).trim().to_string()).filter(|h| !h.is_empty())
}

/// `git diff --numstat -z` output: `added\tremoved\tpath\0` (binary files show `-`).
fn numstat(raw: &[u8]) -> Vec<Change> {
    raw.split(|&b| b == 0)
        .filter(|r| !r.is_empty())
        .filter_map(|record| {
            let text = String::from_utf8_lossy(record);
            let mut parts = text.splitn(3, '\t');
            let added = parts.next()?.parse().unwrap_or(0);
            let removed = parts.next()?.parse().unwrap_or(0);
            Some(Change { path: parts.next()?.to_string(), added, removed })
        })
        .collect()
}

/// Every file changed since `base`: committed since then, staged, unstaged and untracked.
/// Renames count as a deletion and an addition (both paths must be in scope).
pub fn changes_since(root: &Path, base: &str) -> Result<Vec<Change>, String> {
    let mut changes =
        numstat(&git(root, &["diff", "--numstat", "-z", "--no-renames", "--relative", base, "--"])?);
    let untracked = git(root, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    for path in untracked.split(|&b| b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(path).into_owned();
        let added =
            std::fs::read(root.join(&path)).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count() as u64);
        changes.push(Change { path, added, removed: 0 });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes.dedup_by(|a, b| a.path == b.path);
    Ok(changes)
}

/// The files a commit would record (added, copied, modified, renamed, deleted), with counts.
pub fn staged_changes(root: &Path) -> Result<Vec<Change>, String> {
    Ok(numstat(&git(root, &["diff", "--cached", "--numstat", "-z", "--no-renames", "--relative", "--"])?))
}

/// The staged content of a file (what the commit will hold).
pub fn staged_blob(root: &Path, path: &str) -> Result<Vec<u8>, String> {
    git(root, &["show", &format!(":./{path}")])
}

/// Where this repository keeps its hooks (honours `core.hooksPath`).
pub fn hooks_dir(root: &Path) -> Result<std::path::PathBuf, String> {
    let out = git(root, &["rev-parse", "--git-path", "hooks"])?;
    let path = std::path::PathBuf::from(String::from_utf8_lossy(&out).trim());
    Ok(if path.is_absolute() { path } else { root.join(path) })
}

/// The workspace root's path below the repository's top (`""` at the top).
pub fn prefix(root: &Path) -> Result<String, String> {
    Ok(String::from_utf8_lossy(&git(root, &["rev-parse", "--show-prefix"])?)
        .trim()
        .trim_end_matches('/')
        .to_string())
}
