//! `concord check --changed-since` on real git repositories built here: linear history,
//! merges, renames, trailers with continuation lines, a shallow clone, the CI environments
//! `auto` reads, the job summary and SARIF fingerprints.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Payments", "blueprint_ids": ["TD-0001"], "scope_paths": ["services/payments/**"]},
  {"id": "WBS-002", "title": "Search", "blueprint_ids": ["TD-0002"], "scope_paths": ["services/search/api/**"]}
]}
"#;

const SPEC: &str = "# Spec\n\n## TD-0001 Payments\n\nCharge cards.\n\n## TD-0002 Search\n\nFind things.\n";

fn git_at(root: &Path, args: &[&str], author: (&str, &str)) -> Output {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", &format!("user.name={}", author.0), "-c", &format!("user.email={}", author.1)])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn git(root: &Path, args: &[&str]) -> Output {
    git_at(root, args, ("Dev", "dev@example.invalid"))
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn commit(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--allow-empty", "-m", message]);
}

/// main: the plan, the spec and two traced files; an untraced file nobody touches later.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, "ops/wbs.json", WBS);
    write(root, "docs/blueprints/spec.md", SPEC);
    write(root, "services/payments/charge.py", "def charge():\n    pass\n");
    write(root, "legacy/old.py", "x = 1\n");
    commit(root, "Start\n\nImplements: WBS-001");
    git(root, &["checkout", "-q", "-b", "feature"]);
    dir
}

fn check(root: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    cmd.arg("check").arg(".").args(["--format", "json"]).args(args).current_dir(root);
    for var in [
        "GITHUB_ACTIONS",
        "GITHUB_EVENT_NAME",
        "GITHUB_BASE_REF",
        "GITHUB_EVENT_PATH",
        "GITHUB_STEP_SUMMARY",
        "GITLAB_CI",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA",
        "CI_COMMIT_BEFORE_SHA",
        "CONCORD_AGENT",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    let stderr = common::stderr(&out);
    let value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), value, stderr)
}

fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == code).collect()
}

fn paths(found: &[&Value]) -> Vec<String> {
    found.iter().map(|f| f["path"].as_str().unwrap().to_string()).collect()
}

#[test]
fn linear_history_reports_unmapped_files_and_commits_without_trailers() {
    let dir = repo();
    let root = dir.path();
    write(root, "services/payments/charge.py", "def charge():\n    return 1\n");
    commit(root, "Charge returns one\n\nImplements: WBS-001\n");
    write(root, "services/search/index.py", "def index():\n    pass\n");
    commit(root, "Add the search index");
    write(root, "lib/tagged.py", "# implements TD-0001\nx = 2\n");
    commit(root, "Tagged helper\n\nSome prose about it.\n\nRefs: TD-0001,\n  WBS-002\nSigned-off-by: Dev <dev@example.invalid>\n");
    write(root, "lib/typo.py", "# implements TD-0002\n");
    commit(root, "Typo trailer\n\nFixes: WBS-099\n");

    let (code, report, stderr) = check(root, &["--changed-since", "main"], &[]);
    assert_eq!(code, Some(1), "{stderr}\n{report:#}");
    let errors = common::validate(&common::repo_root().join("docs/schemas/findings.schema.json"), &report);
    assert!(errors.is_empty(), "{errors:#?}");

    let unmapped = findings(&report, "unmapped-change");
    assert_eq!(paths(&unmapped), vec!["services/search/index.py"], "{report:#}");
    let message = unmapped[0]["message"].as_str().unwrap();
    assert!(message.contains("Closest work-item scopes: WBS-002 (services/search/api/**)"), "{message}");
    let fix = &unmapped[0]["fix"];
    assert_eq!(fix["candidates"][0]["id"], "WBS-002");
    assert_eq!(fix["edits"][0]["new_text"], "# implements WBS-002\n");
    // Not also untraced-file; and files outside the change are not analysed at all.
    assert!(findings(&report, "untraced-file").is_empty(), "{report:#}");
    assert!(!report.to_string().contains("legacy/old.py"));
    assert!(findings(&report, "uncovered-chunk").is_empty());

    let untraced = findings(&report, "untraced-commit");
    assert_eq!(untraced.len(), 1, "{report:#}");
    let message = untraced[0]["message"].as_str().unwrap();
    assert!(message.contains("\"Add the search index\""), "{message}");
    let hash = untraced[0]["data"]["commit"].as_str().unwrap();
    assert_eq!(hash.len(), 40);
    // Shown at a changed file that exists at the head.
    assert_eq!(untraced[0]["path"], "lib/tagged.py");

    let unknown = findings(&report, "unknown-id");
    assert_eq!(unknown.len(), 1, "{report:#}");
    assert_eq!(unknown[0]["data"]["id"], "WBS-099");
    assert!(unknown[0]["data"]["commit"].is_string());

    let range = &report["summary"]["range"];
    assert_eq!(range["commits"], 4);
    assert_eq!(range["files_changed"], 4);
    assert_eq!(range["base_ref"], "main");

    // --base/--head name the same range.
    let (code2, report2, _) = check(root, &["--base", "main", "--head", "HEAD"], &[]);
    assert_eq!(code2, Some(1));
    assert_eq!(report2["findings"], report["findings"]);
    // A range before the untraced commits is clean.
    let (code3, report3, stderr3) = check(root, &["--base", "main", "--head", "HEAD~3"], &[]);
    assert_eq!(code3, Some(0), "{stderr3}\n{report3:#}");
    assert!(stderr3.contains("not the checked-out commit"), "{stderr3}");
}

