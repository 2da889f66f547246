//! The workspaces a long-lived `concord mcp` has loaded, one per root, each checked for
//! freshness on every call: the files the model was built from (the scanned files, the ops
//! files, `concord.toml`, the lock folder, the folders holding them and their ignore files) are
//! stat'ed again, as is every folder the walk enters. When any size or modification time moved,
//! the state is brought up to date before the call is answered, as the language server does:
//! the changed files, and the files added to or removed from a changed folder (through the
//! walk's rules, so ignored and hidden files stay out), are rescanned alone
//! ([`crate::host::apply_file_changes`]; an ops file or the spec's markdown rebuilds the model
//! without reading other source files); a change to the configuration, the secrets baseline,
//! the query overrides or an ignore file loads the whole workspace again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::analysis::Loaded;
use crate::config::Config;
use crate::workspace::{CacheUse, Workspace};

/// A file's size and modification time (nanoseconds), or `None` when it does not exist.
type Stamp = Option<(u64, u128)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    Some((meta.len(), modified))
}

fn now_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// `name` in folder `dir` (`""` for the root), workspace-relative.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn is_ignore_file(rel: &str) -> bool {
    let name = rel.rsplit_once('/').map_or(rel, |(_, name)| name);
    name == ".gitignore" || name == ".ignore"
}

/// The inputs of a state, workspace-relative, each with the stamp it had when it was read.
#[derive(Debug, Default)]
struct Inputs {
    files: BTreeMap<String, Stamp>,
    /// The folders the walk enters, those holding an input file, and the query overrides'.
    dirs: BTreeMap<String, Stamp>,
}

/// How the state answering a call was brought up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Every input unchanged since the state was built.
    Reused,
    /// The whole workspace loaded for this call, and why.
    Loaded { reason: String },
    /// Only the changed files rescanned; `model` when an ops file or the spec's markdown among
    /// them rebuilt the model.
    Updated { rescanned: usize, model: bool },
    /// No input changed, but a lock went stale since the last call: the findings again.
    Clock,
}

/// One loaded workspace and the stamps of its inputs.
#[derive(Debug)]
pub struct Snapshot {
    pub root: PathBuf,
    pub loaded: Loaded,
    /// When the update that made this state started (RFC 3339, UTC) and how long it took.
    pub built_at: String,
    pub build_ms: u64,
    inputs: Inputs,
    /// Stamps at or after this instant were written while the state was made: not trusted.
    started: u128,
}

impl Snapshot {
    /// Load the whole workspace. The facts cache `concord check` keeps is read, never written
    /// (a server answering questions changes nothing in the workspace on its own).
    fn build(root: &Path) -> Result<Snapshot, String> {
        let started_at = Instant::now();
        let started = now_nanos();
        let ws = Workspace::load_cached(root, CacheUse::Read, None).map_err(|e| e.to_string())?;
        let walked = crate::workspace::walked_dirs(root, &ws.config);
        let (files, dirs) = input_set(&ws, walked);
        let stamped = |set: BTreeSet<String>| {
            set.into_iter()
                .map(|rel| {
                    let at = stamp(&root.join(&rel));
                    (rel, at)
                })
                .collect()
        };
        let inputs = Inputs { files: stamped(files), dirs: stamped(dirs) };
        Ok(Snapshot {
            root: root.to_path_buf(),
            loaded: Loaded::new(ws),
            built_at: crate::time::format_rfc3339((started / 1_000_000_000) as i64),
            build_ms: started_at.elapsed().as_millis() as u64,
            inputs,
            started,
        })
    }

    /// Whether every input is as it was when the state was made.
    pub fn is_fresh(&self) -> bool {
        let trusted = |rel: &String, then: &Stamp| {
            let now = stamp(&self.root.join(rel));
            now == *then && now.is_none_or(|(_, modified)| modified < self.started)
        };
        self.inputs.files.iter().all(|(rel, then)| trusted(rel, then))
            && self.inputs.dirs.iter().all(|(rel, then)| trusted(rel, then))
    }

    /// How many files and folders are stat'ed before each call.
    pub fn inputs(&self) -> usize {
        self.inputs.files.len() + self.inputs.dirs.len()
    }

