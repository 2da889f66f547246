//! `concord plan` and the owner's questions, end to end against a fake provider on 127.0.0.1
//! speaking the OpenAI and Anthropic wire formats: a proposal and its question, never a silent
//! WBS change; accepting (by `plan accept` or by answering `A`), rejecting; answers that break
//! the schema; a 429 retried; the WBS checked again at acceptance.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

use crate::common::{
    self,
    fakes::{self, FakeLlm, Reply},
};

const SPEC: &str = "# Payments\n\n## TD-0001 Refunds\n\nPriority: must\n\nRefunds go back to the card within 5 days.\n\n## TD-0002 Receipts\n\nEvery charge gets a receipt.\n\n# Search\n\n## TD-0003 Ranking\n\nResults are ranked by relevance.\n";
const WBS: &str = "{\"items\": [\n  {\"id\": \"WBS-001\", \"title\": \"Search ranking\", \"phase\": \"P1\", \"blueprint_ids\": [\"TD-0003\"], \"scope_paths\": [\"src/search/**\"]}\n]}\n";

struct Env {
    dir: tempfile::TempDir,
    llm: FakeLlm,
}

impl Env {
    fn new() -> Env {
        let llm = FakeLlm::start();
        let config = format!(
            "[review]\nllm_timeout = \"20s\"\nopenai_base_url = \"{0}/v1\"\nopenai_model = \"planner-model\"\nopenai_key_env = \"TEST_OPENAI_KEY\"\nanthropic_base_url = \"{0}\"\nanthropic_key_env = \"TEST_ANTHROPIC_KEY\"\n",
            llm.base
        );
        let dir = common::workspace(&[
            ("concord.toml", config.as_bytes()),
            ("docs/blueprints/spec.md", SPEC.as_bytes()),
            ("ops/wbs.json", WBS.as_bytes()),
        ]);
        let env = Env { dir, llm };
        env.ok(&["ingest"]);
        env
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn concord(&self, args: &[&str]) -> Output {
        let root = self.root().to_str().unwrap();
        let workspace = if matches!(args[0], "check" | "crosswalk") { vec![root] } else { vec!["-C", root] };
        std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .args(args)
            .args(workspace)
            .env("TEST_OPENAI_KEY", "sk-test-openai-0123456789abcdef")
            .env("TEST_ANTHROPIC_KEY", "sk-ant-test-0123456789abcdef")
            .env("XDG_CONFIG_HOME", self.root().join(".xdg"))
            .env("USER", "owner")
            .env_remove("CONCORD_TRUST")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.concord(args);
        assert!(out.status.success(), "{args:?}: {}{}", common::stdout(&out), common::stderr(&out));
        common::stdout(&out)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap_or_default()
    }

    fn json(&self, rel: &str) -> Value {
        serde_json::from_str(&self.read(rel)).unwrap()
    }

    fn questions(&self) -> Value {
        serde_json::from_str(&self.ok(&["questions", "--all", "--format", "json"])).unwrap()
    }

    fn answer_with(&self, items: Value, verdict: &str) {
        self.llm.always("/chat/completions", Reply::Json(fakes::chat_answer(&json!({ "items": items }))));
        self.llm.always("/v1/messages", Reply::Json(critique(verdict)));
    }
}

fn item(reference: &str, chunks: &[&str], scope: &str, depends_on: &[&str]) -> Value {
    json!({
        "ref": reference, "title": format!("Build {reference}"), "phase": "P2",
        "blueprint_ids": chunks, "scope_paths": [scope],
        "acceptance_criteria": [format!("{reference} works")], "test_commands": ["pytest tests"],
        "risk_level": "high", "autopilot_mode": "review_only", "depends_on": depends_on
    })
}

fn critique(verdict: &str) -> Value {
    let mut answer = fakes::anthropic_tool(json!({
        "recommendation": verdict, "reason": "Each chunk has one item with a narrow scope.",
        "missing_chunks": [], "risky_scopes": [{ "item": "refunds", "concern": "moves money" }], "overlapping_scopes": []
    }));
    answer["content"][0]["name"] = json!("proposal_critique");
    answer
}

fn two_items() -> Value {
    json!([
        item("refunds", &["TD-0001"], "src/refunds/**", &[]),
        item("receipts", &["TD-0002"], "src/receipts/**", &["refunds", "WBS-001"])
    ])
}

/// The chunk's coverage status in the crosswalk `concord crosswalk` writes.
fn status_of(env: &Env, chunk: &str) -> String {
    env.ok(&["crosswalk"]);
    let crosswalk = env.json("docs/blueprints/crosswalk.json");
    let entry = crosswalk["chunks"].as_array().unwrap().iter().find(|c| c["blueprint_id"] == chunk).cloned();
    entry.map(|c| c["status"].as_str().unwrap().to_string()).unwrap_or_default()
}

#[test]
fn a_proposal_waits_for_the_owner_and_answering_a_appends_it_to_the_wbs() {
    let env = Env::new();
    env.answer_with(two_items(), "accept");

    // A dry run shows the request and sends nothing; without trust nothing is sent either.
    let dry = env.ok(&["plan", "--dry-run"]);
    assert!(dry.contains("TD-0001 [must] Refunds (topic: Payments) (docs/blueprints/spec.md): Refunds go back to the card within 5 days.") && dry.contains("nothing is sent"), "{dry}");
    assert!(!dry.contains("TD-0003 ["), "a chunk with a work item is not planned: {dry}");
    let refused = env.concord(&["plan"]);
    assert_eq!(refused.status.code(), Some(2), "{}", common::stderr(&refused));
    assert!(common::stderr(&refused).contains("not a trusted workspace"), "{}", common::stderr(&refused));
    assert!(env.llm.requests().is_empty());

    let out = env.ok(&["plan", "--trust"]);
    assert!(
        out.contains("proposal P-0001: 2 work item(s) for 2 of 2 chunk(s)")
            && out.contains("concord answer Q-0001 A"),
        "{out}"
    );
    // The requests: strict JSON schema to the decider, a forced tool call to the critic, keys
    // in headers only.
    let requests = env.llm.requests();
    let chat = requests.iter().find(|r| r.path.ends_with("/chat/completions")).unwrap();
    assert_eq!(chat.body["model"], "planner-model");
    assert_eq!(chat.body["response_format"]["json_schema"]["strict"], true);
    assert!(chat.body["messages"][1]["content"].as_str().unwrap().contains("TD-0002 [should] Receipts"));
    assert!(chat
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v == "Bearer sk-test-openai-0123456789abcdef"));
    let critic = requests.iter().find(|r| r.path.ends_with("/v1/messages")).unwrap();
    assert_eq!(critic.body["tool_choice"]["name"], "proposal_critique");
    assert!(critic.body["messages"][0]["content"].as_str().unwrap().contains("WBS-002"));

