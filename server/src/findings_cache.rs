//! The findings cache: each file's part of a whole-workspace report (`concord check` in text or
//! JSON), as rendered, kept between runs so a re-check where little changed renders only what
//! changed, and replays the rest (as a build tool replays the compiler messages it kept).
//!
//! - **Keys.** One cache file per layout and minimum severity shown. Its header holds the run
//!   key: a hash of the cache format, the Concord version and build (a hash of the sources
//!   compiled in, see build.rs), and the workspace's inputs key (the settings, and the model's
//!   inputs that a file's findings read: see `workspace::inputs_key`). Each entry holds its
//!   file's key: a hash of the file's facts and of the ID counts of its folder, which is
//!   everything besides those that its findings are made from.
//! - **Bounded and safe.** Only the files of the last run are kept, compressed. Written whole to
//!   a temporary file and renamed; a file that does not decode, in part or whole, is ignored
//!   (every entry is checked against the bounds of the file and its checksum before it is used).

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::findings::{Code, Severity};
use crate::render::{Count, Layout};

/// Bumped whenever the layout of the file or of a rendered part changes.
const FORMAT: u32 = 1;
const MAGIC: &[u8; 16] = b"concord-findings";
/// The largest part a cache entry may claim to expand to (no real file's findings come near).
const MAX_PART: usize = 1 << 30;
/// The largest cache file read (a 600 MB report's is 53 MB).
const MAX_FILE: u64 = 1 << 31;

/// Bytes of each entry's checksum (its leading bytes of SHA-256): a scrambled entry must not
/// decompress into a wrong report.
const CHECKSUM: usize = 8;

fn checksum(bytes: &[u8]) -> [u8; CHECKSUM] {
    let digest = Sha256::digest(bytes);
    digest[..CHECKSUM].try_into().expect("8 of 32 bytes")
}

/// A file's key: see the module's comment.
pub type FileKey = [u8; 16];

/// The key of a run's whole cache file (see the module's comment).
pub fn run_key(inputs: &[u8; 32], layout: Layout, min: Severity) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(FORMAT.to_le_bytes());
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    // Rendered messages change with the code, not only with the version (see build.rs).
    hasher.update(env!("CONCORD_BUILD_ID").as_bytes());
    hasher.update(inputs);
    hasher.update(layout.name().as_bytes());
    hasher.update(min.as_str().as_bytes());
    hasher.finalize().into()
}

/// A file's key from its facts (as the facts cache encodes them) and its folder's ID counts.
pub fn file_key(facts: &crate::scan::FileFacts, folder: &[(u32, u32)]) -> FileKey {
    let mut hasher = Sha256::new();
    // Writing into a hasher cannot fail; a fact that does not encode gets a key of its own.
    if postcard::to_io(facts, &mut hasher).is_err() {
        hasher.update(b"unencodable");
    }
    for &(doc, n) in folder {
        hasher.update(doc.to_le_bytes());
        hasher.update(n.to_le_bytes());
    }
    let digest: [u8; 32] = hasher.finalize().into();
    digest[..16].try_into().expect("16 of 32 bytes")
}

/// One file's part, as kept.
#[derive(Debug, Clone)]
pub struct Entry<'c> {
    pub path: Cow<'c, str>,
    pub key: FileKey,
    pub counts: Vec<Count>,
    /// The part's length, rendered.
    pub len: usize,
    /// The part, compressed.
    pub compressed: Cow<'c, [u8]>,
}

impl Entry<'_> {
    /// The entry for a part just rendered.
    pub fn new(path: &str, key: FileKey, counts: Vec<Count>, rendered: &[u8]) -> Entry<'static> {
        Entry {
            path: Cow::Owned(path.to_string()),
            key,
            counts,
            len: rendered.len(),
            compressed: Cow::Owned(lz4_flex::block::compress(rendered)),
        }
    }

    /// The part, rendered again; `None` when the bytes are not what was written.
    pub fn expand(&self) -> Option<Vec<u8>> {
        if self.len > MAX_PART || self.len > self.compressed.len().saturating_mul(255).saturating_add(16) {
            return None;
        }
        let mut out = vec![0; self.len];
        match lz4_flex::block::decompress_into(&self.compressed, &mut out) {
            Ok(n) if n == self.len => Some(out),
            _ => None,
        }
    }
}

