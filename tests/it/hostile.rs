//! Hostile repositories and lost data, end to end with the real binary: FIFOs, links to devices
//! and to files outside the workspace where ops files belong, a duplicated `items` key, and
//! `apply`, `approve`, `crosswalk` and `lock` killed (SIGKILL) before each of their file-system
//! changes, then run again.

use crate::common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::lsp::{text_position, uri, LspClient};
use serde_json::{json, Value};

const INDEX: &[u8] =
    br#"[{"id": "TD-0001", "title": "Feature spec"}, {"id": "TD-0002", "title": "Payments spec"}]"#;
const WBS: &str = r#"{"items": [
  {"id": "WBS-001", "title": "Feature", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/feature/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "low", "autopilot_mode": "full"},
  {"id": "WBS-002", "title": "Payments", "blueprint_ids": ["TD-0002"], "scope_paths": ["src/pay/**"],
   "acceptance_criteria": ["Feature works"], "test_commands": ["true"], "risk_level": "critical", "autopilot_mode": "full"}
]}
"#;

/// Run the binary; a run that outlives `limit` is killed and fails the test (it blocked).
fn run_within(args: &[&str], root: &Path, envs: &[(&str, &str)], limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    cmd.args(args)
        .current_dir(root)
        .env_remove("CONCORD_AGENT")
        .env_remove("CONCORD_FAULT_AT")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            let _ = child.wait();
            panic!("concord {args:?} did not finish within {limit:?} (it blocked): {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(args: &[&str], root: &Path) -> Output {
    run_within(args, root, &[], Duration::from_secs(30))
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

fn link(target: &Path, at: &Path) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, at).unwrap();
}

