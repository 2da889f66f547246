//! The facts cache: each scanned file's facts, kept on disk between runs so a check of a tree
//! where little changed reads (and parses) only what changed.
//!
//! - **Key.** One cache file per settings key: a hash of the Concord version, the cache format
//!   and every input that changes what a scan finds (the configuration file, the secrets
//!   baseline, the query overrides). Another version or setting uses another file.
//! - **Fresh by stat.** An entry is used without reading the file when its size and modification
//!   time are those recorded, unless the time is within [`RACY_NS`] of the moment the recording
//!   run started: such a file may have changed again within the same clock tick (git's "racily
//!   clean" rule), so it is read and its content hash compared (mypy's self-healing check: a
//!   touched file with the same bytes keeps its facts).
//! - **Fresh by git blob.** In a git work tree an entry also holds the blob id of its file when
//!   git held the file unmodified as the facts were taken (`git_index.rs`). A later run where
//!   git holds it unmodified with the same blob id and the same size uses the entry without
//!   reading the file, whatever its time: a fresh checkout in CI gives every file a new time.
//! - **Safe.** Written whole to a temporary file and renamed, so a reader sees the old cache or
//!   the new one; concurrent runs each write a complete cache (the last one stays); a cache that
//!   does not decode is ignored and replaced. Only the files of the last run are kept, and at
//!   most [`KEPT_FILES`] settings keys. The folder gets a `CACHEDIR.TAG` and a `.gitignore`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::git_index::{BlobId, GitIndex};
use crate::scan::FileFacts;

/// Bumped whenever [`FileFacts`] or the entry layout changes shape.
const FORMAT: u32 = 6;

/// Modification times this close to the start of the run that recorded them are not trusted.
pub const RACY_NS: i128 = 2_000_000_000;

/// Cache files (settings keys) kept in the folder; older ones are removed.
const KEPT_FILES: usize = 4;

const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file marks a cache folder of Concord (concord check, concord ingest). See https://bford.info/cachedir/\n";

/// What is remembered of one file: its stat, its content hash, its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    /// Nanoseconds since the epoch.
    pub mtime_ns: i128,
    pub hash: [u8; 32],
    /// The git blob id of the bytes the facts came from, when git held the file unmodified.
    pub blob: Option<BlobId>,
}

/// How each file of a run got its facts (`CONCORD_LOG=concord::cache=debug` prints them).
#[derive(Debug, Default)]
struct Counts {
    by_stat: AtomicUsize,
    by_blob: AtomicUsize,
    by_content: AtomicUsize,
}

/// The cache file, as read.
#[derive(Deserialize)]
struct CacheFile {
    format: u32,
    version: String,
    key: [u8; 32],
    /// When the run that wrote it started scanning (nanoseconds since the epoch).
    started_ns: i128,
    entries: Vec<(String, Stamp, FileFacts)>,
}

/// The cache file, as written: the same layout, borrowing the facts from the workspace.
#[derive(Serialize)]
struct CacheFileOut<'a> {
    format: u32,
    version: &'a str,
    key: [u8; 32],
    started_ns: i128,
    entries: Vec<(&'a str, Stamp, &'a FileFacts)>,
}

/// The cache as read at the start of a run, and what this run records for the next.
pub struct FactsCache {
    dir: PathBuf,
    key: [u8; 32],
    started_ns: i128,
    /// From the previous run; an entry is taken out when it is used.
    previous_started_ns: i128,
    previous: Mutex<HashMap<String, (Stamp, FileFacts)>>,
    recorded: Mutex<HashMap<String, Stamp>>,
    /// An entry changed this run (a file read, or a new time under the same blob): the cache
    /// must be written.
    read_any: AtomicBool,
    /// Write the cache at the end (the language server only reads).
    write: bool,
    /// What git said at the start of the run, and when it was asked.
    git: Option<(GitIndex, i128)>,
    counts: Counts,
}

/// The settings key: what, besides a file's bytes, decides its facts.
pub fn settings_key(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(FORMAT.to_le_bytes());
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A file's modification time in nanoseconds since the epoch (0 when the system has none).
pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128)
}

