//! The rule table: what each kind of secret looks like, as data. The built-in rules are
//! `rules.toml` beside this file, in gitleaks' rule format (see its header); users add rules of
//! the same shape under `[[secrets.rules]]` in `concord.toml`. This module reads and checks
//! them; the scanner in `mod.rs` compiles and runs them.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;
use serde::Deserialize;

/// Which extra judgement a match needs after regex and entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    /// A provider's exact key format (vendor prefix, PEM header): the shape alone identifies the
    /// credential, and stopwords do not veto it.
    Vendor,
    /// A value identified by the name it is assigned to and its exact shape.
    Named,
    /// A named assignment of an API key, token or secret of unknown vendor.
    GenericSecret,
    /// A named assignment of a password.
    GenericPassword,
}

impl RuleKind {
    /// Vendor and named rules win over generic ones where findings overlap.
    pub fn is_specific(self) -> bool {
        matches!(self, RuleKind::Vendor | RuleKind::Named)
    }
}

/// One rule as written: gitleaks' keys, plus Concord's `kind` and `help`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    #[serde(default)]
    pub description: String,
    pub regex: String,
    /// The capture group holding the secret; else the group named `secret`, else the match.
    #[serde(default, rename = "secretGroup")]
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy (bits per character) of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub allowlists: Vec<AllowlistSpec>,
    /// Labels only (gitleaks files carry them); not used.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Default `named`: specific, and the stopwords apply (as in gitleaks).
    #[serde(default)]
    pub kind: Option<RuleKind>,
    #[serde(default)]
    pub help: Option<String>,
}

/// A rule's own allowlist (gitleaks' `[[rules.allowlists]]`): a match is accepted when any of
/// the given checks holds (`condition = "AND"`: when all of them hold).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub condition: Option<String>,
    /// Regexes tested against `regexTarget`: the secret (default), the whole match or its line.
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default, rename = "regexTarget")]
    pub regex_target: Option<String>,
    /// Words that, inside the secret (ignoring case), accept it.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Regexes tested against the file's path.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// The built-in file: a default help text, the global allowlist and the rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    help: String,
    allowlist: GlobalAllowlist,
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlobalAllowlist {
    stopwords: Vec<String>,
    paths: Vec<String>,
}

/// What an allowlist regex is tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RegexTarget {
    Secret,
    Match,
    Line,
}

/// A rule's allowlist, compiled.
#[derive(Debug, Clone)]
pub(super) struct Allowlist {
    pub all_must_hold: bool,
    pub regexes: Vec<Regex>,
    pub target: RegexTarget,
    /// Lower-cased.
    pub stopwords: Vec<String>,
    pub paths: Vec<Regex>,
}

/// One rule, checked. The public fields describe it (for SARIF `rules` and hover help); the
/// pattern itself stays private to the scanner.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Stable identifier, used in fingerprints and reports.
    pub id: &'static str,
    /// What was found, in one sentence.
    pub description: &'static str,
    /// What to do next.
    pub help: &'static str,
    /// Lower-cased substrings one of which every match contains (compared ignoring ASCII case;
    /// as written for a `vendor` rule); text without any of them is not searched with this
    /// rule's regex. None: always searched.
    pub(super) keywords: Vec<String>,
    /// The keywords as written.
    pub(super) keyword_text: Vec<String>,
    /// Shannon entropy (bits per character) the secret must reach.
    pub min_entropy: f64,
    pub(super) regex: RuleRegex,
    pub(super) secret_group: Option<usize>,
    pub(super) kind: RuleKind,
    pub(super) allowlists: Vec<Allowlist>,
}

/// A rule's regex, compiled when first needed and then shared by every copy of the rule: a
/// check whose files never name a rule's keywords never pays for compiling it, and the rest
/// compile on the scanning threads instead of before the walk starts.
#[derive(Debug, Clone)]
pub(super) struct RuleRegex {
    pattern: Arc<str>,
    compiled: Arc<OnceLock<Regex>>,
}

