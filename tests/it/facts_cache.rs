//! The facts cache through `concord check`: a warm check reports exactly what a check without
//! the cache reports, after edits, touches, racy timestamps, a corrupt or foreign cache file,
//! a settings change, and with the cache in a folder of its own (a CI cache).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common;

/// The findings of `concord check --format json` (sorted as the report sorts them).
fn findings(root: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["check", "--format", "json", "--fail-on", "never"];
    args.extend_from_slice(extra);
    let out = common::concord(&args, Some(root));
    assert!(out.status.success(), "{}", common::stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"].as_array().cloned().unwrap()
}

/// The cached check and an uncached one agree.
fn agree(root: &Path, what: &str) -> Vec<Value> {
    let cached = findings(root, &[]);
    let fresh = findings(root, &["--no-cache"]);
    assert_eq!(cached, fresh, "{what}: the cached check differs from a check without the cache");
    cached
}

fn set_mtime(path: &Path, stamp: &str) {
    let status = Command::new("touch").args(["-m", "-d", stamp]).arg(path).status().unwrap();
    assert!(status.success());
}

fn codes_in(findings: &[Value], path: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["path"] == path)
        .map(|f| f["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_warm_check_reports_what_a_cold_one_does_through_every_kind_of_change() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    std::fs::write(root.join("concord.toml"), "[trace]\nlevel = \"item\"\n").unwrap();
    std::fs::write(
        root.join("services/payments/ledger.py"),
        "def post():\n    pass\n\ndef void():\n    pass\n",
    )
    .unwrap();
    let cold = agree(root, "first run");
    let cache = root.join(".concord/cache");
    assert!(cache.join("CACHEDIR.TAG").is_file() && cache.join(".gitignore").is_file());
    assert!(std::fs::read_dir(&cache).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("facts-")));
    assert_eq!(agree(root, "nothing changed"), cold);

    // An edit: new bytes, a new time.
    std::fs::write(root.join("services/payments/ledger.py"), "# TD-0999\ndef post():\n    pass\n").unwrap();
    let edited = agree(root, "an edit");
    assert!(codes_in(&edited, "services/payments/ledger.py").contains(&"unknown-id".to_string()));

    // A touch: the same bytes, a new time (read again, facts kept by content).
    set_mtime(&root.join("services/payments/ledger.py"), "2021-01-01 00:00:00");
    assert_eq!(agree(root, "a touch"), edited);

    // Racily clean: a file rewritten with the same size in the same tick as its last check is
    // read again, not trusted by its time.
    let racy = root.join("tools/cleanup.py");
    std::fs::write(&racy, "# TD-0103 ok\n").unwrap();
    set_mtime(&racy, "now");
    let before = agree(root, "racy: first");
    std::fs::write(&racy, "# TD-0888 no\n").unwrap();
    set_mtime(&racy, "now");
    let after = findings(root, &[]);
    assert_ne!(
        codes_in(&before, "tools/cleanup.py"),
        codes_in(&after, "tools/cleanup.py"),
        "the rewrite was seen"
    );
    assert_eq!(after, findings(root, &["--no-cache"]));

    // A deleted file and a new one.
    std::fs::remove_file(root.join("services/payments/ledger.py")).unwrap();
    std::fs::write(root.join("services/payments/new.py"), "def new():\n    pass\n").unwrap();
    let moved = agree(root, "delete and add");
    assert!(codes_in(&moved, "services/payments/ledger.py").is_empty());

    // A corrupt cache file, then garbage: ignored and replaced.
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("facts-") {
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
        }
    }
    assert_eq!(agree(root, "a torn cache"), moved);

    // A settings change that changes the facts: another key, never the old facts.
    std::fs::write(root.join("concord.toml"), "[trace]\nlevel = \"file\"\n").unwrap();
    let file_level = agree(root, "settings changed");
    assert!(!file_level.iter().any(|f| f["code"] == "untraced-item"), "file level: no item findings");
}

#[test]
fn the_cache_can_live_in_a_ci_cache_folder_or_be_turned_off() {
    let dir = common::fixture_copy("basic");
    let root = dir.path();
    let elsewhere = tempfile::tempdir().unwrap();
    let folder = elsewhere.path().join("concord");
    let folder_arg = folder.display().to_string();
    let first = findings(root, &["--cache-dir", &folder_arg]);
    assert!(folder.join("CACHEDIR.TAG").is_file());
    assert!(!root.join(".concord").exists(), "nothing written in the workspace");
    assert_eq!(findings(root, &["--cache-dir", &folder_arg]), first);

    std::fs::write(root.join("concord.toml"), "[cache]\nenabled = false\n").unwrap();
    findings(root, &[]);
    assert!(!root.join(".concord").exists(), "cache.enabled = false writes nothing");

    std::fs::write(root.join("concord.toml"), "[cache]\ndir = \"\"\n").unwrap();
    let out = common::concord(&["check"], Some(root));
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("cache.dir is empty"), "{}", common::stderr(&out));
}