#[test]
fn merges_and_allowlisted_authors_need_no_trailer_and_renames_are_followed() {
    let dir = repo();
    let root = dir.path();
    write(root, "services/payments/refund.py", "def refund():\n    pass\n");
    commit(root, "Refunds\n\nImplements: WBS-001");
    // main moves on; feature merges it (a merge commit with no trailer).
    git(root, &["checkout", "-q", "main"]);
    write(root, "docs/notes.md", "notes\n");
    commit(root, "Notes\n\nRefs: TD-0002");
    git(root, &["checkout", "-q", "feature"]);
    git(root, &["merge", "-q", "--no-ff", "--no-edit", "main"]);
    // A bot's commit, and a rename out of every scope.
    write(root, "services/payments/deps.txt", "pinned\n");
    git(root, &["add", "-A"]);
    git_at(
        root,
        &["commit", "-q", "-m", "Bump deps"],
        ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
    );
    std::fs::create_dir_all(root.join("services/refunds")).unwrap();
    git(root, &["mv", "services/payments/refund.py", "services/refunds/refund.py"]);
    commit(root, "Move refunds\n\nImplements: WBS-001");

    let (code, report, stderr) = check(root, &["--changed-since", "main"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    // The bot's commit is untraced without an allowlist; the merge never is.
    let untraced = findings(&report, "untraced-commit");
    assert_eq!(untraced.len(), 1, "{report:#}");
    assert!(untraced[0]["message"].as_str().unwrap().contains("Bump deps"));
    let unmapped = findings(&report, "unmapped-change");
    assert_eq!(paths(&unmapped), vec!["services/refunds/refund.py"]);
    let message = unmapped[0]["message"].as_str().unwrap();
    // The merge base is the fork point, so the file is new in the range.
    assert!(message.contains("services/refunds/refund.py (added)"), "{message}");

    write(root, "concord.toml", "[commits]\nallow_authors = [\"*[bot]\"]\n");
    let (_, report, _) = check(root, &["--changed-since", "main"], &[]);
    assert!(findings(&report, "untraced-commit").is_empty(), "{report:#}");
    assert_eq!(report["summary"]["range"]["commits_skipped"], 2);

    // A rename of a file that existed at the base is reported as one.
    let (_, report, _) = check(root, &["--changed-since", "HEAD~1"], &[]);
    let unmapped = findings(&report, "unmapped-change");
    let message = unmapped[0]["message"].as_str().unwrap();
    assert!(message.contains("(renamed from services/payments/refund.py)"), "{message}");

    // Merges can be required to carry a trailer too.
    write(root, "concord.toml", "[commits]\nallow_authors = [\"*[bot]\"]\nskip_merges = false\n");
    let (_, report, _) = check(root, &["--changed-since", "main"], &[]);
    let untraced = findings(&report, "untraced-commit");
    assert_eq!(untraced.len(), 1);
    assert!(untraced[0]["message"].as_str().unwrap().contains("Merge branch"));
}

#[test]
fn configured_trailer_keys_and_a_bad_config_value() {
    let dir = repo();
    let root = dir.path();
    write(root, "services/payments/a.py", "x = 1\n");
    commit(root, "A\n\nImplements: WBS-001");
    write(root, "services/payments/b.py", "x = 2\n");
    commit(root, "B\n\nTask: WBS-001");
    let (_, report, _) = check(root, &["--changed-since", "main"], &[]);
    assert_eq!(findings(&report, "untraced-commit").len(), 1);
    write(root, "concord.toml", "[commits]\ntrailer_keys = [\"Implements\", \"task\"]\n");
    let (code, report, _) = check(root, &["--changed-since", "main"], &[]);
    assert_eq!(code, Some(0), "{report:#}");
    write(root, "concord.toml", "[commits]\ntrailer_keys = [\"Not a key\"]\n");
    let (code, _, stderr) = check(root, &["--changed-since", "main"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("commits.trailer_keys") && stderr.contains("concord.toml:2:"), "{stderr}");
}

#[test]
fn a_shallow_clone_without_the_merge_base_says_what_to_fetch() {
    let dir = repo();
    let root = dir.path();
    write(root, "services/payments/a.py", "x = 1\n");
    commit(root, "A\n\nImplements: WBS-001");
    git(root, &["checkout", "-q", "main"]);
    write(root, "docs/more.md", "more\n");
    commit(root, "More\n\nRefs: TD-0001");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", root.display());
    git(
        clone.path(),
        &["clone", "-q", "--depth", "1", "--no-single-branch", "--branch", "feature", &url, "c"],
    );
    let cloned = clone.path().join("c");
    let (code, _, stderr) = check(&cloned, &["--changed-since", "origin/main"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("shallow") && stderr.contains("fetch-depth: 0"), "{stderr}");
    // A base the clone does not hold at all.
    let (code, _, stderr) = check(&cloned, &["--changed-since", "v9.9"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("v9.9") && stderr.contains("fetch-depth: 0"), "{stderr}");
    // After fetching the history the same check runs.
    git(&cloned, &["fetch", "-q", "--unshallow"]);
    let (code, report, stderr) = check(&cloned, &["--changed-since", "origin/main"], &[]);
    assert_eq!(code, Some(0), "{stderr}\n{report:#}");
    assert_eq!(report["summary"]["range"]["commits"], 1);
}

#[test]
fn a_shallow_clone_that_cuts_the_range_is_refused() {
    let dir = repo();
    let root = dir.path();
    for n in 0..3 {
        write(root, &format!("services/payments/f{n}.py"), "x = 1\n");
        commit(root, &format!("F{n}\n\nImplements: WBS-001"));
    }
    let base = String::from_utf8(git(root, &["rev-parse", "main"]).stdout).unwrap();
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", root.display());
    git(clone.path(), &["clone", "-q", "--depth", "2", "--branch", "feature", &url, "c"]);
    let cloned = clone.path().join("c");
    // The base commit is not in the clone.
    let (code, _, stderr) = check(&cloned, &["--changed-since", base.trim()], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("shallow"), "{stderr}");
}

/// A pull request's merge commit as GitHub checks it out, in a clone of `depth`, with an event
/// that says the pull request has `commits` commits.
fn pr_clone(pr_commits: usize, depth: &str) -> (tempfile::TempDir, tempfile::TempDir, std::path::PathBuf) {
    let dir = repo();
    let root = dir.path();
    for n in 0..pr_commits {
        write(root, &format!("services/payments/p{n}.py"), "x = 1\n");
        commit(root, &format!("P{n}\n\nImplements: WBS-001"));
    }
    git(root, &["checkout", "-q", "main"]);
    write(root, "docs/main-only.md", "x\n");
    commit(root, "Main moves\n\nRefs: TD-0001");
    git(root, &["checkout", "-q", "-b", "pr-merge"]);
    git(root, &["merge", "-q", "--no-ff", "--no-edit", "feature"]);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", root.display());
    // Depth 0 is all history, as `fetch-depth: 0` is.
    let mut args = vec!["clone", "-q", "--branch", "pr-merge"];
    if depth != "0" {
        args.extend(["--depth", depth]);
    }
    args.extend([url.as_str(), "c"]);
    git(clone.path(), &args);
    let event = clone.path().join("event.json");
    std::fs::write(&event, format!("{{\"pull_request\": {{\"commits\": {pr_commits}}}}}")).unwrap();
    let cloned = clone.path().join("c");
    (dir, clone, cloned)
}

#[test]
fn a_pull_request_in_a_shallow_clone_needs_its_commits_and_one_more() {
    for (commits, depth, ok) in [(1, "2", true), (3, "2", false), (3, "4", true)] {
        let (_origin, clone, cloned) = pr_clone(commits, depth);
        let event = clone.path().join("event.json");
        let env = [
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_BASE_REF", "main"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ];
        let (code, report, stderr) = check(&cloned, &["--changed-since", "auto"], &env);
        if ok {
            assert_eq!(code, Some(0), "{commits} commits at depth {depth}: {stderr}\n{report:#}");
            assert_eq!(report["summary"]["range"]["commits"], commits + 1);
        } else {
            assert_eq!(code, Some(2), "{commits} commits at depth {depth}: {report:#}");
            assert!(stderr.contains("cut off") && stderr.contains("fetch-depth: 4"), "{stderr}");
        }
    }
}

#[test]
fn auto_picks_the_base_from_the_ci_event() {
    let dir = repo();
    let root = dir.path();
    write(root, "services/payments/a.py", "x = 1\n");
    commit(root, "A\n\nImplements: WBS-001");
    write(root, "services/other/b.py", "x = 2\n");
    commit(root, "B without a trailer");
    let feature_tip = String::from_utf8(git(root, &["rev-parse", "HEAD"]).stdout).unwrap().trim().to_string();
    let before_b = String::from_utf8(git(root, &["rev-parse", "HEAD~1"]).stdout).unwrap().trim().to_string();

    // No CI: the default branch (main).
    let (code, report, stderr) = check(root, &["--changed-since", "auto"], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(report["summary"]["range"]["base_ref"], "main");
    assert_eq!(report["summary"]["range"]["commits"], 2);

    // A push event: from `before`.
    let event = root.join("event.json");
    std::fs::write(&event, format!("{{\"before\": \"{before_b}\"}}")).unwrap();
    let push = [("GITHUB_EVENT_NAME", "push"), ("GITHUB_EVENT_PATH", event.to_str().unwrap())];
    let (_, report, stderr) = check(root, &["--changed-since", "auto"], &push);
    assert_eq!(report["summary"]["range"]["commits"], 1, "{stderr}");
    assert!(report["summary"]["range"]["why"].as_str().unwrap().contains("before"));
    // A new branch (before all zeros): the default branch.
    std::fs::write(&event, format!("{{\"before\": \"{}\"}}", "0".repeat(40))).unwrap();
    let (_, report, _) = check(root, &["--changed-since", "auto"], &push);
    assert_eq!(report["summary"]["range"]["base_ref"], "main");

    // A pull request: the merge commit GitHub checks out, compared with its first parent.
    git(root, &["checkout", "-q", "main"]);
    write(root, "docs/main-only.md", "x\n");
    commit(root, "Main moves\n\nRefs: TD-0001");
    git(root, &["checkout", "-q", "--detach", "main"]);
    git(root, &["merge", "-q", "--no-ff", "--no-edit", &feature_tip]);
    std::fs::write(&event, "{\"pull_request\": {\"commits\": 2}}").unwrap();
    let pr = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_BASE_REF", "main"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
    ];
    let (code, report, stderr) = check(root, &["--changed-since", "auto"], &pr);
    assert_eq!(code, Some(1), "{stderr}");
    let range = &report["summary"]["range"];
    assert_eq!(range["base_ref"], "HEAD^1");
    // The merge commit (skipped) and the two commits of the pull request; main's own commit
    // is not in the range, nor its file.
    assert_eq!(range["commits"], 3, "{report:#}");
    assert_eq!(range["commits_skipped"], 1);
    assert_eq!(range["files_changed"], 2);
    assert_eq!(paths(&findings(&report, "unmapped-change")), vec!["services/other/b.py"]);
    assert_eq!(findings(&report, "untraced-commit").len(), 1);
}

#[test]
fn the_job_summary_and_sarif_fingerprints() {
    let dir = repo();
    let root = dir.path();
    write(root, "services/other/b.py", "x = 2\n");
    commit(root, "B without a trailer");
    let summary = root.join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let (code, _, stderr) =
        check(root, &["--changed-since", "main"], &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())]);
    assert_eq!(code, Some(1), "{stderr}");
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("earlier step\n## Concord check\n"), "{text}");
    assert!(text.contains("### Commits"), "{text}");
    assert!(text.contains("`untraced-commit`") && text.contains("`unmapped-change`"), "{text}");
    assert!(text.contains("`services/other/b.py:1`"), "{text}");

    let out = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["check", ".", "--format", "sarif", "--changed-since", "main"])
        .env_remove("GITHUB_STEP_SUMMARY")
        .current_dir(root)
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let hash = String::from_utf8(git(root, &["rev-parse", "HEAD"]).stdout).unwrap().trim().to_string();
    let prints: Vec<&str> =
        results.iter().map(|r| r["partialFingerprints"]["concordFinding/v1"].as_str().unwrap()).collect();
    assert!(prints.contains(&format!("untraced-commit:commit:{hash}:").as_str()), "{prints:?}");
    assert!(prints.contains(&"unmapped-change:services/other/b.py:"), "{prints:?}");
    let rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"unmapped-change") && rules.contains(&"untraced-commit"));
    let commit_result = results.iter().find(|r| r["ruleId"] == "untraced-commit").unwrap();
    assert_eq!(commit_result["properties"]["commit"], hash.as_str());
}

