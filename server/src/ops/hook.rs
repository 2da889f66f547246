//! The git hooks. commit-msg: refuses a message without a trace trailer, and suggests the IDs
//! of the staged files' work items. pre-commit: refuses a commit that adds a secret, or (when an agent is active)
//! changes files outside that agent's lock.

use std::path::Path;

use crate::config::Config;
use crate::model::Model;

const MARKER: &str = "# concord pre-commit hook";
const COMMIT_MSG_MARKER: &str = "# concord commit-msg hook";

/// Which hook to install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Secrets and scope of the staged changes.
    PreCommit,
    /// A trace trailer in the message.
    CommitMsg,
}

impl Hook {
    fn name(self) -> &'static str {
        match self {
            Hook::PreCommit => "pre-commit",
            Hook::CommitMsg => "commit-msg",
        }
    }

    fn marker(self) -> &'static str {
        match self {
            Hook::PreCommit => MARKER,
            Hook::CommitMsg => COMMIT_MSG_MARKER,
        }
    }
}

/// Write `.git/hooks/<hook>` (or core.hooksPath's). An existing hook that is not ours is kept:
/// with `force` it is renamed to `<hook>.local` and run first; without, nothing changes.
pub fn install(root: &Path, binary: &Path, force: bool) -> Result<String, String> {
    install_hook(root, binary, force, Hook::PreCommit)
}

