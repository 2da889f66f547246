//! Secret scanning: finds API keys, tokens, private keys and hard-coded
//! passwords in text, so they are caught in the editor and in CI before they
//! are committed, and so agent logs can be scrubbed before they are written.
//!
//! Pipeline, per rule:
//! keyword prefilter (one multi-literal pass over the text for all vendor
//! rules, a stop-at-first-hit search for the generic ones)
//! → regex → inline allow (`concord:allow-secret` on the line)
//! → secret group → Shannon entropy threshold → placeholder filters
//! → policy allowlists (regexes; stopwords, except for a vendor's exact key
//! format, where a random key spells `fake` or `xxxx` now and then) → overlap resolution
//! → baseline (SHA-256 fingerprints of accepted findings).
//!
//! The module is pure: it takes text (and, for [`SecretScanner::scan_file`], a
//! path string) and returns findings with byte offsets. It never stores or
//! returns a secret itself, only its fingerprint and a redacted form.

mod assignment;
mod entropy;
mod rules;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use regex::{Captures, Match, Regex, RegexSet};
use sha2::{Digest, Sha256};

use assignment::{
    assignment_name_is_credential, character_classes, full_identifier, looks_like_environment_variable,
};
pub use entropy::shannon_entropy;
pub use rules::RuleInfo;
use rules::{Keywords, Pattern, RuleKind, RULES};

/// A line containing this marker is never reported.
pub const INLINE_ALLOW_MARKER: &str = "concord:allow-secret";

/// Words that mark a value as a placeholder or template, not a real secret.
/// Matched case-insensitively as substrings of the secret.
pub const DEFAULT_STOPWORDS: &[&str] = &[
    "example",
    "placeholder",
    "xxxx",
    "${",
    "{{",
    "}}",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "redacted",
    "your_",
    "your-",
    "yourapi",
    "yourkey",
    "yoursecret",
    "yourtoken",
    "insert_",
    "replace_me",
    "replaceme",
    "fake",
    "sample",
    "lorem",
    "notreal",
    "not_real",
    "not-a-real",
];

/// Paths whose content is hashes and versions, never credentials.
pub const DEFAULT_ALLOWED_PATHS: &[&str] = &[
    r"(?:^|[/\\])(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|deno\.lock|bun\.lock)$",
    r"(?:^|[/\\])(?:Cargo\.lock|poetry\.lock|Pipfile\.lock|uv\.lock|composer\.lock|Gemfile\.lock|go\.sum|gradle\.lockfile)$",
];

/// One secret found in a text. Holds no copy of the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFinding {
    pub rule_id: &'static str,
    pub description: &'static str,
    /// Byte offset where the secret starts.
    pub start: usize,
    /// Byte offset just past the secret.
    pub end: usize,
    /// Hex SHA-256 of `rule_id:secret`; what a baseline stores.
    pub fingerprint: String,
    /// At most four leading characters and the length, e.g. `sk-p…(164 chars)`.
    pub redacted: String,
}

/// What to accept as not-a-secret. Built from `concord.toml` by the caller.
#[derive(Debug, Clone)]
pub struct SecretPolicy {
    /// A secret matching any of these is accepted.
    pub allow_regexes: Vec<Regex>,
    /// [`SecretScanner::scan_file`] skips paths matching any of these.
    pub allow_paths: Vec<Regex>,
    /// A secret containing any of these (ignoring case) is accepted.
    pub stopwords: Vec<String>,
    /// Fingerprints of accepted findings (see [`fingerprint`]).
    pub baseline: HashSet<String>,
}

impl Default for SecretPolicy {
    fn default() -> Self {
        SecretPolicy {
            allow_regexes: Vec::new(),
            allow_paths: DEFAULT_ALLOWED_PATHS
                .iter()
                .map(|pattern| Regex::new(pattern).expect("built-in path pattern is valid"))
                .collect(),
            stopwords: DEFAULT_STOPWORDS.iter().map(|word| word.to_string()).collect(),
            baseline: HashSet::new(),
        }
    }
}

