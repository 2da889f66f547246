//! `ops/wbs.json`: the work items.

use super::quality_gates::QualityGateEntry;
use super::reader::FileReader;
use super::Place;
use crate::config::Config;
use crate::findings::Finding;
use crate::ids::IdKind;
use crate::json::Json;
use crate::text::Span;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
    Critical,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Autopilot {
    Full,
    ReviewOnly,
    Disabled,
}

impl Autopilot {
    pub fn as_str(self) -> &'static str {
        match self {
            Autopilot::Full => "full",
            Autopilot::ReviewOnly => "review_only",
            Autopilot::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    pub max_files: Option<u64>,
    pub max_lines: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    pub id: String,
    pub title: String,
    pub phase: Option<String>,
    pub blueprint_ids: Vec<(String, Span)>,
    pub scope_paths: Vec<String>,
    pub acceptance_criteria: Vec<String>,
    pub test_commands: Vec<String>,
    pub smoke_checks: Vec<String>,
    /// Typed, each with its text; an entry that is not understood is kept (and reported when
    /// the file is loaded) so that the review fails it.
    pub quality_gates: Vec<QualityGateEntry>,
    pub risk: Risk,
    pub autopilot: Autopilot,
    pub depends_on: Vec<(String, Span)>,
    pub access: Vec<String>,
    pub change_budget: Option<Budget>,
    /// Where the item's `id` is written.
    pub place: Place,
}

const RISKS: &[(&str, Risk)] =
    &[("low", Risk::Low), ("medium", Risk::Medium), ("high", Risk::High), ("critical", Risk::Critical)];
const MODES: &[(&str, Autopilot)] =
    &[("full", Autopilot::Full), ("review_only", Autopilot::ReviewOnly), ("disabled", Autopilot::Disabled)];

pub fn parse_wbs(config: &Config, path: &str, text: &str) -> (Vec<WorkItem>, Vec<Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut items = Vec::new();
    let Some(root) = reader.parse(&[]) else {
        return (items, reader.findings);
    };
    let list = match root.as_array() {
        Some(list) => Some(list),
        None => ["items", "wbs", "tasks"].iter().find_map(|key| root.get(key)).and_then(|value| {
            let list = value.as_array();
            if list.is_none() {
                reader.malformed_at(
                    value,
                    format!("the work items must be an array, found {}", value.type_name()),
                );
            }
            list
        }),
    };
    let Some(list) = list else {
        if root
            .as_members()
            .is_some_and(|m| !m.iter().any(|m| ["items", "wbs", "tasks"].contains(&m.key.as_ref())))
        {
            reader.malformed_at(
                &root,
                "the WBS must be an array of work items or an object with an `items` array",
            );
        }
        return (items, reader.findings);
    };
    for entry in list {
        if let Some(item) = read_item(config, &mut reader, entry) {
            items.push(item);
        }
    }
    (items, reader.findings)
}

fn read_item(config: &Config, reader: &mut FileReader, entry: &Json) -> Option<WorkItem> {
    if entry.as_members().is_none() {
        reader.malformed_at(entry, format!("a work item must be an object, found {}", entry.type_name()));
        return None;
    }
    let (id, id_span) = reader.required_string(entry, "id", "a work item")?;
    if config.ids.kind_of(&id) != Some(IdKind::Work) {
        let families: Vec<&str> = config
            .ids
            .families()
            .iter()
            .filter(|f| f.kind == IdKind::Work)
            .map(|f| f.pattern.as_str())
            .collect();
        reader.malformed_at(
            entry.get("id")?,
            format!("work item id {id:?} does not match a work-item ID family ({})", families.join(", ")),
        );
        return None;
    }
    let what = format!("work item {id}");
    let title = reader.required_string(entry, "title", &what).map(|(t, _)| t).unwrap_or_default();
    let texts = |reader: &mut FileReader, key: &str| -> Vec<String> {
        reader.strings(entry, key, &what).into_iter().map(|(s, _)| s).collect()
    };
    let scope_paths = reader.strings(entry, "scope_paths", &what);
    for (glob, span) in &scope_paths {
        if let Err(message) = crate::config::compile_glob(glob) {
            reader.findings.push(Finding::new(
                crate::findings::Code::MalformedFile,
                reader.path,
                *span,
                format!("{what}: scope_paths: {message}"),
            ));
        }
    }
    let change_budget = entry.get("change_budget").and_then(|b| {
        if b.as_members().is_none() {
            reader.malformed_at(
                b,
                format!("{what}: `change_budget` must be an object {{max_files, max_lines}}"),
            );
            return None;
        }
        let as_count = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok());
        Some(Budget {
            max_files: as_count(reader.integer(b, "max_files", &what)),
            max_lines: as_count(reader.integer(b, "max_lines", &what)),
        })
    });
    let quality_gates = reader
        .strings(entry, "quality_gates", &what)
        .into_iter()
        .map(|(text, span)| {
            let gate = QualityGateEntry::new(&text);
            if let Err(message) = &gate.gate {
                reader.findings.push(Finding::new(
                    crate::findings::Code::MalformedFile,
                    reader.path,
                    span,
                    format!("{what}: quality_gates: {message}"),
                ));
            }
            gate
        })
        .collect();
    Some(WorkItem {
        phase: reader.string(entry, "phase", &what),
        blueprint_ids: reader.strings(entry, "blueprint_ids", &what),
        scope_paths: scope_paths.into_iter().map(|(s, _)| s).collect(),
        acceptance_criteria: texts(reader, "acceptance_criteria"),
        test_commands: texts(reader, "test_commands"),
        smoke_checks: texts(reader, "smoke_checks"),
        quality_gates,
        risk: reader.choice(entry, "risk_level", &what, RISKS, Risk::Medium),
        autopilot: reader.choice(entry, "autopilot_mode", &what, MODES, Autopilot::Full),
        depends_on: reader.strings(entry, "depends_on", &what),
        access: texts(reader, "access"),
        change_budget,
        place: Place { path: reader.path.to_string(), span: id_span },
        id,
        title,
    })
}
