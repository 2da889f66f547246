//! Comments and traceable items (functions, methods, classes, tests, ...) of one source file,
//! found with tree-sitter and the queries in `queries/<language>/{comments,items}.scm` (or, for
//! Rust, by a scanner that finds the same without a parse: `rust_scan.rs`).
//!
//! Pure: no file I/O except reading override query files from a directory the caller names.
//! Offsets are bytes into the text given to [`parse`].

mod layout;
mod queries;
mod rust_scan;
mod skip;
#[cfg(test)]
mod tests;
mod walk;

use std::cell::RefCell;
use std::collections::HashMap;

use tree_sitter::{Node, Parser, QueryCursor, StreamingIterator};

use queries::Role;
pub use queries::{Queries, QueryError};

/// A language with a grammar and queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Rust,
    Python,
    TypeScript,
    Tsx,
    JavaScript,
    Go,
    Java,
    C,
    Cpp,
}

impl Language {
    /// Every language, in declaration order.
    pub const ALL: [Language; 9] = [
        Language::Rust,
        Language::Python,
        Language::TypeScript,
        Language::Tsx,
        Language::JavaScript,
        Language::Go,
        Language::Java,
        Language::C,
        Language::Cpp,
    ];

    /// The language of a file, by its extension (case-insensitive): the parser of its row in
    /// [`crate::languages::LANGUAGES`].
    pub fn from_path(path: &str) -> Option<Language> {
        crate::languages::of_path(path)?.parser
    }

    /// Its row in [`GRAMMARS`].
    pub(crate) fn grammar_row(self) -> &'static Grammar {
        &GRAMMARS[self as usize]
    }

    /// The folder of its queries under `queries/` (and under an override directory).
    pub fn query_folder(self) -> &'static str {
        self.grammar_row().query_folder
    }

    /// The language's name.
    pub fn name(self) -> &'static str {
        self.grammar_row().name
    }

    /// The inverse of [`Language::name`].
    pub fn from_name(name: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|language| language.name() == name)
    }

    /// The marker of a line comment (`#` for Python, `//` for the others), from its row in
    /// [`crate::languages::LANGUAGES`].
    pub fn line_comment(self) -> &'static str {
        crate::languages::LANGUAGES
            .iter()
            .find(|spec| spec.parser == Some(self))
            .map_or("//", |spec| spec.comment.open)
    }

    fn grammar(self) -> tree_sitter::Language {
        (self.grammar_row().grammar)()
    }
}

/// How a family of languages lays out items, comments, visibility and the preamble: the rules
/// the queries do not express (see `layout.rs`). A new language with the syntax of an existing
/// family needs only a row in [`GRAMMARS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Rust,
    Python,
    /// JavaScript, TypeScript and TSX.
    EcmaScript,
    Go,
    Java,
    C,
    Cpp,
}

/// A parsed language: everything the parser needs, in one row.
pub(crate) struct Grammar {
    pub(crate) name: &'static str,
    /// Under `queries/` and an override directory.
    pub(crate) query_folder: &'static str,
    pub(crate) grammar: fn() -> tree_sitter::Language,
    /// The builtin `comments.scm` and `items.scm`.
    pub(crate) queries: (&'static str, &'static str),
    pub(crate) family: Family,
    /// A walk that finds what the builtin queries find, at less cost (see `walk.rs`).
    pub(crate) walk: Option<walk::Walk>,
}

macro_rules! builtin_queries {
    ($folder:literal) => {
        (
            include_str!(concat!("../../../queries/", $folder, "/comments.scm")),
            include_str!(concat!("../../../queries/", $folder, "/items.scm")),
        )
    };
}

