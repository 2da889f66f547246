//! Agent CLIs: how each is started (an argument vector, never a shell), how its flags are
//! checked against its own `--help` before it runs, and how its result is judged.
//!
//! Success is exit code 0 AND a parsed final result record AND that record saying success:
//! Claude Code can say `subtype: "success"` with `is_error: true`; aider exits 0 even when every
//! model call failed, so it is judged by the diff and the tests instead.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How a run's output says whether it worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judge {
    /// A JSON result object on stdout (`cursor-agent`, `claude -p --output-format json`).
    JsonResult,
    /// JSONL events, and the last message written to a file (`codex exec --json -o FILE`).
    CodexEvents,
    /// No result record: the diff must be non-empty and the item's tests must pass (aider).
    DiffAndTests,
    /// Exit code 0 only (custom tools that promise nothing more): the default of `[agents.NAME]`.
    #[default]
    ExitCode,
}

/// How a CLI is handed Concord's MCP server for a run (`[dispatch] mcp = true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum McpHandoff {
    /// The CLI has no MCP client (aider): `[dispatch] mcp = true` refuses to start it.
    #[default]
    None,
    /// The CLI reads the project's `.cursor/mcp.json` (cursor-agent): Concord merges its entry
    /// in for the run and puts the file back as it was afterwards.
    CursorProject,
    /// The CLI reads a configuration file named on its command line: `{mcp_config_file}` in
    /// `mcp_args` (Claude Code's `--mcp-config`; custom agents) is a JSON file
    /// `{"mcpServers": {"concord": {command, args, env}}}` in the run's folder.
    ConfigFile,
    /// `-c mcp_servers.concord.…` overrides on the command line (`codex exec`).
    CodexOverrides,
}

/// An agent CLI: the command line with placeholders, the help command, the judge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCli {
    /// `{model}`, `{task_file}`, `{instruction}`, `{last_message_file}` are replaced; an
    /// argument that is exactly `{model}` is dropped with the flag before it when no model is set.
    pub argv: Vec<String>,
    /// The command that prints the CLI's flags; `[agents.NAME]` without one gets
    /// `[<argv's program>, "--help"]`.
    #[serde(default)]
    pub help: Vec<String>,
    #[serde(default)]
    pub judge: Judge,
    /// Send the task text on standard input.
    #[serde(default)]
    pub stdin: bool,
    /// Flags passed only when the CLI's `--help` defines them (newer builds need them, older
    /// ones refuse them), inserted before the first flag of `argv`.
    #[serde(default)]
    pub when_defined: Vec<String>,
    /// How the CLI gets Concord's MCP server when `[dispatch] mcp = true`.
    #[serde(default)]
    pub mcp: McpHandoff,
    /// Arguments inserted before the first flag of `argv` when the MCP server is handed over
    /// (placeholder `{mcp_config_file}`); checked against the help like every other flag.
    #[serde(default)]
    pub mcp_args: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The built-in presets, with flags each CLI documents. Only the names in [`PRESETS`] resolve.
pub fn preset(name: &str) -> Option<AgentCli> {
    if !PRESETS.contains(&name) {
        return None;
    }
    let cli = match name {
        "cursor-agent" => AgentCli {
            argv: strings(&[
                "cursor-agent",
                "-p",
                "--output-format",
                "json",
                "--force",
                "--model",
                "{model}",
                "{instruction}",
            ]),
            help: strings(&["cursor-agent", "--help"]),
            judge: Judge::JsonResult,
            stdin: false,
            // Newer builds refuse to run outside a folder they were told to trust.
            when_defined: strings(&["--trust"]),
            // A headless run uses project MCP servers only when told to approve them.
            mcp: McpHandoff::CursorProject,
            mcp_args: strings(&["--approve-mcps"]),
        },
        "claude" => AgentCli {
            argv: strings(&[
                "claude",
                "-p",
                "--output-format",
                "json",
                "--permission-mode",
                "acceptEdits",
                "--model",
                "{model}",
            ]),
            help: strings(&["claude", "--help"]),
            judge: Judge::JsonResult,
            stdin: true,
            when_defined: Vec::new(),
            // A print-mode run asks no one: the server's tools are allowed by name.
            mcp: McpHandoff::ConfigFile,
            mcp_args: strings(&["--mcp-config", "{mcp_config_file}", "--allowedTools", "mcp__concord"]),
        },
        "codex" => AgentCli {
            argv: strings(&[
                "codex",
                "exec",
                "--json",
                "--sandbox",
                "workspace-write",
                "-o",
                "{last_message_file}",
                "-m",
                "{model}",
                "{instruction}",
            ]),
            help: strings(&["codex", "exec", "--help"]),
            judge: Judge::CodexEvents,
            stdin: false,
            when_defined: Vec::new(),
            mcp: McpHandoff::CodexOverrides,
            mcp_args: Vec::new(),
        },
        "aider" => AgentCli {
            argv: strings(&["aider", "--message-file", "{task_file}", "--yes-always", "--model", "{model}"]),
            help: strings(&["aider", "--help"]),
            judge: Judge::DiffAndTests,
            stdin: false,
            // A failed run's changes are restored from the working tree: they must not be
            // committed behind Concord's back.
            when_defined: strings(&["--no-auto-commits"]),
            mcp: McpHandoff::None,
            mcp_args: Vec::new(),
        },
        _ => return None,
    };
    Some(cli)
}

