//! The vocabulary of a work item's `quality_gates`: one table ([`KINDS`]) that the parser, the
//! error messages, docs/formats.md and the WBS schema are all derived from. Each entry is a
//! gate name, optionally followed by `:` and an argument (`max-files:5`, `command:make lint`).
//! Pure: evaluation (files, git, commands) lives in `ops::gates`.

/// What follows the `:` of a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argument {
    /// Nothing: the gate is written as its name alone.
    None,
    /// A whole number of at least 1.
    Count,
    /// A command line, run like a test command.
    Command,
}

impl Argument {
    pub fn as_str(self) -> &'static str {
        match self {
            Argument::None => "none",
            Argument::Count => "positive integer",
            Argument::Command => "command text",
        }
    }
}

/// One kind of quality gate, as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub argument: Argument,
    pub description: &'static str,
    pub example: &'static str,
}

/// Every kind of quality gate, in the order the docs list them.
pub const KINDS: [Kind; 5] = [
    Kind {
        name: "no-todo-in-new-files",
        argument: Argument::None,
        description: "No file the run added contains the word `TODO`, `FIXME` or `XXX` (upper case, as a whole word: `TODO:`, `TODO(`, `// TODO`).",
        example: "no-todo-in-new-files",
    },
    Kind {
        name: "tests-changed",
        argument: Argument::None,
        description: "When the run changed or added code (any file that is not a test, a markdown or text document, or one of Concord's own files), it changed or added at least one test file (the `[files] tests` globs).",
        example: "tests-changed",
    },
    Kind {
        name: "max-files",
        argument: Argument::Count,
        description: "At most N changed files, counted as the scope gate counts them.",
        example: "max-files:12",
    },
    Kind {
        name: "max-lines",
        argument: Argument::Count,
        description: "At most N changed lines: added plus removed, and every line of a new file.",
        example: "max-lines:400",
    },
    Kind {
        name: "command",
        argument: Argument::Command,
        description: "Runs the command in the run's working directory like a test command (same timeout, same trust rule); exit code 0 passes.",
        example: "command:python3 tools/check_amounts.py",
    },
];

/// A quality gate, as understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QualityGate {
    NoTodoInNewFiles,
    TestsChanged,
    MaxFiles(u64),
    MaxLines(u64),
    Command(String),
}

/// One entry of `quality_gates`: its text as written (for messages and gate names) and what
/// it means, or why it is not understood. A gate that is not understood is kept, so that the
/// review fails it rather than skipping it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityGateEntry {
    pub text: String,
    pub gate: Result<QualityGate, String>,
}

impl QualityGateEntry {
    pub fn new(text: &str) -> QualityGateEntry {
        QualityGateEntry { text: text.to_string(), gate: parse(text) }
    }
}

/// The known gate names as a list for messages: `no-todo-in-new-files`, `max-files:N`, ….
pub fn known_list() -> String {
    KINDS.iter().map(|k| format!("`{}`", shape(k))).collect::<Vec<_>>().join(", ")
}

/// How a kind is written: `max-files:N`, `command:<cmd>`, `tests-changed`.
pub fn shape(kind: &Kind) -> String {
    match kind.argument {
        Argument::None => kind.name.to_string(),
        Argument::Count => format!("{}:N", kind.name),
        Argument::Command => format!("{}:<cmd>", kind.name),
    }
}

/// Read one entry. The name is matched without regard to case and surrounding spaces; the
/// error says what is wrong in words that tell how to fix it.
pub fn parse(text: &str) -> Result<QualityGate, String> {
    let (name, argument) = match text.split_once(':') {
        Some((name, argument)) => (name.trim(), Some(argument.trim())),
        None => (text.trim(), None),
    };
    let Some(kind) = KINDS.iter().find(|k| k.name.eq_ignore_ascii_case(name)) else {
        let hint = match nearest(name) {
            Some(kind) => format!(" Did you mean `{}`?", shape(kind)),
            None => String::new(),
        };
        return Err(format!(
            "unknown quality gate `{}`.{hint} Known gates: {}. A condition that no gate checks belongs in `acceptance_criteria`.",
            text.trim(),
            known_list()
        ));
    };
    match (kind.argument, argument) {
        (Argument::None, None) if kind.name == "no-todo-in-new-files" => Ok(QualityGate::NoTodoInNewFiles),
        (Argument::None, None) => Ok(QualityGate::TestsChanged),
        (Argument::None, Some(argument)) => Err(format!(
            "quality gate `{}` takes no argument{}: write `{}`",
            kind.name,
            if argument.is_empty() { String::new() } else { format!(", found `{argument}`") },
            kind.name
        )),
        (Argument::Count, argument) => {
            let argument = argument.unwrap_or("");
            match argument.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(if kind.name == "max-files" {
                    QualityGate::MaxFiles(n)
                } else {
                    QualityGate::MaxLines(n)
                }),
                // A limit of 0 would fail every run that does any work.
                _ => Err(format!(
                    "quality gate `{}` needs a whole number of at least 1 after the colon, found {}: for example `{}`",
                    kind.name,
                    if argument.is_empty() { "none".to_string() } else { format!("`{argument}`") },
                    kind.example
                )),
            }
        }
        (Argument::Command, Some(command)) if !command.is_empty() => {
            Ok(QualityGate::Command(command.to_string()))
        }
        (Argument::Command, _) => Err(format!(
            "quality gate `{}` needs a command after the colon: for example `{}`",
            kind.name, kind.example
        )),
    }
}

