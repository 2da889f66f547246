//! Dispatch, review, apply and approve, end to end with fake agent CLIs and a fake LLM server.
//! One scenario per failure the users lived through, each ending in the right queue state.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::fakes::{self, FakeLlm, Reply};
use serde_json::{json, Value};

const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Feature", "phase": "P1", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/feature/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "smoke_checks": ["true"], "quality_gates": ["max-files:5"],
   "risk_level": "low", "autopilot_mode": "full"},
  {"id": "WBS-002", "title": "Payments", "phase": "P1", "blueprint_ids": ["TD-0002"], "scope_paths": ["src/pay/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "critical", "autopilot_mode": "full"},
  {"id": "WBS-003", "title": "Broken", "phase": "P2", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/broken/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["sh -c 'echo boom; exit 1'"], "risk_level": "low"},
  {"id": "WBS-004", "title": "Keys", "phase": "P2", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/keys/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["sh -c 'echo key: $TEST_OPENAI_KEY $TEST_ANTHROPIC_KEY'"], "risk_level": "low"},
  {"id": "WBS-005", "title": "Slow tests", "phase": "P3", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/slow/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["sh -c 'sleep 300 & echo $! > \"$FAKE_PID_FILE\"; wait'"], "risk_level": "low"}
]}"#;

pub(crate) struct Env {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) bin: tempfile::TempDir,
    /// The per-user configuration folder (`XDG_CONFIG_HOME`), where trusted workspaces are kept.
    pub(crate) config_home: tempfile::TempDir,
    pub(crate) llm: FakeLlm,
    pub(crate) key: String,
}

impl Env {
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn concord(&self, args: &[&str], mode: &str, write_dir: &str) -> Output {
        self.concord_with(args, mode, write_dir, &[])
    }

    /// The command, not yet started: `concord ARGS -C ROOT` with the fakes on PATH.
    pub(crate) fn command(
        &self,
        args: &[&str],
        mode: &str,
        write_dir: &str,
        env: &[(&str, &str)],
    ) -> std::process::Command {
        let path = format!("{}:{}", self.bin.path().display(), std::env::var("PATH").unwrap_or_default());
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
        command.args(args);
        if args.first() != Some(&"trust") {
            command.args(["-C", self.root().to_str().unwrap()]);
        }
        command
            .env("PATH", path)
            .env("XDG_CONFIG_HOME", self.config_home.path())
            .env("FAKE_MODE", mode)
            // Outside the workspace: a failed run's new files are removed from it.
            .env("FAKE_PID_FILE", self.bin.path().join("fake.pid"))
            .env("FAKE_LOG", self.bin.path().join("invocations.log"))
            .env("TEST_OPENAI_KEY", &self.key)
            .env("TEST_ANTHROPIC_KEY", &self.key)
            .env_remove("CONCORD_AGENT")
            .env_remove("CONCORD_TRUST")
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY");
        if !write_dir.is_empty() {
            command.env("FAKE_WRITE_DIR", self.root().join(write_dir));
        }
        for (k, v) in env {
            command.env(k, v);
        }
        command
    }

    pub(crate) fn concord_with(
        &self,
        args: &[&str],
        mode: &str,
        write_dir: &str,
        env: &[(&str, &str)],
    ) -> Output {
        self.command(args, mode, write_dir, env).output().unwrap()
    }

