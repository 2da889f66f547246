//! Item-level tracing end to end on the demo, and the quality of ID suggestions measured on
//! it: for every item tagged directly, hide its own tag and ask where its true ID ranks.

use crate::common;

use concord::analysis::Neighbours;
use concord::findings::Severity;
use concord::workspace::Workspace;

fn item_level_demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&common::demo(), dir.path());
    std::fs::write(dir.path().join("concord.toml"), "[trace]\nlevel = \"item\"\n").unwrap();
    dir
}

/// An item tagged directly with a known ID, as the ranking is measured on it: its words, and
/// the lines of its own tag (comments above it and its docstring), which are hidden.
struct TaggedItem<'w> {
    facts: &'w concord::scan::FileFacts,
    name: &'w str,
    query: Vec<String>,
    truth: Vec<&'w String>,
    hidden: (u32, u32),
}

fn tagged_items(ws: &Workspace) -> Vec<TaggedItem<'_>> {
    let mut out = Vec::new();
    for facts in ws.files.values() {
        for item in &facts.items {
            let truth: Vec<&String> = item.ids.iter().filter(|id| ws.model.is_known(id)).collect();
            if !truth.is_empty() {
                out.push(TaggedItem {
                    facts,
                    name: &item.name,
                    query: item.suggestion_words(),
                    truth,
                    hidden: (item.insert_line.saturating_sub(3), item.name_span.start.line + 3),
                });
            }
        }
    }
    out
}

#[test]
fn suggestions_rank_the_true_id_first_often_enough() {
    let dir = item_level_demo();
    let ws = Workspace::load(dir.path()).unwrap();
    let neighbours = Neighbours::new(&ws.model, ws.facts());
    let (mut total, mut first, mut top3) = (0, 0, 0);
    for case in tagged_items(&ws) {
        let ranked = neighbours.suggest(&ws.model, case.facts, &case.query, Some(case.hidden));
        total += 1;
        if ranked.first().is_some_and(|c| case.truth.contains(&&c.id)) {
            first += 1;
        }
        if ranked.iter().take(3).any(|c| case.truth.contains(&&c.id)) {
            top3 += 1;
        }
    }
    let (at1, at3) = (first as f64 / total as f64, top3 as f64 / total as f64);
    println!("suggestion ranking on the demo: {total} tagged items, true ID first {:.1}%, in the first three {:.1}%", at1 * 100.0, at3 * 100.0);
    assert!(total >= 50, "the demo has enough tagged items to measure ({total})");
    assert!(at1 >= 0.40, "first-suggestion rate {at1:.2} fell below the floor");
    assert!(at3 >= 0.75, "top-three rate {at3:.2} fell below the floor");
}

/// The cases behind the ranking test, for measuring other rankers beside it (bench/embedding_gain.py):
/// with `CONCORD_SUGGESTION_CASES=path`, writes every tagged item's query text, true IDs and
/// Concord's ranked candidates with their scores (the same hiding as above), and the text of
/// every chunk and work item.
#[test]
#[ignore = "writes a data file for bench/embedding_gain.py"]
fn dump_suggestion_cases() {
    let out = std::env::var("CONCORD_SUGGESTION_CASES").expect("CONCORD_SUGGESTION_CASES=path to write");
    let dir = item_level_demo();
    let ws = Workspace::load(dir.path()).unwrap();
    let neighbours = Neighbours::new(&ws.model, ws.facts());
    let mut cases = Vec::new();
    for case in tagged_items(&ws) {
        // Every candidate with a score, best first (the first three are the test's).
        let ranked =
            neighbours.suggest_up_to(&ws.model, case.facts, &case.query, Some(case.hidden), usize::MAX);
        let candidates: Vec<serde_json::Value> =
            ranked.iter().map(|c| serde_json::json!({"id": c.id, "score": c.score})).collect();
        cases.push(serde_json::json!({
            "path": case.facts.path,
            "item": case.name,
            "query": case.query,
            "truth": case.truth,
            "candidates": candidates,
        }));
    }
    let chunks: Vec<serde_json::Value> = ws
        .model
        .chunks
        .values()
        .map(|c| serde_json::json!({"id": c.id, "title": c.title, "summary": c.summary, "topic": c.topic}))
        .collect();
    let work: Vec<serde_json::Value> = ws
        .model
        .work
        .values()
        .map(|w| serde_json::json!({"id": w.id, "title": w.title, "criteria": w.acceptance_criteria}))
        .collect();
    let dump = serde_json::json!({"cases": cases, "chunks": chunks, "work": work});
    std::fs::write(&out, serde_json::to_string_pretty(&dump).unwrap()).unwrap();
    println!("{} cases, {} chunks, {} work items written to {out}", cases.len(), chunks.len(), work.len());
}

