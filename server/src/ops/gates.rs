//! The gates a work item names itself, evaluated at review: its `smoke_checks` (commands, like
//! its test commands) and its `quality_gates` (see `model::quality_gates` for the vocabulary).
//! Everything is read in `dir`, the directory the run worked in, never the workspace root as
//! such: a run may work in a checkout of its own.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::commands::{run_test, TestResult};
use crate::config::Config;
use crate::formats::GateResult as Gate;
use crate::model::quality_gates::QualityGate;
use crate::model::WorkItem;
use crate::scope::Change;
use crate::workspace::Workspace;

/// How many paths a detail names before it says "… N more".
const SHOWN: usize = 8;

/// What a gate's commands are called in its details.
fn plural(name: &str) -> &'static str {
    match name {
        "tests" => "test commands",
        "smoke" => "smoke checks",
        _ => "commands",
    }
}

/// Run `commands` in `dir`, in order, as one gate named `name`: passed when every one exits 0
/// (a list with none passes). Stops starting commands once `cancel` is set.
pub fn run_commands(
    name: &str,
    commands: &[String],
    dir: &Path,
    timeout: Duration,
    cancel: &Arc<AtomicBool>,
) -> (Gate, Vec<TestResult>) {
    let mut results = Vec::new();
    for command in commands {
        if cancel.load(Ordering::SeqCst) {
            break;
        }
        results.push(run_test(command, dir, timeout, cancel));
    }
    let failed: Vec<String> =
        results.iter().filter(|t| !t.passed).map(|t| format!("`{}` ({})", t.command, t.summary)).collect();
    let what = plural(name);
    let detail = if commands.is_empty() {
        format!("the work item lists no {what}")
    } else if !failed.is_empty() {
        format!("failed: {}", failed.join(", "))
    } else if results.len() < commands.len() {
        format!("interrupted after {} of {} {what}", results.len(), commands.len())
    } else {
        format!("{} {what} passed", results.len())
    };
    let passed = failed.is_empty() && results.len() == commands.len();
    (Gate { name: name.to_string(), passed, detail }, results)
}

/// One gate per entry of the item's `quality_gates`, named `quality <text>`. `base` is the
/// commit the run started from and `changes` the files it changed, as the scope gate counts
/// them; without them (not a git repository, no base in the lock) every gate but `command:`
/// fails, saying so.
pub fn quality_gates(
    ws: &Workspace,
    item: &WorkItem,
    dir: &Path,
    base: Option<&str>,
    changes: Option<&[Change]>,
    timeout: Duration,
    cancel: &Arc<AtomicBool>,
) -> (Vec<Gate>, Vec<TestResult>) {
    let mut gates = Vec::new();
    let mut results = Vec::new();
    for entry in &item.quality_gates {
        let name = format!("quality {}", entry.text.trim());
        let gate = match &entry.gate {
            Err(message) => Err(format!(
                "quality gate `{}` is not understood: {message} Fix it in {} ({}).",
                entry.text.trim(),
                ws.config.paths.wbs,
                item.id
            )),
            Ok(QualityGate::Command(command)) => {
                if cancel.load(Ordering::SeqCst) {
                    break;
                }
                let result = run_test(command, dir, timeout, cancel);
                let outcome = if result.passed {
                    Ok(format!("`{command}` passed ({})", result.summary))
                } else {
                    Err(format!("`{command}` failed ({}); see its output under Test output", result.summary))
                };
                results.push(result);
                outcome
            }
            Ok(gate) => match (base, changes) {
                (Some(base), Some(changes)) => measure(&ws.config, gate, dir, base, changes),
                _ => Err(
                    "not checked: there is no change list for this run (not a git repository, or its lock records no base commit), and this gate measures the run's changes"
                        .to_string(),
                ),
            },
        };
        gates.push(match gate {
            Ok(detail) => Gate { name, passed: true, detail },
            Err(detail) => Gate { name, passed: false, detail },
        });
    }
    (gates, results)
}