    /// Every invocation of a fake agent CLI so far (`NAME ARGS…`).
    pub(crate) fn invocations(&self) -> Vec<String> {
        std::fs::read_to_string(self.bin.path().join("invocations.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The pid of the child a fake agent left running (`hang`, `success-hang`).
    pub(crate) fn fake_pid(&self) -> String {
        std::fs::read_to_string(self.bin.path().join("fake.pid")).unwrap().trim().to_string()
    }

    pub(crate) fn queue_text(&self) -> String {
        std::fs::read_to_string(self.root().join("ops/queue.jsonl")).unwrap_or_default()
    }

    pub(crate) fn set_timeout(&self, timeout: &str) {
        let config = std::fs::read_to_string(self.root().join("concord.toml"))
            .unwrap()
            .replace("timeout = \"3s\"", &format!("timeout = \"{timeout}\""));
        std::fs::write(self.root().join("concord.toml"), config).unwrap();
        git(self.root(), &["commit", "-q", "-am", "another dispatch timeout"]);
    }

    pub(crate) fn statuses(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.root().join("ops/queue.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| {
                (v["id"].as_str().unwrap_or("").to_string(), v["status"].as_str().unwrap_or("").to_string())
            })
            .collect()
    }

    pub(crate) fn status_of(&self, id: &str) -> String {
        self.statuses().iter().rev().find(|(i, _)| i == id).map_or("todo".into(), |(_, s)| s.clone())
    }

    pub(crate) fn locks(&self) -> Vec<String> {
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

use crate::common::git;

fn setup(extra_config: &str) -> Env {
    setup_with(WBS, extra_config)
}

/// A trusted git workspace with `wbs` as its WBS, fake agent CLIs on PATH and the fake LLM.
pub(crate) fn setup_with(wbs: &str, extra_config: &str) -> Env {
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
        ("ops/wbs.json", wbs.as_bytes()),
        ("ops/access/status.json", br#"{"checks": {}}"#),
        ("src/feature/app.py", b"print('app')\n"),
        ("src/other/util.py", b"def util():\n    return 1\n"),
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
    let env = Env { dir, bin, llm, key, config_home: tempfile::tempdir().unwrap() };
    // The workspace is the test's own: trust it as a user would, once.
    let trusted = env.concord(&["trust", env.root().to_str().unwrap()], "success", "");
    assert_eq!(trusted.status.code(), Some(0), "{}", common::stderr(&trusted));
    env
}

/// Whether process `pid` is running (gone, or a zombie waiting to be reaped, is not).
fn running(pid: &str) -> bool {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !state.is_empty()
        && state.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with(['Z', 'X']))
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
    assert!(err.contains("does not define the flag --max"), "{err}");
    assert!(env.statuses().is_empty(), "the queue is untouched");
    assert!(env.locks().is_empty(), "no lock was taken");
}

#[test]
fn a_custom_agent_needs_only_argv_help_and_judge_have_defaults() {
    // No `help` (then `<program> --help`) and no `judge` (then `exit-code`): every key of
    // `[agents.NAME]` but argv is optional, as the configuration page says.
    let env = setup("[agents.plain]\nargv = [\"cursor-agent\", \"-p\", \"{instruction}\"]\n");
    let out =
        env.concord(&["dispatch", "WBS-001", "--agent", "A1", "--cli", "plain"], "fail-exit", "src/feature");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("exited with code 3"), "{}", common::stderr(&out));
    let out =
        env.concord(&["dispatch", "WBS-001", "--agent", "A1", "--cli", "plain"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}\n{}", common::stdout(&out), common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "review", "judged by its exit code");
    // An argv naming no program is still refused, at its table.
    let dir = common::workspace(&[("concord.toml", b"[agents.broken]\nargv = []\n")]);
    let out = common::concord(&["check"], Some(dir.path()));
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("agents.broken"), "{}", common::stderr(&out));
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
    assert!(!running(&env.fake_pid()), "the agent's child process survived");
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
    assert!(text.contains("accept → done") && text.contains("6 of 6 gates passed"), "{text}");

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
    assert_eq!(wbs["items"][5]["id"], "WBS-001A");
    assert_eq!(wbs["items"][5]["depends_on"], json!(["WBS-001"]));
    // Held to the same gates as the work it follows.
    assert_eq!(wbs["items"][5]["smoke_checks"], json!(["true"]));
    assert_eq!(wbs["items"][5]["quality_gates"], json!(["max-files:5"]));
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
    assert_eq!(out.status.code(), Some(3), "needs_human has its own exit code: {}", common::stderr(&out));
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
    let env = setup("");
    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))));
    // A critical item the reviewers accept waits for a person; `approve` makes it done.
    let out = env.concord(&["dispatch", "WBS-002", "--agent", "A2"], "success", "src/pay");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    env.llm.always(
        "/chat/completions",
        Reply::Json(fakes::chat_answer(&fakes::decision("WBS-002", "accept", "done", json!([])))),
    );
    let out = env.concord(&["review"], "success", "src/pay");
    assert_eq!(out.status.code(), Some(0), "accept exits 0: {}", common::stderr(&out));
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

    // WBS-003's test command fails: even an "accept, done" from both reviewers cannot make it
    // done. (WBS-002's uncommitted files are accepted work: they do not count against it.)
    let out = env.concord(&["dispatch", "WBS-003", "--agent", "A3"], "success", "src/broken");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    env.llm.always(
        "/chat/completions",
        Reply::Json(fakes::chat_answer(&fakes::decision("WBS-003", "accept", "done", json!([])))),
    );
    let out = env.concord(&["review"], "success", "src/broken");
    let text = common::stdout(&out);
    assert!(text.contains("gate tests      FAIL") && text.contains("partial → todo"), "{text}");
    assert_eq!(out.status.code(), Some(4), "partial has its own exit code");
    let decision_file = std::fs::read_dir(env.root().join("docs/reviews"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".md"))
        .find(|p| p.to_string_lossy().contains("WBS-003"))
        .unwrap();
    assert!(
        std::fs::read_to_string(decision_file).unwrap().contains("boom"),
        "the test output is kept in the review"
    );
    assert_eq!(env.concord(&["apply"], "success", "src/broken").status.code(), Some(0));
    assert_eq!(env.status_of("WBS-003"), "todo");
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

/// A key-shaped value made at run time (an OpenAI project key's format), never committed.
fn generated_key(seed: u64) -> String {
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
    format!("sk-proj-{}T3BlbkFJ{}", pick(20), pick(20))
}

/// An opaque key of 32 hex characters (as Azure and self-hosted servers use): no rule knows it.
fn opaque_key(seed: u64) -> String {
    let mut state = seed | 1;
    (0..32)
        .map(|_| {
            state = state.wrapping_mul(2862933555777941757).wrapping_add(3037000493);
            char::from(b"0123456789abcdef"[(state >> 60) as usize])
        })
        .collect()
}

