//! The incremental step of a long-lived reader (the language server, `concord mcp`): from a
//! loaded state and the workspace-relative paths that changed on disk, the next state. A changed
//! source file is rescanned alone, through the walk's rules (an ignored, hidden or excluded file
//! stays out, as in `concord check`); an ops file or the spec's markdown rebuilds the model from
//! the ops files without reading any other source file again; the configuration (with the
//! secrets baseline and the query overrides it names) changes how every file is read, so the
//! caller loads everything again ([`needs_reload`]). No protocol types and no async runtime here.

use std::collections::BTreeSet;

use crate::analysis::Loaded;
use crate::config::{is_under, Config, CONFIG_FILE};

/// The configuration, the secrets baseline and the query overrides decide how every file is
/// read: a change to one of them needs a full load, not a rescan of the path.
pub fn needs_reload(config: &Config, path: &str) -> bool {
    path == CONFIG_FILE
        || path == config.secrets_baseline
        || config.queries_dir.as_deref().is_some_and(|dir| is_under(path, dir))
}

/// An ops file or the spec's markdown (which defines chunks by its headings): a change to it
/// rebuilds the model.
pub fn changes_model(config: &Config, path: &str) -> bool {
    config.is_ops_file(path) || (path.ends_with(".md") && is_under(path, &config.paths.blueprints_dir))
}

/// The state after some files changed.
#[derive(Debug)]
pub struct Applied {
    pub loaded: Loaded,
    /// The paths whose findings can differ from the state before ([`affected_paths`]); `None`
    /// when the model was rebuilt, so that anything may have changed.
    pub affected: Option<BTreeSet<String>>,
}

/// Rescan `paths` (none of which [`needs_reload`]) into the state after `old`; `None` when
/// nothing the analysis reads changed (a save and its watcher event, an ignored file written).
/// A partial state (see [`Loaded::partial`]) is no base for this: only a full load completes it.
pub fn apply_file_changes(old: &Loaded, paths: &[String]) -> Option<Applied> {
    // A path given twice would take its old references away twice from the folder counts.
    let paths: Vec<String> = paths.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let config = &old.ws.config;
    let model_changed = paths.iter().any(|path| changes_model(config, path));
    let rescanned = crate::workspace::rescan(&old.ws.root, config, &paths);
    let unchanged = !model_changed
        && rescanned.iter().all(|(path, outcome)| {
            let skipped = old.ws.skipped.iter().find(|s| !s.dir && s.path == *path);
            match outcome {
                Ok(facts) => old.ws.facts_of(path) == Some(facts) && skipped.is_none(),
                Err(skip) => {
                    !old.ws.files.contains_key(path)
                        && skipped.map(|s| s.reason) == skip.as_ref().map(|s| s.reason)
                }
            }
        });
    if unchanged {
        return None;
    }
    let mut ws = old.ws.clone();
    for (path, outcome) in rescanned {
        ws.files.remove(&path);
        ws.skipped.retain(|s| s.dir || s.path != path);
        match outcome {
            Ok(facts) => {
                ws.files.insert(path, std::sync::Arc::new(facts));
            }
            Err(Some(skipped)) => ws.skipped.push(skipped),
            Err(None) => {}
        }
    }
    // A full load lists what it passed over by path: the same order here.
    ws.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    if model_changed {
        ws.reload_model();
        return Some(Applied { loaded: Loaded::new(ws), affected: None });
    }
    let next = old.after_files_changed(ws, &paths);
    let affected = affected_paths(old, &next, &paths);
    Some(Applied { loaded: next, affected: Some(affected) })
}

