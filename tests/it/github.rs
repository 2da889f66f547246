//! The GitHub client against a fake GitHub on 127.0.0.1: the requests it sends, the checks
//! summary, and the gate pull requests put on `done` in `concord status` and `concord approve`.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::fake_github::FakeGitHub;
use concord::ops::github::{self, CheckState, ChecksState, GitHub};
use serde_json::{json, Value};

const SHA: &str = "3f2c9e1d4b5a6978877665544332211000ffeedd";

/// A token-shaped value built at run time, so that no file of the repository holds one.
fn token() -> String {
    format!("ghp_{}", "T3stT0kenF0rTheFakeGitHubServer0000".chars().take(36).collect::<String>())
}

fn client(gh: &FakeGitHub) -> GitHub {
    GitHub::new(&gh.base, &gh.owner, &gh.repo, &token(), "GITHUB_TOKEN")
}

#[test]
fn a_draft_pull_request_is_opened_as_github_documents_it() {
    let gh = FakeGitHub::start("acme", "shop");
    gh.creates_pull(12, "concord/WBS-001", SHA);
    let pr =
        github::open_pull_request(&client(&gh), "concord/WBS-001", "main", "WBS-001 Feature", "Done.", true)
            .unwrap();
    assert_eq!((pr.number, pr.head_sha.as_str(), pr.draft), (12, SHA, true));
    assert_eq!(pr.url, "https://github.example/acme/shop/pull/12");
    let requests = gh.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/api/v3/repos/acme/shop/pulls"));
    assert_eq!(request.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(request.header("user-agent"), Some("concord"));
    assert_eq!(request.header("authorization"), Some(format!("Bearer {}", token()).as_str()));
    assert_eq!(
        request.body,
        json!({ "title": "WBS-001 Feature", "head": "concord/WBS-001", "base": "main", "body": "Done.", "draft": true })
    );
}

#[test]
fn an_existing_pull_request_is_found_by_its_head() {
    let gh = FakeGitHub::start("acme", "shop");
    gh.pull_already_exists(7, "concord/WBS-001", SHA);
    let pr = github::open_pull_request(&client(&gh), "concord/WBS-001", "main", "t", "b", true).unwrap();
    assert_eq!(pr.number, 7);
    let requests = gh.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].method, "GET");
    assert_eq!(requests[1].path, "/api/v3/repos/acme/shop/pulls?head=acme%3Aconcord%2FWBS-001&state=open");
}

#[test]
fn labels_are_posted_to_the_issue() {
    let gh = FakeGitHub::start("acme", "shop");
    gh.labels(12);
    github::add_labels(&client(&gh), 12, &["autopilot", "concord"]).unwrap();
    let requests = gh.requests();
    assert_eq!(requests[0].path, "/api/v3/repos/acme/shop/issues/12/labels");
    assert_eq!(requests[0].body, json!({ "labels": ["autopilot", "concord"] }));
    // A number GitHub does not know is an error in words, not a silent success.
    let err = github::add_labels(&client(&gh), 13, &["autopilot"]).unwrap_err();
    assert!(err.contains("404 Not Found") && err.contains("acme/shop"), "{err}");
}

