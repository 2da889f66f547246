//! The tree-sitter queries that find comments and items: the builtin `.scm` files, overrides
//! from a directory, and the check of their capture names against the contract.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use tree_sitter::{CaptureQuantifier, Query, QueryErrorKind};

use super::{ItemKind, Language};

/// The two query files of a language.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum QueryFile {
    Comments,
    Items,
}

impl QueryFile {
    fn file_name(self) -> &'static str {
        match self {
            QueryFile::Comments => "comments.scm",
            QueryFile::Items => "items.scm",
        }
    }
}

/// A query file that does not compile or breaks the capture-name contract.
///
/// `line` and `column` are 1-based (the column counts characters); both are 0 when the error
/// has no position (a file that cannot be read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for QueryError {}

/// What a capture of a query stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Role {
    /// A helper capture (`@_x`), or a name the module does not use.
    Ignore,
    Comment,
    Name,
    Item {
        kind: ItemKind,
        test: bool,
    },
}

pub(super) struct LanguageQueries {
    pub(super) grammar: tree_sitter::Language,
    /// comments.scm and items.scm compiled as one query, so one pass over the tree finds both.
    pub(super) query: Query,
    /// The role of each capture, indexed by capture index.
    pub(super) roles: Vec<Role>,
    /// Patterns below this index come from comments.scm, the rest from items.scm.
    pub(super) comment_patterns: usize,
    /// items.scm is the builtin one (what it can capture is known: see `skip.rs`).
    pub(super) builtin_items: bool,
    /// comments.scm is the builtin one (with `builtin_items`, a walk may stand in: `walk.rs`).
    pub(super) builtin_comments: bool,
}

/// The compiled comment and item queries of every language. Build it once and share it: it is
/// `Send + Sync`. A language's builtin queries are compiled on its first use (tens of
/// milliseconds for the larger grammars), once per process.
pub struct Queries {
    slots: Vec<Slot>,
}

enum Slot {
    /// The builtin queries, compiled on first use.
    Lazy(OnceLock<LanguageQueries>),
    /// The builtin queries, taken from [`Queries::builtin`].
    Shared,
    /// Queries from an override directory.
    Own(Box<LanguageQueries>),
}

impl fmt::Debug for Queries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let overridden: Vec<&str> = Language::ALL
            .iter()
            .zip(&self.slots)
            .filter(|(_, slot)| matches!(slot, Slot::Own(_)))
            .map(|(language, _)| language.name())
            .collect();
        f.debug_struct("Queries").field("overridden", &overridden).finish()
    }
}

impl Queries {
    /// The queries shipped in `queries/`.
    pub fn builtin() -> &'static Queries {
        static BUILTIN_QUERIES: OnceLock<Queries> = OnceLock::new();
        BUILTIN_QUERIES.get_or_init(|| Queries {
            slots: Language::ALL.iter().map(|_| Slot::Lazy(OnceLock::new())).collect(),
        })
    }

    /// The builtin queries, with any `<dir>/<language>/comments.scm` or `items.scm` replacing
    /// the builtin file of that language (`<language>` is [`Language::name`]). Every language
    /// with an override file is compiled now, so a bad file is reported here.
    pub fn with_overrides(dir: &Path) -> Result<Queries, QueryError> {
        if !dir.is_dir() {
            return Err(QueryError {
                file: dir.display().to_string(),
                line: 0,
                column: 0,
                message: "the query override directory does not exist".to_string(),
            });
        }
        let mut slots = Vec::with_capacity(Language::ALL.len());
        for language in Language::ALL {
            let comments = read_override(dir, language, QueryFile::Comments)?;
            let items = read_override(dir, language, QueryFile::Items)?;
            if comments.is_none() && items.is_none() {
                slots.push(Slot::Shared);
                continue;
            }
            let (own_comments, own_items) = (comments.is_some(), items.is_some());
            let comments = comments.unwrap_or_else(|| builtin_source(language, QueryFile::Comments));
            let items = items.unwrap_or_else(|| builtin_source(language, QueryFile::Items));
            let mut compiled = compile(language.grammar(), (&comments.0, &comments.1), (&items.0, &items.1))?;
            compiled.builtin_items = !own_items;
            compiled.builtin_comments = !own_comments;
            slots.push(Slot::Own(Box::new(compiled)));
        }
        Ok(Queries { slots })
    }

    /// Both query files of `language` are the builtin ones: known without compiling them.
    pub(super) fn all_builtin(&self, language: Language) -> bool {
        match &self.slots[language as usize] {
            Slot::Lazy(_) | Slot::Shared => true,
            Slot::Own(compiled) => compiled.builtin_items && compiled.builtin_comments,
        }
    }

    pub(super) fn get(&self, language: Language) -> &LanguageQueries {
        match &self.slots[language as usize] {
            Slot::Lazy(cell) => cell.get_or_init(|| {
                let comments = builtin_source(language, QueryFile::Comments);
                let items = builtin_source(language, QueryFile::Items);
                compile(language.grammar(), (&comments.0, &comments.1), (&items.0, &items.1))
                    // The module's tests compile every builtin file: this cannot fail in a
                    // build whose tests pass.
                    .unwrap_or_else(|err| panic!("builtin query does not compile: {err}"))
            }),
            Slot::Shared => Queries::builtin().get(language),
            Slot::Own(compiled) => compiled,
        }
    }
}

