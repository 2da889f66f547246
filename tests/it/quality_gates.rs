//! A work item's `smoke_checks` and `quality_gates` as gates of `concord review`, end to end: a
//! fake agent CLI does a given piece of work, the review runs the gates, and a failed one keeps
//! the item from becoming done.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::fakes::{self, FakeLlm, Reply};
use common::git;
use serde_json::{json, Value};

struct Env {
    dir: tempfile::TempDir,
    bin: tempfile::TempDir,
    /// The per-user configuration folder (`XDG_CONFIG_HOME`), where trusted workspaces are kept.
    config_home: tempfile::TempDir,
    llm: FakeLlm,
}

/// A fake `cursor-agent`: answers `--help` with the flags the preset uses; otherwise reads its
/// task file, runs `$GATES_WORK` with `sh` in its working directory (the run's work), writes the
/// run report with every criterion Pass, and reports success.
const AGENT: &str = r##"#!/bin/sh
for a in "$@"; do
  if [ "$a" = "--help" ]; then
    printf 'Usage: cursor-agent [options] [prompt]\nOptions:\n  -p\n  --print\n  --output-format\n  --model\n  -f\n  --force\n  --trust\n  --approve-mcps\n  --help\n'
    exit 0
  fi
done
last=""
for a in "$@"; do last="$a"; done
task=$(printf '%s' "$last" | sed -n 's/^Read the task file \(.*\) and do exactly what it says\.$/\1/p')
if [ -n "$task" ]; then text=$(cat "$task"); else text="$last"; fi
report=$(printf '%s\n' "$text" | sed -n 's/^Write it to `\(.*\)` with these sections:$/\1/p')
wbs=$(printf '%s\n' "$text" | sed -n 's/^# Task \([A-Z0-9-]*\):.*/\1/p')
sh -c "$GATES_WORK" || exit 7
mkdir -p "$(dirname "$report")"
printf 'wbs: %s\nagent: fake\n\n## Tests\n- `true`: Pass\n\n## Acceptance criteria\n- Feature works: Pass\n' "$wbs" > "$report"
echo '{"type":"result","subtype":"success","is_error":false,"result":"all done"}'
"##;

impl Env {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `concord ARGS -C ROOT` with the fake agent on PATH, doing `work` when dispatched.
    fn concord_with(&self, args: &[&str], work: &str, env: &[(&str, &str)]) -> Output {
        let path = format!("{}:{}", self.bin.path().display(), std::env::var("PATH").unwrap_or_default());
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
        command.args(args);
        match args.first() {
            Some(&"trust") => {}
            // `check` takes the folder as its argument.
            Some(&"check") => {
                command.arg(self.root());
            }
            _ => {
                command.args(["-C", self.root().to_str().unwrap()]);
            }
        }
        command
            .env("PATH", path)
            .env("XDG_CONFIG_HOME", self.config_home.path())
            .env("GATES_WORK", work)
            .env("TEST_OPENAI_KEY", "test-openai")
            .env("TEST_ANTHROPIC_KEY", "test-anthropic")
            .env_remove("CONCORD_AGENT")
            .env_remove("CONCORD_TRUST")
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    }

    fn concord(&self, args: &[&str], work: &str) -> Output {
        self.concord_with(args, work, &[])
    }

    /// Dispatch WBS-001 to an agent that does `work`, then review it without the models.
    fn dispatch_and_review(&self, work: &str) -> Output {
        let out = self.concord(&["dispatch", "WBS-001", "--agent", "A1"], work);
        assert_eq!(out.status.code(), Some(0), "dispatch: {}{}", common::stdout(&out), common::stderr(&out));
        self.concord(&["review", "--no-llm"], "")
    }

    /// The newest review file of the item that ends with `suffix`.
    fn review_file(&self, suffix: &str) -> std::path::PathBuf {
        let mut files: Vec<_> = std::fs::read_dir(self.root().join("docs/reviews"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect();
        files.sort();
        files.pop().unwrap_or_else(|| panic!("no review file *{suffix}"))
    }

    /// The review's gates file.
    fn gates(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.review_file(".gates.json")).unwrap()).unwrap()
    }

    fn status_of(&self, id: &str) -> String {
        std::fs::read_to_string(self.root().join("ops/queue.jsonl"))
            .unwrap_or_default()
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["id"] == id)
            .map_or("todo".into(), |v| v["status"].as_str().unwrap_or("").to_string())
    }
}

/// The gate named `name` of a gates file.
fn gate<'g>(gates: &'g Value, name: &str) -> &'g Value {
    gates["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no gate {name:?} in {gates:#}"))
}

