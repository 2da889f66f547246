//! Rust's comments and items, found without a syntax tree.
//!
//! Rust is most of the code an item-level check reads, and the items it traces are a small
//! part of Rust's grammar: attributes, visibility and qualifiers, then a keyword and a name,
//! then a header and a body whose brackets balance. A lexer (comments, strings, characters,
//! lifetimes) and a parser of that part find what the tree-sitter parse and the walk find
//! (`tests.rs` compares the two on every fixture, mutations of them, this repository's
//! sources and, by hand, a corpus of real code), at a fraction of the cost.
//!
//! Anything outside that part (a keyword that starts an item where no statement starts, an
//! unbalanced bracket, an unclosed literal, a character outside ASCII in the code) gives up:
//! the file is parsed by tree-sitter as before. Bodies are not checked for syntax errors.

use super::skip::{block_comment_end, rust_quote_end, rust_raw_string_end, string_end, RUST_KEYWORDS};
use super::{Comment, ItemKind};

/// An item as the parse would find it: the node's span, its name's span, and what the
/// layout needs (the attributes directly before it, its own `pub`, an impl's trait).
#[derive(Clone, Copy, Debug)]
pub(super) struct Found {
    pub kind: ItemKind,
    pub test: bool,
    pub start: usize,
    pub end: usize,
    pub name: (usize, usize),
    pub attributes: Option<(usize, usize)>,
    /// Its visibility is exactly `pub`.
    pub own_pub: bool,
    /// An impl of a trait (`impl Trait for Type`).
    pub trait_impl: bool,
}

/// What [`scan`] finds: every comment in order, the items in tree order (an enclosing item
/// before the items inside it), and where the preamble ends (see `layout::preamble_end`).
pub(super) struct Scanned {
    pub comments: Vec<Comment>,
    pub items: Vec<Found>,
    pub preamble_end: usize,
}

/// The comments and items of Rust `text`, or `None` when the scanner is not sure.
pub(super) fn scan(text: &str) -> Option<Scanned> {
    // Offsets are kept in 32 bits.
    if text.len() >= u32::MAX as usize {
        return None;
    }
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    // About one token per five bytes of real code (a huge file's list grows as it needs).
    let mut tokens = Vec::with_capacity((text.len() / 5).min(1 << 16));
    lex(bytes, &mut tokens, &mut comments)?;
    let mut parser =
        Parser { text: bytes, tokens: &tokens, pos: 0, items: Vec::new(), depth: 0, preamble_end: None };
    parser.item_list(Container::File)?;
    let preamble_end = parser.preamble_end.unwrap_or(text.len());
    Some(Scanned { comments, items: parser.items, preamble_end })
}

/// The words the parser tells apart; every other word is [`Word::Plain`] (or
/// [`Word::Keyword`] when it cannot name a macro).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Word {
    Plain,
    Keyword,
    Fn,
    Pub,
    Use,
    Extern,
    Crate,
    Const,
    Async,
    Unsafe,
    Static,
    Type,
    Struct,
    Enum,
    Trait,
    Impl,
    Mod,
    For,
    Where,
    In,
    SelfValue,
    Super,
    /// Contextual: words that may also name things.
    Union,
    Auto,
    Default,
    MacroRules,
}

impl Word {
    fn of(word: &[u8]) -> Word {
        // Every keyword is 2 to 11 lowercase letters (or `_`), but `Self`.
        if word.len() < 2 || word.len() > 11 || !word[0].is_ascii_lowercase() {
            return if word == b"Self" { Word::Keyword } else { Word::Plain };
        }
        match word {
            b"fn" => Word::Fn,
            b"pub" => Word::Pub,
            b"use" => Word::Use,
            b"extern" => Word::Extern,
            b"crate" => Word::Crate,
            b"const" => Word::Const,
            b"async" => Word::Async,
            b"unsafe" => Word::Unsafe,
            b"static" => Word::Static,
            b"type" => Word::Type,
            b"struct" => Word::Struct,
            b"enum" => Word::Enum,
            b"trait" => Word::Trait,
            b"impl" => Word::Impl,
            b"mod" => Word::Mod,
            b"for" => Word::For,
            b"where" => Word::Where,
            b"in" => Word::In,
            b"self" => Word::SelfValue,
            b"super" => Word::Super,
            b"union" => Word::Union,
            b"auto" => Word::Auto,
            b"default" => Word::Default,
            b"macro_rules" => Word::MacroRules,
            _ if RUST_KEYWORDS.contains(&word) => Word::Keyword,
            _ => Word::Plain,
        }
    }