/// The paths whose findings can differ between two states that differ by the `changed` files:
/// those files, the others in their folders (suggestions count the IDs a folder uses), and the
/// files where a workspace-level finding appeared, went or changed.
pub fn affected_paths(before: &Loaded, after: &Loaded, changed: &[String]) -> BTreeSet<String> {
    fn dir(path: &str) -> &str {
        path.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
    let dirs: BTreeSet<&str> = changed.iter().map(|p| dir(p)).collect();
    let mut affected: BTreeSet<String> = changed.iter().cloned().collect();
    for folder in &dirs {
        affected
            .extend(crate::workspace::files_in_dir(&after.ws.files, folder).map(|facts| facts.path.clone()));
    }
    let (old, new) = (&before.analysis.workspace_findings, &after.analysis.workspace_findings);
    affected.extend(old.keys().chain(new.keys()).filter(|p| old.get(*p) != new.get(*p)).cloned());
    affected
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Finding;
    use crate::workspace::Workspace;
    use std::path::Path;

    const WBS: &str = r#"[{"id": "WBS-001", "title": "Payments", "blueprint_ids": ["TD-0001"], "scope_paths": ["src/pay/**"]}]"#;
    const SPEC: &str = "## TD-0001 Payments\n\nCharge cards.\n\n## TD-0002 Refunds\n\nGive money back.\n";

    /// Every finding of a state: each file's own and the workspace-level ones.
    fn findings(loaded: &Loaded) -> Vec<Finding> {
        let mut all: Vec<Finding> =
            loaded.ws.files.keys().flat_map(|path| loaded.own_findings(path)).collect();
        all.extend(loaded.analysis.workspace_findings.values().flatten().cloned());
        crate::findings::sort(&mut all);
        all
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    struct Case {
        name: &'static str,
        /// Files written (text) or deleted (`None`) after the first load.
        edits: &'static [(&'static str, Option<&'static str>)],
        /// The paths handed to the step (what a watcher or a folder listing reports).
        paths: &'static [&'static str],
        /// Expected: `None` = nothing changed; `Some(None)` = the model was rebuilt;
        /// `Some(Some(paths))` = these paths among the affected ones.
        expect: Option<Option<&'static [&'static str]>>,
    }

    /// Each case: a workspace loaded, files edited, the step applied; its findings and files
    /// must be those of a fresh load of the edited workspace.
    #[test]
    fn the_step_gives_what_a_fresh_load_gives() {
        let cases = [
            Case {
                name: "an edited source file",
                edits: &[("src/pay/charge.py", Some("# implements TD-0002\ndef charge(): pass\n"))],
                paths: &["src/pay/charge.py"],
                expect: Some(Some(&["src/pay/charge.py", "src/pay/refund.py", "docs/blueprints/spec.md"])),
            },
            Case {
                name: "a saved file whose text is the same",
                edits: &[("src/pay/charge.py", Some("# implements TD-0001\ndef charge(): pass\n"))],
                paths: &["src/pay/charge.py"],
                expect: None,
            },
            Case {
                name: "a new file and a deleted one",
                edits: &[("src/other/new.py", Some("# TD-9999\n")), ("src/pay/refund.py", None)],
                paths: &["src/other/new.py", "src/pay/refund.py", "src/pay/refund.py"],
                expect: Some(Some(&["src/other/new.py", "src/pay/refund.py", "src/other/old.py"])),
            },
            Case {
                name: "an ignored file",
                edits: &[("build/out.py", Some("# TD-9999\n"))],
                paths: &["build/out.py"],
                expect: None,
            },
            Case {
                name: "the WBS",
                edits: &[(
                    "ops/wbs.json",
                    Some(r#"[{"id": "WBS-001", "title": "Pay", "blueprint_ids": ["TD-0001", "TD-0002"]}]"#),
                )],
                paths: &["ops/wbs.json"],
                expect: Some(None),
            },
            Case {
                name: "the spec's markdown",
                edits: &[("docs/blueprints/spec.md", Some("## TD-0001 Payments\n\nCharge.\n"))],
                paths: &["docs/blueprints/spec.md"],
                expect: Some(None),
            },
        ];
        for case in cases {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            write(root, ".gitignore", "build/\n");
            write(root, "ops/wbs.json", WBS);
            write(root, "docs/blueprints/spec.md", SPEC);
            write(root, "src/pay/charge.py", "# implements TD-0001\ndef charge(): pass\n");
            write(root, "src/pay/refund.py", "# implements TD-0002\n");
            write(root, "src/other/old.py", "x = 1\n");
            let old = Loaded::new(Workspace::load(root).unwrap());
            // The own findings computed before the step, so that it carries them over file by file.
            let _ = old.summaries();
            for (rel, text) in case.edits {
                match text {
                    Some(text) => write(root, rel, text),
                    None => std::fs::remove_file(root.join(rel)).unwrap(),
                }
            }
            let paths: Vec<String> = case.paths.iter().map(|p| p.to_string()).collect();
            let applied = apply_file_changes(&old, &paths);
            let fresh = Loaded::new(Workspace::load(root).unwrap());
            match (&applied, case.expect) {
                (None, None) => assert_eq!(findings(&old), findings(&fresh), "{}", case.name),
                (Some(applied), Some(expect)) => {
                    assert_ne!(
                        findings(&old),
                        findings(&fresh),
                        "{}: the edit must change a finding",
                        case.name
                    );
                    assert_eq!(findings(&applied.loaded), findings(&fresh), "{}", case.name);
                    // What the server keeps of them, carried over file by file.
                    assert_eq!(applied.loaded.summaries(), fresh.summaries(), "{}", case.name);
                    let files: Vec<&String> = applied.loaded.ws.files.keys().collect();
                    assert_eq!(files, fresh.ws.files.keys().collect::<Vec<_>>(), "{}", case.name);
                    assert_eq!(applied.loaded.ws.model.work, fresh.ws.model.work, "{}", case.name);
                    assert_eq!(applied.loaded.ws.model.chunks, fresh.ws.model.chunks, "{}", case.name);
                    match (&applied.affected, expect) {
                        (None, None) => {}
                        (Some(affected), Some(expected)) => {
                            for path in expected {
                                assert!(affected.contains(*path), "{}: {path} in {affected:?}", case.name);
                            }
                        }
                        (got, _) => panic!("{}: affected {got:?}, expected {expect:?}", case.name),
                    }
                }
                (got, expect) => panic!("{}: applied {:?}, expected {expect:?}", case.name, got.is_some()),
            }
        }
    }

    #[test]
    fn the_configuration_and_what_it_names_need_a_full_load() {
        let config = Config::parse_bytes(b"[trace]\nqueries_dir = \"queries\"\n").unwrap();
        let table = [
            (CONFIG_FILE, true),
            (config.secrets_baseline.as_str(), true),
            ("queries/python/items.scm", true),
            ("queries", true),
            ("ops/wbs.json", false),
            ("src/app.py", false),
            ("querieS/x.scm", false),
        ];
        for (path, expected) in table {
            assert_eq!(needs_reload(&config, path), expected, "{path}");
        }
        let defaults = Config::default();
        for (path, expected) in [
            ("ops/wbs.json", true),
            ("ops/locks/A.lock", true),
            ("docs/blueprints/x/y.md", true),
            ("docs/blueprints/y.txt", false),
            ("docs/other.md", false),
            ("src/app.py", false),
        ] {
            assert_eq!(changes_model(&defaults, path), expected, "{path}");
        }
    }
}