/// A workspace whose WBS-001 (scope `src/feature/**` and `tests/**`) has these smoke checks and
/// quality gates; committed, and trusted as its user would trust it.
fn setup(smoke_checks: &[&str], quality_gates: &[&str]) -> Env {
    let llm = FakeLlm::start();
    let config = format!(
        "[dispatch]\nagent_cli = \"cursor-agent\"\ntimeout = \"10s\"\n\n[review]\nllm_timeout = \"10s\"\nopenai_base_url = \"{base}/v1\"\nopenai_key_env = \"TEST_OPENAI_KEY\"\nanthropic_base_url = \"{base}\"\nanthropic_key_env = \"TEST_ANTHROPIC_KEY\"\n",
        base = llm.base
    );
    let wbs = json!({ "items": [{
        "id": "WBS-001", "title": "Feature", "phase": "P1", "blueprint_ids": ["TD-0001"],
        "scope_paths": ["src/feature/**", "tests/**"], "acceptance_criteria": ["Feature works"],
        "test_commands": ["true"], "smoke_checks": smoke_checks, "quality_gates": quality_gates,
        "risk_level": "low", "autopilot_mode": "full"
    }]});
    let wbs = serde_json::to_string_pretty(&wbs).unwrap();
    let dir = common::workspace(&[
        ("concord.toml", config.as_bytes()),
        ("docs/blueprints/blueprint_index.json", br#"[{"id":"TD-0001","title":"Feature spec"}]"#),
        ("ops/wbs.json", wbs.as_bytes()),
        ("ops/access/status.json", br#"{"checks": {}}"#),
        ("src/feature/app.py", b"print('app')\n"),
        (".gitignore", b".concord/\n"),
    ]);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "start"]);
    let bin = tempfile::tempdir().unwrap();
    let agent = bin.path().join("cursor-agent");
    std::fs::write(&agent, AGENT).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let env = Env { dir, bin, llm, config_home: tempfile::tempdir().unwrap() };
    let trusted = env.concord(&["trust", env.root().to_str().unwrap()], "");
    assert_eq!(trusted.status.code(), Some(0), "{}", common::stderr(&trusted));
    env
}

#[test]
fn too_many_changed_files_cap_the_decision_and_the_item_is_not_done() {
    let env = setup(&[], &["max-files:1"]);
    env.llm.always("/v1/messages", Reply::Json(fakes::anthropic_tool(fakes::assistant_review("accept"))));
    env.llm.always(
        "/chat/completions",
        Reply::Json(fakes::chat_answer(&fakes::decision("WBS-001", "accept", "done", json!([])))),
    );
    let work = "echo 'a = 1' > src/feature/a.py; echo 'b = 2' > src/feature/b.py";
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], work);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let out = env.concord(&["review"], "");
    let text = common::stdout(&out);
    // Both reviewers said "accept, done"; the failed gate caps it.
    assert!(text.contains("partial → todo"), "{text}{}", common::stderr(&out));
    assert_eq!(out.status.code(), Some(4));
    let gates = env.gates();
    assert_eq!(gates["passed"], false);
    let max_files = gate(&gates, "quality max-files:1");
    assert_eq!(max_files["passed"], false, "{max_files}");
    let detail = max_files["detail"].as_str().unwrap();
    assert!(detail.contains("2 changed files, limit 1: src/feature/a.py, src/feature/b.py"), "{detail}");
    // The models were told the gate failed, with its detail.
    let asked = env.llm.requests().iter().any(|r| r.body.to_string().contains("quality max-files:1: FAIL"));
    assert!(asked, "the review context lists the quality gate");
    let out = env.concord(&["apply"], "");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(env.status_of("WBS-001"), "todo");

    // The same work under a limit it meets passes that gate.
    let env = setup(&[], &["max-files:2", "max-lines:2"]);
    let out = env.dispatch_and_review(work);
    assert_eq!(out.status.code(), Some(0), "{}{}", common::stdout(&out), common::stderr(&out));
    let gates = env.gates();
    assert_eq!(gate(&gates, "quality max-files:2")["detail"], "2 changed files, limit 2");
    assert_eq!(gate(&gates, "quality max-lines:2")["detail"], "2 changed lines (added + removed), limit 2");
}

#[test]
fn too_many_changed_lines_fail_naming_the_largest_files() {
    let env = setup(&[], &["max-lines:3"]);
    let out = env.dispatch_and_review(
        "printf '1\\n2\\n3\\n4\\n' > src/feature/a.py; echo '# more' >> src/feature/app.py",
    );
    assert_eq!(out.status.code(), Some(5), "reject: {}", common::stdout(&out));
    let gates = env.gates();
    let detail = gate(&gates, "quality max-lines:3")["detail"].as_str().unwrap().to_string();
    assert!(
        detail.starts_with("5 changed lines (added + removed), limit 3; largest: src/feature/a.py (+4 -0), src/feature/app.py (+1 -0)"),
        "{detail}"
    );
}

