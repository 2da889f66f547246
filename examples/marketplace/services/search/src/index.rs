//! Inverted index over studio listings. Spec: TD-0041 (WBS-006).

use std::collections::{BTreeSet, HashMap};

use crate::query::tokenize;

/// The part of a listing that search needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StudioDoc {
    pub id: u32,
    pub city: String,
    pub title: String,
    pub gear: Vec<String>,
    pub amenities: Vec<String>,
    pub rating: f64,
    pub review_count: u32,
    pub response_rate: f64,
}

/// Term -> studio IDs, plus the documents themselves.
#[derive(Debug, Default)]
pub struct InvertedIndex {
    postings: HashMap<String, BTreeSet<u32>>,
    docs: HashMap<u32, StudioDoc>,
}

impl InvertedIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// TD-0041: titles and gear go through the query tokenizer, so both sides agree.
    pub fn insert(&mut self, doc: StudioDoc) {
        self.remove(doc.id);
        let mut terms = tokenize(&doc.title);
        for item in &doc.gear {
            terms.extend(tokenize(item));
        }
        for term in terms {
            self.postings.entry(term).or_default().insert(doc.id);
        }
        self.docs.insert(doc.id, doc);
    }

    /// Drop a listing, e.g. when it is paused or archived.
    pub fn remove(&mut self, id: u32) {
        if self.docs.remove(&id).is_some() {
            for ids in self.postings.values_mut() {
                ids.remove(&id);
            }
            self.postings.retain(|_, ids| !ids.is_empty());
        }
    }

    pub fn doc(&self, id: u32) -> Option<&StudioDoc> {
        self.docs.get(&id)
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Studios matching every term; an empty query matches every studio.
    pub fn candidates(&self, terms: &[String]) -> Vec<u32> {
        if terms.is_empty() {
            let mut all: Vec<u32> = self.docs.keys().copied().collect();
            all.sort_unstable();
            return all;
        }
        let mut sets = terms.iter().map(|t| self.postings.get(t));
        let first = match sets.next().flatten() {
            Some(set) => set.clone(),
            None => return Vec::new(),
        };
        sets.fold(first, |acc, set| match set {
            Some(set) => acc.intersection(set).copied().collect(),
            None => BTreeSet::new(),
        })
        .into_iter()
        .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn doc(id: u32, city: &str, title: &str, gear: &[&str]) -> StudioDoc {
        StudioDoc {
            id,
            city: city.to_string(),
            title: title.to_string(),
            gear: gear.iter().map(|g| g.to_string()).collect(),
            amenities: Vec::new(),
            rating: 4.6,
            review_count: 12,
            response_rate: 0.9,
        }
    }

    // TD-0041: AND semantics across title and gear terms.
    #[test]
    fn candidates_match_all_terms() {
        let mut index = InvertedIndex::new();
        index.insert(doc(1, "Berlin", "Vocal booth with Neumann U87", &["Neve 1073"]));
        index.insert(doc(2, "Berlin", "Drum room", &["Neumann KM184"]));
        assert_eq!(index.candidates(&["neumann".to_string()]), vec![1, 2]);
        assert_eq!(index.candidates(&["neumann".to_string(), "neve".to_string()]), vec![1]);
        assert!(index.candidates(&["harp".to_string()]).is_empty());
    }

    #[test]
    fn reinsert_replaces_old_terms() {
        let mut index = InvertedIndex::new();
        index.insert(doc(1, "Berlin", "Drum room", &[]));
        index.insert(doc(1, "Berlin", "Vocal booth", &[]));
        assert!(index.candidates(&["drum".to_string()]).is_empty());
        assert_eq!(index.len(), 1);
    }
}