fn run_dirs(env: &Env) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(env.root().join(".concord/runs"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn nothing_was_written(env: &Env, what: &str) {
    assert!(env.statuses().is_empty(), "{what}: the queue is untouched");
    assert!(env.locks().is_empty(), "{what}: no lock was taken");
    assert!(!env.root().join("ops/model-decisions.jsonl").exists(), "{what}: no model decision was logged");
    assert!(run_dirs(env).is_empty(), "{what}: no run folder");
}

const COMMANDER_OLD_CURSOR: &str = "Usage: cursor-agent [options] [command] [prompt...]

Options:
  -p, --print                  Print responses to the console
  --output-format <format>     Output format (only works with --print): text | json
  -m, --model <model>          Model to use
  --yolo                       Alias for --force: run every command without asking
  -h, --help                   display help for command
";

const COMMANDER_CLAUDE: &str = "Usage: claude [options] [command] [prompt]

Options:
  -p, --print                     Print the response and exit
  --include-partial-messages      Include partial chunks as they arrive (only with --print and --output-format=stream-json)
  --permission-mode <mode>        Permission mode for the session
  --model <model>                 Model for the session
  -h, --help                      Display help for command
";

const CLAP_CODEX: &str = "Run Codex non-interactively

Usage: codex exec [OPTIONS] [PROMPT]

Options:
  -m, --model <MODEL>
          Model the agent should use

      --full-auto
          Low-friction sandboxed automatic execution (-a on-request, --sandbox workspace-write)

      --json
          Print events to stdout as JSONL

  -o, --output-last-message <FILE>
          Where the last message from the agent is written

  -h, --help
          Print help
";

const ARGPARSE_AIDER: &str = "usage: aider [-h] [--weak-model WEAK_MODEL] [--message-file MESSAGE_FILE]

options:
  -h, --help            show this help message and exit
  --weak-model WEAK_MODEL
                        The model for commit messages and chat history
                        summarization (default depends on --model)
  --message-file MESSAGE_FILE, -f MESSAGE_FILE
                        A file holding the message to send
  --yes-always          Always say yes to every confirmation
  --auto-commits, --no-auto-commits
                        Enable/disable auto commit of changes (default: True)
";

#[test]
fn a_flag_only_mentioned_in_a_description_is_refused_before_anything_is_written() {
    for (cli, help_name, help, flag) in [
        ("cursor-agent", "cursor-agent", COMMANDER_OLD_CURSOR, "--force"),
        ("claude", "claude", COMMANDER_CLAUDE, "--output-format"),
        ("codex", "codex", CLAP_CODEX, "--sandbox"),
        ("aider", "aider", ARGPARSE_AIDER, "--model"),
    ] {
        let env = setup("");
        fakes::fake_agent_with_help(env.bin.path(), help_name, help);
        let out = env.concord(
            &["dispatch", "WBS-001", "--agent", "A1", "--cli", cli, "--model", "gpt-5"],
            "success",
            "src/feature",
        );
        assert_eq!(out.status.code(), Some(1), "{cli}");
        let err = common::stderr(&out);
        assert!(err.contains(&format!("does not define the flag {flag}")), "{cli}: {err}");
        nothing_was_written(&env, cli);
        let runs: Vec<String> = env.invocations().into_iter().filter(|i| !i.ends_with("--help")).collect();
        assert!(runs.is_empty(), "{cli}: the agent never ran: {runs:?}");
        assert_eq!(std::fs::read_to_string(env.root().join("src/feature/app.py")).unwrap(), "print('app')\n");
    }
}

#[test]
fn optional_preset_flags_are_passed_when_the_help_defines_them() {
    let env = setup("");
    // aider: --no-auto-commits, so that a failed run's changes are never committed.
    let aider_help = format!("{ARGPARSE_AIDER}  --model MODEL         The main model\n");
    fakes::fake_agent_with_help(env.bin.path(), "aider", &aider_help);
    let out = env.concord(
        &["dispatch", "WBS-001", "--agent", "A1", "--cli", "aider", "--model", "gpt-5"],
        "success",
        "src/feature",
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let runs = env.invocations();
    let aider = runs.iter().find(|i| i.starts_with("aider --no-auto-commits --message-file")).cloned();
    assert!(aider.is_some_and(|a| a.contains("--model gpt-5")), "{runs:?}");
    assert!(common::stdout(&out).contains("1 file changed, in scope"), "{}", common::stdout(&out));

    // cursor-agent: --trust only where the build defines it.
    let env = setup("");
    assert_eq!(
        env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "report-only", "").status.code(),
        Some(0)
    );
    assert!(env.invocations().iter().all(|i| !i.contains("--trust")), "{:?}", env.invocations());
    let env = setup("");
    let newer = "Usage: cursor-agent [options] [prompt...]\n\nOptions:\n  -p, --print  Print\n  --output-format <format>  Output format\n  -f, --force  Force\n  --trust  Trust the current workspace without asking\n  -h, --help  Help\n";
    fakes::fake_agent_with_help(env.bin.path(), "cursor-agent", newer);
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "report-only", "");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(
        env.invocations()
            .iter()
            .any(|i| i.starts_with("cursor-agent --trust -p --output-format json --force")),
        "{:?}",
        env.invocations()
    );
}

#[test]
fn a_failed_runs_changes_are_kept_as_a_patch_and_undone() {
    let env = setup("");
    let app = std::fs::read_to_string(env.root().join("src/feature/app.py")).unwrap();
    let util = std::fs::read_to_string(env.root().join("src/other/util.py")).unwrap();
    // Attempt 1 edits app.py and util.py (outside the lock) and adds a new file there.
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "edit-two", "");
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(err.contains("src/other/util.py (outside scope)") && err.contains("failed-run.patch"), "{err}");
    assert_eq!(env.status_of("WBS-001"), "todo");
    assert!(env.locks().is_empty());
    assert_eq!(std::fs::read_to_string(env.root().join("src/other/util.py")).unwrap(), util);
    assert_eq!(std::fs::read_to_string(env.root().join("src/feature/app.py")).unwrap(), app);
    assert!(!env.root().join("src/other/new/made.py").exists(), "the run's new file is gone");
    let patch = std::fs::read_to_string(run_dirs(&env)[0].join("failed-run.patch")).unwrap();
    assert!(
        patch.contains("+# out of scope") && patch.contains("+# attempt one") && patch.contains("made.py"),
        "{patch}"
    );

    // Attempt 2 edits app.py only: it passes, and nothing of attempt 1 survives into it.
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "edit-app", "");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let out = env.concord(&["review", "--no-llm"], "success", "");
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
    assert!(
        common::stdout(&out).contains("gate scope      PASS 1 changed files"),
        "{}",
        common::stdout(&out)
    );
    let app_now = std::fs::read_to_string(env.root().join("src/feature/app.py")).unwrap();
    assert!(app_now.contains("# attempt two") && !app_now.contains("# attempt one"), "{app_now}");
    assert_eq!(std::fs::read_to_string(env.root().join("src/other/util.py")).unwrap(), util);

    // The review's scope gate counts every file that differs from the lock's base commit.
    std::fs::write(env.root().join("src/other/util.py"), "changed\n").unwrap();
    let out = env.concord(&["review", "--no-llm"], "success", "");
    assert_eq!(out.status.code(), Some(5), "a failed gate: reject: {}", common::stdout(&out));
    assert!(common::stdout(&out).contains("src/other/util.py outside the scope"), "{}", common::stdout(&out));
}

