//! Studio search for the marketplace.
//!
//! Implements WBS-006. Spec: NT-0041 (search by city, date and gear).

pub mod filters;
pub mod index;
pub mod query;
pub mod ranking;
pub mod typo;

use std::cmp::Ordering;

use index::InvertedIndex;
use query::Query;

/// A ranked search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub studio_id: u32,
    pub score: f64,
}

/// Implements NT-0041: parse the query, match terms, keep the city, rank.
pub fn search(index: &InvertedIndex, raw_query: &str, limit: usize) -> Vec<Hit> {
    let query = Query::parse(raw_query);
    let mut hits: Vec<Hit> = index
        .candidates(&query.terms)
        .into_iter()
        .filter_map(|id| index.doc(id))
        .filter(|doc| match &query.city {
            Some(city) => doc.city.eq_ignore_ascii_case(city),
            None => true,
        })
        .map(|doc| Hit {
            studio_id: doc.id,
            score: ranking::score(doc, &query.terms),
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(Ordering::Equal)
            .then(a.studio_id.cmp(&b.studio_id))
    });
    hits.truncate(limit);
    hits
}
