//! `concord.toml`: every key optional; with no file the defaults describe the users' layout
//! (docs/configuration.md documents each key). An unknown key or a wrong type is an error
//! at its line and column, never a silently ignored setting.

use std::collections::BTreeMap;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::findings::{Code, Severity};
use crate::ids::{IdFamily, IdKind, IdMatcher};
use crate::text::{LineIndex, Span};

pub const CONFIG_FILE: &str = "concord.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ConfigFile {
    ids: IdsSection,
    paths: PathsSection,
    files: FilesSection,
    trace: TraceSection,
    severity: SeveritySection,
    coverage: CoverageSection,
    locks: LocksSection,
    lsp: LspSection,
    secrets: SecretsSection,
    dispatch: DispatchSection,
    agents: BTreeMap<String, crate::ops::agents::AgentCli>,
    review: ReviewSection,
    plan: PlanSection,
    commits: CommitsSection,
    cache: CacheSection,
    ingest: IngestSection,
    autopilot: crate::ops::autopilot::Settings,
    github: GithubSection,
    health: HealthSection,
}

/// `[github]`: the repository whose pull requests carry the work items, and the checks that must
/// be green before an item with a pull request becomes done.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubSection {
    /// The REST API root: `https://api.github.com`, or a GitHub Enterprise `…/api/v3`.
    pub api_base_url: String,
    /// The environment variable holding the token (never the token itself).
    pub token_env: String,
    /// `owner/name`; empty: taken from the `origin` remote when it is on github.com.
    pub repo: String,
    /// Check names that must be green; empty: every check reported on the commit.
    pub required_checks: Vec<String>,
    /// Labels put on every pull request opened for a work item.
    pub labels: Vec<String>,
    /// A repository with no CI: a pull request on which no check at all is reported counts as
    /// green (by default it waits: CI may not have started yet).
    pub allow_no_checks: bool,
}

/// GitHub's own API root: the one server the token may go to from an untrusted workspace.
pub const GITHUB_API: &str = "https://api.github.com";

impl Default for GithubSection {
    fn default() -> Self {
        GithubSection {
            api_base_url: GITHUB_API.into(),
            token_env: "GITHUB_TOKEN".into(),
            repo: String::new(),
            required_checks: Vec::new(),
            labels: Vec::new(),
            allow_no_checks: false,
        }
    }
}

/// `[health]`: when `concord health` calls the agent loop yellow or red.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthSection {
    /// The newest finished runs, and the newest reviews, looked at.
    pub window: usize,
    /// Red needs at least this many finished runs in the window (one failure of two is not yet
    /// a pattern).
    pub min_runs: usize,
    /// Red when at least this share of the runs in the window failed (percent).
    pub red_failure_percent: u32,
    /// Yellow when at least this share failed (percent).
    pub yellow_failure_percent: u32,
}

impl Default for HealthSection {
    fn default() -> Self {
        HealthSection { window: 10, min_runs: 4, red_failure_percent: 50, yellow_failure_percent: 25 }
    }
}

/// `[ingest]`: how `concord ingest` numbers new chunks, fills in what the markdown leaves out,
/// and where `--embed` gets its vectors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSection {
    /// The chunk family `--assign-ids` numbers new chunks in (a file's front matter
    /// `id_family:` wins). Empty: `TD` when that is a chunk family, else the first one.
    pub id_family: String,
    /// The heading level (1 to 6) that gets IDs in a file with no ID heading yet; a file with ID
    /// headings gets them at the levels it already uses.
    pub heading_level: u8,
    /// A chunk's priority when neither its section nor its file's front matter gives one.
    pub default_priority: Priority,
    /// The OpenAI-compatible server of `--embed` (empty: `review.openai_base_url`).
    pub embed_base_url: String,
    pub embed_model: String,
    /// The environment variable holding its key (empty: `review.openai_key_env`).
    pub embed_key_env: String,
}

impl Default for IngestSection {
    fn default() -> Self {
        IngestSection {
            id_family: String::new(),
            heading_level: 2,
            default_priority: Priority::Should,
            embed_base_url: String::new(),
            embed_model: "text-embedding-3-small".into(),
            embed_key_env: String::new(),
        }
    }
}

/// `[plan]`: how much of the spec `concord plan` sends to the models.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanSection {
    /// Chunks in one request to the primary decider.
    pub chunks_per_call: usize,
    /// Chunks in one `concord plan` run, over all its requests.
    pub max_chunks: usize,
}

impl Default for PlanSection {
    fn default() -> Self {
        PlanSection { chunks_per_call: 20, max_chunks: 100 }
    }
}

/// `[cache]`: the facts cache `concord check` keeps (see `cache.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CacheSection {
    enabled: bool,
    /// Relative to the workspace root, or absolute (a CI cache folder).
    dir: String,
    /// Ask git which tracked files are clean, and take those whose blob id is the recorded one
    /// without reading them. Off by default: right after a fast checkout git hashes the racily
    /// clean files itself, on one core, which costs more than reading them (docs/benchmarks.md).
    git_index: bool,
}

impl Default for CacheSection {
    fn default() -> Self {
        CacheSection { enabled: true, dir: ".concord/cache".into(), git_index: false }
    }
}

/// `[commits]`: what `concord check --changed-since` asks of the commits in the range.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommitsSection {
    /// Trailer keys that trace a commit (matched without regard to case).
    pub trailer_keys: Vec<String>,
    /// Merge commits need no trailer of their own.
    pub skip_merges: bool,
    /// Authors whose commits need no trailer (bots): a name or an email, `*` matches any run.
    pub allow_authors: Vec<String>,
    /// Commits that need no trailer: full hashes or prefixes of at least 7 hex digits.
    pub allow_commits: Vec<String>,
}

impl Default for CommitsSection {
    fn default() -> Self {
        CommitsSection {
            trailer_keys: strings(&["Implements", "Refs", "Fixes"]),
            skip_merges: true,
            allow_authors: Vec::new(),
            allow_commits: Vec::new(),
        }
    }
}

/// How `concord dispatch` starts agents.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatchSection {
    /// A preset (`cursor-agent`, `claude`, `codex`, `aider`) or a name under `[agents]`.
    pub agent_cli: String,
    /// Passed as the CLI's model flag when not empty.
    pub model: String,
    /// Wall-clock limit of one run ("30m", "2h").
    pub timeout: String,
    /// Hand the agent Concord's MCP server for the run, the way its CLI takes one.
    pub mcp: bool,
}

impl Default for DispatchSection {
    fn default() -> Self {
        DispatchSection {
            agent_cli: "cursor-agent".into(),
            model: String::new(),
            timeout: "30m".into(),
            mcp: false,
        }
    }
}

