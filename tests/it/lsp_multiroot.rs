//! Multi-root workspaces: each workspace folder is served as its own Concord workspace (its
//! own model, configuration, change queue and stale-lock clock), requests go to the folder of
//! their document, folders come and go, and commands say which folder they act on. In process,
//! over a duplex.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::lsp::{codes, published_until_quiet, text_position, uri, LspClient};
use crate::common::{self};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A copy of the `basic` fixture with a fresh lock of AGENT-9 on `tools/**` (its old lock
/// gone) and `lib/uses.py` naming TD-0900; `only_here` adds the chunk TD-0900 ("Only in B")
/// and a configuration that makes a lock stale after two seconds.
fn folder(only_here: bool) -> tempfile::TempDir {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    std::fs::remove_file(root.join("ops/locks/AGENT-1.lock")).unwrap();
    let now = concord::time::format_rfc3339(concord::time::now_secs());
    write(
        root,
        "ops/locks/AGENT-9.lock",
        &format!(
            "{{\"agent\": \"AGENT-9\", \"task_id\": \"WBS-006\", \"scope_paths\": [\"tools/**\"], \"acquired_at\": \"{now}\"}}\n"
        ),
    );
    write(root, "lib/uses.py", "# TD-0900 uses the chunk\ndef uses():\n    pass\n");
    if only_here {
        write(
            root,
            "docs/blueprints/technical/extra.md",
            "# Extra\n\n## TD-0900 Only in B\nA chunk this folder alone has.\n",
        );
        write(root, "concord.toml", "[locks]\nstale_after = \"2s\"\n");
    }
    dir
}

async fn initialize(client: &mut LspClient, folders: &[&Path], capabilities: Value, options: Value) -> Value {
    let named: Vec<Value> = folders
        .iter()
        .enumerate()
        .map(|(i, f)| json!({ "uri": uri(f), "name": format!("folder{i}") }))
        .collect();
    let result = client
        .request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(folders[0]),
                "workspaceFolders": named,
                "capabilities": capabilities,
                "initializationOptions": options,
            }),
        )
        .await;
    client.notify("initialized", json!({})).await;
    result
}