    // The proposal: IDs given after the WBS's highest, refs turned into IDs; the WBS untouched.
    let proposal = env.json("ops/proposals/P-0001.json");
    assert_eq!(proposal["status"], "pending");
    assert_eq!(proposal["items"][0]["id"], "WBS-002");
    assert_eq!(proposal["items"][1]["depends_on"], json!(["WBS-002", "WBS-001"]));
    assert_eq!(proposal["critique"]["risky_scopes"][0]["concern"], "moves money");
    assert_eq!(proposal["question"], "Q-0001");
    assert_eq!(env.read("ops/wbs.json"), WBS);
    let errors = common::validate(&common::repo_root().join("docs/schemas/proposal.schema.json"), &proposal);
    assert!(errors.is_empty(), "{errors:?}");
    let question = env.questions()[0].clone();
    assert_eq!(
        (question["status"].as_str(), question["proposal"].as_str()),
        (Some("pending"), Some("P-0001"))
    );
    assert_eq!(question["recommendation"]["option"], "A");
    assert!(env
        .read("docs/OWNER_QUESTIONS.md")
        .contains("### Q-0001: Add the 2 work item(s) of proposal P-0001"));
    assert_eq!(status_of(&env, "TD-0001"), "missing_wbs");

    // Planning again finds nothing: the chunks wait in the pending proposal.
    assert!(env.ok(&["plan", "--trust"]).contains("nothing to plan"));

