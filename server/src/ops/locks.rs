//! Taking and giving back locks, race-free.
//!
//! Every change to the lock folder happens under a workspace mutex: an advisory `flock` on
//! `<locks_dir>/.mutex`, which the kernel releases when its holder dies, so a crash (even
//! `kill -9`) never leaves the folder locked. A lock file is written whole to a temporary file
//! and then hard-linked into place, which fails if the name exists: a reader sees either no lock
//! or a complete one, never a torn file.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::model::{parse_lock, parse_wbs, Lock};
use crate::time::{format_rfc3339, human_age, now_secs, parse_rfc3339};

/// How long an acquirer waits for another to finish with the lock folder.
const MUTEX_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub enum LockError {
    /// Bad input: unknown task, bad agent name, a scope that leaves the workspace.
    Invalid(String),
    /// The scope overlaps a live lock, or the agent already holds one.
    Conflict(String),
    Io(String),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Invalid(m) | LockError::Conflict(m) | LockError::Io(m) => f.write_str(m),
        }
    }
}

fn io(context: &str, e: std::io::Error) -> LockError {
    LockError::Io(format!("{context}: {e}"))
}

pub struct LockDir {
    root: PathBuf,
    dir: PathBuf,
    rel: String,
    /// `files.max_file_size`: no lock file is read past it.
    limit: u64,
    /// `[locks] remote`: the locks live on this remote's lock ref; the folder mirrors it.
    remote: Option<crate::config::LockRemote>,
}

/// Held while the lock folder is being read and changed; the flock goes with the file.
struct Mutex {
    _file: File,
}

impl LockDir {
    pub fn new(root: &Path, config: &Config) -> LockDir {
        let rel = config.paths.locks_dir.trim_end_matches('/').to_string();
        LockDir {
            root: root.to_path_buf(),
            dir: root.join(&rel),
            rel,
            limit: config.max_file_size,
            remote: config.lock_remote.clone(),
        }
    }

    /// This checkout's locks only, even when `[locks] remote` is set (`--local`).
    pub fn local_only(mut self) -> LockDir {
        self.remote = None;
        self
    }

