//! The files Concord writes, one serde type each, and their JSON Schemas: every schema in
//! [`SCHEMAS`] is generated from its type (`schemars`) and committed under docs/schemas/, and
//! tests/it/generated.rs fails when a committed file differs from what the type generates
//! (`UPDATE_DOCS=1 cargo test --test it generated::` rewrites it).
//!
//! Every writer serializes these types: the lock (`ops::locks`), the queue event
//! (`ops::queue::Event::line`), the review decision and its gates (`ops::review`) and the
//! crosswalk (`coverage`); the status, priority and coverage enums are the model's own. Reading
//! stays with `json.rs` and `model/`, which keep positions for findings and accept more where
//! people write these files by hand (noted on each type).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The general shape of an ID of a configured family; families are configurable, so no more
/// than that is checked.
const ID_PATTERN: &str = "^[A-Z][A-Z0-9]*-[0-9A-Z]+$";
/// A workspace-relative glob: no leading `/`, no drive letter, no `..` segment.
const RELATIVE_GLOB_PATTERN: &str = r"^(?!/)(?![A-Za-z]:)(?!(.*/)?\.\.(/|$)).+$";

/// Concord agent lock
///
/// A lock held by one agent on the files of one work item (default path
/// ops/locks/<AGENT>.lock). While it exists, other agents may not change files matching its
/// scope, and no other lock with an overlapping scope can be taken. Extra fields are allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "agent": "AGENT-3", "task_id": "WBS-006", "scope_paths": ["services/messaging/**"],
    "acquired_at": "2026-11-24T08:00:00Z", "host": "build-1", "pid": 4242,
    "base_commit": "3f2c9e1d4b5a6978877665544332211000ffeedd"
}]))]
pub struct LockFile {
    /// Agent
    ///
    /// The agent holding the lock. Must equal the lock file's name without `.lock` (this cannot
    /// be checked by the schema), so it contains no path separator.
    #[schemars(length(min = 1), regex(pattern = r"^[^/\\]+$"), extend("examples" = ["AGENT-3"]))]
    pub agent: String,
    /// Work item
    ///
    /// The ID of the work item the agent is working on, for example `WBS-006`.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub task_id: String,
    /// Locked scope
    ///
    /// Globs, relative to the workspace root with `/` separators, of the files the lock covers.
    /// They must stay inside the workspace: no leading `/`, no drive letter and no `..` segment.
    #[schemars(inner(length(min = 1), regex(pattern = RELATIVE_GLOB_PATTERN)))]
    pub scope_paths: Vec<String>,
    /// Acquired at
    ///
    /// When the lock was taken, as an RFC 3339 date-time. Used to tell stale locks.
    #[schemars(extend("format" = "date-time"))]
    pub acquired_at: String,
    /// Host
    ///
    /// Name of the machine the holding process runs on; left out when it is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Process ID
    ///
    /// Process ID of the holder on `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub pid: Option<u32>,
    /// Base commit
    ///
    /// The git commit `HEAD` named when the lock was taken, when the workspace is a git
    /// repository: review diffs the agent's changes against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
    /// Fencing token
    ///
    /// For a lock taken on a shared git remote (`[locks] remote`): the generation of the lock
    /// ref's commit that granted it. It only grows, so work done under an older token (a holder
    /// whose lock was swept and taken again) is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub fencing_token: Option<u64>,
}

/// Work item status
///
/// A work item's status in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    Todo,
    InProgress,
    Review,
    AwaitingApproval,
    // Accepted, in a pull request whose required checks have not all passed yet.
    AwaitingChecks,
    Done,
    Blocked,
}

impl QueueStatus {
    pub const ALL: [QueueStatus; 7] = [
        QueueStatus::Todo,
        QueueStatus::InProgress,
        QueueStatus::Review,
        QueueStatus::AwaitingApproval,
        QueueStatus::AwaitingChecks,
        QueueStatus::Done,
        QueueStatus::Blocked,
    ];