#[test]
fn smoke_checks_are_a_gate() {
    let env = setup(&["sh -c 'echo smoke-broke; exit 3'"], &[]);
    let out = env.dispatch_and_review("echo 'a = 1' > src/feature/a.py");
    assert_eq!(out.status.code(), Some(5), "reject: {}", common::stdout(&out));
    assert!(common::stdout(&out).contains("gate smoke      FAIL"), "{}", common::stdout(&out));
    let gates = env.gates();
    let smoke = gate(&gates, "smoke");
    assert_eq!(smoke["passed"], false);
    assert_eq!(smoke["detail"], "failed: `sh -c 'echo smoke-broke; exit 3'` (exit code 3)");
    let review = std::fs::read_to_string(env.review_file(".md")).unwrap();
    let output = &review[review.find("## Test output").expect("a test output section")..];
    assert!(output.contains("smoke-broke"), "the smoke check's output is kept: {review}");
    assert_eq!(env.concord(&["apply"], "").status.code(), Some(0));
    assert_eq!(env.status_of("WBS-001"), "todo");

    // A smoke check that passes, run in the run's folder (it sees the new file).
    let env = setup(&["test -f src/feature/a.py"], &[]);
    let out = env.dispatch_and_review("echo 'a = 1' > src/feature/a.py");
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
    let gates = env.gates();
    assert_eq!(gate(&gates, "smoke")["passed"], true);
    assert_eq!(gate(&gates, "smoke")["detail"], "1 smoke checks passed");
    assert_eq!(env.concord(&["apply"], "").status.code(), Some(0));
    assert_eq!(env.status_of("WBS-001"), "done");

    // None listed: the gate is there, and passes saying so.
    let env = setup(&[], &[]);
    env.dispatch_and_review("echo 'a = 1' > src/feature/a.py");
    assert_eq!(gate(&env.gates(), "smoke")["detail"], "the work item lists no smoke checks");
}

