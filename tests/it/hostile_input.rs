//! Input a hostile or unlucky user produces (issue 22): huge globs and durations, broken
//! times, broken configuration, closed pipes, secrets in titles. The real binary, end to end.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

const WBS: &str = "ops/wbs.json";

fn findings(dir: &Path) -> Vec<Value> {
    let out = common::concord(&["check", ".", "--format", "json", "--fail-on", "never"], Some(dir));
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", common::stderr(&out)));
    report["findings"].as_array().expect("findings").clone()
}

/// The finding of `code` in `path`, with its 0-based line.
fn finding<'f>(all: &'f [Value], code: &str, path: &str) -> Option<&'f Value> {
    all.iter().find(|f| f["code"] == code && f["path"] == path)
}

fn line_of(finding: &Value) -> u64 {
    finding["range"]["start"]["line"].as_u64().expect("a line")
}

fn lock_file(agent: &str, task: &str, scope: &str, acquired_at: &str) -> String {
    serde_json::json!({"agent": agent, "task_id": task, "scope_paths": [scope], "acquired_at": acquired_at})
        .to_string()
}

fn deep(segments: usize, last: &str) -> String {
    format!("{}{last}", "a/".repeat(segments))
}

/// Not a crash: a signal or Rust's panic exit code 101.
fn assert_no_crash(out: &std::process::Output, what: &str) {
    let code = out.status.code();
    assert!(
        code.is_some() && code != Some(101),
        "{what} crashed ({:?}): {}",
        out.status,
        common::stderr(out)
    );
}

#[test]
fn a_scope_glob_of_30000_segments_is_a_positioned_finding_not_a_crash() {
    let (x, y) = (deep(30_000, "x"), deep(30_000, "y"));
    let wbs = serde_json::json!({"items": [
        {"id": "WBS-001", "title": "one", "scope_paths": [x]},
        {"id": "WBS-002", "title": "two", "scope_paths": ["src/**", y]},
    ]})
    .to_string();
    let lock = lock_file("AGENT-1", "WBS-001", &x, "2026-11-20T10:00:00Z");
    let dir = common::workspace(&[(WBS, wbs.as_bytes()), ("ops/locks/AGENT-1.lock", lock.as_bytes())]);

    for args in [&["status"][..], &["lock", "list"], &["check", "."]] {
        assert_no_crash(&common::concord(args, Some(dir.path())), &args.join(" "));
    }
    let all = findings(dir.path());
    let in_wbs = all
        .iter()
        .find(|f| {
            let message = f["message"].as_str().unwrap();
            f["code"] == "malformed-file"
                && f["path"] == WBS
                && message.contains("WBS-002")
                && message.contains("at most 4096")
        })
        .unwrap_or_else(|| panic!("no finding for the long glob in {WBS}: {all:#?}"));
    // At the second item's second scope: the string after `"src/**", `.
    let column = in_wbs["range"]["start"]["character"].as_u64().unwrap() as usize;
    assert_eq!(&wbs[column - 1..column + 4], "\"a/a/", "{in_wbs}");
    assert!(wbs[..column].contains("\"src/**\""), "{in_wbs}");
    let in_lock = finding(&all, "malformed-file", "ops/locks/AGENT-1.lock")
        .unwrap_or_else(|| panic!("no finding for the long glob in the lock: {all:#?}"));
    assert!(in_lock["message"].as_str().unwrap().contains("at most 4096"), "{in_lock}");

    // Taking a lock with such a scope is a clear usage error, quickly.
    let started = Instant::now();
    let out = common::concord(
        &["lock", "acquire", "--agent", "B", "--task", "WBS-002", "--scope", &y],
        Some(dir.path()),
    );
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("at most 4096"), "{}", common::stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
    // And the WBS default scope of WBS-002 (which holds the long glob) is checked against the
    // long lock without a crash: too long to decide means "overlap", so it is refused.
    let out = common::concord(&["lock", "acquire", "--agent", "B", "--task", "WBS-002"], Some(dir.path()));
    assert_no_crash(&out, "lock acquire");
    assert!(!dir.path().join("ops/locks/B.lock").exists(), "{}", common::stdout(&out));
}

