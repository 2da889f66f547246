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
}

/// Held while the lock folder is being read and changed; the flock goes with the file.
struct Mutex {
    _file: File,
}

impl LockDir {
    pub fn new(root: &Path, config: &Config) -> LockDir {
        let rel = config.paths.locks_dir.trim_end_matches('/').to_string();
        LockDir { root: root.to_path_buf(), dir: root.join(&rel), rel, limit: config.max_file_size }
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
        self.remove_orphaned_temporaries();
        let (live, _) = self.read_all();
        let now = now_secs();
        if let Some(own) = live.iter().find(|l| l.agent == agent) {
            return Err(LockError::Conflict(format!(
                "{agent} already holds a lock: {}. Release it first (`concord lock release --agent {agent}`).",
                crate::scope::describe(own, now)
            )));
        }
        for other in &live {
            if let Some((mine, theirs)) = crate::globs::first_overlap(&scope, &other.scope_paths) {
                return Err(LockError::Conflict(format!(
                    "the scope overlaps the lock of {}: `{mine}` and `{theirs}` can match the same files. Wait for that lock to be released, or narrow the scope.",
                    crate::scope::describe(other, now)
                )));
            }
        }
        let lock = Lock {
            agent: agent.to_string(),
            task_id: task.to_string(),
            scope_paths: scope,
            acquired_at: format_rfc3339(now),
            host: hostname(),
            pid: Some(i64::from(std::process::id())),
            path: format!("{}/{agent}.lock", self.rel),
            task_span: Default::default(),
        };
        self.write_new(&lock, root)?;
        Ok(lock)
    }

    fn write_new(&self, lock: &Lock, root: &Path) -> Result<(), LockError> {
        let mut value = serde_json::json!({
            "agent": lock.agent,
            "task_id": lock.task_id,
            "scope_paths": lock.scope_paths,
            "acquired_at": lock.acquired_at,
            "host": lock.host,
            "pid": lock.pid,
        });
        if let Some(head) = super::git::head(root) {
            value["base_commit"] = serde_json::json!(head);
        }
        let mut text = serde_json::to_string_pretty(&value).expect("a lock serializes");
        text.push('\n');
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
        check_agent_name(agent)?;
        let _held = self.mutex()?;
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

    /// Remove locks older than `older_than` seconds; returns them.
    pub fn sweep(&self, older_than: u64) -> Result<Vec<Lock>, LockError> {
        let _held = self.mutex()?;
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
        out.push_str(&format!(
            "{:<12} {:<10} {:>9}  {}{stale}\n",
            lock.agent,
            lock.task_id,
            age.map_or("?".into(), human_age),
            lock.scope_paths.join(" ")
        ));
    }
    out
}
