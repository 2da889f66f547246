//! Dispatch, review, apply and approve, end to end with fake agent CLIs and a fake LLM server.
//! One scenario per failure the users lived through, each ending in the right queue state.

mod common;

use std::path::Path;
use std::process::Output;

use common::fakes::{self, FakeLlm, Reply};
use serde_json::{json, Value};

const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Feature", "phase": "P1", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/feature/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "low", "autopilot_mode": "full"},
  {"id": "WBS-002", "title": "Payments", "phase": "P1", "blueprint_ids": ["TD-0002"], "scope_paths": ["src/pay/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "critical", "autopilot_mode": "full"},
  {"id": "WBS-003", "title": "Broken", "phase": "P2", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/broken/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["sh -c 'echo boom; exit 1'"], "risk_level": "low"}
]}"#;

struct Env {
    dir: tempfile::TempDir,
    bin: tempfile::TempDir,
    llm: FakeLlm,
    key: String,
}

impl Env {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn concord(&self, args: &[&str], mode: &str, write_dir: &str) -> Output {
        let path = format!("{}:{}", self.bin.path().display(), std::env::var("PATH").unwrap_or_default());
        std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .args(args)
            .args(["-C", self.root().to_str().unwrap()])
            .env("PATH", path)
            .env("FAKE_MODE", mode)
            .env("FAKE_WRITE_DIR", self.root().join(write_dir))
            .env("FAKE_PID_FILE", self.root().join("fake.pid"))
            .env("TEST_OPENAI_KEY", &self.key)
            .env("TEST_ANTHROPIC_KEY", &self.key)
            .env_remove("CONCORD_AGENT")
            .output()
            .unwrap()
    }

    fn statuses(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.root().join("ops/queue.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| {
                (v["id"].as_str().unwrap_or("").to_string(), v["status"].as_str().unwrap_or("").to_string())
            })
            .collect()
    }

    fn status_of(&self, id: &str) -> String {
        self.statuses().iter().rev().find(|(i, _)| i == id).map_or("todo".into(), |(_, s)| s.clone())
    }

    fn locks(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root().join("ops/locks"))
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.ends_with(".lock"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn git(root: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=T", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

fn setup(extra_config: &str) -> Env {
    let llm = FakeLlm::start();
    // A key-shaped value made at run time; it must never land in a file.
    let key =
        ["sk", "proj", "Xq7Lm2Vb9Rt4Nw8Kp3Hs6Jd1Fg5Ya0Ze"].join("-") + "Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7Lz9Xc";
    let config = format!(
        "[dispatch]\nagent_cli = \"cursor-agent\"\ntimeout = \"3s\"\n\n[review]\nllm_timeout = \"10s\"\nopenai_base_url = \"{base}/v1\"\nopenai_key_env = \"TEST_OPENAI_KEY\"\nanthropic_base_url = \"{base}\"\nanthropic_key_env = \"TEST_ANTHROPIC_KEY\"\n{extra_config}",
        base = llm.base
    );
    let dir = common::workspace(&[
        ("concord.toml", config.as_bytes()),
        ("docs/blueprints/blueprint_index.json", br#"[{"id":"TD-0001","title":"Feature spec"},{"id":"TD-0002","title":"Payments spec","priority":"must"}]"#),
        ("ops/wbs.json", WBS.as_bytes()),
        ("ops/access/status.json", br#"{"checks": {}}"#),
        (".gitignore", b".concord/\n"),
    ]);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "start"]);
    let bin = tempfile::tempdir().unwrap();
    let flags =
        ["-p", "--print", "--output-format", "--model", "-f", "--force", "--permission-mode", "--help"];
    fakes::fake_agent(bin.path(), "cursor-agent", &flags);
    fakes::fake_agent(bin.path(), "claude", &flags);
    Env { dir, bin, llm, key }
}

fn no_file_holds(root: &Path, needle: &str) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with(".git") {
                    stack.push(path);
                }
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                assert!(!text.contains(needle), "{} holds the API key", path.display());
            }
        }
    }
}

