//! The findings cache through `concord check`: a report replayed from it is the report a check
//! without any cache writes, byte for byte, in text and JSON, after an edit, an edit of another
//! file of the same folder (its ID counts weigh the suggestions), a spec change, a settings
//! change, and with a torn or scrambled cache file; and unchanged files are replayed, not
//! computed.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use crate::common;

/// The whole report on stdout, and the cache's debug line `(replayed, computed, uncached)`
/// when the cache was used.
fn run(root: &Path, args: &[&str]) -> (String, Option<[usize; 3]>) {
    let out = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["check", "--fail-on", "never"])
        .args(args)
        .current_dir(root)
        .env("CONCORD_LOG", "concord::findings_cache=debug")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let log = common::stderr(&out);
    let served = log.lines().find(|l| l.contains("findings cache replayed=")).map(|line| {
        let count = |name: &str| -> usize {
            let at = line.find(&format!(" {name}=")).unwrap_or_else(|| panic!("{name} in {line}"))
                + name.len()
                + 2;
            line[at..].split(' ').next().unwrap().trim().parse().unwrap()
        };
        [count("replayed"), count("computed"), count("uncached")]
    });
    (String::from_utf8(out.stdout).unwrap(), served)
}

/// The cached check's report, after checking it is the uncached one's, byte for byte, and so
/// is the Markdown summary (`--summary`, counted from the parts and from the first findings).
fn agree(root: &Path, args: &[&str], what: &str) -> (String, [usize; 3]) {
    let summaries = tempfile::tempdir().unwrap();
    let summary = |name: &str| summaries.path().join(name).display().to_string();
    let (cached, served) = run(root, &[args, &["--summary", &summary("cached.md")]].concat());
    let (fresh, none) = run(root, &[args, &["--no-cache", "--summary", &summary("fresh.md")]].concat());
    assert_eq!(none, None, "--no-cache uses no findings cache");
    assert!(cached == fresh, "{what} ({args:?}): the replayed report differs:\n{cached}\n---\n{fresh}");
    let read = |name: &str| std::fs::read_to_string(summaries.path().join(name)).unwrap();
    assert_eq!(read("cached.md"), read("fresh.md"), "{what} ({args:?}): the summaries differ");
    (cached, served.unwrap_or_else(|| panic!("{what}: the findings cache was not used")))
}

/// The findings at `path` in a JSON report.
fn findings_at(report: &str, path: &str) -> Vec<serde_json::Value> {
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    report["findings"].as_array().unwrap().iter().filter(|f| f["path"] == path).cloned().collect()
}