/// The preset names the server knows, each the command it runs; the editor extensions offer
/// these (tests/it/generated.rs checks their manifests against this list).
pub const PRESETS: &[&str] = &["cursor-agent", "claude", "codex", "aider"];

pub struct Placeholders<'a> {
    pub model: &'a str,
    pub task_file: &'a str,
    pub instruction: &'a str,
    pub last_message_file: &'a str,
}

/// The argument vector with placeholders filled; `--model {model}` disappears when no model is set.
pub fn render_argv(cli: &AgentCli, values: &Placeholders) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for arg in &cli.argv {
        if arg == "{model}" && values.model.is_empty() {
            if out.last().is_some_and(|prev| prev.starts_with('-')) {
                out.pop();
            }
            continue;
        }
        out.push(
            arg.replace("{model}", values.model)
                .replace("{task_file}", values.task_file)
                .replace("{instruction}", values.instruction)
                .replace("{last_message_file}", values.last_message_file),
        );
    }
    out
}

/// Option lines are indented at most this much; descriptions (clap's long help at 10 columns,
/// argparse's at 24, Commander's aligned after the longest option) are indented further.
const MAX_OPTION_INDENT: usize = 8;

/// The flags a help text *defines*: those in the option column of its option lines, in the
/// formats of Commander (`  -f, --force  Force …`, `--model <model>`), clap (`  -m, --model
/// <MODEL>`, `      --json`), and argparse (`  --model MODEL, -m MODEL`, `--[no-]x`). A flag
/// merely mentioned in a description (`--yolo  Alias for --force`) is not defined.
pub fn defined_flags(help: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in help.lines() {
        let indent: usize =
            line.chars().take_while(|c| c.is_whitespace()).map(|c| if c == '\t' { 8 } else { 1 }).sum();
        let rest = line.trim_start();
        if indent > MAX_OPTION_INDENT || !rest.starts_with('-') {
            continue;
        }
        // The option column ends where the description starts: at two spaces or a tab.
        let column = rest.split("  ").next().unwrap_or("").split('\t').next().unwrap_or("");
        for word in column.split(' ').filter(|w| !w.is_empty()) {
            if word.starts_with('-') {
                for part in word.split(',').filter(|p| !p.is_empty()) {
                    add_flag(part, &mut out);
                }
            } else if !is_metavar(word) {
                // A word of prose after a single space: the description began.
                break;
            }
        }
    }
    out
}

/// `<MODEL>`, `[value]`, `{a,b}`, `MODEL`, `WEAK_MODEL`, `...`: a placeholder for a value.
fn is_metavar(word: &str) -> bool {
    let word = word.trim_end_matches(',');
    word.starts_with(['<', '[', '{', '('])
        || word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}

fn add_flag(part: &str, out: &mut BTreeSet<String>) {
    if let Some(name) = part.strip_prefix("--[no-]") {
        let name = flag_name(name);
        if !name.is_empty() {
            out.insert(format!("--{name}"));
            out.insert(format!("--no-{name}"));
        }
        return;
    }
    let dashes = if part.starts_with("--") { 2 } else { 1 };
    let name = flag_name(&part[dashes..]);
    if !name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        out.insert(format!("{}{name}", &part[..dashes]));
    }
}

