//! Shannon entropy of a candidate secret, in bits per byte.
//!
//! Real keys are random; placeholders (`xxxx`, `AAAA`, `1234`) and words are
//! not. Entropy is the cheap test that tells the two apart.

/// Shannon entropy of `text`, counted over bytes (secrets are ASCII; a
/// non-ASCII character simply contributes its bytes).
pub fn shannon_entropy(text: &str) -> f64 {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &byte in bytes {
        counts[usize::from(byte)] += 1;
    }
    let total = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let probability = f64::from(count) / total;
            -probability * probability.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon_entropy;

    #[test]
    fn empty_and_uniform_text_have_zero_entropy() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaaaaaa"), 0.0);
    }

    #[test]
    fn distinct_symbols_give_log2_of_their_count() {
        assert!((shannon_entropy("ab") - 1.0).abs() < 1e-9);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
        assert!((shannon_entropy("0123456789abcdef") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn repeated_pattern_scores_lower_than_varied_text() {
        assert!(shannon_entropy("abababababababab") < shannon_entropy("a8Kq2ZpX0vR7mW4t"));
    }
}
