//! What analysis reports: a finding with a stable code, a severity, a place and a message
//! that says what to do next. Both the CLI and the language server render these.

use serde::{Deserialize, Serialize};

use crate::text::Span;

/// Stable finding codes: users configure severities by them, CI filters on them. Everything
/// else about a code (its name, default severity and texts) is its row in [`CODES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    UnknownId,
    UntracedFile,
    UntracedItem,
    UnknownReference,
    UncoveredChunk,
    MalformedFile,
    DuplicateId,
    Secret,
    OutsideScope,
    LockedByOther,
    StaleLock,
    UnmappedChange,
    UntracedCommit,
    StaleReference,
    BlueprintDrift,
}

/// One finding code as users meet it: in `concord explain`, SARIF rules, the `[severity]`
/// keys of `concord.toml`, docs/findings.md, docs/configuration.md and findings.schema.json
/// (the docs and the schema are generated from [`CODES`] and a test fails when they drift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSpec {
    pub code: Code,
    /// The stable kebab-case name, also the `[severity]` key and the docs anchor.
    pub name: &'static str,
    pub default_severity: Severity,
    /// When the severity differs from the default without configuration; empty if never.
    pub default_note: &'static str,
    /// What the finding means, for SARIF rule descriptions, `concord explain` and the docs.
    pub summary: &'static str,
    /// What to do about it, in general terms (each message adds specifics).
    pub help: &'static str,
}

/// The page that documents every code, one anchor per code name.
pub const DOCS_PAGE: &str = "docs/findings.md";

/// Every finding code, in [`Code`] declaration order (checked at compile time below). Adding a
/// code: a variant, its row here, the emitter and a fixture; the docs follow from the table.
pub const CODES: [CodeSpec; 15] = [
    CodeSpec {
        code: Code::UnknownId,
        name: "unknown-id",
        default_severity: Severity::Error,
        default_note: "",
        summary: "An ID-shaped reference names no chunk or work item that exists (reported once some IDs of that kind are defined).",
        help: "Fix the typo (the message and the quick fix suggest the closest IDs), or define the ID: add the chunk to the blueprint index or a `## ID Title` heading, or the work item to ops/wbs.json.",
    },
    CodeSpec {
        code: Code::UntracedFile,
        name: "untraced-file",
        default_severity: Severity::Warning,
        default_note: "",
        summary: "A file that must be traced carries no known ID and is mapped by no crosswalk path or work-item scope.",
        help: "Add a comment naming the chunk or work item the file implements (e.g. `// implements TD-0103`; the fix suggests IDs used nearby), or add the path to a work item's scope_paths.",
    },
    CodeSpec {
        code: Code::UntracedItem,
        name: "untraced-item",
        default_severity: Severity::Warning,
        default_note: "",
        summary: "A function, method, class or test that must be traced (item-level tracing) carries no ID, directly or by inheritance.",
        help: "Add a comment naming the chunk or work item above the item or in its doc comment, or tag the enclosing item or the file header.",
    },
    CodeSpec {
        code: Code::UnknownReference,
        name: "unknown-reference",
        default_severity: Severity::Error,
        default_note: "",
        summary: "An ops file names a chunk or work item that does not exist: a work item's `blueprint_ids` or `depends_on`, a queue event, a lock's task.",
        help: "Correct the ID in the ops file, or create the missing chunk or work item.",
    },
    CodeSpec {
        code: Code::UncoveredChunk,
        name: "uncovered-chunk",
        default_severity: Severity::Info,
        default_note: "error when the chunk's priority is gated (`[coverage] gate`, `must` by default), unless the code is `\"off\"`",
        summary: "A spec chunk has no work item, no code or no test referencing it (`missing_wbs`, `missing_code`, `missing_tests`); chunks of a gated priority fail the check.",
        help: "Plan a work item that lists the chunk in blueprint_ids, then tag the code and tests that implement it.",
    },
    CodeSpec {
        code: Code::MalformedFile,
        name: "malformed-file",
        default_severity: Severity::Error,
        default_note: "",
        summary: "An ops or configuration file cannot be read as its format says; the finding is at the line and column.",
        help: "Correct the file at the position shown; docs/formats.md describes each format.",
    },
    CodeSpec {
        code: Code::DuplicateId,
        name: "duplicate-id",
        default_severity: Severity::Error,
        default_note: "",
        summary: "The same ID is defined in two places; it is reported at both.",
        help: "Give one of the two definitions a new ID, or delete the duplicate.",
    },
    CodeSpec {
        code: Code::Secret,
        name: "secret",
        default_severity: Severity::Error,
        default_note: "",
        summary: "A credential (API key, token, private key) appears in the file. The secret is never printed: only its kind, first characters and length.",
        help: "Remove the secret, rotate it (treat it as leaked) and read it from an environment variable instead; for a test value, mark the line `concord:allow-secret` or add it to the secrets baseline.",
    },
    CodeSpec {
        code: Code::OutsideScope,
        name: "outside-scope",
        default_severity: Severity::Warning,
        default_note: "",
        summary: "A file outside the active agent's locked scope was changed.",
        help: "Revert this edit or hand the task back; change files only inside the lock's scope_paths.",
    },
    CodeSpec {
        code: Code::LockedByOther,
        name: "locked-by-other",
        default_severity: Severity::Error,
        default_note: "",
        summary: "A file inside another agent's lock was changed.",
        help: "Do not edit this file: another agent holds it. Revert the edit and wait for the lock to be released.",
    },
    CodeSpec {
        code: Code::StaleLock,
        name: "stale-lock",
        default_severity: Severity::Warning,
        default_note: "",
        summary: "A lock is older than the configured limit (`locks.stale_after`).",
        help: "Ask the holder to release it, or run `concord lock sweep` to remove locks older than the limit.",
    },
    CodeSpec {
        code: Code::UnmappedChange,
        name: "unmapped-change",
        default_severity: Severity::Error,
        default_note: "reported by `concord check --changed-since` only",
        summary: "A file changed in the checked range (inside `[trace] include`) carries no known ID and is covered by no work item's scope_paths and no crosswalk path, so the change maps to nothing in the plan.",
        help: "Tag the file with the chunk or work item it implements (e.g. `// implements TD-0103`), or add its path to the scope_paths of the work item it belongs to (the message names the closest scopes).",
    },
    CodeSpec {
        code: Code::UntracedCommit,
        name: "untraced-commit",
        default_severity: Severity::Error,
        default_note: "reported by `concord check --changed-since` only",
        summary: "A commit in the checked range has no trace trailer (`Implements:`, `Refs:`, `Fixes:` or the keys of `[commits] trailer_keys`) naming a known ID. It is shown at a changed file, since a commit has no file of its own.",
        help: "Reword the commit (`git commit --amend`, or `git rebase -i` for older ones) and end its message with a trailer paragraph such as `Implements: WBS-005`; `concord trailers` prints the lines for the staged changes, and `concord hook install --commit-msg` checks every new commit.",
    },
    CodeSpec {
        code: Code::StaleReference,
        name: "stale-reference",
        default_severity: Severity::Warning,
        default_note: "",
        summary: "A chunk was rewritten since a place that traces to it (a file, or an item of an item-level file) was reviewed against it: its fingerprint differs from the one `ops/trace.lock` records. Shown at the place and at the chunk's definition.",
        help: "Read the chunk again and change the code if it no longer does what the spec says, then `concord ack ID PATH[:ITEM]` (or, for a pinned reference `ID@9f2c4e1a`, write the current pin); for a wording-only edit of the chunk, `concord bump --editorial ID` clears every place at once. `concord ack` with no arguments records places not yet recorded.",
    },
    CodeSpec {
        code: Code::BlueprintDrift,
        name: "blueprint-drift",
        default_severity: Severity::Warning,
        default_note: "reported by `concord verify-blueprints` only",
        summary: "The chunk index disagrees with the markdown: an entry whose source does not exist or no longer defines the chunk, a stored fingerprint the section no longer has, a chunk the markdown defines and the index lacks, or an index entry no markdown section defines.",
        help: "Run `concord ingest` to derive the index from the markdown again (entries no markdown defines are kept as written), or give the chunk a `## ID Title` section.",
    },
];

