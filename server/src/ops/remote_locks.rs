//! Locks shared through a git remote (`[locks] remote`): one ref on the remote
//! (`refs/concord/locks` by default) points at a commit whose tree holds one file per lock
//! (`<AGENT>.lock`, the lock format) and `generation`, a number that grows by one with every
//! commit. A lock's `fencing_token` is the generation of the commit that granted it.
//!
//! Every change is: fetch the ref, decide on the lock set it holds, build the next commit with
//! plumbing (`hash-object -w`, `mktree`, `commit-tree`; the working tree and the index are never
//! touched), and push it with `--force-with-lease=<ref>:<the fetched oid>` (for the very first
//! lock, the ref must be absent). The remote updates the ref only if it still points where it
//! did, so of two machines deciding on the same lock set only one succeeds; the other re-fetches
//! and decides again, with a jittered backoff, a bounded number of times.

use std::path::Path;
use std::time::Duration;

use super::locks::LockError;
use crate::config::LockRemote;
use crate::model::{parse_lock, Lock};

/// Where the fetched lock ref is kept in the local repository.
const TRACKING_REF: &str = "refs/concord/remote-locks";
/// Attempts of one change before giving up on a contended ref.
const ATTEMPTS: u32 = 12;
/// The name of the generation file in the lock commit's tree.
const GENERATION: &str = "generation";

/// The lock ref as fetched: its commit (None: the ref does not exist yet), generation and locks.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub oid: Option<String>,
    pub generation: i64,
    /// Each lock with its file name in the tree, its text and the blob holding it.
    pub entries: Vec<Entry>,
    /// File names in the tree that are not valid locks.
    pub broken: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub blob: String,
    pub text: String,
    pub lock: Lock,
}

impl Snapshot {
    pub fn locks(&self) -> Vec<Lock> {
        self.entries.iter().map(|e| e.lock.clone()).collect()
    }
}

/// What a change decides, given the current lock set.
pub enum Decision<T> {
    /// Write this lock set (new files as name + text; kept ones by name), then return `T`.
    Write { keep: Vec<String>, add: Vec<(String, String)>, message: String, result: T },
    /// Nothing to write.
    Done(T),
}

pub struct Remote<'a> {
    root: &'a Path,
    config: &'a LockRemote,
    locks_dir: String,
    limit: u64,
}