/// One row per [`Language`], in the order of [`Language::ALL`] (a test checks it). The file
/// extensions of each are in [`crate::languages::LANGUAGES`]. TSX is TypeScript with JSX: its
/// grammar has the same nodes for comments and items, so it shares TypeScript's queries.
pub(crate) const GRAMMARS: [Grammar; 9] = [
    Grammar {
        name: "rust",
        query_folder: "rust",
        grammar: || tree_sitter_rust::LANGUAGE.into(),
        queries: builtin_queries!("rust"),
        family: Family::Rust,
        walk: Some(walk::rust),
    },
    Grammar {
        name: "python",
        query_folder: "python",
        grammar: || tree_sitter_python::LANGUAGE.into(),
        queries: builtin_queries!("python"),
        family: Family::Python,
        walk: None,
    },
    Grammar {
        name: "typescript",
        query_folder: "typescript",
        grammar: || tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        queries: builtin_queries!("typescript"),
        family: Family::EcmaScript,
        walk: None,
    },
    Grammar {
        name: "tsx",
        query_folder: "typescript",
        grammar: || tree_sitter_typescript::LANGUAGE_TSX.into(),
        queries: builtin_queries!("typescript"),
        family: Family::EcmaScript,
        walk: None,
    },
    Grammar {
        name: "javascript",
        query_folder: "javascript",
        grammar: || tree_sitter_javascript::LANGUAGE.into(),
        queries: builtin_queries!("javascript"),
        family: Family::EcmaScript,
        walk: None,
    },
    Grammar {
        name: "go",
        query_folder: "go",
        grammar: || tree_sitter_go::LANGUAGE.into(),
        queries: builtin_queries!("go"),
        family: Family::Go,
        walk: None,
    },
    Grammar {
        name: "java",
        query_folder: "java",
        grammar: || tree_sitter_java::LANGUAGE.into(),
        queries: builtin_queries!("java"),
        family: Family::Java,
        walk: None,
    },
    Grammar {
        name: "c",
        query_folder: "c",
        grammar: || tree_sitter_c::LANGUAGE.into(),
        queries: builtin_queries!("c"),
        family: Family::C,
        walk: None,
    },
    Grammar {
        name: "cpp",
        query_folder: "cpp",
        grammar: || tree_sitter_cpp::LANGUAGE.into(),
        queries: builtin_queries!("cpp"),
        family: Family::Cpp,
        walk: None,
    },
];

/// A comment (or Python docstring), as a byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
}

/// What an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Function,
    Method,
    Class,
    Struct,
    Impl,
    Trait,
    Interface,
    Enum,
    Test,
    Module,
}

impl ItemKind {
    /// The lowercase name, as used in query capture names (`@item.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Function => "function",
            ItemKind::Method => "method",
            ItemKind::Class => "class",
            ItemKind::Struct => "struct",
            ItemKind::Impl => "impl",
            ItemKind::Trait => "trait",
            ItemKind::Interface => "interface",
            ItemKind::Enum => "enum",
            ItemKind::Test => "test",
            ItemKind::Module => "module",
        }
    }

    /// The inverse of [`ItemKind::name`].
    pub fn from_name(name: &str) -> Option<ItemKind> {
        Some(match name {
            "function" => ItemKind::Function,
            "method" => ItemKind::Method,
            "class" => ItemKind::Class,
            "struct" => ItemKind::Struct,
            "impl" => ItemKind::Impl,
            "trait" => ItemKind::Trait,
            "interface" => ItemKind::Interface,
            "enum" => ItemKind::Enum,
            "test" => ItemKind::Test,
            "module" => ItemKind::Module,
            _ => return None,
        })
    }

    fn is_callable(self) -> bool {
        matches!(self, ItemKind::Function | ItemKind::Method | ItemKind::Test)
    }
}

