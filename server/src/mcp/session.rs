//! The workspaces a long-lived `concord mcp` has loaded, one per root, each checked for
//! freshness on every call: the files the model was built from (the scanned files, the ops
//! files, `concord.toml`, the lock folder, the folders holding them and their ignore files) are
//! stat'ed again, as is every folder the walk enters; any change in size or modification time,
//! any file added to or removed from those folders, rebuilds the workspace before the call is
//! answered.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::analysis::Loaded;
use crate::workspace::Workspace;

/// A file's size and modification time (nanoseconds), or `None` when it does not exist.
type Stamp = Option<(u64, u128)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    Some((meta.len(), modified))
}

/// One loaded workspace and the stamps of its inputs.
#[derive(Debug)]
pub struct Snapshot {
    pub root: PathBuf,
    pub loaded: Loaded,
    /// When the load started (RFC 3339, UTC) and how long it took.
    pub built_at: String,
    pub build_ms: u64,
    inputs: Vec<(PathBuf, Stamp)>,
    /// Stamps at or after this instant were written while the load ran: not trusted.
    started: u128,
}

impl Snapshot {
    fn build(root: &Path) -> Result<Snapshot, String> {
        let started_at = Instant::now();
        let started = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let ws = Workspace::load(root).map_err(|e| e.to_string())?;
        let inputs = input_paths(&ws).into_iter().map(|p| (p.clone(), stamp(&p))).collect();
        let loaded = Loaded::new(ws);
        Ok(Snapshot {
            root: root.to_path_buf(),
            loaded,
            built_at: crate::time::format_rfc3339((started / 1_000_000_000) as i64),
            build_ms: started_at.elapsed().as_millis() as u64,
            inputs,
            started,
        })
    }

    /// Whether every input is as it was when the model was built.
    pub fn is_fresh(&self) -> bool {
        self.inputs.iter().all(|(path, then)| {
            let now = stamp(path);
            now == *then && now.is_none_or(|(_, modified)| modified < self.started)
        })
    }

    pub fn inputs(&self) -> usize {
        self.inputs.len()
    }
}

/// The files and folders whose change makes a model stale.
fn input_paths(ws: &Workspace) -> BTreeSet<PathBuf> {
    let root = &ws.root;
    let paths = &ws.config.paths;
    let mut out = BTreeSet::new();
    let mut dirs: BTreeSet<String> = BTreeSet::from([String::new()]);
    let mut add_file = |rel: &str, out: &mut BTreeSet<PathBuf>| {
        out.insert(root.join(rel));
        let mut dir = rel;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if !dirs.insert(parent.to_string()) {
                break;
            }
            dir = parent;
        }
    };
    for rel in ws.files.keys().map(String::as_str).chain(ws.skipped.iter().map(|s| s.path.as_str())) {
        add_file(rel, &mut out);
    }
    for rel in [
        crate::config::CONFIG_FILE,
        &paths.blueprint_index,
        &paths.wbs,
        &paths.queue,
        &paths.crosswalk,
        &paths.access_status,
        &ws.config.secrets_baseline,
    ] {
        add_file(rel, &mut out);
    }
    for lock in &ws.model.locks {
        add_file(&lock.path, &mut out);
    }
    let locks_dir = paths.locks_dir.trim_end_matches('/');
    add_file(&format!("{locks_dir}/.mutex"), &mut out);
    if let Some(dir) = &ws.config.queries_dir {
        out.insert(root.join(dir));
    }
    // Every folder the walk enters, so a file added where no scanned file was yet is noticed.
    dirs.extend(crate::workspace::walked_dirs(root, &ws.config));
    for dir in dirs {
        let path = if dir.is_empty() { root.clone() } else { root.join(&dir) };
        out.insert(path.join(".gitignore"));
        out.insert(path.join(".ignore"));
        out.insert(path);
    }
    out
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Built for this call (first use, or an input changed).
    Built,
    /// Every input unchanged since the model was built.
    Reused,
}

#[derive(Debug, Default)]
pub struct Session {
    /// The root used when a call names none: `concord mcp -C PATH`, else the server's folder.
    pub default_root: PathBuf,
    cache: Mutex<HashMap<PathBuf, Arc<Snapshot>>>,
}