#[test]
fn tests_changed_wants_a_test_beside_new_code() {
    let env = setup(&[], &["tests-changed"]);
    let out = env.dispatch_and_review("echo 'a = 1' > src/feature/a.py; echo 'notes' > src/feature/NOTES.md");
    assert_eq!(out.status.code(), Some(5), "reject: {}", common::stdout(&out));
    let gates = env.gates();
    let tests_changed = gate(&gates, "quality tests-changed");
    assert_eq!(tests_changed["passed"], false);
    let detail = tests_changed["detail"].as_str().unwrap();
    assert!(detail.starts_with("the run changed code (src/feature/a.py) but no test file"), "{detail}");

    let env = setup(&[], &["tests-changed"]);
    let out = env.dispatch_and_review(
        "echo 'a = 1' > src/feature/a.py; mkdir -p tests; echo 'def test_a(): pass' > tests/test_a.py",
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
    let gates = env.gates();
    assert_eq!(
        gate(&gates, "quality tests-changed")["detail"],
        "code changed (src/feature/a.py) and tests too (tests/test_a.py)"
    );

    // Documents alone are not code.
    let env = setup(&[], &["tests-changed"]);
    let out = env.dispatch_and_review("echo 'notes' > src/feature/NOTES.md");
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
}

#[test]
fn no_todo_in_new_files_reads_only_what_the_run_added() {
    let env = setup(&[], &["no-todo-in-new-files"]);
    let out = env.dispatch_and_review("printf 'a = 1\\n# TODO: handle refunds\\n' > src/feature/a.py");
    assert_eq!(out.status.code(), Some(5), "reject: {}", common::stdout(&out));
    let gates = env.gates();
    let todo = gate(&gates, "quality no-todo-in-new-files");
    assert_eq!(todo["passed"], false);
    let detail = todo["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("1 TODO/FIXME/XXX markers in files the run added: src/feature/a.py:2 TODO."),
        "{detail}"
    );

    // A marker in a file that was already there is not this gate's business; a clean new file passes.
    let env = setup(&[], &["no-todo-in-new-files"]);
    let out = env.dispatch_and_review(
        "echo '# FIXME later' >> src/feature/app.py; echo 'todo = []' > src/feature/b.py",
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
    assert_eq!(
        gate(&env.gates(), "quality no-todo-in-new-files")["detail"],
        "no TODO, FIXME or XXX in the 1 files the run added"
    );
}

#[test]
fn a_command_gate_runs_in_the_runs_folder() {
    let env = setup(&[], &["command:test -f src/feature/a.py", "command:sh -c 'echo lint-says-no; exit 2'"]);
    let out = env.dispatch_and_review("echo 'a = 1' > src/feature/a.py");
    assert_eq!(out.status.code(), Some(5), "reject: {}", common::stdout(&out));
    let gates = env.gates();
    let found = gate(&gates, "quality command:test -f src/feature/a.py");
    assert_eq!(found["passed"], true, "{found}");
    assert_eq!(found["detail"], "`test -f src/feature/a.py` passed (exit code 0)");
    let lint = gate(&gates, "quality command:sh -c 'echo lint-says-no; exit 2'");
    assert_eq!(lint["passed"], false);
    assert!(lint["detail"].as_str().unwrap().contains("failed (exit code 2)"), "{lint}");
    let review = std::fs::read_to_string(env.review_file(".md")).unwrap();
    assert!(review.contains("lint-says-no"), "its output joins the test output: {review}");
}

#[test]
fn an_unknown_gate_is_a_positioned_finding_and_fails_the_review() {
    let env = setup(&[], &["tests-changed", "max-file:3"]);
    let out = env.concord(&["check", "--format", "json", "--fail-on", "never"], "");
    let report: Value = serde_json::from_str(&common::stdout(&out)).unwrap_or_else(|e| {
        panic!("check --format json: {e}: {}{}", common::stdout(&out), common::stderr(&out))
    });
    let findings = report["findings"].as_array().expect("a findings list");
    let malformed: Vec<&Value> = findings.iter().filter(|f| f["code"] == "malformed-file").collect();
    assert_eq!(malformed.len(), 1, "{findings:#?}");
    let finding = malformed[0];
    assert_eq!(finding["path"], "ops/wbs.json");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains("unknown quality gate `max-file:3`"), "{message}");
    assert!(message.contains("Did you mean `max-files:N`?"), "{message}");
    assert!(message.contains("Known gates: `no-todo-in-new-files`, `tests-changed`"), "{message}");
    // On the entry itself, inside its quotes.
    let wbs = std::fs::read_to_string(env.root().join("ops/wbs.json")).unwrap();
    let (line, text) = wbs.lines().enumerate().find(|(_, l)| l.contains("\"max-file:3\"")).unwrap();
    let column = text.find("max-file:3").unwrap();
    let start = &finding["range"]["start"];
    assert_eq!(
        (start["line"].as_u64(), start["character"].as_u64()),
        (Some(line as u64), Some(column as u64)),
        "{finding:#}"
    );

    // The entry is not skipped: the review fails it.
    let out = env
        .dispatch_and_review("echo 'a = 1' > src/feature/a.py; mkdir -p tests; echo 'ok' > tests/test_a.py");
    assert_eq!(out.status.code(), Some(5), "reject: {}", common::stdout(&out));
    let gates = env.gates();
    assert_eq!(gate(&gates, "quality tests-changed")["passed"], true);
    let unknown = gate(&gates, "quality max-file:3");
    assert_eq!(unknown["passed"], false);
    let detail = unknown["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("quality gate `max-file:3` is not understood: unknown quality gate"),
        "{detail}"
    );
    assert!(detail.contains("Did you mean `max-files:N`?"), "{detail}");
}

#[test]
fn an_untrusted_workspace_runs_no_smoke_check_or_command_gate() {
    let env = setup(&["touch smoke-ran"], &["command:touch command-ran"]);
    let out = env.concord(&["dispatch", "WBS-001", "--agent", "A1"], "echo 'a = 1' > src/feature/a.py");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let untrusted = tempfile::tempdir().unwrap();
    let home = untrusted.path().to_str().unwrap();
    let out = env.concord_with(&["review", "--no-llm"], "", &[("XDG_CONFIG_HOME", home)]);
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(err.contains("not a trusted workspace") && err.contains("smoke_checks"), "{err}");
    assert!(!env.root().join("smoke-ran").exists() && !env.root().join("command-ran").exists());
    assert!(!env.root().join("docs/reviews").exists(), "nothing was written");

    // Trusted for one run, both run (so the check above could see them).
    let out =
        env.concord_with(&["review", "--no-llm"], "", &[("XDG_CONFIG_HOME", home), ("CONCORD_TRUST", "1")]);
    assert!(out.status.code().is_some(), "{}", common::stderr(&out));
    assert!(env.root().join("smoke-ran").exists() && env.root().join("command-ran").exists());
}
