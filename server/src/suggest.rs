//! Ranked ID suggestions for untraced files and items. Three signals, each scaled to 0..1 and
//! weighted: the work items whose `scope_paths` cover the file (and their chunks), the IDs used
//! nearby (the same file, then other files of the directory), and BM25 similarity of the item's
//! name, doc comment and file name to chunk titles and summaries and work-item titles.

use std::collections::HashMap;

use crate::findings::Candidate;
use crate::model::Model;
use crate::scan::FileFacts;

const SCOPE_WEIGHT: f64 = 3.0;
const NEARBY_WEIGHT: f64 = 1.0;
const TEXT_WEIGHT: f64 = 3.0;
/// A work item's text (its title and acceptance criteria) paraphrases the chunks it plans, so
/// it matches every item of its scope about as well as the right chunk does; its text counts
/// this much, so the more specific chunk ranks first.
const WORK_TEXT_SHARE: f64 = 0.5;

/// Words for matching: split on non-letters and at camelCase humps, lowercased, short words and
/// common ones dropped, plural `s` and `ing`/`ed` endings cut.
pub fn words(text: &str) -> Vec<String> {
    unstemmed_words(text).into_iter().map(|w| stem(&w)).collect()
}

/// [`words`] before the endings are cut, each once, in order of first use: what an item keeps
/// of its doc comment (`ItemFacts::doc`), a fraction of the comment's text that gives the same
/// suggestions (a word repeated in a query counts once).
pub fn distinct_unstemmed_words(text: &str) -> Vec<String> {
    let mut out = unstemmed_words(text);
    let mut seen = std::collections::HashSet::new();
    out.retain(|w| seen.insert(w.clone()));
    out
}

