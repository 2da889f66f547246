//! The malformed-input corpus: every loader, every kind of breakage. Each case must yield a
//! finding at the right place, never a panic, and the check must write nothing.

use crate::common;

use concord::analysis::analyze;
use concord::findings::Code;
use concord::workspace::Workspace;

const INDEX: &str = "docs/blueprints/blueprint_index.json";
const WBS: &str = "ops/wbs.json";
const QUEUE: &str = "ops/queue.jsonl";
const PULL_REQUESTS: &str = "ops/pull-requests.jsonl";
const GOOD_INDEX: &[u8] = br#"{"chunks": [{"id": "TD-0001", "title": "Login"}]}"#;
const GOOD_WBS: &[u8] = br#"{"items": [{"id": "WBS-001", "title": "Auth", "blueprint_ids": ["TD-0001"]}]}"#;

struct Case {
    name: &'static str,
    file: &'static str,
    bytes: &'static [u8],
    /// Expected: code, path, 0-based line and UTF-16 column, words in the message.
    code: Code,
    line: u32,
    column: u32,
    words: &'static str,
}

const CASES: &[Case] = &[
    Case { name: "index truncated", file: INDEX, bytes: b"{\"chunks\": [\n  {\"id\": \"TD-0001\"", code: Code::MalformedFile, line: 1, column: 18, words: "truncated" },
    Case { name: "index empty", file: INDEX, bytes: b"", code: Code::MalformedFile, line: 0, column: 0, words: "truncated" },
    Case { name: "index chunks not an array", file: INDEX, bytes: b"{\"chunks\": 5}", code: Code::MalformedFile, line: 0, column: 11, words: "`chunks` must be an array" },
    Case { name: "index entry without id", file: INDEX, bytes: b"[\n {\"title\": \"x\"}\n]", code: Code::MalformedFile, line: 1, column: 1, words: "no `id`" },
    Case { name: "index title of the wrong type", file: INDEX, bytes: b"[{\"id\": \"TD-0002\",\n \"title\": 5}]", code: Code::MalformedFile, line: 1, column: 10, words: "`title` must be a string" },
    Case { name: "index id of a work family", file: INDEX, bytes: b"[{\"id\": \"WBS-001\", \"title\": \"x\"}]", code: Code::MalformedFile, line: 0, column: 9, words: "does not match a chunk ID family" },
    Case { name: "index not UTF-8", file: INDEX, bytes: b"[{\"id\": \"TD-0001\", \"title\": \"caf\xe9\"}]", code: Code::MalformedFile, line: 0, column: 32, words: "not UTF-8" },
    Case { name: "index duplicate", file: INDEX, bytes: b"[{\"id\": \"TD-0001\", \"title\": \"a\"},\n {\"id\": \"TD-0001\", \"title\": \"b\"}]", code: Code::DuplicateId, line: 1, column: 9, words: "defined more than once" },
    Case { name: "wbs trailing comma", file: WBS, bytes: b"{\"items\": [\n  {\"id\": \"WBS-001\", \"title\": \"a\"},\n]}", code: Code::MalformedFile, line: 1, column: 33, words: "trailing comma" },
    Case { name: "wbs duplicate items key", file: WBS, bytes: b"{\"items\": [{\"id\": \"WBS-001\", \"title\": \"a\"}],\n \"items\": []}", code: Code::MalformedFile, line: 1, column: 1, words: "duplicate key `items`" },
    Case { name: "queue line with a signed unicode escape", file: QUEUE, bytes: b"{\"id\": \"WBS-001\", \"status\": \"todo\", \"by\": \"\\u+abc\"}\n", code: Code::MalformedFile, line: 0, column: 45, words: "four hex digits" },
    Case { name: "wbs scope escapes the workspace", file: WBS, bytes: b"[{\"id\": \"WBS-001\", \"title\": \"a\", \"scope_paths\": [\"../secrets/**\"]}]", code: Code::MalformedFile, line: 0, column: 50, words: "leaves the workspace" },
    Case { name: "wbs absolute scope", file: WBS, bytes: b"[{\"id\": \"WBS-001\", \"title\": \"a\", \"scope_paths\": [\"/etc/**\"]}]", code: Code::MalformedFile, line: 0, column: 50, words: "absolute" },
    Case { name: "wbs bad autopilot mode", file: WBS, bytes: b"[{\"id\": \"WBS-001\", \"title\": \"a\", \"autopilot_mode\": \"yolo\"}]", code: Code::MalformedFile, line: 0, column: 52, words: "full, review_only, disabled" },
    Case { name: "wbs blueprint_ids not a list", file: WBS, bytes: b"[{\"id\": \"WBS-001\", \"title\": \"a\", \"blueprint_ids\": 7}]", code: Code::MalformedFile, line: 0, column: 50, words: "array of strings" },
    Case { name: "wbs deep nesting", file: WBS, bytes: &[b'['; 5000], code: Code::MalformedFile, line: 0, column: 256, words: "nesting" },
    Case { name: "wbs names a missing chunk", file: WBS, bytes: b"[{\"id\": \"WBS-001\", \"title\": \"a\", \"blueprint_ids\": [\"TD-0009\"]}]", code: Code::UnknownReference, line: 0, column: 52, words: "no chunk" },
    Case { name: "queue torn last line", file: QUEUE, bytes: b"{\"id\": \"WBS-001\", \"status\": \"todo\"}\n{\"id\": \"WBS-001\", \"sta", code: Code::MalformedFile, line: 1, column: 22, words: "incomplete" },
    Case { name: "queue line not an object", file: QUEUE, bytes: b"[1, 2]\n", code: Code::MalformedFile, line: 0, column: 0, words: "must be a JSON object" },
    Case { name: "pull-request record with a number in words", file: PULL_REQUESTS, bytes: b"{\"wbs\": \"WBS-001\", \"number\": \"seven\"}\n", code: Code::MalformedFile, line: 0, column: 35, words: "not a pull-request record" },
    Case { name: "pull-request record torn", file: PULL_REQUESTS, bytes: b"{\"wbs\": \"WBS-001\", \"bra", code: Code::MalformedFile, line: 0, column: 22, words: "incomplete" },
    Case { name: "queue unknown status", file: QUEUE, bytes: b"{\"id\": \"WBS-001\", \"status\": \"finished\"}\n", code: Code::MalformedFile, line: 0, column: 29, words: "`status` must be one of" },
    Case { name: "queue without id", file: QUEUE, bytes: b"\n\n{\"status\": \"done\"}\n", code: Code::MalformedFile, line: 2, column: 0, words: "no `id`" },
    Case { name: "queue names a missing item", file: QUEUE, bytes: b"{\"id\": \"WBS-404\", \"status\": \"done\"}\n", code: Code::UnknownReference, line: 0, column: 8, words: "no work item" },
    Case { name: "queue not UTF-8", file: QUEUE, bytes: b"{\"id\": \"WBS-001\", \"status\": \"todo\"}\n\xff\xfe\n", code: Code::MalformedFile, line: 1, column: 0, words: "not UTF-8" },
    Case { name: "lock without scope", file: "ops/locks/AGENT-1.lock", bytes: b"{\"agent\": \"AGENT-1\", \"task_id\": \"WBS-001\", \"acquired_at\": \"2026-11-01T00:00:00Z\"}", code: Code::MalformedFile, line: 0, column: 0, words: "no `scope_paths`" },
    Case { name: "lock named after another agent", file: "ops/locks/AGENT-1.lock", bytes: b"{\"agent\": \"AGENT-2\", \"task_id\": \"WBS-001\", \"scope_paths\": [], \"acquired_at\": \"2026-11-01T00:00:00Z\"}", code: Code::MalformedFile, line: 0, column: 11, words: "differs from its file name" },
    Case { name: "lock binary", file: "ops/locks/AGENT-1.lock", bytes: b"\x00\x01\x02", code: Code::MalformedFile, line: 0, column: 0, words: "expected a JSON value" },
    Case { name: "access bad status", file: "ops/access/status.json", bytes: b"{\"checks\": {\"aws\": {\"status\": \"MAYBE\"}}}", code: Code::MalformedFile, line: 0, column: 31, words: "PASS or BLOCKED" },
    Case { name: "crosswalk wrong shape", file: "docs/blueprints/crosswalk.json", bytes: b"\"hello\"", code: Code::MalformedFile, line: 0, column: 1, words: "regenerate it" },
    Case { name: "markdown duplicate heading", file: "docs/blueprints/b.md", bytes: b"## TD-0005 A\n\n## TD-0005 B\n", code: Code::DuplicateId, line: 2, column: 3, words: "defined more than once" },
];

