//! The findings. `analyze` is the one entry point for a whole workspace; `file_findings`
//! is the same logic for one file's text (the language server calls it on live buffers).
//! Both the CLI and the server render what these return, so they never disagree.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::coverage::{self, Coverage, CoverageStatus};
use crate::findings::{self, Candidate, Code, Edit, Finding, Fix, Severity};
use crate::model::Model;
use crate::scan::FileFacts;
use crate::text::{LineCol, Span};
use crate::workspace::Workspace;

/// IDs used per directory, for suggesting a tag to an untraced file.
#[derive(Debug, Clone, Default)]
pub struct Neighbours {
    by_dir: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Neighbours {
    pub fn new<'f>(model: &Model, files: impl Iterator<Item = &'f FileFacts>) -> Neighbours {
        let mut by_dir: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for facts in files {
            let dir = parent_dir(&facts.path).to_string();
            for r in facts.refs.iter().filter(|r| model.is_known(&r.id)) {
                *by_dir.entry(dir.clone()).or_default().entry(r.id.clone()).or_default() += 1;
            }
        }
        Neighbours { by_dir }
    }

    /// IDs used in the file's directory, then in its ancestors, most used first.
    fn near(&self, path: &str) -> Vec<(String, usize, String)> {
        let mut out: Vec<(String, usize, String)> = Vec::new();
        let mut dir = parent_dir(path);
        loop {
            if let Some(ids) = self.by_dir.get(dir) {
                let mut ranked: Vec<(&String, &usize)> = ids.iter().collect();
                ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                for (id, count) in ranked {
                    if !out.iter().any(|(known, _, _)| known == id) {
                        let place =
                            if dir.is_empty() { "the workspace root".to_string() } else { format!("{dir}/") };
                        out.push((id.clone(), *count, place));
                    }
                }
            }
            if dir.is_empty() || out.len() >= 5 {
                break;
            }
            dir = parent_dir(dir);
        }
        out
    }
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Everything `concord check` reports.
#[derive(Debug, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
    pub files_scanned: usize,
    pub files_skipped: usize,
    pub gate_failures: Vec<String>,
    /// The priorities the coverage gate checks.
    pub gate_priorities: Vec<crate::config::Priority>,
}

/// What is derived from a whole workspace once and then asked per file: coverage, the IDs
/// used per directory, and the workspace-level findings grouped by the file they are shown in.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub coverage: Coverage,
    pub neighbours: Neighbours,
    /// Severities applied.
    pub workspace_findings: BTreeMap<String, Vec<Finding>>,
}

impl Analysis {
    pub fn new(ws: &Workspace) -> Analysis {
        let coverage = coverage::compute(&ws.config, &ws.model, ws.files.values());
        let neighbours = Neighbours::new(&ws.model, ws.files.values());
        let mut found = workspace_findings(&ws.config, &ws.model, &coverage);
        found.extend(ws.io_findings.iter().cloned());
        found.extend(crate::scope::stale_lock_findings(&ws.config, &ws.model, crate::time::now_secs()));
        let mut workspace_findings: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
        for finding in apply_severities(&ws.config, found) {
            workspace_findings.entry(finding.path.clone()).or_default().push(finding);
        }
        Analysis { coverage, neighbours, workspace_findings }
    }

    /// Every finding shown in one file: its own (from `facts`, which may come from an unsaved
    /// buffer) and the workspace-level ones placed in it. Severities applied, sorted.
    pub fn findings_for(&self, config: &Config, model: &Model, facts: &FileFacts) -> Vec<Finding> {
        let mut out = apply_severities(config, file_findings(config, model, &self.neighbours, facts));
        out.extend(self.workspace_findings.get(&facts.path).into_iter().flatten().cloned());
        findings::sort(&mut out);
        out
    }
}

