//! Ranked ID suggestions for untraced files and items. Three signals, each scaled to 0..1 and
//! weighted: the work items whose `scope_paths` cover the file (and their chunks), the IDs used
//! nearby (the same file, then other files of the directory), and BM25 similarity of the item's
//! name, doc comment and file name to chunk titles and summaries and work-item titles.

use std::collections::{BTreeMap, HashMap};

use crate::findings::Candidate;
use crate::model::Model;

const SCOPE_WEIGHT: f64 = 3.0;
const NEARBY_WEIGHT: f64 = 1.0;
const TEXT_WEIGHT: f64 = 3.0;

/// Words for matching: split on non-letters and at camelCase humps, lowercased, short words and
/// common ones dropped, plural `s` and `ing`/`ed` endings cut.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    let flush = |word: &mut String, out: &mut Vec<String>| {
        let w = std::mem::take(word).to_lowercase();
        if w.len() < 3 || STOPWORDS.contains(&w.as_str()) || w.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        out.push(stem(&w));
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && previous_lower {
                flush(&mut word, &mut out);
            }
            previous_lower = c.is_lowercase();
            word.push(c);
        } else {
            previous_lower = false;
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn stem(word: &str) -> String {
    for suffix in ["ing", "ed", "es", "s"] {
        if word.len() > suffix.len() + 3 {
            if let Some(root) = word.strip_suffix(suffix) {
                return root.to_string();
            }
        }
    }
    word.to_string()
}

const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "from",
    "that",
    "this",
    "are",
    "not",
    "into",
    "def",
    "fn",
    "pub",
    "self",
    "return",
    "class",
    "impl",
    "function",
    "const",
    "let",
    "var",
    "new",
    "get",
    "set",
    "implements",
    "todo",
    "none",
    "true",
    "false",
    "test",
    "tests",
];

/// BM25 over the spec: one document per chunk and per work item.
#[derive(Debug, Clone, Default)]
pub struct Suggester {
    /// Each document's ID and length (in words).
    docs: Vec<(String, f64)>,
    /// For each word, the documents holding it and how often (an inverted index: ranking one
    /// query touches only the documents that share a word with it).
    postings: HashMap<String, Vec<(usize, f64)>>,
    average_length: f64,
}

impl Suggester {
    pub fn new(model: &Model) -> Suggester {
        let mut docs = Vec::new();
        for chunk in model.chunks.values() {
            docs.push((chunk.id.clone(), format!("{} {} {}", chunk.title, chunk.title, chunk.summary)));
        }
        for item in model.work.values() {
            docs.push((
                item.id.clone(),
                format!("{} {} {}", item.title, item.title, item.acceptance_criteria.join(" ")),
            ));
        }
        let mut postings: HashMap<String, Vec<(usize, f64)>> = HashMap::new();
        let docs: Vec<(String, f64)> = docs
            .into_iter()
            .enumerate()
            .map(|(n, (id, text))| {
                let terms = words(&text);
                let mut counts: HashMap<String, f64> = HashMap::new();
                for t in &terms {
                    *counts.entry(t.clone()).or_default() += 1.0;
                }
                for (t, tf) in counts {
                    postings.entry(t).or_default().push((n, tf));
                }
                (id, terms.len() as f64)
            })
            .collect();
        let average_length = docs.iter().map(|d| d.1).sum::<f64>() / docs.len().max(1) as f64;
        Suggester { docs, postings, average_length }
    }

    fn bm25(&self, query: &[String]) -> HashMap<&str, f64> {
        let n = self.docs.len() as f64;
        let (k1, b) = (1.2, 0.75);
        let mut scores: HashMap<&str, f64> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for term in query {
            // A word repeated in the query counts once.
            if !seen.insert(term) {
                continue;
            }
            let Some(hits) = self.postings.get(term) else { continue };
            let df = hits.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, tf) in hits {
                let (id, length) = &self.docs[doc];
                *scores.entry(id.as_str()).or_default() +=
                    idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * length / self.average_length.max(1.0)));
            }
        }
        scores
    }

    /// The best candidates for `path` (and an item's words, if any). `same_file` and
    /// `same_dir` count the known IDs used in the file and in the rest of its directory.
    pub fn suggest(
        &self,
        model: &Model,
        path: &str,
        text: &str,
        same_file: &BTreeMap<String, usize>,
        same_dir: &BTreeMap<String, usize>,
        limit: usize,
    ) -> Vec<Candidate> {
        let mut scores: BTreeMap<String, (f64, Vec<String>)> = BTreeMap::new();
        let mut add = |id: &str, score: f64, why: String| {
            let entry = scores.entry(id.to_string()).or_default();
            entry.0 += score;
            entry.1.push(why);
        };
        for owner in model.scopes.owners_of(path) {
            // The chunks are the more specific answer; the work item itself ranks below them.
            add(owner, SCOPE_WEIGHT * 0.4, format!("{owner}'s scope_paths cover the file"));
            if let Some(item) = model.work.get(owner) {
                for (chunk, _) in &item.blueprint_ids {
                    add(
                        chunk,
                        SCOPE_WEIGHT * 0.5,
                        format!("planned in {owner}, whose scope covers the file"),
                    );
                }
            }
        }
        let max_file = same_file.values().copied().max().unwrap_or(0).max(1) as f64;
        for (id, n) in same_file {
            add(id, NEARBY_WEIGHT * *n as f64 / max_file, format!("used {n}× in this file"));
        }
        let max_dir = same_dir.values().copied().max().unwrap_or(0).max(1) as f64;
        for (id, n) in same_dir {
            add(id, NEARBY_WEIGHT * 0.6 * *n as f64 / max_dir, format!("used {n}× in this directory"));
        }
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let mut query = words(text);
        query.extend(words(file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem)));
        let text_scores = self.bm25(&query);
        let best = text_scores.values().copied().fold(0.0, f64::max);
        for (id, score) in text_scores {
            if best > 0.0 {
                add(id, TEXT_WEIGHT * score / best, "its words match the title and summary".into());
            }
        }
        let mut ranked: Vec<(String, f64, Vec<String>)> = scores
            .into_iter()
            .filter(|(id, _)| model.is_known(id))
            .map(|(id, (s, why))| (id, s, why))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = ranked.first().map_or(1.0, |r| r.1.max(f64::MIN_POSITIVE));
        ranked
            .into_iter()
            .take(limit)
            .map(|(id, score, why)| Candidate {
                title: model.title_of(&id).unwrap_or("").to_string(),
                score: (score / top * 1000.0).round() / 1000.0,
                why: why.join("; "),
                id,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_identifiers() {
        assert_eq!(
            words("createPaymentIntent for refund_requests"),
            vec!["create", "payment", "intent", "refund", "request"]
        );
        assert_eq!(words("HTTPServer x"), vec!["httpserver"]);
    }
}
