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

/// `concord ingest ARGS -C root` with `env`, no agent, trust or provider key from the caller.
fn ingest_with(root: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
    command.arg("ingest").args(args).args(["-C", root.to_str().unwrap()]);
    command
        .env("NO_COLOR", "1")
        .env_remove("CONCORD_AGENT")
        .env_remove("CONCORD_TRUST")
        .env_remove("OPENAI_API_KEY")
        .env_remove("TEST_INGEST_KEY");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn entry(root: &std::path::Path, id: &str) -> Value {
    index(root)["chunks"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or(Value::Null)
}

const INDEX: &str = "docs/blueprints/blueprint_index.json";

#[test]
fn nested_headings_front_matter_crlf_and_non_ascii_titles() {
    let payments = "---\r\ntopic: Zahlungen\r\npriority: must\r\nauthors:\r\n  - someone\r\n---\r\n# Überblick\r\n\r\n## TD-0001 Rückerstattung – Karte\r\n\r\nGeld geht zurück auf die Karte.\r\n\r\n### TD-0002 Teilbeträge\r\n\r\nPriority: could\r\n\r\nTeilweise möglich.\r\n";
    let catalogue = "\u{FEFF}# Catálogo\n\n## Búsqueda\n\n### NT-0001 Filtros ñ\n\nFilters narrow the list.\n\n## NT-0002 Top level\n\nNo enclosing topic but the file's title.\n\n# NT-0003 Alone\n\nA chunk at the top.\n";
    let ws = common::workspace(&[
        ("concord.toml", b"[ingest]\ndefault_priority = \"could\"\n"),
        ("docs/blueprints/de/payments.md", payments.as_bytes()),
        ("docs/blueprints/catalogue.md", catalogue.as_bytes()),
    ]);
    let root = ws.path();
    let out = ingest_with(root, &[], &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    // (id, title, topic, priority, line)
    let expected = [
        ("TD-0001", "Rückerstattung – Karte", Some("Zahlungen"), "must", 9),
        ("TD-0002", "Teilbeträge", Some("Zahlungen"), "could", 13),
        ("NT-0001", "Filtros ñ", Some("Búsqueda"), "could", 5),
        ("NT-0002", "Top level", Some("Catálogo"), "could", 9),
        ("NT-0003", "Alone", None, "could", 13),
    ];
    for (id, title, topic, priority, line) in expected {
        let e = entry(root, id);
        assert_eq!(e["title"], title, "{e}");
        assert_eq!(e["topic"].as_str(), topic, "{e}");
        assert_eq!(e["priority"], priority, "{e}");
        assert_eq!(e["line"], line, "{e}");
    }
    assert_eq!(entry(root, "TD-0001")["summary"], "Geld geht zurück auf die Karte.");
    let again = ingest_with(root, &[], &[]);
    assert!(common::stdout(&again).contains("is up to date"), "{}", common::stdout(&again));
}

#[test]
fn an_id_two_headings_define_is_reported_and_nothing_is_written() {
    let ws = common::workspace(&[
        ("docs/blueprints/a.md", b"## TD-0001 Refunds\n\nOne.\n"),
        ("docs/blueprints/b.md", b"# B\n\n## TD-0002 Other\n\n## TD-0001 Refunds again\n\nTwo.\n"),
    ]);
    let root = ws.path();
    let before = common::snapshot(root);
    let out = ingest_with(root, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    let said = common::stderr(&out);
    assert!(
        said.contains(
            "TD-0001 is defined by more than one heading: docs/blueprints/a.md:1, docs/blueprints/b.md:5"
        ),
        "{said}"
    );
    assert!(said.contains("nothing was written"), "{said}");
    assert_eq!(common::snapshot(root), before);
    let verify = common::concord(&["verify-blueprints", "-C", root.to_str().unwrap()], None);
    assert_eq!(verify.status.code(), Some(1));
    assert!(common::stdout(&verify).contains("duplicate-id"), "{}", common::stdout(&verify));
}

#[test]
fn malformed_front_matter_is_an_error_at_its_line() {
    let ws = common::workspace(&[(
        "docs/blueprints/a.md",
        b"---\ntopic: Payments\npriority: soon\n---\n## TD-0001 X\n",
    )]);
    let root = ws.path();
    let out = ingest_with(root, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    let said = common::stderr(&out);
    assert!(
        said.contains(
            "docs/blueprints/a.md:3: front matter: priority \"soon\" is not one of must, should, could"
        ),
        "{said}"
    );
    assert!(!root.join(INDEX).exists());
    let open = common::workspace(&[("docs/blueprints/a.md", b"---\ntopic: Payments\n## TD-0001 X\n")]);
    let said = common::stderr(&ingest_with(open.path(), &[], &[]));
    assert!(
        said.contains("docs/blueprints/a.md:1: front matter: the front matter opened here is never closed"),
        "{said}"
    );
}

#[test]
fn assign_ids_numbers_new_chunks_once_and_keeps_every_other_byte() {
    // TD-0012 is taken by a reference in code only: it is never given out again.
    let payments = "\u{FEFF}# Payments\r\n\r\n## TD-0007 Refunds\r\n\r\nText.\r\n\r\n## Chargebacks – Überblick\r\n\r\nDisputes.\r\n\r\n## Receipts\r\n";
    let notes =
        "---\nid_family: NT\n---\n# Notes\n\n## Topic\n\n### NT-0004 Child\n\n### Onboarding\n\nSign up.\n";
    let ws = common::workspace(&[
        ("docs/blueprints/payments.md", payments.as_bytes()),
        ("docs/blueprints/notes.md", notes.as_bytes()),
        ("src/pay.py", b"# TD-0012\nprint(1)\n"),
    ]);
    let root = ws.path();
    let before = common::snapshot(root);
    let dry = ingest_with(root, &["--assign-ids", "--dry-run"], &[]);
    assert!(dry.status.success(), "{}", common::stderr(&dry));
    let diff = common::stdout(&dry);
    for expected in [
        "--- a/docs/blueprints/notes.md\n+++ b/docs/blueprints/notes.md\n@@ -10 +10 @@\n-### Onboarding\n+### NT-0005 Onboarding\n",
        "--- a/docs/blueprints/payments.md\n+++ b/docs/blueprints/payments.md\n@@ -7 +7 @@\n-## Chargebacks – Überblick\n+## TD-0013 Chargebacks – Überblick\n@@ -11 +11 @@\n-## Receipts\n+## TD-0014 Receipts\n",
        "would give 3 headings an ID in 2 files",
        "nothing was written",
    ] {
        assert!(diff.contains(expected), "{expected}\n--- in ---\n{diff}");
    }
    assert!(!diff.contains("Topic"), "a topic with ID'd children keeps no ID:\n{diff}");
    assert_eq!(common::snapshot(root), before, "a dry run writes nothing");

    use std::os::unix::fs::PermissionsExt;
    let payments_path = root.join("docs/blueprints/payments.md");
    std::fs::set_permissions(&payments_path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = ingest_with(root, &["--assign-ids"], &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("gave 3 headings an ID in 2 files"), "{}", common::stdout(&out));
    assert_eq!(std::fs::metadata(&payments_path).unwrap().permissions().mode() & 0o777, 0o640);
    let written = std::fs::read(root.join("docs/blueprints/payments.md")).unwrap();
    let expected = payments
        .replace("## Chargebacks", "## TD-0013 Chargebacks")
        .replace("## Receipts", "## TD-0014 Receipts");
    assert_eq!(String::from_utf8(written).unwrap(), expected, "BOM and CRLF kept");
    assert_eq!(entry(root, "TD-0013")["title"], "Chargebacks – Überblick");
    assert_eq!(entry(root, "TD-0014")["source"], "docs/blueprints/payments.md");
    assert_eq!(entry(root, "NT-0005")["topic"], "Topic");

    let after = common::snapshot(root);
    let again = ingest_with(root, &["--assign-ids"], &[]);
    assert!(
        common::stdout(&again).contains("every heading at the chunk level has an ID"),
        "{}",
        common::stdout(&again)
    );
    assert!(common::stdout(&again).contains("is up to date"), "{}", common::stdout(&again));
    assert_eq!(common::snapshot(root), after, "a second run changes nothing");
}

fn summaries_config(base: &str) -> String {
    format!("[review]\nllm_timeout = \"20s\"\nopenai_base_url = \"{base}/v1\"\nopenai_model = \"summary-model\"\nopenai_key_env = \"TEST_INGEST_KEY\"\n")
}

const KEY: (&str, &str) = ("TEST_INGEST_KEY", "sk-test-ingest-0123456789");

#[test]
fn summarize_asks_once_retries_a_429_and_caches_by_fingerprint() {
    let llm = common::fakes::FakeLlm::start();
    let answer = json!({ "summaries": [
        { "id": "TD-0001", "summary": "Refunds return to the card in five days." },
        { "id": "TD-0002", "summary": "Each charge is receipted by email." }
    ]});
    llm.script(
        "/v1/chat/completions",
        vec![
            common::fakes::Reply::Status(
                429,
                vec![("retry-after-ms".into(), "10".into())],
                "{\"error\":\"slow down\"}".into(),
            ),
            common::fakes::Reply::Json(common::fakes::chat_answer(&answer)),
        ],
    );
    let ws = common::workspace(&[
        ("concord.toml", summaries_config(&llm.base).as_bytes()),
        ("docs/blueprints/payments.md", PAYMENTS.as_bytes()),
    ]);
    let root = ws.path();
    let untrusted = ingest_with(root, &["--summarize"], &[KEY]);
    assert_eq!(untrusted.status.code(), Some(2), "{}", common::stderr(&untrusted));
    assert!(common::stderr(&untrusted).contains("not a trusted workspace"));
    assert!(llm.requests().is_empty());

    let out = ingest_with(root, &["--summarize", "--trust"], &[KEY]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let said = common::stdout(&out);
    assert!(said.contains("2 written by summary-model (1 requests)"), "{said}");
    assert!(!said.contains(KEY.1));
    let refunds = entry(root, "TD-0001");
    assert_eq!(refunds["summary"], "Refunds return to the card in five days.");
    assert_eq!(refunds["summary_by"], "model");
    let schema = common::repo_root().join("docs/schemas/blueprint-index.schema.json");
    assert_eq!(common::validate(&schema, &index(root)), Vec::<String>::new());
    let requests = llm.requests();
    assert_eq!(requests.len(), 2, "the 429 and its retry");
    let request = &requests[1];
    assert_eq!(request.body["model"], "summary-model");
    assert_eq!(request.body["response_format"]["json_schema"]["strict"], true);
    let prompt = request.body["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("TD-0001") && prompt.contains("Partial refunds are allowed."), "{prompt}");
    assert!(request.headers.iter().any(|(k, v)| k == "authorization" && v == &format!("Bearer {}", KEY.1)));

    // Idempotent: no request, nothing changed; the model's summary stays without --summarize.
    let bytes = std::fs::read(root.join(INDEX)).unwrap();
    for args in [&["--summarize", "--trust"][..], &[]] {
        let again = ingest_with(root, args, &[KEY]);
        assert!(common::stdout(&again).contains("is up to date"), "{}", common::stdout(&again));
        assert_eq!(std::fs::read(root.join(INDEX)).unwrap(), bytes);
    }
    assert_eq!(llm.requests().len(), 2);
    // The index gone, the cache answers.
    std::fs::remove_file(root.join(INDEX)).unwrap();
    let rebuilt = ingest_with(root, &["--summarize", "--trust"], &[KEY]);
    assert!(common::stdout(&rebuilt).contains("2 from the cache"), "{}", common::stdout(&rebuilt));
    assert_eq!(std::fs::read(root.join(INDEX)).unwrap(), bytes);
    assert_eq!(llm.requests().len(), 2);
    assert!(root.join(".concord/cache/CACHEDIR.TAG").exists());
    // A changed section loses the model's summary (and is asked for again with --summarize).
    std::fs::write(root.join("docs/blueprints/payments.md"), PAYMENTS.replace("5 days", "10 days")).unwrap();
    assert!(ingest_with(root, &[], &[]).status.success());
    let changed = entry(root, "TD-0001");
    assert!(changed.get("summary_by").is_none(), "{changed}");
    assert!(changed["summary"].as_str().unwrap().contains("10 days"), "{changed}");
    assert_eq!(entry(root, "TD-0002")["summary_by"], "model");
}

#[test]
fn summarize_failures_are_clear_errors_and_write_nothing() {
    let llm = common::fakes::FakeLlm::start();
    let off_schema = json!({ "summaries": [{ "id": "TD-0001", "summary": "x", "confidence": 0.9 }] });
    llm.always("/v1/chat/completions", common::fakes::Reply::Json(common::fakes::chat_answer(&off_schema)));
    let ws = common::workspace(&[
        ("concord.toml", summaries_config(&llm.base).as_bytes()),
        ("docs/blueprints/payments.md", PAYMENTS.as_bytes()),
    ]);
    let root = ws.path();
    let before = common::snapshot(root);
    let out = ingest_with(root, &["--summarize", "--trust"], &[KEY]);
    assert_eq!(out.status.code(), Some(1));
    let said = common::stderr(&out);
    assert!(said.contains("did not give a usable summary for TD-0001, TD-0002"), "{said}");
    assert!(said.contains("unexpected `confidence`") && said.contains("nothing was written"), "{said}");
    assert_eq!(common::snapshot(root), before);

    // No key for a server elsewhere: said before any request.
    let remote = common::workspace(&[
        ("concord.toml", b"[review]\nopenai_base_url = \"https://api.example.invalid/v1\"\nopenai_key_env = \"TEST_INGEST_KEY\"\n"),
        ("docs/blueprints/payments.md", PAYMENTS.as_bytes()),
    ]);
    let out = ingest_with(remote.path(), &["--summarize", "--trust"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stderr(&out).contains("set the environment variable TEST_INGEST_KEY"),
        "{}",
        common::stderr(&out)
    );
    assert!(!remote.path().join(INDEX).exists());
}

#[test]
fn embed_sends_the_openai_wire_format_and_keeps_the_vectors() {
    let llm = common::fakes::FakeLlm::start();
    // Answered out of order: `index` says which input each vector is for.
    let answer = json!({ "object": "list", "model": "nomic-embed-text", "data": [
        { "object": "embedding", "index": 1, "embedding": [0.25, -0.5, 1.0] },
        { "object": "embedding", "index": 0, "embedding": [0.125, 0.0, -1.5e-3] }
    ]});
    llm.script("/v1/embeddings", vec![common::fakes::Reply::Json(answer)]);
    let config = format!(
        "[ingest]\nembed_base_url = \"{}/v1\"\nembed_model = \"nomic-embed-text\"\nembed_key_env = \"TEST_INGEST_KEY\"\n",
        llm.base
    );
    let ws = common::workspace(&[
        ("concord.toml", config.as_bytes()),
        ("docs/blueprints/payments.md", PAYMENTS.as_bytes()),
    ]);
    let root = ws.path();
    let out = ingest_with(root, &["--embed", "--trust"], &[KEY]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/embeddings");
    assert_eq!(requests[0].body["model"], "nomic-embed-text");
    let inputs = requests[0].body["input"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert!(inputs[0].as_str().unwrap().starts_with("Refunds\n"), "{inputs:?}");
    assert!(inputs[1].as_str().unwrap().starts_with("Receipts\n"), "{inputs:?}");
    let refunds = entry(root, "TD-0001");
    assert_eq!(refunds["embedding"], json!([0.125, 0.0, -1.5e-3]));
    assert_eq!(refunds["embedding_model"], "nomic-embed-text");
    assert_eq!(entry(root, "TD-0002")["embedding"], json!([0.25, -0.5, 1.0]));
    let schema = common::repo_root().join("docs/schemas/blueprint-index.schema.json");
    assert_eq!(common::validate(&schema, &index(root)), Vec::<String>::new());

    let bytes = std::fs::read(root.join(INDEX)).unwrap();
    let again = ingest_with(root, &["--embed", "--trust"], &[KEY]);
    assert!(common::stdout(&again).contains("is up to date"), "{}", common::stdout(&again));
    assert_eq!(llm.requests().len(), 1, "nothing is asked twice");
    std::fs::remove_file(root.join(INDEX)).unwrap();
    assert!(ingest_with(root, &["--embed", "--trust"], &[KEY]).status.success());
    assert_eq!(std::fs::read(root.join(INDEX)).unwrap(), bytes, "the cache gives the same vectors");
    assert_eq!(llm.requests().len(), 1);

    // A changed text drops its vector; a wrong answer is an error and nothing is written.
    std::fs::write(root.join("docs/blueprints/payments.md"), PAYMENTS.replace("by email", "by post"))
        .unwrap();
    llm.always(
        "/v1/embeddings",
        common::fakes::Reply::Json(json!({ "data": [{ "index": 0, "embedding": [] }] })),
    );
    let before = common::snapshot(root);
    let out = ingest_with(root, &["--embed", "--trust"], &[KEY]);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("not a non-empty array of numbers"), "{}", common::stderr(&out));
    assert_eq!(common::snapshot(root), before);
    assert!(ingest_with(root, &[], &[]).status.success());
    assert!(entry(root, "TD-0002").get("embedding").is_none());
    assert_eq!(entry(root, "TD-0001")["embedding_model"], "nomic-embed-text");
}

#[test]
fn odd_markdown_never_crashes_ingest() {
    let files: &[(&str, &[u8])] = &[
        ("docs/blueprints/cr.md", b"# Old Mac\r## TD-0001 Lone CR\rText.\r## Next\rMore.\r"),
        ("docs/blueprints/fence.md", b"## TD-0002 Open fence\n```\n## TD-0003 in code\n"),
        ("docs/blueprints/marks.md", b"#\n####### seven\n##\n## \n#NoSpace\n## TD-0004\n"),
        ("docs/blueprints/empty.md", b""),
        ("docs/blueprints/fm-only.md", b"---\n---\n"),
        ("docs/blueprints/latin1.md", b"## TD-0005 caf\xe9\n"),
    ];
    let ws = common::workspace(files);
    let root = ws.path();
    for args in [&["--assign-ids", "--dry-run"][..], &["--assign-ids"], &[]] {
        let out = ingest_with(root, args, &[]);
        let said = common::stderr(&out);
        assert!(!said.contains("panicked"), "{args:?}: {said}");
        assert!(out.status.code().is_some_and(|c| c <= 1), "{args:?}: {said}");
        if !out.status.success() {
            assert!(said.contains("latin1.md"), "{args:?}: {said}");
        }
    }
    std::fs::remove_file(root.join("docs/blueprints/latin1.md")).unwrap();
    let out = ingest_with(root, &["--assign-ids"], &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(entry(root, "TD-0004").is_object());
    assert!(entry(root, "TD-0003").is_null(), "a heading in a code fence defines nothing");
}
