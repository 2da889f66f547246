//! Whether two glob patterns can match a common path: the exact test behind "these two lock
//! scopes overlap", decided on the patterns themselves so that it holds for files that do not
//! exist yet.
//!
//! Globs here are the workspace-relative kind used everywhere in Concord: `/` separates
//! segments, `**` (a whole segment) matches any number of segments, `*` any run of characters
//! within a segment, `?` one character, `[abc]`/`[a-z]`/`[!x]` a character class, `{a,b}`
//! alternatives, `\` escapes. Case is ignored: on case-insensitive file systems `A.py` and
//! `a.py` are one file, and when unsure the answer must be "overlap".

/// Most alternatives a pattern's braces may expand to before the test gives up (and says "overlap").
const MAX_EXPANSIONS: usize = 256;

/// `true` when some path could match both patterns (or when the patterns are too complex to
/// decide, which errs on the side of refusing).
pub fn may_overlap(a: &str, b: &str) -> bool {
    let (Some(left), Some(right)) = (expand_braces(a), expand_braces(b)) else { return true };
    left.iter().any(|x| right.iter().any(|y| paths_intersect(&segments(x), &segments(y))))
}

/// Any pattern of `a` may overlap any pattern of `b`: the pair, for messages.
pub fn first_overlap<'p>(a: &'p [String], b: &'p [String]) -> Option<(&'p str, &'p str)> {
    a.iter().find_map(|x| b.iter().find(|y| may_overlap(x, y)).map(|y| (x.as_str(), y.as_str())))
}

fn segments(pattern: &str) -> Vec<Segment> {
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    pattern
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if s == "**" { Segment::AnyDepth } else { Segment::Part(tokens(s)) })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    AnyDepth,
    Part(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Char(char),
    AnyChar,
    Star,
    Class { negated: bool, ranges: Vec<(char, char)> },
}

/// Segment-level intersection: `**` consumes zero or more segments of the other side.
fn paths_intersect(a: &[Segment], b: &[Segment]) -> bool {
    let mut memo = vec![vec![None; b.len() + 1]; a.len() + 1];
    intersect_from(a, b, 0, 0, &mut memo)
}

fn intersect_from(
    a: &[Segment],
    b: &[Segment],
    i: usize,
    j: usize,
    memo: &mut Vec<Vec<Option<bool>>>,
) -> bool {
    if let Some(known) = memo[i][j] {
        return known;
    }
    let result = match (a.get(i), b.get(j)) {
        (None, None) => true,
        (Some(Segment::AnyDepth), _) if intersect_from(a, b, i + 1, j, memo) => true,
        (_, Some(Segment::AnyDepth)) if intersect_from(a, b, i, j + 1, memo) => true,
        (Some(Segment::AnyDepth), Some(_)) => intersect_from(a, b, i, j + 1, memo),
        (Some(_), Some(Segment::AnyDepth)) => intersect_from(a, b, i + 1, j, memo),
        (Some(Segment::Part(x)), Some(Segment::Part(y))) => {
            segment_intersects(x, y) && intersect_from(a, b, i + 1, j + 1, memo)
        }
        _ => false,
    };
    memo[i][j] = Some(result);
    result
}

/// Whether two single-segment patterns share a string: a search over pairs of positions of
/// the two patterns, moving both on a character they both accept.
fn segment_intersects(x: &[Token], y: &[Token]) -> bool {
    let mut seen = vec![vec![false; y.len() + 1]; x.len() + 1];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if std::mem::replace(&mut seen[i][j], true) {
            continue;
        }
        if i == x.len() && j == y.len() {
            return true;
        }
        // A star may match nothing.
        if x.get(i) == Some(&Token::Star) {
            stack.push((i + 1, j));
        }
        if y.get(j) == Some(&Token::Star) {
            stack.push((i, j + 1));
        }
        if let (Some(p), Some(q)) = (x.get(i), y.get(j)) {
            if tokens_share_a_char(p, q) {
                let next_i = if *p == Token::Star { i } else { i + 1 };
                let next_j = if *q == Token::Star { j } else { j + 1 };
                stack.push((next_i, next_j));
            }
        }
    }
    false
}

