//! Relevance ranking. Spec: TD-0043 (WBS-006).

use crate::index::StudioDoc;
use crate::query::tokenize;

/// Marketplace-wide prior used to smooth ratings with few reviews.
const PRIOR_RATING: f64 = 4.3;
const PRIOR_WEIGHT: f64 = 5.0;

/// Bayesian-smoothed rating, so one five-star review does not outrank fifty good ones.
pub fn smoothed_rating(doc: &StudioDoc) -> f64 {
    let n = doc.review_count as f64;
    (PRIOR_RATING * PRIOR_WEIGHT + doc.rating * n) / (PRIOR_WEIGHT + n)
}

/// Implements TD-0043: text match first, then quality signals.
pub fn score(doc: &StudioDoc, terms: &[String]) -> f64 {
    let title_terms = tokenize(&doc.title);
    let title_hits = terms.iter().filter(|t| title_terms.contains(t)).count() as f64;
    let text = 2.0 * title_hits + terms.len() as f64;
    text + smoothed_rating(doc) / 5.0 + 0.5 * doc.response_rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::doc;

    // TD-0043: a title match beats a gear-only match.
    #[test]
    fn title_match_ranks_higher() {
        let terms = vec!["vocal".to_string()];
        let a = doc(1, "Berlin", "Vocal booth", &[]);
        let b = doc(2, "Berlin", "Live room", &["vocal chain"]);
        assert!(score(&a, &terms) > score(&b, &terms));
    }

    #[test]
    fn few_reviews_are_smoothed() {
        let mut one_review = doc(1, "Berlin", "Room", &[]);
        one_review.rating = 5.0;
        one_review.review_count = 1;
        let mut many = doc(2, "Berlin", "Room", &[]);
        many.rating = 4.8;
        many.review_count = 80;
        assert!(smoothed_rating(&many) > smoothed_rating(&one_review));
    }
}