fn now_ns() -> i128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128)
}

impl FactsCache {
    /// Open the cache in `dir` for `key`: what the last run with the same key recorded, or
    /// nothing (no file, another format or version, a file that does not decode).
    pub fn open(dir: &Path, key: [u8; 32], write: bool) -> FactsCache {
        let started_ns = now_ns();
        let (previous_started_ns, previous) = match std::fs::read(dir.join(file_name(&key))) {
            Ok(bytes) => match postcard::from_bytes::<CacheFile>(&bytes) {
                Ok(file)
                    if file.format == FORMAT
                        && file.version == env!("CARGO_PKG_VERSION")
                        && file.key == key =>
                {
                    let entries = file.entries.into_iter().map(|(rel, stamp, facts)| (rel, (stamp, facts)));
                    (file.started_ns, entries.collect())
                }
                Ok(_) => (0, HashMap::new()),
                Err(e) => {
                    tracing::debug!(dir = %dir.display(), "the facts cache does not decode ({e}); ignored");
                    (0, HashMap::new())
                }
            },
            Err(_) => (0, HashMap::new()),
        };
        FactsCache {
            dir: dir.to_path_buf(),
            key,
            started_ns,
            previous_started_ns,
            previous: Mutex::new(previous),
            recorded: Mutex::new(HashMap::new()),
            read_any: AtomicBool::new(false),
            write,
            git: None,
            counts: Counts::default(),
        }
    }

