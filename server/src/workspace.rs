//! The I/O layer: finds the workspace's files (honouring .gitignore, in parallel), reads
//! them, and hands texts to the pure core (`scan`, `model`). Nothing below this module
//! touches the file system.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::{Config, ConfigError, CONFIG_FILE};
use crate::findings::{Code, Finding};
use crate::fsutil::{self, ReadError};
use crate::model::{Model, Source, Sources};
use crate::scan::{scan_text, FileFacts};
use crate::text::Span;

/// A file (or a whole directory) the scan passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: &'static str,
    /// A directory: nothing under it was scanned.
    pub dir: bool,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
    pub model: Model,
    /// A persistent map: a state derived after a save shares every unchanged file's facts with
    /// the state before it (cloning it is cheap).
    pub files: Files,
    pub skipped: Vec<Skipped>,
    /// Problems reading ops files (not UTF-8, unreadable).
    pub io_findings: Vec<Finding>,
    /// The facts cache's settings key (see [`crate::cache::settings_key`]).
    settings_key: [u8; 32],
    /// A hash of the settings and of the model's inputs that a file's findings read (see
    /// [`inputs_key`]): two states with the same key report the same findings for files with the
    /// same facts and folder counts.
    /// Made only for a check that writes the caches (hashing a big blueprint index would delay
    /// the language server's first answers for nothing).
    inputs_key: Option<[u8; 32]>,
}

/// Why a workspace could not be loaded at all (as opposed to findings inside it).
#[derive(Debug)]
pub enum LoadError {
    NotADirectory(PathBuf),
    Config(ConfigError),
    ConfigUnreadable(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotADirectory(p) => {
                write!(f, "{} is not a directory: give the workspace root", p.display())
            }
            LoadError::Config(e) => write!(f, "{e}"),
            LoadError::ConfigUnreadable(e) => write!(f, "{CONFIG_FILE}: {e}"),
        }
    }
}

/// The largest `concord.toml` that is read: a configuration is a page of settings.
const CONFIG_READ_CAP: u64 = 4 * 1024 * 1024;

pub fn load_config(root: &Path) -> Result<Config, LoadError> {
    load_config_and_bytes(root).map(|(config, _)| config)
}

/// The configuration, with the bytes it was parsed from (empty when there is no file).
fn load_config_and_bytes(root: &Path) -> Result<(Config, Vec<u8>), LoadError> {
    match fsutil::read_in_workspace(root, CONFIG_FILE, CONFIG_READ_CAP) {
        Ok(bytes) => Config::parse_bytes(&bytes).map(|config| (config, bytes)).map_err(LoadError::Config),
        Err(ReadError::Missing) => Ok((Config::default(), Vec::new())),
        Err(e) => Err(LoadError::ConfigUnreadable(e.to_string())),
    }
}

/// Each scanned file's facts, by workspace-relative path. Each behind an `Arc`: the map's
/// nodes hold a pointer per file rather than the facts, and copying a node on write is cheap.
pub type Files = imbl::OrdMap<String, std::sync::Arc<FileFacts>>;

/// The facts cache being written by [`Workspace::load_cached_writing_aside`]; dropped, it
/// waits for the write to end (a process that exits first would lose it).
pub struct CacheWrite(Option<std::thread::JoinHandle<()>>);

impl Drop for CacheWrite {
    fn drop(&mut self) {
        if let Some(writing) = self.0.take() {
            // A panic while writing only loses the cache, which saves time and nothing else.
            let _ = writing.join();
        }
    }
}

/// The files directly in folder `dir` (`""` for the root), found by a range of the map: the cost
/// is that of the folder's subtree, not of the workspace.
pub fn files_in_dir<'f>(files: &'f Files, dir: &str) -> impl Iterator<Item = &'f FileFacts> + 'f {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let dir = dir.to_string();
    files
        .range(prefix.clone()..)
        .take_while(move |(path, _)| path.starts_with(&prefix))
        .filter(move |(path, _)| path.rsplit_once('/').map_or("", |(parent, _)| parent) == dir)
        .map(|(_, facts)| &**facts)
}

/// How a load uses the facts cache (`cache.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheUse {
    Off,
    /// Use what is there, write nothing (the language server).
    Read,
    /// Use it and write it back (`concord check`).
    ReadWrite,
}

