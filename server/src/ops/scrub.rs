//! The one place where text is scrubbed before Concord writes or prints it: queue events, the
//! model-decision log, run logs and task files, review files, messages, and every request body
//! sent to a reviewer. Two things are removed: anything secret-shaped (the secrets rules), and
//! the exact values of the API keys Concord reads itself, whatever their shape (a self-hosted
//! OpenAI-compatible server may use an opaque 32-hex key no rule recognises).
//!
//! The scrubber in force is process-wide because the keys are: they come from the environment.
//! Entry points that load a workspace install its configuration (`use_config`), so that its
//! secrets policy and its configured key variables apply; before that the defaults do.

use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::secrets::SecretScanner;

/// Key values shorter than this are not replaced verbatim: scrubbing a two-letter value would
/// mangle every word that contains it, and no provider issues keys that short.
pub const MIN_KEY_LEN: usize = 8;

/// The key variables every workspace has, whatever its configuration says.
const DEFAULT_KEY_ENVS: &[&str] = &["OPENAI_API_KEY", "ANTHROPIC_API_KEY"];

/// The rule id recorded when a configured key's own value is found in output.
pub const KEY_VALUE_RULE: &str = "configured-api-key";

#[derive(Debug, Clone)]
pub struct Scrubber {
    scanner: SecretScanner,
    key_envs: Vec<String>,
}

/// One secret found in a text before it was scrubbed: no copy of the secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub rule: String,
    pub fingerprint: String,
    /// 1-based line of the text.
    pub line: usize,
    pub redacted: String,
}

static ACTIVE: RwLock<Option<Arc<Scrubber>>> = RwLock::new(None);

impl Scrubber {
    pub fn new(config: &Config) -> Scrubber {
        let mut key_envs: Vec<String> = DEFAULT_KEY_ENVS.iter().map(|s| s.to_string()).collect();
        for name in
            [&config.review.openai_key_env, &config.review.anthropic_key_env, &config.github.token_env]
        {
            if !name.is_empty() && !key_envs.contains(name) {
                key_envs.push(name.clone());
            }
        }
        Scrubber { scanner: config.secrets().clone(), key_envs }
    }

    /// The current values of the key variables, longest first (so a key that contains another
    /// is replaced whole), each with the name of its variable.
    pub fn key_values(&self) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = self
            .key_envs
            .iter()
            .filter_map(|name| {
                let value = std::env::var(name).ok()?;
                let value = value.trim().to_string();
                (value.chars().count() >= MIN_KEY_LEN).then(|| (name.clone(), value))
            })
            .collect();
        keys.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        keys.dedup_by(|a, b| a.1 == b.1);
        keys
    }

    /// `text` without any configured key value and without anything secret-shaped.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in self.key_values() {
            if out.contains(&value) {
                out = out.replace(&value, &format!("[redacted: the value of {name}]"));
            }
        }
        self.scanner.scrub(&out)
    }

    /// The secrets in `text` as they were, before scrubbing: what the secrets gate reports.
    /// Findings accepted by the baseline or an inline allow comment are not leaks.
    pub fn leaks(&self, text: &str) -> Vec<Leak> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let mut out: Vec<Leak> = Vec::new();
        for (name, value) in self.key_values() {
            for (at, _) in text.match_indices(&value) {
                out.push(Leak {
                    rule: format!("{KEY_VALUE_RULE} ({name})"),
                    fingerprint: crate::secrets::fingerprint(KEY_VALUE_RULE, &value),
                    line: line_of(at),
                    redacted: format!("the value of {name}"),
                });
            }
        }
        for finding in self.scanner.scan(text) {
            if out.iter().any(|l| l.line == line_of(finding.start)) {
                // The same key seen by both checks is one leak.
                continue;
            }
            out.push(Leak {
                rule: finding.rule_id.to_string(),
                fingerprint: finding.fingerprint,
                line: line_of(finding.start),
                redacted: finding.redacted,
            });
        }
        out.sort_by_key(|l| l.line);
        out
    }
}

/// Make `config` (its secrets policy, its key variables) the one in force for this process.
pub fn use_config(config: &Config) {
    let scrubber = Arc::new(Scrubber::new(config));
    match ACTIVE.write() {
        Ok(mut active) => *active = Some(scrubber),
        Err(poisoned) => *poisoned.into_inner() = Some(scrubber),
    }
}

/// The scrubber in force (the defaults when no workspace was loaded).
pub fn active() -> Arc<Scrubber> {
    let current = ACTIVE.read().ok().and_then(|a| a.clone());
    current.unwrap_or_else(|| Arc::new(Scrubber::new(&Config::default())))
}

/// Scrub `text` with the scrubber in force.
pub fn text(text: &str) -> String {
    active().scrub(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber_with(name: &str) -> Scrubber {
        let mut config = Config::default();
        config.review.openai_key_env = name.to_string();
        Scrubber::new(&config)
    }

    #[test]
    fn configured_key_values_are_scrubbed_whatever_their_shape() {
        // An Azure-style opaque key: 32 hex characters, which no secrets rule recognises.
        let value: String = (0..32).map(|i| char::from(b"0123456789abcdef"[(i * 7 + 3) % 16])).collect();
        let name = "CONCORD_SCRUB_TEST_KEY_A";
        std::env::set_var(name, &value);
        let scrubber = scrubber_with(name);
        let text = format!("401: {{\"error\": \"invalid key Bearer {value}\"}}\nnext line");
        let clean = scrubber.scrub(&text);
        assert!(!clean.contains(&value), "{clean}");
        assert!(clean.contains("[redacted: the value of CONCORD_SCRUB_TEST_KEY_A]"), "{clean}");
        let leaks = scrubber.leaks(&text);
        assert_eq!(leaks.len(), 1);
        assert_eq!(leaks[0].line, 1);
        assert_eq!(leaks[0].fingerprint, crate::secrets::fingerprint(KEY_VALUE_RULE, &value));
        std::env::remove_var(name);
    }

    #[test]
    fn short_values_are_left_alone() {
        let name = "CONCORD_SCRUB_TEST_KEY_B";
        std::env::set_var(name, "abc");
        assert_eq!(scrubber_with(name).scrub("abc abcdef"), "abc abcdef");
        std::env::remove_var(name);
    }
}