    /// The status as written in the queue (serde's name for it).
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Todo => "todo",
            QueueStatus::InProgress => "in_progress",
            QueueStatus::Review => "review",
            QueueStatus::AwaitingApproval => "awaiting_approval",
            QueueStatus::AwaitingChecks => "awaiting_checks",
            QueueStatus::Done => "done",
            QueueStatus::Blocked => "blocked",
        }
    }

    pub fn parse(word: &str) -> Option<QueueStatus> {
        QueueStatus::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// Concord queue event
///
/// One line of the append-only queue log (default path ops/queue.jsonl): a JSON object
/// recording a work item's new status. The last event for an item is its status; an item with
/// no event is `todo`. Concord writes the item's ID as `id`; when reading, `wbs_id` and
/// `task_id` are accepted instead, and blank lines between events are skipped. Extra fields are
/// allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [
    { "id": "WBS-005", "status": "in_progress", "at": "2026-11-20T10:02:11Z", "by": "AGENT-2", "reason": "dispatched", "attempt": 1 }
]))]
pub struct QueueEvent {
    /// Work item
    ///
    /// The ID of the work item the event is about, such as `WBS-005` or `WBS-005A`.
    #[serde(alias = "wbs_id", alias = "task_id")]
    #[schemars(regex(pattern = ID_PATTERN))]
    pub id: String,
    /// Status
    ///
    /// The item's status from this event on.
    pub status: QueueStatus,
    /// Time
    ///
    /// When the event happened, as an RFC 3339 date-time.
    #[schemars(extend("format" = "date-time", "examples" = ["2026-11-20T10:02:11Z"]))]
    pub at: String,
    /// Actor
    ///
    /// Who caused the event: an agent (for example `AGENT-2`), `concord`, or a person.
    pub by: String,
    /// Reason
    ///
    /// Why the status changed, in words.
    pub reason: String,
    /// Attempt
    ///
    /// The dispatch attempt number this event belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Run
    ///
    /// The dispatch run the event belongs to (its folder is .concord/runs/RUN, its report
    /// docs/runs/RUN.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Host
    ///
    /// On `in_progress` events written by dispatch: the machine the run was started on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Process ID
    ///
    /// On `in_progress` events written by dispatch: the process ID of the `concord dispatch`
    /// that runs it, so that `concord requeue` can tell a dead run from a live one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Review
    ///
    /// On events written by `apply`: the review decision it carried out (its workspace-relative
    /// path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// Further fields of the event, kept as written.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// Review verdict
///
/// The verdict: `accept` (the work meets its criteria), `partial` (some of it does; follow-ups
/// needed), `reject` (it does not), `blocked` (it cannot proceed for an outside reason),
/// `needs_human` (a person must decide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accept,
    Partial,
    Reject,
    Blocked,
    NeedsHuman,
}

/// Severity
///
/// How serious the risk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskSeverity {
    Low,
    Medium,
    High,
    Critical,
}

/// Risk
///
/// One risk found in the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// Risk ID
    ///
    /// A short identifier for the risk, unique within this decision (for example `R1`).
    pub id: String,
    pub severity: RiskSeverity,
    /// Description
    ///
    /// What the risk is and what it could cause.
    pub description: String,
    /// Evidence
    ///
    /// Where the risk shows (a file and line, a log excerpt, a test result), or null when there
    /// is nothing to point at.
    // Required and nullable, as strict modes want (schemars drops `null` for a required Option).
    #[schemars(required, extend("type" = ["string", "null"]))]
    pub evidence: Option<String>,
}

/// Follow-up
///
/// One proposed follow-up work item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Followup {
    /// Title
    ///
    /// A one-line title for the follow-up.
    pub title: String,
    /// Summary
    ///
    /// What the follow-up must do, in words.
    pub summary: String,
    /// Blocking
    ///
    /// True when the reviewed item cannot be done until this follow-up is.
    pub blocking: bool,
    /// Scope
    ///
    /// Globs, relative to the workspace root with `/` separators, of the files the follow-up may
    /// change; empty when unknown.
    pub scope_paths: Vec<String>,
}

/// Result
///
/// `pass` when the evidence shows the criterion is met, `fail` when it shows it is not,
/// `unknown` when there is no evidence either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionOutcome {
    Pass,
    Fail,
    Unknown,
}

/// Criterion result
///
/// The result for one acceptance criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionResult {
    /// Criterion
    ///
    /// The acceptance criterion, as written in the work item.
    pub criterion: String,
    pub result: CriterionOutcome,
}

/// Concord review decision
///
/// The machine-readable decision of one review of a work item's run (written as
/// docs/reviews/<RUN>-<TIME>.json). The same schema is what the reviewers must answer with, so
/// it stays inside the subset accepted by strict structured-output modes: every property is
/// required, no object allows extra properties, a value that may be missing is written as null,
/// and nothing is referenced (`$ref`): every part is written out in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecision {
    /// Work item
    ///
    /// The ID of the reviewed work item, for example `WBS-005`.
    pub wbs_id: String,
    pub decision: Verdict,
    /// Recommended status
    ///
    /// The queue status the reviewer recommends for the item. `done` is never applied while a
    /// hard gate fails, and high-risk items go to `awaiting_approval` instead of `done`.
    pub recommended_status: QueueStatus,
    /// Summary
    ///
    /// A short account of the review, in words.
    pub summary: String,
    /// Risks
    ///
    /// Risks found in the work; empty when there are none.
    pub risks: Vec<Risk>,
    /// Missing deliverables
    ///
    /// Things the work item asked for that the run did not deliver, one per entry in words;
    /// empty when none.
    pub missing_deliverables: Vec<String>,
    /// Test gaps
    ///
    /// Behaviour that should be tested but is not, one per entry in words; empty when none.
    pub test_gaps: Vec<String>,
    /// Follow-ups
    ///
    /// New work items the review proposes; empty when none.
    pub followups: Vec<Followup>,
    /// Acceptance
    ///
    /// The result for each acceptance criterion of the work item.
    pub acceptance: Vec<CriterionResult>,
    /// Owner questions
    ///
    /// Decisions only the project's owner can make (a product trade-off, money, legal, scope),
    /// which the item waits for: `concord apply` records each in ops/owner-questions.jsonl, and
    /// the item does not become done while one is pending. Empty when there are none. (`apply`
    /// reads a decision written before this field existed as having none.)
    pub owner_questions: Vec<RaisedQuestion>,
}