#[test]
fn an_invented_flag_is_refused_before_anything_happens() {
    let env = setup("[agents.cursor-max]\nargv = [\"cursor-agent\", \"-p\", \"--max\", \"{instruction}\"]\nhelp = [\"cursor-agent\", \"--help\"]\njudge = \"json-result\"\n");
    let out = env.concord(&["dispatch", "--agent", "A1", "--cli", "cursor-max"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(err.contains("does not list the flag --max"), "{err}");
    assert!(env.statuses().is_empty(), "the queue is untouched");
    assert!(env.locks().is_empty(), "no lock was taken");
}

#[test]
fn a_failing_agent_puts_the_item_back_and_releases_the_lock() {
    let env = setup("");
    for (mode, words) in [
        ("fail-exit", "exited with code 3"),
        ("is-error", "is_error: true"),
        ("no-record", "no JSON result record"),
    ] {
        let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], mode, "src/feature");
        assert_eq!(out.status.code(), Some(1), "{mode}");
        let err = common::stderr(&out);
        assert!(err.contains(words) && err.contains("back in todo"), "{mode}: {err}");
        assert_eq!(env.status_of("WBS-001"), "todo", "{mode}");
        assert!(env.locks().is_empty(), "{mode}: the lock is released");
    }
    // Attempts are counted.
    let queue = std::fs::read_to_string(env.root().join("ops/queue.jsonl")).unwrap();
    assert!(queue.lines().last().unwrap().contains("\"attempt\":3"), "{queue}");
}

#[test]
fn the_claude_preset_reads_stdin_and_is_error_means_failure() {
    let env = setup("");
    let out =
        env.concord(&["dispatch", "WBS-001", "--agent", "A1", "--cli", "claude"], "is-error", "src/feature");
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("is_error: true"));
    let out =
        env.concord(&["dispatch", "WBS-001", "--agent", "A1", "--cli", "claude"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "review");
}

#[test]
fn a_hanging_agent_is_stopped_with_its_whole_process_group() {
    let env = setup("");
    let started = std::time::Instant::now();
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "hang", "src/feature");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("ran past the timeout"), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "todo");
    let pid = std::fs::read_to_string(env.root().join("fake.pid")).unwrap();
    // Gone, or a zombie waiting to be reaped: either way no longer running.
    let state = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    let running =
        !state.is_empty() && state.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z'));
    assert!(!running, "the agent's child process survived: {state}");
}

#[test]
fn success_review_apply_and_a_follow_up() {
    let env = setup("");
    let out = env.concord(&["dispatch", "--agent", "A1"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "review");
    assert_eq!(env.locks(), vec!["A1.lock"], "the lock is kept until the review is applied");
    let decisions = std::fs::read_to_string(env.root().join("ops/model-decisions.jsonl")).unwrap();
    assert!(decisions.contains("\"cli\":\"cursor-agent\"") && decisions.contains("WBS-001"));
    let runs = std::fs::read_dir(env.root().join(".concord/runs")).unwrap().next().unwrap().unwrap().path();
    for file in ["task.md", "stdout.log", "stderr.log"] {
        assert!(runs.join(file).is_file(), "{file}");
    }
    let task = std::fs::read_to_string(runs.join("task.md")).unwrap();
    assert!(
        task.contains("`src/feature/**`")
            && task.contains("TD-0001")
            && task.contains("Feature works")
            && task.contains("Never write an API key")
    );

    // 429 with retry-after, then a real answer; the decider agrees with the assistant manager.
    env.llm.script(
        "/v1/messages",
        vec![
            Reply::Status(429, vec![("retry-after".into(), "0".into())], "{\"type\":\"error\"}".into()),
            Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))),
        ],
    );
    let followup = json!([{ "title": "Add metrics", "summary": "Count feature uses", "blocking": false, "scope_paths": [] }]);
    env.llm.script(
        "/chat/completions",
        vec![Reply::Json(fakes::chat_answer(&fakes::decision("WBS-001", "accept", "done", followup)))],
    );
    let out = env.concord(&["review"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.contains("accept → done") && text.contains("4 of 4 gates passed"), "{text}");

    let requests = env.llm.requests();
    let anthropic = requests.iter().filter(|r| r.path == "/v1/messages").collect::<Vec<_>>();
    assert_eq!(anthropic.len(), 2, "one retry after the 429");
    assert!(anthropic[1].headers.iter().any(|(k, v)| k == "anthropic-version" && v == "2023-06-01"));
    assert!(anthropic[1].headers.iter().any(|(k, v)| k == "x-api-key" && *v == env.key));
    assert_eq!(anthropic[1].body["tool_choice"]["type"], "tool");
    let openai = requests.iter().find(|r| r.path == "/v1/chat/completions").unwrap();
    assert_eq!(openai.body["response_format"]["json_schema"]["strict"], true);
    assert!(openai.headers.iter().any(|(k, v)| k == "authorization" && *v == format!("Bearer {}", env.key)));

    let out = env.concord(&["apply"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(
        common::stdout(&out).contains("review → done")
            && common::stdout(&out).contains("follow-ups WBS-001A"),
        "{}",
        common::stdout(&out)
    );
    assert_eq!(env.status_of("WBS-001"), "done");
    assert_eq!(env.status_of("WBS-001A"), "todo");
    assert!(env.locks().is_empty());
    let wbs: Value =
        serde_json::from_str(&std::fs::read_to_string(env.root().join("ops/wbs.json")).unwrap()).unwrap();
    assert_eq!(wbs["items"][3]["id"], "WBS-001A");
    assert_eq!(wbs["items"][3]["depends_on"], json!(["WBS-001"]));
    let progress = std::fs::read_to_string(env.root().join("docs/PROGRESS.md")).unwrap();
    assert!(progress.contains("WBS-001 review → done (accept)"));

    // Applying again changes nothing.
    let before = std::fs::read_to_string(env.root().join("ops/queue.jsonl")).unwrap();
    let again = env.concord(&["apply"], "success", "src/feature");
    assert!(common::stdout(&again).contains("already applied"));
    assert_eq!(before, std::fs::read_to_string(env.root().join("ops/queue.jsonl")).unwrap());
    no_file_holds(env.root(), &env.key);
}

#[test]
fn a_crashing_reviewer_stops_at_needs_human_without_looping() {
    let env = setup("");
    assert_eq!(env.concord(&["dispatch", "--agent", "A1"], "success", "src/feature").status.code(), Some(0));
    env.llm.always(
        "/v1/messages",
        Reply::Status(500, vec![], "{\"type\":\"error\",\"error\":{\"type\":\"api_error\"}}".into()),
    );
    let out = env.concord(&["review"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("needs_human → awaiting_approval"), "{}", common::stdout(&out));
    // Two asks, each with at most two retries: bounded, never a loop.
    assert_eq!(env.llm.requests().len(), 6);
    assert!(
        env.llm.requests().iter().all(|r| r.path == "/v1/messages"),
        "the decider is not asked after the assistant failed"
    );
    let out = env.concord(&["apply"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "awaiting_approval");

    // Garbage answers are unparseable: the same outcome.
    let env = setup("");
    assert_eq!(env.concord(&["dispatch", "--agent", "A1"], "success", "src/feature").status.code(), Some(0));
    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))));
    env.llm.always(
        "/chat/completions",
        Reply::Json(json!({ "choices": [{ "message": { "content": "Sure! Looks great to me." } }] })),
    );
    let out = env.concord(&["review"], "success", "src/feature");
    assert!(common::stdout(&out).contains("needs_human"), "{}", common::stdout(&out));
}

