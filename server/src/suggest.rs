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
        self.for_file(model, path, same_file, same_dir).suggest(query, limit)
    }

    /// What every ranking in the file at `path` shares (its scope and nearby IDs), worked out
    /// once: a file's untraced items are then ranked by their words alone.
    pub fn for_file<'s>(
        &'s self,
        model: &Model,
        path: &str,
        same_file: &'s [(u32, u32)],
        same_dir: &'s [(u32, u32)],
    ) -> FileRanking<'s> {
        // Kept by document number, and added in one order for every document (scope, then
        // file, then folder), so a score is the same float whichever way it is reached.
        let mut scores: Vec<(usize, f64)> = Vec::new();
        let mut add = |doc: usize, score: f64| match scores.binary_search_by_key(&doc, |&(d, _)| d) {
            Ok(at) => scores[at].1 += score,
            Err(at) => scores.insert(at, (doc, score)),
        };
        let mut scope_reasons: Vec<(usize, String)> = Vec::new();
        for owner in model.scopes.owners_of(path) {
            // The chunks are the more specific answer; the work item itself ranks below them.
            if let Some(&doc) = self.index.get(owner) {
                add(doc, SCOPE_WEIGHT * 0.4);
                scope_reasons.push((doc, format!("{owner}'s scope_paths cover the file")));
            }
            for (chunk, _) in model.work.get(owner).map(|w| w.blueprint_ids.as_slice()).unwrap_or_default() {
                if let Some(&doc) = self.index.get(chunk.as_str()) {
                    add(doc, SCOPE_WEIGHT * 0.5);
                    scope_reasons.push((doc, format!("planned in {owner}, whose scope covers the file")));
                }
            }
        }
        let max_file = same_file.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1) as f64;
        let max_dir = same_dir.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1) as f64;
        for (counts, weight, max) in
            [(same_file, NEARBY_WEIGHT, max_file), (same_dir, NEARBY_WEIGHT * 0.6, max_dir)]
        {
            for &(doc, n) in counts {
                add(doc as usize, weight * n as f64 / max);
            }
        }
        scores.retain(|&(_, score)| score > 0.0);
        let mut ranked: Vec<(usize, f64)> = scores.clone();
        ranked.sort_unstable_by(|a, b| {
            b.1.total_cmp(&a.1).then_with(|| self.id_order[a.0].cmp(&self.id_order[b.0]))
        });
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let mut in_base = vec![0u64; self.docs.len().div_ceil(64)];
        for &(doc, _) in &scores {
            in_base[doc / 64] |= 1 << (doc % 64);
        }
        FileRanking {
            suggester: self,
            file_words: words(file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem)),
            in_base,
            base: scores,
            ranked,
            scope_reasons,
            same_file,
            same_dir,
        }
    }
}

/// The part of a ranking that one file's places share: see [`Suggester::for_file`].
pub struct FileRanking<'s> {
    suggester: &'s Suggester,
    /// The words of the file's name, added to every query.
    file_words: Vec<String>,
    /// Each document the scope and the nearby IDs score, by document number.
    base: Vec<(usize, f64)>,
    /// Which documents are in `base`, a bit each: most documents a query's words touch are
    /// not, and a bit says so sooner than a search.
    in_base: Vec<u64>,
    /// The same, best first (ties by ID).
    ranked: Vec<(usize, f64)>,
    scope_reasons: Vec<(usize, String)>,
    same_file: &'s [(u32, u32)],
    same_dir: &'s [(u32, u32)],
}