/// Raised question
///
/// A question for the owner raised by a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaisedQuestion {
    /// Question
    ///
    /// The question, in words the owner acts on without reading code.
    pub question: String,
    /// Options
    ///
    /// Two or more answers, each a sentence; they become options A, B, ... in order.
    pub options: Vec<String>,
    /// Recommended
    ///
    /// The letter of the recommended option (`A`, `B`, ...), or null for none.
    #[schemars(required, extend("type" = ["string", "null"]))]
    pub recommended: Option<String>,
    /// Reason
    ///
    /// Why that option, in one line (or why the question matters, when none is recommended).
    pub reason: String,
}

/// Gate
///
/// One hard gate and its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateResult {
    /// Name
    ///
    /// Which gate: `tests` (the item's test commands), `smoke` (its smoke checks), `scope`,
    /// `secrets`, `acceptance`, or `quality <entry>` for each of its quality gates.
    pub name: String,
    /// Passed
    ///
    /// True when the gate passed.
    pub passed: bool,
    /// Detail
    ///
    /// What the gate found, in words (secrets redacted).
    pub detail: String,
}

/// Concord review gates
///
/// The hard gates of one review, run by Concord itself before any model is asked (written as
/// docs/reviews/<RUN>-<TIME>.gates.json beside the decision). A failed gate caps the
/// decision: the item is never `done`. Extra fields are allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "wbs_id": "WBS-005", "report": ".concord/runs/WBS-005-1/report.md", "passed": false,
    "gates": [
        { "name": "tests", "passed": true, "detail": "1 of 1 test commands passed" },
        { "name": "scope", "passed": false, "detail": "services/other.py is outside the lock's scope" },
        { "name": "quality max-files:1", "passed": false, "detail": "2 changed files, limit 1: services/other.py, services/payments/charge.py. Split the work into follow-up items or revert the changes this item does not need." }
    ]
}]))]
pub struct GatesFile {
    /// Work item
    ///
    /// The ID of the reviewed work item.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub wbs_id: String,
    /// Run report
    ///
    /// The run report the review read, workspace-relative; empty when there was none.
    pub report: String,
    /// Passed
    ///
    /// True when every gate passed.
    pub passed: bool,
    /// Gates
    ///
    /// Each gate, in the order they ran.
    pub gates: Vec<GateResult>,
    /// Reviewer error
    ///
    /// Present when a model reviewer failed (twice) and the decision fell back to `needs_human`:
    /// what failed, in words. `concord health` counts these; a review written before this field
    /// existed is read by its summary instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer_error: Option<String>,
}

/// Priority
///
/// The chunk's priority, from the index (`should` when the index gives none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Must,
    Should,
    Could,
}

impl Priority {
    /// The priority as written (serde's name for it).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Must => "must",
            Priority::Should => "should",
            Priority::Could => "could",
        }
    }
}

/// Coverage status
///
/// The first gap found, checking in this order: no work item (`missing_wbs`), no code
/// (`missing_code`), no tests (`missing_tests`); `covered` when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CoverageStatus {
    Covered,
    MissingWbs,
    MissingCode,
    MissingTests,
}

impl CoverageStatus {
    pub const ALL: [CoverageStatus; 4] = [
        CoverageStatus::Covered,
        CoverageStatus::MissingWbs,
        CoverageStatus::MissingCode,
        CoverageStatus::MissingTests,
    ];

    /// The status as written (serde's name for it).
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Covered => "covered",
            CoverageStatus::MissingWbs => "missing_wbs",
            CoverageStatus::MissingCode => "missing_code",
            CoverageStatus::MissingTests => "missing_tests",
        }
    }
}

/// Item counts
///
/// Traced items (functions, classes, tests) in item-level files, code and tests apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ItemCounts {
    /// Traced code items.
    pub code: u64,
    /// Traced test items.
    pub tests: u64,
}

/// Crosswalk entry
///
/// What covers one spec chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CrosswalkEntry {
    /// Chunk
    ///
    /// The chunk's ID, for example `TD-0103`.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub blueprint_id: String,
    /// Title
    ///
    /// The chunk's title.
    pub title: String,
    pub priority: Priority,
    /// Topic
    ///
    /// The chunk's topic, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Work items
    ///
    /// IDs of the work items that list the chunk, sorted.
    #[schemars(inner(regex(pattern = ID_PATTERN)))]
    pub wbs_ids: Vec<String>,
    /// Code files
    ///
    /// Code files traced to the chunk, sorted.
    pub code_paths: Vec<String>,
    /// Test files
    ///
    /// Test files traced to the chunk, sorted.
    pub test_paths: Vec<String>,
    pub status: CoverageStatus,
    pub items: ItemCounts,
}

