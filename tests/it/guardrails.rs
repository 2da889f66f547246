//! Locks that hold under races and crashes, scope checks against a real git repository, the
//! pre-commit hook, and the lock diagnostics of the language server.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Shared", "scope_paths": ["shared/**"], "change_budget": {"max_files": 3, "max_lines": 50}},
  {"id": "WBS-002", "title": "Other", "scope_paths": ["other/**"]}
]}"#;

fn lock_files(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("ops/locks"))
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n != ".mutex").collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn acquire(root: &Path, agent: &str, task: &str, scope: &[&str]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    cmd.args(["lock", "acquire", "--agent", agent, "--task", task, "-C"]).arg(root);
    for glob in scope {
        cmd.args(["--scope", glob]);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

#[test]
fn racing_acquirers_one_winner_per_conflict_every_disjoint_one_wins() {
    let conflicting: [&[&str]; 4] =
        [&["shared/**"], &["shared/a/**"], &["shared/a/*.py"], &["shared/**/x.py"]];
    for round in 0..15 {
        let dir = common::workspace(&[("ops/wbs.json", WBS.as_bytes())]);
        let root = dir.path();
        let mut children = Vec::new();
        // Interleave the conflicting and the disjoint acquirers, started together.
        for i in 0..8 {
            let scope = format!("disjoint{i}/**");
            children.push((format!("D{i}"), false, acquire(root, &format!("D{i}"), "WBS-002", &[&scope])));
            if let Some(scope) = conflicting.get(i) {
                children.push((format!("C{i}"), true, acquire(root, &format!("C{i}"), "WBS-001", scope)));
            }
        }
        let mut conflict_winners = 0;
        for (agent, conflicting, child) in children {
            let out = child.wait_with_output().unwrap();
            match (conflicting, out.status.code()) {
                (true, Some(0)) => conflict_winners += 1,
                (true, Some(1)) => {
                    let err = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        err.contains("overlaps the lock of C") && err.contains("task WBS-001"),
                        "round {round} {agent}: {err}"
                    );
                }
                (false, Some(0)) => {}
                (_, code) => {
                    panic!("round {round}: {agent} exited {code:?}: {}", String::from_utf8_lossy(&out.stderr))
                }
            }
        }
        assert_eq!(conflict_winners, 1, "round {round}: exactly one of the overlapping acquirers wins");
        let files = lock_files(root);
        assert_eq!(files.len(), 9, "round {round}: {files:?}");
        for name in files {
            let text = std::fs::read_to_string(root.join("ops/locks").join(&name)).unwrap();
            let lock: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("torn lock {name}: {e}"));
            assert_eq!(format!("{}.lock", lock["agent"].as_str().unwrap()), name);
        }
    }
}

#[test]
fn a_killed_acquirer_leaves_no_lock_or_a_whole_one() {
    let dir = common::workspace(&[("ops/wbs.json", WBS.as_bytes())]);
    let root = dir.path();
    for attempt in 0..40u64 {
        let agent = format!("K{attempt}");
        let scope = format!("k{attempt}/**");
        let mut child = acquire(root, &agent, "WBS-002", &[&scope]);
        std::thread::sleep(Duration::from_micros(attempt * 150));
        let _ = child.kill();
        let _ = child.wait();
        let path = root.join(format!("ops/locks/{agent}.lock"));
        if path.exists() {
            let text = std::fs::read_to_string(&path).unwrap();
            let lock: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("attempt {attempt}: torn lock: {e}: {text:?}"));
            assert_eq!(lock["agent"], agent.as_str());
        }
    }
    // Nobody is left holding the folder, and leftovers of killed writers are cleaned up.
    let out = acquire(root, "AFTER", "WBS-001", &["shared/**"]).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(lock_files(root).iter().all(|n| !n.contains(".tmp-")), "{:?}", lock_files(root));
}

