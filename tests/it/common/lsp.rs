//! A small LSP client for tests: Content-Length framing over any async byte streams (the real
//! binary's stdio, or an in-memory duplex), answering the server's own requests as an editor would.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

pub struct LspClient {
    /// `None` once the client has closed its end.
    writer: Option<Box<dyn AsyncWrite + Unpin + Send>>,
    incoming: mpsc::UnboundedReceiver<Value>,
    /// Notifications received while waiting for something else.
    pub notifications: VecDeque<Value>,
    next_id: i64,
    pub child: Option<tokio::process::Child>,
    /// The server task of an in-process client: whether `shutdown` came before `exit`.
    server: Option<tokio::task::JoinHandle<bool>>,
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl LspClient {
    pub fn new<R>(reader: R, writer: impl AsyncWrite + Unpin + Send + 'static) -> LspClient
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(reader);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let Some(length) = length else { return };
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                let Ok(value) = serde_json::from_slice::<Value>(&body) else { return };
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        LspClient {
            writer: Some(Box::new(writer)),
            incoming: rx,
            notifications: VecDeque::new(),
            next_id: 1,
            child: None,
            server: None,
        }
    }

    /// The server in this process over an in-memory duplex: the same `concord::lsp::serve` the
    /// binary runs (framing included), without starting a process. For tests that need no
    /// environment of their own, no log and no process exit code beyond the protocol's.
    pub fn in_process() -> LspClient {
        let (client_end, server_end) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_end);
        let server = tokio::spawn(concord::lsp::serve(server_read, server_write));
        let (client_read, client_write) = tokio::io::split(client_end);
        let mut client = LspClient::new(client_read, client_write);
        client.server = Some(server);
        client
    }

    /// Start the real `concord lsp` binary.
    pub fn spawn(envs: &[(&str, &str)]) -> LspClient {
        Self::spawn_with_log(envs, std::process::Stdio::inherit())
    }

    /// Start the real `concord lsp` binary with its log (stderr) going to `log`.
    pub fn spawn_with_log(envs: &[(&str, &str)], log: std::process::Stdio) -> LspClient {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_concord"));
        cmd.arg("lsp")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(log)
            .env_remove("CONCORD_AGENT")
            .kill_on_drop(true);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("concord lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut client = LspClient::new(stdout, stdin);
        client.child = Some(child);
        client
    }

    pub async fn send(&mut self, message: Value) {
        let body = serde_json::to_vec(&message).unwrap();
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend(body);
        self.send_raw(&frame).await;
    }

    /// Bytes exactly as given: frames, or anything else.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let writer = self.writer.as_mut().expect("the client's end is open");
        writer.write_all(bytes).await.expect("the server reads");
        writer.flush().await.unwrap();
    }

    /// Close the client's end of the connection (the server sees its input end).
    pub fn close_input(&mut self) {
        self.writer = None;
    }

    /// Wait for the next message from the server that satisfies `accept` (any shape: an error
    /// with a null id, a batch answer), keeping the others for later.
    pub async fn message(&mut self, timeout: Duration, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.notifications.iter().position(&accept) {
            return self.notifications.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message =
                self.next(deadline).await.unwrap_or_else(|| panic!("no such message within {timeout:?}"));
            if accept(&message) {
                return message;
            }
            self.notifications.push_back(message);
        }
    }