impl Session {
    pub fn new(default_root: PathBuf) -> Session {
        Session { default_root, cache: Mutex::default() }
    }

    /// The workspace root for a call's `cwd`: a relative `cwd` is taken from the default root;
    /// from there the nearest folder upwards holding `concord.toml` or the WBS file
    /// (`ops/wbs.json`), else the folder itself.
    pub fn resolve_root(&self, cwd: Option<&str>) -> Result<PathBuf, String> {
        let given = match cwd.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => {
                let p = Path::new(c);
                if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    self.default_root.join(p)
                }
            }
            None => self.default_root.clone(),
        };
        let start = std::fs::canonicalize(&given)
            .map_err(|e| format!("cwd {}: {e}; pass the workspace root as `cwd`", given.display()))?;
        if !start.is_dir() {
            return Err(format!("cwd {} is not a folder; pass the workspace root as `cwd`", start.display()));
        }
        let mut dir = start.as_path();
        loop {
            if dir.join(crate::config::CONFIG_FILE).is_file() || dir.join("ops/wbs.json").is_file() {
                return Ok(dir.to_path_buf());
            }
            match dir.parent() {
                Some(parent) => dir = parent,
                None => break,
            }
        }
        // Without a marker the folder itself is the workspace, except a folder no project is:
        // the file system's root or the home folder would mean scanning everything under it.
        let home = std::env::var_os("HOME").and_then(|h| std::fs::canonicalize(h).ok());
        if start.parent().is_none() || home.as_deref() == Some(start.as_path()) {
            return Err(format!(
                "{} holds no workspace (no {} or ops/wbs.json here or above) and is too broad to scan; \
                 pass the workspace root as `cwd`, or start the server with `concord mcp -C PATH`",
                start.display(),
                crate::config::CONFIG_FILE
            ));
        }
        Ok(start)
    }

    /// The loaded workspace at `root`, rebuilt first when any of its inputs changed.
    pub fn snapshot(&self, root: &Path) -> Result<(Arc<Snapshot>, Freshness), String> {
        let cached = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(root).cloned();
        if let Some(snapshot) = cached.filter(|s| s.is_fresh()) {
            return Ok((snapshot, Freshness::Reused));
        }
        let snapshot = Arc::new(Snapshot::build(root)?);
        crate::ops::scrub::use_config(&snapshot.loaded.ws.config);
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(root.to_path_buf(), snapshot.clone());
        Ok((snapshot, Freshness::Built))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_added_where_no_scanned_file_was_makes_the_model_stale() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("ops")).unwrap();
        std::fs::write(root.join("ops/wbs.json"), "[]").unwrap();
        std::fs::write(root.join("app.py"), "x = 1\n").unwrap();
        std::fs::create_dir_all(root.join("services/empty/deeper")).unwrap();
        let session = Session::new(root.clone());
        let (first, how) = session.snapshot(&root).unwrap();
        assert_eq!(how, Freshness::Built);
        // Stamps written while the load ran are not trusted: step past the build's start.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let (_, how) = session.snapshot(&root).unwrap();
        assert_eq!(how, Freshness::Reused);
        std::fs::write(root.join("services/empty/deeper/new.py"), "# TD-0001\n").unwrap();
        assert!(!first.is_fresh(), "a new file in a folder that held no scanned file");
        let (second, how) = session.snapshot(&root).unwrap();
        assert_eq!(how, Freshness::Built);
        assert!(second.loaded.ws.files.contains_key("services/empty/deeper/new.py"));
    }

    #[test]
    fn the_file_system_root_is_never_a_workspace_by_default() {
        let session = Session::new(PathBuf::from("/"));
        let err = session.resolve_root(None).unwrap_err();
        assert!(err.contains("too broad to scan") && err.contains("`cwd`"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(session.resolve_root(Some(nested.to_str().unwrap())).unwrap(), root.join("a/b"));
        std::fs::write(root.join("concord.toml"), "").unwrap();
        assert_eq!(session.resolve_root(Some(nested.to_str().unwrap())).unwrap(), root);
    }
}