/// The text and the path of an override file, or `None` when there is none.
fn read_override(
    dir: &Path,
    language: Language,
    file: QueryFile,
) -> Result<Option<(std::borrow::Cow<'static, str>, String)>, QueryError> {
    let path = dir.join(language.query_folder()).join(file.file_name());
    // The one reader: a FIFO, a device or a link there is refused instead of blocking the load.
    let read = crate::fsutil::read_regular(&path, crate::fsutil::DEFAULT_READ_CAP).and_then(|bytes| {
        String::from_utf8(bytes)
            .map_err(|_| crate::fsutil::ReadError::Io(std::io::Error::other("not UTF-8 text")))
    });
    match read {
        Ok(text) => Ok(Some((text.into(), path.display().to_string()))),
        Err(crate::fsutil::ReadError::Missing) => Ok(None),
        Err(err) => Err(QueryError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("the query file {err}"),
        }),
    }
}

fn builtin_source(language: Language, file: QueryFile) -> (std::borrow::Cow<'static, str>, String) {
    let (comments, items) = language.grammar_row().queries;
    let text = match file {
        QueryFile::Comments => comments,
        QueryFile::Items => items,
    };
    (text.into(), format!("queries/{}/{} (builtin)", language.query_folder(), file.file_name()))
}

/// 1-based line and character column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

fn error_at(file: &str, text: &str, offset: usize, message: String) -> QueryError {
    let (line, column) = position(text, offset);
    QueryError { file: file.to_string(), line, column, message }
}

/// A query file's text and the name to report it by.
type Source<'a> = (&'a str, &'a str);

