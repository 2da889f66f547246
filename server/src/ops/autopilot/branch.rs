//! The autopilot's git side: a branch and a worktree per item, the commit of an accepted run's
//! files with trace trailers, and the push. The default branch is never committed to or pushed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ops::git::git_bounded;

const LOCAL: Duration = Duration::from_secs(60);
const REMOTE: Duration = Duration::from_secs(120);

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = git_bounded(dir, args, None, &[], LOCAL)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The branch the workspace's checkout is on (`None`: detached or not a repository).
pub fn current_branch(root: &Path) -> Option<String> {
    git(root, &["symbolic-ref", "--quiet", "--short", "HEAD"]).ok().filter(|b| !b.is_empty())
}

pub fn branch_exists(root: &Path, name: &str) -> bool {
    git(root, &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{name}")]).is_ok()
}

/// `concord/WBS-005-guest-checkout`: lowercase words of the title, at most 40 characters.
pub fn branch_name(id: &str, title: &str) -> String {
    let mut slug = String::new();
    for word in title.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if slug.len() + word.len() + 1 > 40 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        format!("concord/{id}")
    } else {
        format!("concord/{id}-{slug}")
    }
}

/// The first of `name`, `name-try2`, `name-try3`, … that is not a branch yet.
pub fn free_branch(root: &Path, name: &str) -> String {
    (1..)
        .map(|k| if k == 1 { name.to_string() } else { format!("{name}-try{k}") })
        .find(|candidate| !branch_exists(root, candidate))
        .expect("some try is free")
}

/// Where the worktree of `branch` lives: under `.concord/worktrees/` of the workspace, which
/// is ignored by git and by Concord's own walk.
pub fn worktree_path(root: &Path, branch: &str) -> PathBuf {
    root.join(".concord/worktrees").join(branch.trim_start_matches("concord/").replace('/', "-"))
}

/// A new branch at `base` checked out in a new worktree.
pub fn add_worktree(root: &Path, branch: &str, base: &str) -> Result<PathBuf, String> {
    let path = worktree_path(root, branch);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        let _ = std::fs::write(root.join(".concord/.gitignore"), "*\n");
    }
    let where_ = path.display().to_string();
    git(root, &["worktree", "add", "--quiet", "-b", branch, &where_, base])?;
    Ok(path)
}

/// A detached worktree at `base` (the health check of the default branch).
pub fn add_detached(root: &Path, name: &str, base: &str) -> Result<PathBuf, String> {
    let path = root.join(".concord/worktrees").join(name);
    if path.exists() {
        remove_worktree(root, &path);
    }
    std::fs::create_dir_all(root.join(".concord/worktrees"))
        .map_err(|e| format!("cannot create .concord/worktrees: {e}"))?;
    let _ = std::fs::write(root.join(".concord/.gitignore"), "*\n");
    git(root, &["worktree", "add", "--quiet", "--detach", &path.display().to_string(), base])?;
    Ok(path)
}

/// Remove a worktree (its branch stays).
pub fn remove_worktree(root: &Path, path: &Path) {
    if git(root, &["worktree", "remove", "--force", &path.display().to_string()]).is_err() {
        let _ = std::fs::remove_dir_all(path);
        let _ = git(root, &["worktree", "prune"]);
    }
}

/// Delete a branch that holds no commit of its own (a run that ended without accepted work).
pub fn delete_if_empty(root: &Path, branch: &str, base: &str) {
    let ahead = git(root, &["rev-list", "--count", &format!("{base}..refs/heads/{branch}")]);
    if ahead.as_deref() == Ok("0") {
        let _ = git(root, &["branch", "-D", branch]);
    }
}

/// Commit exactly `files` (paths relative to the worktree) on the worktree's branch; returns
/// the commit. Never `git add .`: a file not named is not committed.
pub fn commit(dir: &Path, files: &[String], message: &str) -> Result<String, String> {
    if files.is_empty() {
        return Err("no file to commit".into());
    }
    let mut add = vec!["add", "--all", "--"];
    add.extend(files.iter().map(String::as_str));
    git(dir, &add)?;
    // Only what was just added is committed, whatever else is staged.
    let mut args: Vec<&str> = Vec::new();
    let identity = git(dir, &["config", "user.email"]).unwrap_or_default().is_empty();
    if identity {
        args.extend(["-c", "user.name=Concord autopilot", "-c", "user.email=autopilot@concord.invalid"]);
    }
    args.extend(["commit", "--quiet", "--no-verify", "-F", "-", "--"]);
    args.extend(files.iter().map(String::as_str));
    let out = git_bounded(dir, &args, Some(message.as_bytes()), &[], LOCAL)?;
    if !out.status.success() {
        return Err(format!("git commit failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    git(dir, &["rev-parse", "HEAD"])
}

/// Push `branch` (and only it) to `remote`. The default branch is refused outright.
pub fn push(dir: &Path, remote: &str, branch: &str, default_branch: &str) -> Result<(), String> {
    if branch == default_branch || !branch.starts_with("concord/") {
        return Err(format!(
            "refusing to push {branch}: the autopilot pushes only its own concord/ branches"
        ));
    }
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let out = git_bounded(dir, &["push", "--quiet", remote, &refspec], None, &[], REMOTE)?;
    if out.status.success() {
        Ok(())
    } else {
        let why = String::from_utf8_lossy(&out.stderr);
        Err(why.lines().find(|l| !l.trim().is_empty()).unwrap_or("git push failed").trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_short_readable_slugs() {
        for (id, title, expected) in [
            ("WBS-005", "Guest checkout (Stripe)", "concord/WBS-005-guest-checkout-stripe"),
            ("WBS-006A", "", "concord/WBS-006A"),
            ("WBS-007", "Ünïcode — only?", "concord/WBS-007-n-code-only"),
            (
                "WBS-008",
                "A very long title that goes on and on about many things",
                "concord/WBS-008-a-very-long-title-that-goes-on-and-on",
            ),
        ] {
            assert_eq!(branch_name(id, title), expected);
        }
    }
}