/// Where the facts cache of `root` lives: `dir` when given (absolute, or relative to the
/// current folder), else `cache.dir` of the configuration (relative to the root); `None` when
/// the configuration turns it off and no folder is given.
pub fn cache_dir(root: &Path, config: &Config, dir: Option<&Path>) -> Option<PathBuf> {
    match dir {
        Some(dir) => Some(dir.to_path_buf()),
        None => config.cache_dir.as_deref().map(|dir| root.join(dir)),
    }
}

impl Workspace {
    pub fn load(root: &Path) -> Result<Workspace, LoadError> {
        Workspace::load_cached(root, CacheUse::Off, None)
    }

    /// Every file's facts, in path order.
    pub fn facts(&self) -> impl Iterator<Item = &FileFacts> {
        self.files.values().map(|facts| &**facts)
    }

    /// The facts of the file at `path`, if it was scanned.
    pub fn facts_of(&self, path: &str) -> Option<&FileFacts> {
        self.files.get(path).map(|facts| &**facts)
    }

    /// Load every file, taking the facts of unchanged files from the cache (in `cache_dir`, else
    /// where the configuration says).
    pub fn load_cached(root: &Path, cache: CacheUse, dir: Option<&Path>) -> Result<Workspace, LoadError> {
        Workspace::load_cached_writing_aside(root, cache, dir).map(|(ws, _written)| ws)
    }

    /// [`Workspace::load_cached`], the cache written on a thread of its own while the caller
    /// goes on (a changed file makes the whole cache file be written again, which took a warm
    /// check a tenth of its time); dropping the [`CacheWrite`] waits for it.
    pub fn load_cached_writing_aside(
        root: &Path,
        cache: CacheUse,
        dir: Option<&Path>,
    ) -> Result<(Workspace, CacheWrite), LoadError> {
        let mut write = CacheWrite(None);
        let keyed = cache == CacheUse::ReadWrite;
        let ws = Workspace::load_with(root, keyed, |root, config, key| {
            let folder = (cache != CacheUse::Off).then(|| cache_dir(root, config, dir)).flatten();
            let Some(folder) = folder else { return scan_files(root, config, None) };
            let git = config.cache_git_index.then(|| crate::cache::FactsCache::ask_git(root));
            let mut facts_cache = crate::cache::FactsCache::open(&folder, key, cache == CacheUse::ReadWrite);
            if let Some(git) = git {
                facts_cache.use_git(git);
            }
            let (files, skipped) = scan_files(root, config, Some(&facts_cache));
            let scanned = files.clone();
            write.0 = Some(std::thread::spawn(move || facts_cache.save(&scanned)));
            (files, skipped)
        })?;
        Ok((ws, write))
    }

    /// The workspace with only `paths` scanned (and the blueprint markdown, which defines
    /// chunks): what `concord check --changed-since` analyses, so a big repository costs what
    /// its change costs. A path the scan would pass over (`files.exclude`, ignored, missing) is
    /// left out.
    pub fn load_paths(root: &Path, paths: &[String]) -> Result<Workspace, LoadError> {
        Workspace::load_with(root, false, |root, config, _| scan_paths(root, config, paths))
    }

