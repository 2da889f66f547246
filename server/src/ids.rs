//! ID families (`NT-0123`, `TD-0045`, `WBS-005`, or a team's own) and the one regex that
//! finds them all. IDs are ASCII, so boundaries are ASCII word boundaries: Unicode ones
//! would push the regex engine onto a much slower path for no gain.

use regex::bytes::Regex;
use serde::Deserialize;

/// What an ID names: a spec chunk (defined in the blueprint index or a markdown heading)
/// or a work item (defined in the WBS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdKind {
    Chunk,
    Work,
}

#[derive(Debug, Clone)]
pub struct IdFamily {
    pub name: String,
    pub pattern: String,
    pub kind: IdKind,
    whole: Regex,
}

impl IdFamily {
    pub fn new(name: &str, pattern: &str, kind: IdKind) -> Result<IdFamily, String> {
        let whole = Regex::new(&format!("^(?-u:{pattern})$"))
            .map_err(|e| format!("ID family {name}: invalid pattern {pattern:?}: {e}"))?;
        if whole.is_match(b"") {
            return Err(format!("ID family {name}: pattern {pattern:?} matches the empty string"));
        }
        Ok(IdFamily { name: name.to_string(), pattern: pattern.to_string(), kind, whole })
    }
}

/// A match of an ID in text: byte range and the index of its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMatch {
    pub start: usize,
    pub end: usize,
    pub family: usize,
}

#[derive(Debug, Clone)]
pub struct IdMatcher {
    families: Vec<IdFamily>,
    any: Regex,
}

impl IdMatcher {
    pub fn new(families: Vec<IdFamily>) -> Result<IdMatcher, String> {
        let alternatives: Vec<String> = families.iter().map(|f| format!("(?:{})", f.pattern)).collect();
        let pattern = format!(r"(?-u)\b(?:{})\b", alternatives.join("|"));
        let any = Regex::new(&pattern).map_err(|e| format!("the combined ID pattern is invalid: {e}"))?;
        Ok(IdMatcher { families, any })
    }

    pub fn families(&self) -> &[IdFamily] {
        &self.families
    }

    /// The combined pattern, for benchmarks that compare against other tools.
    pub fn pattern(&self) -> &str {
        self.any.as_str()
    }

    /// Every ID in `haystack`, in order.
    pub fn find_iter<'h>(&'h self, haystack: &'h [u8]) -> impl Iterator<Item = IdMatch> + 'h {
        self.any.find_iter(haystack).filter_map(move |m| {
            let family = self.family_of(&haystack[m.start()..m.end()])?;
            Some(IdMatch { start: m.start(), end: m.end(), family })
        })
    }

    /// The family whose pattern matches all of `id`.
    pub fn family_of(&self, id: &[u8]) -> Option<usize> {
        self.families.iter().position(|f| f.whole.is_match(id))
    }

    pub fn kind_of(&self, id: &str) -> Option<IdKind> {
        self.family_of(id.as_bytes()).map(|i| self.families[i].kind)
    }

    /// `text` is exactly one ID of some family.
    pub fn is_id(&self, text: &str) -> bool {
        self.family_of(text.as_bytes()).is_some()
    }

    /// The ID starting exactly at the start of `text` (for markdown headings).
    pub fn leading_id<'t>(&self, text: &'t str) -> Option<&'t str> {
        let m = self.find_iter(text.as_bytes()).next()?;
        (m.start == 0).then(|| &text[..m.end])
    }
}

/// Known IDs closest to `unknown`, for "did you mean": the same family prefix, at most two
/// edits (a transposition counts as one), best first, at most `limit`.
pub fn nearest<'k>(unknown: &str, known: impl Iterator<Item = &'k str>, limit: usize) -> Vec<&'k str> {
    let prefix = unknown.split('-').next().unwrap_or("");
    let mut scored: Vec<(usize, &str)> = known
        .filter(|k| k.split('-').next() == Some(prefix) && *k != unknown)
        // Two edits change the length by at most two: most IDs are ruled out without a table.
        .filter(|k| k.len().abs_diff(unknown.len()) <= 2)
        .filter_map(|k| {
            // Optimal string alignment: Levenshtein plus adjacent transpositions.
            let d = strsim::osa_distance(unknown, k);
            (d <= 2).then_some((d, k))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(limit).map(|(_, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn ids(text: &str) -> Vec<String> {
        let config = Config::default();
        config.ids.find_iter(text.as_bytes()).map(|m| text[m.start..m.end].to_string()).collect()
    }

    #[test]
    fn finds_ids_on_word_boundaries_only() {
        let cases: &[(&str, &[&str])] = &[
            ("// implements TD-0103 and NT-0007.", &["TD-0103", "NT-0007"]),
            ("WBS-005, WBS-006A; WBS-007AB", &["WBS-005", "WBS-006A"]),
            ("XTD-0103 TD-01034 TD-010 td-0103 TD_0103", &[]),
            ("(TD-0103)[NT-0001]`WBS-001`", &["TD-0103", "NT-0001", "WBS-001"]),
            ("é TD-0103 😀NT-0002", &["TD-0103", "NT-0002"]),
        ];
        for (text, expected) in cases {
            assert_eq!(ids(text), *expected, "{text}");
        }
    }

    #[test]
    fn did_you_mean_prefers_close_ids_of_the_same_family() {
        let known = ["TD-0103", "TD-0130", "TD-0301", "NT-0130", "TD-0999"];
        assert_eq!(nearest("TD-0310", known.iter().copied(), 3), vec!["TD-0130", "TD-0301", "TD-0103"]);
        assert_eq!(nearest("TD-0013", known.iter().copied(), 2), vec!["TD-0103", "TD-0130"]);
        assert!(nearest("TD-5555", known.iter().copied(), 3).is_empty());
    }

    #[test]
    fn leading_id_of_a_heading() {
        let config = Config::default();
        assert_eq!(config.ids.leading_id("TD-0103 Payments"), Some("TD-0103"));
        assert_eq!(config.ids.leading_id("About TD-0103"), None);
    }
}