impl std::fmt::Display for ItemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A traceable item: a function, method, type, module or test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    pub name: String,
    /// The whole item (the definition node; Python decorators and Rust attributes lie before it).
    pub start: usize,
    pub end: usize,
    pub name_start: usize,
    pub name_end: usize,
    /// Index (into [`ParsedFile::items`]) of the innermost item enclosing this one.
    pub parent: Option<usize>,
    /// A test, or code inside a test (a helper in a `#[cfg(test)]` module or a `Test*` class).
    pub is_test: bool,
    /// Visible outside its file or module: Rust `pub`, a capitalised Go name, Java `public`,
    /// an exported JS/TS declaration or a class member that is not private, a Python name
    /// without a leading `_`, a C/C++ definition that is not `static` (nor private/protected).
    /// Items local to a function are never public.
    pub is_public: bool,
    /// Indexes into [`ParsedFile::comments`], in order: the block of comments directly above
    /// the item (attributes, decorators and doc comments may stand between them), then a Python
    /// docstring.
    pub leading_comments: Vec<usize>,
    /// Indexes of every comment attributed to this item, in order: its leading comments and
    /// docstring, and the comments in its body that are not attributed to an item inside it.
    /// What they name traces this item (and, through it, what it contains), nothing else.
    pub comments: Vec<usize>,
    /// The whitespace that indents the line at `insert_at`.
    pub indent: String,
    /// Start of the line where a new comment above the item goes: above its decorators or
    /// attributes, below any comments already there.
    pub insert_at: usize,
}

/// The comments and items of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedFile {
    pub language: Language,
    /// Sorted by position, without overlaps.
    pub comments: Vec<Comment>,
    /// Sorted by start; an enclosing item comes before the items inside it.
    pub items: Vec<Item>,
    /// Indexes of the comments of the file header: the comments of the preamble (before the
    /// first node that is not a comment, package, import or include line, or a Python module
    /// docstring) that lead no item. They trace every item of the file.
    pub header: Vec<usize>,
    /// The parse met syntax errors; what it found is still reported. A body left out of the
    /// parse (see `skip.rs`) is not checked for errors.
    pub had_errors: bool,
}

thread_local! {
    static PARSER: RefCell<Parser> = RefCell::new(Parser::new());
}

/// Finds the comments and items of `text`. Never panics: on syntax errors it returns what
/// the error-tolerant parse still recognises.
pub fn parse(queries: &Queries, language: Language, text: &str) -> ParsedFile {
    parse_with_shortcuts(
        queries,
        language,
        text,
        Shortcuts { leave_out_bodies: true, walk: true, scan: true },
    )
}

/// What [`parse`] may do to save time; the tests compare each with doing without it.
#[derive(Clone, Copy, Debug)]
struct Shortcuts {
    /// Leave bodies that hold no item out of the parse (`skip.rs`).
    leave_out_bodies: bool,
    /// Walk the tree instead of running the builtin queries (`walk.rs`).
    walk: bool,
    /// Find Rust's items without a tree (`rust_scan.rs`), unless the scanner is unsure.
    scan: bool,
}

