//! The code the builtin item queries can never need: the inside of a `{ … }` block that holds
//! no item (a function body without a nested function, type or module). Parsing is most of
//! an item-level check's cost and most of a file's bytes are such bodies, so they are left out
//! of the parse through tree-sitter's included ranges; the comments in them stay in, so every
//! comment is found and attributed as before.
//!
//! A block may be left out only when a light lexer (comments, strings, characters, the
//! preprocessor) is sure of it: its braces balance, nothing in it or in its header can start
//! an item of the language (the words of [`Rules::inner`] and [`Rules::header`]), and, for C
//! and C++, no preprocessor line lies inside it. Anything doubtful keeps the whole file in the
//! parse, and so does a parse of the rest that meets a syntax error (see `items::parse`).

use super::Family;

/// How a family's source is lexed, and what can start an item.
pub(super) struct Rules {
    /// Words that, inside a block, can start an item: the block stays in the parse.
    inner: &'static [&'static str],
    /// Words that, in the header of a block (since the previous `;`, `{` or `}`), make it a
    /// body of items (a class, an `extern "C"` block): it stays in the parse.
    header: &'static [&'static str],
    /// Header words whose block's own blocks are bodies of items too (a Java enum's constants
    /// may have bodies with methods: `A { void f() {} },`).
    header_of_bodies: &'static [&'static str],
    /// `/* /* */ */` nests (Rust).
    nested_block_comments: bool,
    /// `'a` is a lifetime or label unless a character literal closes it (Rust).
    lifetimes: bool,
    /// `r"…"`, `r#"…"#`, `br"…"`, `cr"…"` (Rust).
    rust_raw_strings: bool,
    /// `name! { … }` and `macro_rules! name { … }` are token trees (Rust): the parse reads no
    /// item in them, whatever words they hold, so they are left out like a body.
    macro_token_trees: bool,
    /// `` `…` `` raw strings (Go).
    backtick_strings: bool,
    /// `"""…"""` text blocks (Java).
    text_blocks: bool,
    /// `R"delim(…)delim"` raw strings and `1'000` digit separators (C++).
    cpp_literals: bool,
    /// `#…` lines (with `\` continuations) are preprocessor directives (C, C++).
    preprocessor: bool,
}

/// The rules of a family, or `None` when its bodies are always parsed: Python (a block is its
/// indentation, which the parse needs) and JavaScript/TypeScript (regular expressions, template
/// strings and JSX make braces hard to match without a parse, and object literals hold methods
/// without a keyword).
pub(super) fn rules(family: Family) -> Option<&'static Rules> {
    const BASE: Rules = Rules {
        inner: &[],
        header: &[],
        header_of_bodies: &[],
        nested_block_comments: false,
        lifetimes: false,
        rust_raw_strings: false,
        macro_token_trees: false,
        backtick_strings: false,
        text_blocks: false,
        cpp_literals: false,
        preprocessor: false,
    };
    static RUST: Rules = Rules {
        inner: &["fn", "struct", "enum", "union", "trait", "impl", "mod"],
        nested_block_comments: true,
        lifetimes: true,
        rust_raw_strings: true,
        macro_token_trees: true,
        ..BASE
    };
    // Functions and methods are declared at the top level only; a type may be declared in a body.
    static GO: Rules = Rules { inner: &["type"], backtick_strings: true, ..BASE };
    // Methods have no keyword: a type's body is a body of items, told by its header.
    static JAVA: Rules = Rules {
        inner: &["class", "interface", "enum", "record"],
        header: &["class", "interface", "enum", "record", "new"],
        header_of_bodies: &["enum"],
        text_blocks: true,
        ..BASE
    };
    static C: Rules =
        Rules { inner: &["struct", "union", "enum"], header: &["extern"], preprocessor: true, ..BASE };
    static CPP: Rules = Rules {
        inner: &["struct", "union", "enum", "class", "namespace"],
        header: &["struct", "union", "enum", "class", "namespace", "extern"],
        cpp_literals: true,
        preprocessor: true,
        ..BASE
    };
    match family {
        Family::Rust => Some(&RUST),
        Family::Go => Some(&GO),
        Family::Java => Some(&JAVA),
        Family::C => Some(&C),
        Family::Cpp => Some(&CPP),
        Family::Python | Family::EcmaScript => None,
    }
}

