//! `ops/locks/<AGENT>.lock`: who holds which scope for which task.

use super::reader::FileReader;
use crate::findings::Finding;
use crate::text::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub agent: String,
    pub task_id: String,
    pub scope_paths: Vec<String>,
    pub acquired_at: String,
    pub host: Option<String>,
    pub pid: Option<i64>,
    /// The fencing token of a lock taken on a shared remote (`[locks] remote`): the generation
    /// of the lock ref's commit that granted it.
    pub fencing_token: Option<i64>,
    /// The commit `HEAD` named when the lock was taken (review diffs the agent's work against it).
    pub base_commit: Option<String>,
    /// The lock file, workspace-relative.
    pub path: String,
    pub task_span: Span,
}

/// A lock file; a file that is not a whole, valid lock yields findings instead.
pub fn parse_lock(path: &str, text: &str) -> Result<Lock, Vec<Finding>> {
    match read_lock(path, text) {
        (Some(lock), _) => Ok(lock),
        (None, findings) => Err(findings),
    }
}

/// A lock file, and its findings. A lock whose `acquired_at` is not an RFC 3339 time, or
/// whose scope holds a glob that does not compile, is still a lock (its holder still holds
/// it; a time nobody can read makes it stale), but each such value gets a finding.
pub fn read_lock(path: &str, text: &str) -> (Option<Lock>, Vec<Finding>) {
    match parse_whole_lock(path, text) {
        Ok((lock, warnings)) => (Some(lock), warnings),
        Err(findings) => (None, findings),
    }
}

fn parse_whole_lock(path: &str, text: &str) -> Result<(Lock, Vec<Finding>), Vec<Finding>> {
    let mut reader = FileReader::new(path, text);
    let Some(root) = reader.parse(&[]) else {
        return Err(reader.findings);
    };
    if root.as_members().is_none() {
        reader.malformed_at(&root, "a lock must be a JSON object {agent, task_id, scope_paths, acquired_at}");
        return Err(reader.findings);
    }
    let agent = reader.required_string(&root, "agent", "the lock");
    let task = reader.required_string(&root, "task_id", "the lock");
    let acquired_at = reader.required_string(&root, "acquired_at", "the lock");
    if root.get("scope_paths").is_none() {
        reader.malformed_at(&root, "the lock has no `scope_paths`: a lock must say which files it holds");
    }
    let scope_paths = reader.strings(&root, "scope_paths", "the lock");
    let host = reader.string(&root, "host", "the lock");
    let pid = reader.integer(&root, "pid", "the lock");
    let fencing_token = reader.integer(&root, "fencing_token", "the lock");
    let base_commit = reader.string(&root, "base_commit", "the lock");
    if let (Some((agent, span)), Some(stem)) = (&agent, file_stem(path)) {
        if agent != stem {
            reader.findings.push(Finding::new(
                crate::findings::Code::MalformedFile,
                path,
                *span,
                format!("the lock's agent {agent:?} differs from its file name {stem:?}: a lock file is named after its agent"),
            ));
        }
    }
    match (agent, task, acquired_at) {
        (Some((agent, _)), Some((task_id, task_span)), Some((acquired_at, acquired_span)))
            if reader.findings.is_empty() =>
        {
            let mut warnings = Vec::new();
            if crate::time::parse_rfc3339(&acquired_at).is_none() {
                let shown: String = acquired_at.chars().take(60).collect();
                warnings.push(Finding::new(
                    crate::findings::Code::MalformedFile,
                    path,
                    acquired_span,
                    format!("the lock's `acquired_at` {shown:?} is not an RFC 3339 UTC time like 2026-11-20T10:00:00Z; nobody can tell its age, so it counts as stale"),
                ));
            }
            for (glob, span) in &scope_paths {
                if let Err(message) = crate::config::compile_glob(glob) {
                    warnings.push(Finding::new(
                        crate::findings::Code::MalformedFile,
                        path,
                        *span,
                        format!("the lock's scope_paths: {message}"),
                    ));
                }
            }
            let lock = Lock {
                agent,
                task_id,
                scope_paths: scope_paths.into_iter().map(|(s, _)| s).collect(),
                acquired_at,
                host,
                pid,
                fencing_token,
                base_commit,
                path: path.to_string(),
                task_span,
            };
            Ok((lock, warnings))
        }
        _ => Err(reader.findings),
    }
}

fn file_stem(path: &str) -> Option<&str> {
    path.rsplit('/').next()?.strip_suffix(".lock")
}
