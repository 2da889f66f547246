//! The language server end to end: the real binary over stdio (and once in-process over an
//! in-memory duplex), driven as an editor would.

use crate::common;

use std::time::{Duration, Instant};

use common::lsp::{text_position, uri, LspClient};
use serde_json::{json, Value};

fn vscode_like() -> Value {
    json!({
        "window": { "workDoneProgress": true },
        "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } },
        "general": { "positionEncodings": ["utf-16"] },
    })
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics.iter().map(|d| d["code"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_on_a_fixture() {
    let root = common::fixture("basic");
    let mut client = LspClient::in_process();
    // Every file with a finding is sent (the default sends only what needs attention).
    let init = client
        .initialize(&root, vscode_like(), json!({ "debounceMs": 20, "diagnosticsScope": "workspace" }))
        .await;
    let caps = &init["capabilities"];
    for provider in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "workspaceSymbolProvider",
        "codeLensProvider",
    ] {
        assert!(caps.get(provider).is_some(), "{provider} missing: {caps}");
    }
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");

    // Workspace-wide diagnostics arrive for files that are not open.
    let refunds = uri(&root.join("services/payments/refunds.py"));
    let diags = client.diagnostics(&refunds, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), vec!["unknown-id"]);
    assert_eq!(diags[0]["range"]["start"], json!({ "line": 1, "character": 6 }));
    let wbs = uri(&root.join("ops/wbs.json"));
    let diags = client.diagnostics(&wbs, |d| !d.is_empty()).await;
    assert!(codes(&diags).contains(&"unknown-reference".to_string()), "{diags:?}");

    // Hover: a chunk, a work item, an unknown ID.
    let stripe = client.open(&root.join("services/payments/stripe.py"), "python").await;
    let hover = client.request("textDocument/hover", text_position(&stripe, 0, 14)).await;
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("TD-0103") && text.contains("Payments / Stripe") && text.contains("covered"),
        "{text}"
    );
    assert!(text.contains("WBS-005") && text.contains("Code: 1 files · Tests: 1 files"), "{text}");
    assert_eq!(hover["range"]["start"]["character"], 13);

    let test_file = client.open(&root.join("tests/test_stripe.py"), "python").await;
    let hover = client.request("textDocument/hover", text_position(&test_file, 0, 4)).await;
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("Booking and checkout")
            && text.contains("in_progress")
            && text.contains("risk **high**"),
        "{text}"
    );
    assert!(text.contains("Locked by **AGENT-1**"), "{text}");

    client.open(&root.join("services/payments/refunds.py"), "python").await;
    let hover = client.request("textDocument/hover", text_position(&refunds, 1, 8)).await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("Did you mean TD-0103"), "{hover}");
    let none = client.request("textDocument/hover", text_position(&refunds, 0, 1)).await;
    assert!(none.is_null());

    // Definition: the chunk's heading in markdown; the work item's entry in the WBS.
    let def = client.request("textDocument/definition", text_position(&stripe, 0, 14)).await;
    assert_eq!(def["uri"], uri(&root.join("docs/blueprints/technical/payments.md")));
    assert_eq!(def["range"]["start"], json!({ "line": 2, "character": 3 }));
    let def = client.request("textDocument/definition", text_position(&test_file, 0, 4)).await;
    assert_eq!(def["uri"], wbs);

    // References: code, markdown, and the index entry.
    let refs = client.request("textDocument/references", json!({
        "textDocument": { "uri": stripe }, "position": { "line": 0, "character": 14 }, "context": { "includeDeclaration": true }
    })).await;
    let files: Vec<&str> = refs.as_array().unwrap().iter().map(|l| l["uri"].as_str().unwrap()).collect();
    for expected in [
        "services/payments/stripe.py",
        "docs/blueprints/technical/payments.md",
        "blueprint_index.json",
        "ops/wbs.json",
    ] {
        assert!(files.iter().any(|f| f.ends_with(expected)), "{expected} not in {files:?}");
    }

    // Completion after a family prefix, replacing the typed token.
    let scratch = client.open_text(&root.join("services/payments/new.py"), "python", "# see TD-01\n").await;
    let list = client.request("textDocument/completion", text_position(&scratch, 0, 11)).await;
    let labels: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert_eq!(labels, vec!["TD-0103", "TD-0104"]);
    assert_eq!(list["items"][0]["detail"], "Payments / Stripe");
    assert_eq!(list["items"][0]["textEdit"]["range"]["start"]["character"], 6);
    let nothing = client.request("textDocument/completion", text_position(&scratch, 0, 3)).await;
    assert!(nothing.is_null());

    // Workspace symbols by title.
    let symbols = client.request("workspace/symbol", json!({ "query": "refund" })).await;
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["TD-0104 Refunds", "WBS-006 Refunds"]);

    // Document links point at definitions.
    let links =
        client.request("textDocument/documentLink", json!({ "textDocument": { "uri": stripe } })).await;
    let targets: Vec<&str> =
        links.as_array().unwrap().iter().map(|l| l["target"].as_str().unwrap()).collect();
    assert_eq!(targets.len(), 2);
    assert!(targets[0].ends_with("payments.md#L3"), "{targets:?}");

    // Code lenses on chunk headings and work items.
    let md = uri(&root.join("docs/blueprints/technical/payments.md"));
    let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": md } })).await;
    let titles: Vec<&str> =
        lenses.as_array().unwrap().iter().map(|l| l["command"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles[0], "1 WBS · 1 code · 1 test · covered");
    let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": wbs } })).await;
    assert!(
        lenses[0]["command"]["title"].as_str().unwrap().starts_with("in_progress · locked by AGENT-1"),
        "{lenses}"
    );

    // Code action: replace the unknown ID with a suggestion.
    {
        // Lenses on traceable items, in an item-level workspace.
        let dir = common::fixture_copy("basic");
        std::fs::write(dir.path().join("concord.toml"), "[trace]\nlevel = \"item\"\n").unwrap();
        let mut items = LspClient::in_process();
        items.initialize(dir.path(), json!({}), json!({})).await;
        let stripe_uri = uri(&dir.path().join("services/payments/stripe.py"));
        let lenses =
            items.request("textDocument/codeLens", json!({ "textDocument": { "uri": stripe_uri } })).await;
        assert_eq!(
            lenses[0]["command"]["title"], "traces to TD-0103, NT-0007",
            "header tag and docstring: {lenses}"
        );
        assert_eq!(lenses[0]["range"]["start"], json!({ "line": 1, "character": 4 }));
        assert_eq!(items.shutdown_and_exit().await, Some(0));
    }
    let diags = client.diagnostics(&refunds, |d| !d.is_empty()).await;
    let actions = client.request("textDocument/codeAction", json!({
        "textDocument": { "uri": refunds }, "range": diags[0]["range"], "context": { "diagnostics": diags }
    })).await;
    let first = &actions[0];
    assert_eq!(first["title"], "Replace TD-0130 with TD-0103 (Payments / Stripe)");
    assert_eq!(first["edit"]["changes"][&refunds][0]["newText"], "TD-0103");
    assert_eq!(first["isPreferred"], true);

    // Untraced file: the fix inserts a tag comment in the file's language.
    let cleanup = uri(&root.join("tools/cleanup.py"));
    let diags = client.diagnostics(&cleanup, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), vec!["untraced-file"]);
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_applied_in_order() {
    let root = common::fixture("basic");
    let mut client = LspClient::in_process();
    client.initialize(&root, vscode_like(), json!({ "debounceMs": 30 })).await;
    let path = root.join("services/payments/typed.py");
    let doc = client.open_text(&path, "python", "").await;
    // 500 single-character insertions at the end, as fast as the pipe takes them.
    let target: String =
        (0..100).map(|i| format!("# TD-{:04}\n", 1000 + i)).collect::<String>().chars().take(500).collect();
    let mut line = 0u32;
    let mut column = 0u32;
    for (n, ch) in target.chars().enumerate() {
        client
            .notify("textDocument/didChange", json!({
                "textDocument": { "uri": doc, "version": n as i64 + 2 },
                "contentChanges": [{ "range": { "start": { "line": line, "character": column }, "end": { "line": line, "character": column } }, "text": ch.to_string() }],
            }))
            .await;
        if ch == '\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
    }
    let expected: Vec<(u64, String)> = target
        .lines()
        .enumerate()
        .filter(|(_, l)| l.len() == 9)
        .map(|(n, l)| (n as u64, l[2..].to_string()))
        .collect();
    let params = client
        .notification("textDocument/publishDiagnostics", Duration::from_secs(30), |p| {
            p["uri"] == doc && p["version"] == 501
        })
        .await;
    let got: Vec<(u64, String)> = params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "unknown-id")
        .map(|d| {
            (d["range"]["start"]["line"].as_u64().unwrap(), d["message"].as_str().unwrap()[..7].to_string())
        })
        .collect();
    assert_eq!(got, expected, "the final diagnostics describe the final text");
    // The last line is cut mid-ID: its text is exactly what was typed.
    let hover = client.request("textDocument/hover", text_position(&doc, 0, 4)).await;
    assert!(hover["contents"]["value"].as_str().unwrap().starts_with("**TD-1000**"));
    // A stale version is ignored.
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": doc, "version": 3 },
                "contentChanges": [{ "text": "# TD-0103\n" }],
            }),
        )
        .await;
    let hover = client.request("textDocument/hover", text_position(&doc, 0, 4)).await;
    assert!(
        hover["contents"]["value"].as_str().unwrap().starts_with("**TD-1000**"),
        "stale change applied: {hover}"
    );
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_stays_prompt_while_slow_commands_run() {
    let root = common::fixture("basic");
    let mut client = LspClient::spawn(&[("CONCORD_TEST_COMMANDS", "1")]);
    client.initialize(&root, vscode_like(), json!({})).await;
    let stripe = client.open(&root.join("services/payments/stripe.py"), "python").await;
    client.request("textDocument/hover", text_position(&stripe, 0, 14)).await;
    let mut slow = Vec::new();
    for _ in 0..8 {
        slow.push(
            client
                .request_async(
                    "workspace/executeCommand",
                    json!({ "command": "concord.test.sleep", "arguments": [3000] }),
                )
                .await,
        );
    }
    // 400 more messages queued behind them: edits and hovers.
    for n in 0..200 {
        client.notify("textDocument/didChange", json!({
            "textDocument": { "uri": stripe, "version": n + 2 },
            "contentChanges": [{ "range": { "start": { "line": 3, "character": 0 }, "end": { "line": 3, "character": 0 } }, "text": " " }],
        })).await;
        client.request_async("textDocument/hover", text_position(&stripe, 0, 14)).await;
    }
    let started = Instant::now();
    let id = client.request_async("textDocument/hover", text_position(&stripe, 0, 14)).await;
    let response = client.response(id, Duration::from_secs(30)).await;
    let waited = started.elapsed();
    assert!(response["result"]["contents"]["value"].as_str().unwrap().contains("TD-0103"));
    assert!(waited < Duration::from_millis(2500), "hover waited {waited:?} behind slow commands");
    for id in slow {
        let done = client.response(id, Duration::from_secs(30)).await;
        assert_eq!(done["result"]["slept"], 3000);
    }
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_errors_and_the_server_lives_on() {
    let root = common::fixture("basic");
    let mut client = LspClient::spawn(&[("CONCORD_TEST_COMMANDS", "1")]);
    client.initialize(&root, vscode_like(), json!({})).await;
    let stripe = client.open(&root.join("services/payments/stripe.py"), "python").await;

    let id = client.request_async("textDocument/noSuchThing", json!({})).await;
    assert_eq!(client.response(id, Duration::from_secs(10)).await["error"]["code"], -32601);
    let id = client.request_async("textDocument/hover", json!(42)).await;
    assert_eq!(client.response(id, Duration::from_secs(10)).await["error"]["code"], -32602);
    let id =
        client.request_async("workspace/executeCommand", json!({ "command": "concord.test.panic" })).await;
    let response = client.response(id, Duration::from_secs(10)).await;
    assert_eq!(response["error"]["code"], -32603, "{response}");
    let id =
        client.request_async("workspace/executeCommand", json!({ "command": "concord.crosswalk" })).await;
    let response = client.response(id, Duration::from_secs(10)).await;
    assert!(response["error"]["message"].as_str().unwrap().contains("not trusted"), "{response}");

    // Binary content and a huge buffer are survived.
    let blob = client.open_text(&root.join("tools/blob.py"), "python", "\u{0}\u{1}TD-0103\u{0}").await;
    client.diagnostics(&blob, |_| true).await;
    let huge: String = "x = 1  # TD-0103\n".repeat(300_000);
    let big = client.open_text(&root.join("services/payments/big.py"), "python", &huge).await;
    let hover = client.request("textDocument/hover", text_position(&big, 299_999, 10)).await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("Payments / Stripe"));

    let hover = client.request("textDocument/hover", text_position(&stripe, 0, 14)).await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("TD-0103"));
    assert_eq!(client.shutdown_and_exit().await, Some(0));

    // `exit` without `shutdown` exits with 1, as the protocol says.
    let mut client = LspClient::spawn(&[]);
    client.initialize(&root, json!({}), json!({})).await;
    client.notify("exit", Value::Null).await;
    let status = tokio::time::timeout(Duration::from_secs(10), client.child.as_mut().unwrap().wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_timed_in_the_log() {
    let root = common::fixture("basic");
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut client =
        LspClient::spawn_with_log(&[("CONCORD_LOG", "warn,concord::lsp::timing=debug")], log.into());
    client.initialize(&root, vscode_like(), json!({})).await;
    let stripe = client.open(&root.join("services/payments/stripe.py"), "python").await;
    let id = client.request_async("textDocument/hover", text_position(&stripe, 0, 14)).await;
    let hover = client.response(id, Duration::from_secs(10)).await;
    assert!(hover["result"]["contents"]["value"].as_str().unwrap().contains("TD-0103"), "{hover}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));

    let log = std::fs::read_to_string(&log_path).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("textDocument/hover (id {id}) took ")))
        .unwrap_or_else(|| panic!("no timing line for hover {id} in:\n{log}"));
    let nanos: u64 = line.rsplit(" took ").next().unwrap().trim_end_matches(" ns").parse().unwrap();
    assert!(nanos > 0 && nanos < 10_000_000_000, "{line}");
    // Notifications are not timed: they have no response.
    assert!(!log.contains("textDocument/didOpen"), "{log}");
}