#[test]
fn lock_commands_refuse_what_they_must() {
    let dir = common::workspace(&[("ops/wbs.json", WBS.as_bytes())]);
    let root = dir.path();
    let run = |args: &[&str]| {
        let mut full = args.to_vec();
        full.extend(["-C", root.to_str().unwrap()]);
        common::concord(&full, None)
    };
    assert_eq!(run(&["lock", "acquire", "--agent", "A", "--task", "WBS-001"]).status.code(), Some(0));
    let again = run(&["lock", "acquire", "--agent", "A", "--task", "WBS-002"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(common::stderr(&again).contains("already holds a lock"));
    let overlap = run(&["lock", "acquire", "--agent", "B", "--task", "WBS-002", "--scope", "shared/x.py"]);
    assert_eq!(overlap.status.code(), Some(1));
    let err = common::stderr(&overlap);
    assert!(err.contains("A (task WBS-001, since") && err.contains("ago"), "{err}");
    for bad in ["../outside/**", "/etc/**"] {
        let out = run(&["lock", "acquire", "--agent", "B", "--task", "WBS-002", "--scope", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
    assert_eq!(run(&["lock", "acquire", "--agent", "../evil", "--task", "WBS-002"]).status.code(), Some(2));
    assert_eq!(run(&["lock", "acquire", "--agent", "B", "--task", "WBS-404"]).status.code(), Some(2));
    let list = run(&["lock", "list"]);
    assert!(common::stdout(&list).contains("A            WBS-001"), "{}", common::stdout(&list));
    assert_eq!(run(&["lock", "release", "--agent", "A", "--task", "WBS-002"]).status.code(), Some(1));
    assert_eq!(run(&["lock", "release", "--agent", "A"]).status.code(), Some(0));
    assert!(lock_files(root).is_empty());

    // Sweep removes what is older than the limit and keeps the rest.
    std::fs::write(
        root.join("ops/locks/OLD.lock"),
        r#"{"agent":"OLD","task_id":"WBS-001","scope_paths":["shared/**"],"acquired_at":"2020-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(run(&["lock", "acquire", "--agent", "NEW", "--task", "WBS-002"]).status.code(), Some(0));
    let sweep = run(&["lock", "sweep", "--older-than", "7d"]);
    assert!(common::stdout(&sweep).contains("removed ops/locks/OLD.lock"));
    assert_eq!(lock_files(root), vec!["NEW.lock"]);
}

fn git(root: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("CONCORD_BIN", env!("CARGO_BIN_EXE_concord"))
        .env_remove("CONCORD_AGENT")
        .output()
        .unwrap()
}

fn repo_with_wbs() -> tempfile::TempDir {
    let dir = common::workspace(&[
        ("ops/wbs.json", WBS.as_bytes()),
        ("shared/a.py", b"# WBS-001\n"),
        ("other/b.py", b"# WBS-002\n"),
        ("readme.md", b"hello\n"),
        (".gitignore", b"ignored/\n"),
    ]);
    assert!(git(dir.path(), &["init", "-q", "-b", "main"]).status.success());
    assert!(git(dir.path(), &["add", "-A"]).status.success());
    assert!(git(dir.path(), &["commit", "-q", "-m", "start"]).status.success());
    dir
}

#[test]
fn scope_check_sees_committed_staged_unstaged_and_untracked_changes() {
    let dir = repo_with_wbs();
    let root = dir.path();
    let ws = root.to_str().unwrap();
    assert_eq!(
        common::concord(&["lock", "acquire", "--agent", "A", "--task", "WBS-001", "-C", ws], None)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        common::concord(&["lock", "acquire", "--agent", "B", "--task", "WBS-002", "-C", ws], None)
            .status
            .code(),
        Some(0)
    );
    let check = || common::concord(&["scope-check", "--agent", "A", "-C", ws], None);
    let clean = check();
    assert_eq!(clean.status.code(), Some(0), "{}", common::stdout(&clean));

    std::fs::write(root.join("shared/c.py"), "x = 1\n").unwrap();
    git(root, &["add", "shared/c.py"]);
    git(root, &["commit", "-q", "-m", "in scope"]);
    std::fs::write(root.join("readme.md"), "changed\n").unwrap();
    git(root, &["add", "readme.md"]);
    std::fs::write(root.join("shared/a.py"), "# WBS-001\nchanged = True\n").unwrap();
    std::fs::write(root.join("other/b.py"), "# WBS-002\nmine = False\n").unwrap();
    std::fs::create_dir_all(root.join("tools")).unwrap();
    std::fs::write(root.join("tools/new.py"), "print()\n").unwrap();
    std::fs::create_dir_all(root.join("ignored")).unwrap();
    std::fs::write(root.join("ignored/x"), "not a change\n").unwrap();
    std::fs::create_dir_all(root.join("docs/runs")).unwrap();
    std::fs::write(root.join("docs/runs/report.md"), "run report\n").unwrap();

    let out = check();
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("outside scope: readme.md"), "staged: {text}");
    assert!(text.contains("outside scope: tools/new.py"), "untracked: {text}");
    assert!(text.contains("locked by another agent: other/b.py (B (task WBS-002"), "unstaged: {text}");
    let flagged: Vec<&str> =
        text.lines().filter(|l| l.starts_with("outside scope") || l.starts_with("locked by")).collect();
    assert_eq!(flagged.len(), 3, "in-scope, ignored and managed files are not flagged: {text}");

    // The change budget of WBS-001: 3 files, 50 lines.
    let after_revert = || {
        git(root, &["checkout", "-q", "--", "other/b.py"]);
        git(root, &["reset", "-q", "readme.md"]);
        git(root, &["checkout", "-q", "--", "readme.md"]);
        std::fs::remove_dir_all(root.join("tools")).unwrap();
    };
    after_revert();
    assert_eq!(check().status.code(), Some(0), "{}", common::stdout(&check()));
    std::fs::write(root.join("shared/big.py"), "x = 1\n".repeat(60)).unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stdout(&out).contains("over budget: 62 lines changed, the budget of WBS-001 is 50"),
        "{}",
        common::stdout(&out)
    );
}

#[test]
fn the_pre_commit_hook_refuses_secrets_and_out_of_scope_files() {
    let dir = repo_with_wbs();
    let root = dir.path();
    let ws = root.to_str().unwrap();
    let install = common::concord(&["hook", "install", "-C", ws], None);
    assert_eq!(install.status.code(), Some(0), "{}", common::stderr(&install));
    let key = ["sk", "live", "Qm8x2PfLr7TzWc4NbV9kHs3JdY6aGu1E"].join("_");
    std::fs::write(root.join("shared/pay.py"), format!("# WBS-001\nKEY = \"{key}\"\n")).unwrap();
    git(root, &["add", "shared/pay.py"]);
    let refused = git(root, &["commit", "-q", "-m", "add key"]);
    assert!(!refused.status.success(), "a commit with a key went through");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("commit refused") && err.contains("shared/pay.py:2:8: secret"), "{err}");
    assert!(!err.contains(&key[8..]), "the hook printed the key");

    std::fs::write(root.join("shared/pay.py"), "# WBS-001\nimport os\nKEY = os.environ[\"STRIPE_KEY\"]\n")
        .unwrap();
    git(root, &["add", "shared/pay.py"]);
    let ok = git(root, &["commit", "-q", "-m", "read the key from the environment"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    // With an active agent, staged files must stay in its lock.
    assert_eq!(
        common::concord(&["lock", "acquire", "--agent", "A", "--task", "WBS-001", "-C", ws], None)
            .status
            .code(),
        Some(0)
    );
    std::fs::write(root.join("other/b.py"), "# WBS-002\nx = 2\n").unwrap();
    git(root, &["add", "other/b.py"]);
    let refused = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "commit",
            "-q",
            "-m",
            "out of scope",
        ])
        .env("CONCORD_BIN", env!("CARGO_BIN_EXE_concord"))
        .env("CONCORD_AGENT", "A")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("other/b.py: outside A's lock for WBS-001"));

    // A foreign hook is kept unless --force, which chains it.
    std::fs::write(root.join(".git/hooks/pre-commit"), "#!/bin/sh\nexit 0\n").unwrap();
    assert_eq!(common::concord(&["hook", "install", "-C", ws], None).status.code(), Some(2));
    assert_eq!(common::concord(&["hook", "install", "--force", "-C", ws], None).status.code(), Some(0));
    assert!(root.join(".git/hooks/pre-commit.local").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_flags_edits_outside_the_agents_lock() {
    use common::lsp::{uri, LspClient};
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    std::fs::write(
        root.join("ops/locks/AGENT-2.lock"),
        format!(
            r#"{{"agent":"AGENT-2","task_id":"WBS-006","scope_paths":["tools/**"],"acquired_at":"{}"}}"#,
            concord::time::format_rfc3339(concord::time::now_secs())
        ),
    )
    .unwrap();
    let mut client = LspClient::in_process();
    client.initialize(root, json!({}), json!({ "agent": "AGENT-1", "debounceMs": 10 })).await;

    // AGENT-1's lock (ops/locks/AGENT-1.lock, from 2026-11-20) is stale.
    let lock_uri = uri(&root.join("ops/locks/AGENT-1.lock"));
    let diags = client.diagnostics(&lock_uri, |d| !d.is_empty()).await;
    assert_eq!(diags[0]["code"], "stale-lock");
    assert!(diags[0]["message"].as_str().unwrap().contains("concord lock sweep"));

    // Inside its own scope: no scope diagnostic.
    let stripe = client.open(&root.join("services/payments/stripe.py"), "python").await;
    edit(&mut client, &stripe, 3).await;
    let diags =
        client.diagnostics(&stripe, |d| d.is_empty() || d.iter().all(|d| d["code"] != "outside-scope")).await;
    assert!(diags.iter().all(|d| d["code"] != "outside-scope"));

    // Outside it: a warning naming the task and the allowed globs, at the changed line.
    let readme = client.open_text(&root.join("docs/notes.md"), "markdown", "notes\nmore\n").await;
    client.diagnostics(&readme, |_| true).await;
    edit(&mut client, &readme, 1).await;
    let diags = client.diagnostics(&readme, |d| d.iter().any(|d| d["code"] == "outside-scope")).await;
    let warning = diags.iter().find(|d| d["code"] == "outside-scope").unwrap();
    assert_eq!(warning["severity"], 2);
    assert_eq!(warning["range"]["start"]["line"], 1);
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("task WBS-005")
            && message.contains("`services/payments/**`")
            && message.contains("Revert this edit or hand the task back"),
        "{message}"
    );

    // Inside another agent's lock: an error naming agent, task and since when.
    let cleanup = client.open(&root.join("tools/cleanup.py"), "python").await;
    edit(&mut client, &cleanup, 1).await;
    let diags = client.diagnostics(&cleanup, |d| d.iter().any(|d| d["code"] == "locked-by-other")).await;
    let error = diags.iter().find(|d| d["code"] == "locked-by-other").unwrap();
    assert_eq!(error["severity"], 1);
    assert!(error["message"].as_str().unwrap().contains("locked by AGENT-2 (task WBS-006, since"), "{error}");
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

async fn edit(client: &mut common::lsp::LspClient, uri: &str, line: u32) {
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": 2 },
                "contentChanges": [{ "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } }, "text": "# edited\n" }],
            }),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_can_be_set_live_through_settings() {
    use common::lsp::LspClient;
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    let mut client = LspClient::in_process();
    let init = client.initialize(root, json!({}), json!({ "debounceMs": 10 })).await;
    assert!(init["capabilities"]["experimental"]["concord"]["liveSettings"]
        .as_array()
        .unwrap()
        .contains(&json!("agent")));
    let notes = client.open_text(&root.join("docs/notes.md"), "markdown", "notes\n").await;
    edit(&mut client, &notes, 0).await;
    let diags = client.diagnostics(&notes, |_| true).await;
    assert!(diags.iter().all(|d| d["code"] != "outside-scope"), "no agent, no scope: {diags:?}");
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": { "concord": { "agent": "AGENT-1" } } }),
        )
        .await;
    let diags = client.diagnostics(&notes, |d| d.iter().any(|d| d["code"] == "outside-scope")).await;
    assert!(diags.iter().any(|d| d["message"].as_str().unwrap().contains("task WBS-005")));
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}