impl<'a> Remote<'a> {
    pub fn new(root: &'a Path, config: &'a LockRemote, locks_dir: &str, limit: u64) -> Remote<'a> {
        Remote { root, config, locks_dir: locks_dir.trim_end_matches('/').to_string(), limit }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs)
    }

    fn git(&self, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Result<Vec<u8>, LockError> {
        let out =
            super::git::git_bounded(self.root, args, stdin, env, self.timeout()).map_err(LockError::Io)?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(LockError::Io(format!(
                "git {} failed: {}",
                args.first().copied().unwrap_or(""),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    fn unreachable(&self, why: &str) -> LockError {
        LockError::Io(format!(
            "cannot reach the lock remote {:?} ({why}). Nothing was changed: locks are shared through {} on that remote ([locks] remote), and taking one without it could book a scope twice. Retry when the remote is reachable, or pass --local to use this checkout's locks only.",
            self.config.remote, self.config.lock_ref
        ))
    }

    /// Fetch the lock ref and read the lock set it holds.
    pub fn fetch(&self) -> Result<Snapshot, LockError> {
        let refspec = format!("+{}:{TRACKING_REF}", self.config.lock_ref);
        let out = super::git::git_bounded(
            self.root,
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--no-auto-maintenance",
                "--no-recurse-submodules",
                "--",
                &self.config.remote,
                &refspec,
            ],
            None,
            &[],
            self.timeout(),
        )
        .map_err(|e| self.unreachable(&e))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("couldn't find remote ref") {
                // No lock was ever taken on this remote: an empty set, and the ref must stay absent.
                let _ = self.git(&["update-ref", "-d", TRACKING_REF], None, &[]);
                return Ok(Snapshot { oid: None, generation: 0, entries: Vec::new(), broken: Vec::new() });
            }
            return Err(self.unreachable(stderr.trim()));
        }
        let oid = String::from_utf8_lossy(&self.git(
            &["rev-parse", "--verify", "-q", &format!("{TRACKING_REF}^{{commit}}")],
            None,
            &[],
        )?)
        .trim()
        .to_string();
        self.read(&oid)
    }

    /// The lock set of commit `oid`.
    pub fn read(&self, oid: &str) -> Result<Snapshot, LockError> {
        let listing = self.git(&["ls-tree", "-z", oid], None, &[])?;
        let mut files = Vec::new();
        for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let record = String::from_utf8_lossy(record);
            let Some((meta, name)) = record.split_once('\t') else { continue };
            let mut meta = meta.split(' ');
            let (_mode, kind, blob) = (meta.next(), meta.next(), meta.next().unwrap_or(""));
            if kind == Some("blob") {
                files.push((name.to_string(), blob.to_string()));
            }
        }
        let request: String = files.iter().map(|(_, blob)| format!("{blob}\n")).collect();
        let batch = self.git(&["cat-file", "--batch"], Some(request.as_bytes()), &[])?;
        let contents = split_batch(&batch).ok_or_else(|| {
            LockError::Io(format!(
                "cannot read the lock commit {oid}: git cat-file said something unexpected"
            ))
        })?;
        let mut snapshot =
            Snapshot { oid: Some(oid.to_string()), generation: 0, entries: Vec::new(), broken: Vec::new() };
        for ((name, blob), bytes) in files.into_iter().zip(contents) {
            if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > self.limit {
                snapshot.broken.push(name);
                continue;
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if name == GENERATION {
                snapshot.generation = text.trim().parse().map_err(|_| {
                    LockError::Io(format!(
                        "the lock ref {} holds a `generation` that is not a number ({:?}); it was not written by Concord",
                        self.config.lock_ref,
                        text.chars().take(40).collect::<String>()
                    ))
                })?;
            } else if name.ends_with(".lock") {
                match parse_lock(&format!("{}/{name}", self.locks_dir), &text) {
                    Ok(lock) => snapshot.entries.push(Entry { name, blob, text, lock }),
                    Err(_) => snapshot.broken.push(name),
                }
            } else {
                snapshot.broken.push(name);
            }
        }
        Ok(snapshot)
    }

    /// Run one change to the lock set: `decide` sees the current set and its next generation
    /// (the fencing token of a lock it adds). A lost race re-fetches and decides again.
    pub fn change<T>(
        &self,
        mut decide: impl FnMut(&Snapshot, i64) -> Result<Decision<T>, LockError>,
    ) -> Result<(T, Snapshot), LockError> {
        let mut rng = Jitter::new();
        let mut last_holders = String::new();
        for attempt in 0..ATTEMPTS {
            let snapshot = self.fetch()?;
            let next = snapshot.generation + 1;
            match decide(&snapshot, next)? {
                Decision::Done(result) => return Ok((result, snapshot)),
                Decision::Write { keep, add, message, result } => {
                    let (commit, after) = self.build(&snapshot, next, &keep, &add, &message)?;
                    match self.push(snapshot.oid.as_deref(), &commit)? {
                        Pushed::Yes => return Ok((result, after)),
                        Pushed::LostRace => {
                            last_holders = holders(&snapshot);
                            crate::fsutil::fault_point("lost-race");
                            std::thread::sleep(rng.backoff(attempt));
                        }
                    }
                }
            }
        }
        Err(LockError::Conflict(format!(
            "the lock ref {} on {:?} kept changing under {ATTEMPTS} attempts (other machines are busy with it); nothing was changed. Last seen: {}",
            self.config.lock_ref,
            self.config.remote,
            if last_holders.is_empty() { "no locks".into() } else { last_holders }
        )))
    }

    /// The next commit: the kept entries, the added files and the new generation.
    fn build(
        &self,
        snapshot: &Snapshot,
        generation: i64,
        keep: &[String],
        add: &[(String, String)],
        message: &str,
    ) -> Result<(String, Snapshot), LockError> {
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut after = Snapshot { oid: None, generation, entries: Vec::new(), broken: Vec::new() };
        for entry in snapshot.entries.iter().filter(|e| keep.contains(&e.name)) {
            rows.push((entry.name.clone(), entry.blob.clone()));
            after.entries.push(entry.clone());
        }
        let mut texts: Vec<(String, String)> = add.to_vec();
        texts.push((GENERATION.to_string(), format!("{generation}\n")));
        // One `hash-object` for every new file: their texts go through temporary files.
        let tmp = tempdir_in_git(self)?;
        let mut paths = String::new();
        for (i, (_, text)) in texts.iter().enumerate() {
            let path = tmp.join(format!("{i}"));
            std::fs::write(&path, text)
                .map_err(|e| LockError::Io(format!("cannot stage a lock file: {e}")))?;
            paths.push_str(&format!("{}\n", path.display()));
        }
        let hashed =
            self.git(&["hash-object", "-w", "--no-filters", "--stdin-paths"], Some(paths.as_bytes()), &[]);
        let _ = std::fs::remove_dir_all(&tmp);
        let hashed = String::from_utf8_lossy(&hashed?).into_owned();
        let blobs: Vec<&str> = hashed.lines().collect();
        if blobs.len() != texts.len() {
            return Err(LockError::Io("git hash-object returned fewer objects than files".into()));
        }
        for ((name, text), blob) in texts.iter().zip(&blobs) {
            rows.push((name.clone(), blob.to_string()));
            if name != GENERATION {
                let lock = parse_lock(&format!("{}/{name}", self.locks_dir), text)
                    .map_err(|_| LockError::Io(format!("internal: {name} is not a valid lock")))?;
                after.entries.push(Entry {
                    name: name.clone(),
                    blob: blob.to_string(),
                    text: text.clone(),
                    lock,
                });
            }
        }
        rows.sort();
        let tree_input: String =
            rows.iter().map(|(name, blob)| format!("100644 blob {blob}\t{name}\n")).collect();
        let tree = String::from_utf8_lossy(&self.git(&["mktree"], Some(tree_input.as_bytes()), &[])?)
            .trim()
            .to_string();
        let mut args = vec!["commit-tree", tree.as_str(), "-m", message];
        if let Some(parent) = &snapshot.oid {
            args.extend(["-p", parent.as_str()]);
        }
        let host = super::locks::hostname().unwrap_or_else(|| "localhost".into());
        let email = format!("concord@{host}");
        let identity = [
            ("GIT_AUTHOR_NAME", "Concord locks"),
            ("GIT_AUTHOR_EMAIL", email.as_str()),
            ("GIT_COMMITTER_NAME", "Concord locks"),
            ("GIT_COMMITTER_EMAIL", email.as_str()),
        ];
        let commit = String::from_utf8_lossy(&self.git(&args, None, &identity)?).trim().to_string();
        after.oid = Some(commit.clone());
        Ok((commit, after))
    }

    /// Compare-and-swap: the remote's ref moves to `commit` only if it is still at `expected`
    /// (absent, for `None`).
    fn push(&self, expected: Option<&str>, commit: &str) -> Result<Pushed, LockError> {
        let lease = format!("--force-with-lease={}:{}", self.config.lock_ref, expected.unwrap_or(""));
        let refspec = format!("{commit}:{}", self.config.lock_ref);
        crate::fsutil::fault_point("push");
        let out = super::git::git_bounded(
            self.root,
            &["push", "--porcelain", "--quiet", "--no-verify", &lease, "--", &self.config.remote, &refspec],
            None,
            &[],
            self.timeout(),
        )
        .map_err(|e| self.unreachable(&e))?;
        if out.status.success() {
            // The local copy follows, so that the next fetch has nothing to download.
            let _ = self.git(&["update-ref", TRACKING_REF, commit], None, &[]);
            return Ok(Pushed::Yes);
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let rejected = stdout.lines().find(|l| l.starts_with('!')).unwrap_or("");
        let race = rejected.contains("[rejected]")
            || rejected.contains("stale info")
            || rejected.contains("failed to update ref")
            || rejected.contains("cannot lock ref")
            || rejected.contains("failed to lock");
        if race {
            Ok(Pushed::LostRace)
        } else if !rejected.is_empty() {
            Err(LockError::Io(format!(
                "the remote {:?} refused to update {} ({}). If the host refuses custom refs or protects this one, see docs/guardrails.md (\"Locks across machines\"): set [locks] ref = \"refs/heads/concord-locks\" and allow pushes to it.",
                self.config.remote,
                self.config.lock_ref,
                rejected.trim_start_matches('!').trim()
            )))
        } else {
            Err(self.unreachable(stderr.trim()))
        }
    }

    /// Make the lock folder of this checkout show exactly `snapshot`'s locks (each file written
    /// whole; locks gone from the remote are removed).
    pub fn mirror(&self, snapshot: &Snapshot) -> Result<(), LockError> {
        let dir = self.root.join(&self.locks_dir);
        for entry in &snapshot.entries {
            let rel = format!("{}/{}", self.locks_dir, entry.name);
            let current = crate::fsutil::read_in_workspace(self.root, &rel, self.limit).ok();
            if current.as_deref() != Some(entry.text.as_bytes()) {
                crate::fsutil::write_in_workspace(self.root, &rel, entry.text.as_bytes())
                    .map_err(|e| LockError::Io(format!("cannot mirror {rel}: {e}")))?;
            }
        }
        if let Ok(listing) = std::fs::read_dir(&dir) {
            for item in listing.flatten() {
                let name = item.file_name().to_string_lossy().into_owned();
                if name.ends_with(".lock")
                    && !name.starts_with('.')
                    && !snapshot.entries.iter().any(|e| e.name == name)
                {
                    let _ = crate::fsutil::remove_file(&item.path());
                }
            }
        }
        Ok(())
    }
}

enum Pushed {
    Yes,
    LostRace,
}

/// A folder for the texts being hashed, inside the repository's git directory (never the
/// working tree).
fn tempdir_in_git(remote: &Remote) -> Result<std::path::PathBuf, LockError> {
    let out = remote.git(&["rev-parse", "--absolute-git-dir"], None, &[])?;
    let git_dir = std::path::PathBuf::from(String::from_utf8_lossy(&out).trim());
    let dir = git_dir.join(format!("concord-locks-{}-{}", std::process::id(), Jitter::new().next()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| LockError::Io(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// `git cat-file --batch` output: `<oid> <type> <size>\n<content>\n` per object.
fn split_batch(mut raw: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let newline = memchr::memchr(b'\n', raw)?;
        let header = std::str::from_utf8(&raw[..newline]).ok()?;
        let size: usize = header.rsplit(' ').next()?.parse().ok()?;
        let start = newline + 1;
        out.push(raw.get(start..start + size)?.to_vec());
        raw = raw.get(start + size + 1..).unwrap_or(&[]);
    }
    Some(out)
}

/// Who holds what, for a message.
pub fn holders(snapshot: &Snapshot) -> String {
    snapshot
        .entries
        .iter()
        .map(|e| {
            format!(
                "{} ({} on {}: {})",
                e.lock.agent,
                e.lock.task_id,
                e.lock.host.as_deref().unwrap_or("?"),
                e.lock.scope_paths.join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A small xorshift generator seeded from the clock and the process: jitter needs no quality,
/// only that two racers do not sleep in step.
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Jitter(nanos ^ (u64::from(std::process::id()) << 32) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Full jitter over an exponential window: 20 ms, 40 ms, … up to 1 s.
    fn backoff(&mut self, attempt: u32) -> Duration {
        let window = (20u64 << attempt.min(6)).min(1000);
        Duration::from_millis(1 + self.next() % window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_output_is_split_by_sizes_even_with_newlines_inside() {
        let raw = b"aaa blob 3\nx\ny\nbbb blob 0\n\n";
        assert_eq!(split_batch(raw).unwrap(), vec![b"x\ny".to_vec(), Vec::new()]);
        assert!(split_batch(b"aaa blob 9\nshort\n").is_none());
    }

    #[test]
    fn backoff_stays_inside_its_window() {
        let mut jitter = Jitter::new();
        for attempt in 0..20 {
            let d = jitter.backoff(attempt);
            assert!(d >= Duration::from_millis(1) && d <= Duration::from_millis(1001), "{d:?}");
        }
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            super::super::git::redact_urls("fatal: unable to access 'https://me:tok3n@example.com/x.git/'"),
            "fatal: unable to access 'https://***@example.com/x.git/'"
        );
        assert_eq!(super::super::git::redact_urls("git://127.0.0.1:9/x"), "git://127.0.0.1:9/x");
    }
}