#[test]
fn checks_summarise_as_green_pending_red_and_required_missing() {
    let gh = FakeGitHub::start("acme", "shop");
    let required = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    gh.check_runs(
        SHA,
        &[&[("build", "completed", Some("success")), ("docs", "completed", Some("skipped"))]],
        true,
    );
    gh.statuses(SHA, &[("ci/lint", "success")]);
    let checks = github::checks(&client(&gh), SHA, &[]).unwrap();
    assert_eq!(checks.state, ChecksState::Green);
    let names: Vec<&str> = checks.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["build", "ci/lint", "docs"]);
    assert_eq!(checks.items[1].url, "https://ci.example/status/ci/lint");

    // Required names not reported at all are pending.
    let checks = github::checks(&client(&gh), SHA, &required(&["build", "deploy"])).unwrap();
    assert_eq!(checks.state, ChecksState::Pending);
    assert_eq!(
        checks.items.iter().map(|i| (i.name.as_str(), i.state)).collect::<Vec<_>>(),
        [("build", CheckState::Green), ("deploy", CheckState::Pending)]
    );

    gh.check_runs(SHA, &[&[("build", "in_progress", None), ("lint", "completed", Some("success"))]], true);
    assert_eq!(github::checks(&client(&gh), SHA, &[]).unwrap().state, ChecksState::Pending);

    gh.check_runs(SHA, &[&[("build", "completed", Some("timed_out")), ("lint", "queued", None)]], true);
    let checks = github::checks(&client(&gh), SHA, &[]).unwrap();
    assert_eq!(checks.state, ChecksState::Red);
    assert_eq!(checks.named(CheckState::Red)[0].url, "https://github.example/runs/build");
    // Only required names count: a red check nobody requires does not make the commit red.
    let checks = github::checks(&client(&gh), SHA, &required(&["ci/lint"])).unwrap();
    assert_eq!(checks.state, ChecksState::Green);

    // A failed commit status is red as well.
    gh.check_runs(SHA, &[&[]], true);
    gh.statuses(SHA, &[("ci/lint", "error")]);
    assert_eq!(github::checks(&client(&gh), SHA, &[]).unwrap().state, ChecksState::Red);
    gh.statuses(SHA, &[]);
    assert_eq!(github::checks(&client(&gh), SHA, &[]).unwrap().state, ChecksState::None);
}

#[test]
fn check_runs_are_read_over_every_page() {
    for link in [true, false] {
        let gh = FakeGitHub::start("acme", "shop");
        gh.check_runs(
            SHA,
            &[
                &[("build", "completed", Some("success")), ("lint", "completed", Some("success"))],
                &[("e2e", "completed", Some("failure"))],
            ],
            link,
        );
        gh.statuses(SHA, &[]);
        let checks = github::checks(&client(&gh), SHA, &[]).unwrap();
        assert_eq!(checks.state, ChecksState::Red, "the failure is on the second page (link: {link})");
        assert_eq!(checks.items.len(), 3);
        let paths: Vec<String> = gh.requests().into_iter().map(|r| r.path).collect();
        assert!(
            paths.contains(&format!("/api/v3/repos/acme/shop/commits/{SHA}/check-runs?per_page=100&page=2")),
            "{paths:?}"
        );
        assert!(!paths.iter().any(|p| p.ends_with("page=3")), "no page past the last: {paths:?}");
    }
}

#[test]
fn a_refused_token_is_named_by_its_variable_never_shown() {
    let gh = FakeGitHub::start("acme", "shop");
    gh.unauthorized(&format!("Bearer {}", token()));
    for err in [
        github::open_pull_request(&client(&gh), "b", "main", "t", "", true).unwrap_err(),
        github::add_labels(&client(&gh), 1, &["x"]).unwrap_err(),
        github::checks(&client(&gh), SHA, &[]).unwrap_err(),
    ] {
        assert!(err.starts_with("GitHub refused the token (401 Bad credentials: Bearer [redacted]"), "{err}");
        assert!(err.contains("): set GITHUB_TOKEN to a token with"), "{err}");
        assert!(!err.contains(&token()) && !err.contains("T3stT0ken"), "{err}");
    }
    let err = github::open_pull_request(&client(&gh), "b", "main", "t", "", true).unwrap_err();
    assert!(err.contains("pull_requests:write"), "{err}");
}

/// A workspace with two work items and its own trust store; `concord` runs with the token set.
struct Env {
    dir: tempfile::TempDir,
    config_home: tempfile::TempDir,
}