    /// Start asking git about the work tree at `root` (two processes; nothing when it is not a
    /// work tree or git fails) on a thread of its own, so that git runs while the cache file is
    /// decoded; give the answer to [`FactsCache::use_git`].
    pub fn ask_git(root: &Path) -> std::thread::JoinHandle<Option<(GitIndex, i128)>> {
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            let asked_ns = now_ns();
            let index = GitIndex::read(&root)?;
            tracing::debug!(clean = index.len(), "git index read");
            Some((index, asked_ns))
        })
    }

    /// Key clean tracked files by their blob ids from now on (`answer` from
    /// [`FactsCache::ask_git`]).
    pub fn use_git(&mut self, answer: std::thread::JoinHandle<Option<(GitIndex, i128)>>) {
        self.git = answer.join().unwrap_or(None);
    }

    #[cfg(test)]
    fn set_git(&mut self, index: GitIndex, asked_ns: i128) {
        self.git = Some((index, asked_ns));
    }

    /// The blob id to record for facts taken from `rel`'s bytes of time `mtime_ns`: git's, if
    /// git holds the file unmodified and the time is older than the git calls by more than
    /// [`RACY_NS`] (a file written after git looked may not hold what git saw).
    pub fn clean_blob(&self, rel: &str, mtime_ns: i128) -> Option<BlobId> {
        let (index, asked_ns) = self.git.as_ref()?;
        if mtime_ns >= asked_ns - RACY_NS {
            return None;
        }
        index.clean_blob(rel)
    }

    /// The facts of `rel` if git holds it unmodified with the blob id recorded for them and its
    /// size is the recorded one (a file whose working bytes differ from its blob, by an end of
    /// line conversion or a filter, has another size), with the stamp to record: the same
    /// content at a new time. Its time need not be old: a file written after git looked has a
    /// time within [`RACY_NS`] of this run's start, so the next run reads it (the racy rule of
    /// [`FactsCache::take_fresh`]).
    pub fn take_same_blob(&self, rel: &str, size: u64, mtime_ns: i128) -> Option<(Stamp, FileFacts)> {
        let blob = self.git.as_ref()?.0.clean_blob(rel)?;
        let mut previous = self.previous.lock().unwrap_or_else(|e| e.into_inner());
        let (stamp, _) = previous.get(rel)?;
        if stamp.blob != Some(blob) || stamp.size != size {
            return None;
        }
        let (stamp, facts) = previous.remove(rel)?;
        self.counts.by_blob.fetch_add(1, Ordering::Relaxed);
        self.read_any.store(true, Ordering::Relaxed);
        Some((Stamp { mtime_ns, ..stamp }, facts))
    }

    /// The facts of `rel` if its size and modification time say it has not changed, with its
    /// stamp.
    pub fn take_fresh(&self, rel: &str, size: u64, mtime_ns: i128) -> Option<(Stamp, FileFacts)> {
        let mut previous = self.previous.lock().unwrap_or_else(|e| e.into_inner());
        let (stamp, _) = previous.get(rel)?;
        let racy = mtime_ns >= self.previous_started_ns - RACY_NS;
        if stamp.size != size || stamp.mtime_ns != mtime_ns || racy {
            return None;
        }
        self.counts.by_stat.fetch_add(1, Ordering::Relaxed);
        previous.remove(rel)
    }

    /// The facts of `rel` if its bytes are those recorded (read again because its time moved,
    /// or was too recent to trust), with the blob id recorded for those bytes.
    pub fn take_same_content(&self, rel: &str, hash: &[u8; 32]) -> Option<(Option<BlobId>, FileFacts)> {
        let mut previous = self.previous.lock().unwrap_or_else(|e| e.into_inner());
        if previous.get(rel)?.0.hash != *hash {
            return None;
        }
        self.counts.by_content.fetch_add(1, Ordering::Relaxed);
        previous.remove(rel).map(|(stamp, facts)| (stamp.blob, facts))
    }

    /// Whether a file that is read needs its content hash: to be recorded, or to be compared
    /// with an entry of the previous run. A reader with no entry for it skips the hashing.
    pub fn wants_hash(&self, rel: &str) -> bool {
        self.write || self.previous.lock().unwrap_or_else(|e| e.into_inner()).contains_key(rel)
    }

    /// Remember a file's stamp for the next run (its facts are taken from the workspace when
    /// the cache is saved).
    pub fn record(&self, rel: String, stamp: Stamp, was_read: bool) {
        if was_read {
            self.read_any.store(true, Ordering::Relaxed);
        }
        if self.write {
            self.recorded.lock().unwrap_or_else(|e| e.into_inner()).insert(rel, stamp);
        }
    }

    /// How many entries the previous run left that were not used yet.
    pub fn previous_len(&self) -> usize {
        self.previous.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Write what this run recorded, atomically; errors (a read-only tree) are logged, never
    /// fatal: the cache only saves time.
    pub fn save(self, files: &[std::sync::Arc<FileFacts>]) {
        let counts = &self.counts;
        let by_content = counts.by_content.load(Ordering::Relaxed);
        tracing::debug!(
            files = files.len(),
            by_stat = counts.by_stat.load(Ordering::Relaxed),
            by_blob = counts.by_blob.load(Ordering::Relaxed),
            by_content,
            scanned = files.len().saturating_sub(
                counts.by_stat.load(Ordering::Relaxed) + counts.by_blob.load(Ordering::Relaxed) + by_content
            ),
            "facts cache"
        );
        // Every file came from the cache and none is gone: the file on disk already says it all.
        let unchanged = !self.read_any.load(Ordering::Relaxed) && self.previous_len() == 0;
        if !self.write || unchanged {
            return;
        }
        let recorded = self.recorded.into_inner().unwrap_or_else(|e| e.into_inner());
        let entries = files
            .iter()
            .filter_map(|facts| Some((facts.path.as_str(), *recorded.get(&facts.path)?, &**facts)))
            .collect();
        let file = CacheFileOut {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION"),
            key: self.key,
            started_ns: self.started_ns,
            entries,
        };
        if let Err(e) = write_cache(&self.dir, &self.key, &file) {
            tracing::debug!(dir = %self.dir.display(), "the facts cache was not written: {e}");
        }
    }
}