/// Summary
///
/// Counts over all entries; a status or priority with no chunks is left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CrosswalkSummary {
    /// Number of chunk entries.
    pub chunks: u64,
    /// Number of chunks per coverage status.
    pub by_status: BTreeMap<CoverageStatus, u64>,
    /// For each priority, the number of its chunks per coverage status.
    pub by_priority: BTreeMap<Priority, BTreeMap<CoverageStatus, u64>>,
}

/// Crosswalk as written
///
/// The object form written by `concord crosswalk`, deterministically (sorted, no timestamps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Crosswalk {
    /// Format version
    ///
    /// Version of this file format. Currently 1.
    #[schemars(range(min = 1))]
    pub version: u32,
    /// Generated by
    ///
    /// The command that wrote the file: `concord crosswalk`.
    pub generated_by: String,
    /// Chunk entries
    ///
    /// One entry per spec chunk, sorted by `blueprint_id`.
    pub chunks: Vec<CrosswalkEntry>,
    pub summary: CrosswalkSummary,
}

/// Hand-curated crosswalk entry
///
/// An entry of a hand-curated crosswalk: only `blueprint_id` is needed, and `code_paths` and
/// `test_paths` may hold globs (a file they match counts as mapped to the chunk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CuratedEntry {
    /// Chunk
    ///
    /// The chunk's ID, for example `TD-0103`.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub blueprint_id: String,
    /// Code files
    ///
    /// Code files or globs mapped to the chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_paths: Option<Vec<String>>,
    /// Test files
    ///
    /// Test files or globs mapped to the chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_paths: Option<Vec<String>>,
}

/// Concord crosswalk
///
/// For each spec chunk, the work items, code and tests that cover it (default path
/// docs/blueprints/crosswalk.json). `concord crosswalk` writes the object form; when reading,
/// a top-level array of hand-curated entries is accepted too. Extra fields are allowed
/// everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CrosswalkFile {
    Written(Crosswalk),
    Curated(Vec<CuratedEntry>),
}

/// Concord trace lock
///
/// The spec text each reference was last reviewed against (default path ops/trace.lock),
/// written by `concord ack` and `concord bump --editorial`, sorted, committed with the code. A
/// reference whose chunk's fingerprint differs from the one recorded here is a
/// `stale-reference`: the chunk was rewritten since the code was checked against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "version": 1,
    "references": [
        { "chunk": "TD-0103", "path": "services/payments/stripe.py", "item": "StripeClient.charge", "fingerprint": "9f2c4e1a0b7d3c5e" },
        { "chunk": "TD-0103", "path": "tests/test_stripe.py", "fingerprint": "9f2c4e1a0b7d3c5e" }
    ]
}]))]
pub struct TraceLock {
    /// Format version
    ///
    /// Version of this file format. Currently 1.
    #[schemars(range(min = 1))]
    pub version: u32,
    /// References
    ///
    /// One entry per reference, sorted by chunk, path and item.
    pub references: Vec<TraceLockEntry>,
}

/// Reviewed reference
///
/// One place that traces to a chunk, and the chunk's fingerprint when it was last reviewed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceLockEntry {
    /// Chunk
    ///
    /// The chunk's ID, for example `TD-0103`.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub chunk: String,
    /// File
    ///
    /// The workspace-relative path of the file that names the chunk.
    #[schemars(length(min = 1))]
    pub path: String,
    /// Item
    ///
    /// In an item-level file, the item whose comments name the chunk, as its name path
    /// (`Class.method`); left out for a file-level reference (a file header, a file-level
    /// file). Keyed by name, not line, so moving code does not make it stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// Fingerprint
    ///
    /// The chunk's fingerprint (hash of its normalised text) when this reference was reviewed.
    #[schemars(length(min = 1))]
    pub fingerprint: String,
}

/// Owner question status
///
/// `pending` until a person answers it or it is withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    Pending,
    Answered,
    Withdrawn,
}

/// Option
///
/// One answer the owner can choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QuestionOption {
    /// Key
    ///
    /// A capital letter: `A`, `B`, ...
    #[schemars(regex(pattern = "^[A-Z]$"))]
    pub key: String,
    /// Text
    ///
    /// The option, as one sentence.
    #[schemars(length(min = 1))]
    pub text: String,
}

/// Recommendation
///
/// The option the asker recommends, and why, in one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    /// Option
    ///
    /// The key of the recommended option.
    #[schemars(regex(pattern = "^[A-Z]$"))]
    pub option: String,
    /// Reason
    ///
    /// Why, in one line.
    pub reason: String,
}