pub fn analyze(ws: &Workspace) -> Report {
    let analysis = Analysis::new(ws);
    let mut all: Vec<Finding> = analysis.workspace_findings.values().flatten().cloned().collect();
    for facts in ws.files.values() {
        all.extend(apply_severities(
            &ws.config,
            file_findings(&ws.config, &ws.model, &analysis.neighbours, facts),
        ));
    }
    findings::sort(&mut all);
    let gate_failures = analysis
        .coverage
        .gate_failures(&ws.config.gate)
        .into_iter()
        .map(|c| c.blueprint_id.clone())
        .collect();
    Report {
        findings: all,
        coverage: analysis.coverage,
        files_scanned: ws.files.len(),
        files_skipped: ws.skipped.len(),
        gate_failures,
        gate_priorities: ws.config.gate.clone(),
    }
}

/// Findings that belong to the workspace as a whole: ops-file problems and chunk coverage.
/// (Each still has a path: the file where it is shown.) Severities not yet applied.
pub fn workspace_findings(config: &Config, model: &Model, coverage: &Coverage) -> Vec<Finding> {
    let mut out = model.findings.clone();
    for chunk in &coverage.chunks {
        if chunk.status == CoverageStatus::Covered {
            continue;
        }
        let Some(def) = model.chunks.get(&chunk.blueprint_id) else {
            continue;
        };
        let Some(place) = def.definition() else {
            continue;
        };
        let gated = config.gate.contains(&chunk.priority);
        let gap = match chunk.status {
            CoverageStatus::MissingWbs => "no work item lists it: add it to the blueprint_ids of a work item in the WBS (or plan a new item)".to_string(),
            CoverageStatus::MissingCode => format!("no code traces to it: tag the implementing code with `{}` (planned in {})", chunk.blueprint_id, chunk.wbs_ids.join(", ")),
            CoverageStatus::MissingTests => format!("no test traces to it: tag a test that checks it with `{}`", chunk.blueprint_id),
            CoverageStatus::Covered => unreachable!(),
        };
        let gate = if gated {
            format!(
                " It is a {} chunk, so the coverage gate fails until this is fixed.",
                chunk.priority.as_str()
            )
        } else {
            String::new()
        };
        let mut finding = Finding::new(
            Code::UncoveredChunk,
            &place.path,
            place.span,
            format!(
                "{} \"{}\" is not covered ({}): {gap}.{gate}",
                chunk.blueprint_id,
                chunk.title,
                chunk.status.as_str()
            ),
        )
        .with_id(&chunk.blueprint_id);
        if gated {
            // The gate is the point of the priority: it always fails the check.
            finding.severity = Severity::Error;
        }
        out.push(finding);
    }
    out
}

/// Findings for one file's facts. Severities not yet applied.
pub fn file_findings(
    config: &Config,
    model: &Model,
    neighbours: &Neighbours,
    facts: &FileFacts,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if !config.is_ops_file(&facts.path) {
        // With no definitions of a kind at all (no index, no WBS), every ID of that kind would be
        // "unknown": that says nothing, so the check waits until the kind has definitions.
        let has_definitions = |id: &str| match config.ids.kind_of(id) {
            Some(crate::ids::IdKind::Work) => !model.work.is_empty(),
            _ => !model.chunks.is_empty(),
        };
        for reference in facts.refs.iter().filter(|r| !model.is_known(&r.id) && has_definitions(&r.id)) {
            out.push(unknown_id(config, model, facts, reference));
        }
    }
    for secret in &facts.secrets {
        let message = format!(
            "{} ({}) is written in this file. Remove it, rotate it now (treat it as leaked: it may already be in logs or history), and read it from an environment variable instead. If it is a harmless test value, add `concord:allow-secret` to the line or accept it in the baseline ({}).",
            secret.description, secret.redacted, config.secrets_baseline
        );
        out.push(Finding::new(Code::Secret, &facts.path, secret.span, message).with_id(secret.rule_id));
    }
    if facts.must_trace {
        let carries_known_id = facts.refs.iter().any(|r| model.is_known(&r.id));
        if !carries_known_id && !model.crosswalk.maps(&facts.path) && !model.scopes.maps(&facts.path) {
            out.push(untraced_file(model, neighbours, facts));
        }
    }
    out
}