#[test]
fn a_failed_gate_caps_the_decision_and_high_risk_stops_for_a_person() {
    let env = setup("[review]\n");
    // WBS-003's test command fails: even an "accept, done" from both reviewers cannot make it done.
    let _ = env;
    let env = setup("");
    assert_eq!(
        env.concord(&["dispatch", "WBS-003", "--agent", "A3"], "success", "src/broken").status.code(),
        Some(0)
    );
    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))));
    env.llm.always(
        "/chat/completions",
        Reply::Json(fakes::chat_answer(&fakes::decision("WBS-003", "accept", "done", json!([])))),
    );
    let out = env.concord(&["review"], "success", "src/broken");
    let text = common::stdout(&out);
    assert!(text.contains("gate tests      FAIL") && text.contains("partial → todo"), "{text}");
    let decision_file = std::fs::read_dir(env.root().join("docs/reviews"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".md"))
        .unwrap();
    assert!(
        std::fs::read_to_string(decision_file).unwrap().contains("boom"),
        "the test output is kept in the review"
    );
    assert_eq!(env.concord(&["apply"], "success", "src/broken").status.code(), Some(0));
    assert_eq!(env.status_of("WBS-003"), "todo");

    // A critical item the reviewers accept waits for a person; `approve` makes it done.
    let out = env.concord(&["dispatch", "WBS-002", "--agent", "A2"], "success", "src/pay");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    env.llm.always(
        "/chat/completions",
        Reply::Json(fakes::chat_answer(&fakes::decision("WBS-002", "accept", "done", json!([])))),
    );
    let out = env.concord(&["review"], "success", "src/pay");
    assert!(common::stdout(&out).contains("accept → awaiting_approval"), "{}", common::stdout(&out));
    let out = env.concord(&["apply"], "success", "src/pay");
    assert!(common::stdout(&out).contains("concord approve WBS-002"), "{}", common::stdout(&out));
    assert_eq!(env.status_of("WBS-002"), "awaiting_approval");
    let out = env.concord(&["approve", "WBS-002", "--by", "owner"], "success", "src/pay");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-002"), "done");
    assert_eq!(
        env.concord(&["approve", "WBS-002"], "success", "src/pay").status.code(),
        Some(1),
        "nothing left to approve"
    );
}