    /// A word that can be an item's name (a contextual keyword can).
    fn can_name(self) -> bool {
        matches!(self, Word::Plain | Word::Union | Word::Auto | Word::Default | Word::MacroRules)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Word(Word),
    /// A string literal (plain, byte, C or raw).
    Str,
    /// A character or number literal, or a lifetime.
    Other,
    Punct(u8),
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: u32,
    end: u32,
}

/// Splits `bytes` into tokens (comments go to `comments`, with a doc line comment's newline,
/// as the grammar has them). `None` when a literal or block comment does not close, or a
/// character outside ASCII stands in the code.
fn lex(bytes: &[u8], tokens: &mut Vec<Token>, comments: &mut Vec<Comment>) -> Option<()> {
    let n = bytes.len();
    // A shebang line is not a token the parser knows.
    if bytes.starts_with(b"#!") && !bytes.starts_with(b"#![") {
        return None;
    }
    let is_word_byte = |b: u8| b == b'_' || b.is_ascii_alphanumeric();
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let line_end = memchr::memchr(b'\n', &bytes[i..]).map_or(n, |p| i + p);
                // `///` (not `////`) and `//!` are doc comments: their newline is theirs.
                let doc = (bytes.get(i + 2) == Some(&b'/') && bytes.get(i + 3) != Some(&b'/'))
                    || bytes.get(i + 2) == Some(&b'!');
                let end = if doc { (line_end + 1).min(n) } else { line_end };
                comments.push(Comment { start: i, end });
                i = end;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = block_comment_end(bytes, i, true)?;
                comments.push(Comment { start: i, end });
                i = end;
                continue;
            }
            b'"' => {
                i = string_end(bytes, i + 1, b'"', false)?;
                Kind::Str
            }
            b'\'' => {
                let end = rust_quote_end(bytes, i);
                if end == i + 1 {
                    // A lifetime or label: the quote and a word.
                    i += 1;
                    while i < n && is_word_byte(bytes[i]) {
                        i += 1;
                    }
                } else {
                    i = end;
                }
                Kind::Other
            }
            b'0'..=b'9' => {
                i += 1;
                loop {
                    while i < n && is_word_byte(bytes[i]) {
                        i += 1;
                    }
                    if i + 1 < n && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                        i += 1;
                        continue;
                    }
                    break;
                }
                Kind::Other
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                while i < n && is_word_byte(bytes[i]) {
                    i += 1;
                }
                let word = &bytes[start..i];
                match (word, bytes.get(i)) {
                    (b"r" | b"br" | b"cr", Some(b'"' | b'#')) if starts_raw_string(bytes, i) => {
                        i = rust_raw_string_end(bytes, i)?;
                        Kind::Str
                    }
                    (b"r", Some(b'#'))
                        if bytes.get(i + 1).is_some_and(|&c| c == b'_' || c.is_ascii_alphabetic()) =>
                    {
                        // A raw identifier, `r#type`: its text is the name.
                        i += 1;
                        while i < n && is_word_byte(bytes[i]) {
                            i += 1;
                        }
                        Kind::Word(Word::Plain)
                    }
                    (b"b" | b"c", Some(b'"')) => {
                        i = string_end(bytes, i + 1, b'"', false)?;
                        Kind::Str
                    }
                    (b"b", Some(b'\'')) => {
                        let end = rust_quote_end(bytes, i);
                        if end == i + 1 {
                            return None;
                        }
                        i = end;
                        Kind::Other
                    }
                    _ => Kind::Word(Word::of(word)),
                }
            }
            c if c.is_ascii() => {
                i += 1;
                Kind::Punct(c)
            }
            _ => return None,
        };
        tokens.push(Token { kind, start: start as u32, end: i as u32 });
    }
    Some(())
}

