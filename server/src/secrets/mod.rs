//! Secret scanning: finds API keys, tokens, private keys and hard-coded
//! passwords in text, so they are caught in the editor and in CI before they
//! are committed, and so agent logs can be scrubbed before they are written.
//!
//! The rules are data (`rules.toml`, gitleaks' rule format, plus `[[secrets.rules]]` of a
//! configuration). Pipeline, per rule:
//! keyword prefilter (one Aho-Corasick pass over the text for every rule's keywords)
//! → regex → inline allow (`concord:allow-secret` on the line)
//! → secret group → Shannon entropy threshold → placeholder filters
//! → policy allowlists (regexes; stopwords, except for a vendor's exact key
//! format, where a random key spells `fake` or `xxxx` now and then) and the rule's own
//! allowlists → overlap resolution → baseline (SHA-256 fingerprints of accepted findings).
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

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, Input, MatchKind};
use regex::{Captures, Match, Regex, RegexSet};
use sha2::{Digest, Sha256};

use assignment::{
    assignment_name_is_credential, character_classes, full_identifier, looks_like_environment_variable,
};
pub use entropy::shannon_entropy;
pub use rules::{user_rules, AllowlistSpec, RuleError, RuleInfo, RuleSpec};
use rules::{RegexTarget, RuleKind};

/// A line containing this marker is never reported.
pub const INLINE_ALLOW_MARKER: &str = "concord:allow-secret";

/// Words that mark a value as a placeholder or template, not a real secret, matched
/// case-insensitively as substrings of the secret: the built-in rules' global allowlist.
pub fn default_stopwords() -> &'static [String] {
    &rules::built_in().stopwords
}

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
    /// Rules added to the built-in ones (`[[secrets.rules]]`), checked by [`user_rules`].
    pub rules: Vec<RuleInfo>,
}

