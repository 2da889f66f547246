//! End-to-end search over a small index. WBS-006: NT-0041, TD-0041,
//! TD-0042, TD-0043.

use marketplace_search::index::{InvertedIndex, StudioDoc};
use marketplace_search::search;

fn studio(id: u32, city: &str, title: &str, gear: &[&str], rating: f64, reviews: u32) -> StudioDoc {
    StudioDoc {
        id,
        city: city.to_string(),
        title: title.to_string(),
        gear: gear.iter().map(|g| g.to_string()).collect(),
        amenities: Vec::new(),
        rating,
        review_count: reviews,
        response_rate: 0.8,
    }
}

fn sample_index() -> InvertedIndex {
    let mut index = InvertedIndex::new();
    index.insert(studio(1, "Berlin", "Vocal booth in Kreuzberg", &["Neumann U87"], 4.9, 40));
    index.insert(studio(2, "Berlin", "Rehearsal room", &["Neumann KM184", "drum kit"], 4.4, 12));
    index.insert(studio(3, "Lisbon", "Vocal booth by the river", &["Neumann U87"], 4.8, 30));
    index
}

#[test]
fn city_filter_and_ranking() {
    let hits = search(&sample_index(), "city:berlin neumann", 10);
    let ids: Vec<u32> = hits.iter().map(|h| h.studio_id).collect();
    assert_eq!(ids, vec![1, 2]);
}

#[test]
fn limit_is_respected() {
    assert_eq!(search(&sample_index(), "vocal", 1).len(), 1);
    assert!(search(&sample_index(), "city:oslo vocal", 5).is_empty());
}