#[test]
fn every_breakage_is_a_positioned_finding() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut files: Vec<(&str, &[u8])> = vec![(INDEX, GOOD_INDEX), (WBS, GOOD_WBS)];
        files.retain(|(path, _)| *path != case.file);
        files.push((case.file, case.bytes));
        let dir = common::workspace(&files);
        let ws = Workspace::load(dir.path()).expect("loads");
        let report = analyze(&ws);
        let hit = report.findings.iter().find(|f| {
            f.code == case.code
                && f.path == case.file
                && f.span.start.line == case.line
                && f.span.start.utf16 == case.column
                && f.message.contains(case.words)
        });
        if hit.is_none() {
            let got: Vec<String> = report
                .findings
                .iter()
                .map(|f| {
                    format!(
                        "{} {}:{}:{} {}",
                        f.code, f.path, f.span.start.line, f.span.start.utf16, f.message
                    )
                })
                .collect();
            failures.push(format!(
                "{}: expected {} at {}:{}:{} with {:?}; got:\n    {}",
                case.name,
                case.code,
                case.file,
                case.line,
                case.column,
                case.words,
                got.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_binary_never_panics_and_writes_nothing_but_its_cache() {
    for case in CASES {
        let dir = common::workspace(&[(INDEX, GOOD_INDEX), (case.file, case.bytes)]);
        let before = common::snapshot(dir.path());
        for format in ["text", "json", "sarif"] {
            let out = common::concord(&["check", ".", "--format", format], Some(dir.path()));
            assert_eq!(out.status.code(), Some(1), "{}: {format}: {}", case.name, common::stderr(&out));
        }
        // Its facts cache is the one thing it may write (under .concord/cache, ignored by git).
        let cache = dir.path().join(".concord/cache");
        let after: Vec<_> =
            common::snapshot(dir.path()).into_iter().filter(|(p, _)| !p.starts_with(&cache)).collect();
        assert_eq!(before, after, "{}: the check wrote to the workspace", case.name);
    }
}

#[test]
fn the_queue_keeps_every_good_line_around_a_bad_one() {
    let queue = b"{\"id\": \"WBS-001\", \"status\": \"todo\"}\nnot json at all\n{\"id\": \"WBS-001\", \"status\": \"in_progress\"}\n{\"id\": \"WBS-001\", \"status\":";
    let dir = common::workspace(&[(INDEX, GOOD_INDEX), (WBS, GOOD_WBS), (QUEUE, queue)]);
    let ws = Workspace::load(dir.path()).unwrap();
    assert_eq!(ws.model.queue.len(), 2);
    assert_eq!(ws.model.status_of("WBS-001"), concord::model::Status::InProgress);
    let bad_lines: Vec<u32> = ws
        .model
        .findings
        .iter()
        .filter(|f| f.code == Code::MalformedFile)
        .map(|f| f.span.start.line)
        .collect();
    assert_eq!(bad_lines, vec![1, 3]);
}

#[test]
fn configuration_errors_exit_2_with_a_position() {
    let dir = common::workspace(&[("concord.toml", b"[paths]\nwbs = \"ops/wbs.json\"\nwsb = 1\n")]);
    let out = common::concord(&["check", "."], Some(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(err.contains("concord.toml:3:1") && err.contains("unknown field `wsb`"), "{err}");

    let dir =
        common::workspace(&[("concord.toml", b"[ids]\nfamilies = [{ name = \"X\", pattern = \"(\" }]\n")]);
    let out = common::concord(&["check", "."], Some(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("invalid pattern"), "{}", common::stderr(&out));
}

#[test]
fn huge_binary_and_odd_files_are_survived() {
    // A 24 MB single-line file with IDs at both ends, a binary file, an invalid UTF-8 file.
    let mut huge = b"// TD-0001 ".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 24 * 1024 * 1024));
    huge.extend_from_slice(b" TD-0001\n");
    let dir = common::workspace(&[
        (INDEX, GOOD_INDEX),
        ("src/huge.rs", &huge),
        ("src/blob.rs", b"\x7fELF\x00\x00\x01"),
        ("src/latin1.rs", b"// caf\xe9 TD-0001\n"),
    ]);
    let ws = Workspace::load(dir.path()).unwrap();
    assert_eq!(ws.files["src/huge.rs"].refs.len(), 2);
    let skipped: Vec<(&str, &str)> = ws.skipped.iter().map(|s| (s.path.as_str(), s.reason)).collect();
    assert_eq!(skipped, vec![("src/blob.rs", "binary"), ("src/latin1.rs", "not UTF-8")]);
}
