//! `concord mcp`: end to end with a real MCP client (the official Python SDK, `tests/mcp/e2e.py`)
//! on a git repository holding a copy of the demo, and the tools called in-process as data.
//!
//! The Python SDK is installed by scripts/install-test-deps.sh into a virtual environment
//! (`$CONCORD_TEST_CACHE`, else `~/.cache/concord-test`, `/mcp-venv`). Without it the
//! end-to-end test is skipped with a message, except under CI (`CI` set), where it fails.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use concord::mcp::session::Session;
use concord::mcp::tools::{Policy, Tools};
use serde_json::{json, Value};

use crate::common::git;

/// A git repository holding a copy of the demo workspace, everything committed.
fn demo_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&common::demo(), dir.path());
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "demo"]);
    dir
}

fn python_with_mcp() -> Option<PathBuf> {
    let cache = std::env::var_os("CONCORD_TEST_CACHE").map(PathBuf::from).or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|c| c.join("concord-test"))
    });
    let venv = cache.map(|c| c.join("mcp-venv/bin/python"));
    [venv, Some(PathBuf::from("python3"))].into_iter().flatten().find(|python| {
        Command::new(python)
            .args(["-c", "import mcp.client.stdio"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The SDK's Python, or `None` (the test is skipped, and says so) outside CI; in CI a missing
/// SDK fails the test.
fn python_or_skip() -> Option<PathBuf> {
    let python = python_with_mcp();
    if python.is_none() {
        let message = "the MCP Python SDK is not installed (run scripts/install-test-deps.sh)";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
    }
    python
}

#[test]
fn a_real_mcp_client_lists_calls_reads_and_catches_an_edit_outside_the_scope() {
    let Some(python) = python_or_skip() else { return };
    let repo = demo_repo();
    let out = Command::new(python)
        .arg(common::repo_root().join("tests/mcp/e2e.py"))
        .arg(env!("CARGO_BIN_EXE_concord"))
        .arg(repo.path())
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the MCP client's checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

/// `concord mcp install` writes configurations that each client can start a working server
/// from (driven by the official SDK), keeps what was there, and changes nothing the second time.
#[test]
fn installed_client_configurations_start_a_working_server() {
    let Some(python) = python_or_skip() else { return };
    let repo = demo_repo();
    let root = repo.path();
    std::fs::create_dir_all(root.join(".cursor")).unwrap();
    std::fs::write(
        root.join(".cursor/mcp.json"),
        r#"{"mcpServers": {"other": {"command": "other-server"}}}"#,
    )
    .unwrap();
    let install = || {
        let out = Command::new(env!("CARGO_BIN_EXE_concord"))
            .args([
                "mcp",
                "install",
                "--cursor",
                "--claude",
                "--codex",
                "--command",
                env!("CARGO_BIN_EXE_concord"),
            ])
            .arg("-C")
            .arg(root)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
        [".cursor/mcp.json", ".mcp.json", ".codex/config.toml"]
            .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
    };
    let first = install();
    assert_eq!(install(), first, "a second install changes nothing");
    assert!(first[0].contains("other-server"), "the other server is kept: {}", first[0]);
    let out = Command::new(python)
        .arg(common::repo_root().join("tests/mcp/configs.py"))
        .arg(root)
        .arg("WBS-001")
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for client in ["cursor", "claude", "codex"] {
        assert!(stdout.contains(&format!("{client}: ok")), "{stdout}");
    }
}

// In-process: the tools as functions of a session, their answers as data.

fn tools(trust: bool, agent: Option<&str>) -> Tools {
    Tools::new(
        Session::new(PathBuf::from("/nonexistent")),
        Policy { trust, agent: agent.map(str::to_string) },
    )
}

fn call(tools: &Tools, name: &str, args: Value) -> Value {
    match tools.call(name, args.clone()) {
        Ok(answer) => {
            assert!(!answer.summary.is_empty() && !answer.next.is_empty(), "{name}: summary and hint");
            assert_eq!(answer.data["summary"], answer.summary.as_str());
            answer.data
        }
        Err(e) => panic!("{name} {args}: {e}"),
    }
}

fn refused(tools: &Tools, name: &str, args: Value) -> String {
    match tools.call(name, args.clone()) {
        Ok(answer) => panic!("{name} {args} should be refused, answered {}", answer.data),
        Err(e) => e.0,
    }
}

#[test]
fn lookup_gives_the_hover_facts_and_the_chunk_text() {
    let repo = demo_repo();
    let cwd = repo.path().display().to_string();
    let t = tools(false, None);
    let chunk = call(&t, "lookup", json!({"cwd": cwd, "id": "TD-0001"}));
    assert_eq!(chunk["kind"], "chunk");
    assert_eq!(chunk["priority"], "must");
    assert!(chunk["text"].as_str().unwrap().starts_with("## TD-0001"), "{}", chunk["text"]);
    assert_eq!(chunk["workspace"]["root"], std::fs::canonicalize(repo.path()).unwrap().display().to_string());
    let without = call(&t, "lookup", json!({"cwd": cwd, "id": "TD-0001", "text": false}));
    assert!(without.get("text").is_none());
    let work = call(&t, "lookup", json!({"cwd": cwd, "id": "WBS-012"}));
    assert_eq!(work["lock"]["agent"], "AGENT-2");
    assert!(refused(&t, "lookup", json!({"cwd": cwd, "id": "TD-9999"})).contains("unknown"));
    assert!(refused(&t, "lookup", json!({"cwd": cwd, "idd": "TD-0001"})).contains("bad arguments"));
    assert!(
        refused(&t, "lookup", json!({"id": "TD-0001"})).contains("cwd"),
        "the default root does not exist"
    );
}

#[test]
fn a_changed_input_rebuilds_the_model_and_an_unchanged_one_does_not() {
    let repo = demo_repo();
    let cwd = repo.path().display().to_string();
    let t = tools(false, None);
    let first = call(&t, "coverage", json!({"cwd": cwd, "id": "TD-0001"}));
    assert_eq!(first["workspace"]["rebuilt_for_this_call"], true);
    let again = call(&t, "coverage", json!({"cwd": cwd, "id": "TD-0001"}));
    assert_eq!(again["workspace"]["rebuilt_for_this_call"], false);
    // A new file in a folder, then an edit of an ops file: both are seen.
    std::fs::write(repo.path().join("services/payments/new_module.py"), "# implements TD-0001\n").unwrap();
    let after_new = call(&t, "coverage", json!({"cwd": cwd, "id": "TD-0001"}));
    assert_eq!(after_new["workspace"]["rebuilt_for_this_call"], true);
    let paths = after_new["chunks"][0]["code_paths"].as_array().unwrap();
    assert!(paths.iter().any(|p| p == "services/payments/new_module.py"), "{paths:?}");
    assert_eq!(after_new["chunks"][0]["code_files"], paths.len());
    // A chunk no file traces lists none (not null).
    let untraced = call(&t, "coverage", json!({"cwd": cwd, "id": "NT-0002"}));
    assert_eq!(untraced["chunks"][0]["code_paths"], json!([]), "{untraced}");
    assert_eq!(untraced["chunks"][0]["test_paths"], json!([]), "{untraced}");
    assert_eq!(untraced["chunks"][0]["code_files"], 0);
    let wbs = repo.path().join("ops/wbs.json");
    let text =
        std::fs::read_to_string(&wbs).unwrap().replace("Signup, login and sessions", "Signup and login");
    std::fs::write(&wbs, text).unwrap();
    let work = call(&t, "lookup", json!({"cwd": cwd, "id": "WBS-002"}));
    assert_eq!(work["title"], "Signup and login");
}

#[test]
fn search_suggest_and_coverage_answer_from_the_one_analysis() {
    let repo = demo_repo();
    let cwd = repo.path().display().to_string();
    let t = tools(false, None);
    let found = call(&t, "search_spec", json!({"cwd": cwd, "query": "refund", "limit": 3}));
    let results = found["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 3);
    assert_eq!(results[0]["score"], 1.0, "the best result is scaled to 1");
    let suggested =
        call(&t, "suggest_ids", json!({"cwd": cwd, "path": "services/payments/refunds.py", "limit": 2}));
    assert!(suggested["candidates"].as_array().unwrap().len() <= 2);
    assert!(refused(&t, "suggest_ids", json!({"cwd": cwd, "path": "/etc/passwd"}))
        .contains("outside the workspace"));
    let topic = call(&t, "coverage", json!({"cwd": cwd, "topic": "PAYMENTS"}));
    assert!(topic["chunks"].as_array().unwrap().len() > 1);
    let item = call(&t, "coverage", json!({"cwd": cwd, "id": "WBS-002"}));
    assert!(item["chunks"].as_array().unwrap().iter().all(|c| c["blueprint_id"].is_string()));
}

#[test]
fn locks_need_trust_and_check_changes_reports_scope_and_secrets() {
    let repo = demo_repo();
    let cwd = repo.path().display().to_string();
    // The untrusted server refuses; the trusted one takes the lock. The tools read the per-user
    // trust store in process, so this process gets an empty one of its own for good (other
    // tests in this binary give their children their own, or none).
    let store: &'static tempfile::TempDir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    std::env::set_var("XDG_CONFIG_HOME", store.path());
    std::env::remove_var("CONCORD_TRUST");
    let untrusted = tools(false, Some("AGENT-T"));
    assert!(
        refused(&untrusted, "lock_acquire", json!({"cwd": cwd, "task": "WBS-004"})).contains("not a trusted")
    );
    let t = tools(true, Some("AGENT-T"));
    let taken = call(&t, "lock_acquire", json!({"cwd": cwd, "task": "WBS-004"}));
    assert_eq!(taken["lock"]["task_id"], "WBS-004");
    let secret = format!("AKIA{}", "QZ7XBFN2WL4KD6TP");
    std::fs::write(repo.path().join("services/analytics/keys.py"), format!("KEY = \"{secret}\"\n")).unwrap();
    std::fs::write(repo.path().join("services/auth/extra.py"), "# implements TD-0001\n").unwrap();
    let checked = call(&t, "check_changes", json!({"cwd": cwd}));
    assert_eq!(checked["passed"], false);
    let text = checked.to_string();
    assert!(!text.contains(&secret), "the key is never returned in full");
    let files: Vec<&str> =
        checked["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(
        files.contains(&"services/auth/extra.py") && files.contains(&"services/analytics/keys.py"),
        "{files:?}"
    );
    let who = call(&t, "whoami_scope", json!({"cwd": cwd}));
    assert_eq!(who["changed"]["outside_scope"], json!(["services/auth/extra.py"]));
    let released = call(&t, "lock_release", json!({"cwd": cwd}));
    assert_eq!(released["released"]["agent"], "AGENT-T");
    assert!(refused(&t, "task", json!({"cwd": cwd})).contains("holds no lock"));
    assert!(refused(&tools(true, None), "whoami_scope", json!({"cwd": cwd})).contains("no agent"));
}

// Incremental updates: between two calls the changed inputs are found and applied alone; the
// state that answers must be the one a fresh server loads.

/// Everything a state answers from, as data: every finding (each file's own and the
/// workspace-level ones) and what is kept of them per file, the coverage, and the scanned files.
type State = (
    Vec<concord::findings::Finding>,
    concord::analysis::FindingsSummaries,
    concord::coverage::Coverage,
    Vec<String>,
);

fn state(t: &Tools, root: &std::path::Path) -> State {
    let (snapshot, _) = t.session.snapshot(root).unwrap();
    let loaded = &snapshot.loaded;
    let mut findings: Vec<concord::findings::Finding> =
        loaded.ws.files.keys().flat_map(|path| loaded.own_findings(path)).collect();
    findings.extend(loaded.analysis.workspace_findings.values().flatten().cloned());
    concord::findings::sort(&mut findings);
    let kept = loaded.summaries().clone();
    (findings, kept, loaded.analysis.coverage.clone(), loaded.ws.files.keys().cloned().collect())
}

/// The session `t` answers as a server started now would: the same state, and the same
/// `check_changes` answer (its `workspace` aside) for `paths`.
fn answers_as_a_fresh_server(t: &Tools, cwd: &str, paths: &[&str]) {
    let root = t.session.resolve_root(Some(cwd)).unwrap();
    let fresh = tools(false, None);
    let fresh_check = call(&fresh, "check_changes", json!({"cwd": cwd, "paths": paths}));
    assert_eq!(fresh_check["workspace"]["update"]["kind"], "full");
    let check = call(t, "check_changes", json!({"cwd": cwd, "paths": paths}));
    assert_eq!(check["workspace"]["update"]["kind"], "none", "the state was already up to date");
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("workspace");
        v
    };
    assert_eq!(strip(check), strip(fresh_check));
    let (findings, kept, coverage, files) = state(t, &root);
    let (fresh_findings, fresh_kept, fresh_coverage, fresh_files) = state(&fresh, &root);
    assert_eq!(files, fresh_files);
    assert_eq!(findings, fresh_findings);
    assert_eq!(kept, fresh_kept);
    assert_eq!(coverage, fresh_coverage);
}

/// The first call, then a pause so that no input's time falls inside the load (such a stamp is
/// not trusted, and the next call would look at the file again).
fn first_call(t: &Tools, cwd: &str) {
    let first = call(t, "coverage", json!({"cwd": cwd}));
    assert_eq!(
        first["workspace"]["update"],
        json!({"kind": "full", "reason": "first call", "files_scanned": first["workspace"]["update"]["files_scanned"]})
    );
    std::thread::sleep(std::time::Duration::from_millis(30));
    let again = call(t, "coverage", json!({"cwd": cwd}));
    assert_eq!(again["workspace"]["update"], json!({"kind": "none"}));
    assert_eq!(again["workspace"]["rebuilt_for_this_call"], false);
}

#[test]
fn an_edited_source_file_is_rescanned_alone_and_answers_as_a_fresh_server_would() {
    let repo = demo_repo();
    let cwd = repo.path().display().to_string();
    let t = tools(false, None);
    first_call(&t, &cwd);
    let before = call(&t, "coverage", json!({"cwd": cwd, "id": "TD-0104"}));
    assert!(before["chunks"][0]["code_paths"].to_string().contains("refunds.py"), "{before}");
    let file = "services/payments/refunds.py";
    std::fs::write(repo.path().join(file), "\"\"\"Refunds. Implements TD-9104.\"\"\"\ndef refund(): pass\n")
        .unwrap();
    let checked = call(&t, "check_changes", json!({"cwd": cwd, "paths": [file]}));
    let update = &checked["workspace"]["update"];
    assert_eq!(
        *update,
        json!({"kind": "files", "files_rescanned": 1}),
        "one file read again, not the workspace"
    );
    assert_eq!(checked["workspace"]["rebuilt_for_this_call"], true);
    let codes: Vec<&str> = checked["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"unknown-id"), "{codes:?}");
    let after = call(&t, "coverage", json!({"cwd": cwd, "id": "TD-0104"}));
    assert!(!after["chunks"][0]["code_paths"].to_string().contains("refunds.py"), "{after}");
    answers_as_a_fresh_server(&t, &cwd, &[file, "services/payments/webhooks.py", "web/src/lib/api.ts"]);
}

#[test]
fn an_ops_file_change_rebuilds_the_model_without_a_full_load() {
    let repo = demo_repo();
    let cwd = repo.path().display().to_string();
    let t = tools(false, None);
    first_call(&t, &cwd);
    let wbs = repo.path().join("ops/wbs.json");
    let text =
        std::fs::read_to_string(&wbs).unwrap().replace("Signup, login and sessions", "Signup and login");
    std::fs::write(&wbs, text).unwrap();
    let work = call(&t, "lookup", json!({"cwd": cwd, "id": "WBS-002"}));
    assert_eq!(work["title"], "Signup and login");
    assert_eq!(work["workspace"]["update"], json!({"kind": "model", "files_rescanned": 1}));
    answers_as_a_fresh_server(&t, &cwd, &["ops/wbs.json", "services/auth/sessions.py"]);
}

#[test]
fn a_lock_taken_by_another_process_is_seen_even_where_git_ignores_locks() {
    let repo = demo_repo();
    let root = repo.path();
    let cwd = root.display().to_string();
    std::fs::write(root.join("ops/.gitignore"), "locks/\n").unwrap();
    let t = tools(false, None);
    first_call(&t, &cwd);
    let lock = r#"{"agent": "AGENT-9", "task_id": "WBS-005", "scope_paths": ["services/payouts/**"], "acquired_at": "2026-11-24T08:12:40Z"}"#;
    std::fs::write(root.join("ops/locks/AGENT-9.lock"), lock).unwrap();
    let work = call(&t, "lookup", json!({"cwd": cwd, "id": "WBS-005"}));
    assert_eq!(work["lock"]["agent"], "AGENT-9", "{work}");
    assert_eq!(work["workspace"]["update"], json!({"kind": "model", "files_rescanned": 1}));
    answers_as_a_fresh_server(&t, &cwd, &["ops/locks/AGENT-9.lock", "services/payouts/schedule.py"]);
    std::thread::sleep(std::time::Duration::from_millis(30));
    std::fs::remove_file(root.join("ops/locks/AGENT-9.lock")).unwrap();
    let work = call(&t, "lookup", json!({"cwd": cwd, "id": "WBS-005"}));
    assert!(work["lock"].is_null(), "{work}");
    assert_eq!(work["workspace"]["update"]["kind"], "model");
}

#[test]
fn new_files_are_picked_up_through_the_walks_rules_and_deleted_ones_disappear() {
    let repo = demo_repo();
    let root = repo.path();
    let cwd = root.display().to_string();
    let t = tools(false, None);
    first_call(&t, &cwd);
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    // Two files the walk visits (one in a new folder two levels deep), and three it does not:
    // under an ignored folder (`__pycache__/`, `target/` in the demo's .gitignore) and hidden.
    write("services/payments/new_module.py", "# implements TD-0104\n");
    write("services/newsvc/deep/worker.py", "# implements TD-9999\n");
    write("services/payments/__pycache__/cached.py", "# implements TD-9998\n");
    write("services/search/target/debug/gen.rs", "// TD-9997\n");
    write("services/payments/.scratch.py", "# TD-9996\n");
    let answer = call(&t, "coverage", json!({"cwd": cwd, "id": "TD-0104"}));
    assert_eq!(answer["workspace"]["update"], json!({"kind": "files", "files_rescanned": 2}));
    assert!(answer["chunks"][0]["code_paths"].to_string().contains("services/payments/new_module.py"));
    let (_, _, _, files) = state(&t, &std::fs::canonicalize(root).unwrap());
    assert!(files.contains(&"services/newsvc/deep/worker.py".to_string()), "a file in a new folder");
    for ignored in [
        "services/payments/__pycache__/cached.py",
        "services/search/target/debug/gen.rs",
        "services/payments/.scratch.py",
    ] {
        assert!(!files.contains(&ignored.to_string()), "{ignored} stays out");
    }
    answers_as_a_fresh_server(
        &t,
        &cwd,
        &["services/payments/new_module.py", "services/newsvc/deep/worker.py"],
    );
    // A file added to the new folder later is seen too: the folder is an input now.
    std::thread::sleep(std::time::Duration::from_millis(30));
    write("services/newsvc/deep/more.py", "# implements TD-0104\n");
    let answer = call(&t, "coverage", json!({"cwd": cwd, "id": "TD-0104"}));
    assert_eq!(answer["workspace"]["update"], json!({"kind": "files", "files_rescanned": 1}));
    assert!(answer["chunks"][0]["code_paths"].to_string().contains("services/newsvc/deep/more.py"));

    // Deleted: one file, and a whole folder.
    std::thread::sleep(std::time::Duration::from_millis(30));
    std::fs::remove_file(root.join("services/payments/new_module.py")).unwrap();
    std::fs::remove_dir_all(root.join("services/reviews")).unwrap();
    let answer = call(&t, "coverage", json!({"cwd": cwd, "id": "TD-0104"}));
    assert_eq!(answer["workspace"]["update"], json!({"kind": "files", "files_rescanned": 2}));
    assert!(!answer["chunks"][0]["code_paths"].to_string().contains("new_module.py"));
    let (_, _, _, files) = state(&t, &std::fs::canonicalize(root).unwrap());
    assert!(!files.iter().any(|f| f.starts_with("services/reviews/")), "{files:?}");
    answers_as_a_fresh_server(&t, &cwd, &["services/payments/new_module.py", "services/reviews/ratings.py"]);
}

#[test]
fn the_configuration_or_an_ignore_file_loads_everything_again() {
    let repo = demo_repo();
    let root = repo.path();
    let cwd = root.display().to_string();
    let t = tools(false, None);
    first_call(&t, &cwd);
    std::fs::write(root.join(".gitignore"), "target/\n__pycache__/\nnode_modules/\nservices/payments/\n")
        .unwrap();
    let answer = call(&t, "coverage", json!({"cwd": cwd}));
    assert_eq!(answer["workspace"]["update"]["kind"], "full");
    assert_eq!(answer["workspace"]["update"]["reason"], ".gitignore changed");
    let (_, _, _, files) = state(&t, &std::fs::canonicalize(root).unwrap());
    assert!(!files.iter().any(|f| f.starts_with("services/payments/")), "the newly ignored folder is out");
    answers_as_a_fresh_server(&t, &cwd, &["services/payments/refunds.py"]);
    std::thread::sleep(std::time::Duration::from_millis(30));
    std::fs::write(root.join("concord.toml"), "[trace]\nlevel = \"item\"\n").unwrap();
    let answer = call(&t, "coverage", json!({"cwd": cwd}));
    assert_eq!(answer["workspace"]["update"]["reason"], "concord.toml changed");
    answers_as_a_fresh_server(&t, &cwd, &["services/auth/sessions.py"]);
}

#[test]
fn a_lock_going_stale_between_calls_is_flagged_with_nothing_changed_on_disk() {
    let repo = demo_repo();
    let root = repo.path();
    let cwd = root.display().to_string();
    let config = root.join("concord.toml");
    let text = std::fs::read_to_string(&config).unwrap_or_default();
    std::fs::write(&config, format!("{text}\n[locks]\nstale_after = \"3s\"\n")).unwrap();
    let acquired = concord::time::format_rfc3339(concord::time::now_secs());
    let lock = format!(
        r#"{{"agent": "AGENT-9", "task_id": "WBS-005", "scope_paths": ["services/payouts/**"], "acquired_at": "{acquired}"}}"#
    );
    std::fs::write(root.join("ops/locks/AGENT-9.lock"), lock).unwrap();
    let t = tools(false, None);
    first_call(&t, &cwd);
    let stale_here = || {
        state(&t, root)
            .0
            .iter()
            .any(|f| f.code == concord::findings::Code::StaleLock && f.path == "ops/locks/AGENT-9.lock")
    };
    assert!(!stale_here(), "not stale yet");
    std::thread::sleep(std::time::Duration::from_secs(4));
    let later = call(&t, "coverage", json!({"cwd": cwd}));
    assert_eq!(later["workspace"]["update"], json!({"kind": "clock"}), "{later}");
    assert!(stale_here(), "stale now");
}