    /// Whether the locks live on a shared remote.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    fn remote(&self) -> Option<super::remote_locks::Remote<'_>> {
        self.remote.as_ref().map(|r| super::remote_locks::Remote::new(&self.root, r, &self.rel, self.limit))
    }

    /// The live locks: on the remote (mirrored into the folder) when there is one, else the
    /// folder's. Also the names of files that are not valid locks.
    pub fn list(&self) -> Result<(Vec<Lock>, Vec<String>), LockError> {
        let Some(remote) = self.remote() else { return Ok(self.read_all()) };
        let _held = self.mutex()?;
        let snapshot = remote.fetch()?;
        remote.mirror(&snapshot)?;
        let broken = snapshot.broken.iter().map(|n| format!("{} {n} (on the remote)", self.rel)).collect();
        Ok((snapshot.locks(), broken))
    }

    fn mutex(&self) -> Result<Mutex, LockError> {
        // The folder must stay inside the workspace (a cloned repository may make it a link).
        let path =
            crate::fsutil::writable_in_workspace(&self.root, Path::new(&format!("{}/.mutex", self.rel)))
                .map_err(|e| io("cannot use the lock folder", e))?;
        // Never through a link, never blocking on a FIFO; only a regular file is locked.
        crate::fsutil::fault_point("create");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| io("cannot open the lock folder's mutex (it must be a regular file)", e))?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(LockError::Io(format!("{}/.mutex is not a regular file; remove it", self.rel)));
        }
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Mutex { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < MUTEX_WAIT => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(LockError::Io(format!(
                        "another process has held {}/.mutex for over {}s; try again",
                        self.rel,
                        MUTEX_WAIT.as_secs()
                    )))
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot lock the lock folder", e)),
            }
        }
    }

    fn path_of(&self, agent: &str) -> PathBuf {
        self.dir.join(format!("{agent}.lock"))
    }

    /// Every whole lock in the folder, and the names of files that are not valid locks.
    pub fn read_all(&self) -> (Vec<Lock>, Vec<String>) {
        let mut locks = Vec::new();
        let mut broken = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return (locks, broken) };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".lock") && !n.starts_with('.'))
            .collect();
        names.sort();
        for name in names {
            let rel = format!("{}/{name}", self.rel);
            match crate::fsutil::read_text_in_workspace(&self.root, &rel, self.limit) {
                Ok(Some(text)) => match parse_lock(&rel, &text) {
                    Ok(lock) => locks.push(lock),
                    Err(_) => broken.push(rel),
                },
                // Released between listing and reading.
                Ok(None) => {}
                Err(_) => broken.push(rel),
            }
        }
        (locks, broken)
    }

    /// Take a lock for `agent` on `task` with `scope` (default: the task's `scope_paths`).
    pub fn acquire(
        &self,
        root: &Path,
        config: &Config,
        agent: &str,
        task: &str,
        scope: Option<Vec<String>>,
    ) -> Result<Lock, LockError> {
        check_agent_name(agent)?;
        let scope = match scope.filter(|s| !s.is_empty()) {
            Some(scope) => scope,
            None => task_scope(root, config, task)?,
        };
        for glob in &scope {
            crate::config::compile_glob(glob).map_err(|m| LockError::Invalid(format!("--scope: {m}")))?;
        }
        let _held = self.mutex()?;
        if let Some(remote) = self.remote() {
            return self.acquire_remote(&remote, root, agent, task, scope);
        }
        self.remove_orphaned_temporaries();
        let (live, _) = self.read_all();
        check_free(&live, agent, &scope)?;
        let lock = self.new_lock(root, agent, task, scope, None);
        self.write_new(&lock)?;
        Ok(lock)
    }

    fn new_lock(&self, root: &Path, agent: &str, task: &str, scope: Vec<String>, token: Option<i64>) -> Lock {
        Lock {
            agent: agent.to_string(),
            task_id: task.to_string(),
            scope_paths: scope,
            acquired_at: format_rfc3339(now_secs()),
            host: hostname(),
            pid: Some(i64::from(std::process::id())),
            fencing_token: token,
            base_commit: super::git::head(root),
            path: format!("{}/{agent}.lock", self.rel),
            task_span: Default::default(),
        }
    }

    fn acquire_remote(
        &self,
        remote: &super::remote_locks::Remote<'_>,
        root: &Path,
        agent: &str,
        task: &str,
        scope: Vec<String>,
    ) -> Result<Lock, LockError> {
        use super::remote_locks::Decision;
        let (lock, after) = remote.change(|snapshot, token| {
            if let Some(name) = snapshot.broken.first() {
                return Err(LockError::Io(format!(
                    "the lock ref holds {name}, which is not a valid lock; nobody can tell what it holds, so no lock is taken until it is removed (`concord lock sweep`)"
                )));
            }
            check_free(&snapshot.locks(), agent, &scope)?;
            let lock = self.new_lock(root, agent, task, scope.clone(), Some(token));
            let text = lock_text(&lock);
            Ok(Decision::Write {
                keep: snapshot.entries.iter().map(|e| e.name.clone()).collect(),
                add: vec![(format!("{agent}.lock"), text)],
                message: format!("acquire {agent} {task}\n\n{}", trailer(&lock).unwrap_or_default()),
                result: lock,
            })
        })?;
        remote.mirror(&after)?;
        Ok(lock)
    }
}