fn file_name(key: &[u8; 32]) -> String {
    let hex: String = key[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("facts-{hex}.bin")
}

/// Create the cache folder with its `CACHEDIR.TAG` and a `.gitignore` that ignores it all.
pub fn make_cache_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in
        [("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "# Concord's cache: never committed.\n*\n")]
    {
        let path = dir.join(name);
        if !path.exists() {
            std::fs::write(path, text)?;
        }
    }
    Ok(())
}

fn write_cache(dir: &Path, key: &[u8; 32], file: &CacheFileOut) -> std::io::Result<()> {
    make_cache_dir(dir)?;
    let target = dir.join(file_name(key));
    // A name of its own per process, so concurrent runs never write into one temporary file.
    let temporary = dir.join(format!(".{}.{}.tmp", file_name(key), std::process::id()));
    // Encoded straight into the file: `check` writes it while it makes the findings, and the
    // whole encoding held in memory meanwhile raised the peak by its size.
    let written = std::fs::File::create(&temporary).and_then(|created| {
        let out = postcard::to_io(file, std::io::BufWriter::with_capacity(1 << 16, created))
            .map_err(std::io::Error::other)?;
        out.into_inner().map_err(std::io::IntoInnerError::into_error).map(drop)
    });
    written.and_then(|()| std::fs::rename(&temporary, &target)).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })?;
    prune(dir);
    Ok(())
}

/// Keep the [`KEPT_FILES`] most recently written cache files.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut caches: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with("facts-") && n.ends_with(".bin")))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    caches.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, old) in caches.into_iter().skip(KEPT_FILES) {
        let _ = std::fs::remove_file(old);
    }
}

/// A `&'static str` field of the facts. Spelled through this alias because serde's derive
/// would otherwise borrow a literal `&str` field from the input, which a cache file cannot lend.
pub type StaticStr = &'static str;

/// Deserialize a `&'static str` field (an item kind, a comment marker, a secret rule's ID):
/// few distinct values, each kept once for the life of the process.
pub(crate) fn static_str<'de, D: Deserializer<'de>>(deserializer: D) -> Result<&'static str, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(intern(&text))
}

pub(crate) fn static_str_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'static str>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text.as_deref().map(intern))
}