    /// `scan` gets the root, the configuration and the settings key of the facts cache: a
    /// hash of everything besides a file's bytes that decides its facts.
    fn load_with(
        root: &Path,
        keyed: bool,
        scan: impl FnOnce(&Path, &Config, [u8; 32]) -> (ScannedFiles, Vec<Skipped>),
    ) -> Result<Workspace, LoadError> {
        if !root.is_dir() {
            return Err(LoadError::NotADirectory(root.to_path_buf()));
        }
        let (mut config, config_bytes) = load_config_and_bytes(root)?;
        let mut settings: Vec<Vec<u8>> = vec![config_bytes];
        let mut io_findings = Vec::new();
        if let Some(baseline) =
            read_source(root, &config.secrets_baseline.clone(), config.max_file_size, &mut io_findings)
        {
            let (accepted, findings) = crate::model::parse_secrets_baseline(&baseline.path, &baseline.text);
            io_findings.extend(findings);
            config.set_secret_baseline(accepted);
            settings.push(baseline.text.into_bytes());
        }
        if let Some(dir) = config.queries_dir.clone() {
            for language in crate::items::Language::ALL {
                for file in ["comments.scm", "items.scm"] {
                    let path = root.join(&dir).join(language.query_folder()).join(file);
                    settings.push(std::fs::read(path).unwrap_or_default());
                }
            }
            let queries = crate::items::Queries::with_overrides(&root.join(&dir)).map_err(|e| {
                LoadError::Config(crate::config::ConfigError {
                    message: format!("trace.queries_dir: {e}"),
                    span: None,
                })
            })?;
            config.queries = Some(std::sync::Arc::new(queries));
        }
        let _load = tracing::debug_span!("load", root = %root.display()).entered();
        let started = std::time::Instant::now();
        let parts: Vec<&[u8]> = settings.iter().map(Vec::as_slice).collect();
        let settings_key = crate::cache::settings_key(&parts);
        let (files, skipped) = scan(root, &config, settings_key);
        tracing::debug!(files = files.len(), ms = started.elapsed().as_millis() as u64, "scanned");
        let sources = read_sources(root, &config, &files, &mut io_findings);
        let model = Model::build(&config, &sources);
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "model built");
        let files: Files = files.into_iter().map(|facts| (facts.path.clone(), facts)).collect();
        let inputs_key = keyed.then(|| inputs_key(&settings_key, &sources));
        Ok(Workspace {
            root: root.to_path_buf(),
            config,
            model,
            files,
            skipped,
            io_findings,
            settings_key,
            inputs_key,
        })
    }

    /// See the field: what the findings cache keys a run by (none unless the workspace was
    /// loaded to write the caches).
    pub fn inputs_key(&self) -> Option<[u8; 32]> {
        self.inputs_key
    }

    /// Rebuild the model after ops files or the spec's markdown changed: the ops files are read
    /// again, the file facts kept (the caller rescans the files that changed).
    pub fn reload_model(&mut self) {
        let mut io_findings = Vec::new();
        let sources = read_sources_of(&self.root, &self.config, self.facts(), &mut io_findings);
        self.model = Model::build(&self.config, &sources);
        if self.inputs_key.is_some() {
            self.inputs_key = Some(inputs_key(&self.settings_key, &sources));
        }
        // The secrets baseline is read with the configuration: its findings stay.
        let baseline = self.config.secrets_baseline.clone();
        self.io_findings.retain(|f| f.path == baseline);
        self.io_findings.extend(io_findings);
    }
}

/// A workspace-relative `/`-separated path.
pub fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut out = String::new();
    for part in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(part.as_os_str().to_str()?);
    }
    Some(out)
}

/// Why a file's bytes are not scanned, if they are not.
pub fn unscannable(bytes: &[u8]) -> Option<&'static str> {
    if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
        Some("binary")
    } else if std::str::from_utf8(bytes).is_err() {
        Some("not UTF-8")
    } else {
        None
    }
}

/// Visit every file the scan covers, in parallel: .gitignore and hidden files honoured,
/// `files.exclude` applied (excluded directories pruned), the blueprint index and the crosswalk
/// left out (they are definitions and generated output, and can be very large). `visit` gets
/// the path and the workspace-relative path, and may run on several threads at once. What the
/// walk cannot enter or name (a directory it may not read, a path longer than the system
/// allows, a name that is not UTF-8) goes to `skip`: never dropped in silence.
pub fn walk(
    root: &Path,
    config: &Config,
    visit: &(dyn Fn(&Path, String) + Sync),
    skip: &(dyn Fn(Skipped) + Sync),
) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let walker = walk_rules(root, config, false).threads(threads).build_parallel();
    walker.run(|| {
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    if let Some(skipped) = walk_error(root, &error) {
                        skip(skipped);
                    }
                    return ignore::WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let Some(rel) = relative(root, entry.path()) else {
                skip(Skipped {
                    path: lossy_relative(root, entry.path()),
                    reason: "its name is not UTF-8",
                    dir: false,
                });
                return ignore::WalkState::Continue;
            };
            if rel == config.paths.blueprint_index
                || rel == config.paths.crosswalk
                || config.scan_exclude.is_match(&rel)
            {
                return ignore::WalkState::Continue;
            }
            visit(entry.path(), rel);
            ignore::WalkState::Continue
        })
    });
}

/// Every folder the walk enters (workspace-relative, `""` for the root), with the walk's own
/// rules: hidden folders, ignored ones and `files.exclude` are left out. A long-lived reader
/// stats these to notice a file added where no scanned file was yet.
pub fn walked_dirs(root: &Path, config: &Config) -> Vec<String> {
    walk_rules(root, config, true)
        .build()
        .flatten()
        .filter_map(|entry| relative(root, entry.path()))
        .collect()
}