    /// Like [`LspClient::message`], but `None` when nothing acceptable comes within `timeout`.
    pub async fn try_message(&mut self, timeout: Duration, accept: impl Fn(&Value) -> bool) -> Option<Value> {
        if let Some(i) = self.notifications.iter().position(&accept) {
            return self.notifications.remove(i);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = self.next(deadline).await?;
            if accept(&message) {
                return Some(message);
            }
            self.notifications.push_back(message);
        }
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params })).await;
    }

    /// Send a request without waiting; returns its id.
    pub async fn request_async(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        id
    }

    /// The next message from the server, answering its requests on the way.
    async fn next(&mut self, deadline: tokio::time::Instant) -> Option<Value> {
        loop {
            let message = tokio::time::timeout_at(deadline, self.incoming.recv()).await.ok()??;
            if message.get("method").is_some() && message.get("id").is_some() {
                // A request from the server (registration, progress): accept it.
                let reply = json!({ "jsonrpc": "2.0", "id": message["id"], "result": null });
                self.send(reply).await;
                continue;
            }
            return Some(message);
        }
    }

    /// Wait for the response to request `id` (the whole message: `result` or `error`).
    pub async fn response(&mut self, id: i64, timeout: Duration) -> Value {
        // It may have come already, while another response was awaited.
        if let Some(at) = self.notifications.iter().position(|m| m.get("id") == Some(&json!(id))) {
            return self.notifications.remove(at).expect("the position is in range");
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = self
                .next(deadline)
                .await
                .unwrap_or_else(|| panic!("no response to request {id} within {timeout:?}"));
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.notifications.push_back(message);
        }
    }

    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.request_async(method, params).await;
        let response = self.response(id, Duration::from_secs(30)).await;
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    /// Wait for a notification of `method` whose params satisfy `accept`.
    pub async fn notification(
        &mut self,
        method: &str,
        timeout: Duration,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(i) = self.notifications.iter().position(|n| n["method"] == method && accept(&n["params"]))
        {
            return self.notifications.remove(i).unwrap()["params"].clone();
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let Some(message) = self.next(deadline).await else {
                panic!("no {method} notification within {timeout:?}")
            };
            if message["method"] == method && accept(&message["params"]) {
                return message["params"].clone();
            }
            self.notifications.push_back(message);
        }
    }

    /// Diagnostics published for `uri` that satisfy `accept` (the latest ones, waiting if needed).
    pub async fn diagnostics(&mut self, uri: &str, accept: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let params = self
            .notification("textDocument/publishDiagnostics", Duration::from_secs(30), |p| {
                p["uri"] == uri && accept(p["diagnostics"].as_array().map(Vec::as_slice).unwrap_or(&[]))
            })
            .await;
        params["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    pub async fn initialize(&mut self, root: &Path, capabilities: Value, options: Value) -> Value {
        let result = self
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": uri(root),
                    "workspaceFolders": [{ "uri": uri(root), "name": "ws" }],
                    "capabilities": capabilities,
                    "initializationOptions": options,
                }),
            )
            .await;
        self.notify("initialized", json!({})).await;
        result
    }

    pub async fn open(&mut self, path: &Path, language: &str) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        self.open_text(path, language, &text).await
    }

    pub async fn open_text(&mut self, path: &Path, language: &str, text: &str) -> String {
        let uri = uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": language, "version": 1, "text": text } }),
        )
        .await;
        uri
    }

    pub async fn shutdown_and_exit(mut self) -> Option<i32> {
        self.request("shutdown", Value::Null).await;
        self.notify("exit", Value::Null).await;
        if let Some(server) = self.server.take() {
            // The exit code the binary would give: 0 when `shutdown` came first.
            let clean = tokio::time::timeout(Duration::from_secs(10), server).await.ok()?.ok()?;
            return Some(if clean { 0 } else { 1 });
        }
        let mut child = self.child.take()?;
        let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.ok()?.ok()?;
        status.code()
    }
}

pub fn position(line: u32, character: u32) -> Value {
    json!({ "line": line, "character": character })
}

pub fn text_position(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position(line, character) })
}

/// The codes of diagnostics, in order.
pub fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics.iter().map(|d| d["code"].as_str().unwrap_or("").to_string()).collect()
}

/// Every `publishDiagnostics` already queued or received until none comes for `quiet`, as
/// (URI, codes) in arrival order.
pub async fn published_until_quiet(client: &mut LspClient, quiet: Duration) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    while let Some(message) =
        client.try_message(quiet, |m| m["method"] == "textDocument/publishDiagnostics").await
    {
        let params = &message["params"];
        let diagnostics = params["diagnostics"].as_array().cloned().unwrap_or_default();
        out.push((params["uri"].as_str().unwrap_or("").to_string(), codes(&diagnostics)));
    }
    out
}
