//! Agent CLIs: how each is started (an argument vector, never a shell), how its flags are
//! checked against its own `--help` before it runs, and how its result is judged.
//!
//! Success is exit code 0 AND a parsed final result record AND that record saying success:
//! Claude Code can say `subtype: "success"` with `is_error: true`; aider exits 0 even when every
//! model call failed, so it is judged by the diff and the tests instead.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How a run's output says whether it worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judge {
    /// A JSON result object on stdout (`cursor-agent`, `claude -p --output-format json`).
    JsonResult,
    /// JSONL events, and the last message written to a file (`codex exec --json -o FILE`).
    CodexEvents,
    /// No result record: the diff must be non-empty and the item's tests must pass (aider).
    DiffAndTests,
    /// Exit code 0 only (custom tools that promise nothing more).
    ExitCode,
}

/// An agent CLI: the command line with placeholders, the help command, the judge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCli {
    /// `{model}`, `{task_file}`, `{instruction}`, `{last_message_file}` are replaced; an
    /// argument that is exactly `{model}` is dropped with the flag before it when no model is set.
    pub argv: Vec<String>,
    /// The command that prints the CLI's flags.
    pub help: Vec<String>,
    pub judge: Judge,
    /// Send the task text on standard input.
    #[serde(default)]
    pub stdin: bool,
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
        },
        "aider" => AgentCli {
            argv: strings(&["aider", "--message-file", "{task_file}", "--yes-always", "--model", "{model}"]),
            help: strings(&["aider", "--help"]),
            judge: Judge::DiffAndTests,
            stdin: false,
        },
        _ => return None,
    };
    Some(cli)
}

/// The preset names the server knows, each the command it runs; the editor extensions offer
/// these (tests/generated.rs checks their manifests against this list).
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

/// Every flag in `argv` must appear in the CLI's own help text; the first that does not is
/// returned. (The users' orchestrator once passed an invented `--max` and never noticed.)
pub fn unknown_flag(argv: &[String], help_text: &str) -> Option<String> {
    argv.iter().skip(1).filter(|a| a.starts_with('-') && a.len() > 1).find_map(|arg| {
        let flag = arg.split('=').next().unwrap_or(arg);
        let listed = help_text.match_indices(flag).any(|(at, _)| {
            let before = help_text[..at].chars().next_back();
            let after = help_text[at + flag.len()..].chars().next();
            let boundary_before =
                before.is_none_or(|c| c.is_whitespace() || matches!(c, ',' | '[' | '(' | '|'));
            let boundary_after =
                after.is_none_or(|c| c.is_whitespace() || matches!(c, ',' | ']' | ')' | '=' | '<' | '|'));
            boundary_before && boundary_after
        });
        (!listed).then(|| flag.to_string())
    })
}

/// What a finished (or stopped) process left.
#[derive(Debug)]
pub struct Finished {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub cancelled: bool,
}

/// Captured output is cut beyond this many bytes per stream.
const OUTPUT_CAP: usize = 32 * 1024 * 1024;

/// Run `argv` in `cwd` in its own process group, with `stdin_text`, a wall-clock `timeout` and a
/// cancel flag; either stops the whole group.
pub fn run(
    argv: &[String],
    cwd: &Path,
    stdin_text: Option<&str>,
    timeout: Duration,
    cancel: &Arc<AtomicBool>,
    env: &[(String, String)],
) -> Result<Finished, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let mut command = Command::new(program);
    command.args(args).current_dir(cwd).stdin(if stdin_text.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|e| format!("cannot start {program}: {e}"))?;
    if let (Some(text), Some(mut stdin)) = (stdin_text, child.stdin.take()) {
        let text = text.to_string();
        std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let read = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut s) = stream {
                let _ = s.by_ref().take(OUTPUT_CAP as u64).read_to_end(&mut buf);
                // Keep draining so the child never blocks on a full pipe.
                let _ = std::io::copy(&mut s, &mut std::io::sink());
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = read(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err = read(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let started = Instant::now();
    let (mut timed_out, mut cancelled) = (false, false);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > timeout {
            timed_out = true;
        } else if cancel.load(Ordering::SeqCst) {
            cancelled = true;
        }
        if timed_out || cancelled {
            kill_group(&mut child);
            break child.wait().map_err(|e| e.to_string())?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Grandchildren may hold the pipes open: the group is stopped when the leader exits too.
    kill_group(&mut child);
    Ok(Finished {
        exit_code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
        cancelled,
    })
}

#[cfg(unix)]
fn kill_group(child: &mut std::process::Child) {
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
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

/// The help text of a CLI (stdout and stderr: some print help on either).
pub fn help_text(cli: &AgentCli, cwd: &Path) -> Result<String, String> {
    let never = Arc::new(AtomicBool::new(false));
    let finished = run(&cli.help, cwd, None, Duration::from_secs(20), &never, &[])?;
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
        return Err("the run was cancelled and the agent stopped".into());
    }
    match finished.exit_code {
        Some(0) => {}
        Some(code) => {
            return Err(format!("the agent exited with code {code}: {}", last_line(&finished.stderr)))
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
                    record.get("result").and_then(Value::as_str).map(last_line).unwrap_or_default()
                ));
            }
            match record.get("subtype").and_then(Value::as_str) {
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

fn last_line(text: &str) -> String {
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    line.chars().take(300).collect()
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

    #[test]
    fn flags_are_checked_against_the_help_text() {
        let help = "Usage: cursor-agent [options]\n  -p, --print  print\n  --output-format <format>\n  --model <model>\n  -f, --force\n";
        let argv = strings(&["cursor-agent", "-p", "--output-format", "json", "--model", "x", "hello"]);
        assert_eq!(unknown_flag(&argv, help), None);
        let invented = strings(&["cursor-agent", "-p", "--max"]);
        assert_eq!(unknown_flag(&invented, help), Some("--max".into()));
        // A prefix of a real flag is not that flag.
        assert_eq!(unknown_flag(&strings(&["x", "--out"]), help), Some("--out".into()));
        assert_eq!(unknown_flag(&strings(&["x", "--model=y"]), help), None);
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