/// The one copy of `text` kept for the life of the process (for rule IDs and spec IDs: few
/// distinct values, named very often).
pub(crate) fn intern(text: &str) -> &'static str {
    static KNOWN: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let set = known.get_or_insert_with(HashSet::new);
    if let Some(found) = set.get(text) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn facts(path: &str, text: &str) -> FileFacts {
        crate::scan::scan_text(&Config::default(), path, text)
    }

    fn stamp(text: &str, mtime_ns: i128) -> Stamp {
        Stamp { size: text.len() as u64, mtime_ns, hash: content_hash(text.as_bytes()), blob: None }
    }

    /// A run that recorded `files` (path, text, mtime).
    fn run(dir: &Path, key: [u8; 32], files: &[(&str, &str, i128)]) {
        let cache = FactsCache::open(dir, key, true);
        let mut scanned = Vec::new();
        for (path, text, mtime) in files {
            cache.record(path.to_string(), stamp(text, *mtime), true);
            scanned.push(std::sync::Arc::new(facts(path, text)));
        }
        cache.save(&scanned);
    }

    #[test]
    fn facts_round_trip_and_stat_decides_unless_racy() {
        let dir = tempfile::tempdir().unwrap();
        let key = settings_key(&[b"[trace]\n"]);
        let old = now_ns() - 10 * RACY_NS;
        let text = "# TD-0001\ndef f():\n    pass\n";
        run(dir.path(), key, &[("src/a.py", text, old), ("src/new.py", "x = 1\n", now_ns())]);
        assert!(dir.path().join("CACHEDIR.TAG").is_file());

        let cache = FactsCache::open(dir.path(), key, false);
        assert_eq!(cache.previous_len(), 2);
        assert!(cache.take_fresh("src/a.py", text.len() as u64, old + 1).is_none(), "the time moved");
        assert!(cache.take_fresh("src/a.py", 3, old).is_none(), "the size moved");
        let (_, hit) = cache.take_fresh("src/a.py", text.len() as u64, old).expect("same size and time");
        assert_eq!(hit, facts("src/a.py", text), "the facts come back equal");
        // Written in the same moment as the run that recorded it: read again, compared by content.
        let recent = cache.previous.lock().unwrap().get("src/new.py").unwrap().0.mtime_ns;
        assert!(cache.take_fresh("src/new.py", 6, recent).is_none(), "racily clean: not trusted by stat");
        assert!(cache.take_same_content("src/new.py", &content_hash(b"x = 2\n")).is_none());
        assert!(cache.take_same_content("src/new.py", &content_hash(b"x = 1\n")).is_some());
    }

    fn git_index(records: &str, modified: &[&str]) -> GitIndex {
        let entries = crate::git_index::parse_ls_files(records.as_bytes()).unwrap();
        GitIndex::from_entries(entries, &modified.iter().map(|m| m.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_clean_file_with_the_recorded_blob_and_size_is_used_at_any_time() {
        const A: &str = "61780798228d17af2d34fce4cfbdf35556832472";
        const B: &str = "78981922613b2afb6025042ff6bd878ac1994e85";
        let blob = BlobId::from_hex(A.as_bytes());
        let dir = tempfile::tempdir().unwrap();
        let key = settings_key(&[b"k"]);
        let text = "# TD-0001\n";
        let old = now_ns() - 10 * RACY_NS;
        let writer = FactsCache::open(dir.path(), key, true);
        for path in ["a.py", "b.py", "c.py", "d.py"] {
            writer.record(path.to_string(), Stamp { blob, ..stamp(text, old) }, true);
        }
        writer.record("plain.py".to_string(), stamp(text, old), true);
        let scanned =
            ["a.py", "b.py", "c.py", "d.py", "plain.py"].map(|p| std::sync::Arc::new(facts(p, text)));
        writer.save(&scanned);

        let mut cache = FactsCache::open(dir.path(), key, true);
        let size = text.len() as u64;
        let now = now_ns();
        assert!(cache.take_same_blob("a.py", size, now).is_none(), "no git data: no blob key");
        let records = format!(
            "H 100644 {A} 0\ta.py\0H 100644 {B} 0\tb.py\0H 100644 {A} 0\tc.py\0H 100644 {A} 0\td.py\0H 100644 {A} 0\tplain.py\0"
        );
        cache.set_git(git_index(&records, &["c.py"]), now);
        let (stamp, hit) = cache.take_same_blob("a.py", size, now).expect("clean, same blob, same size");
        assert_eq!((stamp.mtime_ns, stamp.blob, hit), (now, blob, facts("a.py", text)), "a new time");
        assert!(cache.take_same_blob("b.py", size, now).is_none(), "another blob");
        assert!(cache.take_same_blob("c.py", size, now).is_none(), "modified");
        assert!(cache.take_same_blob("d.py", size + 2, now).is_none(), "another size (a CRLF checkout)");
        assert!(cache.take_same_blob("plain.py", size, now).is_none(), "no blob was recorded");
        assert!(cache.take_same_blob("gone.py", size, now).is_none(), "no entry");

        // What is recorded: git's blob only for a time older than the git call by RACY_NS.
        assert_eq!(cache.clean_blob("plain.py", old), blob);
        assert_eq!(cache.clean_blob("plain.py", now - RACY_NS / 2), None, "written as git looked");
        assert_eq!(cache.clean_blob("c.py", old), None, "modified");
    }

    #[test]
    fn another_key_a_corrupt_file_or_a_torn_write_is_an_empty_cache() {
        let dir = tempfile::tempdir().unwrap();
        let key = settings_key(&[b"a"]);
        run(dir.path(), key, &[("a.py", "x\n", 1)]);
        assert_eq!(FactsCache::open(dir.path(), key, false).previous_len(), 1);
        assert_eq!(FactsCache::open(dir.path(), settings_key(&[b"b"]), false).previous_len(), 0);
        let path = dir.path().join(file_name(&key));
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(FactsCache::open(dir.path(), key, false).previous_len(), 0, "a torn file");
        std::fs::write(&path, b"\xff\xfe garbage").unwrap();
        assert_eq!(FactsCache::open(dir.path(), key, false).previous_len(), 0, "garbage");
    }

    #[test]
    fn at_most_a_few_settings_keys_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..(KEPT_FILES + 3) {
            run(dir.path(), settings_key(&[&[n as u8]]), &[("a.py", "x\n", 1)]);
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        let kept = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_str().unwrap().starts_with("facts-"))
            .count();
        assert_eq!(kept, KEPT_FILES);
    }
}
