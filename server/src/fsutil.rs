//! The one reader and the one writer for workspace files.
//!
//! A cloned repository chooses what its paths are: a symbolic link to `/dev/zero` or to a file
//! outside the workspace, a FIFO, a device. So every read of an ops, config or source file goes
//! through `read_in_workspace` (or `read_regular` for a path the walker has already seen as a
//! regular file): links are followed only while they stay inside the workspace, the opened
//! handle must be a regular file (opened non-blocking, so a FIFO cannot stall the open), and the
//! read stops at a cap instead of trusting the size the metadata claims.
//!
//! Writes never open their target: `write_atomic` writes a temporary file beside it, flushes it
//! and renames it over the target, so a link or a device there is replaced, not written into.
//! Appends (the queue, the progress log) must add to the file in place, so `append_line` opens
//! without following a final symbolic link and refuses anything but a regular file.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The cap for a file read before the configuration (and its `files.max_file_size`) is known.
pub const DEFAULT_READ_CAP: u64 = 64 * 1024 * 1024;

/// Why a workspace file was not read.
#[derive(Debug)]
pub enum ReadError {
    Missing,
    /// A symbolic link (or a folder on the way) that leads out of the workspace.
    OutsideWorkspace(PathBuf),
    /// A FIFO, a device, a socket, a folder, or a link where none is followed.
    NotRegular(&'static str),
    TooLarge(u64),
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Missing => f.write_str("does not exist"),
            ReadError::OutsideWorkspace(target) => write!(
                f,
                "leads outside the workspace (to {}): links out of the workspace are not followed; put the file itself there",
                target.display()
            ),
            ReadError::NotRegular(kind) => {
                write!(f, "is {kind}, not a regular file, so it is not read: put a regular file there")
            }
            ReadError::TooLarge(limit) => {
                write!(f, "is larger than files.max_file_size ({limit} bytes), so it is not read")
            }
            ReadError::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> io::Error {
        match e {
            ReadError::Io(e) => e,
            ReadError::Missing => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
            other => io::Error::other(other.to_string()),
        }
    }
}

/// Read `rel` below `root`: links followed only while they stay inside the workspace, a regular
/// file required, at most `limit` bytes.
pub fn read_in_workspace(root: &Path, rel: impl AsRef<Path>, limit: u64) -> Result<Vec<u8>, ReadError> {
    let real = resolve_inside(root, &root.join(rel))?;
    read_regular(&real, limit)
}

/// `read_in_workspace` for text: `Ok(None)` when the file is missing; bytes that are not UTF-8
/// are an error naming the offset.
pub fn read_text_in_workspace(
    root: &Path,
    rel: impl AsRef<Path>,
    limit: u64,
) -> Result<Option<String>, String> {
    match read_in_workspace(root, rel, limit) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|e| {
            format!("is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to())
        }),
        Err(ReadError::Missing) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Read a file that must itself be a regular file (a final symbolic link is refused), at most
/// `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
    let expected = file.metadata().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0).saturating_add(1));
    // One byte past the cap tells "exactly at the cap" from "larger", whatever the size claims.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// Open a regular file for reading without following a final link and without blocking on a
/// FIFO; whether it is regular is decided on the opened handle, so it cannot be swapped after
/// the check.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    let file =
        OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path).map_err(
            |e| match e.kind() {
                io::ErrorKind::NotFound => ReadError::Missing,
                _ if e.raw_os_error() == Some(libc::ELOOP) => ReadError::NotRegular("a symbolic link"),
                _ => ReadError::Io(e),
            },
        )?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(&meta.file_type())));
    }
    Ok(file)
}

fn kind_of(kind: &std::fs::FileType) -> &'static str {
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// `path` with every link resolved, if that stays inside `root`.
fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf, ReadError> {
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(e) => return Err(ReadError::Io(e)),
    };
    let real_root = std::fs::canonicalize(root).map_err(ReadError::Io)?;
    if real.starts_with(&real_root) {
        Ok(real)
    } else {
        Err(ReadError::OutsideWorkspace(real))
    }
}