/// Hex SHA-256 of `rule_id + ":" + secret`: the identity of a finding that
/// survives moving it around a file, without storing the secret.
pub fn fingerprint(rule_id: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update(b":");
    hasher.update(secret.as_bytes());
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// The redacted form of a secret: a few leading characters (at most four,
/// and at most a fifth of the secret, so short passwords stay hidden) and the
/// length. Nothing from the end is shown.
pub fn redacted_form(secret: &str) -> String {
    let char_count = secret.chars().count();
    let shown = (char_count / 5).min(4);
    let head: String = secret.chars().take(shown).collect();
    format!("{head}…({char_count} chars)")
}

/// Replaces each finding's span in `text` with its redacted form. Findings
/// that overlap an earlier one, or whose offsets do not fit `text`, are
/// skipped rather than trusted.
pub fn redact(text: &str, findings: &[SecretFinding]) -> String {
    let mut ordered: Vec<&SecretFinding> = findings.iter().collect();
    ordered.sort_by_key(|finding| (finding.start, finding.end));
    let mut output = String::with_capacity(text.len());
    let mut copied_up_to = 0;
    for finding in ordered {
        let fits = finding.start >= copied_up_to
            && finding.start < finding.end
            && finding.end <= text.len()
            && text.is_char_boundary(finding.start)
            && text.is_char_boundary(finding.end);
        if !fits {
            continue;
        }
        output.push_str(&text[copied_up_to..finding.start]);
        output.push_str(&finding.redacted);
        copied_up_to = finding.end;
    }
    output.push_str(&text[copied_up_to..]);
    output
}

/// A rule with its regex compiled.
#[derive(Debug)]
struct CompiledRule {
    info: &'static RuleInfo,
    regex: Regex,
}

/// Everything that depends only on the rule table; compiled once per process
/// and shared by every scanner.
#[derive(Debug)]
struct CompiledRules {
    rules: Vec<CompiledRule>,
    /// Keyword prefilter; see [`KeywordPrefilter`].
    prefilter: KeywordPrefilter,
    /// Values that are obviously placeholders, for every rule.
    placeholder_values: RegexSet,
    /// Values that are words, versions or references rather than
    /// credentials, for generic assignment rules.
    non_credential_values: RegexSet,
    /// Unquoted values that are code: `self._lib.KEY_TYPE`, `env.API_TOKEN`.
    code_reference: Regex,
}

fn compiled_rules() -> Arc<CompiledRules> {
    static COMPILED: OnceLock<Arc<CompiledRules>> = OnceLock::new();
    COMPILED.get_or_init(|| Arc::new(CompiledRules::build())).clone()
}

impl CompiledRules {
    fn build() -> Self {
        let rules = RULES
            .iter()
            .map(|info| {
                let source = match info.pattern {
                    Pattern::Token(source) => source.to_string(),
                    Pattern::Assignment { names, value } => rules::assignment_pattern(names, value),
                };
                let regex = Regex::new(&source)
                    .unwrap_or_else(|error| panic!("rule {} does not compile: {error}", info.id));
                CompiledRule { info, regex }
            })
            .collect::<Vec<_>>();

        let prefilter = KeywordPrefilter::build(RULES);

        let placeholder_values = RegexSet::new([
            r"^(?i:true|false|null|nil|none|undefined|empty|string|secret|password|token)$",
            // Environment and template references: $VAR, ${VAR}, %VAR%, @VAR@, {0}.
            r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$",
            r"^\$[0-9]+$",
            r"^%[A-Za-z_][A-Za-z0-9_]*%$",
            r"^@[A-Za-z_][A-Za-z0-9_]*@$",
            r"^\{[0-9]{0,2}\}$",
            // <your-token>, [REDACTED]
            r"^<[^<>]*>$",
            r"^\[[^\[\]]*\]$",
            // Absolute Unix paths.
            r"^/(?:Users|bin|dev|etc|home|mnt|opt|proc|root|run|srv|tmp|usr|var)/",
            // AWS documentation keys end this way.
            r"EXAMPLE(?:KEY)?$",
            // Templates that survived into the value.
            r"\{\{|\}\}|\$\{",
        ])
        .expect("placeholder patterns are valid");

        let non_credential_values = RegexSet::new([
            // Letters and separators only: words and identifiers, not keys.
            r"^[A-Za-z_.+/-]+$",
            // snake_case and SCREAMING_SNAKE identifiers: variables and constants.
            r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$",
            r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$",
            // Timestamps.
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?$",
            // Package coordinates with a version: jjwt-jackson-0.11.2, js-tokens@4.0.0
            r"^[A-Za-z][A-Za-z0-9_.-]*[-@:]v?[0-9]+(?:\.[0-9]+)+(?:[-.+][A-Za-z0-9]+)*$",
            // Versions: 1.2.3, ^4.0.0-beta.1, v2.10
            r"^[~^<>=v]{0,3}[0-9]+(?:\.[0-9]+){1,3}(?:[-+][0-9A-Za-z.-]+)?$",
            // Plain numbers and dates.
            r"^[0-9][0-9:._/-]*$",
            // Digests with their algorithm named.
            r"^(?i:sha(?:1|224|256|384|512)|md5|blake2[bs]?|h1)[:-]",
            // URLs and relative file names.
            r"^[A-Za-z][A-Za-z0-9+.-]*://",
            r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+\.[A-Za-z]{1,5}$",
        ])
        .expect("non-credential patterns are valid");

        let code_reference = Regex::new(r"^[a-z_$][a-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)+$")
            .expect("code-reference pattern is valid");

        CompiledRules { code_reference, rules, prefilter, placeholder_values, non_credential_values }
    }

    /// Which rules have a keyword somewhere in `text`.
    fn rules_worth_running(&self, text: &str) -> Vec<bool> {
        self.prefilter.rules_present(text.as_bytes(), self.rules.len())
    }
}

/// Decides, cheaply, which rules can match a text at all.
///
/// Two passes over the text, each a single search for an alternation of
/// literals: one for the exact vendor prefixes (a multi-literal search that
/// runs at memory speed, so a file without any prefix costs almost nothing),
/// one for the any-case names used by assignment rules. Each pass stops as
/// soon as every rule it serves has been seen.
#[derive(Debug)]
struct KeywordPrefilter {
    exact: Option<LiteralPass>,
    any_case: Option<LiteralPass>,
    /// Rules with no keyword at all run on every text.
    unconditional: Vec<usize>,
}

impl KeywordPrefilter {
    fn build(rules: &'static [RuleInfo]) -> Self {
        let unconditional = rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| matches!(rule.keywords, Keywords::Exact([]) | Keywords::AnyCase([])))
            .map(|(index, _)| index)
            .collect();
        KeywordPrefilter {
            exact: LiteralPass::build(rules, false),
            any_case: LiteralPass::build(rules, true),
            unconditional,
        }
    }

    fn rules_present(&self, text: &[u8], rule_count: usize) -> Vec<bool> {
        let mut present = vec![false; rule_count];
        for pass in [&self.exact, &self.any_case].into_iter().flatten() {
            pass.mark_present(text, &mut present);
        }
        for &index in &self.unconditional {
            present[index] = true;
        }
        present
    }
}

