//! `concord autopilot` end to end: fake agent CLIs, the fake LLM server, git worktrees and a
//! bare repository as the remote. Every scenario checks the queue, the branches and that the
//! default branch was never touched.

use std::path::Path;

use serde_json::{json, Value};

use crate::common::{self, fakes, fakes::Reply, git};
use crate::orchestration::{setup_with, Env};

const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Feature", "phase": "P1", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/feature/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["test -f src/feature/impl.py"], "risk_level": "low", "autopilot_mode": "full"},
  {"id": "WBS-002", "title": "Search box", "phase": "P1", "blueprint_ids": ["TD-0002"], "scope_paths": ["src/search/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "low", "autopilot_mode": "full"},
  {"id": "WBS-003", "title": "Payments", "phase": "P2", "blueprint_ids": ["TD-0002"], "scope_paths": ["src/pay/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "critical", "autopilot_mode": "full",
   "depends_on": ["WBS-001"]}
]}"#;

fn git_out(root: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git").arg("-C").arg(root).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Reviewers that accept whatever they see.
fn accepting(env: &Env) {
    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))));
    env.llm.always(
        "/chat/completions",
        Reply::Json(fakes::chat_answer(&fakes::decision("WBS-001", "accept", "done", json!([])))),
    );
}

fn autopilot(env: &Env, args: &[&str], mode: &str) -> std::process::Output {
    let mut all = vec!["autopilot"];
    all.extend_from_slice(args);
    env.concord(&all, mode, "")
}

fn branches(root: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        git_out(root, &["branch", "--format=%(refname:short)"]).lines().map(str::to_string).collect();
    names.sort();
    names
}

#[test]
fn two_items_done_in_one_loop_each_on_its_own_branch_with_trailers() {
    let env = setup_with(WBS, "");
    accepting(&env);
    let main_before = git_out(env.root(), &["rev-parse", "main"]);

    let plan = autopilot(&env, &["--dry-run"], "success");
    assert_eq!(plan.status.code(), Some(0), "{}", common::stderr(&plan));
    let text = common::stdout(&plan);
    assert!(
        text.contains("1. WBS-001 Feature") && text.contains("2. WBS-002 Search box"),
        "the plan names the items in order: {text}"
    );
    assert!(
        text.contains("WBS-003: not eligible: it depends on WBS-001")
            && text.contains("planned in this loop"),
        "{text}"
    );
    assert!(text.contains("on branch concord/WBS-001-feature"), "{text}");
    assert_eq!(env.queue_text(), "", "a dry run changes nothing");

    let out = autopilot(&env, &["--max-items", "2"], "success");
    assert_eq!(out.status.code(), Some(0), "{}\n{}", common::stdout(&out), common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "done");
    assert_eq!(env.status_of("WBS-002"), "done");
    assert_eq!(env.status_of("WBS-003"), "todo", "the item limit stops the loop before the third");
    let text = common::stdout(&out);
    assert!(text.contains("reached its limit of 2 items"), "{text}");

    assert_eq!(
        branches(env.root()),
        vec!["concord/WBS-001-feature", "concord/WBS-002-search-box", "main"],
        "one branch per item"
    );
    assert_eq!(git_out(env.root(), &["rev-parse", "main"]), main_before, "main is never committed to");
    assert!(
        !env.root().join("src/feature/impl.py").exists(),
        "the agent worked in a worktree, not in the owner's checkout"
    );
    assert_eq!(git_out(env.root(), &["worktree", "list"]).lines().count(), 1, "worktrees are removed");

    // The branch holds exactly the item's file, with the trace trailers.
    let files = git_out(env.root(), &["diff", "--name-only", "main", "concord/WBS-001-feature"]);
    assert_eq!(files, "src/feature/impl.py");
    let message = git_out(env.root(), &["log", "-1", "--format=%B", "concord/WBS-001-feature"]);
    assert!(message.starts_with("WBS-001: Feature"), "{message}");
    let trailers =
        git_out(env.root(), &["log", "-1", "--format=%(trailers:only,unfold)", "concord/WBS-001-feature"]);
    assert!(trailers.contains("Implements: WBS-001"), "{trailers}");
    assert!(trailers.contains("Refs: TD-0001"), "{trailers}");
    assert!(trailers.contains("Concord-Run: WBS-001-"), "{trailers}");
    assert!(trailers.contains("Concord-Review: accept (docs/reviews/"), "{trailers}");

    // The run reports and reviews are the workspace's record.
    let runs: Vec<_> = std::fs::read_dir(env.root().join("docs/runs")).unwrap().collect();
    assert_eq!(runs.len(), 2);

    // Again: the branches exist, so new tries get their own names; WBS-003 is critical and
    // stops for a person, committed on its branch all the same.
    let out = autopilot(&env, &[], "success");
    assert_eq!(out.status.code(), Some(0), "{}\n{}", common::stdout(&out), common::stderr(&out));
    assert_eq!(env.status_of("WBS-003"), "awaiting_approval");
    let text = common::stdout(&out);
    assert!(text.contains("concord approve"), "{text}");
    assert!(branches(env.root()).contains(&"concord/WBS-003-payments".to_string()));
    assert_eq!(git_out(env.root(), &["rev-parse", "main"]), main_before);
}