#[test]
fn disagreement_goes_to_a_pessimistic_tie_breaker_and_responses_api_works() {
    let env = setup("openai_api = \"responses\"\n");
    assert_eq!(env.concord(&["dispatch", "--agent", "A1"], "success", "src/feature").status.code(), Some(0));
    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("reject"))));
    env.llm.script(
        "/responses",
        vec![
            Reply::Json(fakes::responses_answer(&fakes::decision("WBS-001", "accept", "done", json!([])))),
            Reply::Json(fakes::responses_answer(&fakes::decision("WBS-001", "accept", "done", json!([])))),
        ],
    );
    let out = env.concord(&["review", "--no-llm"], "success", "src/feature");
    assert!(common::stdout(&out).contains("accept → done"), "gates alone: {}", common::stdout(&out));
    let out = env.concord(&["review"], "success", "src/feature");
    let text = common::stdout(&out);
    assert!(
        text.contains("reject → todo"),
        "the tie-breaker may not be more optimistic than the assistant's reject: {text}"
    );
    let calls = env.llm.requests().iter().filter(|r| r.path == "/v1/responses").count();
    assert_eq!(calls, 2, "decision, then tie-breaker");
    let requests = env.llm.requests();
    let sent = &requests.iter().find(|r| r.path == "/v1/responses").unwrap().body;
    assert_eq!(sent["text"]["format"]["type"], "json_schema");
    assert!(sent["text"]["format"]["schema"].get("$schema").is_none());
}

#[test]
fn a_slow_reviewer_times_out_into_needs_human() {
    let env = setup("");
    let config = std::fs::read_to_string(env.root().join("concord.toml"))
        .unwrap()
        .replace("llm_timeout = \"10s\"", "llm_timeout = \"1s\"");
    std::fs::write(env.root().join("concord.toml"), config).unwrap();
    git(env.root(), &["commit", "-q", "-am", "shorter reviewer timeout"]);
    assert_eq!(env.concord(&["dispatch", "--agent", "A1"], "success", "src/feature").status.code(), Some(0));
    env.llm
        .always("/v1/messages", Reply::Slow(3000, fakes::anthropic_tool(fakes::assistant_review("accept"))));
    let started = std::time::Instant::now();
    let out = env.concord(&["review"], "success", "src/feature");
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "{:?}", started.elapsed());
    assert!(common::stdout(&out).contains("needs_human"), "{}", common::stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_through_the_language_server() {
    use common::lsp::LspClient;
    let env = setup("");
    let path = format!("{}:{}", env.bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let write_dir = env.root().join("src/feature").display().to_string();
    let mut client =
        LspClient::spawn(&[("PATH", &path), ("FAKE_MODE", "success"), ("FAKE_WRITE_DIR", &write_dir)]);
    client.initialize(env.root(), json!({}), json!({ "agent": "A1", "trusted": false })).await;
    let id = client
        .request_async(
            "workspace/executeCommand",
            json!({ "command": "concord.dispatch", "arguments": [{}] }),
        )
        .await;
    let refused = client.response(id, std::time::Duration::from_secs(20)).await;
    assert!(refused["error"]["message"].as_str().unwrap().contains("not trusted"), "{refused}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));

    let mut client =
        LspClient::spawn(&[("PATH", &path), ("FAKE_MODE", "success"), ("FAKE_WRITE_DIR", &write_dir)]);
    let init = client
        .initialize(
            env.root(),
            json!({ "window": { "workDoneProgress": true } }),
            json!({ "agent": "A1", "trusted": true }),
        )
        .await;
    let commands = init["capabilities"]["executeCommandProvider"]["commands"].as_array().unwrap().clone();
    for name in [
        "concord.dispatch",
        "concord.review",
        "concord.apply",
        "concord.approve",
        "concord.lock.acquire",
        "concord.lock.release",
        "concord.lock.sweep",
        "concord.queue",
    ] {
        assert!(commands.contains(&json!(name)), "{name}");
    }
    let queue = client.request("workspace/executeCommand", json!({ "command": "concord.queue" })).await;
    assert_eq!(queue[0]["id"], "WBS-001");
    assert_eq!(queue[0]["eligible"], true);
    let result = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "concord.dispatch", "arguments": [{ "id": "WBS-001" }] }),
        )
        .await;
    assert_eq!(result["ok"], true, "{result}");
    let shown = client
        .notification("window/showMessage", std::time::Duration::from_secs(10), |p| {
            p["message"].as_str().unwrap_or("").contains("WBS-001")
        })
        .await;
    assert_eq!(shown["type"], 3);
    assert_eq!(env.status_of("WBS-001"), "review");
    let result = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "concord.review", "arguments": [{ "noLlm": true }] }),
        )
        .await;
    assert_eq!(result["ok"], true, "{result}");
    let result = client
        .request("workspace/executeCommand", json!({ "command": "concord.apply", "arguments": [{}] }))
        .await;
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(env.status_of("WBS-001"), "done");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}