fn findings(out: &Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", common::stdout(out), common::stderr(out)));
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// The finding for `path`, which must be a positioned `malformed-file` whose message has `words`.
fn malformed_finding(out: &Output, path: &str, words: &str) -> Value {
    let all = findings(out);
    let found = all
        .iter()
        .find(|f| f["path"] == path && f["code"] == "malformed-file")
        .unwrap_or_else(|| panic!("no malformed-file for {path}: {all:#?}"))
        .clone();
    assert!(found["message"].as_str().unwrap().contains(words), "{found}");
    assert!(found["range"]["start"]["line"].is_u64(), "positioned: {found}");
    found
}

fn base_workspace() -> tempfile::TempDir {
    common::workspace(&[("docs/blueprints/blueprint_index.json", INDEX), ("ops/wbs.json", WBS.as_bytes())])
}

#[test]
fn a_fifo_where_an_ops_file_belongs_does_not_block_check() {
    for rel in ["ops/queue.jsonl", "ops/locks/A1.lock", "ops/secrets-baseline.json", "ops/wbs.json"] {
        let dir = base_workspace();
        let _ = std::fs::remove_file(dir.path().join(rel));
        mkfifo(&dir.path().join(rel));
        let out = run(&["check", "--format", "json"], dir.path());
        malformed_finding(&out, rel, "named pipe");
    }
    // The configuration is read before anything else: a clear error naming it.
    let dir = base_workspace();
    mkfifo(&dir.path().join("concord.toml"));
    let out = run(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("concord.toml") && common::stderr(&out).contains("named pipe"));
}

#[test]
fn a_lock_linked_to_dev_zero_is_refused_not_read() {
    let dir = base_workspace();
    link(Path::new("/dev/zero"), &dir.path().join("ops/locks/A1.lock"));
    let out = run(&["check", "--format", "json"], dir.path());
    malformed_finding(&out, "ops/locks/A1.lock", "outside the workspace");
    // A lock linked to a device inside the workspace's reach is still not a regular file.
    let dir = base_workspace();
    mkfifo(&dir.path().join("pipe"));
    link(Path::new("../../pipe"), &dir.path().join("ops/locks/A1.lock"));
    let out = run(&["check", "--format", "json"], dir.path());
    malformed_finding(&out, "ops/locks/A1.lock", "named pipe");
    // Listing and taking locks get past it too.
    let out = run(&["lock", "acquire", "--agent", "B1", "--task", "WBS-001"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
}

#[test]
fn an_ops_file_larger_than_max_file_size_is_a_finding() {
    let dir = base_workspace();
    std::fs::write(dir.path().join("concord.toml"), "[files]\nmax_file_size = 64\n").unwrap();
    let out = run(&["check", "--format", "json"], dir.path());
    malformed_finding(&out, "ops/wbs.json", "max_file_size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_server_loads_past_fifos_and_dev_zero_links() {
    let dir = base_workspace();
    let root = dir.path();
    mkfifo(&root.join("ops/queue.jsonl"));
    link(Path::new("/dev/zero"), &root.join("ops/locks/A1.lock"));
    link(Path::new("/dev/zero"), &root.join("src/zero.py"));
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/feature.py"), "# TD-0001\n").unwrap();
    let mut client = LspClient::in_process();
    client.initialize(root, json!({}), json!({})).await;
    let started = Instant::now();
    let hover =
        client.request("textDocument/hover", text_position(&uri(&root.join("src/feature.py")), 0, 4)).await;
    assert!(
        hover["contents"]["value"].as_str().is_some_and(|t| t.contains("Feature spec")),
        "the workspace loaded: {hover}"
    );
    assert!(started.elapsed() < Duration::from_secs(4), "hover waited {:?}", started.elapsed());
    // Hover on an unopened file linked to /dev/zero answers at once, with nothing.
    let started = Instant::now();
    let hover =
        client.request("textDocument/hover", text_position(&uri(&root.join("src/zero.py")), 0, 0)).await;
    assert!(hover.is_null(), "{hover}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(client.shutdown_and_exit().await, Some(0));
}

#[test]
fn crosswalk_replaces_a_link_to_a_device_or_a_fifo_and_never_writes_through_it() {
    let outside = tempfile::tempdir().unwrap();
    let fifo = outside.path().join("pipe");
    mkfifo(&fifo);
    for target in [Path::new("/dev/null"), fifo.as_path()] {
        let dir = base_workspace();
        let crosswalk = dir.path().join("docs/blueprints/crosswalk.json");
        link(target, &crosswalk);
        let check = run(&["crosswalk", "--check"], dir.path());
        assert_eq!(check.status.code(), Some(1), "a link is out of date: {}", common::stderr(&check));
        let out = run(&["crosswalk"], dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
        let meta = std::fs::symlink_metadata(&crosswalk).unwrap();
        assert!(meta.is_file(), "the link to {} was replaced by a regular file", target.display());
        let written: Value = serde_json::from_str(&std::fs::read_to_string(&crosswalk).unwrap()).unwrap();
        assert!(written.is_object());
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is untouched");

    // A folder on the way that leads outside the workspace is refused.
    let dir = base_workspace();
    std::fs::remove_dir_all(dir.path().join("docs/blueprints")).unwrap();
    std::fs::write(outside.path().join("blueprint_index.json"), INDEX).unwrap();
    link(outside.path(), &dir.path().join("docs/blueprints"));
    let out = run(&["crosswalk"], dir.path());
    assert_ne!(out.status.code(), Some(0));
    assert!(common::stderr(&out).contains("outside the workspace"), "{}", common::stderr(&out));
    assert!(!outside.path().join("crosswalk.json").exists());
}

#[test]
fn a_stale_temporary_of_a_dead_writer_is_removed_by_the_next_write() {
    let dir = base_workspace();
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = dir.path().join(format!("docs/blueprints/.crosswalk.json.tmp-{dead}-42"));
    std::fs::write(&stale, "{").unwrap();
    let out = run(&["crosswalk"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(!stale.exists(), "the dead process's temporary file is gone");
}

/// A work item in review with a lock, a decision accepting it with one follow-up, its gates
/// passed; and a critical item awaiting approval.
fn apply_workspace() -> tempfile::TempDir {
    let decision = json!({
        "wbs_id": "WBS-001", "decision": "accept", "recommended_status": "done", "summary": "Works as specified",
        "risks": [], "missing_deliverables": [], "test_gaps": [], "acceptance": [],
        "followups": [{"title": "Add metrics", "summary": "Count uses", "blocking": false, "scope_paths": []}]
    });
    let queue = [
        r#"{"id":"WBS-001","status":"in_progress","at":"2026-11-01T00:00:00Z","by":"A1","reason":"dispatched"}"#,
        r#"{"id":"WBS-001","status":"review","at":"2026-11-01T00:01:00Z","by":"A1","reason":"run finished"}"#,
        r#"{"id":"WBS-002","status":"in_progress","at":"2026-11-01T00:00:00Z","by":"A2","reason":"dispatched"}"#,
        r#"{"id":"WBS-002","status":"review","at":"2026-11-01T00:01:00Z","by":"A2","reason":"run finished"}"#,
        r#"{"id":"WBS-002","status":"awaiting_approval","at":"2026-11-01T00:02:00Z","by":"t","reason":"accept: applied docs/reviews/r0.json"}"#,
    ]
    .join("\n")
        + "\n";
    let lock = r#"{"agent": "A1", "task_id": "WBS-001", "scope_paths": ["src/feature/**"], "acquired_at": "2026-11-01T00:00:00Z"}"#;
    common::workspace(&[
        ("docs/blueprints/blueprint_index.json", INDEX),
        ("ops/wbs.json", WBS.as_bytes()),
        ("ops/queue.jsonl", queue.as_bytes()),
        ("ops/locks/A1.lock", lock.as_bytes()),
        ("docs/PROGRESS.md", b"# Progress\n"),
        ("docs/reviews/r1.json", decision.to_string().as_bytes()),
        ("docs/reviews/r1.gates.json", br#"{"passed": true}"#),
    ])
}

#[test]
fn apply_never_appends_to_a_progress_log_outside_the_workspace() {
    let dir = apply_workspace();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("notes.md");
    std::fs::write(&victim, "my notes\n").unwrap();
    std::fs::remove_file(dir.path().join("docs/PROGRESS.md")).unwrap();
    link(&victim, &dir.path().join("docs/PROGRESS.md"));
    let out = run(&["apply", "docs/reviews/r1.json"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", common::stdout(&out));
    assert!(common::stderr(&out).contains("outside the workspace"), "{}", common::stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "my notes\n");

    // Once the link is replaced by a file, the next run finishes what was started.
    std::fs::remove_file(dir.path().join("docs/PROGRESS.md")).unwrap();
    std::fs::write(dir.path().join("docs/PROGRESS.md"), "# Progress\n").unwrap();
    let out = run(&["apply", "docs/reviews/r1.json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("interrupted"), "{}", common::stdout(&out));
    assert_eq!(normalized_state(dir.path()), reference_state("apply"));
}

#[test]
fn a_duplicated_items_key_is_malformed_and_apply_keeps_the_plan() {
    let dir = apply_workspace();
    let wbs = WBS.trim_end().trim_end_matches('}').to_string() + ",\n \"items\": []}\n";
    std::fs::write(dir.path().join("ops/wbs.json"), &wbs).unwrap();
    let out = run(&["check", "--format", "json"], dir.path());
    let finding = malformed_finding(&out, "ops/wbs.json", "duplicate key `items`");
    assert_eq!(finding["range"]["start"]["line"], 6, "at the second key: {finding}");
    assert_eq!(finding["range"]["start"]["character"], 1, "{finding}");
    let out = run(&["apply", "docs/reviews/r1.json"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", common::stdout(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ops/wbs.json")).unwrap(),
        wbs,
        "the WBS is untouched"
    );
}

/// Every file of the workspace with timestamps and process ids masked: what an uninterrupted
/// run and an interrupted-then-repeated one must agree on.
fn normalized_state(root: &Path) -> Vec<(String, String)> {
    let timestamp = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let pid = regex::Regex::new(r#""(pid|host)": ?("[^"]*"|\d+)"#).unwrap();
    common::snapshot(root)
        .into_iter()
        .map(|(path, bytes)| {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let text = String::from_utf8_lossy(&bytes);
            let text = timestamp.replace_all(&text, "<time>");
            (rel, pid.replace_all(&text, "\"$1\": <masked>").into_owned())
        })
        .collect()
}

fn scenario(name: &str) -> (tempfile::TempDir, Vec<Vec<&'static str>>) {
    let dir = apply_workspace();
    let commands: Vec<Vec<&str>> = match name {
        "apply" => vec![vec!["apply", "docs/reviews/r1.json"]],
        "approve" => vec![vec!["approve", "WBS-002", "--by", "owner"]],
        "crosswalk" => vec![vec!["crosswalk"]],
        "lock" => vec![
            vec!["lock", "release", "--agent", "A1"],
            vec!["lock", "acquire", "--agent", "B1", "--task", "WBS-002"],
        ],
        _ => unreachable!(),
    };
    (dir, commands)
}

fn reference_state(name: &str) -> Vec<(String, String)> {
    let (dir, commands) = scenario(name);
    for command in &commands {
        let out = run(command, dir.path());
        assert_eq!(out.status.code(), Some(0), "{command:?}: {}", common::stderr(&out));
    }
    normalized_state(dir.path())
}

/// Kill each command (SIGKILL) just before its n-th file-system change, for every n until it
/// runs through; then run the commands again without a fault and compare with a run that was
/// never interrupted.
fn killed_at_every_step_then_repeated(name: &str) {
    use std::os::unix::process::ExitStatusExt;
    let reference = reference_state(name);
    assert!(reference.iter().all(|(p, _)| !p.contains(".tmp-") && !p.contains("journal/")), "{reference:?}");
    let (_, commands) = scenario(name);
    for (index, _) in commands.iter().enumerate() {
        let mut kills = 0;
        for n in 1.. {
            let (dir, commands) = scenario(name);
            for command in &commands[..index] {
                assert_eq!(run(command, dir.path()).status.code(), Some(0));
            }
            let fault = format!("*:{n}");
            let out = run_within(
                &commands[index],
                dir.path(),
                &[("CONCORD_FAULT_AT", &fault)],
                Duration::from_secs(30),
            );
            if out.status.signal() != Some(9) {
                assert_eq!(out.status.code(), Some(0), "{name} {fault}: {}", common::stderr(&out));
                break;
            }
            kills += 1;
            // Repeat what the user ran; a repeated `lock acquire` that finds its own lock says so.
            for command in &commands[index..] {
                let again = run(command, dir.path());
                let own_lock = common::stderr(&again).contains("already holds a lock");
                assert!(
                    again.status.code() == Some(0) || own_lock,
                    "{name} {command:?} after a kill at {fault}: {}",
                    common::stderr(&again)
                );
            }
            assert_eq!(normalized_state(dir.path()), reference, "{name}: killed at {fault}, then repeated");
        }
        assert!(kills > 0, "{name}: the fault points were never reached");
    }
}

#[test]
fn apply_killed_at_any_step_is_finished_by_the_next_run() {
    killed_at_every_step_then_repeated("apply");
}

#[test]
fn approve_killed_at_any_step_is_finished_by_the_next_run() {
    killed_at_every_step_then_repeated("approve");
}

#[test]
fn crosswalk_killed_at_any_step_leaves_no_trace_after_the_next_run() {
    killed_at_every_step_then_repeated("crosswalk");
}

#[test]
fn lock_release_and_acquire_killed_at_any_step_end_as_an_uninterrupted_run() {
    killed_at_every_step_then_repeated("lock");
}