/// A gate that measures the change list: `Ok(detail)` when it passes, `Err(detail)` when not.
fn measure(
    config: &Config,
    gate: &QualityGate,
    dir: &Path,
    base: &str,
    changes: &[Change],
) -> Result<String, String> {
    match gate {
        QualityGate::MaxFiles(limit) => {
            let count = changes.len() as u64;
            if count <= *limit {
                Ok(format!("{count} changed files, limit {limit}"))
            } else {
                let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
                Err(format!(
                    "{count} changed files, limit {limit}: {}. Split the work into follow-up items or revert the changes this item does not need.",
                    shown(&paths)
                ))
            }
        }
        QualityGate::MaxLines(limit) => {
            let count: u64 = changes.iter().map(|c| c.added + c.removed).sum();
            if count <= *limit {
                Ok(format!("{count} changed lines (added + removed), limit {limit}"))
            } else {
                let mut largest: Vec<&Change> = changes.iter().collect();
                largest.sort_by_key(|c| std::cmp::Reverse(c.added + c.removed));
                let sizes: Vec<String> =
                    largest.iter().map(|c| format!("{} (+{} -{})", c.path, c.added, c.removed)).collect();
                let sizes: Vec<&str> = sizes.iter().map(String::as_str).collect();
                Err(format!(
                    "{count} changed lines (added + removed), limit {limit}; largest: {}. Make the change smaller or split it into follow-up items.",
                    shown(&sizes)
                ))
            }
        }
        QualityGate::TestsChanged => {
            let of = |class: FileClass| -> Vec<&str> {
                changes
                    .iter()
                    .map(|c| c.path.as_str())
                    .filter(|p| classify(config, p) == class)
                    // A deleted test is not a test that was changed or added.
                    .filter(|p| class != FileClass::Test || dir.join(p).is_file())
                    .collect()
            };
            let (code, tests) = (of(FileClass::Code), of(FileClass::Test));
            if code.is_empty() {
                Ok("the run changed no code (only tests, documents or Concord's own files)".into())
            } else if !tests.is_empty() {
                Ok(format!("code changed ({}) and tests too ({})", shown(&code), shown(&tests)))
            } else {
                Err(format!(
                    "the run changed code ({}) but no test file (a file the `[files] tests` globs of concord.toml match). Add or update a test that covers the change.",
                    shown(&code)
                ))
            }
        }
        QualityGate::NoTodoInNewFiles => {
            let added = super::git::added_since(dir, base)?;
            // Only files the run is held to: Concord's own files (the run report) are not its code.
            let added: Vec<&Change> = changes.iter().filter(|c| added.contains(&c.path)).collect();
            let mut found = Vec::new();
            let mut unread = Vec::new();
            for change in &added {
                let bytes = match crate::fsutil::read_regular(&dir.join(&change.path), config.max_file_size) {
                    Ok(bytes) => bytes,
                    Err(crate::fsutil::ReadError::TooLarge(limit)) => {
                        unread.push(format!("{} is larger than {limit} bytes and was not read", change.path));
                        continue;
                    }
                    // Gone again, or not a regular file: nothing was added to read.
                    Err(_) => continue,
                };
                if crate::workspace::unscannable(&bytes).is_some() {
                    continue;
                }
                for (line, marker) in todo_markers(&String::from_utf8_lossy(&bytes)) {
                    found.push(format!("{}:{line} {marker}", change.path));
                }
            }
            if found.is_empty() && unread.is_empty() {
                return Ok(format!("no TODO, FIXME or XXX in the {} files the run added", added.len()));
            }
            let mut problems = Vec::new();
            if !found.is_empty() {
                let found: Vec<&str> = found.iter().map(String::as_str).collect();
                problems.push(format!(
                    "{} TODO/FIXME/XXX markers in files the run added: {}. Finish that work or move it to a follow-up, and remove the markers.",
                    found.len(),
                    shown(&found)
                ));
            }
            problems.extend(unread);
            Err(problems.join("; "))
        }
        // Run by the caller; nothing to measure.
        QualityGate::Command(command) => {
            Err(format!("`{command}` is a command, not a measure of the changes"))
        }
    }
}

