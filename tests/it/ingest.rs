//! `concord ingest` end to end: the index derived from the markdown, entries the markdown does
//! not define kept, an embedding kept while its chunk's text is the same, and a second run that
//! changes nothing.

use serde_json::{json, Value};

use crate::common;

const PAYMENTS: &str = "# Payments\n\n## TD-0001 Refunds\n\nPriority: must\n\nRefunds go back to the card within 5 days. Partial refunds are allowed.\n\n## TD-0002 Receipts\n\nEvery charge gets a receipt by email.\n";

fn ingest(root: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["ingest"];
    args.extend(extra);
    args.extend(["-C", root.to_str().unwrap()]);
    common::concord(&args, None)
}

fn index(root: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root.join("docs/blueprints/blueprint_index.json")).unwrap())
        .unwrap()
}

#[test]
fn the_index_is_derived_from_the_markdown_and_a_second_run_changes_nothing() {
    let hand_written = json!({ "version": 1, "chunks": [
        { "id": "NT-0009", "title": "Written by hand", "summary": "Not in any markdown." },
        { "id": "TD-0002", "title": "Old receipts title", "embedding": [0.5, 0.25] },
        { "id": "TD-0003", "title": "Gone", "source": "docs/blueprints/old.md", "line": 3 }
    ]});
    let ws = common::workspace(&[
        ("docs/blueprints/payments.md", PAYMENTS.as_bytes()),
        ("docs/blueprints/blueprint_index.json", hand_written.to_string().as_bytes()),
    ]);
    let root = ws.path();
    let dry = ingest(root, &["--dry-run"]);
    assert!(common::stdout(&dry).contains("would write"), "{}", common::stderr(&dry));
    assert_eq!(index(root), hand_written, "a dry run writes nothing");

    let out = ingest(root, &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        common::stdout(&out).contains("2 chunks from the markdown (1 new, 1 changed, 1 removed), 1 entries"),
        "{}",
        common::stdout(&out)
    );
    let written = index(root);
    let by_id = |id: &str| written["chunks"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned();
    let refunds = by_id("TD-0001").unwrap();
    assert_eq!(refunds["title"], "Refunds");
    assert_eq!(refunds["summary"], "Refunds go back to the card within 5 days. Partial refunds are allowed.");
    assert_eq!(refunds["priority"], "must");
    assert_eq!(refunds["topic"], "Payments");
    assert_eq!(
        (refunds["source"].as_str(), refunds["line"].as_u64()),
        (Some("docs/blueprints/payments.md"), Some(3))
    );
    assert_eq!(refunds["fingerprint"].as_str().map(str::len), Some(16));
    // A hand-written entry stays; one whose markdown is gone goes; the derived fields replace the
    // old ones, and an embedding of a text that changed is dropped.
    assert_eq!(by_id("NT-0009").unwrap()["summary"], "Not in any markdown.");
    assert!(by_id("TD-0003").is_none());
    let receipts = by_id("TD-0002").unwrap();
    assert_eq!(receipts["title"], "Receipts");
    assert!(receipts.get("embedding").is_none(), "the text changed: {receipts}");

    // The index is valid and what the model reads; a second run is a no-op.
    let report =
        common::concord(&["check", root.to_str().unwrap(), "--format", "json", "--fail-on", "never"], None);
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["code"] != "malformed-file"), "{report}");
    let bytes = std::fs::read(root.join("docs/blueprints/blueprint_index.json")).unwrap();
    let again = ingest(root, &[]);
    assert!(common::stdout(&again).contains("is up to date"), "{}", common::stdout(&again));
    assert_eq!(std::fs::read(root.join("docs/blueprints/blueprint_index.json")).unwrap(), bytes);

    // An embedding survives while its chunk's text is the same.
    let mut with_embedding = index(root);
    with_embedding["chunks"].as_array_mut().unwrap().iter_mut().find(|c| c["id"] == "TD-0001").unwrap()
        ["embedding"] = json!([1.0, 0.0]);
    std::fs::write(root.join("docs/blueprints/blueprint_index.json"), with_embedding.to_string()).unwrap();
    assert!(ingest(root, &[]).status.success());
    let kept =
        index(root)["chunks"].as_array().unwrap().iter().find(|c| c["id"] == "TD-0001").cloned().unwrap();
    assert_eq!(kept["embedding"], json!([1.0, 0.0]));
}

#[test]
fn verify_blueprints_says_where_the_index_and_the_markdown_disagree() {
    let ws = common::workspace(&[("docs/blueprints/payments.md", PAYMENTS.as_bytes())]);
    let root = ws.path();
    assert!(ingest(root, &[]).status.success());
    let verify = || common::concord(&["verify-blueprints", "-C", root.to_str().unwrap()], None);
    let out = verify();
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
    assert!(common::stdout(&out).contains("agrees with the markdown (2 chunks)"));

    let mut index = index(root);
    let chunks = index["chunks"].as_array_mut().unwrap();
    chunks.push(json!({ "id": "NT-0009", "title": "Only in the index" }));
    chunks.push(json!({ "id": "NT-0010", "title": "Moved away", "source": "docs/blueprints/gone.md" }));
    std::fs::write(
        root.join("docs/blueprints/blueprint_index.json"),
        serde_json::to_string_pretty(&index).unwrap(),
    )
    .unwrap();
    let edited = PAYMENTS.replace("within 5 days", "within 10 days")
        + "\n## TD-0005 Chargebacks\n\nDisputes are answered in a day.\n";
    std::fs::write(root.join("docs/blueprints/payments.md"), edited).unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(1));
    let said = common::stdout(&out);
    for expected in [
        "TD-0001: its section changed since the index was written",
        "TD-0005: the markdown defines it but",
        "NT-0009: no markdown section under docs/blueprints defines it",
        "NT-0010: its source docs/blueprints/gone.md does not exist",
    ] {
        assert!(said.contains(expected), "{expected}:\n{said}");
    }
    assert!(said.contains("blueprint-drift"), "{said}");
    assert!(!said.contains("TD-0002:"), "an unchanged chunk is not reported:\n{said}");
}