/// One search for every keyword of one kind (exact or any-case).
#[derive(Debug)]
struct LiteralPass {
    /// Alternation of the keywords, longest first.
    regex: regex::bytes::Regex,
    ignore_case: bool,
    /// For each keyword (lower-cased when `ignore_case`), the rules whose
    /// keywords it contains, itself included: a shorter keyword hidden inside
    /// a longer match is not lost.
    rules_by_keyword: HashMap<Vec<u8>, Vec<usize>>,
    /// Each served rule with its own keyword alternation, for when the
    /// combined search keeps hitting keywords of rules already found.
    per_rule: Vec<(usize, regex::bytes::Regex)>,
}

impl LiteralPass {
    fn build(rules: &'static [RuleInfo], ignore_case: bool) -> Option<Self> {
        let keywords_of = |rule: &RuleInfo| match (rule.keywords, ignore_case) {
            (Keywords::Exact(keywords), false) | (Keywords::AnyCase(keywords), true) => keywords,
            _ => &[],
        };
        let normalise = |keyword: &str| {
            if ignore_case {
                keyword.to_ascii_lowercase()
            } else {
                keyword.to_string()
            }
        };
        let mut keywords: Vec<String> = rules
            .iter()
            .flat_map(|rule| keywords_of(rule).iter().map(|keyword| normalise(keyword)))
            .collect();
        if keywords.is_empty() {
            return None;
        }
        keywords.sort_by_key(|keyword| std::cmp::Reverse(keyword.len()));
        keywords.dedup();

        let mut rules_by_keyword = HashMap::new();
        for found in &keywords {
            let implied = rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| keywords_of(rule).iter().any(|inner| found.contains(&normalise(inner))))
                .map(|(index, _)| index)
                .collect::<Vec<_>>();
            rules_by_keyword.insert(found.as_bytes().to_vec(), implied);
        }
        // ASCII-only folding (`-u`): Unicode folding would let the Kelvin
        // sign stand in for `k`, and would slow the search down.
        let compile = |keywords: &[String]| {
            let alternation =
                keywords.iter().map(|keyword| regex::escape(keyword)).collect::<Vec<_>>().join("|");
            let pattern = if ignore_case { format!("(?i-u:{alternation})") } else { alternation };
            regex::bytes::Regex::new(&pattern).expect("escaped keywords form a valid pattern")
        };
        let per_rule = rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| !keywords_of(rule).is_empty())
            .map(|(index, rule)| {
                let own: Vec<String> = keywords_of(rule).iter().map(|keyword| normalise(keyword)).collect();
                (index, compile(&own))
            })
            .collect();
        Some(LiteralPass { regex: compile(&keywords), ignore_case, rules_by_keyword, per_rule })
    }

    fn mark_present(&self, text: &[u8], present: &mut [bool]) {
        /// After this many hits in a row that reveal no new rule, common
        /// keywords are drowning out the rare ones: switch to one search per
        /// remaining rule, so dense text stays linear and fast.
        const FRUITLESS_HITS_LIMIT: usize = 32;
        let mut still_absent = self.per_rule.len();
        let mut search_from = 0;
        let mut fruitless_hits = 0;
        let mut lowered = Vec::new();
        // Restart one byte after each match rather than after its end, so
        // overlapping keywords are all seen.
        while still_absent > 0 {
            if fruitless_hits >= FRUITLESS_HITS_LIMIT {
                for (index, regex) in &self.per_rule {
                    if !present[*index] {
                        present[*index] = regex.is_match_at(text, search_from);
                    }
                }
                return;
            }
            let Some(found) = self.regex.find_at(text, search_from) else {
                break;
            };
            let key = if self.ignore_case {
                lowered.clear();
                lowered.extend(found.as_bytes().iter().map(u8::to_ascii_lowercase));
                lowered.as_slice()
            } else {
                found.as_bytes()
            };
            fruitless_hits += 1;
            for &index in self.rules_by_keyword.get(key).into_iter().flatten() {
                if !present[index] {
                    present[index] = true;
                    still_absent -= 1;
                    fruitless_hits = 0;
                }
            }
            search_from = found.start() + 1;
        }
    }
}

