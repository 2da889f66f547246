//! What git says about changes, run as `git -C <root> …` with an argument vector (never a
//! shell). Paths are relative to the workspace root (`--relative`), which may sit below the
//! repository's top.

use std::path::Path;
use std::process::Command;

use crate::scope::Change;

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    output(Command::new("git").arg("-C").arg(root).args(args).env("GIT_OPTIONAL_LOCKS", "0"), args)
}

/// `git -C root ARGS` for the repository at `root` whatever the environment names (a hook's
/// `GIT_DIR` and `GIT_WORK_TREE` would point it elsewhere).
pub(crate) fn git_at(root: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    output(
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE"),
        args,
    )
}

fn output(command: &mut Command, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = command.output().map_err(|e| format!("cannot run git: {e}"))?;
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
        let added = count_lines(&root.join(&path));
        changes.push(Change { path, added, removed: 0 });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes.dedup_by(|a, b| a.path == b.path);
    Ok(changes)
}

/// The files added since `base`: new in a commit since then, staged, or untracked (not
/// ignored). Paths as [`changes_since`] gives them.
pub fn added_since(root: &Path, base: &str) -> Result<Vec<String>, String> {
    let diff = git(
        root,
        &["diff", "--name-only", "-z", "--no-renames", "--diff-filter=A", "--relative", base, "--"],
    )?;
    let untracked = git(root, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    let mut added: Vec<String> = diff
        .split(|&b| b == 0)
        .chain(untracked.split(|&b| b == 0))
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    added.sort();
    added.dedup();
    Ok(added)
}

/// The files a commit would record (added, copied, modified, renamed, deleted), with counts.
pub fn staged_changes(root: &Path) -> Result<Vec<Change>, String> {
    Ok(numstat(&git(root, &["diff", "--cached", "--numstat", "-z", "--no-renames", "--relative", "--"])?))
}

/// The staged content of a file (what the commit will hold).
pub fn staged_blob(root: &Path, path: &str) -> Result<Vec<u8>, String> {
    git(root, &["show", &format!(":./{path}")])
}

/// Whether a merge is being committed (`MERGE_HEAD` exists).
pub fn merge_in_progress(root: &Path) -> bool {
    git(root, &["rev-parse", "-q", "--verify", "MERGE_HEAD"]).is_ok()
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

/// The commit recorded in an agent's lock when it was taken.
pub fn head_at_lock(root: &Path, config: &crate::config::Config, agent: &str) -> Option<String> {
    let rel = format!("{}/{agent}.lock", config.paths.locks_dir.trim_end_matches('/'));
    let text = crate::fsutil::read_text_in_workspace(root, &rel, config.max_file_size).ok()??;
    crate::model::parse_lock(&rel, &text).ok()?.base_commit
}

/// A file's content hash (0 when it does not exist), to tell "changed during a run" from
/// "was already changed before it".
pub fn content_hash(path: &Path) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let read = for_each_chunk(path, |chunk| hasher.write(chunk));
    if read {
        hasher.finish()
    } else {
        0
    }
}

/// Lines in a file the diff names (0 for anything but a regular file: a FIFO or a link to a
/// device in the work tree is not read).
fn count_lines(path: &Path) -> u64 {
    let mut lines = 0;
    for_each_chunk(path, |chunk| lines += memchr::memchr_iter(b'\n', chunk).count() as u64);
    lines
}

/// Stream a regular file (never a link, FIFO or device) through `visit`; false when it cannot
/// be read.
fn for_each_chunk(path: &Path, mut visit: impl FnMut(&[u8])) -> bool {
    use std::io::Read;
    let Ok(mut file) = crate::fsutil::open_regular(path) else { return false };
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return true,
            Ok(n) => visit(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// The files already changed since `base` and their content: written before a run, so that
/// leftovers of earlier work are not blamed on the run.
pub fn dirty_snapshot(root: &Path, base: &str) -> std::collections::BTreeMap<String, u64> {
    changes_since(root, base)
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let hash = content_hash(&root.join(&c.path));
            (c.path, hash)
        })
        .collect()
}

/// Changes since `base` that the run made: files unchanged since `before` are left out.
pub fn changes_during(
    root: &Path,
    base: &str,
    before: &std::collections::BTreeMap<String, u64>,
) -> Result<Vec<Change>, String> {
    let mut changes = changes_since(root, base)?;
    changes.retain(|c| before.get(&c.path) != Some(&content_hash(&root.join(&c.path))));
    Ok(changes)
}

/// The snapshot a dispatch wrote into its run folder (empty when there is none).
pub fn read_snapshot(run_dir: &Path) -> std::collections::BTreeMap<String, u64> {
    crate::fsutil::read_regular(&run_dir.join("dirty-before.json"), crate::fsutil::DEFAULT_READ_CAP)
        .ok()
        .and_then(|t| serde_json::from_slice(&t).ok())
        .unwrap_or_default()
}

/// Whether `path` (relative to the workspace root) exists in commit `base`.
pub fn exists_at(root: &Path, base: &str, path: &str) -> bool {
    git(root, &["cat-file", "-e", &format!("{base}:./{path}")]).is_ok()
}

/// A binary patch that turns `base` into the working tree for `tracked` (files known to `base`)
/// and adds the `untracked` ones, in a form `git apply` takes.
pub fn patch_since(
    root: &Path,
    base: &str,
    tracked: &[String],
    untracked: &[String],
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    if !tracked.is_empty() {
        let mut args = vec!["diff", "--binary", "--no-renames", base, "--"];
        args.extend(tracked.iter().map(String::as_str));
        out.extend(git(root, &args)?);
    }
    for path in untracked {
        // `--no-index` exits 1 when the files differ, which is the point: read its output anyway.
        let result = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["diff", "--binary", "--no-index", "--", "/dev/null", path])
            .env("GIT_OPTIONAL_LOCKS", "0")
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        out.extend(result.stdout);
    }
    Ok(out)
}

