//! Stale references end to end: `concord ack` records what each place was reviewed against; a
//! rewrite of the chunk (not a whitespace or decoration change) makes its places stale at the
//! place and at the chunk; `ack` of the place, or `bump --editorial` of the chunk, clears them.

use serde_json::Value;

use crate::common;

const SPEC: &str = "# Payments\n\n## TD-0001 Refunds\n\nRefunds go back to the card within 5 days.\n\n## TD-0002 Receipts\n\nEvery charge gets a receipt by email.\n";

/// The `stale-reference` findings of `concord check ROOT EXTRA… --format json`.
fn stale_findings(root: &std::path::Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["check", root.to_str().unwrap()];
    args.extend(extra);
    args.extend(["--format", "json", "--fail-on", "never"]);
    let out = common::concord(&args, None);
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", common::stderr(&out)));
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "stale-reference")
        .cloned()
        .collect()
}

/// Where they are: path and line.
fn stale(root: &std::path::Path) -> Vec<(String, u64)> {
    stale_findings(root, &[])
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["range"]["start"]["line"].as_u64().unwrap_or(0)))
        .collect()
}

fn concord(root: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend(["-C", root.to_str().unwrap()]);
    common::concord(&all, None)
}

#[test]
fn a_rewritten_chunk_makes_its_reviewed_places_stale_until_acked_or_bumped() {
    let ws = common::workspace(&[
        ("concord.toml", b"[trace]\nlevel = \"item\"\nitems = \"all\"\n"),
        ("docs/blueprints/payments.md", SPEC.as_bytes()),
        ("src/refunds.py", b"# implements TD-0001\n\ndef refund():\n    pass\n"),
        ("src/receipts.rs", b"pub struct Mailer;\n\nimpl Mailer {\n    /// Sends it: TD-0002\n    pub fn receipt(&self) {}\n}\n"),
    ]);
    let root = ws.path();
    let out = concord(root, &["ack"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("recorded 2 new place(s)"), "{}", common::stdout(&out));
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("ops/trace.lock")).unwrap()).unwrap();
    let places: Vec<(String, Option<String>)> = lock["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), r["item"].as_str().map(str::to_string)))
        .collect();
    assert_eq!(
        places,
        [
            ("src/refunds.py".to_string(), None),
            ("src/receipts.rs".to_string(), Some("Mailer.receipt".to_string()))
        ]
    );
    let schema = concord::formats::SCHEMAS.iter().find(|s| s.file == "trace-lock.schema.json").unwrap();
    let schema: Value = serde_json::from_str(&schema.render()).unwrap();
    assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&lock), "{lock}");
    assert!(stale(root).is_empty());

    // Wording the normalisation ignores: whitespace, emphasis, line breaks.
    let respaced = SPEC.replace(
        "Refunds go back to the card within 5 days.",
        "Refunds go *back*   to the card\nwithin 5 days.",
    );
    std::fs::write(root.join("docs/blueprints/payments.md"), &respaced).unwrap();
    assert!(stale(root).is_empty(), "whitespace and decoration do not make a place stale");

    // A real rewrite: stale at the place and at the chunk's heading.
    let rewritten = respaced.replace("within 5 days", "within 10 days");
    std::fs::write(root.join("docs/blueprints/payments.md"), &rewritten).unwrap();
    assert_eq!(
        stale(root),
        [("docs/blueprints/payments.md".to_string(), 2), ("src/refunds.py".to_string(), 0)]
    );
    let out = common::concord(&["check", root.to_str().unwrap(), "--fail-on", "never"], None);
    assert!(common::stdout(&out).contains("concord ack TD-0001 src/refunds.py"), "{}", common::stdout(&out));

    // `ack` with no ID records new places only: the stale one stays stale.
    assert!(common::stdout(&concord(root, &["ack"])).contains("1 stale place(s) left"));
    assert_eq!(stale(root).len(), 2);
    let out = concord(root, &["ack", "TD-0001", "src/refunds.py"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(stale(root).is_empty());

    // An item of an item-level file, and a wording-only edit declared as such.
    let reworded = rewritten.replace("by email", "by e-mail");
    std::fs::write(root.join("docs/blueprints/payments.md"), &reworded).unwrap();
    // (The heading moved down a line with the rewrap above.)
    assert_eq!(
        stale(root),
        [("docs/blueprints/payments.md".to_string(), 7), ("src/receipts.rs".to_string(), 4)]
    );
    let out = concord(root, &["bump", "--editorial", "TD-0002"]);
    assert!(common::stdout(&out).contains("1 recorded place(s) kept current"), "{}", common::stdout(&out));
    assert!(stale(root).is_empty());

    // Mistakes are refused, and nothing is written.
    let out = concord(root, &["ack", "TD-0009"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("not a known chunk"), "{}", common::stderr(&out));
    let out = concord(root, &["ack", "TD-0001", "src/other.py"]);
    assert!(
        common::stderr(&out).contains("places tracing to it: src/refunds.py"),
        "{}",
        common::stderr(&out)
    );
    assert_eq!(concord(root, &["bump", "TD-0001"]).status.code(), Some(2), "bump needs --editorial");
    std::fs::write(root.join("ops/trace.lock"), "{\"references\": [{\"chunk\": 1}]}").unwrap();
    let out = concord(root, &["ack"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("cannot be read exactly"), "{}", common::stderr(&out));
    assert_eq!(
        std::fs::read_to_string(root.join("ops/trace.lock")).unwrap(),
        "{\"references\": [{\"chunk\": 1}]}"
    );
}

/// The pre-commit hook tells which reviewed places a staged spec edit makes stale (a note: the
/// commit goes on).
#[test]
fn the_pre_commit_hook_lists_the_places_a_staged_spec_edit_makes_stale() {
    let ws = common::workspace(&[
        ("docs/blueprints/payments.md", SPEC.as_bytes()),
        ("src/refunds.py", b"# implements TD-0001\ndef refund():\n    pass\n"),
    ]);
    let root = ws.path();
    let git = |args: &[&str]| common::git(root, args);
    git(&["init", "-q"]);
    assert!(concord(root, &["ack"]).status.success());
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "start"]);
    std::fs::write(root.join("docs/blueprints/payments.md"), SPEC.replace("5 days", "10 days")).unwrap();
    git(&["add", "docs/blueprints/payments.md"]);
    let out = concord(root, &["hook", "pre-commit"]);
    assert!(out.status.success(), "a note, not a refusal: {}", common::stderr(&out));
    let said = common::stderr(&out);
    assert!(said.contains("TD-0001 changes: 1 place(s)") && said.contains("src/refunds.py"), "{said}");
    assert!(!said.contains("TD-0002"), "an unchanged chunk is not named: {said}");

    // A pull request's check sees the rewrite at the chunk, whatever files it scanned; a
    // `Spec-Reviewed:` trailer in the range says the places were checked.
    git(&["commit", "-q", "-m", "Refunds take longer\n\nImplements: TD-0001"]);
    let changed_stale = |since: &str| -> Vec<String> {
        stale_findings(root, &["--changed-since", since])
            .iter()
            .map(|f| format!("{} {}", f["path"].as_str().unwrap(), f["message"].as_str().unwrap()))
            .collect()
    };
    let found = changed_stale("HEAD~1");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("docs/blueprints/payments.md TD-0001 was rewritten")
            && found[0].contains("src/refunds.py")
    );
    git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "Refunds checked against the new text\n\nSpec-Reviewed: TD-0001",
    ]);
    assert!(changed_stale("HEAD~2").is_empty(), "the trailer clears it in the range");
}