/// How `concord review` runs its gates and asks its reviewers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewSection {
    /// Limit of each test command run as a gate.
    pub test_timeout: String,
    /// Limit of each reviewer call, retries included.
    pub llm_timeout: String,
    /// `chat` (Chat Completions) or `responses` (Responses API), for the primary decider.
    pub openai_api: String,
    /// Any OpenAI-compatible server: a local Ollama, llama.cpp or vLLM works too.
    pub openai_base_url: String,
    pub openai_model: String,
    /// The environment variable holding the key (never the key itself).
    pub openai_key_env: String,
    pub anthropic_base_url: String,
    pub anthropic_model: String,
    pub anthropic_key_env: String,
}

impl Default for ReviewSection {
    fn default() -> Self {
        ReviewSection {
            test_timeout: "10m".into(),
            llm_timeout: "180s".into(),
            openai_api: "chat".into(),
            openai_base_url: "https://api.openai.com/v1".into(),
            openai_model: "gpt-4.1".into(),
            openai_key_env: "OPENAI_API_KEY".into(),
            anthropic_base_url: "https://api.anthropic.com".into(),
            anthropic_model: "claude-sonnet-4-5".into(),
            anthropic_key_env: "ANTHROPIC_API_KEY".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilySpec {
    name: String,
    pattern: String,
    #[serde(default = "default_family_kind")]
    kind: IdKind,
}

fn default_family_kind() -> IdKind {
    IdKind::Chunk
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct IdsSection {
    families: Vec<FamilySpec>,
}

impl Default for IdsSection {
    fn default() -> Self {
        let family =
            |name: &str, pattern: &str, kind| FamilySpec { name: name.into(), pattern: pattern.into(), kind };
        IdsSection {
            families: vec![
                family("NT", r"NT-\d{4}", IdKind::Chunk),
                family("TD", r"TD-\d{4}", IdKind::Chunk),
                family("WBS", r"WBS-\d{3}[A-Z]?", IdKind::Work),
            ],
        }
    }
}

/// Where each ops file lives, relative to the workspace root.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathsSection {
    pub blueprint_index: String,
    pub blueprints_dir: String,
    pub crosswalk: String,
    pub wbs: String,
    pub queue: String,
    pub locks_dir: String,
    pub access_status: String,
    pub model_decisions: String,
    pub runs_dir: String,
    pub reviews_dir: String,
    pub progress: String,
    /// The spec text each reference was last reviewed against (`concord ack`).
    pub trace_lock: String,
    /// The owner's questions and answers (append-only).
    pub owner_questions: String,
    /// The owner's questions for people, rendered from `owner_questions`.
    pub owner_questions_md: String,
    /// Work items proposed by `concord plan`, one file per proposal.
    pub proposals_dir: String,
    /// A snapshot per `concord report` (append-only): the trend and "what changed".
    pub coverage_history: String,
    /// The owner's dashboard `concord report` writes.
    pub owner_dashboard: String,
    /// The pull request opened for each work item (append-only).
    pub pull_requests: String,
    /// A line per dispatch: the agent CLI, its version, model, MCP servers and flags (append-only).
    pub tools_manifest: String,
}

impl Default for PathsSection {
    fn default() -> Self {
        PathsSection {
            blueprint_index: "docs/blueprints/blueprint_index.json".into(),
            blueprints_dir: "docs/blueprints".into(),
            crosswalk: "docs/blueprints/crosswalk.json".into(),
            wbs: "ops/wbs.json".into(),
            queue: "ops/queue.jsonl".into(),
            locks_dir: "ops/locks".into(),
            access_status: "ops/access/status.json".into(),
            model_decisions: "ops/model-decisions.jsonl".into(),
            runs_dir: "docs/runs".into(),
            reviews_dir: "docs/reviews".into(),
            progress: "docs/PROGRESS.md".into(),
            trace_lock: "ops/trace.lock".into(),
            owner_questions: "ops/owner-questions.jsonl".into(),
            owner_questions_md: "docs/OWNER_QUESTIONS.md".into(),
            proposals_dir: "ops/proposals".into(),
            coverage_history: "ops/coverage-history.jsonl".into(),
            owner_dashboard: "docs/OWNER_DASHBOARD.md".into(),
            pull_requests: "ops/pull-requests.jsonl".into(),
            tools_manifest: "ops/tools-manifest.jsonl".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FilesSection {
    /// Never scanned (on top of .gitignore and hidden files).
    exclude: Vec<String>,
    /// Files that count as tests for coverage.
    tests: Vec<String>,
    /// Files larger than this are not scanned (bytes).
    max_file_size: u64,
}

impl Default for FilesSection {
    fn default() -> Self {
        FilesSection {
            exclude: strings(&[
                "**/node_modules/**",
                "**/target/**",
                "**/.git/**",
                "**/dist/**",
                "**/build/**",
                "**/__pycache__/**",
                "**/*.min.js",
                "**/*.lock",
                "**/package-lock.json",
            ]),
            tests: strings(&[
                "**/tests/**",
                "**/test/**",
                "**/__tests__/**",
                "**/test_*.py",
                "**/*_test.py",
                "**/*_test.go",
                "**/*_test.rs",
                "**/*.test.*",
                "**/*.spec.*",
                "**/*Test.java",
                "**/*Tests.java",
            ]),
            max_file_size: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TraceSection {
    /// Files that must carry a trace (an ID, a crosswalk mapping or a WBS scope).
    include: Vec<String>,
    exclude: Vec<String>,
    /// `file`: a file must carry an ID; `item`: every function, class, method and test must.
    level: TraceLevel,
    /// Files traced item by item whatever `level` says.
    item_paths: Vec<String>,
    /// Which items must be traced at item level.
    items: ItemsToTrace,
    /// In a language Concord parses, an ID traces only in a comment or docstring.
    comments_only: bool,
    /// A tag in the comments above the first item traces every item of the file.
    file_header: bool,
    /// A directory with `<language>/comments.scm` and `items.scm` replacing the built-in queries.
    queries_dir: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceLevel {
    File,
    Item,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemsToTrace {
    Public,
    All,
}

impl Default for TraceSection {
    fn default() -> Self {
        TraceSection {
            include: vec![format!(
                "**/*.{{{}}}",
                crate::languages::source_extensions().collect::<Vec<_>>().join(",")
            )],
            exclude: strings(&[
                "**/fixtures/**",
                "**/testdata/**",
                "**/vendor/**",
                "**/third_party/**",
                "**/generated/**",
                "**/*.generated.*",
                "**/*_pb2.py",
                "**/*.pb.go",
                "**/*.d.ts",
                "**/__init__.py",
                "**/migrations/**",
            ]),
            level: TraceLevel::File,
            item_paths: Vec::new(),
            items: ItemsToTrace::Public,
            comments_only: true,
            file_header: true,
            queries_dir: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Off,
    Hint,
    Info,
    Warning,
    Error,
}

/// `[severity]`: one key per finding code, the names of `findings::CODES` (an unknown name is
/// an error listing them).
type SeveritySection = BTreeMap<Code, Level>;

/// A chunk's priority: the crosswalk format's own type.
pub use crate::formats::Priority;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CoverageSection {
    /// Chunks of these priorities must be `covered`, or `concord check` fails.
    gate: Vec<Priority>,
    /// A file tagged with a work item counts as code/tests for that item's chunks.
    through_work_items: bool,
}

impl Default for CoverageSection {
    fn default() -> Self {
        CoverageSection { gate: vec![Priority::Must], through_work_items: true }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LocksSection {
    /// A lock older than this is stale ("90m", "24h", "7d").
    stale_after: String,
    /// The git remote whose lock ref holds every lock (empty: locks live in this checkout).
    remote: String,
    /// The ref on that remote holding all locks (`refs/heads/concord-locks` for hosts that
    /// refuse custom refs).
    #[serde(rename = "ref")]
    lock_ref: String,
    /// Limit of each git call that talks to the remote.
    remote_timeout: String,
}

impl Default for LocksSection {
    fn default() -> Self {
        LocksSection {
            stale_after: "24h".into(),
            remote: String::new(),
            lock_ref: "refs/concord/locks".into(),
            remote_timeout: "30s".into(),
        }
    }
}

/// Where locks live when they are shared through a git remote (`[locks] remote`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRemote {
    pub remote: String,
    pub lock_ref: String,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SecretsSection {
    /// Regexes: a secret matching one is accepted (test values, documented examples).
    allow: Vec<String>,
    /// Globs: files never scanned for secrets (in addition to lock files).
    allow_paths: Vec<String>,
    /// Words that mark a value as a placeholder (added to the built-in list).
    stopwords: Vec<String>,
    /// The baseline of accepted findings (fingerprints), committed with the code.
    baseline: String,
    /// Rules added to the built-in ones, in gitleaks' rule format (`[[secrets.rules]]`).
    rules: Vec<crate::secrets::RuleSpec>,
}

impl Default for SecretsSection {
    fn default() -> Self {
        SecretsSection {
            allow: Vec::new(),
            allow_paths: Vec::new(),
            stopwords: Vec::new(),
            baseline: "ops/secrets-baseline.json".into(),
            rules: Vec::new(),
        }
    }
}

/// The longest diagnostics debounce accepted, from `concord.toml` or a client (ms): longer
/// would look like diagnostics that never come.
pub const DEBOUNCE_MS_MAX: u64 = 5_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LspSection {
    debounce_ms: u64,
    diagnostics_scope: DiagnosticsScope,
}

impl Default for LspSection {
    fn default() -> Self {
        LspSection { debounce_ms: 150, diagnostics_scope: DiagnosticsScope::Open }
    }
}

/// Which files a client that cannot pull diagnostics is sent them for (besides open documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticsScope {
    /// Open documents, the ops files and files with an error: what needs attention, without a
    /// warning for every untraced file of a large workspace.
    Open,
    /// Every file with a finding.
    Workspace,
}

impl DiagnosticsScope {
    pub fn from_name(name: &str) -> Option<DiagnosticsScope> {
        match name {
            "open" => Some(DiagnosticsScope::Open),
            "workspace" => Some(DiagnosticsScope::Workspace),
            _ => None,
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A configuration problem, positioned in `concord.toml` when it comes from there.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub message: String,
    pub span: Option<Span>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.span {
            Some(span) => {
                write!(f, "{CONFIG_FILE}:{}:{}: {}", span.start.line + 1, span.start.utf16 + 1, self.message)
            }
            None => write!(f, "{CONFIG_FILE}: {}", self.message),
        }
    }
}

/// A set of include globs minus a set of exclude globs (globset has no negation).
#[derive(Debug, Clone)]
pub struct PathFilter {
    include: GlobSet,
    exclude: GlobSet,
}

impl PathFilter {
    pub fn matches(&self, path: &str) -> bool {
        self.include.is_match(path) && !self.exclude.is_match(path)
    }
}

/// The resolved configuration: compiled globs and patterns, ready to use.
#[derive(Debug, Clone)]
pub struct Config {
    pub ids: IdMatcher,
    pub paths: PathsSection,
    pub scan_exclude: GlobSet,
    /// Directories excluded whole (the `dir/**` patterns of `files.exclude`), pruned from walks.
    pub scan_exclude_dirs: GlobSet,
    pub tests: GlobSet,
    pub must_trace: PathFilter,
    pub trace_level: TraceLevel,
    pub item_paths: GlobSet,
    pub items_to_trace: ItemsToTrace,
    pub comments_only: bool,
    pub file_header: bool,
    pub queries_dir: Option<String>,
    /// The tree-sitter queries (built-in, or overridden from `trace.queries_dir` by the loader).
    pub queries: Option<std::sync::Arc<crate::items::Queries>>,
    pub max_file_size: u64,
    severities: BTreeMap<Code, Level>,
    pub gate: Vec<Priority>,
    pub coverage_through_work_items: bool,
    pub stale_lock_after_secs: u64,
    /// `Some` when locks are shared through a git remote.
    pub lock_remote: Option<LockRemote>,
    pub debounce_ms: u64,
    pub diagnostics_scope: DiagnosticsScope,
    /// Where the facts cache lives (`None`: no cache), relative to the root or absolute.
    pub cache_dir: Option<String>,
    /// `[cache] git_index`: git's blob ids key clean tracked files.
    pub cache_git_index: bool,
    /// What secrets to accept; the scanner is compiled from it on first use (commands that
    /// never scan, such as `lock`, do not pay for compiling every rule).
    secret_policy: crate::secrets::SecretPolicy,
    secret_scanner: std::sync::OnceLock<crate::secrets::SecretScanner>,
    /// Files never scanned for secrets.
    pub secrets_allow_paths: GlobSet,
    pub secrets_baseline: String,
    pub dispatch: DispatchSection,
    pub dispatch_timeout_secs: u64,
    pub agents: BTreeMap<String, crate::ops::agents::AgentCli>,
    pub review: ReviewSection,
    pub plan: PlanSection,
    pub test_timeout_secs: u64,
    pub llm_timeout_secs: u64,
    pub commits: CommitsSection,
    pub ingest: IngestSection,
    pub autopilot: crate::ops::autopilot::Settings,
    pub github: GithubSection,
    pub health: HealthSection,
}

impl Default for Config {
    fn default() -> Self {
        Config::resolve(ConfigFile::default(), None).expect("the defaults are valid")
    }
}

impl Config {
    /// Parse `concord.toml` text. `None` text means "no file": the defaults.
    pub fn parse(text: Option<&str>) -> Result<Config, ConfigError> {
        let Some(text) = text else {
            return Ok(Config::default());
        };
        let index = LineIndex::new(text);
        let positioned = |err: toml::de::Error| {
            let message = err.message().trim().to_string();
            let span = match err.span() {
                Some(r) => Some(index.span(text, r.start, r.end)),
                // The parser's only unpositioned error: a dotted key of too many parts.
                None => too_deep_key(text).map(|r| index.span(text, r.start, r.end)),
            };
            let message = if message == "recursion limit" {
                "this key is nested too deep: concord.toml's settings are at most three levels deep"
                    .to_string()
            } else {
                message
            };
            ConfigError { message, span }
        };
        let tree = toml::de::DeTable::parse(text).map_err(positioned)?;
        let file: ConfigFile = toml::from_str(text).map_err(positioned)?;
        let spans = Spans { text, index: &index, root: tree.get_ref() };
        Config::resolve(file, Some(&spans))
    }

    /// Parse the bytes of `concord.toml`: bytes that are not UTF-8 are an error at their place.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Config, ConfigError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Config::parse(Some(text)),
            Err(e) => {
                let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).expect("valid up to here");
                let bad = e.error_len().unwrap_or(bytes.len() - e.valid_up_to());
                let index = LineIndex::new(valid);
                let at = index.span(valid, valid.len(), valid.len());
                Err(ConfigError {
                    message: format!(
                        "this file is not UTF-8 text: byte{} {} here cannot be read; save it as UTF-8",
                        if bad == 1 { "" } else { "s" },
                        bytes[e.valid_up_to()..e.valid_up_to() + bad]
                            .iter()
                            .map(|b| format!("0x{b:02X}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    span: Some(at),
                })
            }
        }
    }

    fn resolve(mut file: ConfigFile, spans: Option<&Spans>) -> Result<Config, ConfigError> {
        // Semantic errors carry the position of the offending value (or key) in the file.
        let value_at = |path: &str| spans.and_then(|s| s.value(path));
        let element_at =
            |path: &str, i: usize| spans.and_then(|s| s.element(path, i)).or_else(|| value_at(path));
        let mut families = Vec::new();
        for (i, family) in file.ids.families.iter().enumerate() {
            let family =
                IdFamily::new(&family.name, &family.pattern, family.kind).map_err(|message| ConfigError {
                    span: spans
                        .and_then(|s| s.in_element("ids.families", i, "pattern"))
                        .or_else(|| element_at("ids.families", i)),
                    message,
                })?;
            families.push(family);
        }
        if families.is_empty() {
            return Err(ConfigError {
                message: "ids.families must name at least one ID family".into(),
                span: value_at("ids.families"),
            });
        }
        let ids = IdMatcher::new(families)
            .map_err(|message| ConfigError { message, span: value_at("ids.families") })?;

        let paths = file.paths;
        for (key, value) in paths_entries(&paths) {
            check_relative(value).map_err(|why| ConfigError {
                message: format!("paths.{key} = {value:?} {why}"),
                span: value_at(&format!("paths.{key}")),
            })?;
        }
        // Each pattern on its own, so that an error points at the element that has it.
        let globs = |key: &str, patterns: &[String]| -> Result<GlobSet, ConfigError> {
            let mut builder = GlobSetBuilder::new();
            for (i, pattern) in patterns.iter().enumerate() {
                let glob = compile_glob(pattern).map_err(|message| ConfigError {
                    message: format!("{key}: {message}"),
                    span: element_at(key, i),
                })?;
                builder.add(glob);
            }
            builder.build().map_err(|e| ConfigError { message: format!("{key}: {e}"), span: value_at(key) })
        };
        let mut severities = BTreeMap::new();
        for code in Code::ALL {
            if let Some(&level) = file.severity.get(&code) {
                severities.insert(code, level);
            }
        }
        let duration = |key: &str, value: &str| {
            parse_duration(value)
                .map_err(|message| ConfigError { message: format!("{key}: {message}"), span: value_at(key) })
        };
        let stale_lock_after_secs = duration("locks.stale_after", &file.locks.stale_after)?;
        let remote_timeout = duration("locks.remote_timeout", &file.locks.remote_timeout)?;
        let lock_remote = if file.locks.remote.is_empty() {
            None
        } else {
            let remote = &file.locks.remote;
            if remote.starts_with('-') || remote.chars().any(|c| c.is_control()) {
                return Err(ConfigError {
                    message: format!("locks.remote {remote:?} is not a remote name or URL"),
                    span: value_at("locks.remote"),
                });
            }
            let r = &file.locks.lock_ref;
            let valid_ref = r.starts_with("refs/")
                && !r.ends_with('/')
                && !r.contains("..")
                && !r.contains("//")
                && r.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
            if !valid_ref {
                return Err(ConfigError {
                    message: format!(
                        "locks.ref {r:?} is not a full ref name like \"refs/concord/locks\" or \"refs/heads/concord-locks\""
                    ),
                    span: value_at("locks.ref"),
                });
            }
            if remote_timeout == 0 {
                return Err(ConfigError {
                    message: "locks.remote_timeout must be longer than 0s".into(),
                    span: value_at("locks.remote_timeout"),
                });
            }
            Some(LockRemote { remote: remote.clone(), lock_ref: r.clone(), timeout_secs: remote_timeout })
        };
        if file.cache.enabled && file.cache.dir.trim().is_empty() {
            return Err(ConfigError {
                message: "cache.dir is empty: name a folder, or set cache.enabled = false".into(),
                span: value_at("cache.dir"),
            });
        }
        if file.lsp.debounce_ms > DEBOUNCE_MS_MAX {
            return Err(ConfigError {
                message: format!(
                    "lsp.debounce_ms = {} is out of range: 0 to {DEBOUNCE_MS_MAX} milliseconds",
                    file.lsp.debounce_ms
                ),
                span: value_at("lsp.debounce_ms"),
            });
        }
        let mut policy = crate::secrets::SecretPolicy::default();
        for (i, pattern) in file.secrets.allow.iter().enumerate() {
            let regex = regex::Regex::new(pattern).map_err(|e| ConfigError {
                message: format!("secrets.allow: invalid regex {pattern:?}: {e}"),
                span: element_at("secrets.allow", i),
            })?;
            policy.allow_regexes.push(regex);
        }
        policy.stopwords.extend(file.secrets.stopwords.iter().cloned());
        policy.rules = crate::secrets::user_rules(&file.secrets.rules).map_err(|(i, e)| ConfigError {
            message: format!("secrets.rules: {}", e.message),
            span: spans
                .and_then(|s| s.in_element("secrets.rules", i, e.key))
                .or_else(|| element_at("secrets.rules", i)),
        })?;
        check_relative(&file.secrets.baseline).map_err(|why| ConfigError {
            message: format!("secrets.baseline = {:?} {why}", file.secrets.baseline),
            span: value_at("secrets.baseline"),
        })?;
        if !["chat", "responses"].contains(&file.review.openai_api.as_str()) {
            return Err(ConfigError {
                message: format!(
                    "review.openai_api must be \"chat\" or \"responses\", found {:?}",
                    file.review.openai_api
                ),
                span: value_at("review.openai_api"),
            });
        }
        for (name, agent) in &mut file.agents {
            if agent.help.is_empty() && !agent.argv.is_empty() {
                agent.help = vec![agent.argv[0].clone(), "--help".to_string()];
            }
            if agent.argv.is_empty()
                || agent.help.is_empty()
                || agent.argv[0].is_empty()
                || agent.help[0].is_empty()
            {
                return Err(ConfigError {
                    message: format!("agents.{name}: argv (and help, when given) must name a program"),
                    span: spans.and_then(|s| s.key_in("agents", name)),
                });
            }
        }
        for (i, key) in file.commits.trailer_keys.iter().enumerate() {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(ConfigError {
                    message: format!("commits.trailer_keys: {key:?} is not a trailer key (letters, digits and `-`, like `Implements`)"),
                    span: element_at("commits.trailer_keys", i),
                });
            }
        }
        if file.commits.trailer_keys.is_empty() {
            return Err(ConfigError {
                message:
                    "commits.trailer_keys must name at least one key (the default is Implements, Refs, Fixes)"
                        .into(),
                span: value_at("commits.trailer_keys"),
            });
        }
        for (i, hash) in file.commits.allow_commits.iter().enumerate() {
            if hash.len() < 7 || hash.len() > 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ConfigError {
                    message: format!(
                        "commits.allow_commits: {hash:?} is not a commit hash (7 to 64 hex digits)"
                    ),
                    span: element_at("commits.allow_commits", i),
                });
            }
        }
        for (key, value) in
            [("plan.chunks_per_call", file.plan.chunks_per_call), ("plan.max_chunks", file.plan.max_chunks)]
        {
            if value == 0 {
                return Err(ConfigError {
                    message: format!("{key} must be at least 1"),
                    span: value_at(key),
                });
            }
        }
        let chunk_family =
            |name: &str| ids.families().iter().any(|f| f.name == name && f.kind == IdKind::Chunk);
        if file.ingest.id_family.is_empty() {
            let first = ids.families().iter().find(|f| f.kind == IdKind::Chunk).map(|f| f.name.clone());
            file.ingest.id_family =
                if chunk_family("TD") { Some("TD".into()) } else { first }.unwrap_or_default();
        } else if !chunk_family(&file.ingest.id_family) {
            let names: Vec<&str> =
                ids.families().iter().filter(|f| f.kind == IdKind::Chunk).map(|f| f.name.as_str()).collect();
            return Err(ConfigError {
                message: format!(
                    "ingest.id_family {:?} is not a chunk family of [ids]: use one of {}",
                    file.ingest.id_family,
                    names.join(", ")
                ),
                span: value_at("ingest.id_family"),
            });
        }
        if !(1..=6).contains(&file.ingest.heading_level) {
            return Err(ConfigError {
                message: format!(
                    "ingest.heading_level = {} is out of range: markdown headings have levels 1 to 6",
                    file.ingest.heading_level
                ),
                span: value_at("ingest.heading_level"),
            });
        }
        file.autopilot.check().map_err(|(key, message)| ConfigError {
            message: format!("autopilot.{key}: {message}"),
            span: value_at(&format!("autopilot.{key}")),
        })?;
        check_github(&file.github, &value_at, &element_at)?;
        let h = &file.health;
        if h.window == 0 {
            return Err(ConfigError {
                message: "health.window must be at least 1".into(),
                span: value_at("health.window"),
            });
        }
        for (key, value) in [
            ("health.red_failure_percent", h.red_failure_percent),
            ("health.yellow_failure_percent", h.yellow_failure_percent),
        ] {
            if !(1..=100).contains(&value) {
                return Err(ConfigError {
                    message: format!("{key} = {value} is out of range: a share of runs, 1 to 100 (percent)"),
                    span: value_at(key),
                });
            }
        }
        if h.yellow_failure_percent > h.red_failure_percent {
            return Err(ConfigError {
                message: format!(
                    "health.yellow_failure_percent = {} is above health.red_failure_percent = {}: yellow must come first",
                    h.yellow_failure_percent, h.red_failure_percent
                ),
                span: value_at("health.yellow_failure_percent"),
            });
        }
        Ok(Config {
            autopilot: file.autopilot,
            github: file.github,
            health: file.health,
            ingest: file.ingest,
            commits: file.commits,
            dispatch_timeout_secs: duration("dispatch.timeout", &file.dispatch.timeout)?,
            test_timeout_secs: duration("review.test_timeout", &file.review.test_timeout)?,
            llm_timeout_secs: duration("review.llm_timeout", &file.review.llm_timeout)?,
            dispatch: file.dispatch,
            agents: file.agents,
            review: file.review,
            plan: file.plan,
            secret_policy: policy,
            secret_scanner: std::sync::OnceLock::new(),
            secrets_allow_paths: globs("secrets.allow_paths", &file.secrets.allow_paths)?,
            secrets_baseline: file.secrets.baseline,
            ids,
            scan_exclude: globs("files.exclude", &file.files.exclude)?,
            scan_exclude_dirs: globs(
                "files.exclude",
                &file
                    .files
                    .exclude
                    .iter()
                    .filter_map(|p| p.strip_suffix("/**").map(str::to_string))
                    .collect::<Vec<_>>(),
            )?,
            tests: globs("files.tests", &file.files.tests)?,
            must_trace: PathFilter {
                include: globs("trace.include", &file.trace.include)?,
                exclude: globs("trace.exclude", &file.trace.exclude)?,
            },
            max_file_size: file.files.max_file_size,
            trace_level: file.trace.level,
            item_paths: globs("trace.item_paths", &file.trace.item_paths)?,
            items_to_trace: file.trace.items,
            comments_only: file.trace.comments_only,
            file_header: file.trace.file_header,
            queries_dir: match &file.trace.queries_dir {
                Some(dir) => {
                    check_relative(dir).map_err(|why| ConfigError {
                        message: format!("trace.queries_dir {why}"),
                        span: value_at("trace.queries_dir"),
                    })?;
                    Some(dir.clone())
                }
                None => None,
            },
            queries: None,
            paths,
            severities,
            gate: file.coverage.gate,
            coverage_through_work_items: file.coverage.through_work_items,
            stale_lock_after_secs,
            lock_remote,
            debounce_ms: file.lsp.debounce_ms,
            diagnostics_scope: file.lsp.diagnostics_scope,
            cache_git_index: file.cache.git_index,
            cache_dir: file.cache.enabled.then_some(file.cache.dir),
        })
    }

    /// The configured severity of a code, or `None` when the code is turned off.
    pub fn severity(&self, code: Code) -> Option<Severity> {
        match self.severities.get(&code) {
            None => Some(code.default_severity()),
            Some(Level::Off) => None,
            Some(Level::Hint) => Some(Severity::Hint),
            Some(Level::Info) => Some(Severity::Info),
            Some(Level::Warning) => Some(Severity::Warning),
            Some(Level::Error) => Some(Severity::Error),
        }
    }

    /// Accept the findings whose fingerprints are in `baseline` (read from the baseline file).
    pub fn set_secret_baseline(&mut self, baseline: std::collections::HashSet<String>) {
        self.secret_policy.baseline = baseline;
        self.secret_scanner = std::sync::OnceLock::new();
    }

    pub fn secrets(&self) -> &crate::secrets::SecretScanner {
        self.secret_scanner.get_or_init(|| crate::secrets::SecretScanner::new(self.secret_policy.clone()))
    }

    /// Whether `path` is traced item by item.
    pub fn item_level(&self, path: &str) -> bool {
        self.trace_level == TraceLevel::Item || self.item_paths.is_match(path)
    }

    /// The queries in force: the override set by the loader, else the built-in ones.
    pub fn queries(&self) -> &crate::items::Queries {
        match &self.queries {
            Some(q) => q,
            None => crate::items::Queries::builtin(),
        }
    }

    pub fn is_test(&self, path: &str) -> bool {
        self.tests.is_match(path)
    }

    /// The ops files whose IDs are definitions or relations, checked by their loaders rather
    /// than as free-text references.
    pub fn is_ops_file(&self, path: &str) -> bool {
        let p = &self.paths;
        path == p.blueprint_index
            || path == p.crosswalk
            || path == p.wbs
            || path == p.queue
            || path == p.access_status
            || path == p.model_decisions
            || path == self.secrets_baseline
            || path == p.trace_lock
            || path == p.owner_questions
            || path == p.coverage_history
            || path == p.pull_requests
            || path == p.tools_manifest
            || is_under(path, &p.locks_dir)
            || is_under(path, &p.proposals_dir)
    }
}

fn paths_entries(p: &PathsSection) -> [(&'static str, &str); 19] {
    [
        ("blueprint_index", &p.blueprint_index),
        ("blueprints_dir", &p.blueprints_dir),
        ("crosswalk", &p.crosswalk),
        ("wbs", &p.wbs),
        ("queue", &p.queue),
        ("locks_dir", &p.locks_dir),
        ("access_status", &p.access_status),
        ("model_decisions", &p.model_decisions),
        ("runs_dir", &p.runs_dir),
        ("reviews_dir", &p.reviews_dir),
        ("progress", &p.progress),
        ("trace_lock", &p.trace_lock),
        ("owner_questions", &p.owner_questions),
        ("owner_questions_md", &p.owner_questions_md),
        ("proposals_dir", &p.proposals_dir),
        ("coverage_history", &p.coverage_history),
        ("owner_dashboard", &p.owner_dashboard),
        ("pull_requests", &p.pull_requests),
        ("tools_manifest", &p.tools_manifest),
    ]
}

/// Where keys and values are in `concord.toml`, from toml's own spanned parse: semantic
/// errors point at the setting itself, never at an earlier mention of the same text.
struct Spans<'a, 't> {
    text: &'a str,
    index: &'a LineIndex,
    root: &'a toml::de::DeTable<'t>,
}

impl Spans<'_, '_> {
    fn span(&self, range: std::ops::Range<usize>) -> Span {
        self.index.span(self.text, range.start, range.end)
    }

    /// The key and value at a dotted path (`files.exclude`).
    fn entry(
        &self,
        path: &str,
    ) -> Option<(&toml::Spanned<std::borrow::Cow<'_, str>>, &toml::Spanned<toml::de::DeValue<'_>>)> {
        let mut table = self.root;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let (key, value) = table.iter().find(|(k, _)| k.get_ref() == part)?;
            if parts.peek().is_none() {
                return Some((key, value));
            }
            let toml::de::DeValue::Table(inner) = value.get_ref() else { return None };
            table = inner;
        }
        None
    }

    fn value(&self, path: &str) -> Option<Span> {
        self.entry(path).map(|(_, v)| self.span(v.span()))
    }

    /// A table's key that is data (a name under `[agents]`), not a setting.
    fn key_in(&self, table: &str, name: &str) -> Option<Span> {
        let (_, value) = self.entry(table)?;
        let toml::de::DeValue::Table(inner) = value.get_ref() else { return None };
        inner.iter().find(|(k, _)| k.get_ref() == name).map(|(k, _)| self.span(k.span()))
    }

    fn element_value(&self, path: &str, i: usize) -> Option<&toml::Spanned<toml::de::DeValue<'_>>> {
        let (_, value) = self.entry(path)?;
        let toml::de::DeValue::Array(items) = value.get_ref() else { return None };
        items.get(i)
    }

    /// Element `i` of the array at `path`.
    fn element(&self, path: &str, i: usize) -> Option<Span> {
        self.element_value(path, i).map(|v| self.span(v.span()))
    }

    /// A key of the table that is element `i` of the array at `path` (`ids.families[2].pattern`).
    fn in_element(&self, path: &str, i: usize, key: &str) -> Option<Span> {
        let toml::de::DeValue::Table(table) = self.element_value(path, i)?.get_ref() else { return None };
        table.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| self.span(v.span()))
    }
}

/// Where a dotted key of more parts than the TOML parser takes is (it reports none).
fn too_deep_key(text: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let key = trimmed.split(['=', '#']).next().unwrap_or("");
        if key.matches('.').count() >= 64 {
            let start = offset + (line.len() - trimmed.len());
            return Some(start..start + key.trim_end().len());
        }
        offset += line.len();
    }
    None
}

/// `path` is `dir` or inside it (both workspace-relative, `/`-separated).
pub fn is_under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty() || path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// A workspace-relative path or glob must stay inside the workspace.
pub fn check_relative(path: &str) -> Result<(), &'static str> {
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return Err("is absolute: paths are relative to the workspace root");
    }
    if path.split(['/', '\\']).any(|part| part == "..") {
        return Err("leaves the workspace (`..`): paths must stay inside the workspace root");
    }
    Ok(())
}

/// `[github]` checked where it is written: a token goes only over https (or to this machine),
/// from a variable that can exist, to a repository named `owner/name`.
fn check_github(
    github: &GithubSection,
    value_at: &impl Fn(&str) -> Option<Span>,
    element_at: &impl Fn(&str, usize) -> Option<Span>,
) -> Result<(), ConfigError> {
    let base = &github.api_base_url;
    let loopback = crate::ops::github::is_loopback(base);
    if !(base.starts_with("https://") || (base.starts_with("http://") && loopback))
        || base.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ConfigError {
            message: format!(
                "github.api_base_url = {base:?} is not an https:// URL (like \"{GITHUB_API}\" or \"https://ghe.example.com/api/v3\"; plain http only to this machine)"
            ),
            span: value_at("github.api_base_url"),
        });
    }
    let env = &github.token_env;
    let mut chars = env.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ConfigError {
            message: format!(
                "github.token_env = {env:?} is not an environment variable name (like \"GITHUB_TOKEN\"): name the variable, never put the token here"
            ),
            span: value_at("github.token_env"),
        });
    }
    if !github.repo.is_empty() && crate::ops::github::parse_repo(&github.repo).is_none() {
        return Err(ConfigError {
            message: format!(
                "github.repo = {:?} is not `owner/name` (letters, digits, `-`, `_`, `.`); leave it empty to use the origin remote",
                github.repo
            ),
            span: value_at("github.repo"),
        });
    }
    for (i, name) in github.required_checks.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(ConfigError {
                message: "github.required_checks: a check name is empty".into(),
                span: element_at("github.required_checks", i),
            });
        }
    }
    for (i, label) in github.labels.iter().enumerate() {
        // GitHub's own limit on a label's name.
        if label.trim().is_empty() || label.chars().count() > 50 {
            return Err(ConfigError {
                message: format!("github.labels: {label:?} is not a label name (1 to 50 characters)"),
                span: element_at("github.labels", i),
            });
        }
    }
    Ok(())
}

/// One glob, matched against whole workspace-relative paths: `*` stays within a directory,
/// `**` crosses directories, `{a,b}` and `[abc]` work as in shells.
pub fn compile_glob(pattern: &str) -> Result<Glob, String> {
    use crate::globs::{MAX_BRACE_ALTERNATIVES, MAX_GLOB_LEN};
    if pattern.len() > MAX_GLOB_LEN {
        let start: String = pattern.chars().take(40).collect();
        return Err(format!(
            "glob {start:?}… is {} bytes long; at most {MAX_GLOB_LEN} are allowed",
            pattern.len()
        ));
    }
    check_relative(pattern).map_err(|why| format!("glob {pattern:?} {why}"))?;
    if crate::globs::brace_alternatives(pattern).is_err() {
        return Err(format!(
            "glob {pattern:?} stands for more than {MAX_BRACE_ALTERNATIVES} patterns through its {{…}} groups; split it or use `*`"
        ));
    }
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid glob {pattern:?}: {}", e.kind()))
}

pub fn build_globset(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(compile_glob(pattern)?);
    }
    builder.build().map_err(|e| e.to_string())
}