impl RuleRegex {
    fn compiled(regex: Regex) -> Self {
        let pattern = regex.as_str().into();
        RuleRegex { pattern, compiled: Arc::new(OnceLock::from(regex)) }
    }

    fn deferred(pattern: &str) -> Self {
        RuleRegex { pattern: pattern.into(), compiled: Arc::new(OnceLock::new()) }
    }

    pub(super) fn get(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            Regex::new(&self.pattern).unwrap_or_else(|e| panic!("secrets/rules.toml: {}: {e}", self.pattern))
        })
    }
}

/// Strings that live as long as the process: rule IDs and texts are shown in findings that
/// outlive any one configuration. Interned, so reloading the same configuration adds nothing.
fn intern(text: &str) -> &'static str {
    static INTERNED: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = INTERNED.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&known) = set.get(text) {
        return known;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// Where in a rule a problem is, for a positioned configuration error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The rule's key at fault (`regex`, `id`, `allowlists`, ...).
    pub key: &'static str,
    pub message: String,
}

impl RuleSpec {
    /// Checks and compiles the rule; `default_help` serves a rule without `help`.
    pub fn compile(&self, default_help: &str) -> Result<RuleInfo, RuleError> {
        let error = |key, message: String| RuleError { key, message };
        let mut rule = self.compile_deferred(default_help)?;
        let regex = Regex::new(&self.regex)
            .map_err(|e| error("regex", format!("rule {}: the regex does not compile: {e}", self.id)))?;
        if let Some(group) = self.secret_group {
            if group == 0 || group >= regex.captures_len() {
                return Err(error(
                    "secretGroup",
                    format!(
                        "rule {}: secretGroup = {group}, but the regex has {} capture group(s)",
                        self.id,
                        regex.captures_len() - 1
                    ),
                ));
            }
        }
        if !rule.kind.is_specific() && regex.capture_names().all(|name| name != Some("name")) {
            return Err(error(
                "kind",
                format!(
                    "rule {}: a generic rule judges the name a value is assigned to, so its regex needs a group named `name`",
                    self.id
                ),
            ));
        }
        rule.regex = RuleRegex::compiled(regex);
        Ok(rule)
    }

    /// Checks everything but the regex, which compiles when first used (how the built-in rules
    /// are read: a test compiles each of them).
    fn compile_deferred(&self, default_help: &str) -> Result<RuleInfo, RuleError> {
        let error = |key, message: String| RuleError { key, message };
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 100
            && self.id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !id_ok {
            return Err(error(
                "id",
                format!("rule id {:?} must be 1 to 100 letters, digits, `-`, `_` or `.`", self.id),
            ));
        }
        let min_entropy = self.entropy.unwrap_or(0.0);
        if !(0.0..=8.0).contains(&min_entropy) {
            return Err(error(
                "entropy",
                format!(
                    "rule {}: entropy = {min_entropy} is out of range: 0 to 8 bits per character",
                    self.id
                ),
            ));
        }
        let kind = self.kind.unwrap_or(RuleKind::Named);
        let mut keywords = Vec::new();
        for keyword in &self.keywords {
            if keyword.is_empty() {
                return Err(error("keywords", format!("rule {}: a keyword is empty", self.id)));
            }
            keywords.push(keyword.to_ascii_lowercase());
        }
        let allowlists = self
            .allowlists
            .iter()
            .map(|a| a.compile(&self.id))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|m| error("allowlists", m))?;
        Ok(RuleInfo {
            id: intern(&self.id),
            description: intern(if self.description.is_empty() { &self.id } else { &self.description }),
            help: intern(self.help.as_deref().unwrap_or(default_help)),
            keywords,
            keyword_text: self.keywords.clone(),
            min_entropy,
            regex: RuleRegex::deferred(&self.regex),
            secret_group: self.secret_group,
            kind,
            allowlists,
        })
    }
}