/// The name part of a flag word: up to `=`, `[`, `<` or anything that cannot be in a name.
fn flag_name(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first flag in `argv` that the help text does not define, if any. (The users'
/// orchestrator once passed an invented `--max` and never noticed.)
pub fn unknown_flag(argv: &[String], defined: &BTreeSet<String>) -> Option<String> {
    argv.iter()
        .skip(1)
        .take_while(|a| a.as_str() != "--")
        .filter(|a| a.starts_with('-') && a.len() > 1 && !a[1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|arg| arg.split('=').next().unwrap_or(arg).to_string())
        .find(|flag| !defined.contains(flag))
}

/// `argv` with `args` inserted before its first flag (after the program and any subcommand).
pub fn insert_before_first_flag(argv: Vec<String>, args: Vec<String>) -> Vec<String> {
    if args.is_empty() {
        return argv;
    }
    let at = argv.iter().skip(1).position(|a| a.starts_with('-')).map_or(argv.len(), |p| p + 1);
    let mut out = argv;
    out.splice(at..at, args);
    out
}

/// `argv` with the CLI's `when_defined` flags that its help defines, before its first flag.
pub fn with_supported_flags(cli: &AgentCli, argv: Vec<String>, defined: &BTreeSet<String>) -> Vec<String> {
    let extra: Vec<String> = cli
        .when_defined
        .iter()
        .filter(|f| defined.contains(f.as_str()) && !argv.contains(f))
        .cloned()
        .collect();
    insert_before_first_flag(argv, extra)
}

/// What a finished (or stopped) process left.
#[derive(Debug)]
pub struct Finished {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub cancelled: bool,
    /// It printed a complete success result record, did not exit within the grace period, and
    /// its process group was ended: the run is judged by the record.
    pub stopped_after_record: bool,
}

/// Captured output is cut beyond this many bytes per stream.
const OUTPUT_CAP: usize = 32 * 1024 * 1024;

/// How a process is run besides its command line.
pub struct RunOptions<'a> {
    pub stdin: Option<&'a str>,
    pub timeout: Duration,
    /// Set from outside (a cancelled request, SIGINT/SIGTERM): the whole group is stopped.
    pub cancel: &'a Arc<AtomicBool>,
    pub env: &'a [(String, String)],
    /// After stdout holds a complete success result record, wait this long for the process to
    /// exit, then end its group (a known cursor-agent bug hangs after its final record).
    pub success_grace: Option<Duration>,
    /// Told the process id once the process started.
    pub on_start: Option<&'a dyn Fn(u32)>,
}

impl<'a> RunOptions<'a> {
    pub fn new(timeout: Duration, cancel: &'a Arc<AtomicBool>) -> RunOptions<'a> {
        RunOptions { stdin: None, timeout, cancel, env: &[], success_grace: None, on_start: None }
    }
}

/// Run `argv` in `cwd` in its own process group; a timeout or the cancel flag stops the whole
/// group.
pub fn run(argv: &[String], cwd: &Path, options: &RunOptions) -> Result<Finished, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let mut command = Command::new(program);
    command.args(args).current_dir(cwd).stdin(if options.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in options.env {
        command.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    crate::pages::as_the_system_sets_them(&mut command);
    let mut child = command.spawn().map_err(|e| format!("cannot start {program}: {e}"))?;
    if let Some(on_start) = options.on_start {
        on_start(child.id());
    }
    if let (Some(text), Some(mut stdin)) = (options.stdin, child.stdin.take()) {
        let text = text.to_string();
        std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let read = |stream: Option<Box<dyn Read + Send>>| {
        let buffer: Arc<Mutex<Vec<u8>>> = Arc::default();
        let shared = buffer.clone();
        let handle = std::thread::spawn(move || {
            let Some(mut s) = stream else { return };
            let mut chunk = [0u8; 8192];
            loop {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut held = shared.lock().unwrap_or_else(|p| p.into_inner());
                        // Keep draining past the cap so the child never blocks on a full pipe.
                        let room = OUTPUT_CAP.saturating_sub(held.len());
                        held.extend_from_slice(&chunk[..n.min(room)]);
                    }
                }
            }
        });
        (buffer, handle)
    };
    let (out, out_thread) = read(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let (err, err_thread) = read(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let started = Instant::now();
    let (mut timed_out, mut cancelled, mut stopped_after_record) = (false, false, false);
    let mut record_seen_at: Option<Instant> = None;
    let mut scanned_len = 0;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if options.success_grace.is_some() && record_seen_at.is_none() {
            let held = out.lock().unwrap_or_else(|p| p.into_inner());
            if held.len() != scanned_len {
                scanned_len = held.len();
                if holds_success_record(&held) {
                    record_seen_at = Some(Instant::now());
                }
            }
        }
        if let (Some(grace), Some(seen)) = (options.success_grace, record_seen_at) {
            stopped_after_record = seen.elapsed() > grace;
        }
        if started.elapsed() > options.timeout {
            timed_out = true;
        } else if options.cancel.load(Ordering::SeqCst) {
            cancelled = true;
        }
        if stopped_after_record || timed_out || cancelled {
            // A record seen before the timeout or a signal still counts: the run said it was done.
            if stopped_after_record {
                timed_out = false;
                cancelled = false;
            }
            kill_group(&mut child);
            break child.wait().map_err(|e| e.to_string())?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Grandchildren may hold the pipes open: the group is stopped when the leader exits too.
    kill_group(&mut child);
    let _ = out_thread.join();
    let _ = err_thread.join();
    let text = |buffer: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&buffer.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    };
    Ok(Finished {
        exit_code: status.code(),
        stdout: text(&out),
        stderr: text(&err),
        timed_out,
        cancelled,
        stopped_after_record,
    })
}

/// Whether complete stdout lines hold a terminal success result record.
fn holds_success_record(stdout: &[u8]) -> bool {
    let Some(end) = stdout.iter().rposition(|&b| b == b'\n') else { return false };
    String::from_utf8_lossy(&stdout[..end]).lines().rev().any(|line| {
        let line = line.trim();
        line.starts_with('{')
            && serde_json::from_str::<Value>(line).is_ok_and(|v| {
                v.get("type").and_then(Value::as_str) == Some("result")
                    && v.get("subtype").and_then(Value::as_str) == Some("success")
                    && v.get("is_error").and_then(Value::as_bool) != Some(true)
            })
    })
}

#[cfg(unix)]
extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

#[cfg(unix)]
fn kill_group(child: &mut std::process::Child) {
    const SIGKILL: i32 = 9;
    // SAFETY: kill(2) with a negative pid signals a process group; it reads no memory of ours.
    unsafe {
        kill(-(child.id() as i32), SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(child: &mut std::process::Child) {
    let _ = child.kill();
}

/// Whether process `pid` is running on this host (a zombie is not running).
#[cfg(unix)]
pub fn process_alive(pid: i64) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; no memory is read.
    let exists = unsafe { kill(pid, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(1 /* EPERM: exists, not ours */);
    if !exists {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}

#[cfg(not(unix))]
pub fn process_alive(_pid: i64) -> bool {
    true
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;
static RECEIVED_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// From now on SIGINT and SIGTERM do not end this process: they set the returned flag, so that
/// the run in progress stops its child's process group, records why and releases what it holds.
/// The exit status then says which signal it was (`received_signal`).
pub fn cancel_on_signals() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        for signal in [SIGINT, SIGTERM] {
            let flag = flag.clone();
            // SAFETY: the handler only stores into atomics, which is async-signal-safe.
            let _ = unsafe {
                signal_hook_registry::register(signal, move || {
                    RECEIVED_SIGNAL.store(signal, Ordering::SeqCst);
                    flag.store(true, Ordering::SeqCst);
                })
            };
        }
        flag
    })
    .clone()
}

/// The signal that set the `cancel_on_signals` flag, with its name.
pub fn received_signal() -> Option<(i32, &'static str)> {
    match RECEIVED_SIGNAL.load(Ordering::SeqCst) {
        SIGINT => Some((SIGINT, "SIGINT")),
        SIGTERM => Some((SIGTERM, "SIGTERM")),
        _ => None,
    }
}

/// The help text of a CLI (stdout and stderr: some print help on either).
pub fn help_text(cli: &AgentCli, cwd: &Path, cancel: &Arc<AtomicBool>) -> Result<String, String> {
    let finished = run(&cli.help, cwd, &RunOptions::new(Duration::from_secs(20), cancel))?;
    if finished.cancelled {
        return Err(format!("`{}` was interrupted", cli.help.join(" ")));
    }
    if finished.timed_out {
        return Err(format!("`{}` did not finish in 20 s", cli.help.join(" ")));
    }
    Ok(format!("{}\n{}", finished.stdout, finished.stderr))
}

/// The verdict on a finished run, with the reason in words.
pub fn judge(cli: &AgentCli, finished: &Finished, last_message_file: &Path) -> Result<String, String> {
    if finished.timed_out {
        return Err(
            "the agent ran past the timeout and was stopped (its whole process group was killed)".into()
        );
    }
    if finished.cancelled {
        return Err(match received_signal() {
            Some((_, name)) => {
                format!("Concord received {name} during the run and stopped the agent's whole process group")
            }
            None => "the run was cancelled and the agent's whole process group was stopped".into(),
        });
    }
    match finished.exit_code {
        _ if finished.stopped_after_record => {}
        Some(0) => {}
        Some(code) => {
            return Err(format!("the agent exited with code {code}: {}", error_excerpt(&finished.stderr)))
        }
        None => return Err("the agent was killed by a signal".into()),
    }
    match cli.judge {
        Judge::ExitCode => Ok("exit code 0".into()),
        Judge::DiffAndTests => Ok("exit code 0; to be judged by its diff and tests".into()),
        Judge::JsonResult => {
            let record = last_json_object(&finished.stdout).ok_or(
                "exit code 0 but no JSON result record on stdout: the run cannot be trusted as a success",
            )?;
            if record.get("is_error").and_then(Value::as_bool) == Some(true) {
                return Err(format!(
                    "the result record says is_error: true (subtype {:?}): {}",
                    record.get("subtype").and_then(Value::as_str).unwrap_or(""),
                    record.get("result").and_then(Value::as_str).map(error_excerpt).unwrap_or_default()
                ));
            }
            match record.get("subtype").and_then(Value::as_str) {
                Some("success") if finished.stopped_after_record => Ok(format!(
                    "a success result record, after which the agent did not exit; its process group was ended {} s later",
                    SUCCESS_GRACE.as_secs()
                )),
                Some("success") => Ok("exit code 0 and a success result record".into()),
                other => Err(format!("the result record does not say success (subtype {other:?})")),
            }
        }
        Judge::CodexEvents => {
            let failed =
                finished.stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|event| {
                    let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
                    kind == "error" || kind.ends_with(".failed")
                });
            if let Some(event) = failed {
                return Err(format!(
                    "the agent reported a failure event: {}",
                    event.get("type").and_then(Value::as_str).unwrap_or("")
                ));
            }
            match std::fs::read_to_string(last_message_file) {
                Ok(text) if !text.trim().is_empty() => Ok("exit code 0 and a final message".into()),
                _ => Err(
                    "exit code 0 but no final message was written: the run cannot be trusted as a success"
                        .into(),
                ),
            }
        }
    }
}

fn last_json_object(stdout: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(stdout.trim()) {
        if value.is_object() {
            return Some(value);
        }
    }
    stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(|v| v.get("type").and_then(Value::as_str) == Some("result"))
}

/// How long a CLI that printed its final success record may take to exit.
pub const SUCCESS_GRACE: Duration = Duration::from_secs(2);

/// What a failure message keeps of an error stream: the first error line (the cause, such as
/// "unknown option '--force'") and the last lines (where it ended, such as "For more
/// information, try '--help'."), each cut to a readable length.
pub fn error_excerpt(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return "(nothing on stderr)".into();
    }
    let looks_like_error = |line: &&str| {
        let lower = line.to_lowercase();
        ["error", "unknown", "invalid", "unrecognized", "unexpected", "fatal", "failed", "denied"]
            .iter()
            .any(|w| lower.contains(w))
    };
    let first = lines.iter().position(looks_like_error).unwrap_or(0);
    let tail_from = lines.len().saturating_sub(2).max(first + 1);
    let cut = |line: &str| -> String {
        if line.chars().count() > 240 {
            line.chars().take(240).collect::<String>() + "…"
        } else {
            line.to_string()
        }
    };
    let mut picked = vec![cut(lines[first])];
    if tail_from > first + 1 {
        picked.push("…".into());
    }
    picked.extend(lines[tail_from..].iter().map(|l| cut(l)));
    picked.join(" / ")
}

/// The agent CLI named in the configuration: a preset, or a custom `[agents.NAME]`.
pub fn resolve(
    name: &str,
    custom: &std::collections::BTreeMap<String, AgentCli>,
) -> Result<AgentCli, String> {
    custom.get(name).cloned().or_else(|| preset(name)).ok_or_else(|| {
        format!(
            "unknown agent CLI {name:?}: use a preset ({}) or define [agents.{name}] in concord.toml",
            PRESETS.join(", ")
        )
    })
}

pub fn run_dir(root: &Path, run_id: &str) -> PathBuf {
    root.join(".concord/runs").join(run_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commander (cursor-agent, claude): `-x, --long <value>` then the description after two
    /// spaces or more; an older cursor-agent build without `--force`.
    const COMMANDER_HELP: &str = "Usage: cursor-agent [options] [command] [prompt...]

Start the Cursor Agent

Arguments:
  prompt                       Initial prompt for the agent

Options:
  -v, --version                Output the version number
  -p, --print                  Print responses to the console (for scripts)
  --output-format <format>     Output format (only works with --print): text | json | stream-json
  -m, --model <model>          Model to use
  --yolo                       Alias for --force, run commands without asking
  --include-partial-messages   Emit partial messages (needs --print and --output-format stream-json)
  -h, --help                   display help for command
";

    /// clap (codex exec), long help: descriptions on the following lines at ten columns.
    const CLAP_HELP: &str = "Run Codex non-interactively

Usage: codex exec [OPTIONS] [PROMPT]

Arguments:
  [PROMPT]
          Initial instructions for the agent

Options:
  -m, --model <MODEL>
          Model the agent should use

      --full-auto
          Convenience alias for low-friction sandboxed automatic execution (-a on-request,
          --sandbox workspace-write)

      --json
          Print events to stdout as JSONL

  -o, --output-last-message <FILE>
          Specifies file where the last message from the agent should be written

  -h, --help
          Print help (see a summary with '-h')
";

    /// argparse (aider): `--flag METAVAR, -x METAVAR`, wrapped descriptions at 24 columns.
    const ARGPARSE_HELP: &str = "usage: aider [-h] [--weak-model WEAK_MODEL] [--yes-always]
             [--message-file MESSAGE_FILE] [--auto-commits | --no-auto-commits]

options:
  -h, --help            show this help message and exit
  --weak-model WEAK_MODEL
                        Specify the model to use for commit messages and chat
                        history summarization (default depends on --model)
  --message-file MESSAGE_FILE, -f MESSAGE_FILE
                        Specify a file containing the message to send the LLM
  --yes-always          Always say yes to every confirmation
  --auto-commits, --no-auto-commits
                        Enable/disable auto commit of LLM changes (default: True)
  --[no-]pretty         Enable/disable pretty output
  --edit-format {whole,diff,udiff}
                        Specify what edit format the LLM should use
";

    fn defined(help: &str) -> BTreeSet<String> {
        defined_flags(help)
    }

    #[test]
    fn commander_flags_are_the_option_column_only() {
        let flags = defined(COMMANDER_HELP);
        for flag in ["-p", "--print", "--output-format", "-m", "--model", "--yolo", "-h", "--help"] {
            assert!(flags.contains(flag), "{flag} is defined: {flags:?}");
        }
        // Mentioned only inside descriptions.
        assert!(!flags.contains("--force"), "{flags:?}");
        assert!(!flags.contains("--stream-json"));
        let argv = strings(&["cursor-agent", "-p", "--output-format", "json", "--force", "do it"]);
        assert_eq!(unknown_flag(&argv, &flags), Some("--force".into()));
        let argv = strings(&["cursor-agent", "-p", "--output-format", "json", "--model", "x", "hello"]);
        assert_eq!(unknown_flag(&argv, &flags), None);
        assert_eq!(unknown_flag(&strings(&["x", "--max"]), &flags), Some("--max".into()));
        // A prefix of a real flag is not that flag.
        assert_eq!(unknown_flag(&strings(&["x", "--out"]), &flags), Some("--out".into()));
        assert_eq!(unknown_flag(&strings(&["x", "--model=y"]), &flags), None);
    }

    #[test]
    fn clap_flags_are_the_option_column_only() {
        let flags = defined(CLAP_HELP);
        for flag in ["-m", "--model", "--full-auto", "--json", "-o", "--output-last-message", "-h", "--help"]
        {
            assert!(flags.contains(flag), "{flag}: {flags:?}");
        }
        assert!(!flags.contains("--sandbox"), "mentioned in --full-auto's description: {flags:?}");
        assert!(!flags.contains("-a"));
        let argv = preset("codex").unwrap().argv;
        assert_eq!(unknown_flag(&argv, &flags), Some("--sandbox".into()));
    }

    #[test]
    fn argparse_flags_are_the_option_column_only() {
        let flags = defined(ARGPARSE_HELP);
        for flag in [
            "-h",
            "--help",
            "--weak-model",
            "--message-file",
            "-f",
            "--yes-always",
            "--auto-commits",
            "--no-auto-commits",
            "--pretty",
            "--no-pretty",
            "--edit-format",
        ] {
            assert!(flags.contains(flag), "{flag}: {flags:?}");
        }
        assert!(!flags.contains("--model"), "mentioned in --weak-model's description: {flags:?}");
        let aider = preset("aider").unwrap();
        let values =
            Placeholders { model: "gpt-5", task_file: "t.md", instruction: "", last_message_file: "" };
        let argv = with_supported_flags(&aider, render_argv(&aider, &values), &flags);
        assert!(argv.contains(&"--no-auto-commits".to_string()), "{argv:?}");
        assert_eq!(unknown_flag(&argv, &flags), Some("--model".into()));
    }

    #[test]
    fn optional_flags_are_passed_only_when_defined() {
        let cursor = preset("cursor-agent").unwrap();
        let values = Placeholders { model: "", task_file: "t", instruction: "do it", last_message_file: "m" };
        let argv = render_argv(&cursor, &values);
        assert_eq!(with_supported_flags(&cursor, argv.clone(), &defined(COMMANDER_HELP)), argv);
        let newer = format!("{COMMANDER_HELP}  --trust                      Trust the current workspace\n");
        let with_trust = with_supported_flags(&cursor, argv, &defined(&newer));
        assert_eq!(&with_trust[..3], &strings(&["cursor-agent", "--trust", "-p"])[..]);
    }

    #[test]
    fn prose_after_a_single_space_ends_the_option_column() {
        let flags = defined("Options:\n  --yolo Alias for --force\n  -x, --extra\tMore, see --other\n");
        assert_eq!(flags, ["--yolo", "-x", "--extra"].iter().map(|s| s.to_string()).collect());
    }

    #[test]
    fn error_excerpts_keep_the_cause_and_the_end() {
        let stderr = "working on WBS-001\nerror: unexpected argument '--force' found\n\n  tip: a similar argument exists: '--full-auto'\n\nUsage: codex exec [OPTIONS] [PROMPT]\n\nFor more information, try '--help'.\n";
        let excerpt = error_excerpt(stderr);
        assert!(excerpt.starts_with("error: unexpected argument '--force' found"), "{excerpt}");
        assert!(excerpt.ends_with("For more information, try '--help'."), "{excerpt}");
        assert_eq!(error_excerpt(""), "(nothing on stderr)");
    }

    #[test]
    fn model_placeholder_disappears_with_its_flag() {
        let cli = preset("cursor-agent").unwrap();
        let values =
            Placeholders { model: "", task_file: "t.md", instruction: "do it", last_message_file: "m" };
        assert_eq!(
            render_argv(&cli, &values),
            strings(&["cursor-agent", "-p", "--output-format", "json", "--force", "do it"])
        );
        let values = Placeholders { model: "gpt-5", ..values };
        assert!(render_argv(&cli, &values).windows(2).any(|w| w == ["--model", "gpt-5"]));
    }
}
