//! The CLI's trust gate. `concord review` runs the work item's `test_commands`, `smoke_checks`
//! and `command:` quality gates, and `concord dispatch` runs the agent CLI and its help command, all named in the repository (the WBS,
//! `concord.toml`): a cloned repository could name anything. These commands run only in a
//! workspace the user trusted with `concord trust [PATH]`, or with `--trust` / `CONCORD_TRUST=1`
//! (for CI, where the checkout is the job's own).
//!
//! The trusted roots are kept per user in `$XDG_CONFIG_HOME/concord/trusted-workspaces.json`
//! (else `~/.config/concord/…`), canonicalised; a root trusts the folders below it.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

const STORE_NAME: &str = "trusted-workspaces.json";

/// Where the trusted roots are kept, if a home or configuration folder is known.
pub fn store_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("concord").join(STORE_NAME))
}

fn read_store(path: &Path) -> Result<Vec<Value>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not valid JSON ({e}); fix or remove it", path.display()))?;
            value
                .get("trusted")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| format!("{} has no `trusted` list; fix or remove it", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn canonical(path: &Path) -> Result<PathBuf, String> {
    std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Record `path` (canonicalised) as trusted. Returns what was done, in words.
pub fn trust(path: &Path) -> Result<String, String> {
    let root = canonical(path)?;
    if !root.is_dir() {
        return Err(format!("{} is not a folder", root.display()));
    }
    let store = store_path().ok_or("neither XDG_CONFIG_HOME nor HOME is set: nowhere to record trust")?;
    let mut trusted = read_store(&store)?;
    let shown = root.display().to_string();
    if trusted.iter().any(|t| t.get("path").and_then(Value::as_str) == Some(shown.as_str())) {
        return Ok(format!("{shown} is already trusted ({})", store.display()));
    }
    trusted.push(json!({ "path": shown, "at": crate::time::format_rfc3339(crate::time::now_secs()) }));
    let text = serde_json::to_string_pretty(&json!({ "trusted": trusted })).expect("json") + "\n";
    crate::fsutil::write_atomic(&store, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", store.display()))?;
    Ok(format!(
        "trusted {shown}: `concord dispatch` and `concord review` may now run the commands its WBS and concord.toml name (recorded in {})",
        store.display()
    ))
}

/// Whether `root` or a folder above it was trusted.
pub fn is_trusted(root: &Path) -> bool {
    let (Ok(root), Some(store)) = (canonical(root), store_path()) else { return false };
    let Ok(trusted) = read_store(&store) else { return false };
    trusted
        .iter()
        .filter_map(|t| t.get("path").and_then(Value::as_str))
        .any(|t| root.starts_with(Path::new(t)))
}

/// `CONCORD_TRUST=1` (or `true`, `yes`): trust the workspace for this run only.
pub fn trusted_by_environment() -> bool {
    std::env::var("CONCORD_TRUST")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// Refuse `command` in an untrusted workspace, saying how to trust it.
pub fn require(root: &Path, flag: bool, command: &str, what: &str) -> Result<(), String> {
    if flag || trusted_by_environment() || is_trusted(root) {
        return Ok(());
    }
    let shown = canonical(root).map_or_else(|_| root.display().to_string(), |p| p.display().to_string());
    Err(format!(
        "refusing to {command}: {shown} is not a trusted workspace, and `concord {command}` runs {what}, named in the repository. If you trust this repository, run `concord trust {shown}` once, or pass --trust (CONCORD_TRUST=1 in CI)."
    ))
}
