//! The command line: a thin adapter over the core. Exit codes: 0 nothing at or above
//! `--fail-on`, 1 findings at or above it, 2 a usage or configuration error. `review` also
//! exits 3 `needs_human`, 4 `partial`, 5 `reject`, 6 `blocked`; `dispatch` and `review` stopped
//! by a signal exit 128 + its number (130 SIGINT, 143 SIGTERM).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::Report;
use crate::coverage;
use crate::findings::{Finding, Severity};
use crate::render;
use crate::workspace::{CacheUse, Workspace};

// Everything the CLI prints to standard output goes through these two, which shadow std's
// (so every command, present and future, gets them): a reader that stops early
// (`concord status | head -1`) ends the output quietly instead of a panic with "failed
// printing to stdout", and the command itself finishes as it would have.
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}
macro_rules! println {
    () => {
        $crate::cli::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Set once standard output cannot be written: nothing more is tried.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Write to standard output; a closed pipe silences the rest of the output, another error is
/// said once on standard error.
pub(crate) fn write_stdout(args: std::fmt::Arguments) {
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = std::io::Write::write_fmt(&mut std::io::stdout().lock(), args) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("concord: cannot write to standard output: {e}");
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "concord",
    version,
    about = "Keeps the spec, the work plan, agents' locks and the code in enforced agreement."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report traceability findings for a workspace (exit 1 when any is at or above --fail-on).
    Check(CheckArgs),
    /// Regenerate the crosswalk (chunk → work items → code → tests) and print coverage.
    Crosswalk(CrosswalkArgs),
    /// List every ID reference (`path:line:column:ID`), or count them per file (`--count`).
    Refs {
        /// The workspace root (default: the current directory).
        path: Option<PathBuf>,
        /// Print `path:count` per file instead of each reference.
        #[arg(long, short)]
        count: bool,
        /// Only these IDs (repeatable).
        #[arg(long = "id")]
        ids: Vec<String>,
    },
    /// Run the language server on stdin/stdout.
    Lsp,
    /// Run the MCP server on stdin/stdout (for agents), or install it in clients' configurations.
    Mcp(McpArgs),
    /// Explain a finding code (or list them all).
    Explain { code: Option<String> },
    /// Take, give back, list and sweep agents' locks.
    #[command(subcommand)]
    Lock(LockCommand),
    /// Check an agent's changes since a commit against its lock (exit 1 when outside it).
    ScopeCheck(ScopeCheckArgs),
    /// The git pre-commit hook: secrets and scope.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Print the trailer lines to paste into the commit message for the staged changes
    /// (`Implements: WBS-005`: the work items whose scopes cover the staged files, then the IDs
    /// they are tagged with). Exit 1 when no ID is found.
    Trailers {
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Build the chunk index (blueprint_index.json) from the spec's markdown: every heading that
    /// starts with an ID, with a summary, source and line, topic, priority and fingerprint;
    /// entries the markdown does not define are kept. Running it twice changes nothing.
    Ingest {
        /// Say what would change (with --assign-ids, as a diff of the headings); write nothing
        /// and send no request.
        #[arg(long)]
        dry_run: bool,
        /// First give each heading at the chunk level that has no ID the next free ID of its
        /// family, written into the markdown.
        #[arg(long)]
        assign_ids: bool,
        /// Summaries written by the model of [review] (an OpenAI-compatible server) instead of
        /// extracted; cached by fingerprint, so unchanged chunks cost nothing.
        #[arg(long)]
        summarize: bool,
        /// A vector embedding of each chunk from the embeddings endpoint of [ingest]; cached by
        /// fingerprint.
        #[arg(long)]
        embed: bool,
        /// Trust this workspace for this run only (CONCORD_TRUST=1 does the same): --summarize
        /// and --embed send your API key to the servers its concord.toml names.
        #[arg(long)]
        trust: bool,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Propose work items for spec chunks no work item lists (all, a topic, or the IDs given):
    /// the primary decider proposes, the assistant manager criticises, and the result is a
    /// proposal under ops/proposals/ with an owner question; the WBS changes only when the owner
    /// accepts (`plan accept`). Sends the chunks and the API keys to the endpoints concord.toml
    /// names, so it runs in a trusted workspace only.
    #[command(args_conflicts_with_subcommands = true)]
    Plan {
        #[command(subcommand)]
        decision: Option<PlanDecision>,
        /// Chunk IDs to plan for (default: every chunk no work item lists).
        ids: Vec<String>,
        /// Only the chunks of this topic.
        #[arg(long, conflicts_with = "ids")]
        topic: Option<String>,
        /// Chunks in one request (default: [plan] chunks_per_call).
        #[arg(long)]
        chunks_per_call: Option<usize>,
        /// Chunks in this run, over all requests (default: [plan] max_chunks).
        #[arg(long)]
        max_chunks: Option<usize>,
        /// Print the requests that would be sent; send and write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        trust: TrustArg,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Ask the owner a question (ops/owner-questions.jsonl; docs/OWNER_QUESTIONS.md is rendered
    /// from it).
    Ask {
        /// The question, in words the owner acts on.
        question: String,
        /// An answer to choose from, in order A, B, ... (give two or more).
        #[arg(long = "option", required = true)]
        options: Vec<String>,
        /// The recommended option's letter.
        #[arg(long, requires = "reason")]
        recommend: Option<String>,
        /// Why that option, in one line.
        #[arg(long, requires = "recommend")]
        reason: Option<String>,
        /// A work item the question is about (repeatable).
        #[arg(long)]
        wbs: Vec<String>,
        /// A spec chunk the question is about (repeatable).
        #[arg(long)]
        chunk: Vec<String>,
        #[arg(long)]
        topic: Option<String>,
        /// Who asks (default: the USER environment variable).
        #[arg(long, env = "USER", default_value = "a person")]
        by: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Answer an owner question with one of its options; a question that decides a proposal
    /// accepts it (A) or rejects it (B).
    Answer {
        /// The question, e.g. Q-0001.
        id: String,
        /// The option's letter.
        option: String,
        /// What the owner adds (recorded with the answer, and in the item's next task file).
        #[arg(long)]
        note: Option<String>,
        /// Who answers (default: the USER environment variable).
        #[arg(long, env = "USER", default_value = "a person")]
        by: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Where the project stands, for its owner: docs/OWNER_DASHBOARD.md (coverage by status,
    /// priority and topic with its trend, decisions waiting, top risks, what the loop would do
    /// next, what changed since the last report, the work board, the chunks not covered), and a
    /// snapshot appended to ops/coverage-history.jsonl for the next report to compare with.
    Report {
        /// `md`: the dashboard only; `html`: also a self-contained HTML report (index.html).
        #[arg(long, default_value = "md", value_parser = ["md", "html"])]
        format: String,
        /// The folder for the HTML report (default: .concord/report).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// List the owner's questions, pending first.
    Questions {
        /// Also the answered and withdrawn ones.
        #[arg(long)]
        all: bool,
        /// `text` or `json` (the questions' records, as in the JSONL file).
        #[arg(long, default_value = "text")]
        format: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Check the chunk index against the markdown: sources that are gone or define the chunk no
    /// more, stale fingerprints, chunks only one side has, duplicate IDs. Exit 1 on a finding.
    VerifyBlueprints {
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Record that places tracing to a chunk were reviewed against its current text
    /// (ops/trace.lock): with no ID, every place not recorded yet; with an ID, its places (or
    /// one: PATH or PATH:ITEM), clearing their `stale-reference` findings.
    Ack {
        /// A chunk ID, e.g. TD-0103.
        id: Option<String>,
        /// PATH, or PATH:ITEM in an item-level file (`src/pay.py:Billing.charge`).
        place: Option<String>,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Declare an edit of a chunk wording-only: every place recorded against its older text is
    /// kept current, so nothing goes stale.
    Bump {
        /// The chunk ID.
        id: String,
        /// The edit changed wording only (the one kind of bump).
        #[arg(long, required = true)]
        editorial: bool,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Is the agent loop healthy? Green, yellow or red, why, and what to do, from the recent runs,
    /// the recent reviews, stale locks and the autopilot's last smoke check. Exit 0 green or
    /// yellow, 1 red (`--fail-on yellow`: 1 on yellow too), 2 a usage or configuration error.
    Health {
        /// `text` (for people) or `json` (docs/schemas/health.schema.json).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        /// The lowest level that exits 1.
        #[arg(long, default_value = "red", value_parser = ["yellow", "red"])]
        fail_on: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Show the queue: every work item's status, risk, lock and whether it can be dispatched.
    Status {
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Hand the next eligible work item (or the one named) to an agent CLI.
    Dispatch {
        /// The work item (default: the next eligible one in priority order).
        id: Option<String>,
        #[command(flatten)]
        agent: AgentArg,
        /// The agent CLI: a preset (cursor-agent, claude, codex, aider) or a name under [agents].
        #[arg(long)]
        cli: Option<String>,
        /// The model to pass to the CLI.
        #[arg(long)]
        model: Option<String>,
        #[command(flatten)]
        trust: TrustArg,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Run the loop: dispatch, review and apply item after item, each on its own branch and
    /// worktree; commit accepted work with trace trailers; push and open draft pull requests
    /// only when asked. Stops at the first failure, with every item in a true state.
    Autopilot {
        /// Items to work on in this loop (default: [autopilot] max_items).
        #[arg(long)]
        max_items: Option<u32>,
        /// Agent runs in this loop, rework included (default: [autopilot] max_runs).
        #[arg(long)]
        max_runs: Option<u32>,
        /// Wall-clock limit of the loop, in minutes (0.5 is thirty seconds); a run still going
        /// then is stopped with its process group.
        #[arg(long, value_parser = positive_minutes)]
        max_minutes: Option<f64>,
        /// Items worked on at once, each in its own worktree and lock.
        #[arg(long)]
        parallel: Option<u32>,
        /// Push each accepted item's branch to the remote.
        #[arg(long)]
        push: bool,
        /// Open a draft pull request for each pushed branch (needs --push).
        #[arg(long)]
        open_pr: bool,
        /// Print the plan: which items, in which order, with which agent, and why the rest wait.
        #[arg(long)]
        dry_run: bool,
        /// Start although `concord health` is red, once its cause is fixed (a red that only new
        /// runs can clear).
        #[arg(long)]
        ignore_red_health: bool,
        /// The agent CLI: a preset or a name under [agents].
        #[arg(long)]
        cli: Option<String>,
        /// The model to pass to the CLI.
        #[arg(long)]
        model: Option<String>,
        #[command(flatten)]
        trust: TrustArg,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Review a run report: gates, then the assistant manager and the primary decider.
    Review {
        /// The run report (a path or run id; default: the newest).
        run: Option<String>,
        /// Run the gates only, ask no model.
        #[arg(long)]
        no_llm: bool,
        #[command(flatten)]
        trust: TrustArg,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Apply a review decision to the queue, the progress log, the lock and the WBS.
    Apply {
        /// The decision (default: the newest in the reviews folder).
        review: Option<String>,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Move an item whose run died (with its machine, or by kill -9) from in_progress back to
    /// todo and release its lock; refused while its run's process is alive on this host.
    Requeue {
        id: String,
        /// Why (recorded in the queue).
        #[arg(long)]
        reason: String,
        /// Who requeues (default: the USER environment variable).
        #[arg(long, env = "USER", default_value = "a person")]
        by: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Trust a workspace: let `dispatch` and `review` run the commands its WBS and concord.toml
    /// name (recorded per user under $XDG_CONFIG_HOME/concord/ or ~/.config/concord/).
    Trust {
        /// The workspace root (default: the current directory).
        path: Option<PathBuf>,
    },
    /// A person's approval of an item awaiting it.
    Approve {
        id: String,
        /// Who approves (default: the USER environment variable).
        #[arg(long, env = "USER", default_value = "a person")]
        by: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
}

/// What the owner decides about a proposal.
#[derive(Debug, Subcommand)]
pub enum PlanDecision {
    /// Append the proposal's work items to the WBS (checked again against it first).
    Accept {
        /// The proposal, e.g. P-0001.
        id: String,
        /// Accept even where a proposed scope overlaps an unfinished work item's.
        #[arg(long)]
        allow_overlap: bool,
        /// Who decides (default: the USER environment variable).
        #[arg(long, env = "USER", default_value = "a person")]
        by: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Record that the proposal is refused; the WBS is not touched.
    Reject {
        id: String,
        /// Why (recorded with the question's answer).
        #[arg(long)]
        note: Option<String>,
        #[arg(long, env = "USER", default_value = "a person")]
        by: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
}

#[derive(Debug, clap::Args)]
pub struct WorkspaceArg {
    /// The workspace root.
    #[arg(long, short = 'C', default_value = ".")]
    pub workspace: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct TrustArg {
    /// Trust this workspace for this run only (CONCORD_TRUST=1 does the same), instead of
    /// `concord trust`.
    #[arg(long)]
    pub trust: bool,
}

#[derive(Debug, clap::Args)]
pub struct AgentArg {
    /// The agent (default: the CONCORD_AGENT environment variable).
    #[arg(long, env = "CONCORD_AGENT")]
    pub agent: String,
}

#[derive(Debug, Subcommand)]
pub enum LockCommand {
    /// Take a lock; refused when its scope overlaps a live lock.
    Acquire {
        #[command(flatten)]
        agent: AgentArg,
        /// The work item (its scope_paths are the default scope).
        #[arg(long)]
        task: String,
        /// Globs of the files the lock holds (repeatable).
        #[arg(long = "scope")]
        scope: Vec<String>,
        #[command(flatten)]
        local: LocalArg,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Give a lock back.
    Release {
        #[command(flatten)]
        agent: AgentArg,
        /// Refuse unless the lock is for this task.
        #[arg(long)]
        task: Option<String>,
        #[command(flatten)]
        local: LocalArg,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// List the live locks with their age (fetched from the lock remote, when there is one).
    List {
        #[command(flatten)]
        local: LocalArg,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Exit 0 only if the agent still holds the lock for the task granted with this fencing
    /// token (on the lock remote); 1 when it was swept or taken again since.
    Verify {
        #[command(flatten)]
        agent: AgentArg,
        #[arg(long)]
        task: String,
        /// The fencing token the lock was granted with (`Concord-Lock: TASK@TOKEN`).
        #[arg(long)]
        token: i64,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Remove locks older than a duration (90m, 24h, 7d).
    Sweep {
        #[arg(long)]
        older_than: String,
        #[command(flatten)]
        local: LocalArg,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
}

#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LocalArg {
    /// Use this checkout's lock folder even when `[locks] remote` is set (locks taken so are
    /// not seen by other machines).
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, clap::Args)]
pub struct ScopeCheckArgs {
    #[command(flatten)]
    pub agent: AgentArg,
    /// Compare with this commit (default: the commit recorded in the lock, else HEAD).
    #[arg(long)]
    pub base: Option<String>,
    #[command(flatten)]
    pub ws: WorkspaceArg,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct McpArgs {
    #[command(subcommand)]
    pub command: Option<McpCommand>,
    /// The workspace a call without `cwd` is about (default: CONCORD_WORKSPACE, else the
    /// current directory).
    #[arg(long, short = 'C', env = "CONCORD_WORKSPACE", default_value = ".")]
    pub workspace: PathBuf,
    /// Enable the lock tools in any workspace asked about (CONCORD_TRUST=1 does the same);
    /// without it they work only in workspaces trusted with `concord trust`.
    #[arg(long)]
    pub trust: bool,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Write the project-scoped MCP configuration of Cursor, Claude Code and/or Codex (merged
    /// into what is there, idempotent).
    Install {
        /// `.cursor/mcp.json`
        #[arg(long)]
        cursor: bool,
        /// `.mcp.json`
        #[arg(long)]
        claude: bool,
        /// `[mcp_servers.concord]` in `.codex/config.toml` (and the `codex mcp add` line)
        #[arg(long)]
        codex: bool,
        /// The command the clients run (default: `concord`, from the PATH).
        #[arg(long, default_value = "concord")]
        command: String,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install the pre-commit hook (or with --commit-msg, the commit-msg hook) in this repository.
    Install {
        /// Keep an existing foreign hook as <hook>.local (run first) instead of refusing.
        #[arg(long)]
        force: bool,
        /// Install the commit-msg hook: it refuses a message without a trace trailer and
        /// suggests the IDs of the staged files' work items.
        #[arg(long)]
        commit_msg: bool,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// What the commit-msg hook runs: check the message file for a trace trailer.
    CommitMsg {
        /// The message file git passes (.git/COMMIT_EDITMSG).
        file: PathBuf,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// What the hook runs: check the staged changes.
    PreCommit {
        /// The agent whose lock the commit must stay in (default: CONCORD_AGENT, if set).
        #[arg(long, env = "CONCORD_AGENT")]
        agent: Option<String>,
        #[command(flatten)]
        ws: WorkspaceArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Error,
    Warning,
    Info,
    Hint,
    Never,
}

impl Level {
    fn severity(self) -> Option<Severity> {
        match self {
            Level::Error => Some(Severity::Error),
            Level::Warning => Some(Severity::Warning),
            Level::Info => Some(Severity::Info),
            Level::Hint => Some(Severity::Hint),
            Level::Never => None,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The workspace root (default: the current directory).
    pub path: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: Level,
    /// Leave out findings below this severity (default: warning for text, hint for json and sarif).
    #[arg(long, value_enum)]
    pub min_severity: Option<Level>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Check only the change since REF: the files changed from the merge base of REF and the
    /// head (`unmapped-change`), and the commits in between (`untraced-commit`). `auto` picks
    /// the base a CI run needs (pull request, push, or the default branch).
    #[arg(long, value_name = "REF", conflicts_with = "base")]
    pub changed_since: Option<String>,
    /// The same as --changed-since REF (with --head).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// The end of the range (default: HEAD). Files are read from the working tree, so this
    /// should be the checked-out commit.
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub head: String,
    /// Append a Markdown summary of the findings to this file (default: $GITHUB_STEP_SUMMARY
    /// when it is set).
    #[arg(long, value_name = "FILE", env = "GITHUB_STEP_SUMMARY")]
    pub summary: Option<PathBuf>,
    /// Read and write no facts or findings cache: every file is read and scanned, every
    /// finding computed.
    #[arg(long)]
    pub no_cache: bool,
    /// Keep the facts and findings caches in this folder (a CI cache folder) instead of
    /// `cache.dir` of concord.toml (default `.concord/cache`).
    #[arg(long, value_name = "DIR", env = "CONCORD_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CrosswalkArgs {
    /// The workspace root (default: the current directory).
    pub path: Option<PathBuf>,
    /// Do not write: exit 1 if the crosswalk on disk is out of date.
    #[arg(long)]
    pub check: bool,
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Crosswalk(args) => crosswalk(args),
        Command::Lsp => crate::lsp::run_stdio(),
        Command::Mcp(args) => mcp(args),
        Command::Refs { path, count, ids } => refs(path.as_deref(), count, &ids),
        Command::Explain { code } => explain(code.as_deref()),
        Command::Lock(command) => lock(command),
        Command::ScopeCheck(args) => scope_check(args),
        Command::Hook(command) => hook(command),
        Command::Status { ws } => status(&ws.workspace),
        Command::Health { format, fail_on, ws } => health(&ws.workspace, &format, &fail_on),
        Command::Trailers { ws } => trailers(&ws.workspace),
        Command::VerifyBlueprints { ws } => verify_blueprints(&ws.workspace),
        Command::Ingest { dry_run, assign_ids, summarize, embed, trust, ws } => {
            if (summarize || embed) && !dry_run {
                let what = "requests carrying your API key to the model servers";
                if let Err(message) = crate::ops::trust::require(&ws.workspace, trust, "ingest", what) {
                    eprintln!("concord ingest: {message}");
                    return ExitCode::from(2);
                }
            }
            outcome(&ws.workspace, |w| {
                crate::ops::ingest::ingest(
                    w,
                    crate::ops::ingest::Options { dry_run, assign_ids, summarize, embed },
                )
            })
        }
        Command::Ack { id, place, ws } => outcome(&ws.workspace, |w| {
            let what = match id.as_deref() {
                Some(id) => crate::ops::trace_lock::Ack::Chunk { id, place: place.as_deref() },
                None => crate::ops::trace_lock::Ack::Unrecorded,
            };
            crate::ops::trace_lock::ack(w, what)
        }),
        Command::Bump { id, editorial: _, ws } => outcome(&ws.workspace, |w| {
            crate::ops::trace_lock::ack(w, crate::ops::trace_lock::Ack::Editorial { id: &id })
        }),
        Command::Dispatch { id, agent, cli, model, trust, ws } => dispatch(
            &ws.workspace,
            id.as_deref(),
            &agent.agent,
            cli.as_deref(),
            model.as_deref(),
            trust.trust,
        ),
        Command::Autopilot {
            max_items,
            max_runs,
            max_minutes,
            parallel,
            push,
            open_pr,
            dry_run,
            ignore_red_health,
            cli,
            model,
            trust,
            ws,
        } => {
            let options = crate::ops::autopilot::Options {
                max_items,
                max_runs,
                max_minutes,
                parallel,
                push,
                open_pr,
                dry_run,
                ignore_red_health,
                cli,
                model,
            };
            autopilot(&ws.workspace, &options, trust.trust)
        }
        Command::Review { run, no_llm, trust, ws } => {
            review(&ws.workspace, run.as_deref(), no_llm, trust.trust)
        }
        Command::Requeue { id, reason, by, ws } => {
            outcome(&ws.workspace, |w| crate::ops::requeue::requeue(w, &id, &reason, &by))
        }
        Command::Trust { path } => {
            match crate::ops::trust::trust(path.as_deref().unwrap_or(Path::new("."))) {
                Ok(message) => {
                    println!("{message}");
                    ExitCode::SUCCESS
                }
                Err(message) => usage_error(message),
            }
        }
        Command::Apply { review, ws } => {
            outcome(&ws.workspace, |w| crate::ops::apply::apply(w, review.as_deref(), "concord"))
        }
        Command::Plan { decision: Some(PlanDecision::Accept { id, allow_overlap, by, ws }), .. } => {
            outcome(&ws.workspace, |w| crate::ops::plan::accept(w, &id, &by, allow_overlap))
        }
        Command::Plan { decision: Some(PlanDecision::Reject { id, note, by, ws }), .. } => {
            outcome(&ws.workspace, |w| crate::ops::plan::reject(w, &id, &by, note.as_deref()))
        }
        Command::Plan { decision: None, ids, topic, chunks_per_call, max_chunks, dry_run, trust, ws } => {
            if !dry_run {
                if let Err(message) = crate::ops::trust::require(
                    &ws.workspace,
                    trust.trust,
                    "plan",
                    "requests to the model endpoints concord.toml names, with your API keys",
                ) {
                    eprintln!("concord plan: {message}");
                    return ExitCode::from(2);
                }
            }
            let selection = match (topic, ids.is_empty()) {
                (Some(topic), _) => crate::ops::plan::Selection::Topic(topic),
                (None, true) => crate::ops::plan::Selection::Uncovered,
                (None, false) => crate::ops::plan::Selection::Ids(ids),
            };
            let request = crate::ops::plan::Request { selection, chunks_per_call, max_chunks, dry_run };
            outcome(&ws.workspace, |w| crate::ops::plan::plan(w, &request))
        }
        Command::Ask { question, options, recommend, reason, wbs, chunk, topic, by, ws } => {
            let ask = crate::ops::questions::Ask {
                question,
                options,
                recommend: recommend.map(|r| (r.trim().to_ascii_uppercase(), reason.unwrap_or_default())),
                wbs,
                chunks: chunk,
                topic,
                asked_by: by,
                proposal: None,
            };
            outcome(&ws.workspace, |w| {
                crate::ops::questions::ask(w, &ask)
                    .map(|q| format!("{} asked; answer with `concord answer {} <letter>`", q.id, q.id))
            })
        }
        Command::Answer { id, option, note, by, ws } => {
            outcome(&ws.workspace, |w| crate::ops::plan::answer(w, &id, &option, &by, note.as_deref()))
        }
        Command::Questions { all, format, ws } => questions(&ws.workspace, all, &format),
        Command::Report { format, output, ws } => {
            outcome(&ws.workspace, |w| crate::ops::report::report(w, format == "html", output.as_deref()))
        }
        Command::Approve { id, by, ws } => {
            outcome(&ws.workspace, |w| crate::ops::apply::approve(w, &id, &by))
        }
    }
}

fn questions(root: &Path, all: bool, format: &str) -> ExitCode {
    if !matches!(format, "text" | "json") {
        return usage_error(format!("--format {format}: use text or json"));
    }
    let ws = match load(Some(root)) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let questions = match crate::ops::questions::load(&ws.root, &ws.config) {
        Ok(questions) => questions,
        Err(message) => {
            eprintln!("concord questions: {message}");
            return ExitCode::from(1);
        }
    };
    let shown: Vec<_> = crate::ops::questions::ordered(&questions)
        .into_iter()
        .filter(|q| all || q.status == crate::formats::QuestionStatus::Pending)
        .collect();
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&shown).expect("questions serialize"));
        return ExitCode::SUCCESS;
    }
    if shown.is_empty() {
        println!("no {}questions", if all { "" } else { "pending " });
    }
    for q in shown {
        let status = crate::ops::questions::status_name(q.status);
        let about: Vec<&str> = q.wbs.iter().chain(&q.chunks).map(String::as_str).collect();
        let about = if about.is_empty() { String::new() } else { format!(" [{}]", about.join(", ")) };
        println!("{} ({status}){about}: {}", q.id, q.question);
        for option in &q.options {
            let mark = if q.answer.as_deref() == Some(option.key.as_str()) { " <- answer" } else { "" };
            println!("  {}: {}{mark}", option.key, option.text);
        }
        if let Some(r) = &q.recommendation {
            println!("  recommended: {} ({})", r.option, r.reason);
        }
    }
    ExitCode::SUCCESS
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("concord: {message}");
    ExitCode::from(2)
}

fn load(path: Option<&Path>) -> Result<Workspace, ExitCode> {
    let root = path.unwrap_or(Path::new("."));
    let ws = Workspace::load(root).map_err(usage_error)?;
    // Whatever this command writes or prints is scrubbed under this workspace's configuration.
    crate::ops::scrub::use_config(&ws.config);
    Ok(ws)
}

/// The workspace and report of a `--changed-since` check.
fn check_changes(root: &Path, since: &str, head: &str) -> Result<Report, ExitCode> {
    use crate::ops::changes::{auto_base, process_env, read_range, Base};
    if !root.is_dir() {
        return Err(usage_error(format!("{} is not a directory: give the workspace root", root.display())));
    }
    let base = if since == "auto" {
        auto_base(root, head, &process_env()).map_err(usage_error)?
    } else {
        Base { rev: since.to_string(), why: "as given".into(), depth_hint: None }
    };
    let changes = read_range(root, &base, head).map_err(usage_error)?;
    if crate::ops::changes::resolve(root, "HEAD").as_deref() != Some(changes.head.as_str()) {
        eprintln!("concord: note: --head {head} is not the checked-out commit; the changed files are read from the working tree");
    }
    let ws = Workspace::load_paths(root, &changes.existing_paths()).map_err(usage_error)?;
    crate::ops::scrub::use_config(&ws.config);
    let skipped =
        changes.commits.iter().filter(|c| crate::changes::skipped_commit(&ws.config, c).is_some()).count();
    let range = crate::analysis::RangeSummary {
        base_ref: base.rev.clone(),
        why: base.why.clone(),
        base: changes.base.clone(),
        head: changes.head.clone(),
        files_changed: changes.files.len(),
        commits: changes.commits.len(),
        commits_skipped: skipped,
    };
    Ok(crate::analysis::analyze_changes(&ws, &changes, range))
}

/// A whole workspace's report in text or JSON from its parts, and the findings cache written
/// again when any part was computed or a file is gone.
fn write_parts<'a, 'scope>(
    parts: crate::report_parts::Parts<'a>,
    report: &crate::analysis::Report,
    root: &str,
    out: &mut dyn std::io::Write,
    scope: &'scope std::thread::Scope<'scope, '_>,
) -> std::io::Result<render::Tally>
where
    'a: 'scope,
{
    let mut writer = render::ReportWriter::start(parts.layout, root, parts.min, out);
    let mut update = parts.cache.map(|cache| cache.update());
    let (mut computed, mut replayed, mut uncached) = (0, 0, 0);
    for part in parts.ahead(scope) {
        writer.part(&part.rendered, &part.counts, || parts.findings_at(part.path))?;
        match part.entry {
            None => uncached += 1,
            Some(_) if part.computed => computed += 1,
            Some(_) => replayed += 1,
        }
        if let (Some(update), Some(entry)) = (&mut update, part.entry) {
            update.add(entry, part.computed);
        }
    }
    let tally = writer.finish(report)?;
    if let Some(update) = update {
        tracing::debug!(target: "concord::findings_cache", replayed, computed, uncached, "findings cache");
        update.finish();
    }
    Ok(tally)
}

fn check(args: CheckArgs) -> ExitCode {
    // The check's own log (how the facts cache served each file) only when asked for: stderr
    // stays quiet in CI otherwise.
    if std::env::var("CONCORD_LOG").is_ok_and(|v| !v.trim().is_empty()) {
        crate::lsp::logging::init();
    }
    let started = std::time::Instant::now();
    let since = args.changed_since.as_deref().or(args.base.as_deref());
    // The facts cache is written while the findings are; it must be done before the exit.
    let mut cache_write = None;
    // A range check's report is small and held; a whole workspace's findings are streamed
    // to the output as they are computed (a big tree has hundreds of thousands).
    let (report, ws) = match since {
        Some(since) => match check_changes(args.path.as_deref().unwrap_or(Path::new(".")), since, &args.head)
        {
            Ok(report) => (report, None),
            Err(code) => return code,
        },
        None => {
            let root = args.path.as_deref().unwrap_or(Path::new("."));
            let cache = if args.no_cache { CacheUse::Off } else { CacheUse::ReadWrite };
            let (ws, written) =
                match Workspace::load_cached_writing_aside(root, cache, args.cache_dir.as_deref()) {
                    Ok(loaded) => loaded,
                    Err(e) => return usage_error(e),
                };
            cache_write = Some(written);
            crate::ops::scrub::use_config(&ws.config);
            let analysis = crate::analysis::Analysis::new(&ws);
            tracing::debug!(ms = started.elapsed().as_millis() as u64, "analysis built");
            (crate::analysis::report_without_findings(&ws, &analysis), Some((ws, analysis)))
        }
    };
    let default_min = if args.format == Format::Text { Level::Warning } else { Level::Hint };
    let min = args.min_severity.unwrap_or(default_min).severity().unwrap_or(Severity::Error);
    let root = args.path.as_deref().map_or(".".to_string(), |p| p.display().to_string());
    let write_findings =
        |findings: &mut dyn Iterator<Item = Finding>, out: &mut dyn std::io::Write| match args.format {
            Format::Text => render::write_text(&report, findings, min, out),
            Format::Json => render::write_json(&report, findings, &root, min, out),
            Format::Sarif => render::write_sarif(findings, min, out),
        };
    let layout = match args.format {
        Format::Text => Some(render::Layout::Text),
        Format::Json => Some(render::Layout::Json),
        Format::Sarif => None,
    };
    // Text and JSON replay unchanged files' parts from the findings cache.
    let findings_cache = match (&ws, layout) {
        (Some((ws, _)), Some(layout)) => {
            let dir = crate::workspace::cache_dir(&ws.root, &ws.config, args.cache_dir.as_deref());
            dir.zip(ws.inputs_key()).map(|(dir, inputs)| {
                let key = crate::findings_cache::run_key(&inputs, layout, min);
                crate::findings_cache::FindingsCache::open(&dir, layout, min, key)
            })
        }
        _ => None,
    };
    // A whole workspace's findings are computed a batch ahead of the one being written.
    let write = |out: &mut dyn std::io::Write| -> std::io::Result<render::Tally> {
        match (&ws, layout) {
            (Some((ws, analysis)), Some(layout)) => {
                let parts =
                    crate::report_parts::Parts { ws, analysis, layout, min, cache: findings_cache.as_ref() };
                std::thread::scope(|scope| write_parts(parts, &report, &root, out, scope))
            }
            (Some((ws, analysis)), None) => std::thread::scope(|scope| {
                write_findings(&mut crate::analysis::FindingStream::ahead(scope, ws, analysis, min), out)
            }),
            (None, _) => write_findings(&mut report.findings.iter().cloned(), out),
        }
    };
    let tally = match &args.output {
        Some(file) => {
            let mut tally = None;
            let written = crate::fsutil::write_user_output_with(file, |out| {
                tally = Some(write(out)?);
                Ok(())
            });
            match (written, tally) {
                (Ok(()), Some(tally)) => tally,
                (Err(e), _) => return usage_error(format!("cannot write {}: {e}", file.display())),
                (Ok(()), None) => return usage_error(format!("cannot write {}", file.display())),
            }
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            match write(&mut stdout).and_then(|tally| std::io::Write::flush(&mut stdout).map(|()| tally)) {
                Ok(tally) => tally,
                // A reader that stopped early (`| head`): the check still decides the exit.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => match write(&mut std::io::sink()) {
                    Ok(tally) => tally,
                    Err(e) => return usage_error(format!("cannot write the report: {e}")),
                },
                Err(e) => return usage_error(format!("cannot write the report: {e}")),
            }
        }
    };
    if let Some(file) = args.summary.as_deref().filter(|f| !f.as_os_str().is_empty()) {
        let summary = render::render_summary(&report, &tally, min.max(Severity::Info));
        if let Err(e) = crate::fsutil::append_line(file, &summary) {
            return usage_error(format!("cannot write the summary to {}: {e}", file.display()));
        }
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "report written");
    drop(cache_write);
    // The process ends here: taking a big workspace apart piece by piece would only add time.
    std::mem::forget(ws);
    exit_for(&tally, args.fail_on)
}

fn exit_for(tally: &render::Tally, fail_on: Level) -> ExitCode {
    match fail_on.severity() {
        Some(threshold) if tally.shown(threshold).0 > 0 => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn crosswalk(args: CrosswalkArgs) -> ExitCode {
    let ws = match load(args.path.as_deref()) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let coverage = coverage::compute(&ws.config, &ws.model, ws.facts());
    let text = coverage.to_crosswalk_json(&coverage::files_of(&ws.config, &ws.model, ws.facts()));
    let rel = &ws.config.paths.crosswalk;
    let current =
        crate::fsutil::read_text_in_workspace(&ws.root, rel, ws.config.max_file_size).ok().flatten();
    print!("{}", render::render_coverage_summary(&coverage.summary()));
    if args.check {
        if current.as_deref() == Some(text.as_str()) {
            println!("{rel} is up to date");
            return ExitCode::SUCCESS;
        }
        println!("{rel} is out of date: run `concord crosswalk` and commit the result");
        return ExitCode::from(1);
    }
    if current.as_deref() == Some(text.as_str()) {
        println!("{rel} is up to date");
    } else if let Err(e) = crate::fsutil::write_in_workspace(&ws.root, rel, text.as_bytes()) {
        return usage_error(format!("cannot write {rel}: {e}"));
    } else {
        println!("wrote {rel} ({} chunks)", coverage.chunks.len());
    }
    ExitCode::SUCCESS
}

fn explain(code: Option<&str>) -> ExitCode {
    use crate::findings::Code;
    match code {
        None => {
            for code in Code::ALL {
                println!("{:<18} {:<8} {}", code.as_str(), code.default_severity().as_str(), code.summary());
            }
            ExitCode::SUCCESS
        }
        Some(name) => match Code::parse(name) {
            Some(code) => {
                let spec = code.spec();
                let note = if spec.default_note.is_empty() {
                    String::new()
                } else {
                    format!("; {}", spec.default_note)
                };
                println!(
                    "{} (default severity: {}{note})\n\n{}\n\nWhat to do: {}\n\nSee {}",
                    spec.name,
                    spec.default_severity.as_str(),
                    spec.summary,
                    spec.help,
                    code.docs_link()
                );
                ExitCode::SUCCESS
            }
            None => usage_error(format!("unknown finding code {name:?}; `concord explain` lists them")),
        },
    }
}

fn lock(command: LockCommand) -> ExitCode {
    use crate::ops::locks::{describe_all, LockDir, LockError};
    let root = match &command {
        LockCommand::Acquire { ws, .. }
        | LockCommand::Release { ws, .. }
        | LockCommand::List { ws, .. }
        | LockCommand::Verify { ws, .. }
        | LockCommand::Sweep { ws, .. } => ws.workspace.clone(),
    };
    let local = match &command {
        LockCommand::Acquire { local, .. }
        | LockCommand::Release { local, .. }
        | LockCommand::List { local, .. }
        | LockCommand::Sweep { local, .. } => local.local,
        LockCommand::Verify { .. } => false,
    };
    let config = match crate::workspace::load_config(&root) {
        Ok(config) => config,
        Err(e) => return usage_error(e),
    };
    let dir = if local { LockDir::new(&root, &config).local_only() } else { LockDir::new(&root, &config) };
    let failed = |e: LockError| -> ExitCode {
        eprintln!("concord lock: {e}");
        match e {
            LockError::Invalid(_) => ExitCode::from(2),
            LockError::Conflict(_) | LockError::Io(_) => ExitCode::from(1),
        }
    };
    match command {
        LockCommand::Acquire { agent, task, scope, .. } => {
            match dir.acquire(&root, &config, &agent.agent, &task, Some(scope)) {
                Ok(lock) => {
                    println!(
                        "{} holds {} for {}: {}",
                        lock.agent,
                        lock.path,
                        lock.task_id,
                        lock.scope_paths.join(" ")
                    );
                    if let Some(trailer) = crate::ops::locks::trailer(&lock) {
                        println!(
                            "fencing token {}; end commit messages of this work with the trailer `{trailer}`",
                            lock.fencing_token.unwrap_or_default()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => failed(e),
            }
        }
        LockCommand::Release { agent, task, .. } => match dir.release(&agent.agent, task.as_deref()) {
            Ok(lock) => {
                println!("released {} ({} for {})", lock.path, lock.agent, lock.task_id);
                ExitCode::SUCCESS
            }
            Err(e) => failed(e),
        },
        LockCommand::List { .. } => {
            let (locks, broken) = match dir.list() {
                Ok(listed) => listed,
                Err(e) => return failed(e),
            };
            print!("{}", describe_all(&locks, config.stale_lock_after_secs));
            for path in broken {
                println!("{path}: not a valid lock (see `concord check`)");
            }
            if locks.is_empty() {
                println!("no locks");
            }
            ExitCode::SUCCESS
        }
        LockCommand::Verify { agent, task, token, .. } => {
            if !dir.is_remote() {
                return usage_error("fencing tokens exist only for locks on a remote: set [locks] remote");
            }
            match dir.check_fence(&agent.agent, &task, Some(token)) {
                Ok(()) => {
                    println!("{} still holds {task}@{token}", agent.agent);
                    ExitCode::SUCCESS
                }
                Err(e) => failed(e),
            }
        }
        LockCommand::Sweep { older_than, .. } => {
            let limit = match crate::config::parse_duration(&older_than) {
                Ok(limit) => limit,
                Err(e) => return usage_error(format!("--older-than: {e}")),
            };
            match dir.sweep(limit) {
                Ok(removed) => {
                    for lock in &removed {
                        println!(
                            "removed {} ({} for {}, since {})",
                            lock.path, lock.agent, lock.task_id, lock.acquired_at
                        );
                    }
                    println!("{} stale locks removed", removed.len());
                    ExitCode::SUCCESS
                }
                Err(e) => failed(e),
            }
        }
    }
}

fn scope_check(args: ScopeCheckArgs) -> ExitCode {
    let ws = match load(Some(&args.ws.workspace)) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let agent = &args.agent.agent;
    let Some(lock) = ws.model.locks.iter().find(|l| &l.agent == agent) else {
        eprintln!("concord scope-check: {agent} holds no lock, so every change is outside its scope. Take the lock first.");
        return ExitCode::from(1);
    };
    let base = args.base.or_else(|| lock.base_commit.clone()).unwrap_or_else(|| "HEAD".into());
    let changes = match crate::ops::git::changes_since(&ws.root, &base) {
        Ok(changes) => changes,
        Err(e) => return usage_error(e),
    };
    let report = crate::scope::check_changes(&ws.config, &ws.model, lock, &changes, crate::time::now_secs());
    println!(
        "{} changed files since {base} for {agent} (lock for {}: {})",
        changes.len(),
        lock.task_id,
        lock.scope_paths.join(" ")
    );
    for path in &report.outside {
        println!("outside scope: {path}");
    }
    for (path, holder) in &report.locked_by_other {
        println!("locked by another agent: {path} ({holder})");
    }
    for problem in &report.budget {
        println!("over budget: {problem}");
    }
    if report.is_clean() {
        println!("scope check passed");
        ExitCode::SUCCESS
    } else {
        println!("scope check FAILED: revert the files above or hand the task back");
        ExitCode::from(1)
    }
}

fn mcp(args: McpArgs) -> ExitCode {
    use crate::mcp::install::{install, Client, Launch, Written};
    let Some(McpCommand::Install { cursor, claude, codex, command, ws }) = args.command else {
        if !args.workspace.is_dir() {
            return usage_error(format!(
                "{} is not a directory: give the workspace root",
                args.workspace.display()
            ));
        }
        return crate::mcp::run(&args.workspace, args.trust);
    };
    let clients: Vec<Client> = [(cursor, Client::Cursor), (claude, Client::Claude), (codex, Client::Codex)]
        .into_iter()
        .filter_map(|(on, c)| on.then_some(c))
        .collect();
    if clients.is_empty() {
        return usage_error("name the clients: --cursor, --claude and/or --codex");
    }
    if !ws.workspace.is_dir() {
        return usage_error(format!("{} is not a directory", ws.workspace.display()));
    }
    let mut failed = false;
    for client in clients {
        let launch = Launch::for_project(&command, client);
        match install(&ws.workspace, client, &launch) {
            Ok(written) => {
                let what = match written {
                    Written::Created => "created",
                    Written::Updated => "updated",
                    Written::Unchanged => "already up to date:",
                };
                println!(
                    "{} {what} {} (server `{}`)",
                    client.name(),
                    client.config_file(),
                    crate::mcp::install::SERVER_NAME
                );
                if client == Client::Codex {
                    println!("  Codex reads .codex/config.toml only in a trusted project; to register it for your user instead: {}", launch.codex_add_line());
                }
            }
            Err(e) => {
                eprintln!("concord mcp install: {}: {e}", client.name());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn hook(command: HookCommand) -> ExitCode {
    match command {
        HookCommand::Install { force, commit_msg, ws } => {
            let binary = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("concord"));
            let which = if commit_msg {
                crate::ops::hook::Hook::CommitMsg
            } else {
                crate::ops::hook::Hook::PreCommit
            };
            match crate::ops::hook::install_hook(&ws.workspace, &binary, force, which) {
                Ok(message) => {
                    println!("{message}");
                    ExitCode::SUCCESS
                }
                Err(e) => usage_error(e),
            }
        }
        HookCommand::CommitMsg { file, ws } => {
            let ws = match load_model(&ws.workspace) {
                Ok(ws) => ws,
                Err(code) => return code,
            };
            // Relative to where git runs the hook (the top of the work tree), like git gives it.
            let message = match crate::fsutil::read_regular(&file, 16 * 1024 * 1024) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    return usage_error(format!("cannot read the commit message {}: {e}", file.display()))
                }
            };
            match crate::ops::hook::commit_msg(&ws.root, &ws.config, &ws.model, &message) {
                Ok(problems) if problems.is_empty() => ExitCode::SUCCESS,
                Ok(problems) => {
                    eprintln!("concord: commit refused:");
                    for problem in problems {
                        eprintln!("  {problem}");
                    }
                    eprintln!("Your message is kept in {}; `concord trailers` prints the trailer lines for the staged changes.", file.display());
                    ExitCode::from(1)
                }
                Err(e) => usage_error(e),
            }
        }
        HookCommand::PreCommit { agent, ws } => {
            let ws = match load(Some(&ws.workspace)) {
                Ok(ws) => ws,
                Err(code) => return code,
            };
            let agent = agent.filter(|a| !a.is_empty());
            // Spec edits that make reviewed code stale are told, not refused.
            if let Ok(notes) = crate::ops::hook::staged_spec_staleness(&ws.root, &ws.config, &ws.model) {
                for note in notes {
                    eprintln!("concord: {note}");
                }
            }
            match crate::ops::hook::pre_commit(&ws.root, &ws.config, &ws.model, agent.as_deref()) {
                Ok(problems) if problems.is_empty() => ExitCode::SUCCESS,
                Ok(problems) => {
                    eprintln!("concord: commit refused:");
                    for problem in problems {
                        eprintln!("  {problem}");
                    }
                    eprintln!("Fix the above and commit again (`git commit --no-verify` skips this check; do not use it to commit a secret).");
                    ExitCode::from(1)
                }
                Err(e) => usage_error(e),
            }
        }
    }
}

/// The workspace's ops files and spec, without scanning the tree (for hooks, which must be
/// quick): only the blueprint markdown is read.
fn load_model(root: &Path) -> Result<Workspace, ExitCode> {
    let ws = Workspace::load_paths(root, &[]).map_err(usage_error)?;
    crate::ops::scrub::use_config(&ws.config);
    Ok(ws)
}

fn trailers(root: &Path) -> ExitCode {
    let ws = match load_model(root) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let ids = match crate::ops::hook::staged_trace_ids(&ws.root, &ws.config, &ws.model) {
        Ok(ids) => ids,
        Err(e) => return usage_error(e),
    };
    for line in crate::ops::hook::trailer_lines(&ws.config, &ids) {
        println!("{line}");
    }
    // The lock CONCORD_AGENT holds on a shared remote is named too, with its fencing token.
    if let Some(line) = crate::ops::hook::lock_trailer(&ws.model) {
        println!("{line}");
    }
    if ids.is_empty() {
        eprintln!("concord trailers: no staged file is in a work item's scope_paths or tagged with a known ID: name the work item yourself (`{}: WBS-…`), or stage the files first.", ws.config.commits.trailer_keys[0]);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn verify_blueprints(root: &Path) -> ExitCode {
    let ws = match load(Some(root)) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let mut findings = match crate::ops::ingest::verify(&ws) {
        Ok(findings) => findings,
        Err(e) => return usage_error(e),
    };
    let index = &ws.config.paths.blueprint_index;
    findings.extend(
        ws.model
            .findings
            .iter()
            .filter(|f| {
                &f.path == index
                    || (f.code == crate::findings::Code::DuplicateId
                        && crate::config::is_under(&f.path, &ws.config.paths.blueprints_dir))
            })
            .cloned(),
    );
    crate::findings::sort(&mut findings);
    if findings.is_empty() {
        println!("{index} agrees with the markdown ({} chunks)", ws.model.chunks.len());
        return ExitCode::SUCCESS;
    }
    let report = crate::analysis::Report {
        findings,
        coverage: Default::default(),
        files_scanned: ws.files.len(),
        files_skipped: 0,
        skipped: Vec::new(),
        gate_failures: Vec::new(),
        gate_priorities: Vec::new(),
        items: Default::default(),
        range: None,
    };
    print!("{}", crate::render::render_text(&report, crate::findings::Severity::Hint));
    ExitCode::from(1)
}

fn outcome(root: &Path, run: impl FnOnce(&Workspace) -> Result<String, String>) -> ExitCode {
    let ws = match load(Some(root)) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    match run(&ws) {
        Ok(message) => {
            println!("{}", crate::ops::scrub::text(&message));
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("concord: {}", crate::ops::scrub::text(&message));
            ExitCode::from(1)
        }
    }
}

fn health(root: &Path, format: &str, fail_on: &str) -> ExitCode {
    let ws = match load(Some(root)) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let health = crate::ops::health::health(&ws);
    // Reasons quote the queue and the reviews: scrubbed like every other output.
    let out = if format == "json" {
        serde_json::to_string_pretty(&health).expect("the health serializes") + "\n"
    } else {
        crate::ops::health::text(&health)
    };
    print!("{}", crate::ops::scrub::text(&out));
    let fail_at =
        if fail_on == "yellow" { crate::ops::health::Level::Yellow } else { crate::ops::health::Level::Red };
    if health.level >= fail_at {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn status(root: &Path) -> ExitCode {
    let ws = match load(Some(root)) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    // Accepted work whose pull request's checks passed since the last look becomes done.
    let settled = crate::ops::pull_requests::settle(&ws);
    let ws = if settled.iter().any(|l| l.contains("→ done")) {
        match load(Some(root)) {
            Ok(ws) => ws,
            Err(code) => return code,
        }
    } else {
        ws
    };
    for line in &settled {
        println!("{line}");
    }
    let model = &ws.model;
    println!(
        "{:<10} {:<18} {:<9} {:<12} {:<10} title / why not dispatchable",
        "item", "status", "risk", "autopilot", "lock"
    );
    for item in crate::ops::dispatch::in_priority_order(&ws) {
        let lock = model.lock_for_task(&item.id).map_or("-".to_string(), |l| l.agent.clone());
        let why = match crate::ops::dispatch::eligibility(&ws, item) {
            Ok(()) => "eligible".to_string(),
            Err(why) if model.status_of(&item.id) == crate::model::Status::Todo => format!("waiting: {why}"),
            // Past todo, a pending question still keeps it from becoming done.
            Err(_) => crate::ops::questions::pending_for(model, &item.id)
                .filter(|_| model.status_of(&item.id) != crate::model::Status::Done)
                .map(|why| format!("cannot become done: {why}"))
                .unwrap_or_default(),
        };
        println!(
            "{:<10} {:<18} {:<9} {:<12} {:<10} {}{}",
            item.id,
            model.status_of(&item.id).as_str(),
            item.risk.as_str(),
            item.autopilot.as_str(),
            lock,
            item.title,
            if why.is_empty() { String::new() } else { format!(" ({why})") }
        );
        if let Some(pr) = crate::ops::pull_requests::latest_for(&ws, &item.id) {
            println!("{:<10} {}", "", pull_request_line(&ws, &pr));
        }
    }
    ExitCode::SUCCESS
}

/// How long `concord status` waits for GitHub per call: a slow answer shows as unknown.
const STATUS_GITHUB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `PR #12 (draft) <url>: checks red (failed: build, lint)`, or `checks unknown: <why>`.
fn pull_request_line(ws: &crate::workspace::Workspace, pr: &crate::formats::PullRequestRecord) -> String {
    let checks = match crate::ops::pull_requests::checks_for(ws, pr, STATUS_GITHUB_TIMEOUT) {
        Ok(checks) => format!("checks {}", crate::ops::pull_requests::describe(&checks)),
        Err(why) => format!("checks unknown: {why}"),
    };
    let draft = if pr.draft { " (draft)" } else { "" };
    format!("PR #{}{draft} {}: {checks}", pr.number, pr.url)
}

/// The exit status of a run stopped by SIGINT or SIGTERM: 128 + the signal's number.
fn signal_exit() -> Option<ExitCode> {
    crate::ops::agents::received_signal().map(|(number, _)| ExitCode::from(128 + number as u8))
}

fn dispatch(
    root: &Path,
    id: Option<&str>,
    agent: &str,
    cli: Option<&str>,
    model: Option<&str>,
    trusted: bool,
) -> ExitCode {
    let ws = match trusted_load(root, trusted, "dispatch", "the agent CLI and its help command") {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let cancel = crate::ops::agents::cancel_on_signals();
    let request =
        crate::ops::dispatch::Request { id, cli, model, ..crate::ops::dispatch::Request::new(agent) };
    match crate::ops::dispatch::dispatch(&ws, &request, &cancel) {
        Ok(outcome) if outcome.ok => {
            println!("{}", outcome.message);
            ExitCode::SUCCESS
        }
        Ok(outcome) => {
            eprintln!("concord dispatch: {}", outcome.message);
            signal_exit().filter(|_| outcome.interrupted).unwrap_or(ExitCode::from(1))
        }
        Err(message) => {
            eprintln!("concord dispatch: {message}");
            signal_exit().unwrap_or(ExitCode::from(1))
        }
    }
}

/// The workspace of a command that runs what the repository names: refused (exit 2) unless
/// trusted, saying how to trust it.
fn trusted_load(
    root: &Path,
    trusted: bool,
    command: &str,
    what: &str,
) -> Result<crate::workspace::Workspace, ExitCode> {
    if let Err(message) = crate::ops::trust::require(root, trusted, command, what) {
        eprintln!("concord {command}: {message}");
        return Err(ExitCode::from(2));
    }
    load(Some(root))
}

fn positive_minutes(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(m) if m.is_finite() && m > 0.0 => Ok(m),
        _ => Err(format!("{text:?} is not a number of minutes above 0")),
    }
}

fn autopilot(root: &Path, options: &crate::ops::autopilot::Options, trusted: bool) -> ExitCode {
    let what = "the agent CLI, the test commands, smoke checks and quality gates";
    // A dry run runs nothing: it needs no trust.
    let ws = match trusted_load(root, trusted || options.dry_run, "autopilot", what) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let cancel = crate::ops::agents::cancel_on_signals();
    let progress = |line: &str| eprintln!("autopilot: {line}");
    match crate::ops::autopilot::run(&ws, options, &cancel, &progress) {
        Ok(outcome) => {
            println!("{}", outcome.message);
            if outcome.ok {
                ExitCode::SUCCESS
            } else {
                signal_exit().unwrap_or(ExitCode::from(1))
            }
        }
        Err(message) => {
            eprintln!("concord autopilot: {message}");
            ExitCode::from(2)
        }
    }
}

/// `review`'s exit status: scripts stop on anything but an accept.
fn decision_exit(decision: &str) -> ExitCode {
    match decision {
        "accept" => ExitCode::SUCCESS,
        "needs_human" => ExitCode::from(3),
        "partial" => ExitCode::from(4),
        "reject" => ExitCode::from(5),
        _ => ExitCode::from(6),
    }
}

fn review(root: &Path, run: Option<&str>, no_llm: bool, trusted: bool) -> ExitCode {
    let what = "the work item's test_commands, smoke_checks and command: quality gates";
    let ws = match trusted_load(root, trusted, "review", what) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let cancel = crate::ops::agents::cancel_on_signals();
    match crate::ops::review::review_with(&ws, &crate::ops::review::Options { run, no_llm }, &cancel) {
        Ok(outcome) => {
            for gate in &outcome.gates {
                println!(
                    "gate {:<10} {} {}",
                    gate.name,
                    if gate.passed { "PASS" } else { "FAIL" },
                    gate.detail
                );
            }
            println!("{}", outcome.message);
            decision_exit(outcome.decision["decision"].as_str().unwrap_or(""))
        }
        Err(message) => {
            eprintln!("concord review: {message}");
            signal_exit().unwrap_or(ExitCode::from(1))
        }
    }
}

fn refs(path: Option<&Path>, count: bool, only: &[String]) -> ExitCode {
    use std::io::Write;
    let root = path.unwrap_or(Path::new("."));
    if !root.is_dir() {
        return usage_error(format!("{} is not a directory", root.display()));
    }
    let config = match crate::workspace::load_config(root) {
        Ok(config) => config,
        Err(e) => return usage_error(e),
    };
    let (found, skipped) = crate::workspace::find_references(root, &config);
    for s in &skipped {
        eprintln!("concord refs: skipped {}: {}", crate::render::quoted_path(&s.path), s.reason);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut any = false;
    for (file, refs) in &found {
        let refs: Vec<&(usize, String)> =
            refs.iter().filter(|(_, id)| only.is_empty() || only.contains(id)).collect();
        if refs.is_empty() {
            continue;
        }
        any = true;
        let path = file;
        let file = crate::render::quoted_path(path);
        if count {
            let _ = writeln!(out, "{file}:{}", refs.len());
            continue;
        }
        // Line and column (1-based, bytes, as grep tools print them) only for what is printed.
        let Ok(bytes) = crate::fsutil::read_regular(&root.join(path), config.max_file_size) else { continue };
        let (mut line, mut line_start, mut scanned) = (1, 0, 0);
        for (offset, id) in refs {
            for newline in memchr::memchr_iter(b'\n', &bytes[scanned..*offset]) {
                line += 1;
                line_start = scanned + newline + 1;
            }
            scanned = *offset;
            let _ = writeln!(out, "{file}:{line}:{}:{id}", offset - line_start + 1);
        }
    }
    let _ = out.flush();
    if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