impl FileRanking<'_> {
    /// The best `limit` candidates for a place described by `words` (none: the file itself).
    pub fn suggest(&self, words: &[String], limit: usize) -> Vec<Candidate> {
        let mut query = words.to_vec();
        query.extend(self.file_words.iter().cloned());
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.rank(&query, limit, &mut scratch),
            Err(_) => self.rank(&query, limit, &mut Scratch::default()),
        })
    }

    /// The ranking on `scratch`, which it leaves zeroed. A document's score is its file
    /// score plus its share of the text score; those with no text score keep their order
    /// from [`FileRanking::ranked`], so only the first `limit` of them can win.
    fn rank(&self, query: &[String], limit: usize, scratch: &mut Scratch) -> Vec<Candidate> {
        let suggester = self.suggester;
        scratch.fit(suggester.docs.len());
        let Scratch { text: text_scores, total, touched, marked } = scratch;
        suggester.bm25_into(query, text_scores, &mut |doc| {
            if !marked[doc] {
                marked[doc] = true;
                touched.push(doc);
            }
        });
        let best_text = touched.iter().map(|&doc| text_scores[doc]).fold(0.0, f64::max);
        let base_of = |doc: usize| {
            let listed = self.in_base[doc / 64] & (1 << (doc % 64)) != 0;
            listed
                .then(|| self.base.binary_search_by_key(&doc, |&(d, _)| d).ok().map(|at| self.base[at].1))
                .flatten()
        };
        for &doc in touched.iter() {
            let weight =
                if doc >= suggester.first_work_doc { TEXT_WEIGHT * WORK_TEXT_SHARE } else { TEXT_WEIGHT };
            let file_score = base_of(doc).unwrap_or(0.0);
            total[doc] =
                if best_text > 0.0 { file_score + weight * text_scores[doc] / best_text } else { file_score };
        }
        // Highest score first, ties by ID: a total order, so the winners never depend on
        // the order of the documents.
        let better = |a: usize, b: usize, total: &[f64]| {
            total[b].total_cmp(&total[a]).then_with(|| suggester.id_order[a].cmp(&suggester.id_order[b]))
                == std::cmp::Ordering::Less
        };
        // The best `limit`, kept in order as the documents are offered: most are turned away
        // by one comparison with the last.
        let mut ranked: Vec<usize> = Vec::with_capacity(limit + 1);
        let offer = |ranked: &mut Vec<usize>, doc: usize, total: &[f64]| -> bool {
            if limit == 0 || ranked.len() == limit && !better(doc, ranked[limit - 1], total) {
                return false;
            }
            let at = ranked.partition_point(|&kept| better(kept, doc, total));
            ranked.insert(at, doc);
            ranked.truncate(limit);
            true
        };
        for &doc in touched.iter() {
            if total[doc] > 0.0 {
                offer(&mut ranked, doc, total);
            }
        }
        for &(doc, score) in self.ranked.iter().filter(|(doc, _)| !marked[*doc]) {
            total[doc] = score;
            if !offer(&mut ranked, doc, total) {
                // The rest score no more than this one: none of them can get in.
                total[doc] = 0.0;
                break;
            }
        }
        let top = ranked.first().map_or(1.0, |&doc| total[doc].max(f64::MIN_POSITIVE));
        let candidates = ranked
            .iter()
            .map(|&doc| {
                let mut why: Vec<String> =
                    self.scope_reasons.iter().filter(|(d, _)| *d == doc).map(|(_, r)| r.clone()).collect();
                let count_in = |counts: &[(u32, u32)]| {
                    counts.binary_search_by_key(&(doc as u32), |&(d, _)| d).ok().map(|at| counts[at].1)
                };
                if let Some(n) = count_in(self.same_file) {
                    why.push(format!("used {n}× in this file"));
                }
                if let Some(n) = count_in(self.same_dir) {
                    why.push(format!("used {n}× in this directory"));
                }
                if best_text > 0.0 && text_scores[doc] > 0.0 {
                    why.push("its words match the title and summary".into());
                }
                Candidate {
                    id: suggester.docs[doc].0.clone(),
                    title: suggester.titles[doc].clone(),
                    score: (total[doc] / top * 1000.0).round() / 1000.0,
                    why: why.join("; "),
                }
            })
            .collect();
        // Scores of winners from the file's ranking were written outside `touched`.
        for &doc in &ranked {
            total[doc] = 0.0;
        }
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
    use proptest::prelude::*;

    use super::*;

    const VOCABULARY: [&str; 6] = ["refund", "payment", "ledger", "socket", "queue", "token"];

    /// Chunks and work items whose titles share a small vocabulary (many equal scores), two
    /// work items with scopes over `src/pay/`.
    fn model(titles: &[(u8, u8)]) -> Model {
        let config = crate::config::Config::default();
        let title =
            |(a, b): (u8, u8)| format!("{} {}", VOCABULARY[a as usize % 6], VOCABULARY[b as usize % 6]);
        let chunks: Vec<serde_json::Value> = titles
            .iter()
            .enumerate()
            .map(|(n, &t)| serde_json::json!({"id": format!("TD-{:04}", n + 1), "title": title(t)}))
            .collect();
        let wbs = serde_json::json!({"items": [
            {"id": "WBS-001", "title": "refund flow", "blueprint_ids": ["TD-0001", "TD-0002"], "scope_paths": ["src/pay/**"]},
            {"id": "WBS-002", "title": "ledger", "blueprint_ids": ["TD-0003"], "scope_paths": ["src/pay/refund.rs"]},
        ]});
        let source = |path: &str, value: serde_json::Value| crate::model::Source {
            path: path.into(),
            text: value.to_string(),
        };
        let sources = crate::model::Sources {
            index: Some(source(&config.paths.blueprint_index, serde_json::Value::Array(chunks))),
            wbs: Some(source(&config.paths.wbs, wbs)),
            ..Default::default()
        };
        Model::build(&config, &sources)
    }

    /// The ranking as first written: every document scored, all of them sorted.
    fn reference(
        s: &Suggester,
        model: &Model,
        path: &str,
        query: &[String],
        same_file: &[(u32, u32)],
        same_dir: &[(u32, u32)],
        limit: usize,
    ) -> Vec<Candidate> {
        let mut query = query.to_vec();
        let file_name = path.rsplit('/').next().unwrap();
        query.extend(words(file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem)));
        let n = s.docs.len();
        let mut text = vec![0.0; n];
        s.bm25_into(&query, &mut text, &mut |_| {});
        let mut total = vec![0.0; n];
        let mut reasons: Vec<(usize, String)> = Vec::new();
        for owner in model.scopes.owners_of(path) {
            if let Some(&doc) = s.index.get(owner) {
                total[doc] += SCOPE_WEIGHT * 0.4;
                reasons.push((doc, format!("{owner}'s scope_paths cover the file")));
            }
            for (chunk, _) in model.work.get(owner).map(|w| w.blueprint_ids.as_slice()).unwrap_or_default() {
                if let Some(&doc) = s.index.get(chunk.as_str()) {
                    total[doc] += SCOPE_WEIGHT * 0.5;
                    reasons.push((doc, format!("planned in {owner}, whose scope covers the file")));
                }
            }
        }
        let max_file = same_file.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1) as f64;
        for &(doc, k) in same_file {
            total[doc as usize] += NEARBY_WEIGHT * k as f64 / max_file;
        }
        let max_dir = same_dir.iter().map(|&(_, n)| n).max().unwrap_or(0).max(1) as f64;
        for &(doc, k) in same_dir {
            total[doc as usize] += NEARBY_WEIGHT * 0.6 * k as f64 / max_dir;
        }
        let best = text.iter().copied().fold(0.0, f64::max);
        if best > 0.0 {
            for doc in 0..n {
                let weight =
                    if doc >= s.first_work_doc { TEXT_WEIGHT * WORK_TEXT_SHARE } else { TEXT_WEIGHT };
                total[doc] += weight * text[doc] / best;
            }
        }
        let mut ranked: Vec<usize> = (0..n).filter(|&d| total[d] > 0.0).collect();
        ranked.sort_by(|&a, &b| total[b].total_cmp(&total[a]).then_with(|| s.docs[a].0.cmp(&s.docs[b].0)));
        ranked.truncate(limit);
        let top = ranked.first().map_or(1.0, |&d| total[d].max(f64::MIN_POSITIVE));
        ranked
            .into_iter()
            .map(|doc| {
                let mut why: Vec<String> =
                    reasons.iter().filter(|(d, _)| *d == doc).map(|(_, r)| r.clone()).collect();
                let count = |c: &[(u32, u32)]| c.iter().find(|&&(d, _)| d as usize == doc).map(|&(_, k)| k);
                if let Some(k) = count(same_file) {
                    why.push(format!("used {k}× in this file"));
                }
                if let Some(k) = count(same_dir) {
                    why.push(format!("used {k}× in this directory"));
                }
                if best > 0.0 && text[doc] > 0.0 {
                    why.push("its words match the title and summary".into());
                }
                Candidate {
                    id: s.docs[doc].0.clone(),
                    title: model.title_of(&s.docs[doc].0).unwrap_or("").to_string(),
                    score: (total[doc] / top * 1000.0).round() / 1000.0,
                    why: why.join("; "),
                }
            })
            .collect()
    }

    fn counts(max_doc: u32) -> impl Strategy<Value = Vec<(u32, u32)>> {
        proptest::collection::btree_map(0..max_doc, 1u32..5, 0..6).prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        /// A file's shared scores, then each place's words: the same candidates, scores and
        /// reasons as scoring every document for every place.
        #[test]
        fn ranking_by_file_matches_scoring_every_document(
            titles in proptest::collection::vec((0u8..6, 0u8..6), 3..24),
            path in prop_oneof![Just("src/pay/refund.rs"), Just("src/pay/token_queue.py"), Just("lib/socket.go")],
            query in proptest::collection::vec(0usize..8, 0..4),
            same_file in counts(26),
            same_dir in counts(26),
            limit in 0usize..5,
        ) {
            let model = model(&titles);
            prop_assert_eq!(model.scopes.owners_of("src/pay/refund.rs").len(), 2, "both scopes hold");
            let suggester = Suggester::new(&model);
            let docs = suggester.docs.len() as u32;
            let keep = |c: Vec<(u32, u32)>| -> Vec<(u32, u32)> { c.into_iter().filter(|&(d, _)| d < docs).collect() };
            let (same_file, same_dir) = (keep(same_file), keep(same_dir));
            let query: Vec<String> = query.iter().map(|&w| VOCABULARY.get(w).unwrap_or(&"unrelated").to_string()).collect();
            let ranking = suggester.for_file(&model, path, &same_file, &same_dir);
            for _ in 0..2 {
                // Twice: the per-thread scratch must come back clean.
                prop_assert_eq!(
                    ranking.suggest(&query, limit),
                    reference(&suggester, &model, path, &query, &same_file, &same_dir, limit)
                );
            }
        }
    }

    #[test]
    fn words_split_identifiers() {
        assert_eq!(
            words("createPaymentIntent for refund_requests"),
            vec!["create", "payment", "intent", "refund", "request"]
        );
        assert_eq!(words("HTTPServer x"), vec!["httpserver"]);
    }
}