/// Refuse a lock for an agent that already holds one, or whose scope overlaps a live lock.
fn check_free(live: &[Lock], agent: &str, scope: &[String]) -> Result<(), LockError> {
    let now = now_secs();
    if let Some(own) = live.iter().find(|l| l.agent == agent) {
        return Err(LockError::Conflict(format!(
            "{agent} already holds a lock: {}. Release it first (`concord lock release --agent {agent}`).",
            crate::scope::describe(own, now)
        )));
    }
    for other in live {
        if let Some((mine, theirs)) = crate::globs::first_overlap(scope, &other.scope_paths) {
            return Err(LockError::Conflict(format!(
                "the scope overlaps the lock of {}: `{mine}` and `{theirs}` can match the same files. Wait for that lock to be released, or narrow the scope.",
                crate::scope::describe(other, now)
            )));
        }
    }
    Ok(())
}

/// The commit trailer naming a remote lock and its fencing token: `Concord-Lock: WBS-005@17`.
pub fn trailer(lock: &Lock) -> Option<String> {
    lock.fencing_token.map(|token| format!("Concord-Lock: {}@{token}", lock.task_id))
}

/// A lock file's text: the lock format ([`crate::formats::LockFile`]), pretty, one line a field.
fn lock_text(lock: &Lock) -> String {
    let file = crate::formats::LockFile {
        agent: lock.agent.clone(),
        task_id: lock.task_id.clone(),
        scope_paths: lock.scope_paths.clone(),
        acquired_at: lock.acquired_at.clone(),
        host: lock.host.clone(),
        pid: lock.pid.and_then(|pid| u32::try_from(pid).ok()),
        base_commit: lock.base_commit.clone(),
        fencing_token: lock.fencing_token.and_then(|token| u64::try_from(token).ok()),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a lock serializes");
    text.push('\n');
    text
}

impl LockDir {
    fn write_new(&self, lock: &Lock) -> Result<(), LockError> {
        let text = lock_text(lock);
        let target = self.path_of(&lock.agent);
        let tmp = self.dir.join(format!(".{}.lock.tmp-{}", lock.agent, std::process::id()));
        let written = (|| {
            crate::fsutil::fault_point("create");
            let mut file = File::options().write(true).create_new(true).open(&tmp)?;
            crate::fsutil::fault_point("write");
            file.write_all(text.as_bytes())?;
            crate::fsutil::fault_point("sync");
            file.sync_all()?;
            crate::fsutil::fault_point("link");
            std::fs::hard_link(&tmp, &target)
        })();
        let _ = crate::fsutil::remove_file(&tmp);
        match written {
            Ok(()) => {
                if let Ok(dir) = File::open(&self.dir) {
                    let _ = dir.sync_all();
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(LockError::Conflict(format!("{} appeared meanwhile; nothing was written", lock.path)))
            }
            Err(e) => Err(io("cannot write the lock", e)),
        }
    }

    /// Temporary files of acquirers that died between writing and linking.
    fn remove_orphaned_temporaries(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.contains(".lock.tmp-") {
                let _ = crate::fsutil::remove_file(&entry.path());
            }
        }
    }

    pub fn release(&self, agent: &str, task: Option<&str>) -> Result<Lock, LockError> {
        self.release_fenced(agent, task, None)
    }

    /// Give a lock back; with `token`, only if it is still the lock granted with that fencing
    /// token (a lock swept and taken again since is someone else's and stays).
    pub fn release_fenced(
        &self,
        agent: &str,
        task: Option<&str>,
        token: Option<i64>,
    ) -> Result<Lock, LockError> {
        check_agent_name(agent)?;
        let _held = self.mutex()?;
        if let Some(remote) = self.remote() {
            return self.release_remote(&remote, agent, task, token);
        }
        let path = self.path_of(agent);
        let rel = format!("{}/{agent}.lock", self.rel);
        let text = match crate::fsutil::read_in_workspace(&self.root, &rel, self.limit) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(crate::fsutil::ReadError::Missing) => {
                return Err(LockError::Invalid(format!("{agent} holds no lock ({rel} does not exist)")))
            }
            // Not readable as a lock (a link out, a FIFO, too large): released all the same.
            Err(_) => String::new(),
        };
        let lock = parse_lock(&format!("{}/{agent}.lock", self.rel), &text).ok();
        if let (Some(task), Some(lock)) = (task, &lock) {
            if lock.task_id != task {
                return Err(LockError::Conflict(format!(
                    "{agent}'s lock is for {}, not {task}; nothing released",
                    lock.task_id
                )));
            }
        }
        crate::fsutil::remove_file(&path).map_err(|e| io("cannot remove the lock", e))?;
        lock.ok_or_else(|| {
            LockError::Io(format!("removed {}/{agent}.lock, which was not a valid lock", self.rel))
        })
    }

    fn release_remote(
        &self,
        remote: &super::remote_locks::Remote<'_>,
        agent: &str,
        task: Option<&str>,
        token: Option<i64>,
    ) -> Result<Lock, LockError> {
        use super::remote_locks::Decision;
        let name = format!("{agent}.lock");
        let (lock, after) = remote.change(|snapshot, _| {
            let Some(entry) = snapshot.entries.iter().find(|e| e.name == name) else {
                return Err(LockError::Invalid(format!(
                    "{agent} holds no lock on the remote {:?}",
                    self.remote.as_ref().map(|r| r.remote.as_str()).unwrap_or("")
                )));
            };
            if let Some(task) = task {
                if entry.lock.task_id != task {
                    return Err(LockError::Conflict(format!(
                        "{agent}'s lock is for {}, not {task}; nothing released",
                        entry.lock.task_id
                    )));
                }
            }
            if token.is_some() && entry.lock.fencing_token != token {
                return Err(LockError::Conflict(format!(
                    "{agent}'s lock was swept and taken again since (fencing token {} now, {} expected); nothing released",
                    entry.lock.fencing_token.map_or("none".into(), |t| t.to_string()),
                    token.unwrap_or_default()
                )));
            }
            Ok(Decision::Write {
                keep: snapshot.entries.iter().filter(|e| e.name != name).map(|e| e.name.clone()).collect(),
                add: Vec::new(),
                message: format!("release {agent} {}", entry.lock.task_id),
                result: entry.lock.clone(),
            })
        })?;
        remote.mirror(&after)?;
        Ok(lock)
    }

    /// Whether `agent`'s lock on `task` granted with fencing token `token` is still held: a
    /// paused holder whose lock was swept, or taken again by someone else, must not write.
    /// Always true without a remote (no token to compare), or for a lock without a token.
    pub fn check_fence(&self, agent: &str, task: &str, token: Option<i64>) -> Result<(), LockError> {
        let (Some(remote), Some(token)) = (self.remote(), token) else { return Ok(()) };
        let snapshot = remote.fetch()?;
        let current = snapshot.entries.iter().find(|e| e.lock.task_id == task || e.lock.agent == agent);
        match current {
            Some(e) if e.lock.agent == agent && e.lock.task_id == task && e.lock.fencing_token == Some(token) => {
                Ok(())
            }
            Some(e) => Err(LockError::Conflict(format!(
                "the lock {task}@{token} held by {agent} is no longer valid: the remote now has {}'s lock for {} with fencing token {} (swept and taken again). The work of the old lock must not be applied.",
                e.lock.agent,
                e.lock.task_id,
                e.lock.fencing_token.map_or("none".into(), |t| t.to_string())
            ))),
            None => Err(LockError::Conflict(format!(
                "the lock {task}@{token} held by {agent} is no longer on the remote (it was swept or released). The work of the old lock must not be applied."
            ))),
        }
    }

    /// Remove locks older than `older_than` seconds; returns them.
    pub fn sweep(&self, older_than: u64) -> Result<Vec<Lock>, LockError> {
        let _held = self.mutex()?;
        if let Some(remote) = self.remote() {
            use super::remote_locks::Decision;
            let (removed, after) = remote.change(|snapshot, _| {
                let now = now_secs();
                let (stale, kept): (Vec<_>, Vec<_>) =
                    snapshot.entries.iter().partition(|e| is_older_than(&e.lock, now, older_than));
                if stale.is_empty() && snapshot.broken.is_empty() {
                    return Ok(Decision::Done(Vec::new()));
                }
                let names: Vec<String> = stale.iter().map(|e| e.lock.agent.clone()).collect();
                Ok(Decision::Write {
                    keep: kept.iter().map(|e| e.name.clone()).collect(),
                    add: Vec::new(),
                    message: format!("sweep {}", names.join(" ")),
                    result: stale.iter().map(|e| e.lock.clone()).collect::<Vec<_>>(),
                })
            })?;
            remote.mirror(&after)?;
            return Ok(removed);
        }
        self.remove_orphaned_temporaries();
        let (live, _) = self.read_all();
        let now = now_secs();
        let mut removed = Vec::new();
        for lock in live {
            if is_older_than(&lock, now, older_than) {
                crate::fsutil::remove_file(&self.path_of(&lock.agent))
                    .map_err(|e| io("cannot remove a stale lock", e))?;
                removed.push(lock);
            }
        }
        Ok(removed)
    }
}