/// The byte ranges of `text` to parse, in order, or `None` when nothing can be left out (or
/// the lexer is unsure). Each left-out block keeps its braces and the comments inside it (a
/// line comment with its newline, so the parse sees it end where it ends in the file).
pub(super) fn included_ranges(rules: &Rules, text: &str) -> Option<Vec<(usize, usize)>> {
    let (skipped, comments) = skippable_blocks(rules, text.as_bytes())?;
    if skipped.is_empty() {
        return None;
    }
    let mut ranges = Vec::with_capacity(skipped.len() * 2 + 1);
    let mut from = 0;
    let mut comments = comments.into_iter().peekable();
    for (start, end) in skipped {
        ranges.push((from, start));
        while let Some(&(c_start, c_end)) = comments.peek() {
            if c_start >= end {
                break;
            }
            comments.next();
            if c_start >= start {
                ranges.push((c_start, c_end));
            }
        }
        from = end;
    }
    ranges.push((from, text.len()));
    ranges.retain(|(start, end)| start < end);
    Some(ranges)
}

/// Byte ranges, `(start, end)`, in order.
type Spans = Vec<(usize, usize)>;

/// An open `{`: where it is, whether its header makes it a body of items, and whether
/// something inside it can start an item.
struct Open {
    at: usize,
    header_holds_items: bool,
    holds_items: bool,
    /// Its own blocks are bodies of items (see [`Rules::header_of_bodies`]).
    blocks_hold_items: bool,
    /// A macro's token tree (see [`Rules::macro_token_trees`]): nothing in it holds an item.
    token_tree: bool,
}

/// Where the last tokens stand in `name! {` or `macro_rules! name {` (comments aside).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Macro {
    Nothing,
    Word,
    Bang,
    RulesWord,
    RulesBang,
    RulesName,
}