const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Feature", "phase": "P1", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/feature/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "critical", "autopilot_mode": "full"},
  {"id": "WBS-002", "title": "Other", "phase": "P1", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/other/**"],
   "acceptance_criteria": ["Works"], "test_commands": ["true"], "risk_level": "critical", "autopilot_mode": "full"}
]}"#;

fn record(wbs: &str, number: u64, sha: &str) -> String {
    json!({
        "wbs": wbs, "branch": format!("concord/{wbs}"), "base": "main", "number": number,
        "url": format!("https://github.example/acme/shop/pull/{number}"), "head_sha": sha,
        "run": "RUN-1", "opened_at": "2026-12-05T10:00:00Z", "draft": true
    })
    .to_string()
        + "\n"
}

impl Env {
    fn new(github: &str) -> Env {
        let index = r#"[{"id": "TD-0001", "title": "Spec", "summary": "s", "source": "docs/spec.md"}]"#;
        let queue = concat!(
            r#"{"id": "WBS-001", "status": "awaiting_approval", "at": "2026-12-05T09:00:00Z", "by": "concord", "reason": "accepted"}"#,
            "\n",
            r#"{"id": "WBS-002", "status": "awaiting_approval", "at": "2026-12-05T09:00:00Z", "by": "concord", "reason": "accepted"}"#,
            "\n"
        );
        let dir = common::workspace(&[
            ("concord.toml", github.as_bytes()),
            ("docs/blueprints/blueprint_index.json", index.as_bytes()),
            ("ops/wbs.json", WBS.as_bytes()),
            ("ops/queue.jsonl", queue.as_bytes()),
        ]);
        Env { dir, config_home: tempfile::tempdir().unwrap() }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn concord(&self, args: &[&str]) -> Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
        command.args(args);
        // `trust` and `check` take the workspace as their argument.
        if !matches!(args.first(), Some(&"trust") | Some(&"check")) {
            command.args(["-C", self.root().to_str().unwrap()]);
        }
        command
            .env("XDG_CONFIG_HOME", self.config_home.path())
            .env("GITHUB_TOKEN", token())
            .env("NO_COLOR", "1")
            .env_remove("CONCORD_TRUST")
            .env_remove("CONCORD_AGENT")
            .output()
            .unwrap()
    }

    fn write_records(&self, text: &str) {
        std::fs::write(self.root().join("ops/pull-requests.jsonl"), text).unwrap();
    }

    fn status_of(&self, id: &str) -> String {
        std::fs::read_to_string(self.root().join("ops/queue.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .rfind(|v| v["id"] == id)
            .map(|v| v["status"].as_str().unwrap().to_string())
            .unwrap()
    }
}

fn fake_config(gh: &FakeGitHub, extra: &str) -> String {
    format!("[github]\napi_base_url = \"{}\"\nrepo = \"{}/{}\"\n{extra}", gh.base, gh.owner, gh.repo)
}

#[test]
fn status_shows_the_pull_request_and_its_checks_only_for_items_that_have_one() {
    let gh = FakeGitHub::start("acme", "shop");
    let env = Env::new(&fake_config(&gh, ""));
    env.write_records(&record("WBS-001", 12, SHA));
    gh.check_runs(
        SHA,
        &[&[
            ("build", "completed", Some("failure")),
            ("lint", "completed", Some("cancelled")),
            ("docs", "completed", Some("success")),
        ]],
        true,
    );
    gh.statuses(SHA, &[]);
    let out = env.concord(&["status"]);
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(
        text.contains(
            "PR #12 (draft) https://github.example/acme/shop/pull/12: checks red (failed: build, lint)"
        ),
        "{text}"
    );
    assert_eq!(text.matches("PR #").count(), 1, "WBS-002 has no pull request: {text}");
    // Only WBS-001's commit was asked about.
    assert!(gh.requests().iter().all(|r| r.path.contains(SHA)), "{:?}", gh.requests());

    gh.check_runs(SHA, &[&[("build", "in_progress", None)]], true);
    let text = common::stdout(&env.concord(&["status"]));
    assert!(text.contains("checks pending (waiting: build)"), "{text}");

    // GitHub out of reach fails nothing: the checks are unknown.
    gh.unauthorized("");
    let out = env.concord(&["status"]);
    assert_eq!(out.status.code(), Some(0));
    let text = common::stdout(&out);
    assert!(text.contains("PR #12 (draft) https://github.example/acme/shop/pull/12: checks unknown: GitHub refused the token (401 Bad credentials)"), "{text}");
    assert!(!text.contains(&token()), "{text}");
}

#[test]
fn approve_waits_for_green_checks_on_the_pull_request() {
    let gh = FakeGitHub::start("acme", "shop");
    let env = Env::new(&fake_config(&gh, "required_checks = [\"build\", \"deploy\"]\n"));
    env.write_records(
        &(record("WBS-001", 11, "1111111111111111111111111111111111111111") + &record("WBS-001", 12, SHA)),
    );
    gh.statuses(SHA, &[]);

    // Pending: a required check not reported yet.
    gh.check_runs(
        SHA,
        &[&[("build", "completed", Some("success")), ("lint", "completed", Some("failure"))]],
        true,
    );
    let out = env.concord(&["approve", "WBS-001", "--by", "owner"]);
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(err.contains("WBS-001 cannot become done: the checks of PR #12"), "{err}");
    assert!(err.contains("pending: deploy (not reported)") && err.contains("Wait until"), "{err}");
    assert_eq!(env.status_of("WBS-001"), "awaiting_approval");
    // The latest record's commit was asked about, not the first PR's.
    assert!(gh.requests().iter().all(|r| r.path.contains(SHA)));

    // Red: the failed check is named with its link, and the next step given.
    gh.check_runs(
        SHA,
        &[&[("build", "completed", Some("failure")), ("deploy", "completed", Some("success"))]],
        true,
    );
    let err = common::stderr(&env.concord(&["approve", "WBS-001", "--by", "owner"]));
    assert!(err.contains("red: failed: build https://github.example/runs/build"), "{err}");
    assert!(err.contains("Fix the branch concord/WBS-001 and push"), "{err}");
    assert_eq!(env.status_of("WBS-001"), "awaiting_approval");

    // Unreadable checks are not green.
    let env_refused = Env::new(&fake_config(&gh, ""));
    env_refused.write_records(&record("WBS-001", 12, SHA));
    let other = FakeGitHub::start("acme", "shop");
    other.unauthorized("");
    std::fs::write(env_refused.root().join("concord.toml"), fake_config(&other, "")).unwrap();
    let err = common::stderr(&env_refused.concord(&["approve", "WBS-001", "--by", "owner"]));
    assert!(err.contains("cannot be read, and unread checks are not green") && err.contains("401"), "{err}");
    assert_eq!(env_refused.status_of("WBS-001"), "awaiting_approval");

    // Green: approved. An item without a pull request is not asked about at all.
    gh.check_runs(
        SHA,
        &[&[("build", "completed", Some("success")), ("deploy", "completed", Some("neutral"))]],
        true,
    );
    let out = env.concord(&["approve", "WBS-001", "--by", "owner"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "done");
    let asked = gh.requests().len();
    let out = env.concord(&["approve", "WBS-002", "--by", "owner"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(gh.requests().len(), asked);
}

#[test]
fn an_untrusted_workspace_cannot_send_the_token_to_a_server_it_names() {
    // No request can reach this name; the refusal comes before any.
    let env =
        Env::new("[github]\napi_base_url = \"https://ghe.example.invalid/api/v3\"\nrepo = \"acme/shop\"\n");
    env.write_records(&record("WBS-001", 12, SHA));
    let text = common::stdout(&env.concord(&["status"]));
    assert!(
        text.contains(
            "checks unknown: refusing to send the GitHub token to https://ghe.example.invalid/api/v3"
        ),
        "{text}"
    );
    let err = common::stderr(&env.concord(&["approve", "WBS-001", "--by", "owner"]));
    assert!(err.contains("refusing to send the GitHub token") && err.contains("concord trust"), "{err}");

    // Once trusted, the token may go there (and the name does not resolve).
    let out = env.concord(&["trust", env.root().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let text = common::stdout(&env.concord(&["status"]));
    assert!(
        text.contains("checks unknown: cannot reach GitHub at https://ghe.example.invalid/api/v3"),
        "{text}"
    );
}

#[test]
fn the_repository_comes_from_the_origin_remote_when_not_configured() {
    let gh = FakeGitHub::start("acme", "shop");
    let env = Env::new(&format!("[github]\napi_base_url = \"{}\"\n", gh.base));
    common::git(env.root(), &["init", "-q"]);
    common::git(env.root(), &["remote", "add", "origin", "git@github.com:acme/shop.git"]);
    env.write_records(&record("WBS-001", 12, SHA));
    gh.check_runs(SHA, &[&[("build", "completed", Some("success"))]], true);
    gh.statuses(SHA, &[]);
    let text = common::stdout(&env.concord(&["status"]));
    assert!(text.contains("checks green"), "{text}");

    common::git(env.root(), &["remote", "set-url", "origin", "https://gitlab.example/acme/shop.git"]);
    let text = common::stdout(&env.concord(&["status"]));
    assert!(text.contains("is not a github.com repository; set repo = \"owner/name\""), "{text}");
}

#[test]
fn a_malformed_record_line_is_a_finding_and_the_rest_still_counts() {
    let gh = FakeGitHub::start("acme", "shop");
    let env = Env::new(&fake_config(&gh, ""));
    env.write_records(&(record("WBS-001", 12, SHA) + "{\"wbs\": \"WBS-002\", \"number\": \"seven\"}\n"));
    let out = env.concord(&["check", "--format", "json", env.root().to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "ops/pull-requests.jsonl")
        .collect();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["code"], "malformed-file");
    assert_eq!(findings[0]["range"]["start"]["line"], 1, "{:#}", findings[0]);
    assert!(findings[0]["message"].as_str().unwrap().contains("line 2 is not a pull-request record"));

    gh.check_runs(SHA, &[&[("build", "completed", Some("success"))]], true);
    gh.statuses(SHA, &[]);
    let text = common::stdout(&env.concord(&["status"]));
    assert!(text.contains("PR #12 (draft)") && text.contains("checks green"), "{text}");
}

#[test]
fn open_and_record_labels_the_pull_request_and_appends_its_record() {
    let gh = FakeGitHub::start("acme", "shop");
    let env = Env::new(&fake_config(&gh, "labels = [\"autopilot\"]\n"));
    gh.creates_pull(12, "concord/WBS-001", SHA);
    gh.labels(12);
    let ws = concord::workspace::Workspace::load(env.root()).unwrap();
    let opening = concord::ops::pull_requests::Opening {
        wbs: "WBS-001",
        branch: "concord/WBS-001",
        base: "main",
        title: "WBS-001 Feature",
        body: "Implements WBS-001.",
        run: Some("RUN-1"),
        draft: true,
    };
    let record = concord::ops::pull_requests::open_and_record(&ws, &client(&gh), &opening).unwrap();
    assert_eq!((record.number, record.head_sha.as_str(), record.draft), (12, SHA, true));
    let requests = gh.requests();
    assert_eq!(requests[1].body, json!({ "labels": ["autopilot"] }));
    // The workspace read again holds the new record.
    let ws = concord::workspace::Workspace::load(env.root()).unwrap();
    let latest = concord::ops::pull_requests::latest_for(&ws, "WBS-001").unwrap();
    assert_eq!(latest, record);
    assert!(concord::ops::pull_requests::latest_for(&ws, "WBS-002").is_none());
    let line = std::fs::read_to_string(env.root().join("ops/pull-requests.jsonl")).unwrap();
    let written: Value = serde_json::from_str(line.trim()).unwrap();
    assert!(common::validate(&common::repo_root().join("docs/schemas/pull-request.schema.json"), &written)
        .is_empty());
}

#[test]
fn no_checks_reported_waits_unless_the_repository_has_no_ci() {
    let gh = FakeGitHub::start("acme", "shop");
    gh.check_runs(SHA, &[&[]], true);
    gh.statuses(SHA, &[]);
    let env = Env::new(&fake_config(&gh, ""));
    env.write_records(&record("WBS-001", 12, SHA));
    let err = common::stderr(&env.concord(&["approve", "WBS-001", "--by", "owner"]));
    assert!(err.contains("no checks are reported") && err.contains("allow_no_checks"), "{err}");
    assert_eq!(env.status_of("WBS-001"), "awaiting_approval");

    let env = Env::new(&fake_config(&gh, "allow_no_checks = true\n"));
    env.write_records(&record("WBS-001", 12, SHA));
    let out = env.concord(&["approve", "WBS-001", "--by", "owner"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "done");
}