/// In the editor, a stale place offers a "reviewed" quick fix: an edit of the trace lock that
/// records it against the chunk's current text; applied, the place is no longer stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_offers_a_reviewed_quick_fix_that_edits_the_trace_lock() {
    use common::lsp::{uri, LspClient};
    use serde_json::json;
    let ws = common::workspace(&[
        ("docs/blueprints/payments.md", SPEC.as_bytes()),
        ("src/refunds.py", b"# implements TD-0001\ndef refund():\n    pass\n"),
    ]);
    let root = ws.path().canonicalize().unwrap();
    assert!(concord(&root, &["ack"]).status.success());
    std::fs::write(root.join("docs/blueprints/payments.md"), SPEC.replace("5 days", "10 days")).unwrap();

    let mut client = LspClient::in_process();
    client.initialize(&root, json!({ "general": { "positionEncodings": ["utf-16"] } }), json!({})).await;
    let refunds = client.open(&root.join("src/refunds.py"), "python").await;
    let diags = client.diagnostics(&refunds, |d| d.iter().any(|d| d["code"] == "stale-reference")).await;
    let shown: Vec<Value> = diags.into_iter().filter(|d| d["code"] == "stale-reference").collect();
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": refunds }, "range": shown[0]["range"], "context": { "diagnostics": shown } }),
        )
        .await;
    let reviewed = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().is_some_and(|t| t.starts_with("Reviewed: record src/refunds.py")))
        .unwrap_or_else(|| panic!("{actions}"))
        .clone();
    let lock = uri(&root.join("ops/trace.lock"));
    let new_text = reviewed["edit"]["changes"][&lock][0]["newText"].as_str().unwrap().to_string();
    assert_eq!(reviewed["edit"]["changes"][&lock][0]["range"]["start"], json!({ "line": 0, "character": 0 }));
    // The client applies the edit; the server wrote nothing itself.
    assert!(stale_findings(&root, &[]).len() == 2, "still stale until applied");
    std::fs::write(root.join("ops/trace.lock"), new_text).unwrap();
    assert!(stale(&root).is_empty(), "reviewed: {:?}", stale(&root));
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

/// The hover of a rewritten chunk says which places were checked against an older text, and
/// what changed since, word by word (the older text from the git history of its markdown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hover_shows_what_changed_since_the_review() {
    use common::lsp::{text_position, LspClient};
    use serde_json::json;
    let ws = common::workspace(&[
        ("docs/blueprints/payments.md", SPEC.as_bytes()),
        ("src/refunds.py", b"# implements TD-0001\ndef refund():\n    pass\n"),
    ]);
    let root = ws.path().canonicalize().unwrap();
    common::git(&root, &["init", "-q"]);
    assert!(concord(&root, &["ack"]).status.success());
    common::git(&root, &["add", "-A"]);
    common::git(&root, &["commit", "-q", "-m", "start"]);
    std::fs::write(
        root.join("docs/blueprints/payments.md"),
        SPEC.replace("within 5 days", "within 10 working days"),
    )
    .unwrap();

    let mut client = LspClient::in_process();
    client.initialize(&root, json!({}), json!({})).await;
    let refunds = client.open(&root.join("src/refunds.py"), "python").await;
    let hover = client.request("textDocument/hover", text_position(&refunds, 0, 15)).await;
    let text = hover["contents"]["value"].as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("**Rewritten since review**: 1 place(s)") && text.contains("src/refunds.py"),
        "{text}"
    );
    assert!(text.contains("within ~~5~~ **10** **working** days"), "{text}");
    // An unchanged chunk's hover says nothing of the kind.
    let receipts = client.open_text(&root.join("src/receipts.py"), "python", "# TD-0002\n").await;
    let hover = client.request("textDocument/hover", text_position(&receipts, 0, 4)).await;
    assert!(!hover["contents"]["value"].as_str().unwrap_or_default().contains("Rewritten"), "{hover}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}