/// The outermost blocks whose inside can be left out (`(after '{', at '}')`), and every
/// comment (with a line comment's newline), in order. `None` when the braces do not balance
/// or a literal does not close: the file is parsed whole.
fn skippable_blocks(rules: &Rules, bytes: &[u8]) -> Option<(Spans, Spans)> {
    let mut skipped: Spans = Vec::new();
    let mut comments: Spans = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    // Whether a header word was seen since the last `;`, `{` or `}`.
    let mut header_word = false;
    let mut header_of_bodies = false;
    let mut line_start = true;
    let mut i = 0;
    let n = bytes.len();
    let mut macro_at = Macro::Nothing;
    let mark_inner = |stack: &mut Vec<Open>| {
        if let Some(top) = stack.last_mut().filter(|top| !top.token_tree) {
            top.holds_items = true;
        }
    };
    while i < n {
        let b = bytes[i];
        if b == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if b == b' ' || b == b'\t' || b == b'\r' || b == b'\x0c' {
            i += 1;
            continue;
        }
        let at_line_start = std::mem::replace(&mut line_start, false);
        let before = std::mem::replace(&mut macro_at, Macro::Nothing);
        match b {
            b'#' if rules.preprocessor && at_line_start => {
                // A directive runs to the end of the line, continued by a trailing backslash;
                // a block holding one stays in the parse (its branches may hold braces).
                let mut j = i;
                while j < n && bytes[j] != b'\n' {
                    if bytes[j] == b'\\' && bytes.get(j + 1) == Some(&b'\n') {
                        j += 1;
                    } else if bytes[j] == b'/' && bytes.get(j + 1) == Some(&b'*') {
                        j = block_comment_end(bytes, j, false)?;
                        continue;
                    }
                    j += 1;
                }
                mark_inner(&mut stack);
                i = j;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = bytes[i..].iter().position(|&c| c == b'\n').map_or(n, |p| i + p + 1);
                comments.push((i, end));
                i = end;
                line_start = true;
                macro_at = before;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = block_comment_end(bytes, i, rules.nested_block_comments)?;
                comments.push((i, end));
                i = end;
                macro_at = before;
            }
            b'"' => {
                i = if rules.text_blocks && bytes[i..].starts_with(b"\"\"\"") {
                    find(bytes, i + 3, b"\"\"\"")? + 3
                } else {
                    string_end(bytes, i + 1, b'"', !rules.rust_raw_strings)?
                };
            }
            b'`' if rules.backtick_strings => {
                i = i + 1 + bytes[i + 1..].iter().position(|&c| c == b'`')? + 1;
            }
            b'\'' => {
                let after_digit = i > 0 && bytes[i - 1].is_ascii_digit();
                if rules.cpp_literals && after_digit {
                    i += 1; // a digit separator
                } else if rules.lifetimes {
                    i = rust_quote_end(bytes, i);
                } else {
                    i = string_end(bytes, i + 1, b'\'', true)?;
                }
            }
            b'!' if rules.macro_token_trees => {
                macro_at = match before {
                    Macro::Word => Macro::Bang,
                    Macro::RulesWord => Macro::RulesBang,
                    _ => Macro::Nothing,
                };
                i += 1;
            }
            b'{' => {
                let in_body_of_bodies = stack.last().is_some_and(|open| open.blocks_hold_items);
                stack.push(Open {
                    at: i,
                    header_holds_items: header_word || in_body_of_bodies,
                    holds_items: false,
                    blocks_hold_items: header_of_bodies,
                    token_tree: matches!(before, Macro::Bang | Macro::RulesName),
                });
                header_word = false;
                header_of_bodies = false;
                i += 1;
            }
            b'}' => {
                let open = stack.pop()?;
                header_word = false;
                header_of_bodies = false;
                let holds = open.holds_items || open.header_holds_items;
                if holds {
                    mark_inner(&mut stack);
                } else if open.at + 1 < i {
                    // Only the outermost blocks: an inner one already recorded lies inside.
                    while skipped.last().is_some_and(|&(start, _)| start > open.at) {
                        skipped.pop();
                    }
                    skipped.push((open.at + 1, i));
                }
                i += 1;
            }
            b';' => {
                header_word = false;
                header_of_bodies = false;
                i += 1;
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < n && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                let word = &bytes[start..i];
                if rules.rust_raw_strings && matches!(word, b"r" | b"br" | b"cr") {
                    if let Some(end) = rust_raw_string_end(bytes, i) {
                        i = end;
                        continue;
                    }
                }
                if rules.cpp_literals && word.ends_with(b"R") && bytes.get(i) == Some(&b'"') {
                    if let Some(end) = cpp_raw_string_end(bytes, i + 1) {
                        i = end;
                        continue;
                    }
                }
                macro_at = match (word, before) {
                    (b"macro_rules", _) => Macro::RulesWord,
                    (_, Macro::RulesBang) => Macro::RulesName,
                    // `impl Trait for ! {`, `if !{ … }`: a keyword names no macro.
                    _ if RUST_KEYWORDS.contains(&word) => Macro::Nothing,
                    _ => Macro::Word,
                };
                let is = |words: &[&str]| words.iter().any(|w| w.as_bytes() == word);
                if is(rules.inner) {
                    mark_inner(&mut stack);
                }
                if is(rules.header) {
                    header_word = true;
                }
                if is(rules.header_of_bodies) {
                    header_of_bodies = true;
                }
            }
            b'@' if rules.text_blocks && bytes[i + 1..].starts_with(b"interface") => {
                // `@interface` declares an annotation type: a body of items.
                header_word = true;
                mark_inner(&mut stack);
                i += 1;
            }
            _ => i += 1,
        }
    }
    if !stack.is_empty() {
        return None;
    }
    Some((skipped, comments))
}