/// The client may set the log level (`initializationOptions.logLevel`), and `CONCORD_LOG`, when
/// set, wins over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_sets_the_log_level_unless_the_environment_does() {
    let root = common::fixture("basic");
    for (env, expect_debug) in [("", true), ("error", false)] {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut client = LspClient::spawn_with_log(&[("CONCORD_LOG", env)], log.into());
        client.initialize(&root, vscode_like(), json!({ "logLevel": "debug" })).await;
        let stripe = client.open(&root.join("services/payments/stripe.py"), "python").await;
        let id = client.request_async("textDocument/hover", text_position(&stripe, 0, 14)).await;
        client.response(id, Duration::from_secs(10)).await;
        assert_eq!(client.shutdown_and_exit().await, Some(0));
        let log = std::fs::read_to_string(&log_path).unwrap();
        let timed = log.contains(&format!("textDocument/hover (id {id}) took "));
        assert_eq!(timed, expect_debug, "CONCORD_LOG={env:?}:\n{log}");
        assert_eq!(log.contains("DEBUG load{"), expect_debug, "the load phases are spans:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_is_negotiated_in_process() {
    let mut client = LspClient::in_process();
    let root = common::fixture("unicode");
    let init = client
        .initialize(
            &root,
            json!({ "general": { "positionEncodings": ["utf-8", "utf-16"] } }),
            json!({ "debounceMs": 10 }),
        )
        .await;
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    let doc = client.open_text(&root.join("src/new.rs"), "rust", "// 😀é NT-0009\n").await;
    let diags = client.diagnostics(&doc, |d| !d.is_empty()).await;
    let unknown: Vec<&Value> = diags.iter().filter(|d| d["code"] == "unknown-id").collect();
    // 3 + 4 (emoji) + 2 (é) + 1 = byte 10.
    assert_eq!(unknown[0]["range"]["start"], json!({ "line": 0, "character": 10 }));
    let hover = client.request("textDocument/hover", text_position(&doc, 0, 12)).await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("NT-0009"));
    assert_eq!(hover["range"]["start"]["character"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_reloads_when_ops_files_change() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    let mut client = LspClient::in_process();
    client.initialize(root, vscode_like(), json!({ "debounceMs": 10 })).await;
    let wbs = uri(&root.join("ops/wbs.json"));
    let diags = client
        .diagnostics(&wbs, |d| d.iter().any(|d| d["message"].as_str().unwrap_or("").contains("TD-0999")))
        .await;
    assert!(!diags.is_empty());

    let text = std::fs::read_to_string(root.join("ops/wbs.json")).unwrap().replace(", \"TD-0999\"", "");
    std::fs::write(root.join("ops/wbs.json"), text).unwrap();
    client.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": wbs, "type": 2 }] })).await;
    client
        .diagnostics(&wbs, |d| !d.iter().any(|d| d["message"].as_str().unwrap_or("").contains("TD-0999")))
        .await;

    // An edited, unsaved ops buffer gets its own loader's findings live.
    client.open(&root.join("ops/wbs.json"), "json").await;
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": wbs, "version": 2 },
                "contentChanges": [{ "text": "{\"items\": [\n  {\"id\": \"WBS-005\", \"title\": 5}\n]}" }],
            }),
        )
        .await;
    let diags = client
        .diagnostics(&wbs, |d| {
            d.iter().any(|d| d["message"].as_str().unwrap_or("").contains("`title` must be a string"))
        })
        .await;
    assert_eq!(diags[0]["range"]["start"]["line"], 1);

    // Closing a fixed buffer replaces its diagnostics with the file's on disk.
    let refunds = uri(&root.join("services/payments/refunds.py"));
    client.open(&root.join("services/payments/refunds.py"), "python").await;
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": refunds, "version": 2 },
                "contentChanges": [{ "text": "# TD-0104\ndef refund(a):\n    return -a\n" }],
            }),
        )
        .await;
    client.diagnostics(&refunds, |d| d.is_empty()).await;
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": refunds } })).await;
    let diags = client.diagnostics(&refunds, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), vec!["unknown-id"]);

    // A lock file appearing on disk updates hovers live.
    std::fs::write(
        root.join("ops/locks/AGENT-9.lock"),
        r#"{"agent":"AGENT-9","task_id":"WBS-006","scope_paths":["services/refunds/**"],"acquired_at":"2026-11-20T10:00:00Z"}"#,
    )
    .unwrap();
    client
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({ "changes": [{ "uri": uri(&root.join("ops/locks/AGENT-9.lock")), "type": 1 }] }),
        )
        .await;
    let tests_uri = client.open_text(&root.join("tests/t.py"), "python", "# WBS-006\n").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let hover = client.request("textDocument/hover", text_position(&tests_uri, 0, 4)).await;
        if hover["contents"]["value"].as_str().unwrap().contains("Locked by **AGENT-9**") {
            break;
        }
        assert!(Instant::now() < deadline, "the new lock never showed: {hover}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_without_ops_files_still_works() {
    let root = common::fixture("bare");
    let mut client = LspClient::in_process();
    client.initialize(&root, json!({}), json!({ "diagnosticsScope": "workspace" })).await;
    let a = uri(&root.join("src/a.rs"));
    let b = uri(&root.join("src/b.py"));
    let diags = client.diagnostics(&b, |d| !d.is_empty()).await;
    assert_eq!(
        codes(&diags),
        vec!["untraced-file"],
        "b.py carries no tag; a.rs's tag counts while nothing is defined"
    );
    client.open(&root.join("src/a.rs"), "rust").await;
    let hover = client.request("textDocument/hover", text_position(&a, 0, 5)).await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("unknown ID"));
    let symbols = client.request("workspace/symbol", json!({ "query": "" })).await;
    assert_eq!(symbols, json!([]));
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