fn under(root: &Path, file_uri: &str) -> bool {
    file_uri.starts_with(&format!("{}/", uri(root)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_folder_is_served_from_its_own_workspace() {
    let (a, b) = (folder(false), folder(true));
    let (a, b) = (a.path(), b.path());
    let mut client = LspClient::in_process();
    let init = initialize(
        &mut client,
        &[a, b],
        json!({}),
        json!({ "diagnosticsScope": "workspace", "debounceMs": 0 }),
    )
    .await;
    let folders = &init["capabilities"]["workspace"]["workspaceFolders"];
    assert_eq!(folders["supported"], true, "{init}");
    assert_eq!(folders["changeNotifications"], true, "{init}");

    // The same text, an ID that only folder B defines: unknown in A, known in B.
    let uses_a = client.open(&a.join("lib/uses.py"), "python").await;
    let uses_b = client.open(&b.join("lib/uses.py"), "python").await;
    let in_a = client.diagnostics(&uses_a, |_| true).await;
    assert!(codes(&in_a).contains(&"unknown-id".to_string()), "{in_a:?}");
    let in_b = client.diagnostics(&uses_b, |_| true).await;
    assert!(!codes(&in_b).contains(&"unknown-id".to_string()), "{in_b:?}");

    // Hover answers from the document's folder.
    let hover_b = client.request("textDocument/hover", text_position(&uses_b, 0, 4)).await;
    assert!(hover_b.to_string().contains("Only in B"), "{hover_b}");
    let hover_a = client.request("textDocument/hover", text_position(&uses_a, 0, 4)).await;
    assert!(!hover_a.to_string().contains("Only in B"), "{hover_a}");
    // Workspace symbols come from every folder.
    let symbols = client.request("workspace/symbol", json!({ "query": "TD-0900" })).await;
    let found: Vec<&str> =
        symbols.as_array().unwrap().iter().filter_map(|s| s["location"]["uri"].as_str()).collect();
    assert!(found.iter().any(|u| under(b, u)) && !found.iter().any(|u| under(a, u)), "{symbols}");

    // B's lock goes stale on B's clock (two seconds); A's lock, the same age, is not stale.
    let lock_b = uri(&b.join("ops/locks/AGENT-9.lock"));
    let lock_a = uri(&a.join("ops/locks/AGENT-9.lock"));
    client.diagnostics(&lock_b, |d| codes(d).contains(&"stale-lock".to_string())).await;
    let sent = published_until_quiet(&mut client, Duration::from_millis(800)).await;
    let stale_in_a = client
        .notifications
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == lock_a)
        .any(|m| m["params"]["diagnostics"].to_string().contains("stale-lock"));
    assert!(
        !stale_in_a && !sent.iter().any(|(u, c)| *u == lock_a && c.contains(&"stale-lock".into())),
        "{sent:?}"
    );

    // A save in A republishes A's file, and nothing of B's.
    write(a, "tools/cleanup.py", "# TD-0777\nprint(\"cleanup\")\n");
    client
        .notify(
            "textDocument/didSave",
            json!({ "textDocument": { "uri": uri(&a.join("tools/cleanup.py")) } }),
        )
        .await;
    let sent = published_until_quiet(&mut client, Duration::from_millis(1500)).await;
    let cleanup_a = uri(&a.join("tools/cleanup.py"));
    assert!(sent.iter().any(|(u, c)| *u == cleanup_a && c.contains(&"unknown-id".to_string())), "{sent:?}");
    assert!(sent.iter().all(|(u, _)| under(a, u)), "only folder A's files: {sent:?}");

    // A watched-file event goes to the folder of its path; one outside every folder is ignored.
    write(b, "tools/cleanup.py", "# TD-0900\nprint(\"cleanup\")\n");
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "x.py", "# TD-0001\n");
    client
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({ "changes": [
                { "uri": uri(&b.join("tools/cleanup.py")), "type": 2 },
                { "uri": uri(&outside.path().join("x.py")), "type": 1 },
            ] }),
        )
        .await;
    let sent = published_until_quiet(&mut client, Duration::from_millis(1500)).await;
    let cleanup_b = uri(&b.join("tools/cleanup.py"));
    assert!(
        sent.iter().any(|(u, c)| *u == cleanup_b && !c.contains(&"untraced-file".to_string())),
        "{sent:?}"
    );
    assert!(sent.iter().all(|(u, _)| under(b, u)), "only folder B's files: {sent:?}");

    // A document outside every folder gets no diagnostics of Concord's.
    let stray = client.open(&outside.path().join("x.py"), "python").await;
    let stray_diags = client.diagnostics(&stray, |_| true).await;
    assert!(stray_diags.is_empty(), "{stray_diags:?}");

    // The status reports each folder, and the first one's state at the top as before.
    let status = client.request("workspace/executeCommand", json!({ "command": "concord.status" })).await;
    assert_eq!(status["loaded"], true, "{status}");
    let listed: Vec<&str> =
        status["folders"].as_array().unwrap().iter().filter_map(|f| f["uri"].as_str()).collect();
    assert_eq!(listed, vec![uri(a), uri(b)], "{status}");
    assert!(status["folders"].as_array().unwrap().iter().all(|f| f["loaded"] == true), "{status}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pulling_client_gets_every_folders_diagnostics() {
    let (a, b) = (folder(false), folder(true));
    let (a, b) = (a.path(), b.path());
    let mut client = LspClient::in_process();
    let capabilities = json!({
        "textDocument": { "diagnostic": { "dynamicRegistration": true } },
        "workspace": { "diagnostics": { "refreshSupport": true } },
    });
    initialize(&mut client, &[a, b], capabilities, json!({ "diagnosticsScope": "workspace" })).await;
    let report = client.request("workspace/diagnostic", json!({ "previousResultIds": [] })).await;
    let items = report["items"].as_array().unwrap();
    let codes_of = |file: String| -> Option<Vec<String>> {
        items.iter().find(|i| i["uri"] == file).map(|i| codes(i["items"].as_array().unwrap()))
    };
    let in_a = codes_of(uri(&a.join("lib/uses.py"))).expect("folder A's file is reported");
    assert!(in_a.contains(&"unknown-id".to_string()), "{in_a:?}");
    let in_b = codes_of(uri(&b.join("services/payments/refunds.py"))).expect("folder B's files are reported");
    assert_eq!(in_b, vec!["unknown-id"]);
    assert!(codes_of(uri(&b.join("lib/uses.py"))).is_none_or(|c| !c.contains(&"unknown-id".to_string())));

    let uses_b = client.open(&b.join("lib/uses.py"), "python").await;
    let pulled =
        client.request("textDocument/diagnostic", json!({ "textDocument": { "uri": uses_b } })).await;
    assert!(!codes(pulled["items"].as_array().unwrap()).contains(&"unknown-id".to_string()), "{pulled}");

    // Folder B removed: what the client holds of it is reported empty, A's is unchanged.
    let refunds = |root: &Path| uri(&root.join("services/payments/refunds.py"));
    let id_of = |file: String| -> Value {
        let item = items.iter().find(|i| i["uri"] == file).unwrap();
        json!({ "uri": file, "value": item["resultId"] })
    };
    let held = json!([id_of(refunds(a)), id_of(refunds(b))]);
    client
        .notify(
            "workspace/didChangeWorkspaceFolders",
            json!({ "event": { "added": [], "removed": [{ "uri": uri(b), "name": "folder1" }] } }),
        )
        .await;
    let after = client.request("workspace/diagnostic", json!({ "previousResultIds": held })).await;
    let item = |file: String| after["items"].as_array().unwrap().iter().find(|i| i["uri"] == file).cloned();
    let gone = item(refunds(b)).expect("the removed folder's file is reported");
    assert_eq!((gone["kind"].clone(), gone["items"].clone()), (json!("full"), json!([])), "{after}");
    assert_eq!(item(refunds(a)).expect("A's file is reported")["kind"], "unchanged", "{after}");
    let pulled =
        client.request("textDocument/diagnostic", json!({ "textDocument": { "uri": uses_b } })).await;
    assert_eq!(pulled["items"], json!([]), "a document of a removed folder has none: {pulled}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_added_are_served_and_folders_removed_are_cleared() {
    let (a, b, c) = (folder(false), folder(false), folder(true));
    let (a, b, c) = (a.path(), b.path(), c.path());
    let mut client = LspClient::in_process();
    initialize(&mut client, &[a, b], json!({}), json!({ "debounceMs": 0 })).await;
    let refunds_b = uri(&b.join("services/payments/refunds.py"));
    client.diagnostics(&refunds_b, |d| !d.is_empty()).await;
    let uses_b = client.open(&b.join("lib/uses.py"), "python").await;
    client.diagnostics(&uses_b, |d| codes(d).contains(&"unknown-id".to_string())).await;
    // Opened before its folder is added: answered once the folder is.
    let uses_c = client
        .open_text(&c.join("lib/uses.py"), "python", "# TD-0900 uses the chunk\n# TD-0901 does not exist\n")
        .await;
    let before = client.diagnostics(&uses_c, |_| true).await;
    assert!(before.is_empty(), "outside every folder yet: {before:?}");
    published_until_quiet(&mut client, Duration::from_millis(800)).await;

    client
        .notify(
            "workspace/didChangeWorkspaceFolders",
            json!({ "event": {
                "added": [{ "uri": uri(c), "name": "c" }],
                "removed": [{ "uri": uri(b), "name": "folder1" }],
            } }),
        )
        .await;
    // The removed folder's files and documents are cleared.
    client.diagnostics(&refunds_b, |d| d.is_empty()).await;
    client.diagnostics(&uses_b, |d| d.is_empty()).await;
    // The added folder is loaded: its open document, then its files.
    let in_c = client.diagnostics(&uses_c, |d| !d.is_empty()).await;
    assert_eq!(codes(&in_c), vec!["unknown-id"], "{in_c:?}");
    assert!(in_c[0]["message"].as_str().unwrap().contains("TD-0901"), "C defines TD-0900: {in_c:?}");
    client.diagnostics(&uri(&c.join("services/payments/refunds.py")), |d| !d.is_empty()).await;
    let sent = published_until_quiet(&mut client, Duration::from_millis(800)).await;
    assert!(sent.iter().all(|(u, c)| !under(b, u) || c.is_empty()), "nothing of B comes back: {sent:?}");

    let status = client.request("workspace/executeCommand", json!({ "command": "concord.status" })).await;
    let listed: Vec<&str> =
        status["folders"].as_array().unwrap().iter().filter_map(|f| f["uri"].as_str()).collect();
    assert_eq!(listed, vec![uri(a), uri(c)], "{status}");
    let hover = client.request("textDocument/hover", text_position(&uses_b, 0, 4)).await;
    assert_eq!(hover, Value::Null, "a document of a removed folder is served by none");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_names_its_folder_when_there_are_several() {
    let (a, b) = (folder(false), folder(true));
    let (a, b) = (a.path(), b.path());
    let mut client = LspClient::in_process();
    initialize(&mut client, &[a, b], json!({}), json!({ "trusted": true })).await;
    let acquire = |folder: Option<&Path>| {
        let mut argument = json!({ "task": "WBS-005", "agent": "AGENT-7", "scope": ["lib/**"] });
        if let Some(f) = folder {
            argument["folder"] = json!(uri(f));
        }
        json!({ "command": "concord.lock.acquire", "arguments": [argument] })
    };

    let id = client.request_async("workspace/executeCommand", acquire(None)).await;
    let refused = client.response(id, Duration::from_secs(30)).await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains(&uri(a)) && message.contains(&uri(b)), "names the folders: {message}");
    assert!(!a.join("ops/locks/AGENT-7.lock").exists() && !b.join("ops/locks/AGENT-7.lock").exists());

    let id = client.request_async("workspace/executeCommand", acquire(Some(Path::new("/nowhere")))).await;
    let unknown = client.response(id, Duration::from_secs(30)).await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");

    let done = client.request("workspace/executeCommand", acquire(Some(b))).await;
    assert_eq!(done["ok"], true, "{done}");
    assert!(b.join("ops/locks/AGENT-7.lock").exists(), "the lock is taken in folder B");
    assert!(!a.join("ops/locks/AGENT-7.lock").exists(), "and not in folder A");

    // Read-only commands too: the queue of the folder named.
    let id = client.request_async("workspace/executeCommand", json!({ "command": "concord.queue" })).await;
    assert_eq!(client.response(id, Duration::from_secs(30)).await["error"]["code"], -32602);
    let queue = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "concord.queue", "arguments": [{ "folder": uri(b) }] }),
        )
        .await;
    assert!(queue.as_array().unwrap().iter().any(|i| i["id"] == "WBS-005"), "{queue}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_folder_owns_its_files_until_it_is_removed() {
    // The outer folder defines TD-0103; the folder nested in it has a spec of its own without it.
    let outer = folder(false);
    let outer = outer.path();
    let inner = outer.join("sub");
    write(&inner, "docs/blueprints/inner.md", "# Inner\n\n## TD-0500 Inner only\nA chunk.\n");
    write(&inner, "lib/x.py", "# TD-0103 payments\n");
    let x = uri(&inner.join("lib/x.py"));
    let mut client = LspClient::in_process();
    initialize(&mut client, &[outer, &inner], json!({}), json!({ "diagnosticsScope": "workspace" })).await;
    let diags = client.diagnostics(&x, |d| codes(d).contains(&"unknown-id".to_string())).await;
    assert!(diags[0]["message"].as_str().unwrap().contains("TD-0103"), "{diags:?}");
    let sent = published_until_quiet(&mut client, Duration::from_millis(800)).await;
    let last = sent.iter().rev().find(|(u, _)| *u == x);
    assert!(
        last.is_none_or(|(_, c)| c.contains(&"unknown-id".to_string())),
        "the outer folder never answers for it: {sent:?}"
    );

    // A save of the file reaches both workspaces; the inner one answers for it.
    write(&inner, "lib/x.py", "# TD-0103 payments\n# TD-0888 nowhere\n");
    client.notify("textDocument/didSave", json!({ "textDocument": { "uri": x } })).await;
    client.diagnostics(&x, |d| codes(d).iter().filter(|c| *c == "unknown-id").count() == 2).await;

    // The inner folder removed: the outer one, which defines TD-0103, answers for the file now.
    client
        .notify(
            "workspace/didChangeWorkspaceFolders",
            json!({ "event": { "added": [], "removed": [{ "uri": uri(&inner), "name": "folder1" }] } }),
        )
        .await;
    let diags = client.diagnostics(&x, |d| !d.is_empty()).await;
    let unknown: Vec<&Value> = diags.iter().filter(|d| d["code"] == "unknown-id").collect();
    assert_eq!(unknown.len(), 1, "only TD-0888 is unknown in the outer folder: {diags:?}");
    assert!(unknown[0]["message"].as_str().unwrap().contains("TD-0888"), "{diags:?}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}
