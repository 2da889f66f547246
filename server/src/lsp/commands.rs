//! The commands the server offers through `workspace/executeCommand`, and their arguments: each
//! command's one argument (an object, or nothing) is read into a struct at the edge, so a
//! malformed one is refused with `InvalidParams` naming the command and the field, and the code
//! behind it gets typed values.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode};

/// Every command, in the order the server announces them.
pub const COMMANDS: &[&str] = &[
    "concord.status",
    "concord.queue",
    "concord.reload",
    "concord.crosswalk",
    "concord.dispatch",
    "concord.autopilot",
    "concord.review",
    "concord.apply",
    "concord.approve",
    "concord.questions",
    "concord.answer",
    "concord.health",
    "concord.lock.acquire",
    "concord.lock.release",
    "concord.lock.sweep",
];

// Unknown fields are refused: the editors' extensions send only the fields below (see
// editors/vscode/src/commands.ts), so a misspelt one is a mistake to report, not to ignore.

/// The argument of a command that takes none: absent, `null` or `{}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgument {}

/// The argument of a command that acts on one workspace folder and takes nothing else
/// (`concord.crosswalk`, `concord.queue`, `concord.health`; `concord.reload`, where no folder
/// means every folder).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderArgument {
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.questions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionsArgs {
    /// Also the answered and withdrawn questions.
    #[serde(default)]
    pub all: bool,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.dispatch`: the next eligible item unless `id` names one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchArgs {
    pub id: Option<String>,
    pub agent: Option<String>,
    /// The agent CLI preset, instead of the editor's `agentPreset`.
    pub cli: Option<String>,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.autopilot`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutopilotArgs {
    pub max_items: Option<u64>,
    pub max_runs: Option<u64>,
    pub max_minutes: Option<f64>,
    pub parallel: Option<u64>,
    #[serde(default)]
    pub push: bool,
    #[serde(default)]
    pub open_pr: bool,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub ignore_red_health: bool,
    pub model: Option<String>,
    pub cli: Option<String>,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.review`: the latest run unless `run` names one.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewArgs {
    pub run: Option<String>,
    #[serde(default)]
    pub no_llm: bool,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.apply`: the latest review unless `review` names one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyArgs {
    pub review: Option<String>,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.approve`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveArgs {
    pub id: String,
    pub agent: Option<String>,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.answer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerArgs {
    pub id: String,
    pub option: String,
    pub by: Option<String>,
    pub note: Option<String>,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.lock.acquire`: the work item's own `scope_paths` unless `scope` is given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockAcquireArgs {
    pub task: String,
    pub scope: Option<Vec<String>>,
    pub agent: Option<String>,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.lock.release`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockReleaseArgs {
    pub agent: Option<String>,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

/// `concord.lock.sweep`: locks older than `olderThan` (else `locks.stale_after`) are removed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockSweepArgs {
    /// Seconds, from a duration like `90m`, `24h` or `7d`.
    #[serde(default, deserialize_with = "duration")]
    pub older_than: Option<u64>,
    /// The workspace folder (its URI) to act on; needed when the client has several.
    pub folder: Option<String>,
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| crate::config::parse_duration(&text).map_err(D::Error::custom))
        .transpose()
}

/// A command that writes files or runs commands, with its argument.
#[derive(Debug)]
pub enum WorkspaceCommand {
    Dispatch(DispatchArgs),
    Autopilot(AutopilotArgs),
    Review(ReviewArgs),
    Apply(ApplyArgs),
    Approve(ApproveArgs),
    Answer(AnswerArgs),
    LockAcquire(LockAcquireArgs),
    LockRelease(LockReleaseArgs),
    LockSweep(LockSweepArgs),
}

impl WorkspaceCommand {
    /// The command named `command` with its arguments; `None` when it is not one of these.
    pub fn parse(command: &str, arguments: &[Value]) -> Option<Result<WorkspaceCommand, Error>> {
        let parsed = match command {
            "concord.dispatch" => argument(command, arguments).map(WorkspaceCommand::Dispatch),
            "concord.autopilot" => argument(command, arguments).map(WorkspaceCommand::Autopilot),
            "concord.review" => argument(command, arguments).map(WorkspaceCommand::Review),
            "concord.apply" => argument(command, arguments).map(WorkspaceCommand::Apply),
            "concord.approve" => argument(command, arguments).map(WorkspaceCommand::Approve),
            "concord.answer" => argument(command, arguments).map(WorkspaceCommand::Answer),
            "concord.lock.acquire" => argument(command, arguments).map(WorkspaceCommand::LockAcquire),
            "concord.lock.release" => argument(command, arguments).map(WorkspaceCommand::LockRelease),
            "concord.lock.sweep" => argument(command, arguments).map(WorkspaceCommand::LockSweep),
            _ => return None,
        };
        Some(parsed)
    }

    /// The agent the argument names, which wins over the editor's.
    pub fn agent(&self) -> Option<&str> {
        match self {
            WorkspaceCommand::Dispatch(a) => a.agent.as_deref(),
            WorkspaceCommand::Approve(a) => a.agent.as_deref(),
            WorkspaceCommand::LockAcquire(a) => a.agent.as_deref(),
            WorkspaceCommand::LockRelease(a) => a.agent.as_deref(),
            _ => None,
        }
    }

    /// The workspace folder the argument names (a URI).
    pub fn folder(&self) -> Option<&str> {
        match self {
            WorkspaceCommand::Dispatch(a) => a.folder.as_deref(),
            WorkspaceCommand::Autopilot(a) => a.folder.as_deref(),
            WorkspaceCommand::Review(a) => a.folder.as_deref(),
            WorkspaceCommand::Apply(a) => a.folder.as_deref(),
            WorkspaceCommand::Approve(a) => a.folder.as_deref(),
            WorkspaceCommand::Answer(a) => a.folder.as_deref(),
            WorkspaceCommand::LockAcquire(a) => a.folder.as_deref(),
            WorkspaceCommand::LockRelease(a) => a.folder.as_deref(),
            WorkspaceCommand::LockSweep(a) => a.folder.as_deref(),
        }
    }

    /// The agent CLI preset the argument names, which wins over the editor's.
    pub fn cli(&self) -> Option<&str> {
        match self {
            WorkspaceCommand::Dispatch(a) => a.cli.as_deref(),
            WorkspaceCommand::Autopilot(a) => a.cli.as_deref(),
            _ => None,
        }
    }
}

/// Read `command`'s argument (at most one, an object; none or `null` reads as `{}`).
pub fn argument<T: DeserializeOwned>(command: &str, arguments: &[Value]) -> Result<T, Error> {
    let object = match arguments {
        [] | [Value::Null] => Map::new(),
        [Value::Object(object)] => object.clone(),
        [other] => {
            return Err(invalid(command, format!("the argument must be an object, not {}", kind(other))))
        }
        more => {
            return Err(invalid(
                command,
                format!("takes at most one argument (an object), not {}", more.len()),
            ))
        }
    };
    serde_json::from_value::<T>(Value::Object(object.clone()))
        .map_err(|error| invalid(command, explain::<T>(&object, &error)))
}

pub fn invalid(command: &str, detail: String) -> Error {
    Error { code: ErrorCode::InvalidParams, message: format!("{command}: {detail}").into(), data: None }
}

/// serde names the field itself only when one is missing or unknown. For a value of the wrong
/// type the field is found by reading each alone: the struct read from that one field fails on
/// its value, any other only for the fields it lacks.
fn explain<T: DeserializeOwned>(object: &Map<String, Value>, error: &serde_json::Error) -> String {
    let message = error.to_string();
    if message.starts_with("missing field") || message.starts_with("unknown field") {
        return message;
    }
    for (key, value) in object {
        let alone = Map::from_iter([(key.clone(), value.clone())]);
        let Err(e) = serde_json::from_value::<T>(Value::Object(alone)) else { continue };
        let alone_message = e.to_string();
        if !alone_message.starts_with("missing field") {
            return field_message(key, value, &alone_message);
        }
    }
    message
}

/// "`agent` must be a string, not integer `3`", from serde's "invalid type: integer `3`,
/// expected a string".
fn field_message(key: &str, value: &Value, message: &str) -> String {
    let parts = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    let Some((got, expected)) = parts else { return format!("`{key}`: {message}") };
    let expected = match expected {
        "u64" | "u32" => "a whole number, 0 or more",
        "f64" => "a number",
        "a sequence" => "a list",
        other => other,
    };
    if value.is_array() && expected != "a list" {
        format!("each item of `{key}` must be {expected}, not {got}")
    } else {
        format!("`{key}` must be {expected}, not {got}")
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message<T: DeserializeOwned + std::fmt::Debug>(command: &str, given: Value) -> String {
        let error = argument::<T>(command, &[given]).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidParams);
        error.message.into_owned()
    }

    #[test]
    fn a_wrong_type_names_the_command_and_the_field() {
        assert_eq!(
            message::<LockAcquireArgs>("concord.lock.acquire", json!({ "task": "WBS-001", "agent": 3 })),
            "concord.lock.acquire: `agent` must be a string, not integer `3`"
        );
        assert_eq!(
            message::<LockAcquireArgs>(
                "concord.lock.acquire",
                json!({ "task": "WBS-001", "scope": ["a", 1] })
            ),
            "concord.lock.acquire: each item of `scope` must be a string, not integer `1`"
        );
        assert_eq!(
            message::<AutopilotArgs>("concord.autopilot", json!({ "maxItems": -1 })),
            "concord.autopilot: `maxItems` must be a whole number, 0 or more, not integer `-1`"
        );
        assert_eq!(
            message::<AutopilotArgs>("concord.autopilot", json!({ "dryRun": "yes" })),
            "concord.autopilot: `dryRun` must be a boolean, not string \"yes\""
        );
    }

    #[test]
    fn a_wrong_type_is_found_before_a_missing_field_whatever_the_order() {
        assert_eq!(
            message::<AnswerArgs>("concord.answer", json!({ "note": 1, "id": "Q-0001" })),
            "concord.answer: `note` must be a string, not integer `1`"
        );
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        assert_eq!(
            message::<ApproveArgs>("concord.approve", json!({})),
            "concord.approve: missing field `id`"
        );
        assert!(message::<ReviewArgs>("concord.review", json!({ "nollm": true }))
            .starts_with("concord.review: unknown field `nollm`"));
    }

    #[test]
    fn a_bad_duration_says_why() {
        assert_eq!(
            message::<LockSweepArgs>("concord.lock.sweep", json!({ "olderThan": "3 fortnights" })),
            "concord.lock.sweep: `olderThan`: \"3 fortnights\" has an unknown unit (use s, m, h, d or w)"
        );
        let read: LockSweepArgs = argument("concord.lock.sweep", &[json!({ "olderThan": "2h" })]).unwrap();
        assert_eq!(read.older_than, Some(7200));
    }

    #[test]
    fn the_argument_is_one_object_or_nothing() {
        assert!(argument::<NoArgument>("concord.status", &[]).is_ok());
        assert!(argument::<NoArgument>("concord.status", &[Value::Null]).is_ok());
        let read: DispatchArgs = argument("concord.dispatch", &[]).unwrap();
        assert!(read.id.is_none());
        assert_eq!(
            argument::<DispatchArgs>("concord.dispatch", &[json!("WBS-001")]).unwrap_err().message,
            "concord.dispatch: the argument must be an object, not a string"
        );
        assert_eq!(
            argument::<DispatchArgs>("concord.dispatch", &[json!({}), json!({})]).unwrap_err().message,
            "concord.dispatch: takes at most one argument (an object), not 2"
        );
        assert!(message::<NoArgument>("concord.status", json!({ "x": 1 }))
            .starts_with("concord.status: unknown field `x`"));
    }
}