/// The cache file of one layout and minimum severity, as the previous run left it.
pub struct FindingsCache {
    dir: PathBuf,
    name: String,
    run_key: [u8; 32],
    bytes: Vec<u8>,
    /// Each entry's place in `bytes`, in path order.
    entries: Vec<(At, At)>,
}

impl FindingsCache {
    /// The cache in `dir` for reports in `layout` from `min` up; empty when there is none, it
    /// was written under another run key, or it does not decode.
    pub fn open(dir: &Path, layout: Layout, min: Severity, run_key: [u8; 32]) -> FindingsCache {
        let name = format!("findings-{}-{}.bin", layout.name(), min.as_str());
        let mut cache =
            FindingsCache { dir: dir.to_path_buf(), name, run_key, bytes: Vec::new(), entries: Vec::new() };
        let path = cache.dir.join(&cache.name);
        // Read whole: a file bigger than any report's cache is not one this writes.
        if std::fs::metadata(&path).map_or(true, |m| m.len() > MAX_FILE) {
            return cache;
        }
        let Ok(bytes) = std::fs::read(&path) else { return cache };
        match index(&bytes, &run_key) {
            Some(entries) => {
                cache.bytes = bytes;
                cache.entries = entries;
            }
            None => tracing::debug!(file = %cache.name, "the findings cache is stale or does not decode"),
        }
        cache
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of `path` if its key is `key`.
    pub fn get(&self, path: &str, key: &FileKey) -> Option<Entry<'_>> {
        let at =
            self.entries.binary_search_by(|(name, _)| self.bytes[name.clone()].cmp(path.as_bytes())).ok()?;
        let entry = decode_entry(&self.bytes, self.entries[at].1.clone())?;
        (entry.key == *key).then_some(entry)
    }

    /// The next cache file, made from a report's entries as they come (see [`Update`]).
    pub fn update(&self) -> Update<'_> {
        Update { cache: self, held: Vec::new(), writer: None, failed: false, added: 0 }
    }
}

/// The next cache file while a report is written, its entries added in path order. Replayed
/// entries are held (borrowed from the old file) until one is computed: a run where nothing
/// changed writes nothing, unless a file is gone.
pub struct Update<'c> {
    cache: &'c FindingsCache,
    held: Vec<Entry<'c>>,
    writer: Option<CacheWriter>,
    /// The file could not be created: nothing more is kept.
    failed: bool,
    added: usize,
}

impl<'c> Update<'c> {
    /// Adds the next entry; `computed` says it is not the old file's.
    pub fn add(&mut self, entry: Entry<'c>, computed: bool) {
        self.added += 1;
        if computed && self.writer.is_none() {
            self.start();
        }
        match &mut self.writer {
            Some(writer) => writer.add(&entry),
            None if !self.failed => self.held.push(entry),
            None => {}
        }
    }

    fn start(&mut self) {
        if self.failed {
            return;
        }
        match CacheWriter::create(&self.cache.dir, &self.cache.name, &self.cache.run_key) {
            Ok(mut writer) => {
                self.held.drain(..).for_each(|entry| writer.add(&entry));
                self.writer = Some(writer);
            }
            Err(e) => {
                tracing::debug!(dir = %self.cache.dir.display(), "the findings cache is not written: {e}");
                self.failed = true;
                self.held.clear();
            }
        }
    }

    /// Puts the new file in place if anything changed (errors only cost the next run time).
    pub fn finish(mut self) {
        if self.writer.is_none() && self.added != self.cache.len() {
            self.start();
        }
        if let Some(writer) = self.writer.take() {
            writer.finish();
        }
    }
}

/// Where a path and its whole entry are in the cache file's bytes.
type At = std::ops::Range<usize>;