/// The walk's rules: hidden entries, git-ignored ones and folders `files.exclude` prunes are
/// left out; `dirs_only` leaves files out too.
fn walk_rules(root: &Path, config: &Config, dirs_only: bool) -> ignore::WalkBuilder {
    let prune = config.scan_exclude_dirs.clone();
    let mut builder = ignore::WalkBuilder::new(root);
    builder.hidden(true).git_ignore(true).git_exclude(true).require_git(false).parents(false).filter_entry({
        let root = root.to_path_buf();
        move |entry| {
            if !entry.file_type().is_some_and(|t| t.is_dir()) {
                return !dirs_only;
            }
            relative(&root, entry.path()).is_none_or(|rel| rel.is_empty() || !prune.is_match(&rel))
        }
    });
    builder
}

/// A workspace-relative path for a message, whatever its bytes (not UTF-8: replacement characters).
fn lossy_relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().into_owned()
}

/// What the walk could not enter, from its error: the path and why. Errors that are not about
/// a path in the tree (a malformed `.gitignore` line) are not skips.
fn walk_error(root: &Path, error: &ignore::Error) -> Option<Skipped> {
    fn find(error: &ignore::Error) -> Option<(&Path, Option<&std::io::Error>)> {
        match error {
            ignore::Error::WithPath { path, err } => {
                let io = match err.as_ref() {
                    ignore::Error::Io(io) => Some(io),
                    other => find(other).and_then(|(_, io)| io),
                };
                Some((path.as_path(), io))
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => find(err),
            ignore::Error::Loop { child, .. } => Some((child.as_path(), None)),
            _ => None,
        }
    }
    let (path, io) = find(error)?;
    let looped = matches!(error, ignore::Error::Loop { .. })
        || matches!(error, ignore::Error::WithDepth { err, .. } if matches!(**err, ignore::Error::Loop { .. }));
    let reason = if looped {
        "a symbolic link loop"
    } else {
        match io {
            Some(e) if e.kind() == std::io::ErrorKind::PermissionDenied => "permission denied",
            // ENAMETOOLONG: deeper than the system's PATH_MAX (or a name past NAME_MAX).
            Some(e) if e.raw_os_error() == Some(36) => "its path is longer than the system allows",
            Some(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            None if path.starts_with(root)
                && path.file_name().is_some_and(|n| n == ".gitignore" || n == ".ignore") =>
            {
                return None
            }
            _ => "unreadable",
        }
    };
    Some(Skipped { path: lossy_relative(root, path), reason, dir: path.is_dir() || io.is_some() })
}

/// Walk and scan every file, in parallel; with a cache, files it knows unchanged are not read.
pub fn scan_files(
    root: &Path,
    config: &Config,
    cache: Option<&crate::cache::FactsCache>,
) -> (ScannedFiles, Vec<Skipped>) {
    let results: Mutex<(ScannedFiles, Vec<Skipped>)> = Mutex::new((Vec::new(), Vec::new()));
    walk(
        root,
        config,
        &|path, rel| {
            let outcome = match cache {
                Some(cache) => read_and_scan_cached(config, cache, path, &rel),
                None => read_and_scan(config, path, &rel),
            };
            // Boxed here, on the scanning threads: sorting moves pointers, not facts.
            let outcome = outcome.map(Arc::new);
            let mut guard = results.lock().unwrap_or_else(|e| e.into_inner());
            match outcome {
                Ok(facts) => guard.0.push(facts),
                Err(reason) => guard.1.push(Skipped { path: rel, reason, dir: false }),
            }
        },
        &|skipped| results.lock().unwrap_or_else(|e| e.into_inner()).1.push(skipped),
    );
    let (facts, skipped) = results.into_inner().unwrap_or_else(|e| e.into_inner());
    in_path_order(facts, skipped)
}

/// Each scanned file's facts, in path order (each path once).
pub type ScannedFiles = Vec<Arc<FileFacts>>;

fn in_path_order(mut facts: ScannedFiles, mut skipped: Vec<Skipped>) -> (ScannedFiles, Vec<Skipped>) {
    facts.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    (facts, skipped)
}

/// Scan the blueprint markdown (it defines chunks) and the files `paths` names. A named path
/// is scanned when the full walk would: a regular file inside the workspace, not under
/// `files.exclude`, not the blueprint index or crosswalk, not ignored by git (the walk honours
/// .gitignore, and a tracked file that matches it is still scanned, as git lists it).
pub fn scan_paths(root: &Path, config: &Config, paths: &[String]) -> (ScannedFiles, Vec<Skipped>) {
    let (mut facts, mut skipped): (ScannedFiles, Vec<Skipped>) = (Vec::new(), Vec::new());
    let blueprints = root.join(&config.paths.blueprints_dir);
    if blueprints.is_dir() {
        let walker = ignore::WalkBuilder::new(&blueprints)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .require_git(false)
            .parents(true)
            .build();
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Some(rel) = relative(root, entry.path()) else { continue };
            if rel == config.paths.blueprint_index
                || rel == config.paths.crosswalk
                || config.scan_exclude.is_match(&rel)
            {
                continue;
            }
            match read_and_scan(config, entry.path(), &rel) {
                Ok(f) => facts.push(Arc::new(f)),
                Err(reason) => skipped.push(Skipped { path: rel, reason, dir: false }),
            }
        }
    }
    let mut seen: std::collections::BTreeSet<String> = facts.iter().map(|f| f.path.clone()).collect();
    for rel in paths {
        if seen.contains(rel) || !passes_path_rules(config, rel) {
            continue;
        }
        seen.insert(rel.clone());
        let path = root.join(rel);
        // The folders on the way must stay inside the workspace (a link to elsewhere is not read).
        let inside = match (path.parent().map(std::fs::canonicalize), std::fs::canonicalize(root)) {
            (Some(Ok(dir)), Ok(real_root)) => dir.starts_with(real_root),
            _ => false,
        };
        if !inside {
            continue;
        }
        match read_and_scan(config, &path, rel) {
            Ok(f) => facts.push(Arc::new(f)),
            Err(reason) => skipped.push(Skipped { path: rel.clone(), reason, dir: false }),
        }
    }
    in_path_order(facts, skipped)
}

/// The rules the walk applies that can be told from the path alone: no hidden or `..` part, not
/// the blueprint index or the crosswalk, not excluded by `files.exclude` (nor under a folder it
/// prunes).
fn passes_path_rules(config: &Config, rel: &str) -> bool {
    !(rel.is_empty()
        || rel.split('/').any(|part| part.is_empty() || part == "." || part == ".." || part.starts_with('.'))
        || rel == config.paths.blueprint_index
        || rel == config.paths.crosswalk
        || config.scan_exclude.is_match(rel)
        || rel.rsplit_once('/').is_some_and(|(dir, _)| {
            // A directory `files.exclude` prunes, at any depth of the path.
            let mut at = 0;
            dir.split('/').any(|part| {
                at += part.len() + 1;
                config.scan_exclude_dirs.is_match(&dir[..at - 1])
            })
        }))
}

/// Whether the walk would visit `rel`, asked of one path (a file an editor or a watcher reports
/// changed): the path rules, then the ignore files on its way from the root (`.ignore` before
/// `.gitignore`, deeper before shallower, `.git/info/exclude` last; an ignored folder hides
/// everything in it), and a regular file that is not a link.
pub fn admits(root: &Path, config: &Config, rel: &str) -> bool {
    if !passes_path_rules(config, rel) {
        return false;
    }
    let is_regular = std::fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.file_type().is_file());
    is_regular && !ignored_on_the_way(root, rel, false)
}

