//! Whether two glob patterns can match a common path: the exact test behind "these two lock
//! scopes overlap", decided on the patterns themselves so that it holds for files that do not
//! exist yet.
//!
//! Globs here are the workspace-relative kind used everywhere in Concord: `/` separates
//! segments, `**` (a whole segment) matches any number of segments, `*` any run of characters
//! within a segment, `?` one character, `[abc]`/`[a-z]`/`[!x]` a character class, `{a,b}`
//! alternatives, `\` escapes. Case is ignored: on case-insensitive file systems `A.py` and
//! `a.py` are one file, and when unsure the answer must be "overlap".

/// Most alternatives a pattern's braces may expand to: `compile_glob` refuses more, and the
/// overlap test gives up past it (and says "overlap").
pub const MAX_BRACE_ALTERNATIVES: usize = 256;

/// Longest glob accepted, in bytes: PATH_MAX on Linux, far beyond any real scope. Longer ones
/// are refused by `compile_glob`, and the overlap test says "overlap" for them unread.
pub const MAX_GLOB_LEN: usize = 4096;

/// `true` when some path could match both patterns (or when the patterns are too complex to
/// decide, which errs on the side of refusing).
pub fn may_overlap(a: &str, b: &str) -> bool {
    if a.len() > MAX_GLOB_LEN || b.len() > MAX_GLOB_LEN {
        return true;
    }
    let (Ok(left), Ok(right)) = (expand_braces(a), expand_braces(b)) else { return true };
    let left: Vec<Vec<Segment>> = left.iter().map(|x| segments(x)).collect();
    let right: Vec<Vec<Segment>> = right.iter().map(|y| segments(y)).collect();
    left.iter().any(|x| right.iter().any(|y| paths_intersect(x, y)))
}

/// Any pattern of `a` may overlap any pattern of `b`: the pair, for messages.
pub fn first_overlap<'p>(a: &'p [String], b: &'p [String]) -> Option<(&'p str, &'p str)> {
    a.iter().find_map(|x| b.iter().find(|y| may_overlap(x, y)).map(|y| (x.as_str(), y.as_str())))
}

/// A pattern's segments. A trailing `**` matches one segment or more, as in globset (the
/// matcher of every scope check: `a/**` matches `a/x` and `a/x/y`, not `a`), so it reads as
/// `*/**`; elsewhere `**` matches zero or more.
fn segments(pattern: &str) -> Vec<Segment> {
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    let mut segments: Vec<Segment> = pattern
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if s == "**" { Segment::AnyDepth } else { Segment::Part(tokens(s)) })
        .collect();
    if segments.last() == Some(&Segment::AnyDepth) {
        segments.insert(segments.len() - 1, Segment::Part(vec![Token::Star]));
    }
    segments
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
///
/// A walk over the pairs (i, j) of positions in `a` and `b`, one row of `i` at a time: within
/// a row a `**` (on either side) moves `j` right, and every other step moves to the next row.
/// Only the reachable `j`s of the current row are kept, ascending, so memory is one row and
/// plain literal paths cost one step per segment; no recursion, whatever the length.
fn paths_intersect(a: &[Segment], b: &[Segment]) -> bool {
    let m = b.len();
    let mut row: Vec<usize> = vec![0];
    let mut closed: Vec<usize> = Vec::new();
    for i in 0..=a.len() {
        let a_any = a.get(i) == Some(&Segment::AnyDepth);
        // Close the row under rightward moves: a `**` at a[i] or b[j] consumes b[j].
        closed.clear();
        let mut next = 0;
        let mut pending: Option<usize> = None;
        loop {
            let candidate = match (row.get(next), pending) {
                (Some(&r), Some(p)) if p < r => {
                    pending = None;
                    p
                }
                (Some(&r), p) => {
                    next += 1;
                    if p == Some(r) {
                        pending = None;
                    }
                    r
                }
                (None, Some(p)) => {
                    pending = None;
                    p
                }
                (None, None) => break,
            };
            if closed.last() == Some(&candidate) {
                continue;
            }
            closed.push(candidate);
            if candidate < m && (a_any || b[candidate] == Segment::AnyDepth) {
                pending = Some(candidate + 1);
            }
        }
        let Some(segment) = a.get(i) else {
            return closed.last() == Some(&m);
        };
        row.clear();
        for &j in &closed {
            let to = match (segment, b.get(j)) {
                // `**` matches nothing here, or the other side's `**` swallows a[i].
                (Segment::AnyDepth, _) | (_, Some(Segment::AnyDepth)) => j,
                (Segment::Part(x), Some(Segment::Part(y))) if segment_intersects(x, y) => j + 1,
                _ => continue,
            };
            if row.last() != Some(&to) {
                row.push(to);
            }
        }
        if row.is_empty() {
            return false;
        }
    }
    unreachable!("the last row returns")
}