#[test]
fn a_leftover_outside_the_scope_refuses_the_dispatch_and_says_how() {
    let env = setup("");
    std::fs::write(env.root().join("src/other/util.py"), "left over from somewhere\n").unwrap();
    let out = env.concord(&["dispatch", "--agent", "A1"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(
        err.contains("src/other/util.py differ from HEAD outside its scope") && err.contains("git stash -u"),
        "{err}"
    );
    nothing_was_written(&env, "leftover");
}

#[test]
fn a_key_in_the_agents_error_text_reaches_no_file_and_no_output() {
    let env = setup("");
    let leaked = generated_key(7);
    let out = env.concord_with(
        &["dispatch", "WBS-001", "--agent", "A1"],
        "error-key",
        "",
        &[("FAKE_LEAK", &leaked)],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(err.contains("is_error: true") && err.contains("API Error: 401"), "{err}");
    assert!(err.contains("rotate this key"), "{err}");
    assert!(!err.contains(&leaked) && !common::stdout(&out).contains(&leaked), "{err}");
    assert!(!env.queue_text().contains(&leaked));
    assert!(
        env.queue_text().contains("API Error: 401"),
        "the reason is kept, scrubbed: {}",
        env.queue_text()
    );
    let leaks: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dirs(&env)[0].join("leaks.json")).unwrap())
            .unwrap();
    assert_eq!(leaks[0]["where"], "stdout.log:1", "{leaks}");
    assert_eq!(leaks[0]["fingerprint"].as_str().unwrap().len(), 64, "{leaks}");
    no_file_holds(env.root(), &leaked);
}

#[test]
fn review_keys_are_scrubbed_verbatim_everywhere_and_never_cross_providers() {
    let env = setup("");
    let (openai, anthropic) = (opaque_key(11), opaque_key(12));
    assert_ne!(openai, anthropic);
    let keys = [("TEST_OPENAI_KEY", openai.as_str()), ("TEST_ANTHROPIC_KEY", anthropic.as_str())];
    // The agent echoes both keys; its logs must not keep them, and the gate must say so.
    let out = env.concord_with(&["dispatch", "WBS-004", "--agent", "A4"], "echo-keys", "", &keys);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("rotate this key"), "{}", common::stdout(&out));
    let stdout_log = std::fs::read_to_string(run_dirs(&env)[0].join("stdout.log")).unwrap();
    assert!(stdout_log.contains("[redacted: the value of TEST_OPENAI_KEY]"), "{stdout_log}");

    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))));
    // A provider that refuses the key and echoes it back.
    env.llm.always(
        "/chat/completions",
        Reply::Status(
            401,
            vec![],
            format!("{{\"error\":{{\"message\":\"Incorrect API key provided: Bearer {openai}\"}}}}"),
        ),
    );
    let out = env.concord_with(&["review"], "success", "", &keys);
    let text = common::stdout(&out) + &common::stderr(&out);
    assert_eq!(out.status.code(), Some(3), "needs_human: {text}");
    assert!(text.contains("gate secrets    FAIL") && text.contains("rotate this key"), "{text}");
    for request in env.llm.requests() {
        let body = request.body.to_string();
        assert!(
            !body.contains(&openai) && !body.contains(&anthropic),
            "{} carries a key in its body",
            request.path
        );
        for (name, value) in &request.headers {
            if request.path == "/v1/messages" {
                assert!(!value.contains(&openai), "the OpenAI key went to Anthropic in {name}");
            } else {
                assert!(!value.contains(&anthropic), "the Anthropic key went to OpenAI in {name}");
            }
        }
    }
    let requests = env.llm.requests();
    assert!(requests.iter().any(|r| r.headers.iter().any(|(k, v)| k == "x-api-key" && *v == anthropic)));
    assert!(requests
        .iter()
        .any(|r| r.headers.iter().any(|(k, v)| k == "authorization" && *v == format!("Bearer {openai}"))));
    let decision = std::fs::read_dir(env.root().join("docs/reviews"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".json") && !p.to_string_lossy().ends_with(".gates.json"))
        .unwrap();
    let decision = std::fs::read_to_string(decision).unwrap();
    assert!(
        decision.contains("HTTP 401") && decision.contains("[redacted: the value of TEST_OPENAI_KEY]"),
        "{decision}"
    );
    for key in [&openai, &anthropic] {
        assert!(!text.contains(key.as_str()), "{text}");
        no_file_holds(env.root(), key);
    }
}

