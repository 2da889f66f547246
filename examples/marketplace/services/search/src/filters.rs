//! Availability and amenity filters. WBS-006A follow-up.
//! Spec: TD-0044 (availability against the calendar), NT-0047 (amenity filters).

use crate::index::StudioDoc;

/// A half-open busy interval in minutes since the start of the search day.
pub type Busy = (u32, u32);

/// TD-0044: true when `[start, end)` does not overlap any busy interval.
pub fn is_available(busy: &[Busy], start: u32, end: u32) -> bool {
    start < end && busy.iter().all(|&(b_start, b_end)| end <= b_start || b_end <= start)
}

/// NT-0047: every required amenity, e.g. "soundproofed" or "natural-light".
pub fn has_amenities(doc: &StudioDoc, required: &[&str]) -> bool {
    required
        .iter()
        .all(|need| doc.amenities.iter().any(|a| a.eq_ignore_ascii_case(need)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::doc;

    // TD-0044
    #[test]
    fn adjacent_bookings_do_not_conflict() {
        let busy = [(600, 720), (900, 960)];
        assert!(is_available(&busy, 720, 900));
        assert!(!is_available(&busy, 700, 800));
        assert!(!is_available(&busy, 800, 800));
    }

    // NT-0047
    #[test]
    fn amenities_are_all_required() {
        let mut studio = doc(1, "Berlin", "Daylight studio", &[]);
        studio.amenities = vec!["Natural-Light".to_string(), "parking".to_string()];
        assert!(has_amenities(&studio, &["natural-light"]));
        assert!(!has_amenities(&studio, &["natural-light", "soundproofed"]));
    }
}