#[test]
fn push_goes_to_the_remote_only_for_the_items_branches_and_a_missing_remote_is_skipped() {
    let env = setup_with(WBS, "");
    accepting(&env);
    // No remote at all: the push is skipped with its reason and the branch kept.
    let out = autopilot(&env, &["--max-items", "1", "--push"], "success");
    assert_eq!(out.status.code(), Some(0), "{}\n{}", common::stdout(&out), common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.contains("push: skipped ("), "{text}");
    assert!(text.contains("the branch is kept"), "{text}");
    assert!(branches(env.root()).contains(&"concord/WBS-001-feature".to_string()));

    // A bare repository as the remote.
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(env.root(), &["remote", "add", "origin", remote.path().to_str().unwrap()]);
    git(env.root(), &["push", "-q", "origin", "main"]);
    let remote_main = git_out(remote.path(), &["rev-parse", "main"]);
    let out = autopilot(&env, &["--max-items", "1", "--push"], "success");
    assert_eq!(out.status.code(), Some(0), "{}\n{}", common::stdout(&out), common::stderr(&out));
    assert!(
        common::stdout(&out).contains("push: concord/WBS-002-search-box to origin"),
        "{}",
        common::stdout(&out)
    );
    let on_remote = git_out(remote.path(), &["branch", "--format=%(refname:short)"]);
    assert!(on_remote.contains("concord/WBS-002-search-box"), "{on_remote}");
    assert_eq!(git_out(remote.path(), &["rev-parse", "main"]), remote_main, "the remote's main is untouched");
}

#[test]
fn a_failed_dispatch_stops_the_loop_with_every_item_in_a_true_state() {
    let env = setup_with(WBS, "");
    accepting(&env);
    let out = autopilot(&env, &[], "fail-exit");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.contains("stopped after 1 runs on 1 items"), "{text}");
    assert!(text.contains("WBS-001: todo") && text.contains("the run failed"), "{text}");
    assert_eq!(env.status_of("WBS-001"), "todo");
    assert_eq!(env.status_of("WBS-002"), "todo", "nothing else was dispatched");
    assert!(env.locks().is_empty(), "the lock was given back");
    assert_eq!(branches(env.root()), vec!["main"], "a branch without work is removed");
    assert!(env.llm.requests().is_empty(), "no review of a failed run");
}

#[test]
fn a_reviewer_that_keeps_failing_stops_the_loop_and_is_recorded_once() {
    let env = setup_with(WBS, "");
    env.llm.always("/v1/messages", Reply::Status(401, vec![], "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key\"}}".into()));
    let out = autopilot(&env, &[], "success");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.contains("the review could not be decided"), "{text}");
    assert!(text.contains("recorded as WBS-001Z"), "{text}");
    assert_eq!(env.status_of("WBS-001"), "awaiting_approval", "a person looks at an undecided run");
    assert_eq!(env.status_of("WBS-001Z"), "blocked");
    assert_eq!(env.status_of("WBS-002"), "todo", "the loop stopped at the first undecided review");

    // The next loop refuses to start: the health is red while the newest review's reviewer
    // failed.
    let out = autopilot(&env, &[], "success");
    assert_eq!(out.status.code(), Some(1));
    let text = common::stdout(&out);
    assert!(text.contains("did not start") && text.contains("`concord health` is red"), "{text}");
    assert!(text.contains("--ignore-red-health"), "{text}");
    assert_eq!(env.status_of("WBS-002"), "todo");

    // Started anyway, the same failure is not recorded again.
    let out = autopilot(&env, &["--ignore-red-health"], "success");
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).contains("recorded before"), "{}", common::stdout(&out));
    let wbs: Value =
        serde_json::from_str(&std::fs::read_to_string(env.root().join("ops/wbs.json")).unwrap()).unwrap();
    let incidents: Vec<&Value> = wbs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["title"].as_str().unwrap_or("").starts_with("Reviewer unreachable"))
        .collect();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["autopilot_mode"], "disabled");
}