/// Where a write to `rel` below `root` goes: the folders on the way are created and must stay
/// inside the workspace. The final name is kept as given (a link there is replaced by a write,
/// and refused by an append unless it leads to a file inside the workspace).
pub fn writable_in_workspace(root: &Path, rel: &Path) -> io::Result<PathBuf> {
    let path = root.join(rel);
    let name = path.file_name().ok_or_else(|| io::Error::other("the path names no file"))?.to_owned();
    let dir = path.parent().unwrap_or(root);
    let real_root = std::fs::canonicalize(root)?;
    // The deepest folder that exists must be inside before anything is created through it.
    let mut existing = dir;
    while !existing.exists() {
        existing = existing.parent().unwrap_or(root);
    }
    let outside = |real: &Path| {
        io::Error::other(format!(
            "{} leads outside the workspace (to {}): Concord does not write through links out of the workspace",
            dir.display(),
            real.display()
        ))
    };
    let real = std::fs::canonicalize(existing)?;
    if !real.starts_with(&real_root) {
        return Err(outside(&real));
    }
    if !dir.exists() {
        fault_point("mkdir");
        std::fs::create_dir_all(dir)?;
    }
    let real_dir = std::fs::canonicalize(dir)?;
    if !real_dir.starts_with(&real_root) {
        return Err(outside(&real_dir));
    }
    Ok(real_dir.join(name))
}

/// Replace `rel` below `root` whole (see `write_atomic`), refusing folders that lead out of the
/// workspace.
pub fn write_in_workspace(root: &Path, rel: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    write_atomic(&writable_in_workspace(root, rel.as_ref())?, bytes)
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Replace `path` whole: a temporary file beside it is filled by `write` (a big report is never
/// held whole in memory), flushed, and renamed over `path`. Whatever `path` was (a file, a
/// symbolic link, a FIFO, a device) is replaced, never opened.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.exists() {
        fault_point("mkdir");
        std::fs::create_dir_all(dir)?;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    remove_stale_temporaries(dir, name);
    let tmp = dir.join(temporary_name(name));
    let result = (|| {
        fault_point("create");
        // `create_new` never follows a link at the temporary name.
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        fault_point("write");
        write(&mut file)?;
        fault_point("sync");
        file.sync_all()?;
        fault_point("rename");
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Write a file the user named on the command line (`-o`): a device, a pipe or a socket there
/// (`-o /dev/null`, `-o /dev/stdout`) is what they asked to write to; anything else is replaced
/// whole with `write_atomic_with`.
pub fn write_user_output_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return write(&mut OpenOptions::new().write(true).open(path)?);
    }
    write_atomic_with(path, write)
}

/// `.NAME.tmp-PID-NONCE`: the process that writes it, so a leftover of a dead one can be told
/// from a write in progress.
fn temporary_name(name: &str) -> String {
    let nonce =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!(".{name}.tmp-{}-{nonce}", std::process::id())
}

/// Remove `.NAME.tmp-PID-…` files beside `NAME` whose process is gone (killed between writing
/// and renaming). A live process's temporary file, this process's included, is left alone.
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id exists (on this machine).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Append `line` (and a newline) to `rel` below `root`: the folders on the way must stay inside
/// the workspace, and a link at `rel` is followed only to a file inside it.
pub fn append_line_in_workspace(root: &Path, rel: impl AsRef<Path>, line: &str) -> io::Result<()> {
    let path = writable_in_workspace(root, rel.as_ref())?;
    let target = match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_symlink() => match resolve_inside(root, &path) {
            Ok(real) => real,
            Err(ReadError::Missing) => {
                return Err(io::Error::other(format!(
                    "{} is a symbolic link to a missing file: appending would create its target; put a regular file there",
                    path.display()
                )))
            }
            Err(e) => return Err(io::Error::other(format!("{} {e}", path.display()))),
        },
        _ => path,
    };
    append_line(&target, line)
}

/// Append `line` as one whole line with one write on a file opened for appending: earlier lines
/// are never rewritten. A final symbolic link is never followed and anything but a regular file
/// (a FIFO, a device) is refused. A torn last line (an earlier crash) is closed off first, so
/// this line stays a line of its own.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        fault_point("mkdir");
        std::fs::create_dir_all(dir)?;
    }
    fault_point("append-open");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::other(format!(
                    "{} is a symbolic link: it is appended to only as a regular file, never through a link",
                    path.display()
                ))
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "{} is {}, not a regular file: nothing was appended",
            path.display(),
            kind_of(&meta.file_type())
        )));
    }
    let len = meta.len();
    let mut record = String::with_capacity(line.len() + 2);
    if len > 0 {
        use std::io::{Seek, SeekFrom};
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            record.push('\n');
        }
    }
    record.push_str(line);
    record.push('\n');
    fault_point("append-write");
    file.write_all(record.as_bytes())?;
    fault_point("append-sync");
    file.sync_data()
}