/// The longest duration accepted anywhere (`locks.stale_after`, timeouts, `--older-than`):
/// 100 years, far past any real use and far below where seconds overflow.
pub const MAX_DURATION_SECS: u64 = 36_500 * 86_400;

/// "90s", "15m", "24h", "7d" (a bare number is seconds), at most `MAX_DURATION_SECS`.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ if number.is_empty() => return Err(format!("{text:?} is not a duration like 90m, 24h or 7d")),
        _ => return Err(format!("{text:?} has an unknown unit (use s, m, h, d or w)")),
    };
    if number.is_empty() {
        return Err(format!("{text:?} is not a duration like 90m, 24h or 7d"));
    }
    let too_long = || format!("{text:?} is out of range: durations go up to 36500d (100 years)");
    // Digits only, so a parse failure means the number does not fit.
    let value: u64 = number.parse().map_err(|_| too_long())?;
    match value.checked_mul(scale) {
        Some(secs) if secs <= MAX_DURATION_SECS => Ok(secs),
        _ => Err(too_long()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_means_the_documented_defaults() {
        let config = Config::parse(None).unwrap();
        assert_eq!(config.paths.wbs, "ops/wbs.json");
        assert!(config.must_trace.matches("services/payments/stripe.py"));
        assert!(!config.must_trace.matches("tests/fixtures/x.py"));
        assert!(!config.must_trace.matches("docs/readme.md"));
        assert!(config.is_test("tests/python/test_payments.py"));
        assert!(config.is_test("web/src/cart.test.ts"));
        assert!(!config.is_test("web/src/cart.ts"));
        assert_eq!(config.severity(Code::UnknownId), Some(Severity::Error));
        assert_eq!(config.stale_lock_after_secs, 86_400);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_positioned() {
        let err = Config::parse(Some("[paths]\nwbs = \"ops/w.json\"\nqueu = \"x\"\n")).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 2);
        assert!(err.message.contains("unknown field `queu`"), "{}", err.message);

        let err = Config::parse(Some("[lsp]\ndebounce_ms = \"fast\"\n")).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 1);

        let err = Config::parse(Some("[lsp]\ndebounce_ms = 5001\n")).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 1);
        assert!(err.message.contains("out of range: 0 to 5000"), "{}", err.message);
        assert_eq!(Config::parse(Some("[lsp]\ndebounce_ms = 5000\n")).unwrap().debounce_ms, 5000);
        let err = Config::parse(Some("[lsp]\ndebounce_ms = -1\n")).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 1);

        let err = Config::parse(Some("[severity]\nunknown-id = \"loud\"\n")).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 1);
        assert!(err.message.contains("loud"));
    }

    #[test]
    fn secret_rules_can_be_added_in_gitleaks_form_and_their_errors_are_positioned() {
        // Key-shaped values are built at run time, so this file holds none.
        let token = format!("acme_{}", "q7Zr2Lk9Xw4Tb8Nv1Ms6");
        let config = Config::parse(Some(concat!(
            "[[secrets.rules]]\nid = \"acme-token\"\ndescription = \"Acme deploy token\"\n",
            "regex = '''\\b(acme_[A-Za-z0-9]{20})\\b'''\nsecretGroup = 1\nentropy = 3.0\n",
            "keywords = [\"ACME_\"]\n[[secrets.rules.allowlists]]\nregexes = ['''^acme_test''']\n",
        )))
        .unwrap();
        let found = config.secrets().scan(&format!("deploy = {token}\n"));
        assert_eq!(found.iter().map(|f| f.rule_id).collect::<Vec<_>>(), ["acme-token"]);
        assert_eq!(found[0].end - found[0].start, token.len(), "the secret group, not the whole match");
        assert!(config.secrets().scan(&format!("x = acme_test{}\n", &token[9..])).is_empty(), "allowlisted");
        // Built-in rules still run beside it.
        assert!(config.secrets().rules().iter().any(|r| r.id == "github-pat"));

        let bad_regex = "[secrets]\nstopwords = []\n\n[[secrets.rules]]\nid = \"x\"\nregex = \"(unclosed\"\n";
        let err = Config::parse(Some(bad_regex)).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 5, "{err}");
        assert!(err.message.contains("rule x: the regex does not compile"), "{}", err.message);

        let taken = "[[secrets.rules]]\nid = \"github-pat\"\nregex = \"ghp_x\"\n";
        let err = Config::parse(Some(taken)).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 1, "{err}");
        assert!(err.message.contains("already taken"), "{}", err.message);

        let group = "[[secrets.rules]]\nid = \"g\"\nregex = \"a(b)\"\nsecretGroup = 2\n";
        let err = Config::parse(Some(group)).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 3, "{err}");

        let generic = "[[secrets.rules]]\nid = \"g\"\nregex = \"a(b)\"\nkind = \"generic-secret\"\n";
        assert!(Config::parse(Some(generic)).unwrap_err().message.contains("group named `name`"));

        let unknown = "[[secrets.rules]]\nid = \"g\"\nregex = \"a\"\npath = \"x\"\n";
        let err = Config::parse(Some(unknown)).unwrap_err();
        assert!(err.message.contains("unknown field `path`"), "{}", err.message);
        assert_eq!(err.span.unwrap().start.line, 3, "{err}");
    }

    #[test]
    fn severities_and_families_can_be_changed() {
        let config = Config::parse(Some(
            "[severity]\nuntraced-file = \"off\"\nuncovered-chunk = \"warning\"\n\n[[ids.families]]\nname = \"REQ\"\npattern = 'REQ-\\d+'\n",
        ))
        .unwrap();
        assert_eq!(config.severity(Code::UntracedFile), None);
        assert_eq!(config.severity(Code::UncoveredChunk), Some(Severity::Warning));
        assert_eq!(config.ids.families().len(), 1);
    }

    #[test]
    fn paths_that_escape_the_workspace_are_refused() {
        let err = Config::parse(Some("[paths]\nwbs = \"../other/wbs.json\"\n")).unwrap_err();
        assert!(err.message.contains("leaves the workspace"));
        assert_eq!(err.span.unwrap().start.line, 1);
        assert!(Config::parse(Some("[trace]\ninclude = [\"/etc/**\"]\n")).is_err());
    }

    #[test]
    fn the_lock_remote_is_off_by_default_and_its_ref_must_be_a_full_ref() {
        assert_eq!(Config::parse(None).unwrap().lock_remote, None);
        let config = Config::parse(Some("[locks]\nremote = \"origin\"\n")).unwrap();
        let remote = config.lock_remote.unwrap();
        assert_eq!(
            (remote.remote.as_str(), remote.lock_ref.as_str(), remote.timeout_secs),
            ("origin", "refs/concord/locks", 30)
        );
        let branch =
            Config::parse(Some("[locks]\nremote = \"origin\"\nref = \"refs/heads/concord-locks\"\n"))
                .unwrap();
        assert_eq!(branch.lock_remote.unwrap().lock_ref, "refs/heads/concord-locks");
        for bad in ["concord-locks", "refs/a/../b", "refs/x/", "refs/x y"] {
            let err =
                Config::parse(Some(&format!("[locks]\nremote = \"origin\"\nref = \"{bad}\"\n"))).unwrap_err();
            assert!(err.message.contains("locks.ref"), "{bad}: {}", err.message);
        }
        let err = Config::parse(Some("[locks]\nremote = \"--upload-pack=x\"\n")).unwrap_err();
        assert!(err.message.contains("locks.remote"));
    }

    #[test]
    fn the_ingest_family_must_be_a_chunk_family_and_defaults_to_td_or_the_first() {
        assert_eq!(Config::parse(None).unwrap().ingest.id_family, "TD");
        let own = "[[ids.families]]\nname = \"REQ\"\npattern = 'REQ-\\d+'\n";
        assert_eq!(Config::parse(Some(own)).unwrap().ingest.id_family, "REQ");
        let err = Config::parse(Some("[ingest]\nid_family = \"WBS\"\n")).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 1, "{err}");
        assert!(err.message.contains("use one of NT, TD"), "{}", err.message);
        let err = Config::parse(Some("[ingest]\nheading_level = 7\n")).unwrap_err();
        assert!(err.message.contains("levels 1 to 6"), "{}", err.message);
        let err = Config::parse(Some("[ingest]\ndefault_priority = \"urgent\"\n")).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 1, "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("d").is_err());
        assert_eq!(parse_duration("36500d"), Ok(MAX_DURATION_SECS));
        for huge in ["36501d", "999999999999999d", "9223372036854775807d", "99999999999999999999999s"] {
            let err = parse_duration(huge).unwrap_err();
            assert!(err.contains("out of range"), "{huge}: {err}");
        }
    }

    #[test]
    fn the_github_section_has_defaults_and_positioned_errors() {
        let config = Config::parse(None).unwrap();
        assert_eq!(config.github.api_base_url, GITHUB_API);
        assert_eq!(config.github.token_env, "GITHUB_TOKEN");
        assert_eq!(config.paths.pull_requests, "ops/pull-requests.jsonl");
        assert!(config.is_ops_file("ops/pull-requests.jsonl"));
        let config = Config::parse(Some(
            "[github]\napi_base_url = \"https://ghe.example.com/api/v3\"\nrepo = \"acme/shop\"\nrequired_checks = [\"build\"]\nlabels = [\"autopilot\"]\n",
        ))
        .unwrap();
        assert_eq!(config.github.repo, "acme/shop");
        assert_eq!(config.github.required_checks, ["build"]);
        for (text, line, words) in [
            ("[github]\ntoken = \"x\"\n", 1, "unknown field `token`"),
            ("[github]\n\napi_base_url = \"http://ghe.example.com/api/v3\"\n", 2, "not an https://"),
            ("[github]\ntoken_env = \"ghp_secret value\"\n", 1, "not an environment variable name"),
            ("[github]\nrepo = \"https://github.com/acme/shop\"\n", 1, "is not `owner/name`"),
            ("[github]\nrequired_checks = [\n  \"build\",\n  \" \",\n]\n", 3, "check name is empty"),
            ("[github]\nlabels = [\"\"]\n", 1, "not a label name"),
        ] {
            let err = Config::parse(Some(text)).unwrap_err();
            assert_eq!(err.span.map(|s| s.start.line), Some(line), "{text}: {err}");
            assert!(err.message.contains(words), "{text}: {err}");
        }
        // Plain http is for a server on this machine only.
        assert!(Config::parse(Some("[github]\napi_base_url = \"http://127.0.0.1:9/\"\n")).is_ok());
    }
}