    /// The state for the workspace as it is now: `None` when every input is unchanged, else the
    /// next state and how it was made.
    fn refresh(&self) -> Result<Option<(Snapshot, Freshness)>, String> {
        let started_at = Instant::now();
        // Taken before any stat: a stamp seen after this is trusted only when older than it.
        let started = now_nanos();
        let root = &self.root;
        let mut seen: HashMap<String, Stamp> = HashMap::new();
        let mut look = |inputs: &BTreeMap<String, Stamp>, changed: &mut Vec<String>| {
            for (rel, then) in inputs {
                let now = stamp(&root.join(rel));
                if now != *then || then.is_some_and(|(_, modified)| modified >= self.started) {
                    changed.push(rel.clone());
                }
                seen.insert(rel.clone(), now);
            }
        };
        let (mut changed_files, mut changed_dirs) = (Vec::new(), Vec::new());
        look(&self.inputs.files, &mut changed_files);
        look(&self.inputs.dirs, &mut changed_dirs);
        if changed_files.is_empty() && changed_dirs.is_empty() {
            // Nothing on disk moved, but a lock may have gone stale since: the same files,
            // the findings again at the current time.
            if !self.loaded.stale_locks_moved(crate::time::now_secs()) {
                return Ok(None);
            }
            let next = Snapshot {
                root: root.clone(),
                loaded: Loaded::new(self.loaded.ws.clone()),
                built_at: crate::time::format_rfc3339((started / 1_000_000_000) as i64),
                build_ms: started_at.elapsed().as_millis() as u64,
                inputs: Inputs { files: self.inputs.files.clone(), dirs: self.inputs.dirs.clone() },
                started: self.started,
            };
            return Ok(Some((next, Freshness::Clock)));
        }
        let config = &self.loaded.ws.config;
        let under_queries =
            |rel: &str| config.queries_dir.as_deref().is_some_and(|dir| crate::config::is_under(rel, dir));
        let reload = changed_files
            .iter()
            .find(|rel| crate::host::needs_reload(config, rel) || is_ignore_file(rel))
            .or_else(|| changed_dirs.iter().find(|rel| under_queries(rel)));
        if let Some(rel) = reload {
            let reason = format!("{rel} changed");
            return Snapshot::build(root).map(|s| Some((s, Freshness::Loaded { reason })));
        }
        // What was added to or removed from a changed folder; a removed file's own stamp moved.
        let mut paths: BTreeSet<String> = changed_files.into_iter().collect();
        let (mut new_dirs, mut gone_dirs) = (BTreeSet::new(), BTreeSet::new());
        for dir in &changed_dirs {
            if !root.join(dir).is_dir() {
                gone_dirs.insert(dir.clone());
                continue;
            }
            list_new(root, config, &self.inputs, dir, &mut paths, &mut new_dirs);
        }
        let paths: Vec<String> = paths.into_iter().collect();
        let (loaded, model) = match crate::host::apply_file_changes(&self.loaded, &paths) {
            Some(applied) => (applied.loaded, applied.affected.is_none()),
            None => (self.loaded.clone(), false),
        };
        let walked = self
            .inputs
            .dirs
            .keys()
            .filter(|d| !gone_dirs.iter().any(|gone| crate::config::is_under(d, gone)))
            .cloned()
            .chain(new_dirs);
        let (files, dirs) = input_set(&loaded.ws, walked);
        // Every stamp here is taken after `started`: a file written after that has a time at or
        // after it, which the next call does not trust, so it is read again then.
        let mut restamp = |rel: String| {
            let at = seen.remove(&rel).unwrap_or_else(|| stamp(&root.join(&rel)));
            (rel, at)
        };
        let inputs = Inputs {
            files: files.into_iter().map(&mut restamp).collect(),
            dirs: dirs.into_iter().map(&mut restamp).collect(),
        };
        let next = Snapshot {
            root: root.clone(),
            loaded,
            built_at: crate::time::format_rfc3339((started / 1_000_000_000) as i64),
            build_ms: started_at.elapsed().as_millis() as u64,
            inputs,
            started,
        };
        Ok(Some((next, Freshness::Updated { rescanned: paths.len(), model })))
    }
}