fn raw_frame(body: &[u8]) -> Vec<u8> {
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body);
    frame
}

/// An error answer with a null id (what the framing layer gives when it has no usable id).
fn null_id_error(message: &Value) -> bool {
    message.get("id") == Some(&Value::Null) && message.get("error").is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_frame_before_shutdown_does_not_end_the_server() {
    // The reproduction: `[]`, a pause, then `shutdown`, which must be answered.
    let mut client = LspClient::in_process();
    client.send_raw(b"Content-Length: 2\r\n\r\n[]").await;
    let refusal = client.message(Duration::from_secs(10), null_id_error).await;
    assert_eq!(refusal["error"]["code"], -32600, "{refusal}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.send_raw(&raw_frame(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#)).await;
    let answer = client.response(1, Duration::from_secs(10)).await;
    assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_answered_logged_and_survived() {
    let root = common::fixture("basic");
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut client = LspClient::spawn_with_log(&[], log.into());
    client.initialize(&root, vscode_like(), json!({ "debounceMs": 10 })).await;
    let stripe = client.open(&root.join("services/payments/stripe.py"), "python").await;

    // Each bad input, the error code it is answered with (`None`: a batch answered as an array),
    // and the id of that answer.
    let cases: Vec<(&str, Vec<u8>, i64, Value)> = vec![
        ("empty array", raw_frame(b"[]"), -32600, Value::Null),
        ("empty object", raw_frame(b"{}"), -32600, Value::Null),
        ("null", raw_frame(b"null"), -32600, Value::Null),
        (
            "JSON-RPC 1.0",
            raw_frame(br#"{"id":900,"method":"textDocument/hover","params":{}}"#),
            -32600,
            json!(900),
        ),
        (
            "fractional id",
            raw_frame(br#"{"jsonrpc":"2.0","id":1.5,"method":"shutdown"}"#),
            -32600,
            Value::Null,
        ),
        ("invalid UTF-8", raw_frame(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}"), -32700, Value::Null),
        ("not JSON", raw_frame(b"{\"jsonrpc\""), -32700, Value::Null),
        (
            "no Content-Length",
            b"Content-Type: application/vscode-jsonrpc\r\n\r\n{}".to_vec(),
            -32700,
            Value::Null,
        ),
        ("garbled header", b"Contnt-Lngth 2\r\n\r\n[]".to_vec(), -32700, Value::Null),
        ("non-numeric length", b"Content-Length: two\r\n\r\n[]".to_vec(), -32700, Value::Null),
        (
            "overflowing length",
            b"Content-Length: 184467440737095516160\r\n\r\n[]".to_vec(),
            -32700,
            Value::Null,
        ),
    ];
    for (name, bytes, code, id) in cases {
        client.send_raw(&bytes).await;
        let answer = client
            .message(Duration::from_secs(10), |m| m.get("error").is_some() && m.get("id") == Some(&id))
            .await;
        assert_eq!(answer["error"]["code"], code, "{name}: {answer}");
        // And the server still serves.
        let hover = client.request("textDocument/hover", text_position(&stripe, 0, 14)).await;
        assert!(hover["contents"]["value"].as_str().unwrap().contains("TD-0103"), "{name}: {hover}");
    }

    // A batch is refused as a whole: one error per request in it, in an array.
    client
        .send_raw(&raw_frame(
            br#"[{"jsonrpc":"2.0","id":901,"method":"shutdown"},{"jsonrpc":"2.0","method":"initialized"}]"#,
        ))
        .await;
    let answer = client.message(Duration::from_secs(10), Value::is_array).await;
    assert_eq!(
        answer,
        json!([{ "jsonrpc": "2.0", "id": 901, "error": { "code": -32600,
        "message": "Invalid Request: batches are not served; send each message in its own frame" } }])
    );

    // A lone surrogate in an opened document becomes U+FFFD; UTF-16 positions stay right.
    let odd = root.join("services/payments/odd.py");
    let open = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"{}","languageId":"python","version":1,"text":"x = \"\ud800\"  # TD-0103\n"}}}}}}"#,
        uri(&odd)
    );
    client.send_raw(&raw_frame(open.as_bytes())).await;
    let hover = client.request("textDocument/hover", text_position(&uri(&odd), 0, 13)).await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("Payments / Stripe"), "{hover}");
    assert_eq!(hover["range"]["start"]["character"], 11, "{hover}");

    assert_eq!(client.shutdown_and_exit().await, Some(0));
    let log = std::fs::read_to_string(&log_path).unwrap();
    for expected in [
        "concord::lsp::framing: dropped frame ",
        "an empty batch",
        "\"jsonrpc\" must be \"2.0\"",
        "not UTF-8",
        "bad header: no Content-Length header",
        "bad header: Content-Length \"two\" is not a byte count",
        "a batch of 2 messages",
        "(textDocument/didOpen): replaced 1 lone UTF-16 surrogate escape(s) with U+FFFD",
    ] {
        assert!(log.contains(expected), "{expected:?} not in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_refused_and_skipped() {
    let root = common::fixture("basic");
    let mut client = LspClient::in_process();
    client.initialize(&root, json!({}), json!({})).await;
    let declared = concord::lsp::framing::MAX_BODY_BYTES + 1;
    client.send_raw(format!("Content-Length: {declared}\r\n\r\n").as_bytes()).await;
    let refusal = client.message(Duration::from_secs(10), null_id_error).await;
    assert_eq!(refusal["error"]["code"], -32600, "{refusal}");
    let chunk = vec![b'x'; 1 << 20];
    let mut left = declared as usize;
    while left > 0 {
        let n = left.min(chunk.len());
        client.send_raw(&chunk[..n]).await;
        left -= n;
    }
    let id = client.request_async("workspace/symbol", json!({ "query": "TD-0103" })).await;
    let answer = client.response(id, Duration::from_secs(30)).await;
    assert!(answer["result"].as_array().is_some_and(|s| !s.is_empty()), "{answer}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_closes_its_input_ends_the_server() {
    let root = common::fixture("basic");
    // Mid-way through a frame whose declared length never arrives.
    let mut client = LspClient::spawn_with_log(&[], std::process::Stdio::null());
    client.initialize(&root, json!({}), json!({})).await;
    client.send_raw(b"Content-Length: 99999999999999\r\n\r\n[]").await;
    client.message(Duration::from_secs(10), null_id_error).await;
    client.close_input();
    let status = tokio::time::timeout(Duration::from_secs(10), client.child.as_mut().unwrap().wait())
        .await
        .expect("the server ends when its input does")
        .unwrap();
    // No `shutdown` came first.
    assert_eq!(status.code(), Some(1));

    // After `shutdown`, closing the input is a clean end.
    let mut client = LspClient::spawn_with_log(&[], std::process::Stdio::null());
    client.initialize(&root, json!({}), json!({})).await;
    client.request("shutdown", Value::Null).await;
    client.close_input();
    let status = tokio::time::timeout(Duration::from_secs(10), client.child.as_mut().unwrap().wait())
        .await
        .expect("the server ends when its input does")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debounce_is_bounded() {
    // Out of range in concord.toml: a positioned configuration error.
    let ws = common::fixture_copy("basic");
    std::fs::write(ws.path().join("concord.toml"), "[lsp]\n\ndebounce_ms = 99999999999\n").unwrap();
    let mut client = LspClient::in_process();
    client.initialize(ws.path(), vscode_like(), json!({})).await;
    let config = uri(&ws.path().join("concord.toml"));
    let diags = client.diagnostics(&config, |d| !d.is_empty()).await;
    let message = diags[0]["message"].as_str().unwrap();
    assert!(message.contains("lsp.debounce_ms = 99999999999 is out of range: 0 to 5000"), "{message}");
    assert_eq!(diags[0]["range"]["start"]["line"], 2, "{diags:?}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));

    // From the client: clamped, with a log line, and diagnostics still come.
    let root = common::fixture("basic");
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut client = LspClient::spawn_with_log(&[], log.into());
    client.initialize(&root, vscode_like(), json!({ "debounceMs": 1_000_000_000_000_000u64 })).await;
    let started = Instant::now();
    let doc = client.open_text(&root.join("tools/new.py"), "python", "# TD-9999\n").await;
    let diags = client.diagnostics(&doc, |d| !d.is_empty()).await;
    assert!(codes(&diags).contains(&"unknown-id".to_string()), "{diags:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    for value in [json!(-3), json!("fast")] {
        client
            .notify(
                "workspace/didChangeConfiguration",
                json!({ "settings": { "concord": { "debounceMs": value } } }),
            )
            .await;
    }
    assert_eq!(client.shutdown_and_exit().await, Some(0));
    let log = std::fs::read_to_string(&log_path).unwrap();
    for expected in [
        "initializationOptions: debounceMs 1000000000000000 is above the maximum; using 5000 ms",
        "didChangeConfiguration: debounceMs -3 is negative; using 0 ms",
        "didChangeConfiguration: debounceMs \"fast\" is not a whole number of milliseconds; ignored",
    ] {
        assert!(log.contains(expected), "{expected:?} not in the log:\n{log}");
    }
}

/// A command's argument is read into its typed fields: a value of the wrong type, a missing or
/// an unknown field is refused with InvalidParams naming the command and the field, and nothing
/// runs. An untrusted workspace is refused first, whatever the argument.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_command_argument_is_invalid_params_naming_the_field() {
    let dir = common::fixture_copy("basic");
    let before = common::snapshot(dir.path());
    let mut client = LspClient::in_process();
    client.initialize(dir.path(), json!({}), json!({ "trusted": true, "agent": "AGENT-9" })).await;
    let cases = [
        ("concord.lock.acquire", json!([{ "task": "WBS-001", "agent": 7 }]), "`agent` must be a string"),
        (
            "concord.lock.acquire",
            json!([{ "task": "WBS-001", "scope": ["a/**", false] }]),
            "each item of `scope`",
        ),
        ("concord.lock.acquire", json!([{ "scope": ["a/**"] }]), "missing field `task`"),
        ("concord.autopilot", json!([{ "maxItems": "two" }]), "`maxItems` must be a whole number"),
        ("concord.review", json!([{ "noLlm": "yes" }]), "`noLlm` must be a boolean"),
        ("concord.answer", json!([{ "id": "Q-0001", "option": 1 }]), "`option` must be a string"),
        ("concord.lock.sweep", json!([{ "olderThan": "soon" }]), "`olderThan`: \"soon\" is not a duration"),
        ("concord.dispatch", json!([{ "ID": "WBS-001" }]), "unknown field `ID`"),
        ("concord.dispatch", json!(["WBS-001"]), "the argument must be an object"),
        ("concord.questions", json!([{ "all": 1 }]), "`all` must be a boolean"),
        ("concord.status", json!([{ "verbose": true }]), "unknown field `verbose`"),
    ];
    for (command, arguments, expected) in cases {
        let id = client
            .request_async("workspace/executeCommand", json!({ "command": command, "arguments": arguments }))
            .await;
        let answer = client.response(id, Duration::from_secs(30)).await;
        assert_eq!(answer["error"]["code"], -32602, "{command} {arguments}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{command}: ")), "{message}");
        assert!(message.contains(expected), "{expected:?} not in {message:?}");
    }
    assert!(common::snapshot(dir.path()) == before, "a refused command changed the workspace");
    // A well-formed argument still runs.
    let sweep = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "concord.lock.sweep", "arguments": [{ "olderThan": "3650d" }] }),
        )
        .await;
    assert_eq!(sweep["ok"], true, "{sweep}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));

    let mut untrusted = LspClient::in_process();
    untrusted.initialize(dir.path(), json!({}), json!({})).await;
    let id = untrusted
        .request_async(
            "workspace/executeCommand",
            json!({ "command": "concord.lock.acquire", "arguments": [{ "task": 1 }] }),
        )
        .await;
    let answer = untrusted.response(id, Duration::from_secs(30)).await;
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("not trusted"), "{answer}");
    let id = untrusted
        .request_async(
            "workspace/executeCommand",
            json!({ "command": "concord.crosswalk", "arguments": [7] }),
        )
        .await;
    let answer = untrusted.response(id, Duration::from_secs(30)).await;
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert_eq!(untrusted.shutdown_and_exit().await, Some(0));
}