/// Whether the walk would enter folder `rel` (not the root): no hidden part, not pruned by
/// `files.exclude` (nor under a folder it prunes), not ignored, a folder that is not a link. A
/// long-lived reader asks this of a folder that appeared, before listing what is in it.
pub fn admits_dir(root: &Path, config: &Config, rel: &str) -> bool {
    let mut at = 0;
    let rules = !rel.is_empty()
        && rel.split('/').all(|part| {
            at += part.len() + 1;
            let hidden = part.is_empty() || part == "." || part == ".." || part.starts_with('.');
            !hidden && !config.scan_exclude_dirs.is_match(&rel[..at - 1])
        });
    let is_dir = std::fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.file_type().is_dir());
    rules && is_dir && !ignored_on_the_way(root, rel, true)
}

/// Whether an ignore file on the way from the root to `rel` (or `.git/info/exclude`) ignores it
/// or a folder holding it; `is_dir` says what `rel` itself is.
fn ignored_on_the_way(root: &Path, rel: &str, is_dir: bool) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    // The ignore files of each folder from the root down to the file's own, deepest last.
    let mut matchers: Vec<ignore::gitignore::Gitignore> = Vec::new();
    let exclude = {
        let mut builder = ignore::gitignore::GitignoreBuilder::new(root);
        builder.add(root.join(".git/info/exclude"));
        builder.build().ok()
    };
    let mut dir = root.to_path_buf();
    for (depth, part) in parts.iter().enumerate() {
        for name in [".gitignore", ".ignore"] {
            let file = dir.join(name);
            if file.is_file() {
                let mut builder = ignore::gitignore::GitignoreBuilder::new(&dir);
                builder.add(&file);
                if let Ok(matcher) = builder.build() {
                    matchers.push(matcher);
                }
            }
        }
        dir.push(part);
        let part_is_dir = depth + 1 < parts.len() || is_dir;
        // Deeper files first; within a folder `.ignore` (pushed last) before `.gitignore`.
        let decided = matchers.iter().rev().map(|m| m.matched(&dir, part_is_dir)).find(|m| !m.is_none());
        let decided = decided.or_else(|| exclude.as_ref().map(|m| m.matched(&dir, part_is_dir)));
        if decided.is_some_and(|m| m.is_ignore()) {
            return true;
        }
    }
    false
}