fn parse_with_shortcuts(
    queries: &Queries,
    language: Language,
    text: &str,
    shortcuts: Shortcuts,
) -> ParsedFile {
    let Shortcuts { leave_out_bodies, walk: use_walk, scan } = shortcuts;
    // Before the queries are compiled: a process whose Rust files all scan never needs them.
    if scan && language.grammar_row().family == Family::Rust && queries.all_builtin(language) {
        if let Some(scanned) = rust_scan::scan(text) {
            return from_scan(language, text, scanned);
        }
    }
    let lang = queries.get(language);
    // Bodies that hold no item are left out of the parse, with the builtin item queries only
    // (an override may capture what is inside them). A parse of the rest that meets a syntax
    // error is redone whole: the lexer may have misjudged the file.
    let included = skip::rules(language.grammar_row().family)
        .filter(|_| leave_out_bodies && lang.builtin_items)
        .and_then(|rules| skip::included_ranges(rules, text));
    let tree = PARSER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut parser) => parse_with(&mut parser, &lang.grammar, text, included.as_deref()),
        Err(_) => parse_with(&mut Parser::new(), &lang.grammar, text, included.as_deref()),
    });
    let tree = match tree {
        Some(tree) if included.is_some() && tree.root_node().has_error() => {
            PARSER.with(|cell| match cell.try_borrow_mut() {
                Ok(mut parser) => parse_with(&mut parser, &lang.grammar, text, None),
                Err(_) => parse_with(&mut Parser::new(), &lang.grammar, text, None),
            })
        }
        tree => tree,
    };
    let Some(tree) = tree else {
        return ParsedFile {
            language,
            comments: Vec::new(),
            items: Vec::new(),
            header: Vec::new(),
            had_errors: true,
        };
    };
    let root = tree.root_node();
    let walked = match language.grammar_row().walk {
        Some(walk) if lang.builtin_items && lang.builtin_comments && use_walk => walk(root, text.as_bytes()),
        _ => by_query(lang, root, text),
    };

    let mut found = walked.comments;
    found.sort_unstable();
    found.dedup_by_key(|c| c.0);
    let mut last_end = 0;
    found.retain(|c| {
        let keep = c.0 >= last_end && c.1 > c.0;
        if keep {
            last_end = c.1;
        }
        keep
    });
    let comments: Vec<Comment> = found.iter().map(|&(start, end, _)| Comment { start, end }).collect();
    let is_string: Vec<bool> = found.iter().map(|c| c.2).collect();

    let mut candidates = walked.items;
    // Stable: nodes with one range keep the order they were found in.
    candidates.sort_by_key(|c| (c.0.start_byte(), std::cmp::Reverse(c.0.end_byte())));
    let spec = layout::Spec::of(language.grammar_row().family);
    let targets: Vec<Node> = candidates.iter().map(|c| c.0).collect();
    let contexts = layout::contexts(&spec, text, root, &targets);

    let drafts: Vec<Draft> = candidates
        .iter()
        .zip(&contexts)
        .map(|(&(node, name_node, kind, test), context)| Draft {
            kind,
            test,
            start: node.start_byte(),
            end: node.end_byte(),
            name: (name_node.start_byte(), name_node.end_byte()),
            outer_start: context.outer.start_byte(),
            attributes: context.attributes(),
        })
        .collect();
    let family = language.grammar_row().family;
    let mut items = place_items(
        text,
        &spec,
        (&comments, &is_string),
        &drafts,
        |i| if spec.docstrings { layout::docstring(targets[i], &comments) } else { None },
        |i, name, parent| {
            let parent = parent.map(|(p, at)| (p, targets[at]));
            layout::is_public(family, text, targets[i], &contexts[i], name, parent)
        },
    );

    let header = attribute(&mut items, &comments, layout::preamble_end(language.grammar_row().family, root));
    ParsedFile { language, comments, items, header, had_errors: root.has_error() }
}

/// A file's items as [`rust_scan`] found them, laid out as for a parse.
fn from_scan(language: Language, text: &str, scanned: rust_scan::Scanned) -> ParsedFile {
    let rust_scan::Scanned { comments, items: found, preamble_end } = scanned;
    let is_string = vec![false; comments.len()];
    let drafts: Vec<Draft> = found
        .iter()
        .map(|f| Draft {
            kind: f.kind,
            test: f.test,
            start: f.start,
            end: f.end,
            name: f.name,
            outer_start: f.start,
            attributes: f.attributes,
        })
        .collect();
    // As `layout::is_public` says for Rust: an impl has no visibility; a trait's items have the
    // trait's, a trait impl's items are public.
    let is_public = |i: usize, _: &str, parent: Option<(&Item, usize)>| {
        let f = &found[i];
        match parent {
            _ if f.kind == ItemKind::Impl => false,
            _ if f.own_pub => true,
            Some((p, _)) if p.kind == ItemKind::Trait => p.is_public,
            Some((p, at)) if p.kind == ItemKind::Impl => found[at].trait_impl,
            _ => false,
        }
    };
    let spec = layout::Spec::of(Family::Rust);
    let mut items = place_items(text, &spec, (&comments, &is_string), &drafts, |_| None, is_public);
    let header = attribute(&mut items, &comments, preamble_end);
    ParsedFile { language, comments, items, header, had_errors: false }
}