/// Whether two single-segment patterns share a string: a search over pairs of positions of
/// the two patterns, moving both on a character they both accept.
fn segment_intersects(x: &[Token], y: &[Token]) -> bool {
    let width = y.len() + 1;
    let mut seen = vec![false; (x.len() + 1) * width];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if std::mem::replace(&mut seen[i * width + j], true) {
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

/// A pattern has more brace alternatives than `MAX_BRACE_ALTERNATIVES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyAlternatives;

/// How many plain patterns a pattern's `{a,b}` groups stand for, or an error past
/// `MAX_BRACE_ALTERNATIVES`.
pub fn brace_alternatives(pattern: &str) -> Result<usize, TooManyAlternatives> {
    expand_braces(pattern).map(|all| all.len())
}

/// One `{…}` group being read: the expansions of the text before it and the alternatives
/// finished so far.
struct OpenGroup {
    before: Vec<String>,
    alternatives: Vec<String>,
}

/// Every alternative of a pattern's `{a,b}` groups (nested allowed), in one pass over the
/// pattern with an explicit stack of open groups. Text is appended in place, and a group
/// multiplies the expansions only when it has two or more alternatives, which can happen at
/// most log2(MAX_BRACE_ALTERNATIVES) times: the cost is linear in the pattern's length.
/// An unclosed `{` leaves the whole pattern as it is (the glob compiler reports it).
fn expand_braces(pattern: &str) -> Result<Vec<String>, TooManyAlternatives> {
    if !pattern.contains('{') {
        return Ok(vec![pattern.to_string()]);
    }
    let mut open: Vec<OpenGroup> = Vec::new();
    let mut current: Vec<String> = vec![String::new()];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escaped = chars.next();
                for text in &mut current {
                    text.push('\\');
                    text.extend(escaped);
                }
            }
            '{' => {
                open.push(OpenGroup {
                    before: std::mem::replace(&mut current, vec![String::new()]),
                    alternatives: Vec::new(),
                });
            }
            ',' if !open.is_empty() => {
                let group = open.last_mut().expect("a group is open");
                group.alternatives.append(&mut current);
                current.push(String::new());
                if group.alternatives.len() > MAX_BRACE_ALTERNATIVES {
                    return Err(TooManyAlternatives);
                }
            }
            '}' if !open.is_empty() => {
                let mut group = open.pop().expect("a group is open");
                group.alternatives.append(&mut current);
                current = product(group.before, &group.alternatives)?;
            }
            c => {
                for text in &mut current {
                    text.push(c);
                }
            }
        }
    }
    if open.is_empty() {
        Ok(current)
    } else {
        Ok(vec![pattern.to_string()])
    }
}

/// Every `before` followed by every alternative, in order.
fn product(mut before: Vec<String>, alternatives: &[String]) -> Result<Vec<String>, TooManyAlternatives> {
    if let [only] = alternatives {
        for text in &mut before {
            text.push_str(only);
        }
        return Ok(before);
    }
    if before.len().saturating_mul(alternatives.len()) > MAX_BRACE_ALTERNATIVES {
        return Err(TooManyAlternatives);
    }
    Ok(before.iter().flat_map(|b| alternatives.iter().map(move |a| format!("{b}{a}"))).collect())
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
            // A trailing `**` needs a segment (as in globset): no file is both `x` and under `x/`.
            ("services/payments", "services/payments/**", false),
            ("services/payments/x", "services/payments/**", true),
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
        assert_eq!(brace_alternatives(wide), Err(TooManyAlternatives));
        assert_eq!(brace_alternatives("web/{src/{app,lib},tests}/**"), Ok(3));
    }

    fn deep(segments: usize, last: &str) -> String {
        format!("{}{last}", "a/".repeat(segments))
    }

    /// A test thread has a 2 MiB stack: a recursive walk over 100,000 segments overflows it.
    #[test]
    fn very_long_paths_are_decided_without_recursion() {
        let (x, y) = (segments(&deep(100_000, "x")), segments(&deep(100_000, "y")));
        assert!(!paths_intersect(&x, &y));
        assert!(paths_intersect(&x, &x));
        let any = segments(&format!("{}**/x", "a/".repeat(50_000)));
        assert!(paths_intersect(&any, &x));
        assert!(!paths_intersect(&any, &y));
        // Past the length bound the test does not read the patterns: "overlap".
        assert!(may_overlap(&deep(30_000, "x"), &deep(30_000, "y")));
        assert!(!may_overlap(&deep(2_000, "x"), &deep(2_000, "y")));
    }

    #[test]
    fn many_brace_groups_expand_in_linear_time() {
        let started = std::time::Instant::now();
        let pattern = format!("b/{}", "{a}".repeat(100_000));
        assert_eq!(expand_braces(&pattern).unwrap(), vec![format!("b/{}", "a".repeat(100_000))]);
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
        let doubled = "{a,b}".repeat(9);
        assert_eq!(expand_braces(&doubled), Err(TooManyAlternatives));
        assert_eq!(expand_braces(&"{a,b}".repeat(8)).map(|v| v.len()), Ok(256));
    }
}