/// Put `path` back as it is in `base`, in the working tree and the index.
pub fn restore_from(root: &Path, base: &str, path: &str) -> Result<(), String> {
    git(root, &["restore", &format!("--source={base}"), "--staged", "--worktree", "--", path]).map(|_| ())
}

/// Take `path` out of the index if it was added there (a new file that is being removed).
pub fn unstage_new(root: &Path, path: &str) {
    let _ = git(root, &["rm", "--cached", "--quiet", "--ignore-unmatch", "--", path]);
}

/// A git call that may talk to a remote: an argument vector, optional stdin and extra
/// environment, killed after `timeout`. Never prompts for credentials; messages are in English
/// (they are matched) and scrubbed of anything that looks like a secret.
pub fn git_bounded(
    root: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
    env: &[(&str, &str)],
    timeout: std::time::Duration,
) -> Result<std::process::Output, String> {
    bounded(Command::new("git"), root, args, stdin, env, timeout)
}

/// [`git_bounded`] for the repository at `root` whatever the environment names: a hook's
/// `GIT_DIR`, `GIT_WORK_TREE` and `GIT_INDEX_FILE` would point it at another repository or index.
pub fn git_bounded_at(
    root: &Path,
    args: &[&str],
    timeout: std::time::Duration,
) -> Result<std::process::Output, String> {
    let mut command = Command::new("git");
    command.env_remove("GIT_DIR").env_remove("GIT_WORK_TREE").env_remove("GIT_INDEX_FILE");
    bounded(command, root, args, None, &[], timeout)
}

fn bounded(
    mut command: Command,
    root: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
    env: &[(&str, &str)],
    timeout: std::time::Duration,
) -> Result<std::process::Output, String> {
    use std::io::{Read, Write};
    use std::process::Stdio;
    command
        .arg("-C")
        .arg(root)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("SSH_ASKPASS", "true")
        .env("LC_ALL", "C")
        .env("LANGUAGE", "")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().map_err(|e| format!("cannot run git: {e}"))?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stdout.read_to_end(&mut buffer);
        buffer
    });
    let err_reader = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = (&mut stderr).take(1 << 20).read_to_end(&mut buffer);
        buffer
    });
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(std::time::Duration::from_millis(2))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "git {} took longer than {}s and was stopped",
                    args[0],
                    timeout.as_secs()
                ));
            }
            Err(e) => return Err(format!("cannot wait for git: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    // Only a failure's message is shown; scrubbing compiles the secret rules, so it is not
    // paid for on success.
    let stderr = if status.success() || stderr.is_empty() {
        stderr
    } else {
        super::scrub::text(&redact_urls(&String::from_utf8_lossy(&stderr))).into_bytes()
    };
    Ok(std::process::Output { status, stdout, stderr })
}

/// `scheme://user:password@host` → `scheme://***@host`, so that no message shows credentials.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end =
            tail.find(|c: char| c.is_whitespace() || c == '/' || c == '\'' || c == '"').unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(user_end) => {
                out.push_str("***");
                rest = &tail[user_end..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}