/// The entries of a cache file and where each path is, or `None` when any of it is not as
/// written (the file is then ignored whole).
fn index(bytes: &[u8], run_key: &[u8; 32]) -> Option<Vec<(At, At)>> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.take(MAGIC.len())? != MAGIC || reader.u32()? != FORMAT || reader.take(32)? != run_key {
        return None;
    }
    let mut entries: Vec<(At, At)> = Vec::new();
    while reader.at < bytes.len() {
        let start = reader.at;
        let path = skip_entry(&mut reader)?;
        std::str::from_utf8(&bytes[path.clone()]).ok()?;
        // Written in path order: binary search relies on it.
        if entries.last().is_some_and(|(previous, _)| bytes[previous.clone()] >= bytes[path.clone()]) {
            return None;
        }
        entries.push((path, start..reader.at));
    }
    Some(entries)
}

/// Steps over one entry; where its path is.
fn skip_entry(reader: &mut Reader) -> Option<At> {
    let path_len = reader.u32()? as usize;
    let path = reader.at..reader.at.checked_add(path_len)?;
    reader.take(path_len)?;
    reader.take(16)?;
    let counts = reader.u32()? as usize;
    reader.take(counts.checked_mul(7)?)?;
    reader.u32()?;
    let compressed = reader.u32()? as usize;
    reader.take(compressed)?;
    reader.take(CHECKSUM)?;
    Some(path)
}

fn decode_entry(bytes: &[u8], at: At) -> Option<Entry<'_>> {
    let body = at.start..at.end.checked_sub(CHECKSUM)?;
    if bytes.get(body.end..at.end)? != checksum(bytes.get(body.clone())?).as_slice() {
        return None;
    }
    let mut reader = Reader { bytes: &bytes[..body.end], at: at.start };
    let path_len = reader.u32()? as usize;
    let path = std::str::from_utf8(reader.take(path_len)?).ok()?;
    let key: FileKey = reader.take(16)?.try_into().ok()?;
    let n = reader.u32()? as usize;
    let mut counts = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let severity = *Severity::ALL.get(usize::from(reader.take(1)?[0]))?;
        let code = *Code::ALL.get(usize::from(reader.take(1)?[0]))?;
        let commit = reader.take(1)?[0] != 0;
        counts.push(Count { severity, code, commit, n: reader.u32()? });
    }
    let len = reader.u32()? as usize;
    let compressed_len = reader.u32()? as usize;
    let compressed = reader.take(compressed_len)?;
    Some(Entry { path: Cow::Borrowed(path), key, counts, len, compressed: Cow::Borrowed(compressed) })
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let end = self.at.checked_add(n)?;
        let taken = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(taken)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// The next cache file, written as the report is: to a temporary file of this process, renamed
/// over the old one by [`CacheWriter::finish`] (dropped unfinished, it is removed).
struct CacheWriter {
    temporary: PathBuf,
    target: PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
    failed: bool,
}

