//! Typo tolerance. WBS-006A follow-up; spec TD-0045.

/// How many edits a term of this length may have: none for short words.
pub fn max_edits(term: &str) -> usize {
    match term.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Implements TD-0045: Levenshtein distance with an early exit above `limit`.
pub fn within_distance(a: &str, b: &str, limit: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == cb { 0 } else { 1 };
            row[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
        }
        if row.iter().min().copied().unwrap_or(0) > limit {
            return false;
        }
        prev = row;
    }
    prev[b.len()] <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    // TD-0045
    #[test]
    fn common_misspellings_match() {
        assert!(within_distance("neuman", "neumann", max_edits("neumann")));
        assert!(within_distance("podcst", "podcast", max_edits("podcast")));
        assert!(!within_distance("mic", "mix", max_edits("mic")));
        assert!(!within_distance("drums", "brass", 2));
    }
}
