//! Secrets written into spec and plan text (a chunk's title or summary in the blueprint index, a
//! chunk heading in markdown, a work item's title or acceptance criterion) are flagged where they
//! are written and redacted everywhere else they are shown: `check` in every format, the
//! crosswalk, `status`, the language server's hovers, links, symbols, completion and lenses, and
//! `concord.queue`. Rewriting the WBS (follow-ups from `apply`) keeps the original text.

use crate::common;

use std::path::Path;

use common::lsp::{text_position, uri, LspClient};
use serde_json::{json, Value};

/// A key-shaped value made at run time, never committed: an OpenAI project key or a GitHub token.
fn generated(seed: u64, openai: bool) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    let mut pick = |n: usize| -> String {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(alphabet[(state % alphabet.len() as u64) as usize])
            })
            .collect()
    };
    if openai {
        format!("sk-proj-{}T3BlbkFJ{}", pick(20), pick(20))
    } else {
        format!("{}{}", "gh", format_args!("p_{}", pick(36)))
    }
}

struct Planted {
    dir: tempfile::TempDir,
    /// (field, token)
    tokens: Vec<(&'static str, String)>,
}

impl Planted {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Fails naming every planted token found in `text`.
    fn assert_absent(&self, what: &str, text: &str) {
        let found: Vec<&str> =
            self.tokens.iter().filter(|(_, t)| text.contains(t.as_str())).map(|(f, _)| *f).collect();
        assert!(found.is_empty(), "{what} shows the secret planted in {found:?}:\n{}", head(text));
    }
}

fn head(text: &str) -> &str {
    &text[..text.len().min(4000)]
}

fn planted() -> Planted {
    let tokens = vec![
        ("index title", generated(1, true)),
        ("index summary", generated(2, false)),
        ("uncovered index title", generated(3, true)),
        ("markdown heading", generated(4, false)),
        ("wbs title", generated(5, true)),
        ("acceptance criterion", generated(6, false)),
    ];
    let t = |n: usize| tokens[n].1.clone();
    let index = json!([
        {"id": "TD-0001", "title": format!("Login with {}", t(0)), "summary": format!("Calls the API as {}", t(1))},
        {"id": "TD-0002", "title": format!("Payments {}", t(2)), "priority": "must"},
    ]);
    let wbs = json!({"items": [{
        "id": "WBS-001", "title": format!("Build login {}", t(4)), "blueprint_ids": ["TD-0001", "TD-0003"],
        "scope_paths": ["src/**"], "acceptance_criteria": [format!("Signs in with {}", t(5))],
        "test_commands": ["true"], "risk_level": "low", "autopilot_mode": "full",
    }]});
    let wbs_text = serde_json::to_string_pretty(&wbs).unwrap() + "\n";
    let heading = format!("# Spec\n\n## TD-0003 Sessions {}\n\nText.\n", t(3));
    let dir = common::workspace(&[
        ("docs/blueprints/blueprint_index.json", serde_json::to_string_pretty(&index).unwrap().as_bytes()),
        ("docs/blueprints/technical/sessions.md", heading.as_bytes()),
        ("ops/wbs.json", wbs_text.as_bytes()),
        ("src/login.py", b"# TD-0001 TD-0003 WBS-001\ndef login():\n    pass\n"),
        ("scratch.py", b"# TD-000\n# WBS-00\n"),
    ]);
    Planted { dir, tokens }
}

fn secret_findings(report: &Value) -> Vec<(String, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "secret")
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["range"]["start"]["line"].as_u64().unwrap_or(0)))
        .collect()
}