/// A lock taken more than `limit` seconds before `now`; a lock whose time cannot be read
/// counts as older than any limit (its file has a finding saying so).
pub fn is_older_than(lock: &Lock, now: i64, limit: u64) -> bool {
    match parse_rfc3339(&lock.acquired_at) {
        Some(taken) => i64::try_from(limit).is_ok_and(|limit| now.saturating_sub(taken) > limit),
        None => true,
    }
}

/// An agent name is also a file name: letters, digits, `.`, `_` and `-`.
fn check_agent_name(agent: &str) -> Result<(), LockError> {
    let valid = !agent.is_empty()
        && agent.len() <= 64
        && !agent.starts_with('.')
        && agent.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(LockError::Invalid(format!(
            "agent name {agent:?} is not allowed: use letters, digits, `.`, `_` and `-` (it names the lock file)"
        )))
    }
}

/// The task's `scope_paths` from the WBS.
fn task_scope(root: &Path, config: &Config, task: &str) -> Result<Vec<String>, LockError> {
    let text = crate::fsutil::read_text_in_workspace(root, &config.paths.wbs, config.max_file_size)
        .and_then(|t| t.ok_or_else(|| "does not exist".to_string()))
        .map_err(|e| LockError::Invalid(format!("{} {e}", config.paths.wbs)))?;
    let (items, _) = parse_wbs(config, &config.paths.wbs, &text);
    let item = items.iter().find(|i| i.id == task).ok_or_else(|| {
        LockError::Invalid(format!(
            "{task} is not a work item in {}; give an existing task",
            config.paths.wbs
        ))
    })?;
    if item.scope_paths.is_empty() {
        return Err(LockError::Invalid(format!(
            "{task} has no scope_paths; give the scope with --scope GLOB"
        )));
    }
    Ok(item.scope_paths.clone())
}

/// This machine's name, as locks and runs record it.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// One line per lock, for `concord lock list`.
pub fn describe_all(locks: &[Lock], stale_after: u64) -> String {
    let now = now_secs();
    let mut out = String::new();
    for lock in locks {
        let age = parse_rfc3339(&lock.acquired_at).map(|t| now.saturating_sub(t));
        let stale = if is_older_than(lock, now, stale_after) { "  STALE" } else { "" };
        // A lock on a shared remote shows its fencing token, as its trailer names it.
        let token = lock.fencing_token.map(|t| format!("  @{t}")).unwrap_or_default();
        out.push_str(&format!(
            "{:<12} {:<10} {:>9}  {}{token}{stale}\n",
            lock.agent,
            lock.task_id,
            age.map_or("?".into(), human_age),
            lock.scope_paths.join(" ")
        ));
    }
    out
}
