//! The one table of file types Concord knows: which extensions are source code (so their tags
//! count as coverage), which are documents, how a tag comment is written in each, and which are
//! parsed by a tree-sitter grammar (the grammar, its queries and its layout rules live with the
//! parser, in [`crate::items::Language`]). Everything that asks "what kind of file is this?"
//! asks this table, so the answers never disagree.

use crate::items::Language;

/// What a file of this type is to the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Code or tests: part of `[trace] include` by default, its IDs count as coverage.
    Source,
    /// Prose: markdown and the like (chunk headings are read from markdown).
    Doc,
    /// Neither, but a tag can be written in it (configuration, scripts).
    Other,
}

/// How a comment is written: a line comment (`// `) or a block (`<!-- `, ` -->`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommentStyle {
    pub open: &'static str,
    /// Empty for a line comment.
    pub close: &'static str,
}

const SLASHES: CommentStyle = CommentStyle { open: "//", close: "" };
const HASH: CommentStyle = CommentStyle { open: "#", close: "" };
const DASHES: CommentStyle = CommentStyle { open: "--", close: "" };
const ANGLE: CommentStyle = CommentStyle { open: "<!--", close: "-->" };

/// One file type.
#[derive(Debug)]
pub struct LanguageSpec {
    pub name: &'static str,
    /// Lower-case, without the dot.
    pub extensions: &'static [&'static str],
    pub role: Role,
    /// The comment a tag is inserted as.
    pub comment: CommentStyle,
    /// The grammar that finds its comments and items, if it has one.
    pub parser: Option<Language>,
}

const fn spec(
    name: &'static str,
    extensions: &'static [&'static str],
    role: Role,
    comment: CommentStyle,
    parser: Option<Language>,
) -> LanguageSpec {
    LanguageSpec { name, extensions, role, comment, parser }
}

/// Every file type, parsed languages first. An extension appears in one row only (a test
/// checks it). `.h` is read with the C++ grammar, which also reads most C headers.
pub const LANGUAGES: &[LanguageSpec] = &[
    spec("rust", &["rs"], Role::Source, SLASHES, Some(Language::Rust)),
    spec("python", &["py", "pyi", "pyw"], Role::Source, HASH, Some(Language::Python)),
    spec("typescript", &["ts", "mts", "cts"], Role::Source, SLASHES, Some(Language::TypeScript)),
    spec("tsx", &["tsx"], Role::Source, SLASHES, Some(Language::Tsx)),
    spec("javascript", &["js", "jsx", "mjs", "cjs"], Role::Source, SLASHES, Some(Language::JavaScript)),
    spec("go", &["go"], Role::Source, SLASHES, Some(Language::Go)),
    spec("java", &["java"], Role::Source, SLASHES, Some(Language::Java)),
    spec("c", &["c"], Role::Source, SLASHES, Some(Language::C)),
    spec(
        "cpp",
        &["h", "cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "ipp", "inl"],
        Role::Source,
        SLASHES,
        Some(Language::Cpp),
    ),
    // Source without a grammar: file-level tracing, IDs anywhere count.
    spec("kotlin", &["kt", "kts"], Role::Source, SLASHES, None),
    spec("csharp", &["cs"], Role::Source, SLASHES, None),
    spec("ruby", &["rb"], Role::Source, HASH, None),
    spec("php", &["php"], Role::Source, SLASHES, None),
    spec("swift", &["swift"], Role::Source, SLASHES, None),
    spec("scala", &["scala"], Role::Source, SLASHES, None),
    // Documents.
    spec("markdown", &["md", "markdown"], Role::Doc, ANGLE, None),
    spec("restructuredtext", &["rst"], Role::Doc, CommentStyle { open: "..", close: "" }, None),
    spec("asciidoc", &["adoc"], Role::Doc, SLASHES, None),
    spec("text", &["txt"], Role::Doc, SLASHES, None),
    // Other files a tag may be written in.
    spec("shell", &["sh", "bash"], Role::Other, HASH, None),
    spec("yaml", &["yaml", "yml"], Role::Other, HASH, None),
    spec("toml", &["toml"], Role::Other, HASH, None),
    spec("r", &["r"], Role::Other, HASH, None),
    spec("perl", &["pl"], Role::Other, HASH, None),
    spec("sql", &["sql"], Role::Other, DASHES, None),
    spec("lua", &["lua"], Role::Other, DASHES, None),
    spec("haskell", &["hs"], Role::Other, DASHES, None),
    spec("markup", &["html", "xml", "vue", "svelte"], Role::Other, ANGLE, None),
];

/// The file type of a path, by its extension (case-insensitive). A dotfile such as `.rs` has
/// no extension.
pub fn of_path(path: &str) -> Option<&'static LanguageSpec> {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let (stem, extension) = file.rsplit_once('.')?;
    if stem.is_empty() || extension.len() > 8 {
        return None;
    }
    let extension = extension.to_ascii_lowercase();
    LANGUAGES.iter().find(|spec| spec.extensions.contains(&extension.as_str()))
}