#[test]
fn secrets_in_spec_and_plan_text_are_redacted_wherever_they_are_shown() {
    let ws = planted();
    let root = ws.root();
    for format in ["text", "json", "sarif"] {
        let out = common::concord(&["check", "--format", format], Some(root));
        let text = common::stdout(&out);
        assert!(!text.is_empty(), "check --format {format}: {}", common::stderr(&out));
        ws.assert_absent(&format!("check --format {format}"), &text);
        ws.assert_absent(&format!("check --format {format} (stderr)"), &common::stderr(&out));
    }
    // The uncovered chunks are still reported, with their (redacted) titles.
    let out = common::concord(&["check", "--format", "json"], Some(root));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let uncovered: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "uncovered-chunk")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(uncovered.iter().any(|m| m.contains("TD-0002 \"Payments sk-p…(")), "{uncovered:?}");
    assert!(uncovered.iter().any(|m| m.contains("TD-0003 \"Sessions ")), "{uncovered:?}");
    // Each secret is still flagged in its own file, on its own line.
    let flagged = secret_findings(&report);
    let index = std::fs::read_to_string(root.join("docs/blueprints/blueprint_index.json")).unwrap();
    for token in [&ws.tokens[0].1, &ws.tokens[1].1, &ws.tokens[2].1] {
        let line = index.lines().position(|l| l.contains(token.as_str())).unwrap() as u64;
        assert!(
            flagged.contains(&("docs/blueprints/blueprint_index.json".to_string(), line)),
            "the index's secret on line {line} is flagged: {flagged:?}"
        );
    }
    let heading_line = 2;
    assert!(
        flagged.contains(&("docs/blueprints/technical/sessions.md".to_string(), heading_line)),
        "{flagged:?}"
    );
    let wbs = std::fs::read_to_string(root.join("ops/wbs.json")).unwrap();
    for token in [&ws.tokens[4].1, &ws.tokens[5].1] {
        let line = wbs.lines().position(|l| l.contains(token.as_str())).unwrap() as u64;
        assert!(flagged.contains(&("ops/wbs.json".to_string(), line)), "{flagged:?}");
    }

    let out = common::concord(&["status"], Some(root));
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        common::stdout(&out).contains("Build login ghp_")
            || common::stdout(&out).contains("Build login sk-p")
    );
    ws.assert_absent("status", &common::stdout(&out));

    let out = common::concord(&["crosswalk"], Some(root));
    assert!(out.status.success(), "{}", common::stderr(&out));
    ws.assert_absent("crosswalk output", &common::stdout(&out));
    let crosswalk = std::fs::read_to_string(root.join("docs/blueprints/crosswalk.json")).unwrap();
    assert!(crosswalk.contains("TD-0002"));
    ws.assert_absent("crosswalk.json", &crosswalk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_server_shows_no_planted_secret() {
    let ws = planted();
    let root = ws.root();
    let mut client = LspClient::in_process();
    client.initialize(root, json!({}), json!({})).await;
    let login = uri(&root.join("src/login.py"));
    let mut seen = String::new();
    for column in [4, 12, 20] {
        let hover = client.request("textDocument/hover", text_position(&login, 0, column)).await;
        assert!(hover["contents"]["value"].is_string(), "hover at {column}: {hover}");
        seen.push_str(&hover.to_string());
    }
    assert!(seen.contains("Login with sk-p…("), "the hover shows the redacted title: {seen}");
    let links =
        client.request("textDocument/documentLink", json!({ "textDocument": { "uri": login } })).await;
    assert!(links.as_array().is_some_and(|l| l.len() == 3), "{links}");
    seen.push_str(&links.to_string());
    let symbols = client.request("workspace/symbol", json!({ "query": "" })).await;
    assert!(symbols.as_array().is_some_and(|s| s.len() >= 4), "{symbols}");
    seen.push_str(&symbols.to_string());
    let scratch = uri(&root.join("scratch.py"));
    for line in [0, 1] {
        let list = client.request("textDocument/completion", text_position(&scratch, line, 8)).await;
        assert!(list.to_string().contains("-00"), "completion on line {line}: {list}");
        seen.push_str(&list.to_string());
    }
    for file in ["docs/blueprints/technical/sessions.md", "ops/wbs.json", "src/login.py"] {
        let lenses = client
            .request("textDocument/codeLens", json!({ "textDocument": { "uri": uri(&root.join(file)) } }))
            .await;
        seen.push_str(&lenses.to_string());
    }
    let queue = client.request("workspace/executeCommand", json!({ "command": "concord.queue" })).await;
    assert!(queue.as_array().is_some_and(|q| q.len() == 1), "{queue}");
    assert!(queue[0]["title"].as_str().unwrap().starts_with("Build login "), "{queue}");
    seen.push_str(&queue.to_string());
    ws.assert_absent("the language server", &seen);
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[test]
fn apply_adds_follow_ups_without_writing_redacted_text_over_the_original() {
    let ws = planted();
    let root = ws.root();
    let decision = json!({
        "wbs_id": "WBS-001", "decision": "accept", "recommended_status": "done", "summary": "Works",
        "risks": [], "missing_deliverables": [], "test_gaps": [], "acceptance": [],
        "followups": [{"title": "Add metrics", "summary": "Count sign-ins", "blocking": false, "scope_paths": []}]
    });
    let queue = [
        r#"{"id":"WBS-001","status":"in_progress","at":"2026-11-01T00:00:00Z","by":"A1","reason":"dispatched"}"#,
        r#"{"id":"WBS-001","status":"review","at":"2026-11-01T00:01:00Z","by":"A1","reason":"run finished"}"#,
    ]
    .join("\n")
        + "\n";
    std::fs::write(root.join("ops/queue.jsonl"), queue).unwrap();
    std::fs::create_dir_all(root.join("docs/reviews")).unwrap();
    std::fs::write(root.join("docs/reviews/r1.json"), decision.to_string()).unwrap();
    std::fs::write(root.join("docs/reviews/r1.gates.json"), r#"{"passed": true}"#).unwrap();
    std::fs::write(root.join("docs/PROGRESS.md"), "# Progress\n").unwrap();
    let before = std::fs::read_to_string(root.join("ops/wbs.json")).unwrap();

    let out = common::concord(&["apply", "docs/reviews/r1.json"], Some(root));
    assert!(out.status.success(), "{}\n{}", common::stdout(&out), common::stderr(&out));
    ws.assert_absent("apply's output", &common::stdout(&out));
    let after = std::fs::read_to_string(root.join("ops/wbs.json")).unwrap();
    assert_ne!(after, before, "the follow-up was added");
    assert!(after.contains("WBS-001A") && after.contains("Add metrics"), "{after}");
    // Every byte of the original item is kept, its secrets included: they are reported there, and
    // only the owner may remove them. Nothing redacted is written into the file.
    let item_end = before.rfind('}').unwrap();
    let item_end = before[..item_end].rfind('}').unwrap() + 1;
    assert!(after.starts_with(&before[..item_end]), "the original items are unchanged:\n{after}");
    for (_, token) in &ws.tokens[4..] {
        assert!(after.contains(token.as_str()));
    }
    assert!(!after.contains("…("), "no redacted form is written into the WBS:\n{after}");
}