pub fn install_hook(root: &Path, binary: &Path, force: bool, which: Hook) -> Result<String, String> {
    let name = which.name();
    let hooks = super::git::hooks_dir(root)?;
    std::fs::create_dir_all(&hooks).map_err(|e| format!("cannot create {}: {e}", hooks.display()))?;
    let hook = hooks.join(name);
    let local_name = format!("{name}.local");
    let mut chained = false;
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(which.marker()) {
            if !force {
                return Err(format!(
                    "{} already exists and is not Concord's. Re-run with --force to keep it as {local_name} (run first) and install Concord's hook.",
                    hook.display()
                ));
            }
            std::fs::rename(&hook, hooks.join(&local_name))
                .map_err(|e| format!("cannot move the existing hook: {e}"))?;
        }
    }
    if hooks.join(&local_name).exists() {
        chained = true;
    }
    let workspace = super::git::prefix(root)?;
    let workspace = if workspace.is_empty() { ".".to_string() } else { workspace };
    let local = if chained {
        format!("\"$(dirname \"$0\")/{local_name}\" \"$@\" || exit $?\n")
    } else {
        String::new()
    };
    let (what, run) = match which {
        Hook::PreCommit => (
            "refuses commits that add secrets or leave the active agent's lock.",
            format!("hook pre-commit --workspace '{}'", workspace.replace('\'', "'\\''")),
        ),
        Hook::CommitMsg => (
            "refuses a message without a trace trailer (Implements:, Refs:, Fixes:).",
            format!("hook commit-msg \"$1\" --workspace '{}'", workspace.replace('\'', "'\\''")),
        ),
    };
    let script = format!(
        "#!/bin/sh\n{}: {what}\n{local}CONCORD=\"${{CONCORD_BIN:-concord}}\"\ncommand -v \"$CONCORD\" >/dev/null 2>&1 || CONCORD='{}'\nexec \"$CONCORD\" {run}\n",
        which.marker(),
        binary.display().to_string().replace('\'', "'\\''"),
    );
    crate::fsutil::write_atomic(&hook, script.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", hook.display()))?;
    make_executable(&hook)?;
    Ok(format!(
        "installed {}{}",
        hook.display(),
        if chained { format!(" (runs {local_name} first)") } else { String::new() }
    ))
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

/// What the staged spec edits will make stale: for each chunk whose staged markdown section
/// differs (after normalisation) from the text places were reviewed against, those places. A
/// note, not a refusal: the edit may be meant, and the places are then reviewed.
pub fn staged_spec_staleness(root: &Path, config: &Config, model: &Model) -> Result<Vec<String>, String> {
    if model.reviewed.is_empty() {
        return Ok(Vec::new());
    }
    let mut notes = Vec::new();
    for change in super::git::staged_changes(root)? {
        if !crate::config::is_under(&change.path, &config.paths.blueprints_dir)
            || !change.path.ends_with(".md")
        {
            continue;
        }
        let Ok(bytes) = super::git::staged_blob(root, &change.path) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for heading in crate::scan::scan_text(config, &change.path, &text).headings {
            let places: Vec<String> = model
                .reviewed
                .iter()
                .filter(|(key, recorded)| key.chunk == heading.id && **recorded != heading.fingerprint)
                .map(|(key, _)| crate::stale::place(key))
                .collect();
            if !places.is_empty() {
                notes.push(format!(
                    "{} changes: {} place(s) reviewed against its older text become stale: {}. Review them, then `concord ack {} PLACE`; for a wording-only edit, `concord bump --editorial {}`.",
                    heading.id,
                    places.len(),
                    places.join(", "),
                    heading.id,
                    heading.id
                ));
            }
        }
    }
    Ok(notes)
}

/// The IDs to name in the trailers of a commit of the staged changes: the work items whose
/// scope_paths cover a staged file, then the known IDs the staged files are tagged with (work
/// items first), without repeats.
pub fn staged_trace_ids(root: &Path, config: &Config, model: &Model) -> Result<Vec<String>, String> {
    let staged = super::git::staged_changes(root)?;
    let mut ids: Vec<String> = Vec::new();
    for change in &staged {
        for owner in model.scopes.owners_of(&change.path) {
            if !ids.iter().any(|i| i == owner) {
                ids.push(owner.to_string());
            }
        }
    }
    let mut tagged: Vec<String> = Vec::new();
    for change in &staged {
        if config.is_ops_file(&change.path) {
            continue;
        }
        let Ok(bytes) = super::git::staged_blob(root, &change.path) else { continue };
        if crate::workspace::unscannable(&bytes).is_some() || bytes.len() as u64 > config.max_file_size {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        for r in crate::scan::scan_text(config, &change.path, &text).refs.iter().filter(|r| r.traces) {
            if model.is_known(r.id) && !ids.iter().any(|id| id == r.id) && !tagged.iter().any(|id| id == r.id)
            {
                tagged.push(r.id.to_string());
            }
        }
    }
    tagged.sort_by_key(|id| config.ids.kind_of(id) != Some(crate::ids::IdKind::Work));
    ids.extend(tagged);
    Ok(ids)
}

/// The trailer lines to paste for the staged changes (`Implements: WBS-005`).
pub fn trailer_lines(config: &Config, ids: &[String]) -> Vec<String> {
    let key = config.commits.trailer_keys.first().map_or("Implements", String::as_str);
    ids.iter().map(|id| format!("{key}: {id}")).collect()
}

const LOCK_TRAILER_KEY: &str = "Concord-Lock";

/// The `Concord-Lock: TASK@TOKEN` trailer of the lock `CONCORD_AGENT` holds on a shared
/// remote (none for a lock without a fencing token, or no agent).
pub fn lock_trailer(model: &Model) -> Option<String> {
    let agent = std::env::var("CONCORD_AGENT").ok().filter(|a| !a.is_empty())?;
    model.locks.iter().find(|l| l.agent == agent).and_then(super::locks::trailer)
}

/// Check a commit message (the commit-msg hook). Returns the problems (empty: the commit may
/// go on). A merge in progress (`MERGE_HEAD`) needs no trailer when merges are skipped.
pub fn commit_msg(root: &Path, config: &Config, model: &Model, message: &str) -> Result<Vec<String>, String> {
    if config.commits.skip_merges && super::git::merge_in_progress(root) {
        return Ok(Vec::new());
    }
    let ids = crate::changes::trailer_ids(config, message);
    let has_definitions = |id: &str| match config.ids.kind_of(id) {
        Some(crate::ids::IdKind::Work) => !model.work.is_empty(),
        _ => !model.chunks.is_empty(),
    };
    let mut problems = Vec::new();
    for id in ids.iter().filter(|id| !model.is_known(id) && has_definitions(id)) {
        let suggestions = model.did_you_mean(config, id);
        let hint = if suggestions.is_empty() {
            String::new()
        } else {
            format!(" Did you mean {}?", suggestions.join(" or "))
        };
        problems.push(format!("{id} in a trailer is not a known chunk or work item.{hint}"));
    }
    // An agent working under a lock on the shared remote names it and its fencing token, so
    // work done under a lock since swept and taken again can be told apart (checked against
    // the lock folder's mirror of the remote: a commit stays local and offline).
    if let Some(expected) = lock_trailer(model) {
        let mut recognized = config.commits.trailer_keys.clone();
        recognized.push(LOCK_TRAILER_KEY.into());
        let named: Vec<String> = crate::changes::parse_trailers(message, &recognized)
            .into_iter()
            .filter(|t| t.key.eq_ignore_ascii_case(LOCK_TRAILER_KEY))
            .map(|t| t.value.trim().to_string())
            .collect();
        let want = expected.trim_start_matches(LOCK_TRAILER_KEY).trim_start_matches(':').trim();
        if named.is_empty() {
            problems.push(format!(
                "the agent works under a lock on the shared remote: end the message with the trailer line `{expected}`"
            ));
        } else if !named.iter().any(|n| n == want) {
            problems.push(format!(
                "the message names the lock {}, but the lock held now is {want}: this work was done under a lock since swept or taken again; do not commit it as is (`concord lock verify`)",
                named.join(", ")
            ));
        }
    }
    if ids.is_empty() {
        let suggested = staged_trace_ids(root, config, model)?;
        let lines = trailer_lines(config, &suggested);
        let paste = if lines.is_empty() {
            format!("{}: <the WBS or chunk ID this commit implements>", config.commits.trailer_keys[0])
        } else {
            lines.join("\n    ")
        };
        problems.push(format!(
            "the message has no trace trailer ({}: followed by a known ID) in its last paragraph. End the message with a blank line and:\n    {paste}",
            config.commits.trailer_keys.join(":, ")
        ));
    }
    Ok(problems)
}