#[test]
fn not_a_repository_is_a_usage_error() {
    let dir = common::workspace(&[("a.py", b"x = 1\n")]);
    let (code, _, stderr) = check(dir.path(), &["--changed-since", "main"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("not inside a git repository"), "{stderr}");
}

fn concord_in(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(args)
        .current_dir(root)
        .env_remove("CONCORD_AGENT")
        .output()
        .unwrap()
}

fn try_commit(root: &Path, message: &str) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.invalid", "-c", "commit.gpgsign=false"])
        .args(["commit", "-q", "-m", message])
        .env("CONCORD_BIN", env!("CARGO_BIN_EXE_concord"))
        .output()
        .unwrap()
}

#[test]
fn the_commit_msg_hook_refuses_a_message_without_a_trailer_and_suggests_ids() {
    let dir = repo();
    let root = dir.path();
    let installed = concord_in(root, &["hook", "install", "--commit-msg"]);
    assert!(installed.status.success(), "{}", common::stderr(&installed));
    assert!(root.join(".git/hooks/commit-msg").exists());
    assert!(!root.join(".git/hooks/pre-commit").exists());

    write(root, "services/payments/refund.py", "def refund():\n    pass\n");
    write(root, "lib/util.py", "# implements TD-0002\n");
    git(root, &["add", "-A"]);
    let trailers = concord_in(root, &["trailers"]);
    assert_eq!(common::stdout(&trailers), "Implements: WBS-001\nImplements: TD-0002\n");

    let refused = try_commit(root, "Refunds");
    assert!(!refused.status.success());
    let stderr = common::stderr(&refused);
    assert!(stderr.contains("no trace trailer") && stderr.contains("Implements: WBS-001"), "{stderr}");
    let typo = try_commit(root, "Refunds\n\nImplements: WBS-010");
    assert!(!typo.status.success());
    assert!(
        common::stderr(&typo).contains("WBS-010 in a trailer is not a known"),
        "{}",
        common::stderr(&typo)
    );
    // The last paragraph, with a continuation line.
    let ok = try_commit(root, "Refunds\n\nRefs: TD-0001,\n  WBS-001");
    assert!(ok.status.success(), "{}", common::stderr(&ok));

    // Nothing staged that maps: `trailers` says so.
    let none = concord_in(root, &["trailers"]);
    assert_eq!(none.status.code(), Some(1));

    // A merge needs no trailer (merges are skipped by default).
    git(root, &["checkout", "-q", "main"]);
    write(root, "docs/x.md", "x\n");
    commit_with_hook(root, "Docs\n\nRefs: TD-0001");
    git(root, &["checkout", "-q", "feature"]);
    let merge = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.invalid", "-c", "commit.gpgsign=false"])
        .args(["merge", "-q", "--no-ff", "--no-edit", "main"])
        .env("CONCORD_BIN", env!("CARGO_BIN_EXE_concord"))
        .output()
        .unwrap();
    assert!(merge.status.success(), "{}", common::stderr(&merge));

    // A foreign hook is kept only with --force, and then runs first.
    std::fs::write(root.join(".git/hooks/commit-msg"), "#!/bin/sh\nexit 0\n").unwrap();
    let refused = concord_in(root, &["hook", "install", "--commit-msg"]);
    assert_eq!(refused.status.code(), Some(2));
    let forced = concord_in(root, &["hook", "install", "--commit-msg", "--force"]);
    assert!(common::stdout(&forced).contains("runs commit-msg.local first"), "{}", common::stdout(&forced));
}