/// Concord owner question
///
/// One line of ops/owner-questions.jsonl: a decision only the project's owner can make. The file
/// is append-only: a question is changed (answered, withdrawn) by appending its whole record
/// again, and the last line of an ID is its state. docs/OWNER_QUESTIONS.md is rendered from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "id": "Q-0001", "wbs": ["WBS-005"], "chunks": ["TD-0103"], "topic": "Payments",
    "question": "Should refunds go back to the card or to store credit?",
    "options": [{ "key": "A", "text": "Back to the card." }, { "key": "B", "text": "Store credit." }],
    "recommendation": { "option": "A", "reason": "Card networks require it for disputes." },
    "asked_by": "reviewer", "asked_at": "2026-12-05T10:00:00Z", "status": "answered",
    "answer": "A", "answered_by": "owner", "answered_at": "2026-12-05T12:00:00Z"
}]))]
pub struct OwnerQuestion {
    /// Question ID
    ///
    /// `Q-` and at least four digits, given in order.
    #[schemars(regex(pattern = "^Q-[0-9]{4,}$"))]
    pub id: String,
    /// Work items
    ///
    /// The work items the question is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = ID_PATTERN)))]
    pub wbs: Vec<String>,
    /// Chunks
    ///
    /// The spec chunks the question is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = ID_PATTERN)))]
    pub chunks: Vec<String>,
    /// Topic
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Question
    ///
    /// The question, in words the owner acts on.
    #[schemars(length(min = 1))]
    pub question: String,
    /// Options
    ///
    /// The answers to choose from, two or more, keyed `A`, `B`, ... in order.
    #[schemars(length(min = 2))]
    pub options: Vec<QuestionOption>,
    /// Recommendation
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    /// Asked by
    ///
    /// Who raised it: `reviewer`, `planner`, a person's name, or a finding's code.
    pub asked_by: String,
    /// Asked at
    ///
    /// When, as an RFC 3339 date-time.
    #[schemars(extend("format" = "date-time"))]
    pub asked_at: String,
    /// Status
    pub status: QuestionStatus,
    /// Answer
    ///
    /// The key of the chosen option, once answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Z]$"))]
    pub answer: Option<String>,
    /// Note
    ///
    /// What the owner added to the answer, or why the question was withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Answered by
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
    /// Answered at
    ///
    /// When, as an RFC 3339 date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub answered_at: Option<String>,
    /// Proposal
    ///
    /// The work-item proposal (`P-0001`, under ops/proposals/) this question decides: answering
    /// `A` accepts it, `B` rejects it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^P-[0-9]{4,}$"))]
    pub proposal: Option<String>,
}

/// Concord pull request
///
/// One line of ops/pull-requests.jsonl: a pull request opened for a work item. The file is
/// append-only; the last line of a work item is its current pull request. While it exists,
/// the item becomes done only when the pull request's required checks are green.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "wbs": "WBS-005", "branch": "concord/WBS-005", "base": "main", "number": 12,
    "url": "https://github.com/acme/shop/pull/12",
    "head_sha": "3f2c9e1d4b5a6978877665544332211000ffeedd", "run": "RUN-20261205-1000-WBS-005",
    "opened_at": "2026-12-05T10:00:00Z", "draft": true
}]))]
pub struct PullRequestRecord {
    /// Work item
    ///
    /// The ID of the work item the pull request delivers.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub wbs: String,
    /// Branch
    ///
    /// The pull request's head branch.
    #[schemars(length(min = 1))]
    pub branch: String,
    /// Base
    ///
    /// The branch it is to be merged into.
    #[schemars(length(min = 1))]
    pub base: String,
    /// Number
    ///
    /// The pull request's number in its repository.
    #[schemars(range(min = 1))]
    pub number: u64,
    /// URL
    ///
    /// Where people read the pull request.
    pub url: String,
    /// Head commit
    ///
    /// The commit whose checks count: the head of the branch when the record was written.
    pub head_sha: String,
    /// Run
    ///
    /// The agent run that produced the work, when one did.
    #[serde(default)]
    pub run: Option<String>,
    /// Opened at
    ///
    /// When, as an RFC 3339 date-time.
    #[schemars(extend("format" = "date-time"))]
    pub opened_at: String,
    /// Draft
    ///
    /// Whether it was opened as a draft.
    pub draft: bool,
}

/// Proposal status
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Pending,
    Accepted,
    Rejected,
}