#[test]
fn rework_rounds_are_bounded_and_the_same_failure_twice_stops_the_item() {
    let wbs = WBS.replace(
        "\"test_commands\": [\"true\"], \"risk_level\": \"low\"",
        "\"test_commands\": [\"sh -c 'echo boom; exit 1'\"], \"risk_level\": \"low\"",
    );
    let env = setup_with(&wbs, "");
    accepting(&env);
    let out = autopilot(&env, &["--max-items", "2"], "success");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(
        text.contains("WBS-002: blocked. the same gates failed twice in a row (tests: failed:"),
        "{text}"
    );
    assert_eq!(env.status_of("WBS-001"), "done");
    assert_eq!(env.status_of("WBS-002"), "blocked");
    let dispatched = env.statuses().iter().filter(|(id, s)| id == "WBS-002" && s == "in_progress").count();
    assert_eq!(dispatched, 2, "the second identical failure stops it");
    assert!(!branches(env.root()).iter().any(|b| b.contains("WBS-002")), "no accepted work, no branch");
}

#[test]
fn two_items_run_in_parallel_under_two_locks_with_disjoint_scopes() {
    let env = setup_with(WBS, "");
    accepting(&env);
    let out = autopilot(&env, &["--parallel", "2", "--max-items", "2"], "success");
    assert_eq!(out.status.code(), Some(0), "{}\n{}", common::stdout(&out), common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "done");
    assert_eq!(env.status_of("WBS-002"), "done");
    let holders: std::collections::BTreeSet<String> =
        std::fs::read_to_string(env.root().join("ops/queue.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["status"] == "in_progress")
            .map(|e| e["by"].as_str().unwrap_or("").to_string())
            .collect();
    assert_eq!(holders.into_iter().collect::<Vec<_>>(), vec!["autopilot-1", "autopilot-2"]);
    assert!(env.locks().is_empty());
}

#[test]
fn a_hung_agent_is_killed_at_the_loops_time_limit() {
    let env = setup_with(WBS, "");
    accepting(&env);
    env.set_timeout("10m");
    let started = std::time::Instant::now();
    let out = autopilot(&env, &["--max-minutes", "0.05"], "hang");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "stopped at the loop's limit");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "todo");
    assert!(env.locks().is_empty());
    let pid = env.fake_pid();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z"),
        "the agent's child was killed with its process group"
    );
}

#[test]
fn red_smoke_checks_on_the_default_branch_stop_the_loop_before_any_dispatch() {
    let env = setup_with(WBS, "[autopilot]\nsmoke_checks = [\"sh -c 'echo db down; exit 2'\"]\n");
    accepting(&env);
    let out = autopilot(&env, &[], "success");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.contains("did not start") && text.contains("smoke checks fail"), "{text}");
    assert_eq!(env.queue_text(), "", "nothing was dispatched");
    let smoke: Value = serde_json::from_str(
        &std::fs::read_to_string(env.root().join(".concord/autopilot/smoke.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(smoke["passed"], false);
}

#[test]
fn an_untrusted_workspace_runs_no_loop_and_bad_limits_are_refused() {
    let env = setup_with(WBS, "");
    let out = env.concord_with(&["autopilot"], "success", "", &[("XDG_CONFIG_HOME", "/nonexistent")]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("trust"), "{}", common::stderr(&out));
    assert!(env.invocations().is_empty());
    let out = autopilot(&env, &["--max-minutes", "0"], "success");
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("not a number of minutes above 0"), "{}", common::stderr(&out));
}

/// The language server's `concord.autopilot`: progress while it runs, and a cancelled request
/// stops the agent and leaves the item in a true state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_runs_the_loop_with_progress_and_cancelling_stops_the_agent() {
    use common::lsp::LspClient;
    let env = setup_with(WBS, "");
    accepting(&env);
    let path = format!("{}:{}", env.bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let spawn = |mode: &str| {
        LspClient::spawn(&[
            ("PATH", &path),
            ("FAKE_MODE", mode),
            ("FAKE_PID_FILE", &env.bin.path().join("fake.pid").display().to_string()),
            ("TEST_OPENAI_KEY", &env.key),
            ("TEST_ANTHROPIC_KEY", &env.key),
        ])
    };
    let mut client = spawn("success");
    let init = client
        .initialize(env.root(), json!({ "window": { "workDoneProgress": true } }), json!({ "trusted": true }))
        .await;
    let commands = init["capabilities"]["executeCommandProvider"]["commands"].as_array().unwrap().clone();
    assert!(commands.contains(&json!("concord.autopilot")));
    let result = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "concord.autopilot", "arguments": [{ "maxItems": 1 }] }),
        )
        .await;
    assert_eq!(result["ok"], true, "{result}");
    assert!(result["message"].as_str().unwrap().contains("WBS-001: done"), "{result}");
    let reports: Vec<String> = client
        .notifications
        .iter()
        .filter(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "report")
        .filter_map(|m| m["params"]["value"]["message"].as_str().map(str::to_string))
        .collect();
    assert!(reports.iter().any(|r| r.contains("WBS-001: dispatching round 1")), "{reports:?}");
    assert!(reports.iter().any(|r| r.contains("WBS-001: reviewing run")), "{reports:?}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
    assert_eq!(env.status_of("WBS-001"), "done");

    // Cancelled while the agent hangs: its process group is stopped, the item goes back.
    env.set_timeout("10m");
    let mut client = spawn("hang");
    client.initialize(env.root(), json!({}), json!({ "trusted": true })).await;
    let id = client
        .request_async(
            "workspace/executeCommand",
            json!({ "command": "concord.autopilot", "arguments": [{}] }),
        )
        .await;
    let pid_file = env.bin.path().join("fake.pid");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !pid_file.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(pid_file.exists(), "the agent started");
    client.notify("$/cancelRequest", json!({ "id": id })).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.status_of("WBS-002") != "todo" || !env.locks().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the item went back: {}", env.queue_text());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = env.fake_pid();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(state.is_empty() || state.contains(") Z"), "the agent's child is gone: {state}");
    let _ = client.shutdown_and_exit().await;
}

