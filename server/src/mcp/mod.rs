//! `concord mcp`: the Model Context Protocol over stdio, for agents (Cursor, Claude Code,
//! Codex) to ask Concord what they may change, what the spec says, and whether their changes
//! pass, over the same core as `check` and `lsp`. `tools` holds the tools as functions of a
//! [`session::Session`] (which never answers from a stale model), `server` the protocol
//! adapter, `install` the clients' configuration files.

pub mod install;
pub mod server;
pub mod session;
pub mod tools;

use std::path::Path;
use std::process::ExitCode;

/// Serve the workspace at `root` (the default of every call's `cwd`).
pub fn run(root: &Path, trust: bool) -> ExitCode {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let agent = std::env::var("CONCORD_AGENT").ok().filter(|a| !a.trim().is_empty());
    let tools = tools::Tools::new(session::Session::new(root), tools::Policy { trust, agent });
    server::run_stdio(tools)
}