/// Proposed work item
///
/// A work item as it would be added to the WBS (the WBS's own fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedWorkItem {
    /// Work item ID
    ///
    /// The next free ID of the work-item family when the proposal was made; checked again on
    /// acceptance.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub id: String,
    #[schemars(length(min = 1))]
    pub title: String,
    pub phase: String,
    /// Chunks
    ///
    /// The spec chunks the item implements; each is a known chunk.
    #[schemars(length(min = 1), inner(regex(pattern = ID_PATTERN)))]
    pub blueprint_ids: Vec<String>,
    /// Scope
    ///
    /// Workspace-relative globs of the files the item may change.
    #[schemars(length(min = 1), inner(length(min = 1), regex(pattern = RELATIVE_GLOB_PATTERN)))]
    pub scope_paths: Vec<String>,
    pub acceptance_criteria: Vec<String>,
    pub test_commands: Vec<String>,
    pub risk_level: crate::model::Risk,
    pub autopilot_mode: crate::model::Autopilot,
    /// Depends on
    ///
    /// Work items (of the WBS or of this proposal) that must be done first.
    #[schemars(inner(regex(pattern = ID_PATTERN)))]
    pub depends_on: Vec<String>,
}

/// Critique
///
/// The assistant manager's reading of the proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Critique {
    /// Recommendation
    pub recommendation: CritiqueVerdict,
    /// Reason
    ///
    /// Why, in one or two sentences.
    pub reason: String,
    /// Missing chunks
    ///
    /// Chunks sent for planning that no proposed item really implements.
    pub missing_chunks: Vec<String>,
    /// Risky scopes
    pub risky_scopes: Vec<ScopeConcern>,
    /// Overlapping scopes
    pub overlapping_scopes: Vec<ScopeConcern>,
}

/// Critique verdict
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CritiqueVerdict {
    Accept,
    Revise,
    Reject,
}

/// Scope concern
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScopeConcern {
    /// Work item
    pub item: String,
    /// Concern
    pub concern: String,
}

/// Concord work-item proposal
///
/// ops/proposals/P-0001.json: work items proposed for spec chunks no work item covers, with the
/// assistant manager's critique and Concord's own checks. Never part of the WBS until the owner
/// accepts it (`concord plan accept P-0001`, or answering its question `A`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Proposal {
    /// Proposal ID
    #[schemars(regex(pattern = "^P-[0-9]{4,}$"))]
    pub id: String,
    /// Status
    pub status: ProposalStatus,
    /// Created at
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// Chunks
    ///
    /// The chunks that were sent for planning.
    pub chunks: Vec<String>,
    /// Work items
    pub items: Vec<ProposedWorkItem>,
    /// Critique
    pub critique: Critique,
    /// Checks
    ///
    /// What Concord found itself: chunks no item lists, scopes that overlap existing or proposed
    /// items. Each is a sentence.
    pub checks: Vec<String>,
    /// Question
    ///
    /// The owner question that decides the proposal.
    #[schemars(regex(pattern = "^Q-[0-9]{4,}$"))]
    pub question: String,
    /// Models
    ///
    /// The models that proposed and criticised, as `provider:model`.
    pub models: Vec<String>,
    /// Decided by
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Decided at
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub decided_at: Option<String>,
}

/// Health level
///
/// How the agent loop is doing: `green` (working), `yellow` (look soon), `red` (stop the loop
/// and fix first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthLevel {
    Green,
    Yellow,
    Red,
}

impl HealthLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthLevel::Green => "green",
            HealthLevel::Yellow => "yellow",
            HealthLevel::Red => "red",
        }
    }
}

/// Health signal
///
/// Which signal a reason comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthSignal {
    /// Dispatched runs that failed, over the recent runs.
    RunFailures,
    /// A model reviewer that failed, so a review fell back to a person.
    ReviewerError,
    /// The same gates failing with the same details in two reviews of one item in a row.
    RepeatedFailure,
    /// A lock older than `[locks] stale_after`.
    StaleLock,
    /// The autopilot's last smoke check.
    SmokeCheck,
}

/// Health reason
///
/// One reason the level is not green, in words an owner who is not an engineer acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthReason {
    /// Level
    ///
    /// The level this reason alone would give.
    pub level: HealthLevel,
    pub signal: HealthSignal,
    /// Text
    ///
    /// What is wrong, in plain words.
    pub text: String,
    /// Next
    ///
    /// What to do about it.
    pub next: String,
}

/// Run tally
///
/// The recent finished runs the level was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunTally {
    /// Window
    ///
    /// How many recent runs are looked at at most (`[health] window`).
    pub window: usize,
    /// Counted
    ///
    /// Finished runs in the window (a run still going is not counted).
    pub counted: usize,
    /// Failed
    ///
    /// Of those, the runs that failed (put back to `todo` or `blocked`).
    pub failed: usize,
}

/// Concord smoke check
///
/// The autopilot's last smoke check (`.concord/autopilot/smoke.json`): when it ran, whether it
/// passed, and the commands that failed. Extra fields are allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "at": "2026-12-05T20:00:00Z", "passed": false, "failed": ["pytest -q tests/smoke"]
}]))]
pub struct SmokeCheck {
    /// At
    ///
    /// When the check ran (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub at: String,
    /// Passed
    ///
    /// True when every smoke command passed.
    pub passed: bool,
    /// Failed
    ///
    /// The commands that failed, as run; empty when it passed.
    #[serde(default)]
    pub failed: Vec<String>,
}