/// `--push --open-pr` against a fake GitHub: draft pull requests with the run's summary, done
/// only once the required checks are green, `needs-owner` on items awaiting a person, and a
/// red default branch stops the loop before any dispatch.
#[test]
fn pull_requests_are_drafts_and_done_waits_for_their_checks() {
    use crate::common::fake_github::FakeGitHub;
    const SHA: &str = "1111111111111111111111111111111111111111";
    let gh = FakeGitHub::start("acme", "shop");
    let config = format!(
        "[github]\napi_base_url = \"{}\"\nrepo = \"acme/shop\"\ntoken_env = \"TEST_GH_TOKEN\"\n",
        gh.base
    );
    let env = setup_with(WBS, &config);
    accepting(&env);
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(env.root(), &["remote", "add", "origin", remote.path().to_str().unwrap()]);
    let token = [("TEST_GH_TOKEN", "ghp_FakeTokenForTheLoopbackServer000000000")];
    let run = |args: &[&str]| {
        let mut all = vec!["autopilot"];
        all.extend_from_slice(args);
        env.concord_with(&all, "success", "", &token)
    };

    // A red default branch: nothing is dispatched.
    gh.check_runs("main", &[&[("build", "completed", Some("failure"))]], false);
    gh.statuses("main", &[]);
    let out = run(&["--push", "--open-pr"]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("own checks are red"), "{}", common::stdout(&out));
    assert_eq!(env.queue_text(), "");

    gh.check_runs("main", &[&[("build", "completed", Some("success"))]], false);
    gh.creates_pull(7, "concord/WBS-001-feature", SHA);
    gh.labels(7);
    let out = run(&["--push", "--open-pr", "--max-items", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", common::stdout(&out), common::stderr(&out));
    assert!(common::stdout(&out).contains("pull request: #7 (draft)"), "{}", common::stdout(&out));
    assert_eq!(env.status_of("WBS-001"), "awaiting_checks", "done waits for the pull request's checks");
    assert_eq!(env.status_of("WBS-002"), "awaiting_checks");
    let created: Vec<_> =
        gh.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/pulls")).collect();
    assert_eq!(created.len(), 2);
    let first =
        created.iter().find(|r| r.body["head"] == "concord/WBS-001-feature").expect("WBS-001's pull request");
    assert_eq!(first.body["base"], "main");
    assert_eq!(first.body["draft"], true);
    assert_eq!(first.body["title"], "WBS-001: Feature");
    let body = first.body["body"].as_str().unwrap();
    for part in [
        "| Risk | low |",
        "### Gates",
        "tests **PASS**",
        "### Tests run",
        "TD-0001: Feature spec",
        "**accept**",
    ] {
        assert!(body.contains(part), "{part} in {body}");
    }
    assert_eq!(first.header("x-github-api-version"), Some("2022-11-28"));
    let records = std::fs::read_to_string(env.root().join("ops/pull-requests.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 2, "{records}");

    // Pending checks keep it waiting; green ones make it done.
    gh.check_runs(SHA, &[&[("build", "in_progress", None)]], false);
    gh.statuses(SHA, &[]);
    let status = env.concord_with(&["status"], "success", "", &token);
    assert!(
        common::stdout(&status).contains("WBS-001 waits: the checks of PR #7"),
        "{}",
        common::stdout(&status)
    );
    assert_eq!(env.status_of("WBS-001"), "awaiting_checks");
    gh.check_runs(SHA, &[&[("build", "completed", Some("success"))]], false);
    let status = env.concord_with(&["status"], "success", "", &token);
    assert!(
        common::stdout(&status).contains("WBS-001: awaiting_checks → done"),
        "{}",
        common::stdout(&status)
    );
    assert_eq!(env.status_of("WBS-001"), "done");

    // A critical item awaits its owner: its pull request says so with a label.
    let out = run(&["--push", "--open-pr", "--max-items", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", common::stdout(&out), common::stderr(&out));
    assert_eq!(env.status_of("WBS-003"), "awaiting_approval");
    let labelled = gh.requests().into_iter().any(|r| {
        r.method == "POST"
            && r.path.ends_with("/issues/7/labels")
            && r.body["labels"] == json!(["needs-owner"])
    });
    assert!(
        labelled,
        "{:?}",
        gh.requests().iter().map(|r| (&r.method, &r.path, &r.body)).collect::<Vec<_>>()
    );
    assert!(!gh.requests().iter().any(|r| r.path.contains("/merge")), "it never merges");
    let remote_main = git_out(remote.path(), &["branch", "--list", "main"]);
    assert!(remote_main.is_empty(), "the default branch was never pushed: {remote_main}");
}

#[test]
fn a_failed_quality_gate_keeps_the_item_from_done() {
    let wbs = WBS.replace(
        "\"test_commands\": [\"test -f src/feature/impl.py\"],",
        "\"test_commands\": [\"test -f src/feature/impl.py\"], \"quality_gates\": [\"tests-changed\"],",
    );
    let env = setup_with(&wbs, "");
    accepting(&env);
    let out = autopilot(&env, &["--max-items", "1"], "success");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.contains("WBS-001: blocked") && text.contains("quality tests-changed"), "{text}");
    assert_ne!(env.status_of("WBS-001"), "done");
    assert!(!branches(env.root()).iter().any(|b| b.contains("WBS-001")), "nothing was committed");
    let gates: Vec<Value> = std::fs::read_dir(env.root().join("docs/reviews"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".gates.json"))
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .collect();
    assert!(!gates.is_empty());
    for file in gates {
        assert_eq!(file["passed"], false);
        let failed: Vec<&str> = file["gates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["passed"] == false)
            .filter_map(|g| g["name"].as_str())
            .collect();
        assert_eq!(failed, vec!["quality tests-changed"]);
    }
}

#[test]
fn in_parallel_one_failure_stops_new_dispatches_and_lets_the_others_finish() {
    let env = setup_with(WBS, "");
    accepting(&env);
    let out =
        env.concord_with(&["autopilot", "--parallel", "2"], "success", "", &[("FAKE_FAIL_ITEM", "WBS-001")]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.contains("WBS-001: the run failed"), "{text}");
    assert_eq!(env.status_of("WBS-001"), "todo");
    assert_eq!(env.status_of("WBS-002"), "done", "the item running beside it finished: {text}");
    assert_eq!(env.status_of("WBS-003"), "todo", "nothing new was dispatched");
    assert!(env.locks().is_empty());
}

#[test]
fn the_loops_cost_cap_stops_it_at_the_priced_usage() {
    // The fake Anthropic answer reports 1 input and 1 output token of model "test".
    let config = "[autopilot]\nmax_cost_usd = 1.5\n[autopilot.prices.test]\ninput_per_mtok = 1000000.0\noutput_per_mtok = 1000000.0\n[autopilot.prices.gpt]\ninput_per_mtok = 2.0\noutput_per_mtok = 8.0\n[autopilot.prices.claude]\ninput_per_mtok = 3.0\noutput_per_mtok = 15.0\n";
    let env = setup_with(WBS, config);
    accepting(&env);
    let out = autopilot(&env, &[], "success");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    assert!(text.contains("cost cap was reached ($2.00 of $1.50)"), "{text}");
    assert!(text.contains("Reported usage cost $2.00"), "{text}");
    assert_eq!(env.status_of("WBS-001"), "done", "the item that reached the cap is finished");
    assert_eq!(env.status_of("WBS-002"), "todo", "no item starts after the cap");

    // A cap without a price for a reviewer's model refuses to start.
    let env = setup_with(WBS, "[autopilot]\nmax_cost_usd = 1.0\n");
    let out = autopilot(&env, &[], "success");
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("has no price for"), "{}", common::stderr(&out));
}