fn compile(
    grammar: tree_sitter::Language,
    comments: Source,
    items: Source,
) -> Result<LanguageQueries, QueryError> {
    let shift = comments.0.len() + 1;
    let combined = format!("{}\n{}", comments.0, items.0);
    let query = match Query::new(&grammar, &combined) {
        Ok(query) => query,
        Err(err) => {
            // Name the file at fault: compile each alone (an unclosed parenthesis in
            // comments.scm would otherwise be reported inside items.scm).
            for (which, (text, file)) in [(QueryFile::Comments, comments), (QueryFile::Items, items)] {
                if let Err(err) = Query::new(&grammar, text) {
                    return Err(tree_sitter_error(&err, text, file, which));
                }
            }
            let (which, (text, file), offset) = if err.offset < shift {
                (QueryFile::Comments, comments, err.offset)
            } else {
                (QueryFile::Items, items, err.offset - shift)
            };
            return Err(tree_sitter_error(&tree_sitter::QueryError { offset, ..err }, text, file, which));
        }
    };
    let comment_patterns =
        (0..query.pattern_count()).take_while(|&p| query.start_byte_for_pattern(p) < shift).count();

    let mut roles = Vec::with_capacity(query.capture_names().len());
    for name in query.capture_names() {
        let role = role_of(name).ok_or_else(|| {
            let (text, file, which, offset) = match find_capture(comments.0, name) {
                Some(offset) => (comments.0, comments.1, QueryFile::Comments, offset),
                None => (items.0, items.1, QueryFile::Items, find_capture(items.0, name).unwrap_or(0)),
            };
            let allowed = match which {
                QueryFile::Comments => "@comment",
                QueryFile::Items => {
                    "@item, @item.<kind>, @item.<kind>.test, @item.test and @name, where <kind> is \
                     function, method, class, struct, impl, trait, interface, enum, test or module"
                }
            };
            error_at(
                file,
                text,
                offset,
                format!(
                    "unknown capture `@{name}`: {} uses {allowed}; helper captures start with `_`",
                    which.file_name()
                ),
            )
        })?;
        roles.push(role);
    }

    // Every pattern must capture what its file is for, and nothing meant for the other file.
    for pattern in 0..query.pattern_count() {
        let quantifiers = query.capture_quantifiers(pattern);
        let has = |wanted: fn(Role) -> bool| {
            roles.iter().zip(quantifiers).any(|(role, q)| wanted(*role) && *q != CaptureQuantifier::Zero)
        };
        let is_item = |r: Role| matches!(r, Role::Item { .. });
        let (text, file, offset, problem) = if pattern < comment_patterns {
            let problem = if !has(|r| r == Role::Comment) {
                Some("this pattern has no @comment capture")
            } else if has(is_item) || has(|r| r == Role::Name) {
                Some("@item and @name captures belong in items.scm")
            } else {
                None
            };
            (comments.0, comments.1, query.start_byte_for_pattern(pattern), problem)
        } else {
            let problem = if !has(is_item) {
                Some("this pattern has no @item.<kind> capture")
            } else if !has(|r| r == Role::Name) {
                Some("this pattern has no @name capture")
            } else if has(|r| r == Role::Comment) {
                Some("@comment captures belong in comments.scm")
            } else {
                None
            };
            (items.0, items.1, query.start_byte_for_pattern(pattern) - shift, problem)
        };
        if let Some(problem) = problem {
            return Err(error_at(file, text, offset, problem.to_string()));
        }
    }
    Ok(LanguageQueries {
        grammar,
        query,
        roles,
        comment_patterns,
        builtin_items: true,
        builtin_comments: true,
    })
}

fn tree_sitter_error(err: &tree_sitter::QueryError, text: &str, file: &str, which: QueryFile) -> QueryError {
    let detail = err.message.trim_end();
    let message = match err.kind {
        QueryErrorKind::Syntax => format!("query syntax error in {}:\n{detail}", which.file_name()),
        QueryErrorKind::NodeType => format!("no node type `{detail}` in this grammar"),
        QueryErrorKind::Field => format!("no field `{detail}` in this grammar"),
        QueryErrorKind::Capture => format!("unknown capture `@{detail}` in a predicate"),
        QueryErrorKind::Predicate => format!("invalid predicate: {detail}"),
        QueryErrorKind::Structure => {
            "impossible pattern: this grammar never nests these nodes that way".to_string()
        }
        QueryErrorKind::Language => format!("the grammar cannot be used: {detail}"),
    };
    error_at(file, text, err.offset, message)
}

fn role_of(name: &str) -> Option<Role> {
    if name.starts_with('_') {
        return Some(Role::Ignore);
    }
    match name {
        "comment" => return Some(Role::Comment),
        "name" => return Some(Role::Name),
        "item" => return Some(Role::Item { kind: ItemKind::Function, test: false }),
        _ => {}
    }
    let rest = name.strip_prefix("item.")?;
    let (kind, test) = match rest.strip_suffix(".test") {
        Some(kind) => (kind, true),
        None => (rest, rest == "test"),
    };
    Some(Role::Item { kind: ItemKind::from_name(kind)?, test })
}

/// Byte offset of the first `@name` in a query source that is not a longer capture name.
fn find_capture(text: &str, name: &str) -> Option<usize> {
    let needle = format!("@{name}");
    let mut from = 0;
    while let Some(found) = text[from..].find(&needle) {
        let at = from + found;
        let end = at + needle.len();
        let next = text[end..].chars().next();
        if !next.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            return Some(at);
        }
        from = end;
    }
    None
}
