//! The MCP client configurations that start `concord mcp`: Cursor's `.cursor/mcp.json`, Claude
//! Code's `.mcp.json`, Codex's `[mcp_servers.concord]` in `.codex/config.toml`. Each is merged
//! into what is there (other servers and keys are kept; a file that cannot be read as its format
//! is refused, never overwritten) and written atomically; writing the same entry twice changes
//! nothing. `concord mcp install` and `concord dispatch` (with `[dispatch] mcp = true`) use these.

use std::path::Path;

use serde_json::{json, Map, Value};

/// The server's name in every client's configuration.
pub const SERVER_NAME: &str = "concord";

/// The largest client configuration file read for a merge.
const READ_CAP: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Cursor,
    Claude,
    Codex,
}

impl Client {
    /// The project-scoped file the client reads, relative to the workspace root.
    pub fn config_file(self) -> &'static str {
        match self {
            Client::Cursor => ".cursor/mcp.json",
            Client::Claude => ".mcp.json",
            Client::Codex => ".codex/config.toml",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Client::Cursor => "Cursor",
            Client::Claude => "Claude Code",
            Client::Codex => "Codex",
        }
    }
}

/// How the client starts the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub command: String,
    pub args: Vec<String>,
    /// Environment for the server (CONCORD_AGENT, for a dispatched run).
    pub env: Vec<(String, String)>,
}

impl Launch {
    /// What a project's own committed configuration says: `concord` from the PATH, the
    /// workspace given the way the client can give it (Cursor expands `${workspaceFolder}`;
    /// Claude Code and Codex start project servers in the project folder, and every tool takes
    /// `cwd` as well).
    pub fn for_project(command: &str, client: Client) -> Launch {
        let args = match client {
            Client::Cursor => vec!["mcp".into(), "-C".into(), "${workspaceFolder}".into()],
            Client::Claude | Client::Codex => vec!["mcp".into()],
        };
        Launch { command: command.into(), args, env: Vec::new() }
    }

    /// The `codex mcp add` line that registers the same server in Codex's own configuration.
    pub fn codex_add_line(&self) -> String {
        let mut words = vec!["codex".to_string(), "mcp".into(), "add".into(), SERVER_NAME.into()];
        for (k, v) in &self.env {
            words.push("--env".into());
            words.push(format!("{k}={v}"));
        }
        words.push("--".into());
        words.push(self.command.clone());
        words.extend(self.args.iter().cloned());
        shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
    }

    /// The client's JSON entry for the server (`command`, `args`, `env`; Claude Code's `type`).
    pub fn entry(&self, client: Client) -> Value {
        let mut entry = Map::new();
        if client == Client::Claude {
            entry.insert("type".into(), json!("stdio"));
        }
        entry.insert("command".into(), json!(self.command));
        entry.insert("args".into(), json!(self.args));
        if !self.env.is_empty() {
            let env: Map<String, Value> = self.env.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            entry.insert("env".into(), Value::Object(env));
        }
        Value::Object(entry)
    }
}

/// What an install did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    Unchanged,
}

/// Merge the `concord` entry into `client`'s file under `root`.
pub fn install(root: &Path, client: Client, launch: &Launch) -> Result<Written, String> {
    let rel = client.config_file();
    let current = match crate::fsutil::read_text_in_workspace(root, rel, READ_CAP) {
        Ok(text) => text,
        Err(e) => return Err(format!("cannot read {rel}: {e}; fix or remove it")),
    };
    let merged = match client {
        Client::Cursor | Client::Claude => merge_json(current.as_deref(), launch.entry(client)),
        Client::Codex => merge_toml(current.as_deref(), launch),
    }
    .map_err(|e| format!("{rel}: {e}; fix it by hand (nothing was written)"))?;
    if current.as_deref() == Some(merged.as_str()) {
        return Ok(Written::Unchanged);
    }
    crate::fsutil::write_in_workspace(root, rel, merged.as_bytes())
        .map_err(|e| format!("cannot write {rel}: {e}"))?;
    Ok(if current.is_none() { Written::Created } else { Written::Updated })
}

/// `{"mcpServers": {…, "concord": entry}}`, the other servers and keys as they were.
pub fn merge_json(current: Option<&str>, entry: Value) -> Result<String, String> {
    let mut root = match current.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err("the top level is not a JSON object".into()),
            Err(e) => return Err(format!("not valid JSON ({e})")),
        },
        None => Map::new(),
    };
    let servers = root.entry("mcpServers").or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(servers) = servers else { return Err("`mcpServers` is not an object".into()) };
    servers.insert(SERVER_NAME.into(), entry);
    Ok(serde_json::to_string_pretty(&Value::Object(root)).expect("json") + "\n")
}