fn tokens_share_a_char(p: &Token, q: &Token) -> bool {
    match (p, q) {
        (Token::Star | Token::AnyChar, other) | (other, Token::Star | Token::AnyChar) => match other {
            Token::Class { negated: false, ranges } => !ranges.is_empty(),
            _ => true,
        },
        (Token::Char(a), Token::Char(b)) => fold(*a) == fold(*b),
        (Token::Char(c), class @ Token::Class { .. }) | (class @ Token::Class { .. }, Token::Char(c)) => {
            class_accepts(class, *c)
        }
        (Token::Class { negated: false, ranges: r1 }, Token::Class { negated: false, ranges: r2 }) => {
            r1.iter().any(|&(lo, hi)| {
                // Each range is small in practice; characters are tried one by one up to a bound.
                char_range(lo, hi).any(|c| class_accepts(q, c))
            }) || r2.iter().any(|&(lo, hi)| char_range(lo, hi).any(|c| class_accepts(p, c)))
        }
        // A negated class excludes finitely many characters: two of them always share one, and
        // a positive class shares one unless every character it has is excluded.
        (Token::Class { negated: true, .. }, Token::Class { negated: true, .. }) => true,
        (Token::Class { negated: true, .. }, positive @ Token::Class { ranges, .. })
        | (positive @ Token::Class { ranges, .. }, Token::Class { negated: true, .. }) => {
            let negative = if std::ptr::eq(positive, p) { q } else { p };
            ranges.iter().any(|&(lo, hi)| char_range(lo, hi).any(|c| class_accepts(negative, c)))
        }
    }
}

fn char_range(lo: char, hi: char) -> impl Iterator<Item = char> {
    // Bounded: a class like [\u{0}-\u{10FFFF}] is treated through its first 4096 characters,
    // which can only make the answer "overlap" more often, never less.
    (lo as u32..=(hi as u32).min(lo as u32 + 4096)).filter_map(char::from_u32).filter(|c| *c != '/')
}

fn class_accepts(class: &Token, c: char) -> bool {
    let Token::Class { negated, ranges } = class else { return false };
    let c = fold(c);
    let inside = ranges.iter().any(|&(lo, hi)| {
        let (lo_f, hi_f) = (fold(lo), fold(hi));
        (lo..=hi).contains(&c) || (lo_f..=hi_f).contains(&c) || (lo..=hi).contains(&c.to_ascii_uppercase())
    });
    inside != *negated && c != '/'
}

fn fold(c: char) -> char {
    c.to_ascii_lowercase()
}

fn tokens(segment: &str) -> Vec<Token> {
    let chars: Vec<char> = segment.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                out.push(Token::Char(chars[i + 1]));
                i += 2;
                continue;
            }
            '*' => {
                // `**` inside a segment (`a**b`) behaves as `*`.
                if out.last() != Some(&Token::Star) {
                    out.push(Token::Star);
                }
            }
            '?' => out.push(Token::AnyChar),
            '[' => {
                if let Some((class, next)) = class_at(&chars, i) {
                    out.push(class);
                    i = next;
                    continue;
                }
                out.push(Token::Char('['));
            }
            c => out.push(Token::Char(c)),
        }
        i += 1;
    }
    out
}

