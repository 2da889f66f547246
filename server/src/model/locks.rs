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
    /// The lock file, workspace-relative.
    pub path: String,
    pub task_span: Span,
}

/// A lock file; a file that is not a whole, valid lock yields findings instead.
pub fn parse_lock(path: &str, text: &str) -> Result<Lock, Vec<Finding>> {
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
    let scope_paths: Vec<String> =
        reader.strings(&root, "scope_paths", "the lock").into_iter().map(|(s, _)| s).collect();
    let host = reader.string(&root, "host", "the lock");
    let pid = reader.integer(&root, "pid", "the lock");
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
        (Some((agent, _)), Some((task_id, task_span)), Some((acquired_at, _)))
            if reader.findings.is_empty() =>
        {
            Ok(Lock {
                agent,
                task_id,
                scope_paths,
                acquired_at,
                host,
                pid,
                path: path.to_string(),
                task_span,
            })
        }
        _ => Err(reader.findings),
    }
}

fn file_stem(path: &str) -> Option<&str> {
    path.rsplit('/').next()?.strip_suffix(".lock")
}
