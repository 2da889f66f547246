//! `concord health` end to end: the level, its reasons and exit codes from a workspace's queue,
//! reviews, locks and smoke record, as text and as JSON (checked against its schema); the
//! reviewer-error marker a crashing reviewer leaves; and `concord.health` in the language server.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

use crate::common;

const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Feature", "phase": "P1", "scope_paths": ["src/feature/**"], "risk_level": "low"},
  {"id": "WBS-002", "title": "Search", "phase": "P1", "scope_paths": ["src/search/**"], "risk_level": "low"}
]}"#;

fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let mut all: Vec<(&str, &[u8])> = vec![("ops/wbs.json", WBS.as_bytes())];
    all.extend(files.iter().map(|(path, text)| (*path, text.as_bytes())));
    common::workspace(&all)
}

fn health(root: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["health", "-C", root.to_str().unwrap()];
    args.extend(extra);
    common::concord(&args, None)
}

fn json_of(root: &Path) -> Value {
    let out = health(root, &["--format", "json"]);
    let value: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", common::stdout(&out), common::stderr(&out)));
    let errors = common::validate(&common::repo_root().join("docs/schemas/health.schema.json"), &value);
    assert!(errors.is_empty(), "{errors:?}\n{value}");
    value
}

/// A dispatched run and how it ended, as dispatch writes the queue.
fn run(item: &str, n: u32, ok: bool) -> String {
    let run = format!("{item}-2026120{n}T100000Z");
    let start = json!({ "id": item, "status": "in_progress", "at": format!("2026-12-0{n}T10:00:00Z"), "by": "A1", "reason": format!("dispatched run {run} to claude"), "attempt": n, "run": run });
    let end = if ok {
        json!({ "id": item, "status": "review", "at": format!("2026-12-0{n}T10:30:00Z"), "by": "A1", "reason": format!("run {run} succeeded: exit code 0"), "run": run })
    } else {
        json!({ "id": item, "status": "todo", "at": format!("2026-12-0{n}T10:30:00Z"), "by": "concord", "reason": format!("run {run} failed: the agent exited with code 2: unknown option '--max'"), "run": run })
    };
    format!("{start}\n{end}\n")
}

#[test]
fn a_quiet_workspace_is_green_and_says_what_it_looked_at() {
    let dir = workspace(&[]);
    let out = health(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.starts_with("Health: GREEN. Healthy: the agent loop is working."), "{text}");
    assert!(
        text.contains("- No dispatched run has finished yet.") && text.contains("- No lock is stale."),
        "{text}"
    );
    let value = json_of(dir.path());
    assert_eq!(
        (value["level"].as_str(), value["reasons"].as_array().map(Vec::len)),
        (Some("green"), Some(0))
    );
}

#[test]
fn failed_runs_make_it_yellow_then_red_and_red_exits_1() {
    // 1 of 4 failed: yellow, exit 0 (1 with --fail-on yellow).
    let queue =
        [run("WBS-001", 1, true), run("WBS-002", 2, true), run("WBS-001", 3, true), run("WBS-002", 4, false)]
            .concat();
    let dir = workspace(&[("ops/queue.jsonl", &queue)]);
    let out = health(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.starts_with("Health: YELLOW."), "{text}");
    assert!(
        text.contains("1 of the last 4 runs failed. The newest failure: WBS-002 (run WBS-002-20261204T100000Z): run WBS-002-20261204T100000Z failed: the agent exited with code 2"),
        "{text}"
    );
    assert!(
        text.contains("Next: Read what the agent printed (in .concord/runs/WBS-002-20261204T100000Z/)"),
        "{text}"
    );
    assert_eq!(health(dir.path(), &["--fail-on", "yellow"]).status.code(), Some(1));

    // 2 of 4: red, exit 1.
    let queue = [
        run("WBS-001", 1, true),
        run("WBS-002", 2, false),
        run("WBS-001", 3, true),
        run("WBS-002", 4, false),
    ]
    .concat();
    let dir = workspace(&[("ops/queue.jsonl", &queue)]);
    let out = health(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stdout(&out));
    assert!(common::stdout(&out).starts_with("Health: RED. Stop:"), "{}", common::stdout(&out));
    let value = json_of(dir.path());
    assert_eq!(value["level"], "red");
    assert_eq!(value["runs"], json!({ "window": 10, "counted": 4, "failed": 2 }));
    assert_eq!(value["reasons"][0]["signal"], "run_failures");

    // The thresholds are the workspace's: with red at 75%, 2 of 4 is only yellow.
    std::fs::write(dir.path().join("concord.toml"), "[health]\nred_failure_percent = 75\n").unwrap();
    assert_eq!(json_of(dir.path())["level"], "yellow");
}

#[test]
fn reviews_locks_and_the_smoke_check_each_count() {
    let gates = |passed: bool, detail: &str, error: Option<&str>| {
        let mut g = json!({ "wbs_id": "WBS-001", "report": "docs/runs/x.md", "passed": passed,
            "gates": [{ "name": "tests", "passed": passed, "detail": detail }] });
        if let Some(e) = error {
            g["reviewer_error"] = json!(e);
        }
        g.to_string()
    };
    let decision = |verdict: &str| {
        json!({ "wbs_id": "WBS-001", "decision": verdict, "recommended_status": "todo", "summary": "s",
            "risks": [], "missing_deliverables": [], "test_gaps": [], "followups": [], "acceptance": [], "owner_questions": [] })
        .to_string()
    };
    let failed = gates(false, "failed: `pytest -q` (exit 1)", None);
    let crashed =
        gates(true, "1 test commands passed", Some("the primary decider (OpenAI) failed twice: HTTP 500"));
    let (reject, needs_human) = (decision("reject"), decision("needs_human"));
    // Named as review names them: the time in the name orders them, whatever the files' times.
    let dir = workspace(&[
        ("docs/reviews/WBS-001-1-20261203T100000Z.json", &reject),
        ("docs/reviews/WBS-001-1-20261203T100000Z.gates.json", &failed),
        ("docs/reviews/WBS-001-2-20261204T100000Z.json", &reject),
        ("docs/reviews/WBS-001-2-20261204T100000Z.gates.json", &failed),
        ("docs/reviews/WBS-001-3-20261202T100000Z.json", &needs_human),
        ("docs/reviews/WBS-001-3-20261202T100000Z.gates.json", &crashed),
        ("docs/reviews/broken-20261201T100000Z.json", "{\"wbs_id\": \"WBS-001\",\n  \"decision\": }"),
        // A decision whose gates file does not read: the review counts, its gates are said not to.
        ("docs/reviews/WBS-001-0-20261201T120000Z.json", &reject),
        (
            "docs/reviews/WBS-001-0-20261201T120000Z.gates.json",
            "{\"wbs_id\": \"WBS-001\", \"passed\": \"no\"}",
        ),
        (
            "ops/locks/A2.lock",
            r#"{"agent": "A2", "task_id": "WBS-002", "scope_paths": ["src/search/**"], "acquired_at": "2026-01-01T00:00:00Z"}"#,
        ),
    ]);
    let value = json_of(dir.path());
    assert_eq!(value["level"], "yellow", "{value}");
    let signals: Vec<&str> =
        value["reasons"].as_array().unwrap().iter().map(|r| r["signal"].as_str().unwrap()).collect();
    assert_eq!(signals, ["reviewer_error", "repeated_failure", "stale_lock"], "{value}");
    assert_eq!((value["reviews"].as_u64(), value["stale_locks"].as_u64()), (Some(4), Some(1)));
    let text = value["reasons"][1]["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "WBS-001 failed the same way in two reviews in a row: tests (failed: `pytest -q` (exit 1))"
        ),
        "{text}"
    );
    // The file that does not read is said, with its place, and not counted.
    let facts = value["facts"].to_string();
    assert!(
        facts.contains("Not counted: docs/reviews/broken-20261201T100000Z.json: line 2 column"),
        "{facts}"
    );
    assert!(facts.contains("docs/reviews/WBS-001-0-20261201T120000Z.gates.json: line 1 column"), "{facts}");

    // The newest review's reviewer failed: red.
    std::fs::write(dir.path().join("docs/reviews/WBS-001-4-20261205T100000Z.json"), &needs_human).unwrap();
    std::fs::write(dir.path().join("docs/reviews/WBS-001-4-20261205T100000Z.gates.json"), &crashed).unwrap();
    let out = health(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = common::stdout(&out);
    assert!(text.contains("[red] The last review (WBS-001, docs/reviews/WBS-001-4-20261205T100000Z.json) could not be done by the reviewers: the primary decider (OpenAI) failed twice: HTTP 500"), "{text}");

    // Only the newest `window` reviews are read: the broken old file is not even opened.
    std::fs::write(dir.path().join("concord.toml"), "[health]\nwindow = 2\n").unwrap();
    let value = json_of(dir.path());
    assert_eq!((value["level"].as_str(), value["reviews"].as_u64()), (Some("red"), Some(2)));
    assert!(!value["facts"].to_string().contains("broken"), "{value}");

    // The smoke check: failed is red, unreadable is yellow with its place.
    let dir = workspace(&[(
        ".concord/autopilot/smoke.json",
        r#"{"at": "2026-12-05T09:00:00Z", "passed": false, "failed": ["make smoke"]}"#,
    )]);
    let out = health(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stdout(&out).contains("The last smoke check (2026-12-05T09:00:00Z) failed: `make smoke`."),
        "{}",
        common::stdout(&out)
    );
    assert_eq!(json_of(dir.path())["smoke"]["failed"], json!(["make smoke"]));
    std::fs::write(dir.path().join(".concord/autopilot/smoke.json"), "{\"at\": 5}").unwrap();
    let value = json_of(dir.path());
    assert_eq!(value["level"], "yellow");
    assert!(value["reasons"][0]["text"].as_str().unwrap().contains("smoke.json: line 1 column"), "{value}");
}

#[test]
fn bad_thresholds_are_a_positioned_configuration_error() {
    for (config, says) in [
        ("[health]\nwindow = 0\n", "concord.toml:2:10: health.window must be at least 1"),
        ("[health]\nred_failure_percent = 140\n", "health.red_failure_percent = 140 is out of range"),
        ("[health]\nyellow_failure_percent = 60\n", "yellow must come first"),
        ("[health]\nwindows = 3\n", "unknown field `windows`"),
    ] {
        let dir = workspace(&[("concord.toml", config)]);
        let out = health(dir.path(), &[]);
        assert_eq!(out.status.code(), Some(2), "{config}");
        assert!(common::stderr(&out).contains(says), "{config}: {}", common::stderr(&out));
    }
    let dir = workspace(&[]);
    assert_eq!(health(dir.path(), &["--format", "yaml"]).status.code(), Some(2));
}

/// The palette's "Show health" asks the server; the answer is the CLI's JSON, under progress.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_server_answers_concord_health_with_progress() {
    use common::lsp::LspClient;
    let queue = [
        run("WBS-001", 1, false),
        run("WBS-002", 2, false),
        run("WBS-001", 3, true),
        run("WBS-002", 4, false),
    ]
    .concat();
    let dir = workspace(&[("ops/queue.jsonl", &queue)]);
    let mut client = LspClient::in_process();
    let init =
        client.initialize(dir.path(), json!({ "window": { "workDoneProgress": true } }), json!({})).await;
    let commands = init["capabilities"]["executeCommandProvider"]["commands"].to_string();
    assert!(commands.contains("\"concord.health\""), "{commands}");
    let answer = client.request("workspace/executeCommand", json!({ "command": "concord.health" })).await;
    let errors = common::validate(&common::repo_root().join("docs/schemas/health.schema.json"), &answer);
    assert!(errors.is_empty(), "{errors:?}\n{answer}");
    assert_eq!((answer["level"].as_str(), answer["runs"]["failed"].as_u64()), (Some("red"), Some(3)));
    let cli = json_of(dir.path());
    assert_eq!(
        (answer["reasons"].clone(), answer["facts"].clone()),
        (cli["reasons"].clone(), cli["facts"].clone())
    );
    let progress: Vec<&Value> = client
        .notifications
        .iter()
        .filter(|m| {
            m["method"] == "$/progress"
                && m["params"]["value"]["message"] == "Checking the agent loop's health"
        })
        .collect();
    assert_eq!(progress.len(), 1, "{:?}", client.notifications);
    let token = progress[0]["params"]["token"].clone();
    let end = client
        .notification("$/progress", std::time::Duration::from_secs(5), |p| {
            p["token"] == token && p["value"]["kind"] == "end"
        })
        .await;
    assert_eq!(end["value"]["message"], "red");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

/// A reviewer that fails leaves a marker beside the decision (the decision's schema is the
/// reviewers' own); `concord health` reads it and turns red.
#[test]
fn a_crashing_reviewer_is_marked_in_the_gates_file_and_makes_it_red() {
    use common::fakes::{FakeLlm, Reply};
    let llm = FakeLlm::start();
    llm.always("/v1/messages", Reply::Status(500, vec![], "{\"type\":\"error\"}".into()));
    let config = format!(
        "[review]\nllm_timeout = \"10s\"\nopenai_base_url = \"{base}/v1\"\nopenai_key_env = \"TEST_OPENAI_KEY\"\nanthropic_base_url = \"{base}\"\nanthropic_key_env = \"TEST_ANTHROPIC_KEY\"\n",
        base = llm.base
    );
    let wbs = r#"{"items": [{"id": "WBS-001", "title": "Feature", "phase": "P1", "scope_paths": ["src/feature/**"],
        "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "low"}]}"#;
    let run = "WBS-001-20261205T100000Z";
    let queue = format!(
        "{}\n{}\n",
        json!({ "id": "WBS-001", "status": "in_progress", "run": run, "reason": "dispatched" }),
        json!({ "id": "WBS-001", "status": "review", "run": run, "reason": format!("run {run} succeeded: exit code 0") })
    );
    let report = format!("wbs: WBS-001\nrun: {run}\n\n## Acceptance criteria\n- Feature works: Pass\n");
    let dir = common::workspace(&[
        ("concord.toml", config.as_bytes()),
        ("ops/wbs.json", wbs.as_bytes()),
        ("ops/queue.jsonl", queue.as_bytes()),
        (&format!("docs/runs/{run}.md"), report.as_bytes()),
    ]);
    let config_home = tempfile::tempdir().unwrap();
    let review = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["review", "--trust", "-C", dir.path().to_str().unwrap()])
        .env("XDG_CONFIG_HOME", config_home.path())
        .env("TEST_OPENAI_KEY", "test-openai")
        .env("TEST_ANTHROPIC_KEY", "test-anthropic")
        .output()
        .unwrap();
    assert_eq!(review.status.code(), Some(3), "needs_human: {}", common::stderr(&review));
    let reviews: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path().join("docs/reviews"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".gates.json"))
        .collect();
    let gates: Value = serde_json::from_str(&std::fs::read_to_string(&reviews[0]).unwrap()).unwrap();
    let marker = gates["reviewer_error"].as_str().unwrap_or_default();
    assert!(marker.starts_with("the assistant manager (Anthropic) failed twice: "), "{gates}");
    let errors = common::validate(&common::repo_root().join("docs/schemas/gates.schema.json"), &gates);
    assert!(errors.is_empty(), "{errors:?}");
    // The decision itself stays in the reviewers' format, without the marker.
    let decision =
        std::fs::read_to_string(reviews[0].to_string_lossy().replace(".gates.json", ".json")).unwrap();
    assert!(!decision.contains("reviewer_error"), "{decision}");

    let value = json_of(dir.path());
    assert_eq!(
        (value["level"].as_str(), value["reasons"][0]["signal"].as_str()),
        (Some("red"), Some("reviewer_error"))
    );
    assert!(value["reasons"][0]["text"]
        .as_str()
        .unwrap()
        .contains("the assistant manager (Anthropic) failed twice"));
    // The run that entered review counts as a success.
    assert_eq!(value["runs"], json!({ "window": 10, "counted": 1, "failed": 0 }));
}
