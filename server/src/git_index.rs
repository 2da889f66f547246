//! Git's own record of the workspace's files, used by the facts cache as a key that costs no
//! read: after a fresh checkout every file has a new modification time, but a tracked file that
//! git knows unmodified still has the blob id it had when its facts were recorded.
//!
//! Two git processes per run, each with a time limit: `git diff-files --name-only` (the tracked
//! files that differ from the index; git decides from its stat data and reads a file only when
//! its time is too recent to trust) and then `git ls-files -s -v` (each index entry's blob id).
//! In this order, a file edited and staged between the two is either listed as modified or
//! shown with the blob of its new content, never paired with an older blob. Any failure (no
//! git, not a repository, a time-out, output that does not parse) means no git data: every file
//! takes the stat-and-hash path.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Each git call is stopped after this long: past it, reading the files is the faster way.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A git object id (20 bytes for SHA-1 repositories, 32 for SHA-256 ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobId {
    len: u8,
    bytes: [u8; 32],
}

impl BlobId {
    /// From the hexadecimal form git prints; `None` unless 40 or 64 hex digits.
    pub fn from_hex(hex: &[u8]) -> Option<BlobId> {
        if hex.len() != 40 && hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            bytes[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(BlobId { len: (hex.len() / 2) as u8, bytes })
    }

    /// The empty blob (what `git add -N` stages too): never a key, an empty file costs nothing
    /// to read.
    fn is_empty_blob(&self) -> bool {
        const SHA1: &[u8] = b"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
        const SHA256: &[u8] = b"473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813";
        Some(*self) == BlobId::from_hex(SHA1) || Some(*self) == BlobId::from_hex(SHA256)
    }
}

/// One record of `git ls-files -s -v -z`: `<tag> <mode> <id> <stage>\t<path>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// `H` an ordinary entry; lower case: assume-unchanged; `S`: skip-worktree (sparse
    /// checkout); `M`: unmerged.
    pub tag: char,
    pub mode: String,
    pub id: BlobId,
    pub stage: u8,
    /// Relative to the folder git ran in; `None` when the name is not UTF-8 (the walk skips it).
    pub path: Option<String>,
}

/// Parse `git ls-files -s -v -z` output. A record that does not have the expected shape is an
/// error naming its position: the output is then not trusted at all.
pub fn parse_ls_files(raw: &[u8]) -> Result<Vec<IndexEntry>, String> {
    let mut entries = Vec::new();
    let mut offset = 0;
    for (n, record) in raw.split(|&b| b == 0).enumerate() {
        let at = offset;
        offset += record.len() + 1;
        if record.is_empty() {
            continue;
        }
        let bad = |what: &str| format!("git ls-files record {} (byte {at}): {what}", n + 1);
        let tab = memchr::memchr(b'\t', record).ok_or_else(|| bad("no tab before the path"))?;
        let (head, path) = (&record[..tab], &record[tab + 1..]);
        let fields: Vec<&[u8]> = head.split(|&b| b == b' ').collect();
        let [tag, mode, id, stage] = fields[..] else { return Err(bad("not `tag mode id stage`")) };
        let tag = match tag {
            [c] if c.is_ascii_alphabetic() || *c == b'?' => *c as char,
            _ => return Err(bad("the tag is not one letter")),
        };
        if mode.is_empty() || !mode.iter().all(|c| (b'0'..=b'7').contains(c)) {
            return Err(bad("the mode is not octal"));
        }
        let id = BlobId::from_hex(id).ok_or_else(|| bad("the object id is not 40 or 64 hex digits"))?;
        let stage = match stage {
            [c @ b'0'..=b'3'] => c - b'0',
            _ => return Err(bad("the stage is not 0 to 3")),
        };
        if path.is_empty() {
            return Err(bad("an empty path"));
        }
        entries.push(IndexEntry {
            tag,
            mode: String::from_utf8_lossy(mode).into_owned(),
            id,
            stage,
            path: String::from_utf8(path.to_vec()).ok(),
        });
    }
    Ok(entries)
}