/// The words of Rust that can stand before a `!` that calls no macro.
pub(super) const RUST_KEYWORDS: &[&[u8]] = &[
    b"as",
    b"async",
    b"await",
    b"box",
    b"break",
    b"const",
    b"continue",
    b"crate",
    b"dyn",
    b"else",
    b"enum",
    b"extern",
    b"fn",
    b"for",
    b"if",
    b"impl",
    b"in",
    b"let",
    b"loop",
    b"match",
    b"mod",
    b"move",
    b"mut",
    b"pub",
    b"ref",
    b"return",
    b"self",
    b"Self",
    b"static",
    b"struct",
    b"super",
    b"trait",
    b"type",
    b"unsafe",
    b"use",
    b"where",
    b"while",
    b"yield",
];

/// The end of the block comment opening at `start` (after its `*/`).
pub(super) fn block_comment_end(bytes: &[u8], start: usize, nested: bool) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') if nested || depth == 0 => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The end (after the closing quote) of a literal whose body starts at `from`, with
/// backslash escapes. `single_line`: a newline before the close means the lexer is wrong.
pub(super) fn string_end(bytes: &[u8], from: usize, quote: u8, single_line: bool) -> Option<usize> {
    let newline_ends = single_line && quote == b'\'';
    let mut i = from;
    while i < bytes.len() {
        // Straight to the next byte that matters.
        let rest = &bytes[i..];
        let found = if newline_ends {
            memchr::memchr3(quote, b'\\', b'\n', rest)
        } else {
            memchr::memchr2(quote, b'\\', rest)
        };
        i += found?;
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' => return None,
            _ => return Some(i + 1),
        }
    }
    None
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

/// After a Rust `'`: a character literal (`'a'`, `'\n'`, `'\u{1F600}'`, `'{'`) ends after its
/// closing quote; otherwise it is a lifetime or a label, and only the quote is consumed.
pub(super) fn rust_quote_end(bytes: &[u8], at: usize) -> usize {
    if bytes.get(at + 1) == Some(&b'\\') {
        // An escape: the literal closes at the next quote (none of the escapes holds one but `\'`).
        let mut i = at + 3;
        while i < bytes.len() && bytes[i] != b'\'' && bytes[i] != b'\n' {
            i += 1;
        }
        return if bytes.get(i) == Some(&b'\'') { i + 1 } else { at + 1 };
    }
    // One character (up to four bytes of UTF-8), then the closing quote.
    let width = match bytes.get(at + 1) {
        Some(&c) if c < 0x80 => 1,
        Some(&c) if c >= 0xF0 => 4,
        Some(&c) if c >= 0xE0 => 3,
        Some(_) => 2,
        None => return at + 1,
    };
    if bytes.get(at + 1 + width) == Some(&b'\'') {
        at + 2 + width
    } else {
        at + 1
    }
}

/// After `r`, `br` or `cr` at `at`: the end of a raw string `#*"…"#*`, or `None` when none
/// starts there (`r#ident`, or a plain identifier).
pub(super) fn rust_raw_string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let hashes = bytes[at..].iter().take_while(|&&c| c == b'#').count();
    if bytes.get(at + hashes) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    Some(find(bytes, at + hashes + 1, &close)? + close.len())
}