/// Concord health
///
/// What `concord health --format json` prints (and the language server's `concord.health`
/// returns): the agent loop's level, why, and what was looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "level": "yellow", "checked_at": "2026-12-05T20:00:00Z",
    "summary": "Look soon: the loop works, but 1 thing needs attention.",
    "reasons": [{ "level": "yellow", "signal": "stale_lock", "text": "AGENT-2's lock on WBS-006 is 3d old.", "next": "If AGENT-2 is not working on it, run `concord lock sweep`." }],
    "facts": ["4 of the last 4 runs succeeded.", "No smoke check is recorded."],
    "runs": { "window": 10, "counted": 4, "failed": 0 }, "reviews": 2, "stale_locks": 1
}]))]
pub struct Health {
    pub level: HealthLevel,
    /// Checked at
    ///
    /// When the health was computed (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub checked_at: String,
    /// Summary
    ///
    /// The level in one sentence.
    pub summary: String,
    /// Reasons
    ///
    /// Why the level is not green, the most serious first; empty when green.
    pub reasons: Vec<HealthReason>,
    /// Facts
    ///
    /// What was looked at, one sentence each, whatever the level.
    pub facts: Vec<String>,
    pub runs: RunTally,
    /// Reviews
    ///
    /// Reviews in the window (the newest `[health] window`).
    pub reviews: usize,
    /// Stale locks
    pub stale_locks: usize,
    /// Smoke check
    ///
    /// The autopilot's last smoke check, when one is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoke: Option<SmokeCheck>,
}

/// MCP server handed over
///
/// An MCP server a dispatched agent was given for its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct McpServerHandedOver {
    /// Name
    ///
    /// The server's name in the agent's configuration.
    pub name: String,
    /// Handoff
    ///
    /// How the CLI was given it: `cursor-project` (the project's .cursor/mcp.json),
    /// `config-file` (a file named on its command line), `codex-overrides` (`-c` overrides).
    pub handoff: String,
}

/// Concord tools manifest entry
///
/// One line of ops/tools-manifest.jsonl (`paths.tools_manifest`), appended by every dispatch:
/// which agent CLI, at which version, with which model, MCP servers and flags a run was
/// started. Extra fields are allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "at": "2026-12-05T20:00:00Z", "run": "WBS-005-20261205T200000Z", "task_id": "WBS-005",
    "agent": "AGENT-1", "cli": "claude", "cli_version": "2.0.14 (Claude Code)", "model": "claude-sonnet-4-5",
    "mcp_servers": [{ "name": "concord", "handoff": "config-file" }],
    "flags": ["-p", "--output-format", "json", "--permission-mode", "acceptEdits", "--model", "claude-sonnet-4-5"]
}]))]
pub struct ToolsManifestEntry {
    /// At
    ///
    /// When the run was started (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub at: String,
    /// Run
    ///
    /// The run's ID (its folder .concord/runs/<run>/).
    pub run: String,
    /// Task
    ///
    /// The dispatched work item.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub task_id: String,
    /// Agent
    ///
    /// The agent the run's lock is held by.
    pub agent: String,
    /// CLI
    ///
    /// The agent CLI: a preset or a name under `[agents]`.
    pub cli: String,
    /// CLI version
    ///
    /// The first line `<program> --version` printed (within a few seconds), or `unknown`.
    pub cli_version: String,
    /// Model
    ///
    /// The model passed to the CLI, or null when none was (the CLI's own default).
    #[schemars(required, extend("type" = ["string", "null"]))]
    pub model: Option<String>,
    /// MCP servers
    ///
    /// The MCP servers handed to the agent for the run (`[dispatch] mcp`); empty when none.
    pub mcp_servers: Vec<McpServerHandedOver>,
    /// Flags
    ///
    /// The arguments the CLI was started with, after its program name, without the task's
    /// instruction text.
    pub flags: Vec<String>,
}

/// How a schema is generated: the draft it declares, and whether parts are written out in
/// place instead of referenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// JSON Schema 2020-12 with shared parts under `$defs`.
    Draft2020,
    /// Draft-07 with nothing referenced: what strict structured-output modes and the local
    /// validator (`ops::llm::validate`, which does not follow `$ref`) accept.
    Draft07Inline,
}

/// One generated schema: its file under docs/schemas/ and how to make it.
pub struct SchemaFile {
    pub file: &'static str,
    generate: fn() -> Value,
}

impl SchemaFile {
    /// The schema as committed: `$id` after `$schema`, pretty, newline-terminated.
    pub fn render(&self) -> String {
        let mut text = serde_json::to_string_pretty(&(self.generate)()).expect("a schema serializes");
        text.push('\n');
        text
    }
}