#[test]
fn item_level_check_reports_untraced_items_with_a_fix() {
    let dir = item_level_demo();
    let out = common::concord(&["check", ".", "--format", "json"], Some(dir.path()));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items: Vec<&serde_json::Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "untraced-item").collect();
    let banner = items
        .iter()
        .find(|f| {
            f["path"] == "web/src/legacy/banner.ts"
                && f["message"].as_str().unwrap().contains("shouldShowBanner")
        })
        .unwrap();
    assert_eq!(banner["range"]["start"]["line"], 9);
    let edit = &banner["fix"]["edits"][0];
    assert!(edit["new_text"].as_str().unwrap().starts_with("// implements "), "{edit}");
    assert_eq!(edit["range"]["start"]["character"], 0);
    let totals = &report["summary"]["items"];
    assert!(
        totals["code_traced"].as_u64().unwrap() > 100 && totals["test_traced"].as_u64().unwrap() > 50,
        "{totals}"
    );
    // The crosswalk counts items per chunk.
    let out = common::concord(&["crosswalk", "."], Some(dir.path()));
    assert_eq!(out.status.code(), Some(0));
    let crosswalk: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("docs/blueprints/crosswalk.json")).unwrap(),
    )
    .unwrap();
    let counted = crosswalk["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["items"]["code"].as_u64().unwrap_or(0) > 0)
        .count();
    assert!(counted > 20, "{counted} chunks have traced code items");
}

#[test]
fn ids_in_string_literals_are_data_not_traces() {
    let dir = common::workspace(&[
        ("docs/blueprints/blueprint_index.json", br#"[{"id": "TD-0001", "title": "Login"}]"#),
        ("src/a.py", b"FIXTURE = \"TD-0001 and TD-0999\"\n\ndef f():\n    return 1\n"),
        ("src/b.py", b"# TD-0001\ndef g():\n    return \"TD-0999\"\n"),
        ("src/c.rs", b"/// TD-0001\npub fn h() {}\n"),
    ]);
    let out = common::concord(&["check", ".", "--format", "json", "--fail-on", "never"], Some(dir.path()));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_path = |path: &str| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] == path)
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        by_path("src/a.py"),
        vec!["untraced-file"],
        "a string literal neither traces nor is an unknown ID"
    );
    assert!(by_path("src/b.py").is_empty());
    assert!(by_path("src/c.rs").is_empty(), "a doc comment traces");
}