// `Code::spec` indexes the table by discriminant: the rows must follow the declaration order.
const _: () = {
    let mut i = 0;
    while i < CODES.len() {
        assert!(CODES[i].code as usize == i, "CODES rows must follow the order of the Code variants");
        i += 1;
    }
};

impl Code {
    pub const ALL: [Code; CODES.len()] = {
        let mut all = [Code::UnknownId; CODES.len()];
        let mut i = 0;
        while i < CODES.len() {
            all[i] = CODES[i].code;
            i += 1;
        }
        all
    };

    pub fn spec(self) -> &'static CodeSpec {
        &CODES[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    pub fn parse(name: &str) -> Option<Code> {
        CODES.iter().find(|c| c.name == name).map(|c| c.code)
    }

    pub fn default_severity(self) -> Severity {
        self.spec().default_severity
    }

    /// One sentence for SARIF rule help and `concord explain`.
    pub fn summary(self) -> &'static str {
        self.spec().summary
    }

    /// What to do about it, in general terms (each message adds specifics).
    pub fn help(self) -> &'static str {
        self.spec().help
    }

    /// Where the code is documented: `docs/findings.md#<name>`.
    pub fn docs_link(self) -> String {
        format!("{DOCS_PAGE}#{}", self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// By name, as in `[severity]`; an unknown name is an error that lists the known ones.
impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        let name = String::deserialize(deserializer)?;
        Code::parse(&name).ok_or_else(|| {
            let known: Vec<String> = CODES.iter().map(|c| format!("`{}`", c.name)).collect();
            serde::de::Error::custom(format!(
                "unknown finding code `{name}`, expected one of {}",
                known.join(", ")
            ))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Hint,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Hint, Severity::Info, Severity::Warning, Severity::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Hint => "hint",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(name: &str) -> Option<Severity> {
        match name {
            "hint" => Some(Severity::Hint),
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A text edit in one file, positioned like findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub new_text: String,
}

/// A ranked ID suggestion: what the fix would insert, and why it was proposed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub id: String,
    pub title: String,
    pub score: f64,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
    pub candidates: Vec<Candidate>,
}

/// A hash of `found`, everything in them included: equal findings hash equal, in this process
/// and across runs (the hasher has fixed keys).
pub fn fingerprint(found: &[Finding]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    for f in found {
        (f.code, f.severity, &f.path, f.span, &f.message, &f.id, &f.commit).hash(&mut hasher);
        if let Some(fix) = &f.fix {
            fix.title.hash(&mut hasher);
            for edit in &fix.edits {
                (edit.span, &edit.new_text).hash(&mut hasher);
            }
            for c in &fix.candidates {
                (&c.id, &c.title, c.score.to_bits(), &c.why).hash(&mut hasher);
            }
        }
        // A finding with no fix differs from one with an empty fix.
        f.fix.is_some().hash(&mut hasher);
    }
    hasher.finish()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// Workspace-relative, `/`-separated.
    pub path: String,
    pub span: Span,
    pub message: String,
    pub fix: Option<Fix>,
    /// The ID the finding is about, when there is one (for hover, filters and SARIF).
    pub id: Option<String>,
    /// The commit a commit-level finding is about (it is shown at a changed file).
    pub commit: Option<String>,
}

impl Finding {
    pub fn new(code: Code, path: impl Into<String>, span: Span, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: code.default_severity(),
            path: path.into(),
            span,
            message: message.into(),
            fix: None,
            id: None,
            commit: None,
        }
    }

    pub fn with_id(mut self, id: impl Into<String>) -> Finding {
        self.id = Some(id.into());
        self
    }

    pub fn with_commit(mut self, commit: impl Into<String>) -> Finding {
        self.commit = Some(commit.into());
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Finding {
        self.fix = Some(fix);
        self
    }

    /// Stable order: by path, position, code, message.
    pub fn sort_key(&self) -> (&str, crate::text::LineCol, Code, &str) {
        (&self.path, self.span.start, self.code, &self.message)
    }
}

pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// The message of a `secret` finding: what was found (redacted) and what to do about it.
pub fn secret_message(description: &str, redacted: &str, baseline: &str) -> String {
    format!(
        "{description} ({redacted}) is written in this file. Remove it, rotate it now (treat it as leaked: it may already be in logs or history), and read it from an environment variable instead. If it is a harmless test value, add `concord:allow-secret` to the line or accept it in the baseline ({baseline})."
    )
}

impl Fix {
    /// One alternative per candidate: the fix's edits with the best candidate's ID swapped
    /// for that candidate's (the first variant is the fix itself).
    pub fn variants(&self) -> Vec<(String, Vec<Edit>)> {
        let Some(best) = self.candidates.first() else {
            return vec![(self.title.clone(), self.edits.clone())];
        };
        self.candidates
            .iter()
            .map(|candidate| {
                let edits = self
                    .edits
                    .iter()
                    .map(|e| Edit { span: e.span, new_text: e.new_text.replace(&best.id, &candidate.id) })
                    .collect();
                let title = self.title.replace(&best.id, &candidate.id);
                let title =
                    if candidate.title.is_empty() { title } else { format!("{title} ({})", candidate.title) };
                (title, edits)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_see_every_part_of_a_finding() {
        let candidate = Candidate { id: "TD-0001".into(), title: "Pay".into(), score: 1.0, why: "w".into() };
        let fix = Fix {
            title: "Add".into(),
            edits: vec![Edit { span: Span::default(), new_text: "// TD-0001\n".into() }],
            candidates: vec![candidate],
        };
        let base = Finding::new(Code::UntracedItem, "src/a.rs", Span::default(), "m").with_fix(fix);
        let same = fingerprint(std::slice::from_ref(&base));
        let copy = base.clone();
        assert_eq!(same, fingerprint(std::slice::from_ref(&copy)));
        assert_ne!(same, fingerprint(&[]));
        assert_ne!(same, fingerprint(&[base.clone(), base.clone()]));
        type Change = fn(&mut Finding);
        let changes: [Change; 11] = [
            |f| f.severity = Severity::Error,
            |f| f.path = "src/b.rs".into(),
            |f| f.span.end.line = 3,
            |f| f.message = "n".into(),
            |f| f.id = Some("TD-0001".into()),
            |f| f.commit = Some("abc".into()),
            |f| f.fix.as_mut().unwrap().title = "Insert".into(),
            |f| f.fix.as_mut().unwrap().edits[0].new_text = "// TD-0002\n".into(),
            |f| f.fix.as_mut().unwrap().candidates[0].score = 0.5,
            |f| f.fix.as_mut().unwrap().candidates[0].why = "v".into(),
            |f| f.fix = None,
        ];
        for change in changes {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(fingerprint(&[changed]), same);
        }
    }
}
