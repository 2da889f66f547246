//! Test doubles that speak the real protocols: an HTTP server on 127.0.0.1 answering in the
//! OpenAI (Chat Completions, Responses) and Anthropic Messages wire formats, and agent CLIs as
//! small generated shell scripts.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// What the server answers on one route.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this JSON body.
    Json(Value),
    /// This status, headers and raw body.
    Status(u16, Vec<(String, String)>, String),
    /// Wait this many milliseconds, then answer 200 with the body.
    Slow(u64, Value),
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

#[derive(Default)]
struct State {
    scripted: Vec<(String, VecDeque<Reply>)>,
    fallback: Vec<(String, Reply)>,
    requests: Vec<Recorded>,
}

#[derive(Clone)]
pub struct FakeLlm {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl FakeLlm {
    pub fn start() -> FakeLlm {
        let state: Arc<Mutex<State>> = Arc::default();
        let base = super::serve_on_loopback(state.clone(), serve);
        FakeLlm { base, state }
    }

    /// Answers for `path`, used once each, in order; then the fallback.
    pub fn script(&self, path: &str, replies: Vec<Reply>) {
        self.state.lock().unwrap().scripted.push((path.into(), replies.into()));
    }

    pub fn always(&self, path: &str, reply: Reply) {
        let mut state = self.state.lock().unwrap();
        state.fallback.retain(|(p, _)| p != path);
        state.fallback.push((path.into(), reply));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn serve(stream: std::net::TcpStream, state: &Mutex<State>) {
    let Some(super::HttpRequest { path, headers, body, .. }) = super::read_http_request(&stream) else {
        return;
    };
    let reply = {
        let mut st = state.lock().unwrap();
        st.requests.push(Recorded { path: path.clone(), headers, body });
        let scripted = st
            .scripted
            .iter_mut()
            .find(|(p, q)| path.ends_with(p.as_str()) && !q.is_empty())
            .and_then(|(_, q)| q.pop_front());
        scripted
            .or_else(|| st.fallback.iter().find(|(p, _)| path.ends_with(p.as_str())).map(|(_, r)| r.clone()))
    };
    let (status, extra, text) = match reply {
        Some(Reply::Json(v)) => (200, vec![], v.to_string()),
        Some(Reply::Status(s, h, b)) => (s, h, b),
        Some(Reply::Slow(ms, v)) => {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            (200, vec![], v.to_string())
        }
        None => (404, vec![], "{\"error\": \"no route\"}".into()),
    };
    let mut out = stream;
    let mut head = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n", text.len());
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(text.as_bytes());
}

/// An Anthropic Messages answer that calls the review tool with `input`.
pub fn anthropic_tool(input: Value) -> Value {
    json!({
        "id": "msg_test", "type": "message", "role": "assistant", "model": "test",
        "content": [{ "type": "tool_use", "id": "toolu_1", "name": "assistant_manager_review", "input": input }],
        "stop_reason": "tool_use", "usage": { "input_tokens": 1, "output_tokens": 1 }
    })
}

pub fn assistant_review(recommendation: &str) -> Value {
    json!({ "recommendation": recommendation, "risks": [], "missing_deliverables": [], "test_gaps": [], "followups": [] })
}

pub fn decision(wbs: &str, decision: &str, status: &str, followups: Value) -> Value {
    json!({
        "wbs_id": wbs, "decision": decision, "recommended_status": status, "summary": format!("{decision} by the fake decider"),
        "risks": [], "missing_deliverables": [], "test_gaps": [], "followups": followups, "acceptance": [], "owner_questions": []
    })
}

/// A Chat Completions answer whose message content is `content` as JSON text.
pub fn chat_answer(content: &Value) -> Value {
    json!({
        "id": "chatcmpl-test", "object": "chat.completion", "model": "test",
        "choices": [{ "index": 0, "finish_reason": "stop", "message": { "role": "assistant", "content": content.to_string(), "refusal": null } }]
    })
}

/// A Responses API answer with `content` as output text.
pub fn responses_answer(content: &Value) -> Value {
    json!({
        "id": "resp_test", "object": "response", "status": "completed",
        "output": [{ "type": "message", "role": "assistant", "content": [{ "type": "output_text", "text": content.to_string(), "annotations": [] }] }]
    })
}

/// What a fake agent does in `FAKE_MODE=mcp`: find the server as its CLI would (`--mcp-config
/// FILE`, `-c mcp_servers.concord.*` overrides, or the project's `.cursor/mcp.json`), start it,
/// initialize, call `whoami_scope`, and write the result to the file named first.
const MCP_CLIENT: &str = r#"
import json, os, subprocess, sys, tomllib
out, args = sys.argv[1], sys.argv[2:]
if "--mcp-config" in args:
    server = json.load(open(args[args.index("--mcp-config") + 1]))["mcpServers"]["concord"]
elif "-c" in args:
    over = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "-c")
    value = lambda v: tomllib.loads("v = " + v)["v"]
    prefix = "mcp_servers.concord."
    server = {"command": value(over[prefix + "command"]), "args": value(over[prefix + "args"]),
              "env": {k[len(prefix + "env."):]: value(v) for k, v in over.items() if k.startswith(prefix + "env.")}}
else:
    server = json.load(open(".cursor/mcp.json"))["mcpServers"]["concord"]
env = dict(os.environ, **server.get("env", {}))
proc = subprocess.Popen([server["command"], *server["args"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
def send(message):
    proc.stdin.write(json.dumps(message) + "\n"); proc.stdin.flush()
def answer(wanted):
    for line in proc.stdout:
        message = json.loads(line)
        if message.get("id") == wanted:
            return message
    raise SystemExit("the server closed without answering")
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "fake-agent", "version": "0"}}})
answer(1)
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami_scope", "arguments": {}}})
result = answer(2)
proc.stdin.close(); proc.wait(timeout=20)
json.dump(result, open(out, "w"))
"#;

/// Write an executable fake agent CLI named `name` into `dir`. `flags` is what its `--help`
/// lists; `FAKE_MODE` (environment) picks the behaviour of a run.
pub fn fake_agent(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let help: String = flags.iter().map(|f| format!("  {f}  an option\n")).collect();
    fake_agent_with_help(dir, name, &format!("Usage: {name} [options] [prompt]\nOptions:\n{help}"))
}

/// A fake agent CLI whose `--help` prints `help` as written (after `FAKE_HELP_DELAY` seconds).
///
/// Environment of a run: `FAKE_MODE` (below), `FAKE_WRITE_DIR` (where its code goes; empty:
/// the first scope glob of the task), `FAKE_PID_FILE` (the pid of a child it leaves running),
/// `FAKE_LOG` (every invocation's arguments, one line each), `FAKE_LEAK` (a key to leak),
/// `FAKE_MCP_OUT` (where `mcp` writes its answer), `CONCORD_BIN`, `FAKE_AGENT` and
/// `FAKE_STEAL_SCOPE` (for `steal`), `FAKE_FAIL_ITEM` (a work item whose run fails whatever the
/// mode).
pub fn fake_agent_with_help(dir: &Path, name: &str, help: &str) -> PathBuf {
    let help_file = dir.join(format!("{name}.help"));
    std::fs::write(&help_file, help).unwrap();
    let help = help_file.display();
    let mcp_client = dir.join("mcp_client.py");
    std::fs::write(&mcp_client, MCP_CLIENT).unwrap();
    let mcp_client = mcp_client.display();
    let script = format!(
        r##"#!/bin/sh
if [ "$1" = "--version" ]; then echo "{name} 1.2.3"; echo "(fake)"; exit 0; fi
[ -n "$FAKE_LOG" ] && printf '%s\n' "{name} $*" >> "$FAKE_LOG"
for a in "$@"; do
  if [ "$a" = "--help" ]; then sleep "${{FAKE_HELP_DELAY:-0}}"; cat '{help}'; exit 0; fi
done
# The task file: named in the last argument, in --message-file, or the text arrives on stdin.
last=""; prev=""; task=""
for a in "$@"; do
  [ "$prev" = "--message-file" ] && task="$a"
  prev="$a"; last="$a"
done
[ -z "$task" ] && task=$(printf '%s' "$last" | sed -n 's/^Read the task file \(.*\) and do exactly what it says\.$/\1/p')
if [ -n "$task" ]; then text=$(cat "$task"); else text=$(cat); fi
report=$(printf '%s\n' "$text" | sed -n 's/^Write it to `\(.*\)` with these sections:$/\1/p')
wbs=$(printf '%s\n' "$text" | sed -n 's/^# Task \([A-Z0-9-]*\):.*/\1/p')
write_dir="$FAKE_WRITE_DIR"
if [ -z "$write_dir" ] || [ "$write_dir" = "$PWD/" ]; then
  write_dir="$PWD/$(printf '%s\n' "$text" | sed -n 's/^- `\(.*\)\/\*\*`$/\1/p' | head -n 1)"
fi
echo "working on $wbs" >&2
# One item fails (after a second, so that others started beside it are running), the rest go on.
if [ -n "$FAKE_FAIL_ITEM" ] && [ "$wbs" = "$FAKE_FAIL_ITEM" ]; then sleep 1; echo "error: $wbs broke" >&2; exit 3; fi
write_report() {{
  mkdir -p "$(dirname "$report")"
  printf 'wbs: %s\nagent: fake\n\n## Tests\n- `true`: Pass\n\n## Acceptance criteria\n- Feature works: Pass\n' "$wbs" > "$report"
}}
success='{{"type":"result","subtype":"success","is_error":false,"result":"all done"}}'
case "$FAKE_MODE" in
  success)
    mkdir -p "$write_dir"; echo "print('done')  # $wbs" > "$write_dir/impl.py"; write_report
    echo "$success" ;;
  report-only)
    write_report; echo "$success" ;;
  edit-two)
    echo "# attempt one" >> src/feature/app.py; echo "# out of scope" >> src/other/util.py
    mkdir -p src/other/new; echo "new" > src/other/new/made.py; write_report; echo "$success" ;;
  edit-app)
    echo "# attempt two" >> src/feature/app.py; write_report; echo "$success" ;;
  echo-keys)
    mkdir -p "$write_dir"; echo "ok = True" > "$write_dir/impl.py"; write_report
    echo "my keys: $TEST_OPENAI_KEY and $TEST_ANTHROPIC_KEY"; echo "$success" ;;
  error-key)
    write_report
    printf '{{"type":"result","subtype":"error_during_execution","is_error":true,"result":"API Error: 401 invalid api key %s"}}\n' "$FAKE_LEAK" ;;
  unknown-option)
    echo "error: unknown option '--force'" >&2; echo "(Did you mean --yolo?)" >&2; exit 1 ;;
  success-hang)
    write_report; echo "$success"; sleep 300 & echo $! > "$FAKE_PID_FILE"; sleep 300 ;;
  is-error)
    write_report; echo '{{"type":"result","subtype":"success","is_error":true,"result":"API Error: 500 Internal Server Error"}}' ;;
  fail-exit)
    echo "error: something broke" >&2; exit 3 ;;
  no-record)
    write_report; echo "finished, I think" ;;
  hang)
    sleep 300 & echo $! > "$FAKE_PID_FILE"; sleep 300 ;;
  steal)
    # While the run is paused, its lock on the shared remote is released and taken by another.
    "$CONCORD_BIN" lock release --agent "$FAKE_AGENT" --workspace "$PWD" >&2 || exit 5
    "$CONCORD_BIN" lock acquire --agent THIEF --task "$wbs" --scope "$FAKE_STEAL_SCOPE" --workspace "$PWD" >&2 || exit 6
    mkdir -p "$write_dir"; echo "print('late')  # $wbs" > "$write_dir/impl.py"; write_report
    echo "$success" ;;
  mcp)
    # Start the MCP server the way this CLI was handed it and ask it who we are.
    python3 '{mcp_client}' "$FAKE_MCP_OUT" "$@" || exit 4
    write_report; echo "$success" ;;
  *) echo "unknown FAKE_MODE" >&2; exit 9 ;;
esac
"##
    );
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}
