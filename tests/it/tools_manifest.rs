//! ops/tools-manifest.jsonl: every dispatch appends which agent CLI ran, its version, the
//! model, the MCP servers handed over and the flags, without the task's instruction; checked
//! against docs/schemas/tools-manifest.schema.json.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{self, fakes, git};

const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Feature", "phase": "P1", "scope_paths": ["src/feature/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "low"},
  {"id": "WBS-002", "title": "Search", "phase": "P1", "scope_paths": ["src/search/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "low"}
]}"#;

const CONFIG: &str = r#"[dispatch]
agent_cli = "claude"
model = "sonnet-x"
timeout = "30s"
mcp = true

[agents.old-claude]
argv = ["old-claude", "-p", "--output-format", "json", "{instruction}"]
judge = "json-result"
mcp = "config-file"
mcp_args = ["--mcp-config", "{mcp_config_file}"]
"#;

fn dispatch(root: &Path, bin: &Path, config_home: &Path, args: &[&str], mode: &str) -> Output {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
    command.args(args);
    if args[0] != "trust" {
        command.args(["-C", root.to_str().unwrap()]);
    }
    command
        .env("PATH", path)
        .env("XDG_CONFIG_HOME", config_home)
        .env("FAKE_MODE", mode)
        .env_remove("CONCORD_AGENT")
        .env_remove("CONCORD_TRUST")
        .output()
        .unwrap()
}

#[test]
fn every_dispatch_appends_the_cli_its_version_model_mcp_servers_and_flags() {
    let dir = common::workspace(&[
        ("concord.toml", CONFIG.as_bytes()),
        ("ops/wbs.json", WBS.as_bytes()),
        ("src/feature/app.py", b"print('app')\n"),
        (".gitignore", b".concord/\n"),
    ]);
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "start"]);
    let bin = tempfile::tempdir().unwrap();
    let flags =
        ["-p", "--output-format", "--model", "--permission-mode", "--mcp-config", "--allowedTools", "--help"];
    fakes::fake_agent(bin.path(), "claude", &flags);
    // A CLI that has no `--version`: it fails, and the manifest says `unknown`.
    let old = bin.path().join("old-claude");
    std::fs::write(
        &old,
        format!(
            "#!/bin/sh\n[ \"$1\" = \"--version\" ] && exit 1\nexec '{}' \"$@\"\n",
            bin.path().join("claude").display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let trusted = dispatch(root, bin.path(), home.path(), &["trust", root.to_str().unwrap()], "success");
    assert_eq!(trusted.status.code(), Some(0), "{}", common::stderr(&trusted));

    let out = dispatch(root, bin.path(), home.path(), &["dispatch", "WBS-001", "--agent", "A1"], "success");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    // A failed run is recorded too: the line is written when the run starts.
    let out = dispatch(
        root,
        bin.path(),
        home.path(),
        &["dispatch", "WBS-002", "--agent", "A2", "--cli", "old-claude", "--model", ""],
        "fail-exit",
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));

    let text = std::fs::read_to_string(root.join("ops/tools-manifest.jsonl")).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    let schema = common::repo_root().join("docs/schemas/tools-manifest.schema.json");
    for line in &lines {
        let errors = common::validate(&schema, line);
        assert!(errors.is_empty(), "{errors:?}\n{line}");
    }
    let decisions = std::fs::read_to_string(root.join("ops/model-decisions.jsonl")).unwrap();
    let first_decision: Value = serde_json::from_str(decisions.lines().next().unwrap()).unwrap();

    let first = &lines[0];
    assert_eq!(
        (first["task_id"].as_str(), first["agent"].as_str(), first["cli"].as_str()),
        (Some("WBS-001"), Some("A1"), Some("claude"))
    );
    assert_eq!(
        (&first["run"], &first["at"]),
        (&first_decision["run"], &first_decision["at"]),
        "the same dispatch as the model decision"
    );
    assert_eq!(first["cli_version"], "claude 1.2.3", "the first line of `claude --version`");
    assert_eq!(first["model"], "sonnet-x");
    assert_eq!(first["mcp_servers"], serde_json::json!([{ "name": "concord", "handoff": "config-file" }]));
    let flags: Vec<&str> = first["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(&flags[..3], ["--mcp-config", flags[1], "--allowedTools"], "{flags:?}");
    assert!(
        flags.ends_with(&[
            "-p",
            "--output-format",
            "json",
            "--permission-mode",
            "acceptEdits",
            "--model",
            "sonnet-x"
        ]),
        "{flags:?}"
    );

    let second = &lines[1];
    assert_eq!(
        (second["cli"].as_str(), second["cli_version"].as_str()),
        (Some("old-claude"), Some("unknown"))
    );
    assert_eq!(second["model"], Value::Null, "no model was passed");
    let flags: Vec<&str> = second["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(flags[0], "--mcp-config");
    assert!(flags[1].ends_with("/mcp.json"), "{flags:?}");
    assert_eq!(flags[2..], ["-p", "--output-format", "json"], "the instruction is left out");
    assert!(!text.contains("Read the task file"), "{text}");
}