/// After the `"` of `R"` at `from`: the end of a C++ raw string `delim( … )delim"`.
fn cpp_raw_string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let open = from + bytes.get(from..)?.iter().take(17).position(|&c| c == b'(')?;
    let mut close = vec![b')'];
    close.extend_from_slice(&bytes[from..open]);
    close.push(b'"');
    Some(find(bytes, open + 1, &close)? + close.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(family: Family, text: &str) -> String {
        let Some(ranges) = included_ranges(rules(family).expect("rules"), text) else {
            return text.to_string();
        };
        ranges.iter().map(|&(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn bodies_without_items_are_left_out_and_their_comments_kept() {
        let rust = "fn a() {\n    let s = \"}\"; // TD-0001\n    let c = '{';\n}\nimpl X {\n    fn b(&self) { x() }\n}\nfn c<'a>(x: &'a str) { r#\"}\"#; }\n";
        assert_eq!(
            kept(Family::Rust, rust),
            "fn a() {// TD-0001\n}\nimpl X {\n    fn b(&self) {}\n}\nfn c<'a>(x: &'a str) {}\n"
        );
        // A nested function keeps its enclosing body in the parse; its own body is left out.
        let nested = "fn a() { fn inner() { 1 } }";
        assert_eq!(kept(Family::Rust, nested), "fn a() { fn inner() {} }");
    }

    #[test]
    fn macro_token_trees_are_left_out_whatever_they_hold() {
        for (text, expected) in [
            // A macro's token tree holds no item for the parse, even with `fn` in it; its
            // comments stay.
            ("cfg_rt! {\n    // TD-0001\n    pub fn spawn() { go() }\n}\n", "cfg_rt! {// TD-0001\n}\n"),
            ("macro_rules! m {\n    ($x:expr) => { fn f() { $x } };\n}\n", "macro_rules! m {}\n"),
            (
                "mod a { crate::m! /* c */ { struct S; } fn b() { 1 } }",
                "mod a { crate::m! /* c */ {} fn b() {} }",
            ),
            // `!` after a keyword calls no macro: the never type, a negated block.
            ("impl Serialize for ! { fn f(&self) { *self } }", "impl Serialize for ! { fn f(&self) {} }"),
            ("fn g() -> ! { loop {} }", "fn g() -> ! {}"),
            // `name!(…)` and `name![…]` are not blocks; a body around them is left out as before.
            ("fn h() { vec![1]; m!(fn x() {}); }", "fn h() { vec![1]; m!(fn x() {}); }"),
        ] {
            assert_eq!(kept(Family::Rust, text), expected, "{text}");
        }
    }

    #[test]
    fn bodies_of_items_stay_in() {
        let enumeration = "enum E {\n  A { void f() { x(); } },\n  B;\n  void g() { y(); }\n}\n";
        assert_eq!(
            kept(Family::Java, enumeration),
            "enum E {\n  A { void f() {} },\n  B;\n  void g() { y(); }\n}\n"
        );
        let java = "class A {\n  void f() { if (x) { y(); } }\n  Runnable r = new Runnable() { public void run() { z(); } };\n}\n";
        assert_eq!(
            kept(Family::Java, java),
            "class A {\n  void f() {}\n  Runnable r = new Runnable() { public void run() {} };\n}\n"
        );
        let c = "extern \"C\" {\nint f(void) { return 1; }\n}\nvoid g(void) {\n#ifdef X\n  a();\n#endif\n  if (b) { c(); }\n}\n";
        assert_eq!(
            kept(Family::C, c),
            "extern \"C\" {\nint f(void) {}\n}\nvoid g(void) {\n#ifdef X\n  a();\n#endif\n  if (b) {}\n}\n"
        );
    }

    #[test]
    fn doubt_keeps_the_whole_file() {
        for (family, text) in [
            (Family::Rust, "fn a() { \"unclosed }"),
            (Family::Rust, "fn a() { } }"),
            (Family::Go, "func a() { x := `unclosed }"),
            (Family::C, "int a() { /* unclosed }"),
            // Braces split across preprocessor branches do not balance.
            (Family::C, "void g(void) {\n#ifdef X\n  if (a) {\n#else\n  if (b) {\n#endif\n  }\n}\n"),
        ] {
            assert_eq!(kept(family, text), text, "{text}");
        }
        assert!(rules(Family::Python).is_none() && rules(Family::EcmaScript).is_none());
    }
}