fn unstemmed_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    let flush = |word: &mut String, out: &mut Vec<String>| {
        let w = std::mem::take(word).to_lowercase();
        if w.len() < 3 || STOPWORDS.contains(&w.as_str()) || w.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        out.push(w);
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

pub fn stem(word: &str) -> String {
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

/// BM25 over the spec: one document per chunk and per work item. Every known ID is a document,
/// so a ranking is a dense score per document: no map keyed by strings on the hot path, which
/// runs once per untraced item.
#[derive(Debug, Clone, Default)]
pub struct Suggester {
    /// Each document's ID and length (in words).
    docs: Vec<(String, f64)>,
    /// The document of each ID.
    index: HashMap<String, usize>,
    /// For each word, the documents holding it and how often (an inverted index: ranking one
    /// query touches only the documents that share a word with it).
    postings: HashMap<String, Vec<(usize, f64)>>,
    average_length: f64,
    /// Documents from here on are work items (chunks come first).
    first_work_doc: usize,
    /// Each document's place in ID order: ties in a ranking are broken by ID, and comparing
    /// these is comparing the IDs without reading them.
    id_order: Vec<u32>,
    /// Each document's title, as the model gives it (a ranking names its winners').
    titles: Vec<String>,
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
        let index = docs.iter().enumerate().map(|(n, (id, _))| (id.clone(), n)).collect();
        let average_length = docs.iter().map(|d| d.1).sum::<f64>() / docs.len().max(1) as f64;
        let mut by_id: Vec<usize> = (0..docs.len()).collect();
        by_id.sort_by(|&a, &b| docs[a].0.cmp(&docs[b].0));
        let mut id_order = vec![0u32; docs.len()];
        for (place, doc) in by_id.into_iter().enumerate() {
            id_order[doc] = place as u32;
        }
        let titles = docs.iter().map(|(id, _)| model.title_of(id).unwrap_or("").to_string()).collect();
        Suggester {
            docs,
            index,
            postings,
            average_length,
            first_work_doc: model.chunks.len(),
            id_order,
            titles,
        }
    }

    /// The document number of a known ID (each chunk and work item is one document).
    pub fn doc_of(&self, id: &str) -> Option<u32> {
        self.index.get(id).and_then(|&doc| u32::try_from(doc).ok())
    }

    /// The document numbers of the known IDs `facts` traces to, one per reference.
    pub fn traced_docs<'f>(&'f self, facts: &'f FileFacts) -> impl Iterator<Item = u32> + 'f {
        facts.refs.iter().filter(|r| r.traces).filter_map(|r| self.doc_of(r.id))
    }

    /// BM25 score of every document for `query`, by document number.
    fn bm25(&self, query: &[String]) -> Vec<f64> {
        let mut scores = vec![0.0; self.docs.len()];
        self.bm25_into(query, &mut scores, &mut |_| {});
        scores
    }

    /// BM25 scores for `query` added into `scores`, each document scored named to `touch`
    /// (the first time only where `touch` cares). A word repeated in the query counts once.
    fn bm25_into(&self, query: &[String], scores: &mut [f64], touch: &mut dyn FnMut(usize)) {
        let n = self.docs.len() as f64;
        let (k1, b) = (1.2, 0.75);
        for (at, term) in query.iter().enumerate() {
            // Each word once; a query is a few words, so a look back beats hashing.
            if query[..at].contains(term) {
                continue;
            }
            let Some(hits) = self.postings.get(term) else { continue };
            let df = hits.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, tf) in hits {
                let length = self.docs[doc].1;
                touch(doc);
                scores[doc] +=
                    idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * length / self.average_length.max(1.0)));
            }
        }
    }

    /// The documents that match `query` best by BM25 alone (the spec search): `(ID, score)`,
    /// highest first, ties by ID, scores scaled so the best is 1. `chunks_only` leaves the work
    /// items out.
    pub fn search(&self, query: &str, chunks_only: bool, limit: usize) -> Vec<(String, f64)> {
        let scores = self.bm25(&words(query));
        let end = if chunks_only { self.first_work_doc } else { self.docs.len() };
        let mut ranked: Vec<usize> = (0..end).filter(|&doc| scores[doc] > 0.0).collect();
        ranked.sort_by(|a, b| {
            scores[*b].total_cmp(&scores[*a]).then_with(|| self.docs[*a].0.cmp(&self.docs[*b].0))
        });
        ranked.truncate(limit);
        let top = ranked.first().map_or(1.0, |&doc| scores[doc]);
        ranked
            .into_iter()
            .map(|doc| (self.docs[doc].0.clone(), (scores[doc] / top * 1000.0).round() / 1000.0))
            .collect()
    }

    /// The best candidates for `path` (and an item's words, if any). `same_file` and
    /// `same_dir` count the known IDs used in the file and in the rest of its directory, by
    /// document number (see [`Suggester::doc_of`]), sorted by it.
    pub fn suggest(
        &self,
        model: &Model,
        path: &str,
        query: &[String],
        same_file: &[(u32, u32)],
        same_dir: &[(u32, u32)],
        limit: usize,
    ) -> Vec<Candidate> {
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let mut query = query.to_vec();
        query.extend(words(file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem)));
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.rank(model, path, &query, same_file, same_dir, limit, &mut scratch),
            Err(_) => self.rank(model, path, &query, same_file, same_dir, limit, &mut Scratch::default()),
        })
    }

    /// [`Suggester::suggest`] with the file's words added, on `scratch`, which it leaves zeroed.
    #[allow(clippy::too_many_arguments)]
    fn rank(
        &self,
        model: &Model,
        path: &str,
        query: &[String],
        same_file: &[(u32, u32)],
        same_dir: &[(u32, u32)],
        limit: usize,
        scratch: &mut Scratch,
    ) -> Vec<Candidate> {
        scratch.fit(self.docs.len());
        let Scratch { text: text_scores, total, touched, marked } = scratch;
        let mut touch = |doc: usize| {
            if !marked[doc] {
                marked[doc] = true;
                touched.push(doc);
            }
        };
        self.bm25_into(query, text_scores, &mut touch);
        // The scope reasons are few; the others are read back for the winners alone.
        let mut scope_reasons: Vec<(usize, String)> = Vec::new();
        for owner in model.scopes.owners_of(path) {
            // The chunks are the more specific answer; the work item itself ranks below them.
            if let Some(&doc) = self.index.get(owner) {
                touch(doc);
                total[doc] += SCOPE_WEIGHT * 0.4;
                scope_reasons.push((doc, format!("{owner}'s scope_paths cover the file")));
            }
            for (chunk, _) in model.work.get(owner).map(|w| w.blueprint_ids.as_slice()).unwrap_or_default() {
                if let Some(&doc) = self.index.get(chunk.as_str()) {
                    touch(doc);
                    total[doc] += SCOPE_WEIGHT * 0.5;
                    scope_reasons.push((doc, format!("planned in {owner}, whose scope covers the file")));
                }
            }
        }
        let max_file = same_file.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1) as f64;
        for &(doc, n) in same_file {
            touch(doc as usize);
            total[doc as usize] += NEARBY_WEIGHT * n as f64 / max_file;
        }
        let max_dir = same_dir.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1) as f64;
        for &(doc, n) in same_dir {
            touch(doc as usize);
            total[doc as usize] += NEARBY_WEIGHT * 0.6 * n as f64 / max_dir;
        }
        let best_text = touched.iter().map(|&doc| text_scores[doc]).fold(0.0, f64::max);
        if best_text > 0.0 {
            // Only documents with a text score gain anything (the rest would add zero).
            for &doc in touched.iter() {
                let weight =
                    if doc >= self.first_work_doc { TEXT_WEIGHT * WORK_TEXT_SHARE } else { TEXT_WEIGHT };
                total[doc] += weight * text_scores[doc] / best_text;
            }
        }

        // Highest score first, ties by ID: a total order, so the winners never depend on
        // the order of the documents.
        let order = |a: &usize, b: &usize| {
            total[*b].total_cmp(&total[*a]).then_with(|| self.id_order[*a].cmp(&self.id_order[*b]))
        };
        let mut ranked: Vec<usize> = touched.iter().copied().filter(|&doc| total[doc] > 0.0).collect();
        if ranked.len() > limit && limit > 0 {
            ranked.select_nth_unstable_by(limit - 1, order);
        }
        ranked.truncate(limit);
        ranked.sort_unstable_by(order);
        let top = ranked.first().map_or(1.0, |&doc| total[doc].max(f64::MIN_POSITIVE));
        let candidates = ranked
            .into_iter()
            .map(|doc| {
                let id = &self.docs[doc].0;
                let mut why: Vec<String> =
                    scope_reasons.iter().filter(|(d, _)| *d == doc).map(|(_, r)| r.clone()).collect();
                let count_in = |counts: &[(u32, u32)]| {
                    counts.binary_search_by_key(&(doc as u32), |&(d, _)| d).ok().map(|at| counts[at].1)
                };
                if let Some(n) = count_in(same_file) {
                    why.push(format!("used {n}× in this file"));
                }
                if let Some(n) = count_in(same_dir) {
                    why.push(format!("used {n}× in this directory"));
                }
                if best_text > 0.0 && text_scores[doc] > 0.0 {
                    why.push("its words match the title and summary".into());
                }
                Candidate {
                    id: id.clone(),
                    title: self.titles[doc].clone(),
                    score: (total[doc] / top * 1000.0).round() / 1000.0,
                    why: why.join("; "),
                }
            })
            .collect();
        scratch.clear();
        candidates
    }
}

/// Per-thread score arrays, one slot per document, reused from one ranking to the next: a
/// ranking touches few of the documents, and only those are cleared after it (a check ranks
/// hundreds of thousands of untraced items against thousands of documents).
#[derive(Default)]
struct Scratch {
    text: Vec<f64>,
    total: Vec<f64>,
    /// The documents scored so far, each once (`marked`).
    touched: Vec<usize>,
    marked: Vec<bool>,
}

impl Scratch {
    fn fit(&mut self, docs: usize) {
        self.text.resize(docs, 0.0);
        self.total.resize(docs, 0.0);
        self.marked.resize(docs, false);
    }

    fn clear(&mut self) {
        for &doc in &self.touched {
            self.text[doc] = 0.0;
            self.total[doc] = 0.0;
            self.marked[doc] = false;
        }
        self.touched.clear();
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
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