/// The attribution rules end to end, per language: a comment attached to the first item traces
/// only that item, a comment leading a method traces only the method, and a header separated
/// from the first item traces every item. Each case lists the items left untraced.
#[test]
fn comments_trace_exactly_the_item_they_are_attached_to() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("pay/charge.go", "package pay\n\n// Charge implements TD-0103.\nfunc Charge() {}\n\nfunc RefundOrder() {}\n", &["function RefundOrder"]),
        ("pay/header.go", "// Package pay implements TD-0103.\npackage pay\n\nfunc Charge() {}\n\nfunc RefundOrder() {}\n", &[]),
        ("pay/ledger.go", "package pay\n\ntype Ledger struct{}\n\n// TD-0102\nfunc (l *Ledger) Add() {}\n\nfunc (l *Ledger) Remove() {}\n", &["method Remove", "struct Ledger"]),
        ("src/charge.rs", "/// Charge implements TD-0103.\npub fn charge() {}\n\npub fn refund_order() {}\n", &["function refund_order"]),
        ("src/header.rs", "//! Payments: TD-0103.\n\n/// Charges.\npub fn charge() {}\n\npub fn refund_order() {}\n", &[]),
        ("src/ledger.rs", "pub struct Ledger;\n\nimpl Ledger {\n    // TD-0102\n    pub fn add(&self) {}\n\n    pub fn remove(&self) {}\n}\n", &["impl Ledger", "method remove", "struct Ledger"]),
        ("py/charge.py", "# Charge implements TD-0103.\ndef charge():\n    pass\n\n\ndef refund_order():\n    pass\n", &["function refund_order"]),
        ("py/header.py", "\"\"\"Payments: TD-0103.\"\"\"\n\n\ndef charge():\n    pass\n", &[]),
        ("py/ledger.py", "class Ledger:\n    # TD-0102\n    def add(self):\n        pass\n\n    def remove(self):\n        pass\n", &["class Ledger", "method remove"]),
        ("java/Cart.java", "package shop;\n\n/** The cart: TD-0103. */\npublic class Cart {\n    public void add() {}\n}\n\nclass Other {\n    void run() {}\n}\n", &["class Other", "method run"]),
        ("java/Ledger.java", "package shop;\n\npublic class Ledger {\n    // TD-0102\n    public void add() {}\n\n    public void remove() {}\n}\n", &["class Ledger", "method remove"]),
        ("ts/charge.ts", "// Charge implements TD-0103.\nexport function charge(): void {}\n\nexport function refundOrder(): void {}\n", &["function refundOrder"]),
        ("ts/ledger.ts", "/** Payments: TD-0103 */\n\nexport class Ledger {\n  add(): void {}\n}\n", &[]),
        ("tsx/Banner.tsx", "export class Banner {\n  // TD-0102\n  render() {\n    return <div />;\n  }\n\n  hide() {}\n}\n", &["class Banner", "method hide"]),
        ("js/charge.js", "// Charge implements TD-0103.\nfunction charge() {}\n\nfunction refundOrder() {}\n", &["function refundOrder"]),
        ("c/charge.c", "// Charge implements TD-0103.\nint charge(void) { return 0; }\n\nint refund_order(void) { return 0; }\n", &["function refund_order"]),
        ("c/header.c", "/* Payments: TD-0103 */\n\n#include <stdio.h>\n\nint charge(void) { return 0; }\n", &[]),
        ("cpp/ledger.cpp", "class Ledger {\npublic:\n    // TD-0102\n    void add() {}\n\n    void remove() {}\n};\n", &["class Ledger", "method remove"]),
    ];
    let index = br#"[{"id": "TD-0102", "title": "Ledger"}, {"id": "TD-0103", "title": "Charges"}]"#;
    let mut files: Vec<(&str, &[u8])> = vec![
        ("docs/blueprints/blueprint_index.json", index),
        ("concord.toml", b"[trace]\nlevel = \"item\"\nitems = \"all\"\n"),
    ];
    files.extend(cases.iter().map(|(path, text, _)| (*path, text.as_bytes())));
    let dir = common::workspace(&files);
    let out = common::concord(&["check", ".", "--format", "json", "--fail-on", "never"], Some(dir.path()));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let mut failures = Vec::new();
    for (path, _, expected) in cases {
        let mut untraced: Vec<String> = findings
            .iter()
            .filter(|f| f["path"] == *path && f["code"] == "untraced-item")
            .map(|f| {
                let message = f["message"].as_str().unwrap();
                let what = message.strip_prefix("The ").and_then(|m| m.split(" traces to no").next());
                what.unwrap_or(message).to_string()
            })
            .collect();
        untraced.sort();
        if untraced != *expected {
            failures.push(format!("{path}: untraced {untraced:?}, expected {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The check streams its findings a batch of files at a time: whatever the batch, they come
/// in the order of one sort of them all, workspace-level ones in place.
#[test]
fn streamed_findings_are_the_sorted_findings_whatever_the_batch() {
    let dir = item_level_demo();
    let ws = Workspace::load(dir.path()).expect("load");
    let analysis = concord::analysis::Analysis::new(&ws);
    let mut expected: Vec<concord::findings::Finding> =
        analysis.workspace_findings.values().flatten().cloned().collect();
    expected.extend(concord::analysis::all_file_findings(&ws, &analysis));
    concord::findings::sort(&mut expected);
    assert!(
        expected.len() > 50 && expected.iter().any(|f| f.code == concord::findings::Code::UncoveredChunk)
    );
    let ahead: Vec<_> = std::thread::scope(|scope| {
        concord::analysis::FindingStream::ahead(scope, &ws, &analysis, Severity::Hint).collect()
    });
    assert_eq!(ahead, expected, "computed a batch ahead");
    // Shown from errors up: the same findings in the same order, the hidden untraced items
    // without the suggestions no one would see.
    let shown: Vec<_> = std::thread::scope(|scope| {
        concord::analysis::FindingStream::ahead(scope, &ws, &analysis, Severity::Error).collect()
    });
    assert_eq!(shown.len(), expected.len());
    let mut without_suggestions = 0;
    for (shown, expected) in shown.iter().zip(&expected) {
        if shown.severity < Severity::Error && shown.code == concord::findings::Code::UntracedItem {
            assert_eq!(
                (&shown.path, shown.span, shown.severity),
                (&expected.path, expected.span, expected.severity)
            );
            assert!(shown.fix.is_none() && !shown.message.contains("Likely"), "{shown:?}");
            without_suggestions += usize::from(expected.fix.is_some());
        } else {
            assert_eq!(shown, expected);
        }
    }
    assert!(without_suggestions >= 3, "{without_suggestions}");
    for files in [1, 2, 7, 100, 10_000] {
        let streamed: Vec<_> =
            concord::analysis::FindingStream::with_batches_of(&ws, &analysis, files).collect();
        let first_difference = streamed.iter().zip(&expected).position(|(a, b)| a != b);
        assert!(
            streamed.len() == expected.len() && first_difference.is_none(),
            "batches of {files} files: {} findings streamed, {} expected, first difference at {first_difference:?}: {:?} vs {:?}",
            streamed.len(),
            expected.len(),
            first_difference.map(|i| (&streamed[i].path, streamed[i].span, streamed[i].code)),
            first_difference.map(|i| (&expected[i].path, expected[i].span, expected[i].code)),
        );
    }
}