/// Scan the files an editor or a watcher says changed: each path's facts, or `None` when the
/// walk would not visit it (deleted, ignored, excluded, hidden) or it cannot be scanned
/// (binary, not UTF-8, too large: the reason is given).
pub fn rescan(
    root: &Path,
    config: &Config,
    paths: &[String],
) -> Vec<(String, Result<FileFacts, Option<Skipped>>)> {
    paths
        .iter()
        .map(|rel| {
            let outcome = if admits(root, config, rel) {
                read_and_scan(config, &root.join(rel), rel)
                    .map_err(|reason| Some(Skipped { path: rel.clone(), reason, dir: false }))
            } else {
                Err(None)
            };
            (rel.clone(), outcome)
        })
        .collect()
}

/// A file's path and its references: byte offset and ID.
pub type FileRefs = (String, Vec<(usize, String)>);

/// The ID references of every file, and nothing else: what `concord refs` prints. Sorted by
/// path. Binary files are skipped silently; directories the walk could not enter are returned.
pub fn find_references(root: &Path, config: &Config) -> (Vec<FileRefs>, Vec<Skipped>) {
    let found: Mutex<Vec<FileRefs>> = Mutex::new(Vec::new());
    let skipped: Mutex<Vec<Skipped>> = Mutex::new(Vec::new());
    let skip = |s: Skipped| skipped.lock().unwrap_or_else(|e| e.into_inner()).push(s);
    walk(
        root,
        config,
        &|path, rel| {
            let Ok(bytes) = fsutil::read_regular(path, config.max_file_size) else { return };
            if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
                return;
            }
            let refs: Vec<(usize, String)> = config
                .ids
                .find_iter(&bytes)
                .map(|m| (m.start, String::from_utf8_lossy(&bytes[m.start..m.end]).into_owned()))
                .collect();
            if !refs.is_empty() {
                found.lock().unwrap_or_else(|e| e.into_inner()).push((rel, refs));
            }
        },
        &skip,
    );
    let mut found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let mut skipped = skipped.into_inner().unwrap_or_else(|e| e.into_inner());
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    (found, skipped)
}

fn read_and_scan(config: &Config, path: &Path, rel: &str) -> Result<FileFacts, &'static str> {
    let bytes = read_scannable(config, path)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "not UTF-8")?;
    Ok(scan_text(config, rel, text))
}

/// A file's bytes if they can be scanned, else why not.
fn read_scannable(config: &Config, path: &Path) -> Result<Vec<u8>, &'static str> {
    // The walker saw a regular file; the read checks again on the opened handle.
    let bytes = fsutil::read_regular(path, config.max_file_size).map_err(|e| match e {
        ReadError::TooLarge(_) => "larger than files.max_file_size",
        ReadError::NotRegular(_) => "not a regular file",
        _ => "unreadable",
    })?;
    if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
        return Err("binary");
    }
    if std::str::from_utf8(&bytes).is_err() {
        return Err("not UTF-8");
    }
    Ok(bytes)
}

