//! Query parsing and tokenization. Spec: TD-0042 (WBS-006).

const STOPWORDS: &[&str] = &["a", "an", "and", "the", "with", "in", "for", "of"];

/// A parsed search box query: free-text terms plus `city:` and `gear:` operators.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Query {
    pub terms: Vec<String>,
    pub city: Option<String>,
}

/// Lowercase, split on anything that is not a letter or digit, drop stopwords.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase())
        .filter(|t| !STOPWORDS.contains(&t.as_str()))
        .collect()
}

impl Query {
    /// Implements TD-0042: `city:berlin vocal booth gear:u87`.
    pub fn parse(raw: &str) -> Query {
        let mut query = Query::default();
        for word in raw.split_whitespace() {
            if let Some(city) = word.strip_prefix("city:") {
                if !city.is_empty() {
                    query.city = Some(city.to_lowercase());
                }
            } else if let Some(gear) = word.strip_prefix("gear:") {
                query.terms.extend(tokenize(gear));
            } else {
                query.terms.extend(tokenize(word));
            }
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // TD-0042
    #[test]
    fn parses_operators_and_terms() {
        let q = Query::parse("city:Berlin vocal booth with gear:U87");
        assert_eq!(q.city.as_deref(), Some("berlin"));
        assert_eq!(q.terms, vec!["vocal", "booth", "u87"]);
    }

    #[test]
    fn tokenizer_drops_punctuation_and_stopwords() {
        assert_eq!(tokenize("The Neve-1073, and a plate!"), vec!["neve", "1073", "plate"]);
    }
}
