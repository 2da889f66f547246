//! A failed run's changes must not survive silently. Before a run, the files that already
//! differ from the lock's base commit are copied into the run folder; after a failed run, every
//! file the run changed is kept in a patch in the run folder and put back as it was before the
//! run (its copy, the base commit's version, or removed when the run created it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::scope::Change;

/// Files bigger than this are not copied before a run; a run that changes one is reported
/// instead of restored.
const MAX_SAVED_FILE: u64 = 16 * 1024 * 1024;

fn saved_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("before")
}

/// Copy the files already changed before the run (the keys of `before`) into the run folder.
pub fn save_before(root: &Path, run_dir: &Path, before: &BTreeMap<String, u64>) -> std::io::Result<()> {
    for path in before.keys() {
        let source = root.join(path);
        let Ok(meta) = std::fs::symlink_metadata(&source) else { continue };
        if !meta.is_file() || meta.len() > MAX_SAVED_FILE {
            continue;
        }
        let target = saved_dir(run_dir).join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&source, &target)?;
    }
    Ok(())
}

/// What a rollback did, for the failure message.
#[derive(Debug, Default)]
pub struct Rollback {
    pub patch: Option<PathBuf>,
    pub restored: Vec<String>,
    pub removed: Vec<String>,
    /// Files that could not be put back, with why.
    pub kept: Vec<String>,
}

impl Rollback {
    pub fn describe(&self, root: &Path) -> String {
        if self.patch.is_none() && self.kept.is_empty() {
            return "the run left no changes behind".into();
        }
        let mut parts = Vec::new();
        if let Some(patch) = &self.patch {
            let shown =
                crate::workspace::relative(root, patch).unwrap_or_else(|| patch.display().to_string());
            parts.push(format!("its changes are kept in {shown}"));
        }
        if !self.restored.is_empty() {
            parts.push(format!("restored {}", self.restored.join(", ")));
        }
        if !self.removed.is_empty() {
            parts.push(format!("removed the new files {}", self.removed.join(", ")));
        }
        if !self.kept.is_empty() {
            parts.push(format!(
                "COULD NOT restore {}: deal with them before the next run",
                self.kept.join(", ")
            ));
        }
        parts.join("; ")
    }
}

/// Keep the run's `changes` as `failed-run.patch` in the run folder, then put each file back.
pub fn undo(
    root: &Path,
    run_dir: &Path,
    base: &str,
    before: &BTreeMap<String, u64>,
    changes: &[Change],
) -> Rollback {
    let mut result = Rollback::default();
    if changes.is_empty() {
        return result;
    }
    let (tracked, untracked): (Vec<String>, Vec<String>) =
        changes.iter().map(|c| c.path.clone()).partition(|p| super::git::exists_at(root, base, p));
    let patch = run_dir.join("failed-run.patch");
    match super::git::patch_since(root, base, &tracked, &untracked) {
        Ok(bytes) => match crate::fsutil::write_atomic(&patch, &bytes) {
            Ok(()) => result.patch = Some(patch),
            Err(e) => {
                // Without the patch nothing is thrown away.
                result.kept = changes
                    .iter()
                    .map(|c| format!("{} (the patch could not be written: {e})", c.path))
                    .collect();
                return result;
            }
        },
        Err(e) => {
            result.kept = changes.iter().map(|c| format!("{} (no patch: {e})", c.path)).collect();
            return result;
        }
    }
    for change in changes {
        let path = &change.path;
        let full = root.join(path);
        let outcome = match before.get(path) {
            // Already changed before the run: back to that content, or gone again.
            Some(0) => remove(&full).map(|()| result.removed.push(path.clone())),
            Some(_) => {
                let saved = saved_dir(run_dir).join(path);
                match std::fs::read(&saved) {
                    Ok(bytes) => crate::fsutil::write_atomic(&full, &bytes)
                        .map(|()| result.restored.push(path.clone()))
                        .map_err(|e| e.to_string()),
                    Err(_) => Err("its content before the run was not saved (too big or unreadable)".into()),
                }
            }
            None if tracked.contains(path) => {
                super::git::restore_from(root, base, path).map(|()| result.restored.push(path.clone()))
            }
            None => {
                super::git::unstage_new(root, path);
                remove(&full).map(|()| result.removed.push(path.clone()))
            }
        };
        if let Err(why) = outcome {
            result.kept.push(format!("{path} ({why})"));
        }
    }
    result
}

fn remove(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}