impl AllowlistSpec {
    fn compile(&self, rule: &str) -> Result<Allowlist, String> {
        let all_must_hold = match self.condition.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("OR") => false,
            Some("AND") => true,
            Some(other) => {
                return Err(format!("rule {rule}: allowlist condition {other:?} is not \"OR\" or \"AND\""))
            }
        };
        let target = match self.regex_target.as_deref() {
            None | Some("secret") => RegexTarget::Secret,
            Some("match") => RegexTarget::Match,
            Some("line") => RegexTarget::Line,
            Some(other) => {
                return Err(format!(
                    "rule {rule}: regexTarget {other:?} is not \"secret\", \"match\" or \"line\""
                ))
            }
        };
        let compile = |patterns: &[String]| {
            patterns
                .iter()
                .map(|p| {
                    Regex::new(p)
                        .map_err(|e| format!("rule {rule}: allowlist regex {p:?} does not compile: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let allowlist = Allowlist {
            all_must_hold,
            regexes: compile(&self.regexes)?,
            target,
            stopwords: self.stopwords.iter().filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect(),
            paths: compile(&self.paths)?,
        };
        if allowlist.regexes.is_empty() && allowlist.stopwords.is_empty() && allowlist.paths.is_empty() {
            return Err(format!("rule {rule}: an allowlist needs regexes, stopwords or paths"));
        }
        Ok(allowlist)
    }
}

/// The built-in rules, their default help text and global allowlist, read once.
pub(super) struct BuiltIn {
    pub rules: Vec<RuleInfo>,
    pub help: &'static str,
    pub stopwords: Vec<String>,
    pub allowed_paths: Vec<Regex>,
}

pub(super) fn built_in() -> &'static BuiltIn {
    static BUILT_IN: OnceLock<BuiltIn> = OnceLock::new();
    BUILT_IN.get_or_init(|| {
        // The file is part of the binary and tested: a failure here is a build defect.
        let file: RuleFile = toml::from_str(include_str!("rules.toml"))
            .unwrap_or_else(|e| panic!("secrets/rules.toml does not parse: {e}"));
        let help = intern(&file.help);
        let rules = file
            .rules
            .iter()
            .map(|spec| {
                spec.compile_deferred(help).unwrap_or_else(|e| panic!("secrets/rules.toml: {}", e.message))
            })
            .collect();
        let allowed_paths = file
            .allowlist
            .paths
            .iter()
            .map(|p| {
                Regex::new(p).unwrap_or_else(|e| panic!("secrets/rules.toml: allowlist path {p:?}: {e}"))
            })
            .collect();
        BuiltIn { rules, help, stopwords: file.allowlist.stopwords, allowed_paths }
    })
}

/// Rules added in `concord.toml` (`[[secrets.rules]]`), checked; the error names the rule's
/// index and key.
pub fn user_rules(specs: &[RuleSpec]) -> Result<Vec<RuleInfo>, (usize, RuleError)> {
    let built_in = built_in();
    let mut seen: HashSet<&str> = built_in.rules.iter().map(|r| r.id).collect();
    let mut rules = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let rule = spec.compile(built_in.help).map_err(|e| (index, e))?;
        if !seen.insert(rule.id) {
            return Err((
                index,
                RuleError {
                    key: "id",
                    message: format!(
                        "rule id {:?} is already taken (built-in rules and earlier entries)",
                        rule.id
                    ),
                },
            ));
        }
        rules.push(rule);
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in rules compile their regexes only when first used, so every one of them is
    /// compiled and checked here, as a rule from `concord.toml` is when it is read.
    #[test]
    fn every_built_in_rule_passes_the_full_check() {
        let file: RuleFile = toml::from_str(include_str!("rules.toml")).expect("rules.toml parses");
        for spec in &file.rules {
            let rule = spec.compile(&file.help).unwrap_or_else(|e| panic!("{}: {}", spec.id, e.message));
            assert_eq!(rule.regex.get().as_str(), spec.regex);
        }
        assert_eq!(built_in().rules.len(), file.rules.len());
    }
}