#[test]
fn a_replayed_report_is_the_uncached_report_byte_for_byte_through_every_kind_of_change() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    std::fs::write(root.join("concord.toml"), "[trace]\nlevel = \"item\"\n").unwrap();
    std::fs::create_dir_all(root.join("lib")).unwrap();
    std::fs::write(root.join("lib/tagged.py"), "# implements TD-0104\ndef refund_all():\n    pass\n")
        .unwrap();
    std::fs::write(root.join("lib/plain.py"), "def settle():\n    pass\n\ndef cancel():\n    pass\n")
        .unwrap();
    // More warnings than a summary lists (100 a kind): the later parts are counted, not read.
    let many: String = (0..150).map(|n| format!("def step_{n}():\n    pass\n\n")).collect();
    std::fs::write(root.join("lib/many.py"), many).unwrap();
    std::fs::write(root.join("lib/more.py"), "def last():\n    pass\n").unwrap();
    let formats: [&[&str]; 3] =
        [&["--format", "json"], &["--format", "text"], &["--format", "json", "--min-severity", "warning"]];
    for args in formats {
        let (_, [_, computed, _]) = agree(root, args, "first run");
        assert!(computed > 0, "{args:?}: the first run computes every part");
    }
    // The default format is text from warnings up: the same cache file.
    let (_, [replayed, computed, _]) = agree(root, &[], "the default format");
    assert!(replayed > 0 && computed == 0, "replayed {replayed}, computed {computed}");
    let cache = root.join(".concord/cache");
    for name in ["findings-json-hint.bin", "findings-text-warning.bin", "findings-json-warning.bin"] {
        assert!(cache.join(name).is_file(), "{name}");
    }

    // Nothing changed: every cacheable part replayed, and the cache file left as it is.
    let file = cache.join("findings-json-hint.bin");
    let before = std::fs::metadata(&file).unwrap().ino();
    let (unchanged, [replayed, computed, _]) = agree(root, &["--format", "json"], "nothing changed");
    assert!(replayed > 0 && computed == 0, "replayed {replayed}, computed {computed}");
    assert_eq!(std::fs::metadata(&file).unwrap().ino(), before, "not written again");

    // An edit: only that file's part is computed.
    std::fs::write(
        root.join("lib/plain.py"),
        "# TD-0999\ndef settle():\n    pass\n\ndef cancel():\n    pass\n",
    )
    .unwrap();
    let (edited, [_, computed, _]) = agree(root, &["--format", "json"], "an edit");
    assert_eq!(computed, 1, "the edited file alone");
    assert_ne!(findings_at(&edited, "lib/plain.py"), findings_at(&unchanged, "lib/plain.py"));

    // Another file of the folder changes its tag: the folder's counts weigh the untouched
    // file's suggestions ("used 1× in this directory"), so its part is computed again.
    let (text_before, _) = agree(root, &["--format", "text"], "text before");
    let (json_before, _) = agree(root, &["--format", "json"], "json before");
    std::fs::write(root.join("lib/tagged.py"), "# implements NT-0007\ndef refund_all():\n    pass\n")
        .unwrap();
    let (json_after, [_, computed, _]) = agree(root, &["--format", "json"], "a neighbour's edit");
    assert_eq!(computed, 4, "the edited file and the three others of its folder");
    assert!(json_before.contains("TD-0104") && json_after.contains("NT-0007"));
    assert_ne!(findings_at(&json_after, "lib/plain.py"), findings_at(&json_before, "lib/plain.py"));
    let (text_after, _) = agree(root, &["--format", "text"], "a neighbour's edit, text");
    assert_ne!(text_after, text_before);

    // The agents' loop moves on (a status, a lock): a file's own findings read neither, so every
    // part is replayed; the lock's findings (at its file) are made again.
    let queue = root.join("ops/queue.jsonl");
    let mut statuses = std::fs::read_to_string(&queue).unwrap();
    statuses.push_str("{\"id\":\"WBS-006\",\"status\":\"in_progress\"}\n");
    std::fs::write(&queue, statuses).unwrap();
    std::fs::write(
        root.join("ops/locks/AGENT-2.lock"),
        "{\"agent\": \"AGENT-2\", \"task_id\": \"WBS-006\", \"scope_paths\": [\"lib/**\"], \"acquired_at\": \"2026-11-20T10:00:00Z\"}\n",
    )
    .unwrap();
    let (moved_on, [_, computed, _]) = agree(root, &["--format", "json"], "a status and a lock");
    assert_eq!(computed, 0, "no part computed");
    assert!(moved_on.contains("AGENT-2"), "the new lock is reported on");

    // The spec changes (a chunk's title): every part is stale.
    let index = root.join("docs/blueprints/blueprint_index.json");
    let text = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, text.replace("\"Guest checkout\"", "\"Guest checkout without an account\""))
        .unwrap();
    let (retitled, [replayed, _, _]) = agree(root, &["--format", "json"], "a spec change");
    assert_eq!(replayed, 0, "a new model: nothing replayed");
    assert!(retitled.contains("Guest checkout without an account"));

    // A settings change (a severity): another run key.
    std::fs::write(
        root.join("concord.toml"),
        "[trace]\nlevel = \"item\"\n\n[severity]\nuntraced-item = \"error\"\n",
    )
    .unwrap();
    let (severe, [replayed, _, _]) = agree(root, &["--format", "json"], "a settings change");
    assert_eq!(replayed, 0);
    assert!(severe.contains("\"severity\": \"error\""));

    // A torn cache file, then a scrambled one: ignored, or the entries that do not decode are.
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    agree(root, &["--format", "json"], "a torn cache");
    let mut scrambled = std::fs::read(&file).unwrap();
    for at in (60..scrambled.len()).step_by(97) {
        scrambled[at] ^= 0x5a;
    }
    std::fs::write(&file, &scrambled).unwrap();
    agree(root, &["--format", "json"], "a scrambled cache");
    let (_, [replayed, computed, _]) = agree(root, &["--format", "json"], "after the scrambled cache");
    assert!(replayed > 0 && computed == 0, "rewritten whole: replayed {replayed}, computed {computed}");
}