/// Compiled rules plus a policy. Build once, share freely: it is `Send + Sync`
/// and `scan` takes `&self`.
#[derive(Debug, Clone)]
pub struct SecretScanner {
    compiled: Arc<CompiledRules>,
    policy: SecretPolicy,
    /// All stopwords as one case-insensitive alternation: one pass per secret.
    stopword_matcher: Option<Regex>,
}

/// Whether inline-allow markers and the baseline may hide a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suppressions {
    Honour,
    Ignore,
}

/// A match that passed every per-match check; overlaps are resolved next.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    rule_index: usize,
    start: usize,
    end: usize,
}

impl SecretScanner {
    pub fn new(policy: SecretPolicy) -> Self {
        let alternatives: Vec<String> =
            policy.stopwords.iter().filter(|word| !word.is_empty()).map(|word| regex::escape(word)).collect();
        // Escaped literals always compile; only an absurdly long list could
        // exceed the size limit, and then a plain substring search takes over.
        let stopword_matcher = if alternatives.is_empty() {
            None
        } else {
            Regex::new(&format!("(?i:{})", alternatives.join("|"))).ok()
        };
        SecretScanner { compiled: compiled_rules(), policy, stopword_matcher }
    }

    /// Every rule, in priority order, for SARIF rule metadata and help texts.
    pub fn rules() -> &'static [RuleInfo] {
        RULES
    }

    pub fn policy(&self) -> &SecretPolicy {
        &self.policy
    }

    /// Findings in `text`, ordered by offset and never overlapping.
    pub fn scan(&self, text: &str) -> Vec<SecretFinding> {
        self.scan_with(text, Suppressions::Honour)
    }

    /// Like [`scan`](Self::scan), but returns nothing for a path the policy
    /// allows (lock files by default).
    pub fn scan_file(&self, path: &str, text: &str) -> Vec<SecretFinding> {
        if self.is_path_allowed(path) {
            return Vec::new();
        }
        self.scan(text)
    }

    pub fn is_path_allowed(&self, path: &str) -> bool {
        self.policy.allow_paths.iter().any(|pattern| pattern.is_match(path))
    }

    /// `text` with every secret replaced by its redacted form, ignoring
    /// inline-allow markers and the baseline: an accepted fixture in the
    /// repository is still not something to copy into a log.
    pub fn scrub(&self, text: &str) -> String {
        redact(text, &self.scan_with(text, Suppressions::Ignore))
    }

    fn scan_with(&self, text: &str, suppressions: Suppressions) -> Vec<SecretFinding> {
        if text.is_empty() {
            return Vec::new();
        }
        let worth_running = self.compiled.rules_worth_running(text);
        if !worth_running.contains(&true) {
            return Vec::new();
        }
        let allowed_lines = match suppressions {
            Suppressions::Honour => AllowedLines::find(text),
            Suppressions::Ignore => AllowedLines::default(),
        };

        let mut candidates = Vec::new();
        for (rule_index, rule) in self.compiled.rules.iter().enumerate() {
            if !worth_running[rule_index] {
                continue;
            }
            for captures in rule.regex.captures_iter(text) {
                let Some(secret) = secret_group(&captures) else {
                    continue;
                };
                if allowed_lines.covers(secret.start(), secret.end()) {
                    continue;
                }
                if self.accepts(rule, &captures, secret, text) {
                    candidates.push(Candidate { rule_index, start: secret.start(), end: secret.end() });
                }
            }
        }

        let rules = &self.compiled.rules;
        resolve_overlaps(candidates, |index| rules[index].info.kind)
            .into_iter()
            .filter_map(|candidate| {
                let info = rules[candidate.rule_index].info;
                let secret = &text[candidate.start..candidate.end];
                let fingerprint = fingerprint(info.id, secret);
                if suppressions == Suppressions::Honour && self.policy.baseline.contains(&fingerprint) {
                    return None;
                }
                Some(SecretFinding {
                    rule_id: info.id,
                    description: info.description,
                    start: candidate.start,
                    end: candidate.end,
                    fingerprint,
                    redacted: redacted_form(secret),
                })
            })
            .collect()
    }

    /// Entropy, placeholder, assignment and policy checks for one match.
    fn accepts(&self, rule: &CompiledRule, captures: &Captures, secret: Match, text: &str) -> bool {
        let info = rule.info;
        let value = secret.as_str();
        let measured = captures.name("body").map_or(value, |body| body.as_str());
        if shannon_entropy(measured) < info.min_entropy {
            return false;
        }
        if is_one_repeated_char(value)
            || has_sequential_run(value, 6)
            || self.compiled.placeholder_values.is_match(value)
        {
            return false;
        }
        if info.kind != RuleKind::Token {
            let Some(name) = captures.name("name") else {
                return false;
            };
            let identifier = full_identifier(text, name.start(), name.end());
            if !assignment_name_is_credential(info.kind, identifier) {
                return false;
            }
            if self.compiled.non_credential_values.is_match(value) {
                return false;
            }
            if captures.name("secret_bare").is_some() && self.compiled.code_reference.is_match(value) {
                return false;
            }
            if captures.name("comma").is_some() && !looks_like_environment_variable(identifier) {
                return false;
            }
            if info.kind == RuleKind::GenericPassword && character_classes(value) < 2 {
                return false;
            }
        }
        if self.policy.allow_regexes.iter().any(|pattern| pattern.is_match(value)) {
            return false;
        }
        // A provider's exact key format is a key whatever letters its random part spells
        // (about one `sk-proj-` key in 3,000 holds `fake`, `xxxx`, `dummy` or `lorem`):
        // placeholders in that format are caught by the entropy and sequence checks above,
        // and deliberate test keys are accepted by `allow`, the inline marker or the baseline.
        is_exact_vendor_format(info) || !self.contains_stopword(value)
    }

    fn contains_stopword(&self, value: &str) -> bool {
        match &self.stopword_matcher {
            Some(matcher) => matcher.is_match(value),
            None => self
                .policy
                .stopwords
                .iter()
                .any(|word| !word.is_empty() && value.to_lowercase().contains(&word.to_lowercase())),
        }
    }
}