/// [`read_and_scan`] through the cache: facts of a file whose size and time are unchanged
/// without reading it, else of a file whose bytes are unchanged without scanning it.
fn read_and_scan_cached(
    config: &Config,
    cache: &crate::cache::FactsCache,
    path: &Path,
    rel: &str,
) -> Result<FileFacts, &'static str> {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return read_and_scan(config, path, rel) };
    let mtime_ns = crate::cache::mtime_ns(&meta);
    if let Some((stamp, facts)) = cache.take_fresh(rel, meta.len(), mtime_ns) {
        // The bytes the facts came from are those of this time, which git holds unmodified.
        let blob = stamp.blob.or_else(|| cache.clean_blob(rel, mtime_ns));
        cache.record(rel.to_string(), crate::cache::Stamp { blob, ..stamp }, blob != stamp.blob);
        return Ok(facts);
    }
    if let Some((stamp, facts)) = cache.take_same_blob(rel, meta.len(), mtime_ns) {
        cache.record(rel.to_string(), stamp, true);
        return Ok(facts);
    }
    let bytes = read_scannable(config, path)?;
    if !cache.wants_hash(rel) {
        return Ok(scan_text(config, rel, std::str::from_utf8(&bytes).map_err(|_| "not UTF-8")?));
    }
    let hash = crate::cache::content_hash(&bytes);
    // The same bytes as recorded keep the blob id recorded for them (a touched file).
    let (same_bytes_blob, facts) = match cache.take_same_content(rel, &hash) {
        Some(found) => found,
        None => (None, scan_text(config, rel, std::str::from_utf8(&bytes).map_err(|_| "not UTF-8")?)),
    };
    // Git's blob id is taken only if the file did not change while it was read: the time
    // checked against git's is the one taken before the read.
    let blob = cache
        .clean_blob(rel, mtime_ns)
        .filter(|_| {
            std::fs::symlink_metadata(path).is_ok_and(|after| {
                crate::cache::mtime_ns(&after) == mtime_ns && after.len() == bytes.len() as u64
            })
        })
        .or(same_bytes_blob);
    let stamp = crate::cache::Stamp { size: bytes.len() as u64, mtime_ns, hash, blob };
    cache.record(rel.to_string(), stamp, true);
    Ok(facts)
}

/// Read one ops file through the one reader (inside the workspace, a regular file, at most
/// `limit` bytes). Missing is fine (`None`); anything else that stops the read, or text that is
/// not UTF-8, is a finding.
pub fn read_source(root: &Path, rel: &str, limit: u64, findings: &mut Vec<Finding>) -> Option<Source> {
    let bytes = match fsutil::read_in_workspace(root, rel, limit) {
        Ok(bytes) => bytes,
        Err(ReadError::Missing) => return None,
        Err(e) => {
            findings.push(Finding::new(Code::MalformedFile, rel, Span::default(), format!("{rel} {e}")));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(Source { path: rel.to_string(), text }),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(&e.into_bytes()[..at]).into_owned();
            let index = crate::text::LineIndex::new(&text);
            let span = Span::point(index.line_col(&text, at));
            findings.push(Finding::new(
                Code::MalformedFile,
                rel,
                span,
                format!("{rel} is not UTF-8 text (invalid byte at offset {at}); save it as UTF-8"),
            ));
            None
        }
    }
}

/// The settings key and the inputs of the model that a file's own findings read, hashed: the
/// chunks (the index and the spec's headings: known IDs, titles, fingerprints), the work items
/// (scopes, titles), the crosswalk and the review record (`ops/trace.lock`). The queue, the
/// locks, the access status, the owner's questions and the pull requests change with every step
/// of the agents' loop and only workspace-level findings read them (those are never cached):
/// a finding made per file that reads one of them must add it here.
fn inputs_key(settings_key: &[u8; 32], sources: &Sources) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(settings_key);
    let mut add = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    let Sources {
        index,
        wbs,
        crosswalk,
        headings,
        trace_lock,
        queue: _,
        access: _,
        locks: _,
        owner_questions: _,
        pull_requests: _,
    } = sources;
    for source in [index, wbs, crosswalk, trace_lock] {
        match source {
            Some(source) => {
                add(source.path.as_bytes());
                add(source.text.as_bytes());
            }
            None => add(b""),
        }
    }
    add(&postcard::to_stdvec(headings).unwrap_or_default());
    hasher.finalize().into()
}