/// Whether `#*"` follows at `at` (after `r`, `br` or `cr`): a raw string, closed or not.
fn starts_raw_string(bytes: &[u8], at: usize) -> bool {
    let hashes = bytes[at..].iter().take_while(|&&c| c == b'#').count();
    bytes.get(at + hashes) == Some(&b'"')
}

/// Where a list of items lies, which decides what a function in it is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    File,
    Module,
    Impl,
    Trait,
    /// An `extern "C" { … }` block.
    Extern,
    /// A block of statements (a function's body, a constant's initializer, ...).
    Block,
}

/// The run of attributes before the next node (comments between them do not break it).
#[derive(Clone, Copy, Default)]
struct Run {
    span: Option<(usize, usize)>,
    test: bool,
    cfg_test: bool,
}

/// What [`Parser::item`] met.
#[derive(PartialEq, Eq)]
enum Met {
    /// A node of the item list (an item, `use`, a macro call, ...): `line` when it belongs to
    /// the preamble.
    Node { line: bool },
    /// In a block: a statement that is no item; nothing was consumed.
    Statement,
}

/// Items nest no deeper than this (each level is a frame of the parser's stack).
const MAX_DEPTH: u32 = 200;

struct Parser<'a> {
    text: &'a [u8],
    tokens: &'a [Token],
    pos: usize,
    items: Vec<Found>,
    depth: u32,
    /// Where the first top-level node that is not a preamble line starts.
    preamble_end: Option<usize>,
}