fn unknown_id(
    config: &Config,
    model: &Model,
    facts: &FileFacts,
    reference: &crate::scan::Reference,
) -> Finding {
    let suggestions = model.did_you_mean(config, &reference.id);
    let id = &reference.id;
    let message = if suggestions.is_empty() {
        format!("{id} is not a known ID: no chunk or work item has it. Correct the ID, or define it (blueprint index, a `## {id} Title` heading, or the WBS).")
    } else {
        let options: Vec<String> =
            suggestions.iter().map(|s| format!("{s} ({})", model.title_of(s).unwrap_or(""))).collect();
        format!(
            "{id} is not a known ID. Did you mean {}? Replace it with the intended ID.",
            options.join(" or ")
        )
    };
    let mut finding = Finding::new(Code::UnknownId, &facts.path, reference.span, message).with_id(id);
    if !suggestions.is_empty() {
        finding = finding.with_fix(Fix {
            title: format!("Replace {id} with {}", suggestions[0]),
            edits: vec![Edit { span: reference.span, new_text: suggestions[0].clone() }],
            candidates: suggestions
                .iter()
                .enumerate()
                .map(|(rank, s)| Candidate {
                    id: s.clone(),
                    title: model.title_of(s).unwrap_or("").to_string(),
                    score: 1.0 / (rank as f64 + 1.0),
                    why: "closest known ID of the same family".into(),
                })
                .collect(),
        });
    }
    finding
}

fn untraced_file(model: &Model, neighbours: &Neighbours, facts: &FileFacts) -> Finding {
    let candidates: Vec<Candidate> = neighbours
        .near(&facts.path)
        .into_iter()
        .take(5)
        .enumerate()
        .map(|(rank, (id, count, place))| Candidate {
            title: model.title_of(&id).unwrap_or("").to_string(),
            score: 1.0 / (rank as f64 + 1.0),
            why: format!("used {count}× in {place}"),
            id,
        })
        .collect();
    let hint = match candidates.first() {
        Some(best) => format!(" Likely: {} ({}).", best.id, best.title),
        None => String::new(),
    };
    let message = format!(
        "{} carries no spec or work-item ID and no work item's scope_paths covers it, so nothing traces it to the spec. Add a comment naming what it implements (e.g. `implements TD-0103`), or add it to a work item's scope_paths.{hint}",
        facts.path
    );
    let mut finding = Finding::new(Code::UntracedFile, &facts.path, Span::line_start(0), message);
    if let Some(best) = candidates.first() {
        let tag = tag_comment(&facts.path, &format!("implements {}", best.id));
        // After a shebang line, the tag goes on the second line.
        let line = u32::from(facts.first_line.starts_with("#!"));
        finding = finding.with_fix(Fix {
            title: format!("Add `{}` at the top of the file", tag.trim_end()),
            edits: vec![Edit { span: Span::point(LineCol { line, utf8: 0, utf16: 0 }), new_text: tag }],
            candidates,
        });
    }
    finding
}

/// A one-line comment in the file's language, with a newline.
pub fn tag_comment(path: &str, body: &str) -> String {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "py" | "rb" | "sh" | "bash" | "yaml" | "yml" | "toml" | "r" | "pl" => format!("# {body}\n"),
        "sql" | "lua" | "hs" => format!("-- {body}\n"),
        "md" | "html" | "xml" | "vue" | "svelte" => format!("<!-- {body} -->\n"),
        _ => format!("// {body}\n"),
    }
}

/// Configured severities; findings of codes turned off are dropped.
pub fn apply_severities(config: &Config, findings: Vec<Finding>) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut f| {
            let configured = config.severity(f.code)?;
            let gated = f.code == Code::UncoveredChunk && f.severity == Severity::Error;
            if !gated {
                f.severity = configured;
            }
            Some(f)
        })
        .collect()
}