/// A rule that recognises one vendor's key by its exact prefix and shape.
fn is_exact_vendor_format(info: &RuleInfo) -> bool {
    info.kind == RuleKind::Token && matches!(info.keywords, Keywords::Exact(_))
}

/// The credential inside a match: whichever secret group took part, or the
/// whole match for a rule without one.
fn secret_group<'t>(captures: &Captures<'t>) -> Option<Match<'t>> {
    let secret = ["secret", "secret_bare", "secret_pair"]
        .iter()
        .find_map(|name| captures.name(name))
        .or_else(|| captures.get(0))?;
    (!secret.is_empty()).then_some(secret)
}

/// Keeps at most one finding per region: a vendor-specific rule beats a
/// generic assignment rule; among equals, the longer span, then the rule
/// listed first. Runs in O(n log n).
fn resolve_overlaps(mut candidates: Vec<Candidate>, kind_of: impl Fn(usize) -> RuleKind) -> Vec<Candidate> {
    candidates.sort_by_key(|candidate| (candidate.start, candidate.rule_index));
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let Some(last) = kept.last().copied() else {
            kept.push(candidate);
            continue;
        };
        if candidate.start >= last.end {
            kept.push(candidate);
            continue;
        }
        let candidate_specific = kind_of(candidate.rule_index) == RuleKind::Token;
        let last_specific = kind_of(last.rule_index) == RuleKind::Token;
        let candidate_wins = match (candidate_specific, last_specific) {
            (true, false) => true,
            (false, true) => false,
            _ => {
                let candidate_len = candidate.end - candidate.start;
                let last_len = last.end - last.start;
                candidate_len > last_len
                    || (candidate_len == last_len && candidate.rule_index < last.rule_index)
            }
        };
        if candidate_wins {
            kept.pop();
            kept.push(candidate);
        }
    }
    kept
}