/// An item as the parse or the scanner found it, before it is placed among the others.
struct Draft {
    kind: ItemKind,
    test: bool,
    start: usize,
    end: usize,
    name: (usize, usize),
    /// Where the node that carries its comments starts: a wrapper that holds only the item
    /// (`export`, a decorated definition), or the item.
    outer_start: usize,
    /// The attributes or decorators directly before that node: where the first starts and
    /// the last ends.
    attributes: Option<(usize, usize)>,
}

/// Items from `drafts` (sorted by start, enclosing ones first): each with its parent, the
/// comments that lead it (and its `docstring`), where a new comment goes, whether it is test
/// code and whether it is public (`is_public(draft, name, parent and its draft)`; nothing
/// inside a function is). `comments` come with whether each is a string (a docstring).
fn place_items(
    text: &str,
    spec: &layout::Spec,
    (comments, is_string): (&[Comment], &[bool]),
    drafts: &[Draft],
    docstring: impl Fn(usize) -> Option<usize>,
    is_public: impl Fn(usize, &str, Option<(&Item, usize)>) -> bool,
) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::with_capacity(drafts.len());
    let mut stack: Vec<usize> = Vec::new();
    for (i, draft) in drafts.iter().enumerate() {
        let parent = enclosing(&items, &mut stack, draft.start, draft.end);
        let mut leading_comments =
            layout::comments_above(spec, text, comments, is_string, draft.outer_start, draft.attributes);
        leading_comments.extend(docstring(i));
        let insert_at =
            layout::line_start(text, draft.attributes.map_or(draft.outer_start, |(first, _)| first));
        let name = layout::name_text(text, draft.name.0..draft.name.1);
        let parent_item = parent.map(|p| (&items[p], p));
        let is_public =
            parent_item.is_none_or(|(p, _)| !p.kind.is_callable()) && is_public(i, &name, parent_item);
        items.push(Item {
            kind: draft.kind,
            name,
            start: draft.start,
            end: draft.end,
            name_start: draft.name.0,
            name_end: draft.name.1,
            parent,
            is_test: draft.test || parent.is_some_and(|p| items[p].is_test),
            is_public,
            leading_comments,
            comments: Vec::new(),
            indent: layout::indent_at(text, insert_at),
            insert_at,
        });
        stack.push(items.len() - 1);
    }
    items
}

/// The comments and items the language's queries capture, by the query cursor. A node
/// captured by several patterns is one item: a test capture wins, then `method`, then the
/// earlier pattern. Items come in tree order; among nodes with one range, in pattern order.
fn by_query<'t>(lang: &queries::LanguageQueries, root: Node<'t>, text: &str) -> walk::Walked<'t> {
    struct Candidate<'t> {
        node: Node<'t>,
        name: Node<'t>,
        kind: ItemKind,
        test: bool,
        pattern: usize,
        /// Order of discovery, to break ties deterministically.
        seq: usize,
    }
    let rank = |c: &Candidate| (c.test, c.kind == ItemKind::Method, std::cmp::Reverse(c.pattern));
    let mut by_node: HashMap<usize, Candidate> = HashMap::new();
    let mut comments: Vec<(usize, usize, bool)> = Vec::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&lang.query, root, text.as_bytes());
    while let Some(m) = matches.next() {
        if m.pattern_index < lang.comment_patterns {
            for capture in m.captures() {
                if lang.roles.get(capture.index as usize) == Some(&Role::Comment) {
                    let node = capture.node;
                    comments.push((node.start_byte(), node.end_byte(), node.kind() == "string"));
                }
            }
            continue;
        }
        let mut item = None;
        let mut name = None;
        for capture in m.captures() {
            match lang.roles.get(capture.index as usize) {
                Some(&Role::Item { kind, test }) if item.is_none() => item = Some((capture.node, kind, test)),
                Some(Role::Name) if name.is_none() => name = Some(capture.node),
                _ => {}
            }
        }
        let (Some((node, kind, test)), Some(name)) = (item, name) else { continue };
        let candidate = Candidate { node, name, kind, test, pattern: m.pattern_index, seq: by_node.len() };
        match by_node.get(&node.id()) {
            Some(old) if rank(old) >= rank(&candidate) => {}
            _ => {
                by_node.insert(node.id(), candidate);
            }
        }
    }
    let mut candidates: Vec<Candidate> = by_node.into_values().collect();
    candidates.sort_unstable_by_key(|c| {
        (c.node.start_byte(), std::cmp::Reverse(c.node.end_byte()), c.pattern, c.seq)
    });
    let items = candidates.into_iter().map(|c| (c.node, c.name, c.kind, c.test)).collect();
    walk::Walked { comments, items }
}