/// `[mcp_servers.concord]` set in a Codex configuration, the rest kept (comments are not).
pub fn merge_toml(current: Option<&str>, launch: &Launch) -> Result<String, String> {
    let mut root: toml::Table = match current {
        Some(text) => {
            text.parse().map_err(|e: toml::de::Error| format!("not valid TOML ({})", e.message()))?
        }
        None => toml::Table::new(),
    };
    let servers = root.entry("mcp_servers").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(servers) = servers else { return Err("`mcp_servers` is not a table".into()) };
    let mut entry = toml::Table::new();
    entry.insert("command".into(), toml::Value::String(launch.command.clone()));
    entry.insert(
        "args".into(),
        toml::Value::Array(launch.args.iter().cloned().map(toml::Value::String).collect()),
    );
    if !launch.env.is_empty() {
        let env: toml::Table =
            launch.env.iter().map(|(k, v)| (k.clone(), toml::Value::String(v.clone()))).collect();
        entry.insert("env".into(), toml::Value::Table(env));
    }
    servers.insert(SERVER_NAME.into(), toml::Value::Table(entry));
    toml::to_string_pretty(&root).map_err(|e| e.to_string())
}

/// Codex's `-c key=value` overrides that give one `codex exec` run the server (values in TOML).
pub fn codex_overrides(launch: &Launch) -> Vec<String> {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = vec![
        "-c".to_string(),
        format!("mcp_servers.{SERVER_NAME}.command={}", quote(&launch.command)),
        "-c".to_string(),
        format!(
            "mcp_servers.{SERVER_NAME}.args=[{}]",
            launch.args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(", ")
        ),
    ];
    for (k, v) in &launch.env {
        out.push("-c".into());
        out.push(format!("mcp_servers.{SERVER_NAME}.env.{k}={}", quote(v)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch() -> Launch {
        Launch::for_project("concord", Client::Cursor)
    }

    #[test]
    fn json_merge_keeps_other_servers_and_is_idempotent() {
        let before = r#"{"mcpServers": {"other": {"command": "x"}}, "keep": 1}"#;
        let once = merge_json(Some(before), launch().entry(Client::Cursor)).unwrap();
        let twice = merge_json(Some(&once), launch().entry(Client::Cursor)).unwrap();
        assert_eq!(once, twice);
        let v: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(v["mcpServers"]["other"]["command"], "x");
        assert_eq!(v["keep"], 1);
        assert_eq!(v["mcpServers"]["concord"]["args"], json!(["mcp", "-C", "${workspaceFolder}"]));
        assert!(merge_json(Some("[1]"), json!({})).is_err());
        assert!(merge_json(Some("{not json"), json!({})).is_err());
        assert!(merge_json(Some(r#"{"mcpServers": 3}"#), json!({})).is_err());
    }

    #[test]
    fn toml_merge_keeps_other_keys() {
        let before = "model = \"o3\"\n[mcp_servers.other]\ncommand = \"x\"\n";
        let l = Launch::for_project("concord", Client::Codex);
        let once = merge_toml(Some(before), &l).unwrap();
        assert_eq!(once, merge_toml(Some(&once), &l).unwrap());
        let t: toml::Table = once.parse().unwrap();
        assert_eq!(t["model"].as_str(), Some("o3"));
        assert_eq!(t["mcp_servers"]["other"]["command"].as_str(), Some("x"));
        assert_eq!(t["mcp_servers"]["concord"]["command"].as_str(), Some("concord"));
        assert!(merge_toml(Some("mcp_servers = 1"), &l).is_err());
    }

    #[test]
    fn codex_overrides_are_toml_values() {
        let l = Launch {
            command: "/opt/concord".into(),
            args: vec!["mcp".into()],
            env: vec![("CONCORD_AGENT".into(), "A-1".into())],
        };
        assert_eq!(
            codex_overrides(&l),
            vec![
                "-c",
                "mcp_servers.concord.command=\"/opt/concord\"",
                "-c",
                "mcp_servers.concord.args=[\"mcp\"]",
                "-c",
                "mcp_servers.concord.env.CONCORD_AGENT=\"A-1\""
            ]
        );
        assert_eq!(l.codex_add_line(), "codex mcp add concord --env 'CONCORD_AGENT=A-1' -- /opt/concord mcp");
    }
}