/// `a, b, c, … 4 more`.
fn shown(items: &[&str]) -> String {
    let mut out = items.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
    if items.len() > SHOWN {
        out.push_str(&format!(", … {} more", items.len() - SHOWN));
    }
    out
}

/// What a changed file is to `tests-changed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileClass {
    /// Concord's own files: ops files, run reports, reviews, locks, the progress log.
    Concord,
    /// Matched by the `tests` globs.
    Test,
    /// Prose: markdown, reStructuredText, AsciiDoc, plain text.
    Doc,
    /// Everything else.
    Code,
}

pub fn classify(config: &Config, path: &str) -> FileClass {
    if crate::scope::always_allowed(config, path)
        || config.is_ops_file(path)
        || crate::scope::owners_file(config, path)
    {
        FileClass::Concord
    } else if config.is_test(path) {
        FileClass::Test
    } else if crate::languages::of_path(path).is_some_and(|l| l.role == crate::languages::Role::Doc) {
        FileClass::Doc
    } else {
        FileClass::Code
    }
}

/// The `TODO`, `FIXME` and `XXX` markers of a text: upper case, as whole words (so `TODO:`,
/// `TODO(name)` and `// TODO` count, `todos` and `XXXL` do not), with their 1-based line.
pub fn todo_markers(text: &str) -> Vec<(usize, &'static str)> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for marker in ["TODO", "FIXME", "XXX"] {
            for (at, _) in line.match_indices(marker) {
                let before = line[..at].chars().next_back();
                let after = line[at + marker.len()..].chars().next();
                if !word(before) && !word(after) {
                    out.push((n + 1, marker));
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_markers_are_whole_upper_case_words() {
        let cases: &[(&str, &[(usize, &str)])] = &[
            ("# TODO: wire the webhook\n", &[(1, "TODO")]),
            ("x = 1  // TODO(ana) later\n", &[(1, "TODO")]),
            ("ok\n/* FIXME */\nXXX still broken\n", &[(2, "FIXME"), (3, "XXX")]),
            ("todo = []\n", &[]),
            ("TODOS are listed in the backlog\n", &[]),
            ("size = 'XXXL'\n", &[]),
            ("MY_TODO = 1\n", &[]),
            ("fixme later\n", &[]),
            ("TODO FIXME\n", &[(1, "TODO"), (1, "FIXME")]),
            ("a TODOs and a TODO.\n", &[(1, "TODO")]),
        ];
        for (text, expected) in cases {
            assert_eq!(todo_markers(text), expected.to_vec(), "{text:?}");
        }
    }

    #[test]
    fn changed_files_are_classified_for_tests_changed() {
        let config = Config::parse(None).unwrap();
        let cases: &[(&str, FileClass)] = &[
            ("src/pay/charge.py", FileClass::Code),
            ("web/src/app.ts", FileClass::Code),
            ("scripts/deploy.sh", FileClass::Code),
            ("tests/python/test_pay.py", FileClass::Test),
            ("services/pay/tests/test_charge.py", FileClass::Test),
            ("README.md", FileClass::Doc),
            ("docs/guide.rst", FileClass::Doc),
            ("ops/wbs.json", FileClass::Concord),
            ("ops/queue.jsonl", FileClass::Concord),
            ("ops/locks/AGENT-1.lock", FileClass::Concord),
            ("docs/runs/WBS-001-1.md", FileClass::Concord),
            ("docs/reviews/WBS-001-1.json", FileClass::Concord),
            ("docs/PROGRESS.md", FileClass::Concord),
        ];
        for (path, expected) in cases {
            assert_eq!(classify(&config, path), *expected, "{path}");
        }
    }
}
