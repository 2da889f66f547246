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

/// How the facts cache served a check's files, from its debug log line:
/// `(by_stat, by_blob, by_content, scanned)`.
fn served(root: &Path, extra: &[&str], path_env: Option<&str>) -> (Vec<Value>, [usize; 4]) {
    let mut args = vec!["check", "--format", "json", "--fail-on", "never"];
    args.extend_from_slice(extra);
    let mut command = Command::new(env!("CARGO_BIN_EXE_concord"));
    command.args(&args).current_dir(root).env("CONCORD_LOG", "concord::cache=debug").env("NO_COLOR", "1");
    if let Some(path) = path_env {
        command.env("PATH", path);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let log = common::stderr(&out);
    let line = log.lines().find(|l| l.contains("facts cache files=")).unwrap_or_else(|| panic!("{log}"));
    let count = |name: &str| -> usize {
        let at =
            line.find(&format!(" {name}=")).unwrap_or_else(|| panic!("{name} in {line}")) + name.len() + 2;
        line[at..].split(' ').next().unwrap().parse().unwrap()
    };
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().cloned().unwrap();
    (findings, [count("by_stat"), count("by_blob"), count("by_content"), count("scanned")])
}

/// Every file under `root` (not `.git`) gets the time `stamp`.
fn set_all_mtimes(root: &Path, stamp: &str) {
    let status = Command::new("find")
        .arg(root)
        .args([
            "-path", "*/.git", "-prune", "-o", "-type", "f", "-exec", "touch", "-m", "-d", stamp, "{}", "+",
        ])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The findings with the clone's root in place of the original's (none carry it today, but
/// a report that did would still compare).
fn paths_of(findings: &[Value]) -> Vec<String> {
    let mut paths: Vec<String> =
        findings.iter().map(|f| f["path"].as_str().unwrap_or("").to_string()).collect();
    paths.dedup();
    paths
}

#[test]
fn in_a_fresh_checkout_clean_tracked_files_are_taken_by_blob_id_without_being_read() {
    let origin = common::fixture_copy("basic");
    let root = origin.path();
    std::fs::write(root.join("concord.toml"), "[trace]\nlevel = \"item\"\n[cache]\ngit_index = true\n")
        .unwrap();
    // A name with a space and non-ASCII letters: git prints it unquoted with -z.
    std::fs::write(root.join("tools/réglages et notes.py"), "# TD-0103\ndef regler():\n    pass\n").unwrap();
    // Old times, as an earlier checkout's: the recording check trusts git's word only for files
    // written well before it asked.
    set_all_mtimes(root, "2021-01-01 00:00:00");
    common::git(root, &["init", "-q"]);
    common::git(root, &["add", "-A"]);
    common::git(root, &["commit", "-q", "-m", "first"]);
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().join("ci").display().to_string();
    let cache_args = ["--cache-dir", cache_arg.as_str()];
    let (first, counts) = served(root, &cache_args, None);
    assert_eq!(counts, [0, 0, 0, 9], "the first check reads every file");
    assert_eq!(first, findings(root, &["--no-cache"]));

    // A CI run: a fresh clone (every file has a new time), the cache folder kept.
    let ci = tempfile::tempdir().unwrap();
    let clone = ci.path().join("checkout");
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(root)
        .arg(&clone)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .status()
        .unwrap();
    assert!(status.success());
    let (again, counts) = served(&clone, &cache_args, None);
    assert_eq!(counts, [0, 9, 0, 0], "no file is read: each is clean with its recorded blob id");
    assert_eq!(again, first, "the same findings");
    assert_eq!(again, findings(&clone, &["--no-cache"]));
    // Touched in place: git's stat data no longer matches, so git calls every file modified
    // (diff-files refreshes nothing) and each is read, its facts kept by content; the new times
    // are recorded, so the next check goes by stat, and the blob ids are kept for the next clone.
    set_all_mtimes(&clone, "2022-01-01 00:00:00");
    assert_eq!(served(&clone, &cache_args, None).1, [0, 0, 9, 0]);
    assert_eq!(served(&clone, &cache_args, None).1, [9, 0, 0, 0]);

    // A CI run of a later commit, with local changes on top: a committed edit (a new blob), an
    // unstaged edit (dirty), a new untracked file. Each is read and gives its new findings;
    // every other file still comes by blob id.
    let next = ci.path().join("next");
    let status = Command::new("git").args(["clone", "-q"]).arg(root).arg(&next).status().unwrap();
    assert!(status.success());
    std::fs::write(next.join("tools/cleanup.py"), "# TD-0777\nx = 1\n").unwrap();
    common::git(&next, &["commit", "-q", "-a", "-m", "new blob"]);
    std::fs::write(next.join("services/payments/refunds.py"), "# TD-0888\ndef refund():\n    pass\n")
        .unwrap();
    std::fs::write(next.join("tools/new.py"), "# TD-0999\n").unwrap();
    let (changed, counts) = served(&next, &cache_args, None);
    assert_eq!(counts, [0, 7, 0, 3], "three files read, the rest by blob id");
    assert_eq!(changed, findings(&next, &["--no-cache"]));
    for (path, id) in [
        ("tools/cleanup.py", "TD-0777"),
        ("services/payments/refunds.py", "TD-0888"),
        ("tools/new.py", "TD-0999"),
    ] {
        assert!(
            changed.iter().any(|f| f["path"] == path
                && f["code"] == "unknown-id"
                && f["message"].as_str().unwrap_or("").contains(id)),
            "{path}: {:?}",
            paths_of(&changed)
        );
    }

    // A checkout whose working bytes are not its blobs (CRLF line ends): same blob ids, other
    // sizes, so every file with a line end is read.
    let crlf = ci.path().join("crlf");
    let status = Command::new("git")
        .args(["-c", "core.autocrlf=true", "clone", "-q"])
        .arg(root)
        .arg(&crlf)
        .status()
        .unwrap();
    assert!(status.success());
    let (converted, counts) = served(&crlf, &cache_args, None);
    assert_eq!(counts[1], 0, "no blob key for converted files: {counts:?}");
    assert_eq!(converted, findings(&crlf, &["--no-cache"]));

    // No git on the PATH: the check falls back to stat and content, silently.
    let fresh = ci.path().join("nogit");
    let status = Command::new("git").args(["clone", "-q"]).arg(root).arg(&fresh).status().unwrap();
    assert!(status.success());
    let empty = tempfile::tempdir().unwrap();
    let (without, counts) = served(&fresh, &cache_args, Some(&empty.path().display().to_string()));
    assert_eq!(counts[1], 0, "{counts:?}");
    assert_eq!(without, first);
    let mut command = Command::new(env!("CARGO_BIN_EXE_concord"));
    command.args(["check", "--format", "json", "--fail-on", "never", "--cache-dir", &cache_arg]);
    let out = command.current_dir(&fresh).env("PATH", empty.path()).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", common::stderr(&out));
}

#[test]
fn a_workspace_below_the_repository_top_is_keyed_by_its_own_relative_paths() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path().join("app");
    common::copy_tree(&common::fixture("basic"), &root);
    std::fs::write(root.join("tools/with space.py"), "# TD-0103\n").unwrap();
    // A file of the repository outside the workspace: never part of the check.
    std::fs::write(repo.path().join("outside.py"), "# TD-0999\n").unwrap();
    set_all_mtimes(repo.path(), "2021-01-01 00:00:00");
    common::git(repo.path(), &["init", "-q"]);
    common::git(repo.path(), &["add", "-A"]);
    common::git(repo.path(), &["commit", "-q", "-m", "first"]);
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().display().to_string();
    let (first, counts) = served(&root, &["--cache-dir", &cache_arg], None);
    assert_eq!(counts, [0, 0, 0, 8]);
    let ci = tempfile::tempdir().unwrap();
    let status =
        Command::new("git").args(["clone", "-q"]).arg(repo.path()).arg(ci.path().join("c")).status().unwrap();
    assert!(status.success());
    // Without `git_index` (the default) git is not asked: every file of the clone is read.
    let (_, counts) = served(&ci.path().join("c/app"), &["--cache-dir", &cache_arg], None);
    assert_eq!(counts[1], 0, "{counts:?}");
    let config = ci.path().join("c/app/concord.toml");
    let mut text = std::fs::read_to_string(&config).unwrap_or_default();
    text.push_str("\n[cache]\ngit_index = true\n");
    std::fs::write(&config, text).unwrap();
    // The settings changed, so this run records afresh; a second fresh clone with the same
    // settings then takes every file by its blob id.
    set_all_mtimes(&ci.path().join("c"), "2021-01-01 00:00:00");
    // Git's own record of the new times, as after a checkout.
    common::git(&ci.path().join("c"), &["update-index", "-q", "--refresh"]);
    let (recorded, _) = served(&ci.path().join("c/app"), &["--cache-dir", &cache_arg], None);
    assert_eq!(recorded, first, "the same findings in the clone");
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(ci.path().join("c"))
        .arg(ci.path().join("d"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(ci.path().join("d/app/concord.toml"), std::fs::read(&config).unwrap()).unwrap();
    let (again, counts) = served(&ci.path().join("d/app"), &["--cache-dir", &cache_arg], None);
    assert_eq!(counts, [0, 8, 1, 0], "the tracked files by blob id; the untracked concord.toml by content");
    assert_eq!(again, recorded);
    assert!(!again.iter().any(|f| f["path"].as_str().unwrap_or("").contains("outside")));
}