/// The entries of folder `dir` that the state does not know: files the walk would visit (or
/// ops files, which are read whether ignored or not) go to `paths`; a folder the walk would
/// enter goes to `new_dirs`, and what is in it is listed the same way.
fn list_new(
    root: &Path,
    config: &Config,
    inputs: &Inputs,
    dir: &str,
    paths: &mut BTreeSet<String>,
    new_dirs: &mut BTreeSet<String>,
) {
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { root.to_path_buf() } else { root.join(dir) })
    else {
        return;
    };
    for entry in entries.flatten() {
        // A name that is not UTF-8 is reported by a full load's walk, not here.
        let Ok(name) = entry.file_name().into_string() else { continue };
        let rel = join(dir, &name);
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if !inputs.dirs.contains_key(&rel)
                && !new_dirs.contains(&rel)
                && crate::workspace::admits_dir(root, config, &rel)
            {
                new_dirs.insert(rel.clone());
                list_new(root, config, inputs, &rel, paths, new_dirs);
            }
        } else if !inputs.files.contains_key(&rel)
            && (crate::workspace::admits(root, config, &rel) || config.is_ops_file(&rel))
        {
            paths.insert(rel);
        }
    }
}

/// The files and folders whose change makes a state stale: the state's files, ops files and
/// locks, the folders holding them and those in `walked`, each folder's ignore files, and the
/// query overrides' folder.
fn input_set(
    ws: &Workspace,
    walked: impl IntoIterator<Item = String>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let paths = &ws.config.paths;
    let mut files = BTreeSet::new();
    let mut dirs: BTreeSet<String> = BTreeSet::from([String::new()]);
    let mut add_file = |rel: &str, files: &mut BTreeSet<String>| {
        files.insert(rel.to_string());
        let mut dir = rel;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if !dirs.insert(parent.to_string()) {
                break;
            }
            dir = parent;
        }
    };
    let skipped_files = ws.skipped.iter().filter(|s| !s.dir).map(|s| s.path.as_str());
    for rel in ws.files.keys().map(String::as_str).chain(skipped_files) {
        add_file(rel, &mut files);
    }
    for rel in [
        crate::config::CONFIG_FILE,
        &paths.blueprint_index,
        &paths.wbs,
        &paths.queue,
        &paths.crosswalk,
        &paths.access_status,
        &paths.trace_lock,
        &paths.owner_questions,
        &paths.pull_requests,
        &ws.config.secrets_baseline,
    ] {
        add_file(rel, &mut files);
    }
    for lock in &ws.model.locks {
        add_file(&lock.path, &mut files);
    }
    let locks_dir = paths.locks_dir.trim_end_matches('/');
    add_file(&format!("{locks_dir}/.mutex"), &mut files);
    // Every folder the walk enters, so a file added where no scanned file was yet is noticed,
    // and those it could not enter.
    dirs.extend(walked);
    dirs.extend(ws.skipped.iter().filter(|s| s.dir).map(|s| s.path.clone()));
    for dir in &dirs {
        files.insert(join(dir, ".gitignore"));
        files.insert(join(dir, ".ignore"));
    }
    if let Some(dir) = &ws.config.queries_dir {
        dirs.insert(dir.clone());
    }
    (files, dirs)
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

    /// The loaded workspace at `root`, brought up to date first when any of its inputs changed.
    pub fn snapshot(&self, root: &Path) -> Result<(Arc<Snapshot>, Freshness), String> {
        let cached = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(root).cloned();
        let (snapshot, freshness) = match cached {
            None => (Snapshot::build(root)?, Freshness::Loaded { reason: "first call".into() }),
            Some(snapshot) => match snapshot.refresh()? {
                None => return Ok((snapshot, Freshness::Reused)),
                Some(next) => next,
            },
        };
        let snapshot = Arc::new(snapshot);
        crate::ops::scrub::use_config(&snapshot.loaded.ws.config);
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(root.to_path_buf(), snapshot.clone());
        Ok((snapshot, freshness))
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
        assert_eq!(how, Freshness::Loaded { reason: "first call".into() });
        // Stamps written while the load ran are not trusted: step past the build's start.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let (_, how) = session.snapshot(&root).unwrap();
        assert_eq!(how, Freshness::Reused);
        std::fs::write(root.join("services/empty/deeper/new.py"), "# TD-0001\n").unwrap();
        assert!(!first.is_fresh(), "a new file in a folder that held no scanned file");
        let (second, how) = session.snapshot(&root).unwrap();
        assert_eq!(how, Freshness::Updated { rescanned: 1, model: false });
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