    let accepted = env.ok(&["answer", "Q-0001", "a"]);
    assert!(accepted.contains("P-0001 accepted: WBS-002, WBS-003 added to ops/wbs.json"), "{accepted}");
    let wbs = env.read("ops/wbs.json");
    assert!(wbs.starts_with(WBS.trim_end().trim_end_matches("\n]}")), "every earlier byte is kept: {wbs}");
    let ids = concord::ops::journal::work_item_ids(&wbs).unwrap();
    assert_eq!(ids, ["WBS-001", "WBS-002", "WBS-003"]);
    assert_eq!(env.json("ops/proposals/P-0001.json")["status"], "accepted");
    let question = env.questions()[0].clone();
    assert_eq!((question["status"].as_str(), question["answer"].as_str()), (Some("answered"), Some("A")));
    assert_eq!(question["answered_by"], "owner");
    assert!(env.read("docs/PROGRESS.md").contains("P-0001 accepted by owner: WBS-002, WBS-003"));
    assert_ne!(status_of(&env, "TD-0001"), "missing_wbs");
    let check = env.concord(&["check", "--format", "json", "--fail-on", "never"]);
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let malformed: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "malformed-file").collect();
    assert!(malformed.is_empty(), "{malformed:?}");

    let again = env.concord(&["plan", "accept", "P-0001"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(common::stderr(&again).contains("P-0001 was accepted already"), "{}", common::stderr(&again));
}

#[test]
fn an_answer_that_breaks_the_schema_is_asked_twice_then_a_clear_error_and_nothing_is_written() {
    let env = Env::new();
    // Valid JSON, but a chunk that was not sent; then a missing field.
    let unknown_chunk = json!([item("refunds", &["TD-0009"], "src/refunds/**", &[])]);
    let mut missing_field = item("refunds", &["TD-0001"], "src/refunds/**", &[]);
    missing_field.as_object_mut().unwrap().remove("risk_level");
    env.llm.script(
        "/chat/completions",
        vec![
            Reply::Json(fakes::chat_answer(&json!({ "items": unknown_chunk }))),
            Reply::Json(fakes::chat_answer(&json!({ "items": [missing_field] }))),
        ],
    );
    env.llm.always("/v1/messages", Reply::Json(critique("accept")));
    let out = env.concord(&["plan", "TD-0001", "--trust"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = common::stderr(&out);
    assert!(
        stderr.contains("the primary decider failed twice") && stderr.contains("`risk_level` is missing"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!env.root().join("ops/proposals").exists());
    assert!(!env.root().join("ops/owner-questions.jsonl").exists());
    assert_eq!(env.llm.requests().iter().filter(|r| r.path.ends_with("/chat/completions")).count(), 2);

    // A scope that leaves the workspace is refused the same way.
    env.llm.always(
        "/chat/completions",
        Reply::Json(fakes::chat_answer(
            &json!({ "items": [item("refunds", &["TD-0001"], "../elsewhere/**", &[])] }),
        )),
    );
    let out = env.concord(&["plan", "TD-0001", "--trust"]);
    assert!(common::stderr(&out).contains("leaves the workspace"), "{}", common::stderr(&out));
}

#[test]
fn a_rate_limited_request_is_retried() {
    let env = Env::new();
    env.llm.script(
        "/chat/completions",
        vec![Reply::Status(
            429,
            vec![("retry-after-ms".into(), "20".into())],
            "{\"error\": \"rate limited\"}".into(),
        )],
    );
    env.answer_with(two_items(), "accept");
    let out = env.ok(&["plan", "--trust", "--chunks-per-call", "5"]);
    assert!(out.contains("proposal P-0001"), "{out}");
    assert_eq!(env.llm.requests().iter().filter(|r| r.path.ends_with("/chat/completions")).count(), 2);
}

#[test]
fn the_budget_splits_requests_and_leaves_the_rest_for_the_next_run() {
    let env = Env::new();
    env.answer_with(json!([item("refunds", &["TD-0001"], "src/refunds/**", &[])]), "revise");
    let out = env.ok(&["plan", "--trust", "--max-chunks", "1"]);
    assert!(out.contains("1 more wait for the next run"), "{out}");
    // The must chunk goes first; the critic said revise, so rejecting is recommended.
    assert_eq!(env.json("ops/proposals/P-0001.json")["chunks"], json!(["TD-0001"]));
    assert_eq!(env.questions()[0]["recommendation"]["option"], "B");
}

#[test]
fn a_rejected_proposal_leaves_the_wbs_and_acceptance_checks_the_wbs_as_it_is_then() {
    let env = Env::new();
    env.answer_with(two_items(), "accept");
    env.ok(&["plan", "--trust"]);
    let rejected = env.ok(&["plan", "reject", "P-0001", "--note", "too big"]);
    assert!(rejected.contains("P-0001 rejected"), "{rejected}");
    assert_eq!(env.read("ops/wbs.json"), WBS);
    let question = env.questions()[0].clone();
    assert_eq!((question["answer"].as_str(), question["note"].as_str()), (Some("B"), Some("too big")));

    // The chunks are free again. Meanwhile someone adds WBS-002 by hand: the proposal's IDs
    // were given before that, so accepting it is refused and nothing changes.
    env.ok(&["plan", "--trust"]);
    let by_hand = WBS.replace(
        "\n]}",
        ",\n  {\"id\": \"WBS-002\", \"title\": \"By hand\", \"scope_paths\": [\"src/refunds/**\"]}\n]}",
    );
    std::fs::write(env.root().join("ops/wbs.json"), &by_hand).unwrap();
    let refused = env.concord(&["plan", "accept", "P-0002"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = common::stderr(&refused);
    assert!(
        stderr.contains("WBS-002 is already a work item") && stderr.contains("overlaps WBS-002"),
        "{stderr}"
    );
    assert_eq!(env.read("ops/wbs.json"), by_hand);
    assert_eq!(env.json("ops/proposals/P-0002.json")["status"], "pending");
}

#[test]
fn an_overlapping_scope_needs_allow_overlap() {
    let env = Env::new();
    env.answer_with(json!([item("refunds", &["TD-0001", "TD-0002"], "src/**", &[])]), "accept");
    let out = env.ok(&["plan", "--trust"]);
    assert!(out.contains("overlaps WBS-001's src/search/**"), "{out}");
    assert_eq!(
        env.questions()[0]["recommendation"]["option"],
        "B",
        "Concord's own check outweighs the critic"
    );
    let refused = env.concord(&["plan", "accept", "P-0001"]);
    assert!(common::stderr(&refused).contains("--allow-overlap"), "{}", common::stderr(&refused));
    let accepted = env.ok(&["plan", "accept", "P-0001", "--allow-overlap", "--by", "the owner"]);
    assert!(accepted.contains("WBS-002 added"), "{accepted}");
    assert_eq!(env.questions()[0]["answered_by"], "the owner");
}

#[test]
fn owner_questions_are_asked_answered_and_listed_pending_first() {
    let env = Env::new();
    let asked = env.ok(&[
        "ask",
        "Refunds to the card or store credit?",
        "--option",
        "Back to the card.",
        "--option",
        "Store credit.",
        "--recommend",
        "a",
        "--reason",
        "Card networks require it",
        "--wbs",
        "WBS-001",
        "--chunk",
        "TD-0001",
    ]);
    assert!(asked.contains("Q-0001 asked"), "{asked}");
    env.ok(&["ask", "Launch in March?", "--option", "Yes.", "--option", "No."]);
    let unknown = env.concord(&["ask", "About?", "--option", "x", "--option", "y", "--wbs", "WBS-404"]);
    assert!(common::stderr(&unknown).contains("WBS-404 is not a known"), "{}", common::stderr(&unknown));

    let wrong = env.concord(&["answer", "Q-0001", "C"]);
    assert!(
        common::stderr(&wrong).contains("has no option C; choose one of A, B"),
        "{}",
        common::stderr(&wrong)
    );
    let answered = env.ok(&["answer", "Q-0001", "B", "--note", "cash flow first"]);
    assert_eq!(answered.trim(), "Owner decided Q-0001: B — Store credit. (cash flow first)");
    let twice = env.concord(&["answer", "Q-0001", "A"]);
    assert!(common::stderr(&twice).contains("Q-0001 is already answered (B)"), "{}", common::stderr(&twice));

    let pending = env.ok(&["questions"]);
    assert!(pending.starts_with("Q-0002 (pending)") && !pending.contains("Q-0001"), "{pending}");
    let all = env.questions();
    assert_eq!(
        all.as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap()).collect::<Vec<_>>(),
        ["Q-0002", "Q-0001"]
    );
    for question in all.as_array().unwrap() {
        let errors =
            common::validate(&common::repo_root().join("docs/schemas/owner-question.schema.json"), question);
        assert!(errors.is_empty(), "{errors:?}");
    }
    // Append-only: three lines (two asked, one answer); the markdown is rendered from them.
    assert_eq!(env.read("ops/owner-questions.jsonl").lines().count(), 3);
    let markdown = env.read("docs/OWNER_QUESTIONS.md");
    assert!(
        markdown.contains("1 pending, 1 decided.")
            && markdown.contains("- **B**: Store credit. **(chosen)**"),
        "{markdown}"
    );

    // A torn last line (a write cut short) is closed off, and the questions still read.
    let mut file =
        std::fs::OpenOptions::new().append(true).open(env.root().join("ops/owner-questions.jsonl")).unwrap();
    std::io::Write::write_all(&mut file, b"{\"id\": \"Q-00").unwrap();
    env.ok(&["ask", "Third?", "--option", "Yes.", "--option", "No."]);
    assert_eq!(env.questions().as_array().unwrap().len(), 3);
    // `concord check` shows the broken line where it is.
    let check = env.concord(&["check", "--format", "json", "--fail-on", "never"]);
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let broken: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "malformed-file" && f["path"] == "ops/owner-questions.jsonl")
        .collect();
    assert_eq!(broken.len(), 1, "{report}");
    assert_eq!(broken[0]["range"]["start"]["line"], 3, "{}", broken[0]);
}

/// In the editor: hover and code lens on a work item show its pending questions, the palette's
/// list comes from `concord.questions`, and `concord.answer` (trusted only) answers one.
#[tokio::test(flavor = "multi_thread")]
async fn the_language_server_shows_pending_questions_and_answers_them_when_trusted() {
    use crate::common::lsp::{text_position, LspClient};
    let env = Env::new();
    env.ok(&[
        "ask",
        "Which ranking first?",
        "--option",
        "Relevance.",
        "--option",
        "Price.",
        "--wbs",
        "WBS-001",
    ]);
    let wbs = env.root().join("ops/wbs.json");

    let mut client = LspClient::spawn(&[]);
    client.initialize(env.root(), json!({}), json!({ "trusted": false })).await;
    let uri = client.open(&wbs, "json").await;
    let hover = client.request("textDocument/hover", text_position(&uri, 1, 14)).await;
    let text = hover["contents"]["value"].as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("Waiting for the owner") && text.contains("**Q-0001** Which ranking first?"),
        "{hover}"
    );
    let lenses = client.request("textDocument/codeLens", json!({ "textDocument": { "uri": uri } })).await;
    assert!(lenses.to_string().contains("1 owner question pending"), "{lenses}");
    let listed = client.request("workspace/executeCommand", json!({ "command": "concord.questions" })).await;
    assert_eq!(
        (listed[0]["id"].as_str(), listed[0]["options"][1]["text"].as_str()),
        (Some("Q-0001"), Some("Price."))
    );
    let id = client
        .request_async(
            "workspace/executeCommand",
            json!({ "command": "concord.answer", "arguments": [{ "id": "Q-0001", "option": "B" }] }),
        )
        .await;
    let refused = client.response(id, std::time::Duration::from_secs(20)).await;
    assert!(refused["error"]["message"].as_str().unwrap().contains("not trusted"), "{refused}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));

    let mut client = LspClient::spawn(&[]);
    client.initialize(env.root(), json!({}), json!({ "trusted": true })).await;
    let uri = client.open(&wbs, "json").await;
    let answered = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "concord.answer", "arguments": [{ "id": "Q-0001", "option": "B", "note": "margins" }] }),
        )
        .await;
    assert_eq!(answered["ok"], true, "{answered}");
    assert!(
        answered["message"].as_str().unwrap().contains("Owner decided Q-0001: B — Price. (margins)"),
        "{answered}"
    );
    assert_eq!(env.questions()[0]["answered_by"], "the owner (editor)");
    // The answer is on disk; after the reload it brings, the hover has no pending question.
    let mut hover = Value::Null;
    for _ in 0..50 {
        hover = client.request("textDocument/hover", text_position(&uri, 1, 14)).await;
        if !hover.to_string().contains("Waiting for the owner") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!hover.to_string().contains("Waiting for the owner"), "{hover}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}