impl QualityGate {
    /// Its row of [`KINDS`] (a test checks that each example parses back to its own row).
    pub fn kind(&self) -> &'static Kind {
        &KINDS[match self {
            QualityGate::NoTodoInNewFiles => 0,
            QualityGate::TestsChanged => 1,
            QualityGate::MaxFiles(_) => 2,
            QualityGate::MaxLines(_) => 3,
            QualityGate::Command(_) => 4,
        }]
    }
}

/// What an entry asks for, in one line: its kind's description with the limit filled in, or
/// why it is not understood.
pub fn explain(entry: &QualityGateEntry) -> String {
    match &entry.gate {
        Ok(gate @ (QualityGate::MaxFiles(n) | QualityGate::MaxLines(n))) => {
            gate.kind().description.replacen("N ", &format!("{n} "), 1)
        }
        Ok(gate) => gate.kind().description.to_string(),
        Err(message) => format!("not understood, so the review fails it: {message}"),
    }
}

/// The known kind whose name is close to `name` (a typo, a plural, another case).
fn nearest(name: &str) -> Option<&'static Kind> {
    let name = name.to_ascii_lowercase();
    KINDS
        .iter()
        .map(|k| (strsim::osa_distance(&name, k.name), k))
        .filter(|(d, k)| *d <= 3.min(k.name.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_parses() {
        let cases: &[(&str, QualityGate)] = &[
            ("no-todo-in-new-files", QualityGate::NoTodoInNewFiles),
            ("tests-changed", QualityGate::TestsChanged),
            (" Tests-Changed ", QualityGate::TestsChanged),
            ("max-files:5", QualityGate::MaxFiles(5)),
            ("max-files: 12", QualityGate::MaxFiles(12)),
            ("max-lines:400", QualityGate::MaxLines(400)),
            ("command:make lint", QualityGate::Command("make lint".into())),
            ("command: sh -c 'a:b'", QualityGate::Command("sh -c 'a:b'".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).as_ref(), Ok(expected), "{text}");
        }
        // Every documented example parses, to a gate of its own row.
        for kind in &KINDS {
            assert_eq!(parse(kind.example).map(|g| g.kind().name), Ok(kind.name), "{}", kind.example);
        }
        assert_eq!(
            explain(&QualityGateEntry::new("max-files:5")),
            "At most 5 changed files, counted as the scope gate counts them."
        );
    }

    #[test]
    fn malformed_ones_say_why() {
        let cases: &[(&str, &[&str])] = &[
            ("max-file:3", &["unknown quality gate `max-file:3`", "Did you mean `max-files:N`?", "Known gates: `no-todo-in-new-files`, `tests-changed`, `max-files:N`, `max-lines:N`, `command:<cmd>`"]),
            ("no TODO or FIXME in changed files", &["unknown quality gate", "acceptance_criteria"]),
            ("test-changed", &["Did you mean `tests-changed`?"]),
            ("max-files:abc", &["`max-files` needs a whole number of at least 1", "found `abc`", "`max-files:12`"]),
            ("max-files:0", &["at least 1", "found `0`"]),
            ("max-lines:-4", &["`max-lines` needs a whole number", "found `-4`"]),
            ("max-lines", &["found none"]),
            ("command:", &["`command` needs a command after the colon"]),
            ("command", &["`command` needs a command"]),
            ("tests-changed:yes", &["takes no argument, found `yes`", "write `tests-changed`"]),
            ("no-todo-in-new-files:", &["takes no argument"]),
        ];
        for (text, needles) in cases {
            let message = parse(text).expect_err(text);
            for needle in *needles {
                assert!(message.contains(needle), "{text}: {message:?} lacks {needle:?}");
            }
        }
        assert!(!parse("sleep well").unwrap_err().contains("Did you mean"));
    }
}