/// The innermost item on `stack` (enclosing items, outermost first) that holds `start..end`;
/// the ones that end before it are popped.
fn enclosing(items: &[Item], stack: &mut Vec<usize>, start: usize, end: usize) -> Option<usize> {
    while let Some(&top) = stack.last() {
        if items[top].start <= start && end <= items[top].end {
            return Some(top);
        }
        stack.pop();
    }
    None
}

/// Gives each comment to one owner: the item it leads, else the innermost item containing it,
/// else the file header when it lies in the preamble (before `preamble_end`). Fills
/// [`Item::comments`] and returns the header's comments.
fn attribute(items: &mut [Item], comments: &[Comment], preamble_end: usize) -> Vec<usize> {
    let mut owner: Vec<Option<usize>> = vec![None; comments.len()];
    for (i, item) in items.iter().enumerate() {
        for &c in &item.leading_comments {
            owner[c].get_or_insert(i);
        }
    }
    let mut header = Vec::new();
    for (c, comment) in comments.iter().enumerate() {
        if owner[c].is_none() {
            owner[c] = innermost(items, comment.start, comment.end);
        }
        match owner[c] {
            Some(i) => items[i].comments.push(c),
            None if comment.end <= preamble_end => header.push(c),
            None => {}
        }
    }
    header
}

/// The innermost item whose range holds `start..end`. Items are sorted by start with each
/// parent before its children, so it is the last item starting at or before `start` or one
/// of its ancestors.
fn innermost(items: &[Item], start: usize, end: usize) -> Option<usize> {
    let mut at = items.partition_point(|item| item.start <= start).checked_sub(1);
    while let Some(i) = at {
        if end <= items[i].end {
            return Some(i);
        }
        at = items[i].parent;
    }
    None
}

impl ParsedFile {
    /// The innermost item whose range holds the bytes `start..end` (an ID outside comments,
    /// when any occurrence traces).
    pub fn innermost_item(&self, start: usize, end: usize) -> Option<usize> {
        innermost(&self.items, start, end)
    }
}

fn parse_with(
    parser: &mut Parser,
    grammar: &tree_sitter::Language,
    text: &str,
    included: Option<&[(usize, usize)]>,
) -> Option<tree_sitter::Tree> {
    parser.set_language(grammar).ok()?;
    let ranges = included.map(|ranges| to_ts_ranges(text, ranges)).unwrap_or_default();
    // An empty list is the whole text; the parser is reused, so it is always set.
    if parser.set_included_ranges(&ranges).is_err() {
        parser.set_included_ranges(&[]).ok()?;
    }
    parser.parse(text, None)
}

/// Byte ranges as tree-sitter ranges, with their rows and byte columns.
fn to_ts_ranges(text: &str, ranges: &[(usize, usize)]) -> Vec<tree_sitter::Range> {
    let bytes = text.as_bytes();
    let (mut row, mut line_start, mut scanned) = (0usize, 0usize, 0usize);
    let mut point = |offset: usize| {
        for (i, &b) in bytes[scanned..offset].iter().enumerate() {
            if b == b'\n' {
                row += 1;
                line_start = scanned + i + 1;
            }
        }
        scanned = offset;
        tree_sitter::Point { row, column: offset - line_start }
    };
    ranges
        .iter()
        .map(|&(start, end)| {
            let start_point = point(start);
            let end_point = point(end);
            tree_sitter::Range { start_byte: start, end_byte: end, start_point, end_point }
        })
        .collect()
}
