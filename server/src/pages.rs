//! Memory pages. Transparent huge pages: off for Concord itself, as the system sets them for
//! what it starts. And freed memory handed back after a big load ([`return_freed_memory`]).
//!
//! mimalloc advises huge pages for its arenas. A scan frees and refills them batch after batch,
//! and every refault of a huge page makes the kernel zero 2 MiB: on a 47,000-file item-level
//! check that was about 4 s of system time and 40 MB of peak memory. The setting is inherited
//! across `exec`, so the processes Concord starts (agents, test commands) get the system's
//! setting back.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether [`turn_off_huge_pages`] changed the setting (it was on when Concord started).
static TURNED_OFF: AtomicBool = AtomicBool::new(false);

/// Turns transparent huge pages off for this process (Linux; elsewhere it does nothing).
pub fn turn_off_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with these arguments reads and sets one flag of this process.
    unsafe {
        if libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) == 0
            && libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
        {
            TURNED_OFF.store(true, Ordering::Relaxed);
        }
    }
}

/// Hands the memory the allocator keeps for reuse back to the system. A language server's load
/// frees much more than it keeps (the texts read, every file's findings made once for their
/// summaries), and mimalloc holds the freed pages of threads that have finished.
pub fn return_freed_memory() {
    // SAFETY: mi_collect walks the allocator's own structures only.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Makes `command`'s process start with the setting Concord itself started with.
pub fn as_the_system_sets_them(command: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    if TURNED_OFF.load(Ordering::Relaxed) {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches nothing but the child's own flag.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0);
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn huge_pages_line(status: &str) -> Option<String> {
        status.lines().find(|line| line.starts_with("THP_enabled:")).map(str::to_string)
    }

    #[test]
    fn off_here_and_as_before_in_started_processes() {
        let Some(before) = huge_pages_line(&std::fs::read_to_string("/proc/self/status").unwrap()) else {
            return; // a kernel that does not report the flag
        };
        turn_off_huge_pages();
        let now = huge_pages_line(&std::fs::read_to_string("/proc/self/status").unwrap()).unwrap();
        assert!(now.ends_with('0'), "{now}");
        let mut command = std::process::Command::new("cat");
        command.arg("/proc/self/status");
        as_the_system_sets_them(&mut command);
        let child = String::from_utf8(command.output().unwrap().stdout).unwrap();
        assert_eq!(huge_pages_line(&child), Some(before));
    }
}