impl CacheWriter {
    fn create(dir: &Path, name: &str, run_key: &[u8; 32]) -> std::io::Result<CacheWriter> {
        crate::cache::make_cache_dir(dir)?;
        let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&temporary)?);
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&FORMAT.to_le_bytes());
        header.extend_from_slice(run_key);
        out.write_all(&header)?;
        Ok(CacheWriter { temporary, target: dir.join(name), out: Some(out), failed: false })
    }

    /// Adds the next entry (paths in order); a write error makes the whole file be dropped.
    fn add(&mut self, entry: &Entry) {
        if self.failed {
            return;
        }
        let (Ok(path_len), Ok(counts), Ok(len), Ok(compressed)) = (
            u32::try_from(entry.path.len()),
            u32::try_from(entry.counts.len()),
            u32::try_from(entry.len),
            u32::try_from(entry.compressed.len()),
        ) else {
            self.failed = true;
            return;
        };
        let mut head = Vec::with_capacity(32 + entry.path.len() + entry.counts.len() * 7);
        head.extend_from_slice(&path_len.to_le_bytes());
        head.extend_from_slice(entry.path.as_bytes());
        head.extend_from_slice(&entry.key);
        head.extend_from_slice(&counts.to_le_bytes());
        for c in &entry.counts {
            let severity = Severity::ALL.iter().position(|s| *s == c.severity).unwrap_or(0) as u8;
            let code = Code::ALL.iter().position(|k| *k == c.code).unwrap_or(0) as u8;
            head.extend_from_slice(&[severity, code, u8::from(c.commit)]);
            head.extend_from_slice(&c.n.to_le_bytes());
        }
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&compressed.to_le_bytes());
        let sum = {
            let mut hasher = Sha256::new();
            hasher.update(&head);
            hasher.update(&entry.compressed);
            hasher.finalize()
        };
        let out = self.out.as_mut().expect("open until finished");
        let written = out
            .write_all(&head)
            .and_then(|()| out.write_all(&entry.compressed))
            .and_then(|()| out.write_all(&sum[..CHECKSUM]));
        if written.is_err() {
            self.failed = true;
        }
    }

    /// Puts the file in place (unless a write failed); errors only cost the next run time.
    fn finish(mut self) {
        let Some(out) = self.out.take() else { return };
        let written = if self.failed {
            Err(std::io::Error::other("an entry was not written"))
        } else {
            out.into_inner().map_err(std::io::IntoInnerError::into_error).map(drop)
        };
        if let Err(e) = written.and_then(|()| std::fs::rename(&self.temporary, &self.target)) {
            tracing::debug!(file = %self.target.display(), "the findings cache was not written: {e}");
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

impl Drop for CacheWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn count(n: u32) -> Count {
        Count { severity: Severity::Warning, code: Code::UntracedItem, commit: false, n }
    }

    /// A cache file in `dir` holding `parts` (path, rendered), each keyed by its first byte.
    fn write(dir: &Path, parts: &[(&str, &[u8])]) -> PathBuf {
        let cache = FindingsCache::open(dir, Layout::Json, Severity::Hint, KEY);
        let mut update = cache.update();
        for (path, rendered) in parts {
            update
                .add(Entry::new(path, [rendered[0]; 16], vec![count(rendered.len() as u32)], rendered), true);
        }
        update.finish();
        dir.join("findings-json-hint.bin")
    }

    #[test]
    fn entries_come_back_as_written_under_their_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let parts: [(&str, &[u8]); 3] =
            [("a.rs", b"{ \"a\" }"), ("b/c.py", b"xxxxxxxxxxxxxxxxxxxxxxx"), ("d", b"d")];
        write(dir.path(), &parts);
        let cache = FindingsCache::open(dir.path(), Layout::Json, Severity::Hint, KEY);
        assert_eq!(cache.len(), 3);
        for (path, rendered) in parts {
            let entry = cache.get(path, &[rendered[0]; 16]).unwrap();
            assert_eq!(entry.expand().unwrap(), rendered);
            assert_eq!(entry.counts, vec![count(rendered.len() as u32)]);
            assert!(cache.get(path, &[0; 16]).is_none(), "another key");
        }
        assert!(cache.get("e", &[b'e'; 16]).is_none());
        // Another run key, layout or minimum: another file, or none.
        assert!(FindingsCache::open(dir.path(), Layout::Json, Severity::Hint, [8; 32]).is_empty());
        assert!(FindingsCache::open(dir.path(), Layout::Text, Severity::Hint, KEY).is_empty());
        assert!(!dir.path().read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
    }

    proptest! {
        /// A cache file cut short or with a byte changed anywhere never panics and never gives
        /// an entry that is not as written: it is ignored, whole or entry by entry.
        #[test]
        fn a_damaged_file_gives_what_was_written_or_nothing(cut in 0usize..64, flip in 0usize..400, bits in 1u8..=255) {
            let dir = tempfile::tempdir().unwrap();
            let parts: [(&str, &[u8]); 3] = [("a", b"alpha alpha alpha"), ("b", b"beta"), ("c", b"gamma gamma")];
            let file = write(dir.path(), &parts);
            let mut bytes = std::fs::read(&file).unwrap();
            let flip = flip % bytes.len();
            bytes[flip] ^= bits;
            bytes.truncate(bytes.len().saturating_sub(cut));
            std::fs::write(&file, &bytes).unwrap();
            let cache = FindingsCache::open(dir.path(), Layout::Json, Severity::Hint, KEY);
            for (path, rendered) in parts {
                if let Some(entry) = cache.get(path, &[rendered[0]; 16]) {
                    prop_assert_eq!(entry.expand(), Some(rendered.to_vec()));
                    prop_assert_eq!(&entry.counts, &vec![count(rendered.len() as u32)]);
                }
            }
        }
    }
}