/// Start `concord dispatch` with a hanging agent and wait until the agent's child runs.
fn start_hanging_dispatch(env: &Env) -> std::process::Child {
    let _ = std::fs::remove_file(env.bin.path().join("fake.pid"));
    let child = env
        .command(&["dispatch", "WBS-001", "--agent", "A1"], "hang", "src/feature", &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !env.bin.path().join("fake.pid").exists()
        || run_dirs(env).iter().all(|d| !d.join("process.json").exists())
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the agent never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    child
}

fn signal(pid: &str, name: &str) {
    let ok =
        std::process::Command::new("kill").args([&format!("-{name}"), "--", pid]).status().unwrap().success();
    assert!(ok, "kill -{name} {pid}");
}

fn agent_pid(env: &Env) -> String {
    let process: Value = serde_json::from_str(
        &std::fs::read_to_string(run_dirs(env).last().unwrap().join("process.json")).unwrap(),
    )
    .unwrap();
    process["agent_pid"].to_string()
}

#[test]
fn sigint_and_sigterm_stop_the_agent_record_todo_and_release_the_lock() {
    let env = setup("");
    env.set_timeout("60s");
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let child = start_hanging_dispatch(&env);
        assert_eq!(env.status_of("WBS-001"), "in_progress");
        let (grandchild, agent) = (env.fake_pid(), agent_pid(&env));
        let started = std::time::Instant::now();
        signal(&child.id().to_string(), name);
        let out = child.wait_with_output().unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{name}: {:?}", started.elapsed());
        assert_eq!(out.status.code(), Some(code), "SIG{name}: {}", common::stderr(&out));
        let err = common::stderr(&out);
        assert!(err.contains(&format!("received SIG{name}")) && err.contains("back in todo"), "{err}");
        assert_eq!(env.status_of("WBS-001"), "todo", "SIG{name}");
        assert!(env.queue_text().lines().last().unwrap().contains(&format!("SIG{name}")));
        assert!(env.locks().is_empty(), "SIG{name}: the lock is released");
        assert!(!running(&grandchild) && !running(&agent), "SIG{name}: the agent's processes are gone");
    }
}

#[test]
fn a_signal_during_the_reviews_test_commands_stops_them_and_writes_nothing() {
    let env = setup("");
    let out = env.concord(&["dispatch", "WBS-005", "--agent", "A5"], "report-only", "");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let _ = std::fs::remove_file(env.bin.path().join("fake.pid"));
    let child = env
        .command(&["review", "--no-llm"], "", "", &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !env.bin.path().join("fake.pid").exists() {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the test command never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    signal(&child.id().to_string(), "INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("interrupted by SIGINT"), "{}", common::stderr(&out));
    assert!(!running(&env.fake_pid()), "the test command's process group is gone");
    assert!(!env.root().join("docs/reviews").exists(), "no decision was written");
    assert_eq!(env.status_of("WBS-005"), "review", "the run is still to be reviewed");
}

#[test]
fn requeue_moves_a_dead_run_back_and_refuses_while_it_lives() {
    let env = setup("");
    env.set_timeout("60s");
    let mut child = start_hanging_dispatch(&env);
    let requeue = |env: &Env| {
        env.concord(&["requeue", "WBS-001", "--reason", "the machine died", "--by", "owner"], "", "")
    };
    let out = requeue(&env);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("is still running on this host"), "{}", common::stderr(&out));

    // Concord dies without a chance to clean up; its agent lives on in its own process group.
    signal(&child.id().to_string(), "KILL");
    child.wait().unwrap();
    assert_eq!(env.status_of("WBS-001"), "in_progress");
    assert_eq!(env.locks(), vec!["A1.lock"]);
    let agent = agent_pid(&env);
    let out = requeue(&env);
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(
        err.contains(&format!("its agent (pid {agent}) is still running"))
            && err.contains(&format!("kill -TERM -- -{agent}")),
        "{err}"
    );

    signal(&format!("-{agent}"), "KILL");
    let started = std::time::Instant::now();
    while running(&agent) {
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = requeue(&env);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("in_progress → todo"), "{}", common::stdout(&out));
    assert_eq!(env.status_of("WBS-001"), "todo");
    assert!(env.locks().is_empty());
    let last: Value = serde_json::from_str(env.queue_text().lines().last().unwrap()).unwrap();
    assert_eq!(last["reason"], "requeued: the machine died");
    assert_eq!(last["by"], "owner");
    let out = requeue(&env);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("WBS-001 is todo, not in_progress"), "{}", common::stderr(&out));
}

#[test]
fn review_takes_only_a_run_in_review_and_fills_acceptance_itself() {
    let env = setup("");
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "is-error", "");
    assert_eq!(out.status.code(), Some(1));
    let failed_report =
        std::fs::read_dir(env.root().join("docs/runs")).unwrap().next().unwrap().unwrap().path();
    let out = env.concord(&["review", "--no-llm"], "", "");
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("no run is in review"), "{}", common::stderr(&out));
    let out = env.concord(&["review", "--no-llm", failed_report.to_str().unwrap()], "", "");
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("WBS-001 is todo, not review"), "{}", common::stderr(&out));
    assert!(!env.root().join("docs/reviews").exists(), "nothing was written");

    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    // The failed run's report is not the one in review.
    let out = env.concord(&["review", "--no-llm", failed_report.to_str().unwrap()], "", "");
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("run in review is"), "{}", common::stderr(&out));

    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))));
    let mut answer = fakes::decision("WBS-001", "accept", "done", json!([]));
    answer["acceptance"] = json!([{ "criterion": "Something the model made up", "result": "pass" }]);
    env.llm.always("/chat/completions", Reply::Json(fakes::chat_answer(&answer)));
    let out = env.concord(&["review"], "", "");
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
    let decision = std::fs::read_dir(env.root().join("docs/reviews"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".json") && !p.to_string_lossy().ends_with(".gates.json"))
        .unwrap();
    let decision: Value = serde_json::from_str(&std::fs::read_to_string(decision).unwrap()).unwrap();
    assert_eq!(decision["acceptance"], json!([{ "criterion": "Feature works", "result": "pass" }]));
}