#[test]
fn brace_groups_are_bounded_and_expand_in_linear_time() {
    let wbs = br#"{"items": [{"id": "WBS-001", "title": "one"}, {"id": "WBS-002", "title": "two"}]}"#;
    let dir = common::workspace(&[(WBS, wbs)]);
    let started = Instant::now();
    let many = format!("b/{}", "{a}".repeat(20_000));
    let out = common::concord(
        &["lock", "acquire", "--agent", "A", "--task", "WBS-001", "--scope", &many],
        Some(dir.path()),
    );
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    let wide = "{a,b}/".repeat(9) + "x";
    let out = common::concord(
        &["lock", "acquire", "--agent", "A", "--task", "WBS-001", "--scope", &wide],
        Some(dir.path()),
    );
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("more than 256 patterns"), "{}", common::stderr(&out));

    // Just under the length bound: 1,300 groups are taken, and checked against them, at once.
    let long = format!("b/{}", "{a}".repeat(1_300));
    let started = Instant::now();
    let out = common::concord(
        &["lock", "acquire", "--agent", "A", "--task", "WBS-001", "--scope", &long],
        Some(dir.path()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let other = format!("b/{}", "{a}".repeat(1_299));
    let out = common::concord(
        &["lock", "acquire", "--agent", "B", "--task", "WBS-002", "--scope", &other],
        Some(dir.path()),
    );
    assert_eq!(out.status.code(), Some(0), "disjoint from A's scope: {}", common::stderr(&out));
    let out = common::concord(
        &["lock", "acquire", "--agent", "C", "--task", "WBS-002", "--scope", "b/*"],
        Some(dir.path()),
    );
    assert_ne!(out.status.code(), Some(0), "overlaps A's scope: {}", common::stdout(&out));
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn a_huge_sweep_duration_is_out_of_range_and_removes_nothing() {
    let now = concord::time::format_rfc3339(concord::time::now_secs() - 1);
    let lock = lock_file("AGENT-1", "WBS-001", "src/**", &now);
    let wbs = br#"{"items": [{"id": "WBS-001", "title": "one"}]}"#;
    let dir = common::workspace(&[(WBS, wbs), ("ops/locks/AGENT-1.lock", lock.as_bytes())]);
    for huge in ["999999999999999d", "9223372036854775807s", "36501d"] {
        let out = common::concord(&["lock", "sweep", "--older-than", huge], Some(dir.path()));
        assert_eq!(out.status.code(), Some(2), "{huge}: {}", common::stdout(&out));
        assert!(common::stderr(&out).contains("out of range"), "{}", common::stderr(&out));
        assert!(
            dir.path().join("ops/locks/AGENT-1.lock").exists(),
            "{huge} removed a lock taken a second ago"
        );
    }
    let out = common::concord(&["lock", "sweep", "--older-than", "1d"], Some(dir.path()));
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(dir.path().join("ops/locks/AGENT-1.lock").exists());
}

#[test]
fn an_out_of_range_stale_after_is_a_positioned_config_error() {
    let toml = b"# stale_after = \"9223372036854775807d\" is what we tried\n[locks]\nstale_after = \"9223372036854775807d\"\n";
    let dir = common::workspace(&[("concord.toml", toml)]);
    let out = common::concord(&["check", "."], Some(dir.path()));
    assert_eq!(out.status.code(), Some(2), "{}", common::stdout(&out));
    assert!(
        common::stderr(&out).contains("concord.toml:3:15: locks.stale_after"),
        "{}",
        common::stderr(&out)
    );
    assert!(common::stderr(&out).contains("out of range"), "{}", common::stderr(&out));
}

#[test]
fn a_lock_taken_yesterday_in_words_is_malformed_and_stale() {
    let lock = "{\"agent\": \"AGENT-1\", \"task_id\": \"WBS-001\",\n \"scope_paths\": [\"src/**\"],\n \"acquired_at\": \"yesterday\"}";
    let impossible = lock_file("AGENT-2", "WBS-002", "web/**", "2026-02-31T10:00:00Z");
    let wbs = br#"{"items": [{"id": "WBS-001", "title": "one"}, {"id": "WBS-002", "title": "two"}]}"#;
    let dir = common::workspace(&[
        (WBS, wbs),
        ("ops/locks/AGENT-1.lock", lock.as_bytes()),
        ("ops/locks/AGENT-2.lock", impossible.as_bytes()),
    ]);
    let all = findings(dir.path());
    let bad = finding(&all, "malformed-file", "ops/locks/AGENT-1.lock")
        .unwrap_or_else(|| panic!("no finding for `yesterday`: {all:#?}"));
    assert_eq!(line_of(bad), 2, "{bad}");
    assert_eq!(bad["range"]["start"]["character"], 17, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("RFC 3339"), "{bad}");
    assert!(finding(&all, "malformed-file", "ops/locks/AGENT-2.lock").is_some(), "February 31st: {all:#?}");

    // Still a lock: it holds its scope…
    let out = common::concord(
        &["lock", "acquire", "--agent", "B", "--task", "WBS-002", "--scope", "src/x.rs"],
        Some(dir.path()),
    );
    assert_ne!(out.status.code(), Some(0), "{}", common::stdout(&out));
    // …and it is stale, whatever the limit.
    let out = common::concord(&["lock", "list"], Some(dir.path()));
    assert!(common::stdout(&out).contains("STALE"), "{}", common::stdout(&out));
    let out = common::concord(&["lock", "sweep", "--older-than", "36500d"], Some(dir.path()));
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(!dir.path().join("ops/locks/AGENT-1.lock").exists(), "{}", common::stdout(&out));
    assert!(!dir.path().join("ops/locks/AGENT-2.lock").exists(), "{}", common::stdout(&out));
}

/// `concord check` on a workspace whose `concord.toml` is `bytes`: the error line.
fn config_error(bytes: &[u8]) -> String {
    let dir = common::workspace(&[("concord.toml", bytes)]);
    let out = common::concord(&["check", "."], Some(dir.path()));
    assert_eq!(out.status.code(), Some(2), "{}", common::stdout(&out));
    common::stderr(&out)
}

#[test]
fn config_errors_point_at_the_setting() {
    // An invalid glob in a list: at that element.
    let err = config_error(b"[files]\nexclude = [\"ok/**\",\n    \"a/{b\"]\n");
    assert!(err.contains("concord.toml:3:5: files.exclude: invalid glob \"a/{b\""), "{err}");
    // A non-UTF-8 byte: at the byte.
    let err = config_error(b"[files]\n# caf\xe9\nexclude = []\n");
    assert!(err.contains("concord.toml:2:6:") && err.contains("UTF-8"), "{err}");
    // A key nested 100 levels: positioned, no stack overflow.
    let deep = format!("[files]\n{} = 1\n", vec!["a"; 100].join("."));
    let err = config_error(deep.as_bytes());
    assert!(err.contains("concord.toml:2:1:") && err.contains("nested too deep"), "{err}");
    let inline = format!("x = {}1{}\n", "{a = ".repeat(1000), "}".repeat(1000));
    assert!(config_error(inline.as_bytes()).contains("concord.toml:1:"));
    // A semantic error at the setting on line 3, not at a comment on line 1 with the same text.
    let err = config_error(b"# wbs = \"/abs\" was a mistake\n[paths]\nwbs = \"/abs\"\n");
    assert!(err.contains("concord.toml:3:7: paths.wbs"), "{err}");
    let err = config_error(b"# openai_api\n[review]\nopenai_api = \"soap\"\n");
    assert!(err.contains("concord.toml:3:14:"), "{err}");
    let err = config_error(b"# families\n[[ids.families]]\nname = \"REQ\"\npattern = 'REQ-(\\d+'\n");
    assert!(err.contains("concord.toml:4:11:"), "{err}");
    let err = config_error(b"# timeout\n[dispatch]\ntimeout = \"soon\"\n");
    assert!(err.contains("concord.toml:3:11: dispatch.timeout"), "{err}");
    let err = config_error(b"[autopilot]\nparallel = 0\n");
    assert!(err.contains("concord.toml:2:12: autopilot.parallel: must be between 1 and 16"), "{err}");
    let err = config_error(b"[autopilot]\nmax_minutes = -5.0\n");
    assert!(err.contains("concord.toml:2:15: autopilot.max_minutes"), "{err}");
    let err = config_error(b"[autopilot.prices.gpt]\ninput_per_mtok = 2.0\noutput_per_mtok = -8.0\n");
    assert!(err.contains("concord.toml:3:19: autopilot.prices.gpt.output_per_mtok"), "{err}");
}

/// Run `args` with a standard output whose reader has already gone (`| head -0`).
fn with_closed_stdout(args: &[&str], dir: &Path) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn every_printing_command_ends_quietly_when_its_reader_stops() {
    // Enough output to fill a pipe, whatever the timing.
    let items: Vec<Value> = (0..2_000)
        .map(|n| serde_json::json!({"id": format!("WBS-{n:03}"), "title": format!("item {n} {}", "x".repeat(40))}))
        .collect();
    let wbs = serde_json::json!({ "items": items }).to_string();
    let dir = common::workspace(&[(WBS, wbs.as_bytes())]);
    for args in [
        &["status"][..],
        &["explain"],
        &["explain", "unknown-id"],
        &["crosswalk"],
        &["lock", "list"],
        &["refs"],
    ] {
        let out = with_closed_stdout(args, dir.path());
        assert_no_crash(&out, &args.join(" "));
        assert!(out.stderr.is_empty(), "{}: {}", args.join(" "), common::stderr(&out));
    }
    // The command still did its work: the crosswalk was written.
    assert!(dir.path().join("docs/blueprints/crosswalk.json").exists());
}

#[test]
fn a_newline_in_a_file_name_does_not_split_a_text_line() {
    let dir = common::workspace(&[
        ("docs/blueprints/blueprint_index.json", br#"[{"id": "TD-0001", "title": "Feature"}]"#),
        ("src/evil\nsrc/fake.py:1:1: error[secret]: x.py", b"# TD-9999\n"),
        ("src/tab\there.py", b"# TD-9999\n"),
    ]);
    let out = common::concord(&["check", ".", "--fail-on", "never"], Some(dir.path()));
    let text = common::stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("unknown-id")).collect();
    assert_eq!(lines.len(), 2, "one line per finding:\n{text}");
    assert!(
        lines.iter().any(|l| l.starts_with(r#""src/evil\nsrc/fake.py:1:1: error[secret]: x.py":1:3: "#)),
        "the name is quoted as a JSON string:\n{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with(r#""src/tab\there.py":1:3: "#)), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("src/fake.py")), "no forged line:\n{text}");
    // The untraced-file message names the path too: it stays on its line.
    let refs = common::concord(&["refs", "."], Some(dir.path()));
    let text = common::stdout(&refs);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(r#""src/evil\nsrc/fake.py:1:1: error[secret]: x.py":1:3:TD-9999"#), "{text}");
    // JSON keeps the real name.
    let all = findings(dir.path());
    assert!(all.iter().any(|f| f["path"] == "src/evil\nsrc/fake.py:1:1: error[secret]: x.py"));
}

fn running_as_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

#[test]
fn directories_the_walk_cannot_enter_are_counted_and_named() {
    let dir = common::workspace(&[
        ("docs/blueprints/blueprint_index.json", br#"[{"id": "TD-0001", "title": "Feature"}]"#),
        ("src/ok.py", b"# TD-0001\n"),
    ]);
    // Deeper than PATH_MAX (4096): made one directory at a time relative to the last (mkdirat,
    // openat), as no single path can name it.
    std::fs::create_dir_all(dir.path().join("deep")).unwrap();
    let c = |s: &str| std::ffi::CString::new(s).unwrap();
    let top = c(dir.path().join("deep").to_str().unwrap());
    let segment = c(&"d".repeat(200));
    // SAFETY: plain system calls on descriptors this test owns; each is checked.
    unsafe {
        let mut fd = libc::open(top.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        assert!(fd >= 0);
        for _ in 0..24 {
            assert_eq!(libc::mkdirat(fd, segment.as_ptr(), 0o755), 0);
            let next = libc::openat(fd, segment.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            assert!(next >= 0);
            libc::close(fd);
            fd = next;
        }
        let file = libc::openat(fd, c("lost.py").as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o644);
        assert!(file >= 0);
        assert_eq!(libc::write(file, b"# TD-9999\n".as_ptr().cast(), 10), 10);
        libc::close(file);
        libc::close(fd);
    }
    let unreadable = dir.path().join("locked");
    std::fs::create_dir_all(&unreadable).unwrap();
    std::fs::write(unreadable.join("hidden.py"), "# TD-9999\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root = running_as_root();

    let out = common::concord(&["check", ".", "--format", "json", "--fail-on", "never"], Some(dir.path()));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &report["summary"];
    let skipped: Vec<(String, String)> = summary["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["directory"] == true)
        .map(|s| (s["path"].as_str().unwrap().to_string(), s["reason"].as_str().unwrap().to_string()))
        .collect();
    assert!(
        skipped.iter().any(|(p, r)| p.starts_with("deep/") && r.contains("longer than the system allows")),
        "{skipped:?}"
    );
    if root {
        eprintln!(
            "running as root: chmod 000 does not stop reads, so the unreadable-directory case is skipped"
        );
    } else {
        assert!(skipped.iter().any(|(p, r)| p == "locked" && r == "permission denied"), "{skipped:?}");
    }
    assert_eq!(summary["dirs_skipped"].as_u64().unwrap() as usize, skipped.len(), "{summary}");
    let out = common::concord(&["check", ".", "--fail-on", "never"], Some(dir.path()));
    let text = common::stdout(&out);
    assert!(text.contains(&format!("{} directories not scanned", skipped.len())), "{text}");
    assert!(text.contains("longer than the system allows"), "{text}");
    let refs = common::concord(&["refs", "."], Some(dir.path()));
    assert!(common::stderr(&refs).contains("longer than the system allows"), "{}", common::stderr(&refs));
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The deep tree cannot be removed by one path either.
    let _ = std::process::Command::new("rm").arg("-rf").arg(dir.path().join("deep")).status();
}

#[test]
fn a_lone_cr_breaks_lines_and_a_bom_is_not_a_column() {
    let dir = common::workspace(&[
        ("docs/blueprints/blueprint_index.json", br#"[{"id": "TD-0001", "title": "Feature"}]"#),
        ("docs/blueprints/technical/old-mac.md", b"# Spec\r\r## TD-0002 Sessions\rText.\r"),
        ("src/cr.py", b"x = 1\rx = 2  # TD-9999\r\nx = 3 # TD-9998\n"),
        ("src/bom.py", "\u{FEFF}# TD-9997\n".as_bytes()),
    ]);
    let all = findings(dir.path());
    let at = |path: &str, id: &str| -> (u64, u64) {
        let f = all
            .iter()
            .find(|f| f["path"] == path && f["message"].as_str().unwrap().starts_with(id))
            .unwrap_or_else(|| panic!("{id} in {path}: {all:?}"));
        (f["range"]["start"]["line"].as_u64().unwrap(), f["range"]["start"]["character"].as_u64().unwrap())
    };
    assert_eq!(at("src/cr.py", "TD-9999"), (1, 9), "a lone CR ends line 0");
    assert_eq!(at("src/cr.py", "TD-9998"), (2, 8), "CRLF is one break");
    assert_eq!(at("src/bom.py", "TD-9997"), (0, 2), "the BOM is not a column");
    // The heading after lone CRs defines its chunk, on the line an editor shows.
    assert_eq!(at("docs/blueprints/technical/old-mac.md", "TD-0002"), (2, 3));
}

#[test]
fn a_huge_title_is_cut_in_messages() {
    let title = "Payments ".repeat(200_000);
    let index = serde_json::json!([{"id": "TD-0001", "title": title, "priority": "must"}]).to_string();
    let dir = common::workspace(&[("docs/blueprints/blueprint_index.json", index.as_bytes())]);
    let out = common::concord(&["check", ".", "--format", "json", "--fail-on", "never"], Some(dir.path()));
    assert!(out.stdout.len() < 20_000, "the report is {} bytes", out.stdout.len());
    let all = findings(dir.path());
    let uncovered = finding(&all, "uncovered-chunk", "docs/blueprints/blueprint_index.json").unwrap();
    let message = uncovered["message"].as_str().unwrap();
    assert!(message.contains(&format!("\"{}…\"", &title[..200])), "{message}");
    let status = common::concord(&["crosswalk"], Some(dir.path()));
    assert!(status.status.success());
    let crosswalk = std::fs::read_to_string(dir.path().join("docs/blueprints/crosswalk.json")).unwrap();
    assert!(crosswalk.len() < 5_000, "{}", crosswalk.len());
}