impl Default for SecretPolicy {
    fn default() -> Self {
        SecretPolicy {
            allow_regexes: Vec::new(),
            allow_paths: rules::built_in().allowed_paths.clone(),
            stopwords: default_stopwords().to_vec(),
            baseline: HashSet::new(),
            rules: Vec::new(),
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

/// Everything that depends only on the rule table; compiled once per process for the
/// built-in rules (and once per configuration that adds rules) and shared by every scanner.
#[derive(Debug)]
struct CompiledRules {
    rules: Vec<RuleInfo>,
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

/// The built-in rules, then `extra` (a configuration's own rules).
fn compiled_rules(extra: &[RuleInfo]) -> Arc<CompiledRules> {
    static BUILT_IN: OnceLock<Arc<CompiledRules>> = OnceLock::new();
    if extra.is_empty() {
        return BUILT_IN
            .get_or_init(|| Arc::new(CompiledRules::build(rules::built_in().rules.clone())))
            .clone();
    }
    let mut all = rules::built_in().rules.clone();
    all.extend(extra.iter().cloned());
    Arc::new(CompiledRules::build(all))
}

impl CompiledRules {
    fn build(rules: Vec<RuleInfo>) -> Self {
        let prefilter = KeywordPrefilter::build(&rules);

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

/// Decides, cheaply, which rules can match a text at all. Two Aho-Corasick passes over exact
/// literals, which keeps each on its fastest (SIMD) prefilter, each stopping as soon as every
/// rule it serves has been seen:
/// - the keywords of `vendor` rules, as written: a provider's exact key format contains its
///   prefix exactly, so another case can never lead to a match (and such prefixes are rare in
///   text, so this pass mostly runs at memory speed);
/// - every other keyword in any ASCII case, as gitleaks compares them: the text is lower-cased
///   (ASCII only: Unicode folding would let the Kelvin sign stand in for `k`), a window at a time
///   into a buffer kept per thread, and searched for the lower-cased keywords.
#[derive(Debug)]
struct KeywordPrefilter {
    exact: Option<KeywordPass>,
    any_case: Option<KeywordPass>,
    /// Rules with no keyword run on every text.
    unconditional: Vec<usize>,
}

/// One search for the keywords of some rules.
#[derive(Debug)]
struct KeywordPass {
    /// The keywords, by pattern index.
    searcher: AhoCorasick,
    keywords: Vec<Keyword>,
    /// The rules this pass serves.
    serves: Vec<usize>,
    /// One pass per served rule, for when hits keep naming rules already seen (common words
    /// such as `key` drowning out a rare one): then each rule still absent is searched alone,
    /// so dense text stays linear.
    per_rule: Vec<(usize, KeywordPass)>,
}

/// A keyword (lower-cased for the any-case pass) and the served rules with a keyword inside
/// it, itself included (a shorter keyword inside a longer match is not lost).
#[derive(Debug)]
struct Keyword {
    text: String,
    rules: Vec<usize>,
}

/// How much text is lower-cased at a time for the any-case keywords.
const LOWER_WINDOW: usize = 64 * 1024;

/// Hits in a row that reveal no new rule before each absent rule is searched on its own.
const FRUITLESS_HITS_LIMIT: usize = 32;

impl KeywordPass {
    fn build(
        rules: &[RuleInfo],
        serves: Vec<usize>,
        exact: bool,
        with_fallback: bool,
    ) -> Option<KeywordPass> {
        let own = |rule: &RuleInfo| -> Vec<String> {
            if exact {
                rule.keyword_text.clone()
            } else {
                rule.keywords.clone()
            }
        };
        let mut keywords: Vec<Keyword> = Vec::new();
        for &index in &serves {
            for text in own(&rules[index]) {
                if !keywords.iter().any(|k| k.text == text) {
                    keywords.push(Keyword { text, rules: Vec::new() });
                }
            }
        }
        if keywords.is_empty() {
            return None;
        }
        for keyword in &mut keywords {
            keyword.rules = serves
                .iter()
                .copied()
                .filter(|&index| own(&rules[index]).iter().any(|k| keyword.text.contains(k.as_str())))
                .collect();
        }
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(keywords.iter().map(|k| &k.text))
            .expect("short literals always build");
        let per_rule = if with_fallback && serves.len() > 1 {
            serves
                .iter()
                .filter_map(|&index| Some((index, KeywordPass::build(rules, vec![index], exact, false)?)))
                .collect()
        } else {
            Vec::new()
        };
        Some(KeywordPass { searcher, keywords, serves, per_rule })
    }

    /// Marks the served rules with a keyword in `text[from..]`.
    fn mark_present(&self, text: &[u8], mut from: usize, present: &mut [bool]) {
        let mut still_absent = self.serves.iter().filter(|&&index| !present[index]).count();
        let mut fruitless_hits = 0;
        // Restart one byte after each hit's start rather than after its end, so that
        // overlapping keywords are all seen.
        while still_absent > 0 && from < text.len() {
            if fruitless_hits >= FRUITLESS_HITS_LIMIT && !self.per_rule.is_empty() {
                for (index, pass) in &self.per_rule {
                    if !present[*index] {
                        pass.mark_present(text, from, present);
                    }
                }
                return;
            }
            let Some(hit) = self.searcher.find(Input::new(text).span(from..text.len())) else {
                break;
            };
            fruitless_hits += 1;
            for &rule in &self.keywords[hit.pattern().as_usize()].rules {
                if !present[rule] {
                    present[rule] = true;
                    still_absent -= 1;
                    fruitless_hits = 0;
                }
            }
            from = hit.start() + 1;
        }
    }
}

impl KeywordPrefilter {
    fn build(rules: &[RuleInfo]) -> Self {
        let with_keywords = |vendor: bool| -> Vec<usize> {
            (0..rules.len())
                .filter(|&i| !rules[i].keywords.is_empty() && (rules[i].kind == RuleKind::Vendor) == vendor)
                .collect()
        };
        KeywordPrefilter {
            exact: KeywordPass::build(rules, with_keywords(true), true, true),
            any_case: KeywordPass::build(rules, with_keywords(false), false, true),
            unconditional: (0..rules.len()).filter(|&i| rules[i].keywords.is_empty()).collect(),
        }
    }

    fn rules_present(&self, text: &[u8], rule_count: usize) -> Vec<bool> {
        let mut present = vec![false; rule_count];
        for &index in &self.unconditional {
            present[index] = true;
        }
        if let Some(pass) = &self.exact {
            pass.mark_present(text, 0, &mut present);
        }
        if let Some(pass) = &self.any_case {
            thread_local! {
                static LOWERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            // In windows that overlap by a keyword's length less one, so memory stays flat
            // whatever the file's size and no keyword is cut in two.
            let overlap = pass.keywords.iter().map(|k| k.text.len()).max().unwrap_or(1) - 1;
            LOWERED.with_borrow_mut(|lowered| {
                let mut start = 0;
                loop {
                    let end = (start + LOWER_WINDOW).min(text.len());
                    lowered.clear();
                    lowered.extend_from_slice(&text[start..end]);
                    lowered.make_ascii_lowercase();
                    pass.mark_present(lowered, 0, &mut present);
                    if end == text.len() || pass.serves.iter().all(|&rule| present[rule]) {
                        break;
                    }
                    start = end - overlap;
                }
            });
        }
        present
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
        SecretScanner { compiled: compiled_rules(&policy.rules), policy, stopword_matcher }
    }

    /// The built-in rules, in priority order, for SARIF rule metadata and help texts.
    pub fn built_in_rules() -> &'static [RuleInfo] {
        &rules::built_in().rules
    }

    /// Every rule this scanner runs: the built-in ones, then the configuration's.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.compiled.rules
    }

    pub fn policy(&self) -> &SecretPolicy {
        &self.policy
    }

    /// Findings in `text`, ordered by offset and never overlapping.
    pub fn scan(&self, text: &str) -> Vec<SecretFinding> {
        self.scan_with(text, None, Suppressions::Honour)
    }

    /// Like [`scan`](Self::scan), but returns nothing for a path the policy
    /// allows (lock files by default).
    pub fn scan_file(&self, path: &str, text: &str) -> Vec<SecretFinding> {
        if self.is_path_allowed(path) {
            return Vec::new();
        }
        self.scan_with(text, Some(path), Suppressions::Honour)
    }

    pub fn is_path_allowed(&self, path: &str) -> bool {
        self.policy.allow_paths.iter().any(|pattern| pattern.is_match(path))
    }

    /// `text` with every secret replaced by its redacted form, ignoring
    /// inline-allow markers and the baseline: an accepted fixture in the
    /// repository is still not something to copy into a log.
    pub fn scrub(&self, text: &str) -> String {
        redact(text, &self.scan_with(text, None, Suppressions::Ignore))
    }

    fn scan_with(&self, text: &str, path: Option<&str>, suppressions: Suppressions) -> Vec<SecretFinding> {
        if text.is_empty() {
            return Vec::new();
        }
        let worth_running = self.compiled.rules_worth_running(text);
        if !worth_running.contains(&true) {
            return Vec::new();
        }
        // Found only once a rule matches: most texts have keywords and no secret.
        let mut allowed_lines = None;

        let mut candidates = Vec::new();
        for (rule_index, rule) in self.compiled.rules.iter().enumerate() {
            if !worth_running[rule_index] {
                continue;
            }
            for captures in rule.regex.get().captures_iter(text) {
                let Some(secret) = secret_group(rule, &captures) else {
                    continue;
                };
                let allowed = allowed_lines.get_or_insert_with(|| match suppressions {
                    Suppressions::Honour => AllowedLines::find(text),
                    Suppressions::Ignore => AllowedLines::default(),
                });
                if allowed.covers(secret.start(), secret.end()) {
                    continue;
                }
                if self.accepts(rule, &captures, secret, text)
                    && !rule_allows(rule, &captures, secret, text, path)
                {
                    candidates.push(Candidate { rule_index, start: secret.start(), end: secret.end() });
                }
            }
        }

        let rules = &self.compiled.rules;
        resolve_overlaps(candidates, |index| rules[index].kind)
            .into_iter()
            .filter_map(|candidate| {
                let info = &rules[candidate.rule_index];
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
    fn accepts(&self, info: &RuleInfo, captures: &Captures, secret: Match, text: &str) -> bool {
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
        if !info.kind.is_specific() {
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
        info.kind == RuleKind::Vendor || !self.contains_stopword(value)
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

/// The credential inside a match: the rule's `secretGroup`, else whichever secret group took
/// part, else the whole match.
fn secret_group<'t>(rule: &RuleInfo, captures: &Captures<'t>) -> Option<Match<'t>> {
    let secret = match rule.secret_group {
        Some(group) => captures.get(group),
        None => ["secret", "secret_bare", "secret_pair"]
            .iter()
            .find_map(|name| captures.name(name))
            .or_else(|| captures.get(0)),
    }?;
    (!secret.is_empty()).then_some(secret)
}

/// Whether one of the rule's own allowlists accepts this match.
fn rule_allows(rule: &RuleInfo, captures: &Captures, secret: Match, text: &str, path: Option<&str>) -> bool {
    rule.allowlists.iter().any(|allowlist| {
        let whole = captures.get(0).unwrap_or(secret);
        let target = match allowlist.target {
            RegexTarget::Secret => secret.as_str(),
            RegexTarget::Match => whole.as_str(),
            RegexTarget::Line => {
                let start = text[..whole.start()].rfind('\n').map_or(0, |at| at + 1);
                let end = text[whole.end()..].find('\n').map_or(text.len(), |at| whole.end() + at);
                &text[start..end]
            }
        };
        let lowered = secret.as_str().to_lowercase();
        let mut checks = Vec::with_capacity(3);
        if !allowlist.regexes.is_empty() {
            checks.push(allowlist.regexes.iter().any(|r| r.is_match(target)));
        }
        if !allowlist.stopwords.is_empty() {
            checks.push(allowlist.stopwords.iter().any(|w| lowered.contains(w.as_str())));
        }
        if !allowlist.paths.is_empty() {
            checks.push(path.is_some_and(|p| allowlist.paths.iter().any(|r| r.is_match(p))));
        }
        if allowlist.all_must_hold {
            checks.iter().all(|&held| held)
        } else {
            checks.iter().any(|&held| held)
        }
    })
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
        let candidate_specific = kind_of(candidate.rule_index).is_specific();
        let last_specific = kind_of(last.rule_index).is_specific();
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
        for marker_at in memchr::memmem::find_iter(text.as_bytes(), INLINE_ALLOW_MARKER) {
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