impl Parser<'_> {
    fn kind(&self, at: usize) -> Option<Kind> {
        self.tokens.get(at).map(|t| t.kind)
    }

    fn word(&self, at: usize) -> Option<Word> {
        match self.kind(at)? {
            Kind::Word(word) => Some(word),
            _ => None,
        }
    }

    fn is(&self, at: usize, punct: u8) -> bool {
        self.kind(at) == Some(Kind::Punct(punct))
    }

    fn start(&self, at: usize) -> usize {
        self.tokens[at].start as usize
    }

    fn end(&self, at: usize) -> usize {
        self.tokens[at].end as usize
    }

    fn text(&self, at: usize) -> &[u8] {
        &self.text[self.start(at)..self.end(at)]
    }

    /// A `>` that ends `->` or `=>`, not an angle bracket.
    fn is_arrow_head(&self, at: usize) -> bool {
        at > 0
            && (self.is(at - 1, b'-') || self.is(at - 1, b'='))
            && self.tokens[at - 1].end == self.tokens[at].start
    }

    /// `#[` or `#![` at `at`.
    fn is_attribute(&self, at: usize) -> bool {
        self.is(at, b'#') && (self.is(at + 1, b'[') || (self.is(at + 1, b'!') && self.is(at + 2, b'[')))
    }

    /// From an opening bracket at `self.pos` to after its match. `None` when they do not match.
    fn skip_group(&mut self) -> Option<()> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            let Kind::Punct(c) = self.kind(self.pos)? else {
                self.pos += 1;
                continue;
            };
            self.pos += 1;
            match c {
                b'(' => open.push(b')'),
                b'[' => open.push(b']'),
                b'{' => open.push(b'}'),
                b')' | b']' | b'}' => {
                    if open.pop()? != c {
                        return None;
                    }
                    if open.is_empty() {
                        return Some(());
                    }
                }
                _ => {}
            }
        }
    }

    /// The items and other nodes of a file or of a `{ … }` body (after its `{`, up to its `}`).
    fn item_list(&mut self, container: Container) -> Option<()> {
        let mut run = Run::default();
        loop {
            match self.kind(self.pos) {
                None if container == Container::File => return Some(()),
                Some(Kind::Punct(b'}')) if container != Container::File => return Some(()),
                None | Some(Kind::Punct(b'}')) => return None,
                _ => {}
            }
            if self.is_attribute(self.pos) {
                let inner = self.is(self.pos + 1, b'!');
                self.attribute(&mut run)?;
                if inner {
                    run = Run::default();
                }
                continue;
            }
            let start = self.start(self.pos);
            let met = if self.is(self.pos, b';') {
                self.pos += 1;
                Met::Node { line: false }
            } else {
                self.item(container, run)?
            };
            run = Run::default();
            match met {
                Met::Node { line } => {
                    if container == Container::File && !line && self.preamble_end.is_none() {
                        self.preamble_end = Some(start);
                    }
                }
                Met::Statement => return None,
            }
        }
    }

    /// An attribute (`#[…]` or `#![…]`) at `self.pos`, added to `run` (an outer one).
    fn attribute(&mut self, run: &mut Run) -> Option<()> {
        let start = self.start(self.pos);
        let inner = self.is(self.pos + 1, b'!');
        self.pos += if inner { 2 } else { 1 };
        let open = self.pos;
        self.skip_group()?;
        let close = self.pos - 1;
        if inner {
            return Some(());
        }
        // The path, then `(…)` or `= value`. A test attribute names `test` (or `rstest`, ...)
        // as its path's last word or as its value; `cfg(test)` holds `test` directly inside.
        let is_test_word = |parser: &Parser, at: usize| {
            [&b"test"[..], b"rstest", b"test_case", b"quickcheck"].contains(&parser.text(at))
        };
        let (after, last) = self.path(open + 1, close);
        if let Some(last) = last {
            run.test |= is_test_word(self, last);
            let cfg = last == open + 1 && self.text(last) == b"cfg";
            if cfg && matches!(self.kind(after), Some(Kind::Punct(b'(' | b'[' | b'{'))) {
                let mut depth = 0usize;
                for t in after + 1..close {
                    match self.kind(t) {
                        Some(Kind::Punct(b'(' | b'[' | b'{')) => depth += 1,
                        Some(Kind::Punct(b')' | b']' | b'}')) => depth = depth.saturating_sub(1),
                        Some(Kind::Word(Word::Plain)) if depth == 0 && self.text(t) == b"test" => {
                            run.cfg_test = true;
                        }
                        _ => {}
                    }
                }
            }
            if self.is(after, b'=') {
                if let (value_end, Some(value_last)) = self.path(after + 1, close) {
                    run.test |= value_end == close && is_test_word(self, value_last);
                }
            }
        }
        let end = self.end(close);
        run.span = Some(run.span.map_or((start, end), |(first, _)| (first, end)));
        Some(())
    }

    /// A path (`a::b::c`, `::a`) from `from`, before `limit`: where it ends, and its last word.
    fn path(&self, from: usize, limit: usize) -> (usize, Option<usize>) {
        let mut at = from;
        let mut last = None;
        loop {
            let separated = self.is(at, b':') && self.is(at + 1, b':');
            if separated {
                at += 2;
            } else if last.is_some() {
                return (at, last);
            }
            if at >= limit || self.word(at).is_none() {
                return (if separated { at - 2 } else { at }, last);
            }
            last = Some(at);
            at += 1;
        }
    }

    /// An item or another node of an item list at `self.pos` (after its attributes). In a
    /// block, [`Met::Statement`] when what stands there is no item.
    fn item(&mut self, container: Container, run: Run) -> Option<Met> {
        self.depth += 1;
        let met = if self.depth > MAX_DEPTH { None } else { self.item_here(container, run) };
        self.depth -= 1;
        met
    }

    fn item_here(&mut self, container: Container, run: Run) -> Option<Met> {
        let first = self.pos;
        let in_block = container == Container::Block;
        let not_an_item = |parser: &mut Parser| {
            parser.pos = first;
            in_block.then_some(Met::Statement)
        };
        let start = self.start(first);
        // Visibility: `pub`, `pub(crate)`, `pub(in path)`, ...
        let mut own_pub = false;
        if self.word(self.pos) == Some(Word::Pub) {
            self.pos += 1;
            let restricted = self.is(self.pos, b'(')
                && matches!(
                    self.word(self.pos + 1),
                    Some(Word::Crate | Word::SelfValue | Word::Super | Word::In)
                );
            if restricted {
                self.skip_group()?;
            } else {
                own_pub = true;
            }
        }
        // Qualifiers of functions and of impls, traits and extern blocks.
        let mut qualified = false;
        loop {
            match self.word(self.pos) {
                Some(Word::Async | Word::Unsafe) => {}
                Some(Word::Const) if self.starts_function(self.pos + 1) => {}
                Some(Word::Default) if self.starts_function(self.pos + 1) => {}
                Some(Word::Auto) if self.word(self.pos + 1) == Some(Word::Trait) => {}
                Some(Word::Extern) if self.kind(self.pos + 1) == Some(Kind::Str) => {
                    self.pos += 1;
                }
                Some(Word::Extern) if self.word(self.pos + 1) != Some(Word::Crate) => {}
                _ => break,
            }
            self.pos += 1;
            qualified = true;
        }
        if !in_block && !qualified && self.starts_macro_call(self.pos) {
            // `path::to::name! { … }`, `::path::name!(…);`
            while !self.is(self.pos, b'!') {
                self.pos += 1;
            }
            self.pos += 1;
            self.macro_body()?;
            return Some(Met::Node { line: false });
        }
        let Some(word) = self.word(self.pos) else {
            // `extern "C" { … }`; in a block, `unsafe { … }` and the like are statements.
            let external = self.tokens[first..self.pos].iter().any(|t| t.kind == Kind::Word(Word::Extern));
            if external && self.is(self.pos, b'{') {
                self.pos += 1;
                self.item_list(Container::Extern)?;
                self.pos += 1;
                return Some(Met::Node { line: false });
            }
            return not_an_item(self);
        };
        let found = |parser: &Parser, kind, name: usize, test: bool| Found {
            kind,
            test,
            start,
            end: 0,
            name: (parser.start(name), parser.end(name)),
            attributes: run.span,
            own_pub,
            trait_impl: false,
        };
        match word {
            Word::Fn => {
                let name = self.pos + 1;
                if !self.word(name).is_some_and(Word::can_name) {
                    return None;
                }
                self.pos = name + 1;
                let body = self.header(b"{;")?;
                let kind = match container {
                    Container::Impl | Container::Trait => ItemKind::Method,
                    _ => ItemKind::Function,
                };
                if body {
                    let (kind, test) = if run.test { (ItemKind::Test, true) } else { (kind, false) };
                    let index = self.push(found(self, kind, name, test));
                    self.block_body()?;
                    self.finish(index);
                } else if container == Container::Trait {
                    // A signature is a method in a trait and no item elsewhere.
                    let index = self.push(found(self, ItemKind::Method, name, false));
                    self.pos += 1;
                    self.finish(index);
                } else {
                    self.pos += 1;
                }
                Some(Met::Node { line: false })
            }
            Word::Struct | Word::Enum | Word::Union | Word::Trait | Word::Mod => {
                if qualified && word != Word::Trait {
                    return None;
                }
                if word == Word::Union && !self.word(self.pos + 1).is_some_and(Word::can_name) {
                    return not_an_item(self); // `union` names something else here
                }
                let name = self.pos + 1;
                if !self.word(name).is_some_and(Word::can_name) {
                    return None;
                }
                self.pos = name + 1;
                if word == Word::Mod {
                    if self.is(self.pos, b';') {
                        self.pos += 1;
                        return Some(Met::Node { line: container == Container::File });
                    }
                    if !self.is(self.pos, b'{') {
                        return None;
                    }
                    let index = self.push(found(self, ItemKind::Module, name, run.cfg_test));
                    self.pos += 1;
                    self.item_list(Container::Module)?;
                    self.pos += 1;
                    self.finish(index);
                    return Some(Met::Node { line: false });
                }
                let kind = match word {
                    Word::Enum => ItemKind::Enum,
                    Word::Trait => ItemKind::Trait,
                    _ => ItemKind::Struct,
                };
                let index = self.push(found(self, kind, name, false));
                let ends = match word {
                    Word::Struct => &b"{(;"[..],
                    _ => b"{",
                };
                self.header(ends)?;
                match self.kind(self.pos) {
                    Some(Kind::Punct(b'{')) if word == Word::Trait => {
                        self.pos += 1;
                        self.item_list(Container::Trait)?;
                        self.pos += 1;
                    }
                    Some(Kind::Punct(b'{')) => {
                        self.pos += 1;
                        self.region(b'}')?;
                        self.pos += 1;
                    }
                    Some(Kind::Punct(b'(')) => {
                        // A tuple struct: its fields, a where clause, `;`.
                        self.skip_group()?;
                        self.header(b";")?;
                        self.pos += 1;
                    }
                    _ => self.pos += 1, // `struct Unit;`
                }
                self.finish(index);
                Some(Met::Node { line: false })
            }
            Word::Impl => {
                self.pos += 1;
                if self.is(self.pos, b'<') {
                    self.skip_angles()?;
                }
                let type_from = self.pos;
                self.header(b"{;")?;
                let header_end = self.pos;
                // `impl Trait for Type`: the first `for` at the top of the header (not
                // `for<'a>`); the type runs to `where` or the body.
                let (mut depth, mut type_start, mut type_end) = (0i32, type_from, header_end);
                let mut trait_impl = false;
                for t in type_from..header_end {
                    match self.kind(t) {
                        Some(Kind::Punct(b'<' | b'(' | b'[')) => depth += 1,
                        Some(Kind::Punct(b'>')) if !self.is_arrow_head(t) => depth -= 1,
                        Some(Kind::Punct(b')' | b']')) => depth -= 1,
                        Some(Kind::Word(Word::For)) if depth == 0 && !trait_impl && !self.is(t + 1, b'<') => {
                            trait_impl = true;
                            type_start = t + 1;
                        }
                        Some(Kind::Word(Word::Where)) if depth == 0 => {
                            type_end = t;
                            break;
                        }
                        _ => {}
                    }
                }
                if type_start >= type_end {
                    return None;
                }
                let index = self.push(Found {
                    kind: ItemKind::Impl,
                    test: false,
                    start,
                    end: 0,
                    name: (self.start(type_start), self.end(type_end - 1)),
                    attributes: run.span,
                    own_pub,
                    trait_impl,
                });
                if self.is(self.pos, b'{') {
                    self.pos += 1;
                    self.item_list(Container::Impl)?;
                }
                self.pos += 1;
                self.finish(index);
                Some(Met::Node { line: false })
            }
            _ if qualified => {
                // `unsafe { … }`, `async move { … }` in a block; nothing else.
                not_an_item(self)
            }
            Word::Use => {
                self.skip_past_semicolon()?;
                Some(Met::Node { line: container == Container::File })
            }
            Word::Extern if self.word(self.pos + 1) == Some(Word::Crate) => {
                self.skip_past_semicolon()?;
                Some(Met::Node { line: container == Container::File })
            }
            Word::Const | Word::Static | Word::Type => {
                // `const X: T = …;`, `static mut X: T = …;`, `type X = …;` (items in blocks
                // of their values are found); `const { … }` and `static ||` are expressions.
                let next = self.pos + 1;
                let named = self.word(next).is_some_and(Word::can_name)
                    || (word == Word::Static
                        && self.word(next) == Some(Word::Keyword)
                        && self.text(next) == b"mut");
                if !named {
                    return not_an_item(self);
                }
                self.pos += 1;
                self.region(b';')?;
                self.pos += 1;
                Some(Met::Node { line: false })
            }
            Word::MacroRules if self.is(self.pos + 1, b'!') => {
                if !self.word(self.pos + 2).is_some_and(|w| w != Word::Keyword) {
                    return None;
                }
                self.pos += 3;
                self.macro_body()?;
                Some(Met::Node { line: false })
            }
            _ if in_block => not_an_item(self),
            _ => None,
        }
    }

    /// Whether a function's qualifiers or `fn` stand at `at` (after `const` or `default`).
    fn starts_function(&self, at: usize) -> bool {
        matches!(self.word(at), Some(Word::Fn | Word::Unsafe | Word::Async | Word::Extern | Word::Const))
    }

    /// A path whose last word names a macro, then `!` and a bracket.
    fn starts_macro_call(&self, from: usize) -> bool {
        let (end, last) = self.path(from, self.tokens.len());
        let segments_ok = (from..end).all(|t| {
            self.word(t)
                .is_none_or(|w| w.can_name() || matches!(w, Word::Crate | Word::SelfValue | Word::Super))
        });
        segments_ok
            && last.is_some_and(|l| self.word(l).is_some_and(Word::can_name))
            && self.is(end, b'!')
            && matches!(self.kind(end + 1), Some(Kind::Punct(b'(' | b'[' | b'{')))
    }

    /// A macro's token tree at `self.pos`, and the `;` a parenthesised or bracketed one needs.
    fn macro_body(&mut self) -> Option<()> {
        let brace = self.is(self.pos, b'{');
        if !matches!(self.kind(self.pos), Some(Kind::Punct(b'(' | b'[' | b'{'))) {
            return None;
        }
        self.skip_group()?;
        if !brace {
            if !self.is(self.pos, b';') {
                return None;
            }
            self.pos += 1;
        }
        Some(())
    }

    /// `<…>` at `self.pos`, to after its `>`.
    fn skip_angles(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.kind(self.pos)? {
                Kind::Punct(b'<') => depth += 1,
                Kind::Punct(b'>') if !self.is_arrow_head(self.pos) => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        self.pos += 1;
                        return Some(());
                    }
                }
                Kind::Punct(b'(' | b'[' | b'{') => {
                    self.skip_group()?;
                    continue;
                }
                Kind::Punct(b')' | b']' | b'}' | b';') => return None,
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// An item's header (generics, parameters, return type, bounds, where clause), up to the
    /// first of `ends` outside brackets (left at `self.pos`). Returns whether it is a `{`.
    fn header(&mut self, ends: &[u8]) -> Option<bool> {
        let mut angles = 0usize;
        // In a where clause, `(` belongs to a bound (`F: Fn(T)`), never ends it.
        let mut in_where = false;
        loop {
            let kind = self.kind(self.pos)?;
            if let Kind::Punct(c) = kind {
                if angles == 0 && ends.contains(&c) && !(in_where && c == b'(') {
                    return Some(c == b'{');
                }
            }
            match kind {
                Kind::Word(Word::Where) if angles == 0 => in_where = true,
                Kind::Punct(b'<') => angles += 1,
                Kind::Punct(b'>') if !self.is_arrow_head(self.pos) => angles = angles.checked_sub(1)?,
                Kind::Punct(b'(' | b'[' | b'{') => {
                    self.skip_group()?;
                    continue;
                }
                Kind::Punct(b')' | b']' | b'}' | b';') => return None,
                Kind::Punct(b'=') if angles == 0 => return None,
                // No item keyword stands in a header (`impl Trait` does, in a signature's types).
                Kind::Word(Word::Struct | Word::Enum | Word::Trait | Word::Mod) if angles == 0 => {
                    return None
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// A function's `{ … }` at `self.pos`, to after its `}`.
    fn block_body(&mut self) -> Option<()> {
        self.pos += 1;
        self.region(b'}')?;
        self.pos += 1;
        Some(())
    }

    /// From `self.pos` to the next `;` at this level, consumed.
    fn skip_past_semicolon(&mut self) -> Option<()> {
        loop {
            match self.kind(self.pos)? {
                Kind::Punct(b';') => {
                    self.pos += 1;
                    return Some(());
                }
                Kind::Punct(b'(' | b'[' | b'{') => self.skip_group()?,
                Kind::Punct(b')' | b']' | b'}') => return None,
                _ => self.pos += 1,
            }
        }
    }

    /// Code that is no list of items (a body of statements, a value, a list of fields), up to
    /// `close` at its own level (left at `self.pos`). Items stand where statements start: after
    /// `{`, `;` or `}`, and after attributes there.
    fn region(&mut self, close: u8) -> Option<()> {
        let mut open: Vec<u8> = Vec::new();
        let mut statement_start = close == b'}';
        let mut tried = usize::MAX;
        loop {
            let kind = self.kind(self.pos)?;
            match kind {
                Kind::Punct(c) if open.is_empty() && c == close => return Some(()),
                Kind::Punct(b'{') => {
                    open.push(b'}');
                    statement_start = true;
                }
                Kind::Punct(b'(') => {
                    open.push(b')');
                    statement_start = false;
                }
                Kind::Punct(b'[') => {
                    open.push(b']');
                    statement_start = false;
                }
                Kind::Punct(c @ (b')' | b']' | b'}')) => {
                    if open.pop()? != c {
                        return None;
                    }
                    statement_start = c == b'}';
                }
                Kind::Punct(b';') => statement_start = true,
                Kind::Punct(b'#') if self.is_attribute(self.pos) => {
                    if !statement_start {
                        self.pos += 1;
                        if self.is(self.pos, b'!') {
                            self.pos += 1;
                        }
                        self.skip_group()?;
                        continue;
                    }
                    let mut run = Run::default();
                    while self.is_attribute(self.pos) {
                        let inner = self.is(self.pos + 1, b'!');
                        self.attribute(&mut run)?;
                        if inner {
                            run = Run::default();
                        }
                    }
                    if self.word(self.pos).is_some() {
                        tried = self.pos;
                        self.item(Container::Block, run)?;
                    }
                    continue;
                }
                Kind::Word(word) => {
                    if statement_start && tried != self.pos {
                        tried = self.pos;
                        if self.item(Container::Block, Run::default())? != Met::Statement {
                            continue;
                        }
                    }
                    // Tried once per path, from its first word (so `a::b::…` costs its length).
                    let path_start =
                        !(self.is(self.pos.wrapping_sub(1), b':') && self.is(self.pos.wrapping_sub(2), b':'));
                    if word != Word::MacroRules && path_start && self.starts_macro_call(self.pos) {
                        while !self.is(self.pos, b'!') {
                            self.pos += 1;
                        }
                        self.pos += 1;
                        let brace = self.is(self.pos, b'{');
                        self.skip_group()?;
                        statement_start = brace;
                        continue;
                    }
                    // A keyword that only starts an item, where no statement starts.
                    let item_word = match word {
                        Word::Struct | Word::Enum | Word::Trait | Word::Mod | Word::Impl => true,
                        Word::Fn | Word::Union => self.word(self.pos + 1).is_some_and(Word::can_name),
                        Word::MacroRules => self.is(self.pos + 1, b'!'),
                        _ => false,
                    };
                    if item_word {
                        return None;
                    }
                    statement_start = false;
                }
                _ => statement_start = false,
            }
            self.pos += 1;
        }
    }

    fn push(&mut self, found: Found) -> usize {
        self.items.push(found);
        self.items.len() - 1
    }

    /// The item at `index` ends where the parser stands.
    fn finish(&mut self, index: usize) {
        self.items[index].end = self.end(self.pos - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(ItemKind, String, bool)> {
        let scanned = scan(text).expect("scanned");
        scanned.items.iter().map(|f| (f.kind, text[f.name.0..f.name.1].to_string(), f.test)).collect()
    }

    #[test]
    fn items_in_bodies_and_not_in_macros() {
        let text = "#[cfg(test)]\nmod tests {\n    #[test]\n    fn a() { fn inner() {} let f: fn(u8) = x; }\n    \
                    quote! { fn not_an_item() {} }\n}\nimpl<T> Tr for Vec<T> where T: X { fn m(&self) -> impl Fn() -> u8 { y } }\n";
        assert_eq!(
            names(text),
            [
                (ItemKind::Module, "tests".into(), true),
                (ItemKind::Test, "a".into(), true),
                (ItemKind::Function, "inner".into(), false),
                (ItemKind::Impl, "Vec<T>".into(), false),
                (ItemKind::Method, "m".into(), false),
            ]
        );
    }

    #[test]
    fn doubt_gives_up() {
        for text in [
            "fn a() { let x = fn b() {}; }",
            "fn a() { \"unclosed }",
            "fn a() { } }",
            "fn \u{e9}() {}",
            "#!/usr/bin/env run\nfn a() {}",
            "trait A = B;",
            "fn a() { let s = r#\"unclosed }\"; }",
        ] {
            assert!(scan(text).is_none(), "{text}");
        }
        // Items nested deeper than the parser's stack allows go to tree-sitter.
        let nested =
            |depth: usize| format!("fn a() {{ {}{} }}", "mod m { ".repeat(depth), "} ".repeat(depth));
        assert!(scan(&nested(100)).is_some());
        assert!(scan(&nested(300)).is_none());
    }
}