fn commit_with_hook(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    let out = try_commit(root, message);
    assert!(out.status.success(), "{}", common::stderr(&out));
}

/// The commands a CI file runs that start with `concord `.
fn concord_commands(steps: &[yaml_rust2::Yaml]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|s| s.as_str())
        .filter(|s| s.starts_with("concord "))
        .map(str::to_string)
        .collect()
}

fn run_in_ci(root: &Path, command: &str, env: &[(&str, &str)]) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_concord")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("sh");
    cmd.args(["-c", command]).current_dir(root).env("PATH", path);
    for var in
        ["GITHUB_EVENT_NAME", "GITHUB_BASE_REF", "GITHUB_EVENT_PATH", "GITHUB_STEP_SUMMARY", "CONCORD_AGENT"]
    {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn load_yaml(rel: &str) -> yaml_rust2::Yaml {
    let text = std::fs::read_to_string(common::repo_root().join(rel)).unwrap();
    let mut docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(docs.len(), 1, "{rel}");
    docs.remove(0)
}

#[test]
fn the_github_actions_example_checks_out_enough_history_runs_the_check_and_uploads_sarif() {
    let workflow = load_yaml("examples/ci/github-actions.yml");
    assert!(!workflow["on"]["pull_request"].is_badvalue(), "runs on pull requests");
    assert!(!workflow["on"]["push"].is_badvalue(), "runs on pushes");
    assert_eq!(workflow["permissions"]["security-events"].as_str(), Some("write"));
    let steps = workflow["jobs"]["concord"]["steps"].as_vec().expect("jobs.concord.steps");
    let checkout = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/checkout@")))
        .unwrap();
    assert_eq!(checkout["with"]["fetch-depth"].as_i64(), Some(0));
    let upload = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@")))
        .unwrap();
    assert_eq!(upload["if"].as_str(), Some("always()"));
    let runs: Vec<yaml_rust2::Yaml> = steps.iter().map(|s| s["run"].clone()).collect();
    let commands = concord_commands(&runs);
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].contains("--changed-since auto") && commands[0].contains("--format sarif"));
    let sarif_file = upload["with"]["sarif_file"].as_str().unwrap();
    assert!(commands[0].contains(&format!("--output {sarif_file}")));

    // Run its commands as GitHub would on a pull request: the merge commit checked out.
    let (_origin, clone, cloned) = pr_clone(2, "0");
    let _ = clone;
    let event = cloned.join("../event.json");
    let summary = cloned.join("../summary.md");
    let env = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_BASE_REF", "main"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let out = run_in_ci(&cloned, &commands[0], &env);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let sarif: Value = serde_json::from_slice(&std::fs::read(cloned.join(sarif_file)).unwrap()).unwrap();
    let errors = common::validate(&common::sarif_schema(), &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(std::fs::read_to_string(&summary).unwrap().contains("**passed**"));
    let out = run_in_ci(&cloned, &commands[1], &env);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", common::stderr(&out));
}

#[test]
fn the_gitlab_example_fetches_all_history_and_runs_the_check() {
    let ci = load_yaml("examples/ci/gitlab-ci.yml");
    let job = &ci["concord"];
    assert_eq!(job["variables"]["GIT_DEPTH"].as_str(), Some("0"));
    let commands = concord_commands(job["script"].as_vec().expect("concord.script"));
    assert_eq!(commands.len(), 1);
    let artifacts: Vec<&str> =
        job["artifacts"]["paths"].as_vec().unwrap().iter().filter_map(|p| p.as_str()).collect();

    let dir = repo();
    let root = dir.path();
    write(root, "services/other/b.py", "x = 2\n");
    commit(root, "B without a trailer");
    let base = String::from_utf8(git(root, &["rev-parse", "main"]).stdout).unwrap();
    let out = run_in_ci(root, &commands[0], &[("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.trim())]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    for artifact in artifacts {
        assert!(root.join(artifact).is_file(), "{artifact} was not written");
    }
    let report: Value = serde_json::from_slice(&std::fs::read(root.join("concord.json")).unwrap()).unwrap();
    assert_eq!(report["summary"]["range"]["why"], "the merge request's diff base");
    assert_eq!(findings(&report, "untraced-commit").len(), 1);
}