/// Parse a NUL-separated list of paths (`git diff-files --name-only -z`). Names that are not
/// UTF-8 are kept lossily: they can only make more files ineligible, never fewer.
pub fn parse_names(raw: &[u8]) -> Vec<String> {
    raw.split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// The tracked files whose working copy git holds equal to the index, with their blob ids.
#[derive(Debug, Default)]
pub struct GitIndex {
    clean: HashMap<String, BlobId>,
}

impl GitIndex {
    /// Combine the two outputs: a path is kept only when it is an ordinary stage-0 entry of a
    /// regular file (no symbolic link, submodule or sparse directory), not assume-unchanged nor
    /// skip-worktree (git would not look at the working file), not unmerged, not modified, and
    /// not the empty blob.
    pub fn from_entries(entries: Vec<IndexEntry>, modified: &[String]) -> GitIndex {
        let modified: HashSet<&str> = modified.iter().map(String::as_str).collect();
        let mut clean = HashMap::new();
        let mut excluded: HashSet<String> = HashSet::new();
        for entry in entries {
            let Some(path) = entry.path else { continue };
            let eligible = entry.tag == 'H'
                && entry.stage == 0
                && (entry.mode == "100644" || entry.mode == "100755")
                && !entry.id.is_empty_blob()
                && !modified.contains(path.as_str());
            // A path listed twice (unmerged stages) is never clean.
            if !eligible || clean.insert(path.clone(), entry.id).is_some() {
                clean.remove(&path);
                excluded.insert(path);
            } else if excluded.contains(&path) {
                clean.remove(&path);
            }
        }
        GitIndex { clean }
    }

    /// Ask git about the work tree at `root`; `None` when `root` is not inside one or git fails.
    pub fn read(root: &Path) -> Option<GitIndex> {
        // Only a work tree is asked (a `.git` folder or file in the root or above it): elsewhere
        // no process is started at all.
        let absolute = std::fs::canonicalize(root).ok()?;
        if !absolute.ancestors().any(|dir| dir.join(".git").symlink_metadata().is_ok()) {
            return None;
        }
        let run = |args: &[&str]| -> Option<Vec<u8>> {
            match crate::ops::git::git_bounded_at(root, args, TIMEOUT) {
                Ok(out) if out.status.success() => Some(out.stdout),
                Ok(out) => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    tracing::debug!(
                        "git {} failed: {}; the facts cache goes by stat",
                        args[0],
                        stderr.trim()
                    );
                    None
                }
                Err(e) => {
                    tracing::debug!("{e}; the facts cache goes by stat");
                    None
                }
            }
        };
        // Modified first, then the ids: see the module comment.
        let modified = parse_names(&run(&["diff-files", "--name-only", "-z", "--relative"])?);
        let listed = run(&["ls-files", "-s", "-v", "-z"])?;
        match parse_ls_files(&listed) {
            Ok(entries) => Some(GitIndex::from_entries(entries, &modified)),
            Err(e) => {
                tracing::debug!("{e}; the facts cache goes by stat");
                None
            }
        }
    }

    /// The blob id of `rel` if git holds its working copy equal to the index.
    pub fn clean_blob(&self, rel: &str) -> Option<BlobId> {
        self.clean.get(rel).copied()
    }

    pub fn len(&self) -> usize {
        self.clean.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clean.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "61780798228d17af2d34fce4cfbdf35556832472";
    const B: &str = "78981922613b2afb6025042ff6bd878ac1994e85";
    const EMPTY: &str = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";

    fn id(hex: &str) -> BlobId {
        BlobId::from_hex(hex.as_bytes()).unwrap()
    }

    #[test]
    fn ls_files_records_parse_with_spaces_tabs_and_non_ascii_in_paths() {
        let raw = format!(
            "H 100644 {A} 0\tsub dir/é x.py\0h 100755 {B} 0\trun.sh\0H 100644 {A} 0\ta\tb.py\0S 100644 {B} 0\tsparse/x.py\0"
        );
        let entries = parse_ls_files(raw.as_bytes()).unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].path.as_deref(), Some("sub dir/é x.py"));
        assert_eq!((entries[0].tag, entries[0].mode.as_str(), entries[0].id), ('H', "100644", id(A)));
        assert_eq!((entries[1].tag, entries[1].mode.as_str()), ('h', "100755"));
        assert_eq!(entries[2].path.as_deref(), Some("a\tb.py"), "only the first tab ends the head");
        assert_eq!(entries[3].tag, 'S');
        // A name that is not UTF-8 is kept as an entry without a path.
        let mut raw = format!("H 100644 {A} 0\t").into_bytes();
        raw.extend_from_slice(b"bad\xff.py\0");
        assert_eq!(parse_ls_files(&raw).unwrap()[0].path, None);
        // SHA-256 repositories have 64-digit ids.
        let long = "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813";
        assert_eq!(parse_ls_files(format!("H 100644 {long} 0\tx\0").as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn a_malformed_record_is_an_error_with_its_position() {
        for (raw, what) in [
            (format!("H 100644 {A} 0 x.py\0"), "no tab"),
            (format!("H 100644 {A}\tx.py\0"), "not `tag mode id stage`"),
            (format!("H 100644 {}\t0\tx.py\0", &A[..39]), "not `tag mode id stage`"),
            (format!("H 100644 {}z 0\tx.py\0", &A[..39]), "hex digits"),
            (format!("H 1006x4 {A} 0\tx.py\0"), "not octal"),
            (format!("H 100644 {A} 7\tx.py\0"), "stage"),
            (format!("HH 100644 {A} 0\tx.py\0"), "one letter"),
            (format!("H 100644 {A} 0\t\0"), "empty path"),
        ] {
            let good = format!("H 100644 {B} 0\tok.py\0");
            let err = parse_ls_files(format!("{good}{raw}").as_bytes()).unwrap_err();
            assert!(err.contains(what), "{err} (wanted {what})");
            assert!(err.contains("record 2") && err.contains(&format!("byte {}", good.len())), "{err}");
        }
    }

    #[test]
    fn names_are_nul_separated_and_keep_spaces_and_newlines() {
        assert_eq!(parse_names(b"a b.py\0d\xc3\xa9j\xc3\xa0/x\ny.py\0\0"), vec!["a b.py", "déjà/x\ny.py"]);
        assert!(parse_names(b"").is_empty());
    }

    #[test]
    fn only_ordinary_clean_regular_files_are_kept() {
        let raw = format!(
            "H 100644 {A} 0\tclean.py\0\
             H 100755 {B} 0\tscript.sh\0\
             H 100644 {A} 0\tdirty.py\0\
             h 100644 {A} 0\tassumed.py\0\
             S 100644 {A} 0\tsparse.py\0\
             H 120000 {A} 0\tlink.py\0\
             H 160000 {A} 0\tmodule\0\
             H 100644 {EMPTY} 0\tintent.py\0\
             M 100644 {A} 1\tconflict.py\0\
             M 100644 {B} 2\tconflict.py\0\
             M 100644 {A} 3\tconflict.py\0\
             H 100644 {A} 0\ttwice.py\0\
             H 100644 {B} 0\ttwice.py\0"
        );
        let index =
            GitIndex::from_entries(parse_ls_files(raw.as_bytes()).unwrap(), &["dirty.py".to_string()]);
        assert_eq!(index.clean_blob("clean.py"), Some(id(A)));
        assert_eq!(index.clean_blob("script.sh"), Some(id(B)));
        for path in [
            "dirty.py",
            "assumed.py",
            "sparse.py",
            "link.py",
            "module",
            "intent.py",
            "conflict.py",
            "twice.py",
        ] {
            assert_eq!(index.clean_blob(path), None, "{path}");
        }
        assert_eq!(index.len(), 2);
    }
}