/// A character class starting at `chars[start] == '['`; returns it and the index after `]`.
fn class_at(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start + 1;
    let negated = matches!(chars.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    while i < chars.len() {
        let c = chars[i];
        if c == ']' && !first {
            return Some((Token::Class { negated, ranges }, i + 1));
        }
        first = false;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']') {
            let end = chars[i + 2];
            ranges.push((c.min(end), c.max(end)));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
    None
}

/// Every alternative of a pattern's `{a,b}` groups (nested allowed), or `None` past the cap.
fn expand_braces(pattern: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = pattern.chars().collect();
    let Some(open) = find_unescaped(&chars, 0, '{') else { return Some(vec![pattern.to_string()]) };
    // The matching close brace, and the top-level commas inside.
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut close = None;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    let Some(close) = close else { return Some(vec![pattern.to_string()]) };
    let prefix: String = chars[..open].iter().collect();
    let suffix: String = chars[close + 1..].iter().collect();
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for pair in bounds.windows(2) {
        let middle: String = chars[pair[0] + 1..pair[1]].iter().collect();
        for expanded in expand_braces(&format!("{prefix}{middle}{suffix}"))? {
            out.push(expanded);
            if out.len() > MAX_EXPANSIONS {
                return None;
            }
        }
    }
    Some(out)
}

fn find_unescaped(chars: &[char], from: usize, wanted: char) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == wanted {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_table() {
        let cases: &[(&str, &str, bool)] = &[
            // Literal prefixes.
            ("services/payments/**", "services/payments/stripe.py", true),
            ("services/payments/**", "services/messaging/**", false),
            ("services/payments/**", "services/**", true),
            ("services/pay/**", "services/payments/**", false),
            ("services/payments", "services/payments/**", true),
            // `**` against literals and at any depth.
            ("**", "anything/at/all.rs", true),
            ("**/*.py", "web/src/app.ts", false),
            ("**/*.py", "web/src/app.py", true),
            ("**/tests/**", "services/payments/tests/test_x.py", true),
            ("a/**/z.rs", "a/b/c/z.rs", true),
            ("a/**/z.rs", "a/z.rs", true),
            ("a/**/z.rs", "b/z.rs", false),
            ("**/x/**", "**/y/**", true),
            // Stars within a segment.
            ("src/*.rs", "src/lib.rs", true),
            ("src/*.rs", "src/nested/lib.rs", false),
            ("src/a*", "src/*b", true),
            ("src/*.test.ts", "src/*.tsx", false),
            ("src/*.test.ts", "src/*.ts", true),
            ("web/*/index.ts", "web/src/*", true),
            // Character classes.
            ("src/[abc].rs", "src/b.rs", true),
            ("src/[abc].rs", "src/d.rs", false),
            ("src/[a-c]*.rs", "src/[d-f]*.rs", false),
            ("src/[a-m]*", "src/[k-z]*", true),
            ("src/[!a]", "src/a", false),
            ("src/[!a]", "src/[!b]", true),
            ("src/[!ab]", "src/[ab]", false),
            ("src/?", "src/ab", false),
            ("src/??", "src/ab", true),
            // Braces.
            ("src/{a,b}/**", "src/b/x.rs", true),
            ("src/{a,b}/**", "src/c/x.rs", false),
            ("web/{src/{app,lib},tests}/**", "web/src/lib/x.ts", true),
            ("web/{src/{app,lib},tests}/**", "web/src/cli/x.ts", false),
            // Case is ignored (case-insensitive file systems): when unsure, overlap.
            ("Services/Payments/**", "services/payments/x.py", true),
            ("src/README.md", "src/readme.md", true),
            // Escapes.
            ("src/\\*.rs", "src/a.rs", false),
            ("src/\\*.rs", "src/*.rs", true),
        ];
        for (a, b, expected) in cases {
            assert_eq!(may_overlap(a, b), *expected, "{a} vs {b}");
            assert_eq!(may_overlap(b, a), *expected, "{b} vs {a} (symmetric)");
        }
    }

    #[test]
    fn agrees_with_globset_on_concrete_paths() {
        // Whenever a real matcher says one path matches both, the test must say "overlap".
        let patterns = [
            "src/**",
            "src/*.rs",
            "**/*.rs",
            "src/[a-c]*.rs",
            "src/{lib,main}.rs",
            "**/lib.rs",
            "src/?ib.rs",
            "tests/**",
        ];
        let paths = ["src/lib.rs", "src/main.rs", "src/a.rs", "src/x/lib.rs", "tests/lib.rs", "src/bib.rs"];
        for a in patterns {
            for b in patterns {
                let ga = crate::config::compile_glob(a).unwrap().compile_matcher();
                let gb = crate::config::compile_glob(b).unwrap().compile_matcher();
                if paths.iter().any(|p| ga.is_match(p) && gb.is_match(p)) {
                    assert!(may_overlap(a, b), "{a} and {b} share a path but were judged disjoint");
                }
            }
        }
    }

    #[test]
    fn too_many_alternatives_means_overlap() {
        let wide = "{a,b,c,d,e,f,g,h}/{a,b,c,d,e,f,g,h}/{a,b,c,d,e,f,g,h}/x";
        assert!(may_overlap(wide, "zzz/never"));
    }
}
