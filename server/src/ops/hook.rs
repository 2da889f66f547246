//! The git pre-commit hook: refuses a commit that adds a secret, or (when an agent is active)
//! changes files outside that agent's lock.

use std::path::Path;

use crate::config::Config;
use crate::model::Model;

const MARKER: &str = "# concord pre-commit hook";

/// Write `.git/hooks/pre-commit` (or core.hooksPath's). An existing hook that is not ours is
/// kept: with `force` it is renamed to `pre-commit.local` and run first; without, nothing changes.
pub fn install(root: &Path, binary: &Path, force: bool) -> Result<String, String> {
    let hooks = super::git::hooks_dir(root)?;
    std::fs::create_dir_all(&hooks).map_err(|e| format!("cannot create {}: {e}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    let mut chained = false;
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(MARKER) {
            if !force {
                return Err(format!(
                    "{} already exists and is not Concord's. Re-run with --force to keep it as pre-commit.local (run first) and install Concord's hook.",
                    hook.display()
                ));
            }
            std::fs::rename(&hook, hooks.join("pre-commit.local"))
                .map_err(|e| format!("cannot move the existing hook: {e}"))?;
        }
    }
    if hooks.join("pre-commit.local").exists() {
        chained = true;
    }
    let workspace = super::git::prefix(root)?;
    let workspace = if workspace.is_empty() { ".".to_string() } else { workspace };
    let local = if chained { "\"$(dirname \"$0\")/pre-commit.local\" \"$@\" || exit $?\n" } else { "" };
    let script = format!(
        "#!/bin/sh\n{MARKER}: refuses commits that add secrets or leave the active agent's lock.\n{local}CONCORD=\"${{CONCORD_BIN:-concord}}\"\ncommand -v \"$CONCORD\" >/dev/null 2>&1 || CONCORD='{}'\nexec \"$CONCORD\" hook pre-commit --workspace '{}'\n",
        binary.display().to_string().replace('\'', "'\\''"),
        workspace.replace('\'', "'\\''"),
    );
    crate::fsutil::write_atomic(&hook, script.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", hook.display()))?;
    make_executable(&hook)?;
    Ok(format!("installed {}{}", hook.display(), if chained { " (runs pre-commit.local first)" } else { "" }))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make the hook executable: {e}"))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<(), String> {
    Ok(())
}

/// Check what is staged. Returns the problems, one line each (empty: the commit may go on).
pub fn pre_commit(
    root: &Path,
    config: &Config,
    model: &Model,
    agent: Option<&str>,
) -> Result<Vec<String>, String> {
    let staged = super::git::staged_changes(root)?;
    let mut problems = Vec::new();
    for change in &staged {
        let Ok(bytes) = super::git::staged_blob(root, &change.path) else { continue };
        if crate::workspace::unscannable(&bytes).is_some()
            || config.secrets_allow_paths.is_match(&change.path)
        {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        let index = crate::text::LineIndex::new(&text);
        for secret in config.secrets().scan_file(&change.path, &text) {
            let at = index.line_col(&text, secret.start);
            problems.push(format!(
                "{}:{}:{}: secret: {} ({}). Remove it from the file and rotate it; read it from an environment variable instead.",
                change.path,
                at.line + 1,
                at.utf16 + 1,
                secret.description,
                secret.redacted
            ));
        }
    }
    if let Some(agent) = agent {
        match model.locks.iter().find(|l| l.agent == agent) {
            None => problems.push(format!("{agent} holds no lock: take the lock for the task before committing (`concord lock acquire --agent {agent} --task <WBS-ID>`).")),
            Some(lock) => {
                let report = crate::scope::check_changes(config, model, lock, &staged, crate::time::now_secs());
                for path in &report.outside {
                    problems.push(format!("{path}: outside {agent}'s lock for {} ({}); unstage it and revert the change, or hand the task back.", lock.task_id, lock.scope_paths.join(", ")));
                }
                for (path, holder) in &report.locked_by_other {
                    problems.push(format!("{path}: locked by {holder}; unstage it and revert the change."));
                }
                problems.extend(report.budget.iter().map(|b| format!("change budget exceeded: {b}; split the work.")));
            }
        }
    }
    Ok(problems)
}
