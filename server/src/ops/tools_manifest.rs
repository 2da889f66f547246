//! The tools manifest (`paths.tools_manifest`, default ops/tools-manifest.jsonl): one line per
//! dispatch saying which agent CLI ran, at which version, with which model, MCP servers and
//! flags, so a run's result can be traced to the tools that produced it (a CLI upgrade that
//! starts failing every run shows up as a version change between lines).

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::agents::{self, AgentCli, McpHandoff};
use crate::formats::{McpServerHandedOver, ToolsManifestEntry};
use crate::workspace::Workspace;

/// How long `<cli> --version` may take: the dispatch waits for it.
const VERSION_TIMEOUT: Duration = Duration::from_secs(5);

/// What is written when the version cannot be told.
pub const UNKNOWN: &str = "unknown";

/// Append the line of one dispatch. `decision` is the dispatch's model-decisions record (its
/// time, run, task, agent, CLI and model); `argv` the command line the agent is started with,
/// `instruction` the task text in it, which is left out.
pub fn append(
    ws: &Workspace,
    decision: &Value,
    cli: &AgentCli,
    mcp: bool,
    argv: &[String],
    instruction: &str,
) -> std::io::Result<()> {
    let text = |key: &str| decision[key].as_str().unwrap_or_default().to_string();
    let run = text("run");
    // Run in the run's own folder: a CLI that ignores `--version` and starts working touches
    // nothing of the project.
    let version = match argv.first() {
        Some(program) => version(program, &agents::run_dir(&ws.root, &run)),
        None => UNKNOWN.to_string(),
    };
    let entry = entry(decision, cli, mcp, argv, instruction, version);
    let line = serde_json::to_string(&entry).expect("a manifest entry serializes");
    crate::fsutil::append_line_in_workspace(
        &ws.root,
        &ws.config.paths.tools_manifest,
        &super::scrub::text(&line),
    )
}

/// The entry, from what dispatch knows and the version found.
pub fn entry(
    decision: &Value,
    cli: &AgentCli,
    mcp: bool,
    argv: &[String],
    instruction: &str,
    cli_version: String,
) -> ToolsManifestEntry {
    let text = |key: &str| decision[key].as_str().unwrap_or_default().to_string();
    ToolsManifestEntry {
        at: text("at"),
        run: text("run"),
        task_id: text("task_id"),
        agent: text("agent"),
        cli: text("cli"),
        cli_version,
        model: decision["model"].as_str().filter(|m| !m.is_empty()).map(str::to_string),
        mcp_servers: match (mcp, handoff_name(cli.mcp)) {
            (true, Some(handoff)) => {
                vec![McpServerHandedOver { name: "concord".into(), handoff: handoff.into() }]
            }
            _ => Vec::new(),
        },
        flags: argv.iter().skip(1).filter(|a| a.as_str() != instruction).cloned().collect(),
    }
}

/// The name `[agents.NAME] mcp` gives a handoff; `None` when nothing can be handed over.
fn handoff_name(handoff: McpHandoff) -> Option<&'static str> {
    match handoff {
        McpHandoff::None => None,
        McpHandoff::CursorProject => Some("cursor-project"),
        McpHandoff::ConfigFile => Some("config-file"),
        McpHandoff::CodexOverrides => Some("codex-overrides"),
    }
}

/// The first line `<program> --version` prints, or [`UNKNOWN`] when it fails, says nothing or
/// takes longer than a few seconds.
pub fn version(program: &str, cwd: &Path) -> String {
    let never = Arc::new(AtomicBool::new(false));
    let argv = [program.to_string(), "--version".to_string()];
    match agents::run(&argv, cwd, &agents::RunOptions::new(VERSION_TIMEOUT, &never)) {
        Ok(done) if done.exit_code == Some(0) && !done.timed_out => {
            first_line(&done.stdout).or_else(|| first_line(&done.stderr)).unwrap_or_else(|| UNKNOWN.into())
        }
        _ => UNKNOWN.into(),
    }
}

/// The first line with text, trimmed and kept short.
fn first_line(output: &str) -> Option<String> {
    let line = output.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_entry_keeps_the_flags_and_leaves_the_instruction_out() {
        let cli = agents::preset("claude").unwrap();
        let decision = json!({
            "at": "2026-12-05T20:00:00Z", "task_id": "WBS-005", "agent": "A1", "cli": "claude",
            "model": "claude-sonnet-4-5", "reason": "…", "run": "WBS-005-20261205T200000Z",
        });
        let instruction = "Read the task file /w/.concord/runs/R/task.md and do exactly what it says.";
        let argv: Vec<String> = ["claude", "-p", instruction, "--model", "claude-sonnet-4-5"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = entry(&decision, &cli, true, &argv, instruction, "2.0.1 (Claude Code)".into());
        assert_eq!(e.flags, ["-p", "--model", "claude-sonnet-4-5"]);
        assert_eq!(e.model.as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(
            e.mcp_servers,
            [McpServerHandedOver { name: "concord".into(), handoff: "config-file".into() }]
        );
        assert_eq!(
            (e.run.as_str(), e.task_id.as_str(), e.agent.as_str()),
            ("WBS-005-20261205T200000Z", "WBS-005", "A1")
        );
        // No model set and no MCP server handed over.
        let e = entry(&json!({ "model": null }), &cli, false, &argv, instruction, UNKNOWN.into());
        assert_eq!((e.model, e.mcp_servers.len()), (None, 0));
    }

    #[test]
    fn the_version_is_the_first_line_printed_or_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(version("/nonexistent/agent-cli", dir.path()), UNKNOWN);
        assert_eq!(version("false", dir.path()), UNKNOWN);
        assert_eq!(
            first_line("\n  cursor-agent 2025.11.25  \nbuilt by …\n").as_deref(),
            Some("cursor-agent 2025.11.25")
        );
        assert_eq!(first_line(" \n"), None);
    }
}