fn read_sources(
    root: &Path,
    config: &Config,
    files: &[Arc<FileFacts>],
    findings: &mut Vec<Finding>,
) -> Sources {
    read_sources_of(root, config, files.iter().map(|f| &**f), findings)
}

fn read_sources_of<'f>(
    root: &Path,
    config: &Config,
    files: impl Iterator<Item = &'f FileFacts>,
    findings: &mut Vec<Finding>,
) -> Sources {
    let paths = &config.paths;
    let limit = config.max_file_size;
    let mut locks = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root.join(&paths.locks_dir)) {
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".lock"))
            .collect();
        names.sort();
        for name in names {
            let rel = format!("{}/{name}", paths.locks_dir.trim_end_matches('/'));
            locks.extend(read_source(root, &rel, limit, findings));
        }
    }
    Sources {
        index: read_source(root, &paths.blueprint_index, limit, findings),
        wbs: read_source(root, &paths.wbs, limit, findings),
        queue: read_source(root, &paths.queue, limit, findings),
        crosswalk: read_source(root, &paths.crosswalk, limit, findings),
        access: read_source(root, &paths.access_status, limit, findings),
        locks,
        headings: files.flat_map(|f| f.headings.iter().cloned()).collect(),
        trace_lock: read_source(root, &paths.trace_lock, limit, findings),
        owner_questions: read_source(root, &paths.owner_questions, limit, findings),
        pull_requests: read_source(root, &paths.pull_requests, limit, findings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `admits` answers for one path what the walk decides for the whole tree.
    #[test]
    fn one_path_is_admitted_exactly_when_the_walk_visits_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            ".gitignore",
            "src/a.rs",
            "src/gen/.gitignore",
            "src/gen/keep.rs",
            "src/gen/drop.rs",
            "src/gen/also.txt",
            "build/out/x.rs",
            "logs/today.log",
            "docs/notes.md",
            "vendor/lib.rs",
            "vendor/.ignore",
            "vendor/ignored_by_dot_ignore.rs",
            ".hidden/x.rs",
            "nested/.git/info/exclude",
            "excluded_by_info.rs",
            "deep/a/b/c.py",
            "web/node_modules/pkg/index.js",
        ];
        for rel in files {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "x\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "build/\n*.log\n/deep/a/\n").unwrap();
        std::fs::write(root.join("src/gen/.gitignore"), "*.rs\n!keep.rs\n").unwrap();
        std::fs::write(root.join("vendor/.ignore"), "ignored_by_dot_ignore.rs\n").unwrap();
        std::fs::create_dir_all(root.join(".git/info")).unwrap();
        std::fs::write(root.join(".git/info/exclude"), "excluded_by_info.rs\n").unwrap();
        let config = Config::default();
        let mut walked: Vec<String> = Vec::new();
        let found = Mutex::new(Vec::new());
        walk(root, &config, &|_, rel| found.lock().unwrap().push(rel), &|_| {});
        walked.extend(found.into_inner().unwrap());
        walked.sort();
        let mut admitted: Vec<String> =
            files.iter().filter(|rel| admits(root, &config, rel)).map(|rel| rel.to_string()).collect();
        admitted.sort();
        assert_eq!(admitted, walked);
        assert!(admitted.contains(&"src/gen/keep.rs".to_string()), "{admitted:?}");
        assert!(!admits(root, &config, "missing.rs"));
        assert!(!admits(root, &config, "../escape.rs"));
        // Folders: admitted exactly when the walk enters them.
        let mut entered = walked_dirs(root, &config);
        entered.retain(|d| !d.is_empty());
        entered.sort();
        let mut every_dir: Vec<String> = files
            .iter()
            .flat_map(|rel| {
                let parts: Vec<&str> = rel.split('/').collect();
                (1..parts.len()).map(move |n| parts[..n].join("/"))
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        every_dir.push(".git/info".into());
        let mut admitted_dirs: Vec<String> =
            every_dir.into_iter().filter(|rel| admits_dir(root, &config, rel)).collect();
        admitted_dirs.sort();
        assert_eq!(admitted_dirs, entered);
        assert!(!admits_dir(root, &config, "web/node_modules"), "files.exclude prunes it");
        assert!(!admits_dir(root, &config, "src/a.rs"), "a file is no folder");
        assert!(!admits_dir(root, &config, ""), "the root is entered, not admitted");
    }
}