#[test]
fn failure_messages_keep_the_first_error_line_and_the_tail() {
    let env = setup("");
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "unknown-option", "");
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(err.contains("code 1: error: unknown option '--force' / (Did you mean --yolo?)"), "{err}");
    assert!(env.queue_text().contains("unknown option '--force'"), "{}", env.queue_text());
}

#[test]
fn x_should_retry_is_honoured_either_way() {
    // Without the header (empty is no word), any 5xx is retried, as the official SDKs do.
    for (status, header, expected) in [(429, "false", 2), (400, "true", 6), (501, "", 6), (400, "", 2)] {
        let env = setup("");
        assert_eq!(
            env.concord(&["dispatch", "--agent", "A1"], "success", "src/feature").status.code(),
            Some(0)
        );
        env.llm.always(
            "/v1/messages",
            Reply::Status(
                status,
                vec![("x-should-retry".into(), header.into()), ("retry-after".into(), "0".into())],
                "{\"type\":\"error\"}".into(),
            ),
        );
        let out = env.concord(&["review"], "", "");
        assert_eq!(out.status.code(), Some(3), "{}", common::stdout(&out));
        let calls = env.llm.requests().iter().filter(|r| r.path == "/v1/messages").count();
        assert_eq!(calls, expected, "{status} with x-should-retry: {header}");
    }
}

#[test]
fn two_dispatches_started_together_take_different_items() {
    let env = setup("");
    // Both read the workspace, then wait for the help probe: both first choose WBS-001.
    let slow_help = [("FAKE_HELP_DELAY", "1")];
    let spawn = |agent: &str| {
        env.command(&["dispatch", "--agent", agent], "report-only", "", &slow_help)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("A1"), spawn("A2"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(a.status.code(), Some(0), "{}", common::stderr(&a));
    assert_eq!(b.status.code(), Some(0), "{}", common::stderr(&b));
    assert_eq!(env.status_of("WBS-001"), "review");
    assert_eq!(env.status_of("WBS-002"), "review");
    assert_eq!(env.locks(), vec!["A1.lock", "A2.lock"]);
    let dispatched: Vec<(String, String)> =
        env.statuses().into_iter().filter(|(_, s)| s == "in_progress").collect();
    assert_eq!(dispatched.len(), 2, "each item was dispatched once: {dispatched:?}");
}

#[test]
fn a_run_that_hangs_after_its_success_record_is_ended_and_counted_by_it() {
    let env = setup("");
    env.set_timeout("60s");
    let started = std::time::Instant::now();
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "success-hang", "");
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("did not exit"), "{}", common::stdout(&out));
    assert_eq!(env.status_of("WBS-001"), "review");
    assert!(!running(&env.fake_pid()), "its process group was ended");
}

