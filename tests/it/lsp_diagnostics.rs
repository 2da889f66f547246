//! How diagnostics reach the editor: pulled with result IDs by clients that can (VS Code),
//! pushed within a scope to the others (Neovim), open documents first, only what changed sent
//! again, changes applied in order, files admitted by the walk's rules, stale locks noticed on
//! time. In process, over a duplex.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::lsp::{codes, published_until_quiet, uri, LspClient};
use crate::common::{self};

/// What VS Code declares about diagnostics: it pulls, and accepts refresh requests.
fn pulling_client() -> Value {
    json!({
        "textDocument": { "diagnostic": { "dynamicRegistration": true, "relatedDocumentSupport": false } },
        "workspace": { "diagnostics": { "refreshSupport": true } },
        "window": { "workDoneProgress": true },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pulling_client_gets_result_ids_and_unchanged_reports_and_no_pushes() {
    let root = common::fixture("basic");
    let mut client = LspClient::in_process();
    let init = client.initialize(&root, pulling_client(), json!({ "debounceMs": 0 })).await;
    let provider = &init["capabilities"]["diagnosticProvider"];
    assert_eq!(provider["workspaceDiagnostics"], true, "{init}");
    assert_eq!(provider["interFileDependencies"], true);

    let refunds = client.open(&root.join("services/payments/refunds.py"), "python").await;
    let first =
        client.request("textDocument/diagnostic", json!({ "textDocument": { "uri": refunds } })).await;
    assert_eq!(first["kind"], "full", "{first}");
    assert_eq!(codes(first["items"].as_array().unwrap()), vec!["unknown-id"]);
    let id = first["resultId"].as_str().expect("a result id").to_string();
    let again = client
        .request(
            "textDocument/diagnostic",
            json!({ "textDocument": { "uri": refunds }, "previousResultId": id }),
        )
        .await;
    assert_eq!(again, json!({ "kind": "unchanged", "resultId": id }));

    // An edit that changes the findings: a full report with a new ID.
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": refunds, "version": 2 },
                "contentChanges": [{ "text": "def refund(amount):\n    # TD-0104 refunds\n    return -amount\n" }],
            }),
        )
        .await;
    let edited = client
        .request(
            "textDocument/diagnostic",
            json!({ "textDocument": { "uri": refunds }, "previousResultId": id }),
        )
        .await;
    assert_eq!(edited["kind"], "full");
    assert!(codes(edited["items"].as_array().unwrap()).is_empty(), "{edited}");

    // The workspace: files in the default scope that are not open (the ops files here).
    let workspace = client.request("workspace/diagnostic", json!({ "previousResultIds": [] })).await;
    let items = workspace["items"].as_array().unwrap();
    let wbs = uri(&root.join("ops/wbs.json"));
    let entry =
        items.iter().find(|i| i["uri"] == wbs).unwrap_or_else(|| panic!("wbs.json reported: {workspace}"));
    assert_eq!(entry["kind"], "full");
    assert!(codes(entry["items"].as_array().unwrap()).contains(&"unknown-reference".to_string()));
    assert!(items.iter().all(|i| i["uri"] != refunds), "open documents are pulled on their own");
    let cleanup = uri(&root.join("tools/cleanup.py"));
    assert!(items.iter().all(|i| i["uri"] != cleanup), "warnings of files not open stay out: {workspace}");
    let held: Vec<Value> = items.iter().map(|i| json!({ "uri": i["uri"], "value": i["resultId"] })).collect();
    let second = client.request("workspace/diagnostic", json!({ "previousResultIds": held })).await;
    for item in second["items"].as_array().unwrap() {
        assert_eq!(item["kind"], "unchanged", "{item}");
    }

    // A client that holds a report for a file that left the scope is told it is empty.
    let gone = json!([{ "uri": cleanup, "value": "0123456789abcdef" }]);
    let cleared = client.request("workspace/diagnostic", json!({ "previousResultIds": gone })).await;
    let entry = cleared["items"].as_array().unwrap().iter().find(|i| i["uri"] == cleanup).cloned();
    assert_eq!(entry.map(|e| (e["kind"].clone(), e["items"].clone())), Some((json!("full"), json!([]))));

    let pushed =
        client.notifications.iter().filter(|m| m["method"] == "textDocument/publishDiagnostics").count();
    assert_eq!(pushed, 0, "a pulling client is never pushed to");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_client_gets_ops_files_and_errors_by_default_and_everything_on_request() {
    let root = common::fixture("basic");
    let refunds = uri(&root.join("services/payments/refunds.py"));
    let wbs = uri(&root.join("ops/wbs.json"));
    let cleanup = uri(&root.join("tools/cleanup.py"));

    let mut client = LspClient::in_process();
    client.initialize(&root, json!({}), json!({})).await;
    client.diagnostics(&wbs, |d| !d.is_empty()).await;
    let errors = client.diagnostics(&refunds, |d| !d.is_empty()).await;
    assert_eq!(codes(&errors), vec!["unknown-id"], "an error in a file never opened is sent");
    let later = published_until_quiet(&mut client, Duration::from_millis(800)).await;
    assert!(later.iter().all(|(u, _)| *u != cleanup), "warnings of unopened files stay out: {later:?}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));

    let mut client = LspClient::in_process();
    client.initialize(&root, json!({}), json!({ "diagnosticsScope": "workspace" })).await;
    let warnings = client.diagnostics(&cleanup, |d| !d.is_empty()).await;
    assert_eq!(codes(&warnings), vec!["untraced-file"]);
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

/// A workspace of `n` Python files, each naming an unknown ID (an error: sent to every client),
/// and one file to open.
fn large_workspace(n: usize) -> tempfile::TempDir {
    let dir = common::fixture_copy("basic");
    for i in 0..n {
        let path = dir.path().join(format!("gen/m{:02}/f{i:05}.py", i % 50));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("# TD-{:04}\ndef f{i}():\n    return {i}\n", 5000 + i)).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_documents_are_answered_before_the_workspace_is_indexed() {
    let dir = large_workspace(4000);
    let root = dir.path();
    let mut client = LspClient::in_process();
    client
        .initialize(root, json!({ "window": { "workDoneProgress": true } }), json!({ "debounceMs": 0 }))
        .await;
    let stripe =
        client.open_text(&root.join("services/payments/stripe.py"), "python", "# TD-0999 new\n").await;
    let first =
        client.message(Duration::from_secs(30), |m| m["method"] == "textDocument/publishDiagnostics").await;
    assert_eq!(first["params"]["uri"], stripe, "the open document comes first: {first}");
    assert!(
        codes(first["params"]["diagnostics"].as_array().unwrap()).contains(&"unknown-id".to_string()),
        "{first}"
    );
    // The rest comes after, under "indexing" progress.
    let generated = uri(&root.join("gen/m07/f00007.py"));
    let diags = client.diagnostics(&generated, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), vec!["untraced-file", "unknown-id"]);
    let progress = client
        .notifications
        .iter()
        .find(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin")
        .cloned();
    let message = progress.as_ref().map(|p| p["params"]["value"]["message"].clone());
    assert_eq!(message, Some(json!("Indexing the workspace")), "{progress:?}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

async fn saved(client: &mut LspClient, root: &Path, rel: &str) {
    client.notify("textDocument/didSave", json!({ "textDocument": { "uri": uri(&root.join(rel)) } })).await;
}

async fn watched(client: &mut LspClient, root: &Path, changes: &[(&str, u32)]) {
    let changes: Vec<Value> =
        changes.iter().map(|(rel, kind)| json!({ "uri": uri(&root.join(rel)), "type": kind })).collect();
    client.notify("workspace/didChangeWatchedFiles", json!({ "changes": changes })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_sends_only_that_file_and_its_watcher_event_sends_nothing() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    let mut client = LspClient::in_process();
    client.initialize(root, json!({}), json!({ "diagnosticsScope": "workspace" })).await;
    let cleanup = uri(&root.join("tools/cleanup.py"));
    client.diagnostics(&cleanup, |d| !d.is_empty()).await;
    published_until_quiet(&mut client, Duration::from_millis(600)).await;

    write(root, "tools/cleanup.py", "# TD-0777\nprint(\"cleanup\")\n");
    saved(&mut client, root, "tools/cleanup.py").await;
    watched(&mut client, root, &[("tools/cleanup.py", 2)]).await;
    let sent = published_until_quiet(&mut client, Duration::from_millis(1500)).await;
    // An unknown ID traces nothing: the file stays untraced.
    let expected = vec!["untraced-file".to_string(), "unknown-id".to_string()];
    assert_eq!(sent, vec![(cleanup.clone(), expected)], "only the saved file, once");

    // The same bytes saved again: nothing to send.
    saved(&mut client, root, "tools/cleanup.py").await;
    let sent = published_until_quiet(&mut client, Duration::from_millis(800)).await;
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_all_of_ten_files_ends_in_one_consistent_state() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    for i in 0..10 {
        write(root, &format!("lib/m{i}.py"), &format!("# TD-0103\ndef m{i}():\n    pass\n"));
    }
    let mut client = LspClient::in_process();
    client.initialize(root, json!({}), json!({ "diagnosticsScope": "workspace" })).await;
    client.diagnostics(&uri(&root.join("tools/cleanup.py")), |d| !d.is_empty()).await;
    published_until_quiet(&mut client, Duration::from_millis(600)).await;
    // Even files get an unknown ID, odd ones lose their tag.
    for i in 0..10 {
        let text = if i % 2 == 0 { format!("# TD-09{i}0\n") } else { format!("def m{i}():\n    pass\n") };
        write(root, &format!("lib/m{i}.py"), &text);
    }
    for i in 0..10 {
        saved(&mut client, root, &format!("lib/m{i}.py")).await;
    }
    let events: Vec<(String, u32)> = (0..10).map(|i| (format!("lib/m{i}.py"), 2)).collect();
    let events: Vec<(&str, u32)> = events.iter().map(|(p, k)| (p.as_str(), *k)).collect();
    watched(&mut client, root, &events).await;
    let sent = published_until_quiet(&mut client, Duration::from_millis(2000)).await;
    let mut last: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (u, c) in &sent {
        last.insert(u.clone(), c.clone());
    }
    for i in 0..10 {
        let expected: &[&str] =
            if i % 2 == 0 { &["untraced-file", "unknown-id"] } else { &["untraced-file"] };
        let file = uri(&root.join(format!("lib/m{i}.py")));
        let got: Option<Vec<&str>> = last.get(&file).map(|c| c.iter().map(String::as_str).collect());
        assert_eq!(got.as_deref(), Some(expected), "lib/m{i}.py in {sent:?}");
        let times = sent.iter().filter(|(u, _)| *u == file).count();
        assert_eq!(times, 1, "lib/m{i}.py sent once: {sent:?}");
    }
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_under_an_ignored_folder_stays_out_as_in_check() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    write(root, ".gitignore", "build/\n*.log\n");
    let mut client = LspClient::in_process();
    client.initialize(root, json!({}), json!({ "diagnosticsScope": "workspace" })).await;
    client.diagnostics(&uri(&root.join("tools/cleanup.py")), |d| !d.is_empty()).await;

    write(root, "build/out/gen.py", "# TD-0555\n");
    write(root, "tools/run.log", "TD-0556\n");
    write(root, ".cache/x.py", "# TD-0557\n");
    write(root, "tools/new.py", "# TD-0558\n");
    watched(
        &mut client,
        root,
        &[("build/out/gen.py", 1), ("tools/run.log", 1), (".cache/x.py", 1), ("tools/new.py", 1)],
    )
    .await;
    let new = uri(&root.join("tools/new.py"));
    let diags = client.diagnostics(&new, |d| !d.is_empty()).await;
    assert_eq!(codes(&diags), vec!["untraced-file", "unknown-id"], "the control file is admitted");
    let sent = published_until_quiet(&mut client, Duration::from_millis(600)).await;
    let outside: Vec<&(String, Vec<String>)> = sent
        .iter()
        .filter(|(u, _)| u.contains("build/") || u.ends_with(".log") || u.contains(".cache"))
        .collect();
    assert!(outside.is_empty(), "ignored and hidden files stay out: {outside:?}");

    let check = common::concord(&["check", "--format", "json", "--fail-on", "never"], Some(root));
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let paths: Vec<&str> =
        report["findings"].as_array().unwrap().iter().filter_map(|f| f["path"].as_str()).collect();
    assert!(paths.contains(&"tools/new.py"));
    assert!(!paths.iter().any(|p| p.starts_with("build/") || p.ends_with(".log") || p.starts_with(".cache")));
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_that_goes_stale_while_the_editor_is_open_is_flagged() {
    let now = concord::time::format_rfc3339(concord::time::now_secs());
    let lock = format!(
        "{{\"agent\": \"AGENT-9\", \"task_id\": \"WBS-005\", \"scope_paths\": [\"tools/**\"], \"acquired_at\": \"{now}\"}}\n"
    );
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    std::fs::remove_file(root.join("ops/locks/AGENT-1.lock")).unwrap();
    write(root, "ops/locks/AGENT-9.lock", &lock);
    write(root, "concord.toml", "[locks]\nstale_after = \"2s\"\n");
    let mut client = LspClient::in_process();
    client.initialize(root, json!({}), json!({})).await;
    let lock_uri = uri(&root.join("ops/locks/AGENT-9.lock"));
    let diags = client.diagnostics(&lock_uri, |d| codes(d).contains(&"stale-lock".to_string())).await;
    assert!(diags[0]["message"].as_str().unwrap().contains("AGENT-9"), "{diags:?}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ops_file_change_rebuilds_the_model_without_indexing_again() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    let mut client = LspClient::in_process();
    client.initialize(root, json!({ "window": { "workDoneProgress": true } }), json!({})).await;
    let wbs = uri(&root.join("ops/wbs.json"));
    let before = client.diagnostics(&wbs, |d| !d.is_empty()).await;
    assert!(before.iter().any(|d| d["message"].as_str().unwrap_or("").contains("TD-0999")), "{before:?}");
    published_until_quiet(&mut client, Duration::from_millis(500)).await;
    let indexing = |client: &LspClient| {
        client
            .notifications
            .iter()
            .filter(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin")
            .count()
    };
    let loads = indexing(&client);
    assert_eq!(loads, 1);

    let text =
        std::fs::read_to_string(root.join("ops/wbs.json")).unwrap().replace("\"TD-0999\"", "\"TD-0104\"");
    write(root, "ops/wbs.json", &text);
    watched(&mut client, root, &[("ops/wbs.json", 2)]).await;
    let after = client
        .diagnostics(&wbs, |d| !d.iter().any(|d| d["message"].as_str().unwrap_or("").contains("TD-0999")))
        .await;
    assert!(!after.is_empty(), "the other findings of wbs.json stay: {after:?}");
    published_until_quiet(&mut client, Duration::from_millis(500)).await;
    assert_eq!(indexing(&client), loads, "no second indexing for an ops file");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

/// The findings carried over file by file after a save equal those of a fresh load.
#[test]
fn findings_carried_over_after_a_change_equal_a_fresh_load() {
    use concord::analysis::Loaded;
    use concord::workspace::{rescan, Workspace};
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    write(root, "services/payments/ledger.py", "# TD-0103\ndef post():\n    pass\n");
    write(root, "services/payments/void.py", "def void():\n    pass\n");
    write(root, "tools/other.py", "print(1)\n");
    write(root, "concord.toml", "[trace]\nlevel = \"item\"\n");
    let before = Loaded::new(Workspace::load(root).unwrap());
    before.summaries();
    // The ledger loses its tag: its neighbours' suggestions lose an ID used in their folder.
    write(root, "services/payments/ledger.py", "def post():\n    pass\n");
    write(root, "tools/new.py", "# TD-0104\n");
    // A test file gains a traced test; the stripe module is deleted.
    write(root, "tests/test_stripe.py", "# TD-0104\ndef test_refund():\n    pass\n");
    std::fs::remove_file(root.join("services/payments/stripe.py")).unwrap();
    let changed: Vec<String> = [
        "services/payments/ledger.py",
        "tools/new.py",
        "tests/test_stripe.py",
        "services/payments/stripe.py",
    ]
    .map(String::from)
    .to_vec();
    let mut ws = before.ws.clone();
    for (path, outcome) in rescan(root, &ws.config, &changed) {
        ws.files.remove(&path);
        if let Ok(facts) = outcome {
            ws.files.insert(path, std::sync::Arc::new(facts));
        }
    }
    let carried = before.after_files_changed(ws, &changed);
    let fresh = Loaded::new(Workspace::load(root).unwrap());
    assert_eq!(carried.summaries(), fresh.summaries());
    assert_eq!(carried.analysis.workspace_findings, fresh.analysis.workspace_findings);
    assert_eq!(carried.analysis.coverage, fresh.analysis.coverage);
    assert_ne!(before.analysis.coverage, fresh.analysis.coverage, "the change moved the coverage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_that_moves_the_coverage_republishes_the_spec_files_it_moves() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    let mut client = LspClient::in_process();
    client.initialize(root, json!({}), json!({ "diagnosticsScope": "workspace" })).await;
    let md = uri(&root.join("docs/blueprints/technical/payments.md"));
    let before = client.diagnostics(&md, |d| !d.is_empty()).await;
    let uncovered = |d: &[Value]| d.iter().filter(|d| d["code"] == "uncovered-chunk").count();
    published_until_quiet(&mut client, Duration::from_millis(600)).await;

    // Code for TD-0104 (refunds): its chunk now misses tests, not code.
    write(
        root,
        "services/payments/refunds.py",
        "# TD-0104 refunds\ndef refund(amount):\n    return -amount\n",
    );
    saved(&mut client, root, "services/payments/refunds.py").await;
    let after = client.diagnostics(&md, |d| d != before.as_slice()).await;
    assert_eq!(uncovered(&after), uncovered(&before), "still not covered: no test yet");
    let message = |d: &[Value]| {
        d.iter()
            .filter(|d| d["message"].as_str().unwrap_or("").contains("TD-0104"))
            .map(|d| d["message"].clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(message(&after), message(&before), "TD-0104's finding says what it misses now");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}