/// The extensions of source files, for the default `[trace] include`.
pub fn source_extensions() -> impl Iterator<Item = &'static str> {
    LANGUAGES.iter().filter(|spec| spec.role == Role::Source).flat_map(|spec| spec.extensions.iter().copied())
}

/// A one-line comment holding `body`, with a newline, in the file's language (`//` when the
/// type is unknown).
pub fn tag_comment(path: &str, body: &str) -> String {
    let style = of_path(path).map_or(SLASHES, |spec| spec.comment);
    if style.close.is_empty() {
        format!("{} {body}\n", style.open)
    } else {
        format!("{} {body} {}\n", style.open, style.close)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extension_has_one_row() {
        let mut seen = std::collections::HashSet::new();
        for spec in LANGUAGES {
            for extension in spec.extensions {
                assert_eq!(extension.to_ascii_lowercase(), *extension, "{extension} is not lower-case");
                assert!(seen.insert(extension), "{extension} appears in two rows");
            }
        }
    }

    #[test]
    fn every_grammar_has_one_row_named_after_it() {
        for language in Language::ALL {
            let rows: Vec<_> = LANGUAGES.iter().filter(|spec| spec.parser == Some(language)).collect();
            assert_eq!(rows.len(), 1, "{language:?}");
            assert_eq!(rows[0].name, language.name());
            assert_eq!(rows[0].role, Role::Source, "a parsed language is source code");
        }
    }

    #[test]
    fn lookups_by_path() {
        let cases = [
            ("src/a.rs", Some("rust")),
            ("stubs/a.pyi", Some("python")),
            ("web/a.MTS", Some("typescript")),
            ("web/a.cts", Some("typescript")),
            ("lib/a.hh", Some("cpp")),
            ("docs/a.md", Some("markdown")),
            (".rs", None),
            ("Makefile", None),
            ("a.unknown", None),
        ];
        for (path, name) in cases {
            assert_eq!(of_path(path).map(|spec| spec.name), name, "{path}");
        }
    }

    #[test]
    fn tag_comments_follow_the_language() {
        assert_eq!(tag_comment("a.pyi", "implements TD-1"), "# implements TD-1\n");
        assert_eq!(tag_comment("a.rs", "implements TD-1"), "// implements TD-1\n");
        assert_eq!(tag_comment("a.md", "implements TD-1"), "<!-- implements TD-1 -->\n");
        assert_eq!(tag_comment("a.sql", "implements TD-1"), "-- implements TD-1\n");
        assert_eq!(tag_comment("Makefile", "implements TD-1"), "// implements TD-1\n");
    }

    #[test]
    fn every_parsed_extension_is_source() {
        let sources: Vec<&str> = source_extensions().collect();
        for extension in ["mts", "cts", "hh", "pyi", "hxx", "inl"] {
            assert!(sources.contains(&extension), "{extension}");
        }
    }
}