#[test]
fn an_untrusted_workspace_runs_no_repository_command() {
    let env = setup("");
    let untrusted = tempfile::tempdir().unwrap();
    let home = untrusted.path().to_str().unwrap();
    let out = env.concord_with(
        &["dispatch", "--agent", "A1"],
        "success",
        "src/feature",
        &[("XDG_CONFIG_HOME", home)],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(err.contains("not a trusted workspace") && err.contains("concord trust"), "{err}");
    nothing_was_written(&env, "untrusted dispatch");
    assert!(env.invocations().is_empty(), "not even the help command ran: {:?}", env.invocations());
    let out = env.concord_with(&["review", "--no-llm"], "", "", &[("XDG_CONFIG_HOME", home)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("test_commands"), "{}", common::stderr(&out));

    // --trust and CONCORD_TRUST=1 trust it for one run; `concord trust` for good.
    let out = env.concord_with(
        &["dispatch", "--agent", "A1", "--trust"],
        "report-only",
        "",
        &[("XDG_CONFIG_HOME", home)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let out = env.concord_with(
        &["review", "--no-llm"],
        "",
        "",
        &[("XDG_CONFIG_HOME", home), ("CONCORD_TRUST", "1")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let out =
        env.concord_with(&["trust", env.root().to_str().unwrap()], "", "", &[("XDG_CONFIG_HOME", home)]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let store: Value = serde_json::from_str(
        &std::fs::read_to_string(untrusted.path().join("concord/trusted-workspaces.json")).unwrap(),
    )
    .unwrap();
    let canonical = std::fs::canonicalize(env.root()).unwrap();
    assert_eq!(store["trusted"][0]["path"], canonical.to_str().unwrap());
    let out = env.concord_with(
        &["dispatch", "WBS-002", "--agent", "A2"],
        "report-only",
        "",
        &[("XDG_CONFIG_HOME", home)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
}

/// With `[locks] remote`, a dispatched run works under a fencing token; when its lock is swept
/// and taken again from another machine before the decision is applied, `apply` refuses.
#[test]
fn apply_refuses_a_run_whose_remote_lock_was_swept_and_taken_again() {
    let origin = tempfile::tempdir().unwrap();
    let bare = origin.path().join("locks.git");
    git(origin.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    let url = format!("file://{}", bare.display());
    let env = setup("\n[locks]\nremote = \"origin\"\n");
    git(env.root(), &["remote", "add", "origin", &url]);
    let out = env.concord(&["dispatch", "--agent", "A1"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let run = std::fs::read_dir(env.root().join(".concord/runs")).unwrap().next().unwrap().unwrap().path();
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("lock.json")).unwrap()).unwrap();
    let token = record["fencing_token"].as_i64().expect("the run records its token");
    let trailer = format!("Concord-Lock: WBS-001@{token}");
    assert_eq!(record["trailer"], trailer.as_str());
    assert!(std::fs::read_to_string(run.join("task.md")).unwrap().contains(&trailer));

    env.llm
        .script("/v1/messages", vec![Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept")))]);
    env.llm.script(
        "/chat/completions",
        vec![Reply::Json(fakes::chat_answer(&fakes::decision("WBS-001", "accept", "done", json!([]))))],
    );
    let out = env.concord(&["review"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));

    // Another machine sweeps the lock as stale and takes the scope for itself.
    let other = tempfile::tempdir().unwrap();
    git(other.path(), &["init", "-q"]);
    git(other.path(), &["remote", "add", "origin", &url]);
    std::fs::write(other.path().join("concord.toml"), "[locks]\nremote = \"origin\"\n").unwrap();
    let concord = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .args(args)
            .arg("-C")
            .arg(other.path())
            .output()
            .unwrap()
    };
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = concord(&["lock", "sweep", "--older-than", "0s"]);
    assert!(common::stdout(&out).contains("A1"), "{}", common::stderr(&out));
    let out =
        concord(&["lock", "acquire", "--agent", "B1", "--task", "WBS-001", "--scope", "src/feature/**"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));

    // The paused machine wakes up: its decision is about work under a lock it no longer holds.
    let out = env.concord(&["apply"], "success", "src/feature");
    assert_ne!(out.status.code(), Some(0));
    let stderr = common::stderr(&out);
    assert!(stderr.contains("no longer valid") && stderr.contains("B1"), "{stderr}");
    assert_eq!(env.status_of("WBS-001"), "review", "nothing was applied");
    let out = concord(&["lock", "list"]);
    assert!(common::stdout(&out).contains("B1"), "the newer holder keeps its lock");
}

/// `[dispatch] mcp = true`: each preset's CLI gets Concord's MCP server the way it takes one,
/// starts it and is told whose lock it holds; a CLI with no MCP client, or one whose help lacks
/// the flag, is refused before anything is written.
#[test]
fn dispatch_hands_the_agent_the_mcp_server_its_cli_can_start() {
    let mcp_on = |env: &Env| {
        let config = std::fs::read_to_string(env.root().join("concord.toml"))
            .unwrap()
            .replace("timeout = \"3s\"", "timeout = \"60s\"\nmcp = true");
        std::fs::write(env.root().join("concord.toml"), config).unwrap();
        git(env.root(), &["commit", "-q", "-am", "hand agents the MCP server"]);
    };
    for (cli, flags) in [
        ("cursor-agent", &["-p", "--output-format", "--force", "--approve-mcps", "--help"][..]),
        (
            "claude",
            &["-p", "--output-format", "--permission-mode", "--mcp-config", "--allowedTools", "--help"],
        ),
        ("codex", &["--json", "--sandbox", "-o", "-m", "-c", "--help"]),
    ] {
        let env = setup("");
        mcp_on(&env);
        fakes::fake_agent(env.bin.path(), cli, flags);
        let answer = env.bin.path().join("mcp-answer.json");
        let out = env.concord_with(
            &["dispatch", "WBS-001", "--agent", "A1", "--cli", cli],
            "mcp",
            "src/feature",
            &[("FAKE_MCP_OUT", answer.to_str().unwrap())],
        );
        let answer = std::fs::read_to_string(&answer)
            .unwrap_or_else(|_| panic!("{cli}: the agent got no answer: {}", common::stderr(&out)));
        assert!(answer.contains("WBS-001") && answer.contains("A1"), "{cli}: {answer}");
        assert!(!answer.contains("\"isError\":true"), "{cli}: {answer}");
        let run = env.invocations().into_iter().find(|i| !i.ends_with("--help")).unwrap();
        match cli {
            "cursor-agent" => {
                assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
                assert!(run.starts_with("cursor-agent --approve-mcps -p"), "{run}");
                assert!(!env.root().join(".cursor").exists(), "the project file and its folder are put back");
            }
            "claude" => {
                assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
                assert!(
                    run.contains("--mcp-config ") && run.contains("--allowedTools mcp__concord"),
                    "{run}"
                );
            }
            _ => assert!(run.starts_with("codex exec -c mcp_servers.concord.command="), "{run}"),
        }
    }

    // aider has no MCP client; a claude without --mcp-config cannot take one.
    for (cli, flags, says) in [
        (
            "aider",
            &["--message-file", "--yes-always", "--help"][..],
            "no way to receive Concord's MCP server",
        ),
        (
            "claude",
            &["-p", "--output-format", "--permission-mode", "--help"],
            "does not define the flag --mcp-config",
        ),
    ] {
        let env = setup("");
        mcp_on(&env);
        fakes::fake_agent(env.bin.path(), cli, flags);
        let out =
            env.concord(&["dispatch", "WBS-001", "--agent", "A1", "--cli", cli], "success", "src/feature");
        assert_eq!(out.status.code(), Some(1), "{cli}");
        assert!(common::stderr(&out).contains(says), "{cli}: {}", common::stderr(&out));
        nothing_was_written(&env, cli);
    }
}

/// A run whose lock on the shared remote was released and taken by another agent while it ran
/// (a paused holder) does not pass: dispatch checks the fencing token before the run can pass,
/// undoes its changes, and leaves the newer holder's lock alone.
#[test]
fn a_run_whose_remote_lock_was_taken_meanwhile_is_undone() {
    let env = setup("\n[locks]\nremote = \"origin\"\nremote_timeout = \"20s\"\n");
    let origin = env.bin.path().join("origin.git");
    let init =
        std::process::Command::new("git").args(["init", "-q", "--bare"]).arg(&origin).output().unwrap();
    assert!(init.status.success());
    git(env.root(), &["remote", "add", "origin", &format!("file://{}", origin.display())]);
    let out = env.concord_with(
        &["dispatch", "WBS-001", "--agent", "A1"],
        "steal",
        "src/feature",
        &[
            ("CONCORD_BIN", env!("CARGO_BIN_EXE_concord")),
            ("FAKE_AGENT", "A1"),
            ("FAKE_STEAL_SCOPE", "src/feature/**"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::stdout(&out));
    let said = format!("{}{}", common::stdout(&out), common::stderr(&out));
    assert!(said.contains("no longer its own"), "{said}");
    assert!(!env.root().join("src/feature/impl.py").exists(), "the late run's changes are undone");
    assert_eq!(env.status_of("WBS-001"), "todo");
    assert_eq!(env.locks(), ["THIEF.lock"], "the newer holder keeps its lock");
}

/// A dispatched item whose chunk was rewritten since its code was reviewed: the task file names
/// the stale places, so the agent checks them against the new text.
#[test]
fn the_task_file_names_places_reviewed_against_an_older_text() {
    let env = setup("");
    let spec = env.root().join("docs/blueprints/feature.md");
    std::fs::write(&spec, "## TD-0001 Feature spec\n\nThe feature greets the user by name.\n").unwrap();
    std::fs::write(env.root().join("src/feature/app.py"), "# implements TD-0001\nprint('app')\n").unwrap();
    let acked = env.concord(&["ack"], "", "");
    assert!(common::stdout(&acked).contains("recorded 1 new place(s)"), "{}", common::stderr(&acked));
    git(env.root(), &["add", "-A"]);
    git(env.root(), &["commit", "-q", "-m", "reviewed"]);
    std::fs::write(&spec, "## TD-0001 Feature spec\n\nThe feature thanks the user by name.\n").unwrap();
    git(env.root(), &["commit", "-q", "-am", "the spec changed"]);
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "report-only", "");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let task = std::fs::read_to_string(run_dirs(&env)[0].join("task.md")).unwrap();
    assert!(
        task.contains("## Spec changed since review") && task.contains("TD-0001: `src/feature/app.py`"),
        "{task}"
    );
    assert!(task.contains("What changed in TD-0001:") && task.contains("~~greets~~ **thanks**"), "{task}");
}

#[test]
fn a_pending_owner_question_holds_the_item_and_its_answer_reaches_the_task_file() {
    let env = setup("");
    let ask = |args: &[&str]| {
        let out = env.concord(args, "success", "");
        assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
        common::stdout(&out)
    };
    ask(&[
        "ask",
        "Feature for guests or hosts first?",
        "--option",
        "Guests first.",
        "--option",
        "Hosts first.",
        "--wbs",
        "WBS-001",
    ]);
    let status = ask(&["status"]);
    let line = status.lines().find(|l| l.starts_with("WBS-001 ")).unwrap();
    assert!(line.contains("waiting: owner question Q-0001 pending"), "{status}");
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("owner question Q-0001 pending"), "{}", common::stderr(&out));
    assert!(env.locks().is_empty() && env.status_of("WBS-001") == "todo");

    ask(&["answer", "Q-0001", "B", "--note", "hosts pay"]);
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let run = std::fs::read_dir(env.root().join(".concord/runs")).unwrap().next().unwrap().unwrap().path();
    let task = std::fs::read_to_string(run.join("task.md")).unwrap();
    assert!(
        task.contains(
            "## Owner decisions (constraints)\n- Owner decided Q-0001: B — Hosts first. (hosts pay)"
        ),
        "{task}"
    );

    // The review raises a question only the owner can answer: the item cannot become done
    // until it is answered, even with every gate green and both reviewers accepting.
    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))));
    let mut decision = fakes::decision("WBS-001", "accept", "done", json!([]));
    decision["owner_questions"] = json!([{
        "question": "Show prices with or without tax?", "options": ["With tax.", "Without tax."],
        "recommended": "A", "reason": "Consumer law in the EU"
    }]);
    env.llm.always("/chat/completions", Reply::Json(fakes::chat_answer(&decision)));
    let out = env.concord(&["review"], "success", "src/feature");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let out = env.concord(&["apply"], "success", "src/feature");
    let text = common::stdout(&out);
    assert!(
        text.contains("owner question Q-0002 raised") && text.contains("waits for owner question Q-0002"),
        "{text}"
    );
    assert_eq!(env.status_of("WBS-001"), "awaiting_approval");
    let questions: Value = serde_json::from_str(&ask(&["questions", "--format", "json"])).unwrap();
    assert_eq!(
        questions[0]["asked_by"].as_str().map(|a| a.starts_with("reviewer (docs/reviews/")),
        Some(true)
    );
    assert_eq!(questions[0]["recommendation"]["option"], "A");
    let refused = env.concord(&["approve", "WBS-001"], "success", "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(common::stderr(&refused).contains("cannot become done while owner question Q-0002 is pending"));
    ask(&["answer", "Q-0002", "A"]);
    ask(&["approve", "WBS-001"]);
    assert_eq!(env.status_of("WBS-001"), "done");
}
