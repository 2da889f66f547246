//! A real editor against the real server: Debian's Neovim, headless, runs
//! `tests/nvim/lsp_test.lua`, which starts `concord lsp` on the demo workspace, opens its files,
//! hovers an ID, goes to its definition, completes an ID and reads the diagnostics Neovim stored.
//!
//! Neovim is required, not optional: CI installs it (`apt-get install -y neovim`), and a missing
//! `nvim` fails this test rather than skipping it.

use crate::common;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The whole session normally takes a few seconds; the script's own waits are 30 s each.
const TIMEOUT: Duration = Duration::from_secs(60);

fn nvim_version() -> String {
    match Command::new("nvim").arg("--version").stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => {
            String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string()
        }
        Ok(out) => {
            panic!("`nvim --version` failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr))
        }
        Err(e) => panic!(
            "Neovim is required for this test and `nvim` could not be run ({e}). \
             Install it: `apt-get install -y neovim` (Debian's package, 0.7.2 or newer)."
        ),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for the child, or kills its whole process group (Neovim and the server it started)
/// once the deadline passes. `None` means it was killed.
fn wait_or_kill(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for nvim") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_if_exists(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn neovim_hovers_defines_completes_and_shows_diagnostics() {
    let version = nvim_version();
    let root = common::repo_root();
    let script = root.join("tests/nvim/lsp_test.lua");
    let workspace = common::demo();
    assert!(script.exists(), "{} is missing", script.display());
    let before = common::snapshot(&workspace);

    // Neovim's own state (its log, and the LSP log that receives the server's stderr) goes to a
    // temporary home, never to the user's.
    let home = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .current_dir(&root)
        .env("CONCORD_BIN", env!("CARGO_BIN_EXE_concord"))
        .env("WORKSPACE", &workspace)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env_remove("CONCORD_AGENT")
        .env_remove("NVIM_LISTEN_ADDRESS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("nvim starts");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait_or_kill(&mut child, TIMEOUT);
    let elapsed = started.elapsed();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();

    let report = format!(
        "{version}, {:.1} s\n--- nvim stdout ---\n{stdout}--- nvim stderr ---\n{stderr}\
         --- lsp.log (the server's stderr) ---\n{}",
        elapsed.as_secs_f64(),
        read_if_exists(&home.path().join("cache/nvim/lsp.log"))
    );
    match status {
        None => panic!("nvim did not finish within {} s and was killed\n{report}", TIMEOUT.as_secs()),
        Some(status) if status.code() != Some(0) => panic!("nvim exited with {status}\n{report}"),
        Some(_) => {}
    }
    assert!(stdout.contains("all checks passed"), "the script did not report success\n{report}");
    assert!(common::snapshot(&workspace) == before, "the editor session changed files in the demo workspace");
    println!("{report}");
}