fn schema_of<T: JsonSchema>(file: &str, dialect: Dialect) -> Value {
    let settings = match dialect {
        Dialect::Draft2020 => schemars::generate::SchemaSettings::draft2020_12(),
        Dialect::Draft07Inline => {
            schemars::generate::SchemaSettings::draft07().with(|s| s.inline_subschemas = true)
        }
    };
    let mut schema = settings.into_generator().into_root_schema_for::<T>().to_value();
    titles_from_docs(&mut schema);
    if dialect == Dialect::Draft2020 {
        optional_means_absent(&mut schema);
    }
    let Value::Object(mut generated) = schema else { unreachable!("a root schema is an object") };
    // The header first, then the body as generated, shared definitions last.
    let mut out = serde_json::Map::new();
    out.insert("$schema".into(), generated.remove("$schema").unwrap_or(Value::Null));
    out.insert("$id".into(), Value::from(format!("https://concord.dev/schemas/{file}")));
    for key in ["title", "description"] {
        if let Some(value) = generated.remove(key) {
            out.insert(key.into(), value);
        }
    }
    let defs = generated.remove("$defs");
    out.extend(generated);
    if let Some(defs) = defs {
        out.insert("$defs".into(), defs);
    }
    Value::Object(out)
}

/// An optional field of these files is left out when it has no value, never written as null:
/// `null` is dropped from the types of properties that are not required.
fn optional_means_absent(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            let required: Vec<String> = object
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                for (name, property) in properties.iter_mut() {
                    if required.contains(name) {
                        continue;
                    }
                    if let Some(Value::Array(types)) = property.get_mut("type") {
                        types.retain(|t| t != "null");
                        if types.len() == 1 {
                            let only = types.remove(0);
                            property["type"] = only;
                        }
                    }
                }
            }
            for (key, value) in object.iter_mut() {
                if key != "examples" {
                    optional_means_absent(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(optional_means_absent),
        _ => {}
    }
}

/// A doc comment `Title\n\nDescription` gives a schema's `title` and `description` (in place
/// of the Rust type's name as title); lines of a paragraph are joined as the docs wrap them.
fn titles_from_docs(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if let Some(Value::String(doc)) = object.get("description").cloned() {
                let paragraphs: Vec<String> = doc
                    .split("\n\n")
                    .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
                    .collect();
                match paragraphs.as_slice() {
                    [title, rest @ ..] if !rest.is_empty() && !title.ends_with('.') => {
                        object.insert("title".into(), Value::from(title.clone()));
                        object.insert("description".into(), Value::from(rest.join("\n\n")));
                    }
                    _ => {
                        object.insert("description".into(), Value::from(paragraphs.join("\n\n")));
                    }
                }
            }
            for (key, value) in object.iter_mut() {
                // Examples are data, not schemas.
                if key != "examples" {
                    titles_from_docs(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(titles_from_docs),
        _ => {}
    }
}

/// Every schema generated from a type here.
pub const SCHEMAS: &[SchemaFile] = &[
    SchemaFile {
        file: "lock.schema.json",
        generate: || schema_of::<LockFile>("lock.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "queue-event.schema.json",
        generate: || schema_of::<QueueEvent>("queue-event.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "review-decision.schema.json",
        generate: || schema_of::<ReviewDecision>("review-decision.schema.json", Dialect::Draft07Inline),
    },
    SchemaFile {
        file: "gates.schema.json",
        generate: || schema_of::<GatesFile>("gates.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "trace-lock.schema.json",
        generate: || schema_of::<TraceLock>("trace-lock.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "owner-question.schema.json",
        generate: || schema_of::<OwnerQuestion>("owner-question.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "pull-request.schema.json",
        generate: || schema_of::<PullRequestRecord>("pull-request.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "proposal.schema.json",
        generate: || schema_of::<Proposal>("proposal.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "health.schema.json",
        generate: || schema_of::<Health>("health.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "smoke.schema.json",
        generate: || schema_of::<SmokeCheck>("smoke.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "tools-manifest.schema.json",
        generate: || schema_of::<ToolsManifestEntry>("tools-manifest.schema.json", Dialect::Draft2020),
    },
    SchemaFile {
        file: "crosswalk.schema.json",
        generate: || schema_of::<CrosswalkFile>("crosswalk.schema.json", Dialect::Draft2020),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn written<T: Serialize>(value: T) -> String {
        serde_json::to_value(value).unwrap().as_str().unwrap().to_string()
    }

    /// The names the model shows are the names serde writes.
    #[test]
    fn enum_names_are_the_written_names() {
        for s in QueueStatus::ALL {
            assert_eq!(written(s), s.as_str());
            assert_eq!(QueueStatus::parse(s.as_str()), Some(s));
        }
        for s in CoverageStatus::ALL {
            assert_eq!(written(s), s.as_str());
        }
        for p in [Priority::Must, Priority::Should, Priority::Could] {
            assert_eq!(written(p), p.as_str());
        }
    }
}