/// Lines carrying [`INLINE_ALLOW_MARKER`], as sorted, disjoint byte ranges
/// `[line start, line end]` (the end is the newline's offset, or the text
/// length). Built in one pass; each lookup is a binary search.
#[derive(Debug, Default)]
struct AllowedLines {
    ranges: Vec<(usize, usize)>,
}

impl AllowedLines {
    fn find(text: &str) -> Self {
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for (marker_at, _) in text.match_indices(INLINE_ALLOW_MARKER) {
            if ranges.last().is_some_and(|&(_, end)| marker_at <= end) {
                continue;
            }
            let line_start = text[..marker_at].rfind('\n').map_or(0, |newline| newline + 1);
            let line_end = text[marker_at..].find('\n').map_or(text.len(), |offset| marker_at + offset);
            ranges.push((line_start, line_end));
        }
        AllowedLines { ranges }
    }

    /// Whether any line touched by `[start, end)` carries the marker.
    fn covers(&self, start: usize, end: usize) -> bool {
        let first_candidate = self.ranges.partition_point(|&(_, line_end)| line_end < start);
        self.ranges.get(first_candidate).is_some_and(|&(line_start, _)| line_start < end)
    }
}

/// Whether `value` holds `run` consecutive ascending characters, such as
/// `123456` or `abcdef`: typed by a person, never drawn by a key generator.
fn has_sequential_run(value: &str, run: usize) -> bool {
    let mut length = 1;
    for pair in value.as_bytes().windows(2) {
        let ascending = pair[0].is_ascii_alphanumeric() && pair[1] == pair[0].wrapping_add(1);
        length = if ascending { length + 1 } else { 1 };
        if length >= run {
            return true;
        }
    }
    false
}

fn is_one_repeated_char(value: &str) -> bool {
    let mut chars = value.chars();
    chars.next().is_some_and(|first| chars.all(|other| other == first))
}