/// Remove a file, as a step that fault injection can interrupt.
pub fn remove_file(path: &Path) -> io::Result<()> {
    fault_point("remove");
    std::fs::remove_file(path)
}

/// Crash points for the kill-9 tests, in debug builds only: with
/// `CONCORD_FAULT_AT=<step>:<n>` the process kills itself (SIGKILL, as `kill -9` would) just
/// before the n-th file-system change named `step` (`*` counts every step). The steps are
/// `mkdir`, `create`, `write`, `sync`, `rename`, `append-open`, `append-write`, `append-sync`,
/// `remove`, `link`. Release builds compile this to nothing.
#[cfg(debug_assertions)]
pub fn fault_point(step: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PLAN: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static SEEN: AtomicU64 = AtomicU64::new(0);
    let plan = PLAN.get_or_init(|| {
        let value = std::env::var("CONCORD_FAULT_AT").ok()?;
        let (name, n) = value.rsplit_once(':')?;
        Some((name.to_string(), n.parse().ok()?))
    });
    if let Some((name, n)) = plan {
        if (name == "*" || name == step) && SEEN.fetch_add(1, Ordering::SeqCst) + 1 == *n {
            // SAFETY: sending SIGKILL to this very process; nothing after it runs.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn fault_point(_step: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_replaced_whole_and_a_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b.json");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1, "no temporary file left");

        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_in_workspace(dir.path(), "link.json", b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file(), "the link itself was replaced");
    }

    #[test]
    fn user_outputs_may_be_devices() {
        write_user_output_with(Path::new("/dev/null"), |w| w.write_all(b"x")).unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file(), "/dev/null is still a device");
    }

    #[test]
    fn reads_refuse_devices_links_out_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::os::unix::fs::symlink("/dev/zero", root.join("zero")).unwrap();
        assert!(matches!(read_in_workspace(root, "zero", 1 << 20), Err(ReadError::OutsideWorkspace(_))));
        assert!(matches!(read_regular(Path::new("/dev/zero"), 1 << 20), Err(ReadError::NotRegular(_))));
        std::fs::write(root.join("real"), "0123456789").unwrap();
        std::os::unix::fs::symlink("real", root.join("inside")).unwrap();
        assert_eq!(read_in_workspace(root, "inside", 10).unwrap(), b"0123456789");
        assert!(matches!(read_in_workspace(root, "real", 9), Err(ReadError::TooLarge(9))));
        assert!(matches!(read_in_workspace(root, "absent", 9), Err(ReadError::Missing)));
        assert!(matches!(read_regular(&root.join("inside"), 10), Err(ReadError::NotRegular(_))));
    }

    #[test]
    fn appends_refuse_links_out_and_follow_links_in() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("notes.md");
        std::fs::write(&victim, "mine\n").unwrap();
        std::os::unix::fs::symlink(&victim, root.join("out.md")).unwrap();
        let err = append_line_in_workspace(root, "out.md", "x").unwrap_err();
        assert!(err.to_string().contains("outside the workspace"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine\n");
        std::os::unix::fs::symlink(outside.path().join("new.md"), root.join("dangling.md")).unwrap();
        assert!(append_line_in_workspace(root, "dangling.md", "x").is_err());
        assert!(!outside.path().join("new.md").exists());
        assert!(append_line(&root.join("out.md"), "x").is_err(), "no link is followed without a root");

        std::fs::write(root.join("log.md"), "a").unwrap();
        std::os::unix::fs::symlink("log.md", root.join("alias.md")).unwrap();
        append_line_in_workspace(root, "alias.md", "b").unwrap();
        assert_eq!(std::fs::read_to_string(root.join("log.md")).unwrap(), "a\nb\n");
    }

    #[test]
    fn stale_temporaries_of_dead_processes_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.path().join(format!(".x.json.tmp-{dead}-1"));
        let live = dir.path().join(format!(".x.json.tmp-{}-2", std::process::id()));
        let other = dir.path().join(format!(".y.json.tmp-{dead}-3"));
        for path in [&stale, &live, &other] {
            std::fs::write(path, "t").unwrap();
        }
        write_atomic(&dir.path().join("x.json"), b"{}").unwrap();
        assert!(!stale.exists() && live.exists() && other.exists());
    }
}
