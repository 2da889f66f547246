//! Tests of the items layer. The per-language fixtures live in `fixtures/<language>.txt`:
//!
//! ```text
//! === title of a case
//! <source text>
//! --- expect
//! <one line per item>
//! ```
//!
//! Lines before the first `===` are notes. An item line is
//! `<indent by depth><kind> <name>[ pub][ test] @<line>:<indent>[ << <comment> | ...][ ++ <comment> | ...]`:
//! depth shows the parent, `@line:indent` is where a new comment goes (1-based line of
//! `insert_at`, width of `indent`), `<<` lists the leading comments and `++` the other comments
//! attributed to the item (in its body, outside its nested items), each by its first line. A
//! line `header << <comment> | ...` before the items lists the file header's comments.
//! A first line `!errors` means the parse met syntax errors. Run with `FIXTURES_BLESS=1` to
//! rewrite the expectations from the current output (then review the diff).

use std::time::{Duration, Instant};

use super::*;

fn fixture_text(language: Language) -> &'static str {
    match language {
        Language::Rust => include_str!("fixtures/rust.txt"),
        Language::Python => include_str!("fixtures/python.txt"),
        Language::TypeScript => include_str!("fixtures/typescript.txt"),
        Language::Tsx => include_str!("fixtures/tsx.txt"),
        Language::JavaScript => include_str!("fixtures/javascript.txt"),
        Language::Go => include_str!("fixtures/go.txt"),
        Language::Java => include_str!("fixtures/java.txt"),
        Language::C => include_str!("fixtures/c.txt"),
        Language::Cpp => include_str!("fixtures/cpp.txt"),
    }
}

struct Case {
    title: String,
    source: String,
    expect: String,
}

/// Splits a fixture file into its notes (kept for blessing) and cases.
fn read_fixtures(file: &str) -> (String, Vec<Case>) {
    let mut notes = String::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut in_expect = false;
    for line in file.lines() {
        if let Some(title) = line.strip_prefix("=== ") {
            cases.push(Case { title: title.to_string(), source: String::new(), expect: String::new() });
            in_expect = false;
        } else if let Some(case) = cases.last_mut() {
            if line == "--- expect" {
                in_expect = true;
            } else if in_expect {
                case.expect.push_str(line);
                case.expect.push('\n');
            } else {
                case.source.push_str(line);
                case.source.push('\n');
            }
        } else {
            notes.push_str(line);
            notes.push('\n');
        }
    }
    for case in &mut cases {
        case.expect = case.expect.trim_end().to_string();
    }
    (notes, cases)
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut shown: String = line.chars().take(40).collect();
    if line.chars().count() > 40 {
        shown.push('…');
    }
    shown
}

fn render(text: &str, parsed: &ParsedFile) -> String {
    let mut out = Vec::new();
    if parsed.had_errors {
        out.push("!errors".to_string());
    }
    let shown = |indexes: &mut dyn Iterator<Item = &usize>| -> String {
        let lines: Vec<String> =
            indexes.map(|&i| first_line(&text[parsed.comments[i].start..parsed.comments[i].end])).collect();
        lines.join(" | ")
    };
    if !parsed.header.is_empty() {
        out.push(format!("header << {}", shown(&mut parsed.header.iter())));
    }
    for item in &parsed.items {
        let mut depth = 0;
        let mut parent = item.parent;
        while let Some(p) = parent {
            depth += 1;
            parent = parsed.items[p].parent;
        }
        let mut line = format!("{}{} {}", "  ".repeat(depth), item.kind.name(), item.name);
        if item.is_public {
            line.push_str(" pub");
        }
        if item.is_test {
            line.push_str(" test");
        }
        let line_no = text[..item.insert_at].matches('\n').count() + 1;
        line.push_str(&format!(" @{line_no}:{}", item.indent.chars().count()));
        if !item.leading_comments.is_empty() {
            line.push_str(" << ");
            line.push_str(&shown(&mut item.leading_comments.iter()));
        }
        let mut in_body = item.comments.iter().filter(|c| !item.leading_comments.contains(c)).peekable();
        if in_body.peek().is_some() {
            line.push_str(" ++ ");
            line.push_str(&shown(&mut in_body));
        }
        out.push(line);
    }
    out.join("\n")
}

/// Properties every parse result must have, whatever the input.
fn check_invariants(text: &str, parsed: &ParsedFile) {
    let mut last_end = 0;
    for c in &parsed.comments {
        assert!(c.start < c.end && c.start >= last_end, "comments sorted, disjoint: {c:?}");
        assert!(text.get(c.start..c.end).is_some(), "comment on char boundaries: {c:?}");
        last_end = c.end;
    }
    for (i, item) in parsed.items.iter().enumerate() {
        assert!(text.get(item.start..item.end).is_some(), "item range: {item:?}");
        assert!(text.get(item.name_start..item.name_end).is_some(), "name range: {item:?}");
        if i > 0 {
            assert!(parsed.items[i - 1].start <= item.start, "items sorted by start");
        }
        if let Some(p) = item.parent {
            let parent = &parsed.items[p];
            assert!(p < i && parent.start <= item.start && item.end <= parent.end, "parent encloses");
        }
        assert!(item.insert_at <= item.start, "insert_at above the item: {item:?}");
        assert!(item.insert_at == 0 || text.as_bytes()[item.insert_at - 1] == b'\n', "line start");
        assert!(text[item.insert_at..].starts_with(&item.indent), "indent: {item:?}");
        assert!(item.indent.chars().all(|c| c == ' ' || c == '\t'));
        let mut previous = None;
        for &c in &item.leading_comments {
            assert!(c < parsed.comments.len());
            assert!(previous.is_none_or(|p| p < c), "leading comments in order");
            previous = Some(c);
        }
    }
}

/// Every comment has at most one owner: one item, or the header.
fn check_attribution(parsed: &ParsedFile) {
    let mut owners = vec![0usize; parsed.comments.len()];
    for &c in parsed.items.iter().flat_map(|item| &item.comments).chain(&parsed.header) {
        owners[c] += 1;
    }
    assert!(owners.iter().all(|&n| n <= 1), "a comment attributed twice: {parsed:?}");
    for item in &parsed.items {
        assert!(
            item.leading_comments.iter().all(|c| item.comments.contains(c)),
            "leading comments attributed"
        );
        for &c in &item.comments {
            let comment = parsed.comments[c];
            assert!(
                item.leading_comments.contains(&c)
                    || (item.start <= comment.start && comment.end <= item.end),
                "a body comment lies in the item"
            );
        }
    }
}

fn run_fixtures(language: Language) {
    let file = fixture_text(language);
    let (notes, cases) = read_fixtures(file);
    assert!(!cases.is_empty(), "no fixtures for {language:?}");
    let queries = Queries::builtin();
    let mut failures = Vec::new();
    let mut blessed = notes.clone();
    for case in &cases {
        let parsed = parse(queries, language, &case.source);
        check_invariants(&case.source, &parsed);
        check_attribution(&parsed);
        let actual = render(&case.source, &parsed);
        if actual != case.expect {
            failures.push(format!(
                "--- {} / {}\nexpected:\n{}\nactual:\n{}\n",
                language.name(),
                case.title,
                case.expect,
                actual
            ));
        }
        blessed.push_str(&format!("=== {}\n{}--- expect\n{}\n", case.title, case.source, actual));
    }
    if !failures.is_empty() && std::env::var_os("FIXTURES_BLESS").is_some() {
        let path = format!("{}/src/items/fixtures/{}.txt", env!("CARGO_MANIFEST_DIR"), language.name());
        std::fs::write(&path, blessed).expect("write blessed fixtures");
        eprintln!("rewrote {path}");
        return;
    }
    assert!(failures.is_empty(), "fixture mismatches:\n{}", failures.join("\n"));
}

#[test]
fn fixtures_rust() {
    run_fixtures(Language::Rust);
}

#[test]
fn fixtures_python() {
    run_fixtures(Language::Python);
}

#[test]
fn fixtures_typescript() {
    run_fixtures(Language::TypeScript);
}

#[test]
fn fixtures_tsx() {
    run_fixtures(Language::Tsx);
}

#[test]
fn fixtures_javascript() {
    run_fixtures(Language::JavaScript);
}

#[test]
fn fixtures_go() {
    run_fixtures(Language::Go);
}

#[test]
fn fixtures_java() {
    run_fixtures(Language::Java);
}

#[test]
fn fixtures_c() {
    run_fixtures(Language::C);
}

#[test]
fn fixtures_cpp() {
    run_fixtures(Language::Cpp);
}

/// A small valid program per language, with at least one item and one comment.
fn sample(language: Language) -> &'static str {
    match language {
        Language::Rust => "// c\nfn f() {}\n",
        Language::Python => "# c\ndef f():\n    pass\n",
        Language::TypeScript => "// c\nfunction f(): void {}\n",
        Language::Tsx => "// c\nfunction f() { return <a />; }\n",
        Language::JavaScript => "// c\nfunction f() {}\n",
        Language::Go => "package p\n// c\nfunc f() {}\n",
        Language::Java => "// c\nclass A {}\n",
        Language::C => "// c\nint f(void) { return 0; }\n",
        Language::Cpp => "// c\nint f() { return 0; }\n",
    }
}

#[test]
fn every_grammar_and_builtin_query_loads() {
    let queries = Queries::builtin();
    for language in Language::ALL {
        let grammar = language.grammar();
        assert!(
            grammar.abi_version() >= tree_sitter::MIN_COMPATIBLE_LANGUAGE_VERSION
                && grammar.abi_version() <= tree_sitter::LANGUAGE_VERSION,
            "{language:?} grammar ABI {} outside the core's range",
            grammar.abi_version()
        );
        let mut parser = Parser::new();
        parser.set_language(&grammar).unwrap_or_else(|e| panic!("{language:?}: {e:?}"));
        let lang = queries.get(language);
        assert!(lang.comment_patterns > 0 && lang.query.pattern_count() > lang.comment_patterns);
        let parsed = parse(queries, language, sample(language));
        assert!(!parsed.had_errors, "{language:?} sample has syntax errors");
        assert_eq!(parsed.comments.len(), 1, "{language:?} comment");
        assert_eq!(parsed.items.len(), 1, "{language:?} items: {:?}", parsed.items);
        assert_eq!(parsed.items[0].leading_comments, vec![0], "{language:?} leading comment");
        assert_eq!(Language::from_name(language.name()), Some(language));
    }
}

#[test]
fn queries_are_send_and_sync_and_parse_in_parallel() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Queries>();
    let queries = Queries::builtin();
    std::thread::scope(|scope| {
        for language in Language::ALL {
            scope.spawn(move || {
                for _ in 0..20 {
                    assert_eq!(parse(queries, language, sample(language)).items.len(), 1);
                }
            });
        }
    });
}

#[test]
fn languages_from_paths() {
    let cases = [
        ("src/main.rs", Some(Language::Rust)),
        ("a/b/tool.py", Some(Language::Python)),
        ("types.d.ts", Some(Language::TypeScript)),
        ("App.TSX", Some(Language::Tsx)),
        ("x.mjs", Some(Language::JavaScript)),
        ("view.jsx", Some(Language::JavaScript)),
        ("cmd/main.go", Some(Language::Go)),
        ("A.java", Some(Language::Java)),
        ("lib.c", Some(Language::C)),
        ("lib.h", Some(Language::Cpp)),
        ("lib.hpp", Some(Language::Cpp)),
        ("C:\\src\\x.cc", Some(Language::Cpp)),
        ("README.md", None),
        ("Makefile", None),
        (".rs", None),
        ("dir.rs/file", None),
    ];
    for (path, expected) in cases {
        assert_eq!(Language::from_path(path), expected, "{path}");
    }
    assert_eq!(Language::Python.line_comment(), "#");
    assert_eq!(Language::Go.line_comment(), "//");
}

/// Deterministic pseudo-random numbers (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_bytes_never_panic() {
    let queries = Queries::builtin();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let fragments = [
        "fn ",
        "def ",
        "class ",
        "struct ",
        "impl ",
        "{",
        "}",
        "(",
        ")",
        "\n",
        "    ",
        "\"",
        "'",
        "`",
        "/*",
        "*/",
        "//",
        "#",
        "@",
        "#[test]",
        "pub ",
        "export ",
        "func ",
        ":",
        ";",
        "<",
        ">",
        "x",
        "Test",
        "\"\"\"",
        "\t",
        "\u{00e9}",
        "\u{1F600}",
        "\0",
    ];
    for language in Language::ALL {
        for round in 0..40 {
            let text = if round % 2 == 0 {
                let bytes: Vec<u8> = (0..rng.below(4096)).map(|_| rng.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                (0..rng.below(600)).map(|_| fragments[rng.below(fragments.len())]).collect()
            };
            let parsed = parse(queries, language, &text);
            check_invariants(&text, &parsed);
            check_attribution(&parsed);
        }
    }
}

#[test]
fn truncated_and_mutated_fixtures_never_panic() {
    let queries = Queries::builtin();
    let mut rng = Rng(42);
    for language in Language::ALL {
        let (_, cases) = read_fixtures(fixture_text(language));
        for case in cases {
            let source = case.source;
            // Every prefix (on char boundaries, in steps).
            for (end, _) in source.char_indices().step_by(5) {
                let text = &source[..end];
                check_invariants(text, &parse(queries, language, text));
            }
            // Random deletions and duplications of spans.
            for _ in 0..30 {
                let mut text = source.clone();
                let a = rng.below(text.len());
                let b = (a + rng.below(40)).min(text.len());
                if text.is_char_boundary(a) && text.is_char_boundary(b) {
                    if rng.below(2) == 0 {
                        text.replace_range(a..b, "");
                    } else {
                        let span = text[a..b].to_string();
                        text.insert_str(a, &span);
                    }
                }
                check_invariants(&text, &parse(queries, language, &text));
            }
        }
    }
}

fn generated_rust(blocks: usize) -> String {
    let mut text = String::new();
    for i in 0..blocks {
        text.push_str(&format!(
            "/// Item {i}.\n/// TD-{n:04}\n#[derive(Debug, Clone)]\npub struct S{i} {{\n    value: u32,\n}}\n\n\
             impl S{i} {{\n    /// Makes one.\n    pub fn new(value: u32) -> Self {{\n        S{i} {{ value }}\n    }}\n\n\
             \x20   fn get(&self) -> u32 {{\n        self.value + {i}\n    }}\n}}\n\n",
            n = i % 10000
        ));
    }
    text
}

fn generated_python(blocks: usize) -> String {
    let mut text = String::new();
    for i in 0..blocks {
        text.push_str(&format!(
            "# TD-{n:04}\nclass Service{i}:\n    \"\"\"Service {i}.\"\"\"\n\n    @property\n    def value(self):\n\
             \x20       \"\"\"The value.\"\"\"\n        return {i}\n\n    def compute(self, x):\n        # adds\n\
             \x20       return x + {i}\n\n\ndef helper_{i}(a, b):\n    return a * b\n\n\n",
            n = i % 10000
        ));
    }
    text
}

#[test]
fn huge_file_parses_in_reasonable_time() {
    let queries = Queries::builtin();
    // 12,500 blocks of 16 lines: 200,000 lines.
    let text = generated_rust(12_500);
    let lines = text.lines().count();
    assert!(lines >= 200_000, "{lines} lines");
    let started = Instant::now();
    let parsed = parse(queries, Language::Rust, &text);
    let elapsed = started.elapsed();
    println!(
        "huge Rust file: {lines} lines, {:.1} MB, {} items, {} comments in {elapsed:.2?}",
        text.len() as f64 / 1e6,
        parsed.items.len(),
        parsed.comments.len()
    );
    assert!(!parsed.had_errors);
    assert_eq!(parsed.items.len(), 12_500 * 4);
    assert_eq!(parsed.items[0].leading_comments.len(), 2);
    check_invariants(&text, &parsed);
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");

    // A flat file: 200,000 top-level items, each after an attribute and a comment.
    let flat: String =
        (0..100_000).map(|i| format!("// f{i}\n#[inline]\nfn f{i}() {{}}\n")).collect::<String>()
            + &(0..100_000).map(|i| format!("fn g{i}() {{}}\n")).collect::<String>();
    let started = Instant::now();
    let parsed = parse(queries, Language::Rust, &flat);
    let elapsed = started.elapsed();
    println!("flat Rust file: {} lines, {} items in {elapsed:.2?}", flat.lines().count(), parsed.items.len());
    assert_eq!(parsed.items.len(), 200_000);
    assert_eq!(parsed.items[99_999].leading_comments.len(), 1);
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");

    // The same size of garbage: a parse full of errors.
    let broken = text.replace("}\n", "(\n");
    let started = Instant::now();
    let parsed = parse(queries, Language::Rust, &broken);
    let elapsed = started.elapsed();
    println!(
        "huge broken Rust file: {} items, errors: {} in {elapsed:.2?}",
        parsed.items.len(),
        parsed.had_errors
    );
    check_invariants(&broken, &parsed);
    assert!(parsed.had_errors && elapsed < Duration::from_secs(120), "took {elapsed:?}");
}

/// Prints bytes parsed per second (comments + items) for Python and Rust.
/// `cargo test -- --nocapture parse_speed` shows the numbers.
#[test]
fn parse_speed() {
    let queries = Queries::builtin();
    for (language, text) in
        [(Language::Python, generated_python(3_000)), (Language::Rust, generated_rust(3_000))]
    {
        let mut best = Duration::MAX;
        let mut items = 0;
        for _ in 0..3 {
            let started = Instant::now();
            items = parse(queries, language, &text).items.len();
            best = best.min(started.elapsed());
        }
        println!(
            "{}: {:.2} MB in {best:.2?} = {:.1} MB/s ({items} items)",
            language.name(),
            text.len() as f64 / 1e6,
            text.len() as f64 / 1e6 / best.as_secs_f64()
        );
        assert!(items > 0);
    }
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-items-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn override_error(tag: &str, language: &str, file: &str, source: &str) -> QueryError {
    let dir = temp_dir(tag);
    std::fs::create_dir_all(dir.join(language)).unwrap();
    std::fs::write(dir.join(language).join(file), source).unwrap();
    let result = Queries::with_overrides(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(_) => panic!("the bad query {language}/{file} was accepted"),
        Err(err) => {
            assert!(err.file.ends_with(&format!("{language}/{file}")), "file: {}", err.file);
            err
        }
    }
}

#[test]
fn bad_query_files_report_file_line_and_column() {
    // A node type the grammar lacks, on line 3, column 2.
    let err = override_error(
        "nodetype",
        "rust",
        "items.scm",
        "; overrides\n(function_item name: (identifier) @name) @item.function\n (no_such_node) @item.class\n",
    );
    assert_eq!((err.line, err.column), (3, 3), "{err}");
    assert!(err.message.contains("no_such_node"), "{err}");

    // Unbalanced parentheses.
    let err =
        override_error("syntax", "python", "comments.scm", "(comment) @comment\n\n  (comment)) @comment\n");
    assert_eq!((err.line, err.column), (3, 12), "{err}");
    assert!(err.message.contains("syntax"), "{err}");

    // A capture name outside the contract, at its position.
    let err = override_error(
        "capture",
        "go",
        "items.scm",
        "(function_declaration\n  name: (identifier) @name) @item.fn\n",
    );
    assert_eq!((err.line, err.column), (2, 29), "{err}");
    assert!(err.message.contains("@item.fn"), "{err}");

    // A pattern without @name.
    let err = override_error(
        "noname",
        "java",
        "items.scm",
        "(class_declaration name: (identifier) @name) @item.class\n(method_declaration) @item.method\n",
    );
    assert_eq!((err.line, err.column), (2, 1), "{err}");
    assert!(err.message.contains("@name"), "{err}");
    assert!(err.to_string().contains("items.scm:2:1:"), "{err}");

    // An unclosed parenthesis in comments.scm is reported there, not in items.scm.
    let err = override_error("unclosed", "c", "comments.scm", "(comment) @comment\n(comment @comment\n");
    assert!(err.line >= 2, "{err}");

    // A capture meant for the other file.
    let err = override_error("misplaced", "cpp", "items.scm", "\n  (comment) @comment\n");
    assert_eq!((err.line, err.column), (2, 3), "{err}");
    assert!(err.message.contains("@item"), "{err}");

    // A missing override directory.
    let missing = std::env::temp_dir().join("concord-items-no-such-dir-at-all");
    assert!(Queries::with_overrides(&missing).is_err());
}

#[test]
fn override_queries_replace_the_builtin_ones() {
    let dir = temp_dir("good");
    std::fs::create_dir_all(dir.join("python")).unwrap();
    std::fs::write(
        dir.join("python/items.scm"),
        "(class_definition name: (identifier) @name) @item.struct\n",
    )
    .unwrap();
    let queries = Queries::with_overrides(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let queries = queries.expect("valid override");
    let text = "class A:\n    def f(self):\n        pass\n";
    let parsed = parse(&queries, Language::Python, text);
    assert_eq!(parsed.items.len(), 1);
    assert_eq!((parsed.items[0].kind, parsed.items[0].name.as_str()), (ItemKind::Struct, "A"));
    // Other languages keep the builtin queries.
    assert_eq!(parse(&queries, Language::Rust, "fn f() {}").items.len(), 1);
    // The builtin set is unchanged.
    assert_eq!(parse(Queries::builtin(), Language::Python, text).items.len(), 2);
}

#[test]
fn item_fields_point_into_the_text() {
    let text = "class A:\n    # lead\n    @dec\n    def run(self):\n        \"\"\"Doc.\"\"\"\n";
    let parsed = parse(Queries::builtin(), Language::Python, text);
    let run = &parsed.items[1];
    assert_eq!(&text[run.name_start..run.name_end], "run");
    assert!(text[run.start..run.end].starts_with("def run"));
    assert_eq!(&text[run.insert_at..run.insert_at + 8], "    @dec");
    assert_eq!(run.indent, "    ");
    assert_eq!(run.parent, Some(0));
    let shown: Vec<&str> = run
        .leading_comments
        .iter()
        .map(|&i| &text[parsed.comments[i].start..parsed.comments[i].end])
        .collect();
    assert_eq!(shown, ["# lead", "\"\"\"Doc.\"\"\""]);
}

#[test]
fn empty_text() {
    for language in Language::ALL {
        let parsed = parse(Queries::builtin(), language, "");
        assert!(parsed.items.is_empty() && parsed.comments.is_empty() && !parsed.had_errors);
    }
}

#[test]
fn python_docstrings_are_comments() {
    let text = "#!/usr/bin/env python\n\"\"\"Module.\"\"\"\nx = \"not a docstring\"\n\n\
                class A:\n    'Class.'\n    y = 'no'\n\n    def f(self):\n        \"\"\"Method.\"\"\"\n        return 'no'\n";
    let parsed = parse(Queries::builtin(), Language::Python, text);
    let shown: Vec<&str> = parsed.comments.iter().map(|c| &text[c.start..c.end]).collect();
    assert_eq!(shown, ["#!/usr/bin/env python", "\"\"\"Module.\"\"\"", "'Class.'", "\"\"\"Method.\"\"\""]);
    let class = &parsed.items[0];
    assert_eq!(class.leading_comments, vec![2]);
    assert_eq!(parsed.items[1].leading_comments, vec![3]);
}

#[test]
fn rust_impl_and_trait_methods_are_found_once() {
    let text =
        "struct S;\nimpl S {\n    fn a(&self) {}\n}\ntrait T {\n    fn b(&self) {}\n    fn c(&self);\n}\n";
    let parsed = parse(Queries::builtin(), Language::Rust, text);
    let names: Vec<(&str, ItemKind, Option<usize>)> =
        parsed.items.iter().map(|i| (i.name.as_str(), i.kind, i.parent)).collect();
    assert_eq!(
        names,
        [
            ("S", ItemKind::Struct, None),
            ("S", ItemKind::Impl, None),
            ("a", ItemKind::Method, Some(1)),
            ("T", ItemKind::Trait, None),
            ("b", ItemKind::Method, Some(3)),
            ("c", ItemKind::Method, Some(3)),
        ]
    );
}

#[test]
fn compiling_queries_takes() {
    let dir = temp_dir("all");
    for language in Language::ALL {
        let (comments, items) = language.grammar_row().queries;
        std::fs::create_dir_all(dir.join(language.query_folder())).unwrap();
        std::fs::write(dir.join(language.query_folder()).join("comments.scm"), comments).unwrap();
        std::fs::write(dir.join(language.query_folder()).join("items.scm"), items).unwrap();
    }
    let started = Instant::now();
    let queries = Queries::with_overrides(&dir);
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(queries.is_ok());
    println!("compiled the queries of all {} languages in {elapsed:.2?}", Language::ALL.len());
}

#[test]
fn grammar_rows_follow_the_order_of_all() {
    for (i, language) in Language::ALL.into_iter().enumerate() {
        assert_eq!(language as usize, i, "{language:?}");
        assert_eq!(Language::from_name(language.name()), Some(language));
        assert!(super::GRAMMARS[i].queries.0.contains("@comment"), "{language:?}");
    }
}

/// Whether [`parse`]'s shortcuts change nothing for `text`: the walk finds what the queries
/// find on the whole parse (errors and all), and with item-free bodies also left out the result
/// is the whole parse's. A text whose whole parse meets an error is not compared for bodies
/// left out: the two parses recover differently (the lexer leaves out only what lies outside an
/// error when the rest parses). Rust's scanner, where it is sure, finds what the whole parse
/// finds too. Returns whether bodies were left out, and whether the scanner was sure.
fn same_either_way(language: Language, text: &str) -> Result<(bool, bool), String> {
    let queries = Queries::builtin();
    let shortcuts = |leave_out_bodies, walk| Shortcuts { leave_out_bodies, walk, scan: false };
    let whole = parse_with_shortcuts(queries, language, text, shortcuts(false, false));
    let differ = |what: &str, other: &ParsedFile| {
        format!(
            "{}: {what}\nwhole, by the queries:\n{}\n{what}:\n{}",
            language.name(),
            render(text, &whole),
            render(text, other)
        )
    };
    let walked = parse_with_shortcuts(queries, language, text, shortcuts(false, true));
    if walked != whole {
        return Err(differ("walking the tree", &walked));
    }
    if whole.had_errors {
        return Ok((false, false));
    }
    let left_out = parse_with_shortcuts(queries, language, text, shortcuts(true, true));
    if left_out != whole {
        return Err(differ("leaving bodies out", &left_out));
    }
    let scanned = language == Language::Rust && rust_scan::scan(text).is_some();
    if scanned {
        let all = Shortcuts { leave_out_bodies: true, walk: true, scan: true };
        let found = parse_with_shortcuts(queries, language, text, all);
        if found != whole {
            return Err(differ("scanning Rust", &found));
        }
    }
    let rules = skip::rules(language.grammar_row().family);
    Ok((rules.and_then(|rules| skip::included_ranges(rules, text)).is_some(), scanned))
}

/// Every file under `dirs` in a parsed language: (files compared, files with bodies left out,
/// Rust files the scanner was sure of).
fn compare_tree(dirs: &[std::path::PathBuf]) -> (usize, usize, usize) {
    let mut stack: Vec<std::path::PathBuf> = dirs.to_vec();
    let (mut compared, mut left_out, mut scanned) = (0, 0, 0);
    let mut failures = Vec::new();
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // Build output and benchmark workspaces (`bench/out`, `editors/*/out`) are not sources.
            if matches!(name, "target" | "node_modules" | ".git" | "out") {
                continue;
            }
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                stack.push(entry.path());
            }
            continue;
        }
        let Some(language) = path.to_str().and_then(Language::from_path) else { continue };
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        compared += 1;
        match same_either_way(language, &text) {
            Ok((bodies, sure)) => {
                left_out += usize::from(bodies);
                scanned += usize::from(sure);
            }
            Err(diff) => failures.push(format!("{}: {diff}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{} files differ:\n{}", failures.len(), failures.join("\n\n"));
    (compared, left_out, scanned)
}

#[test]
fn the_shortcuts_find_what_the_whole_parse_and_the_queries_find() {
    // The fixtures, and mutations of them (as above) that still parse without errors.
    let mut rng = Rng(7);
    let (mut left_out, mut scanned) = (0, 0);
    for language in Language::ALL {
        for case in read_fixtures(fixture_text(language)).1 {
            let (bodies, sure) =
                same_either_way(language, &case.source).unwrap_or_else(|e| panic!("{}: {e}", case.title));
            left_out += usize::from(bodies);
            scanned += usize::from(sure);
            for _ in 0..30 {
                let mut text = case.source.clone();
                let a = rng.below(text.len());
                let b = (a + rng.below(40)).min(text.len());
                if text.is_char_boundary(a) && text.is_char_boundary(b) {
                    let span = text[a..b].to_string();
                    text.insert_str(a, &span);
                }
                same_either_way(language, &text)
                    .unwrap_or_else(|e| panic!("{} mutated:\n{text}\n{e}", case.title));
            }
        }
    }
    assert!(left_out > 8, "only {left_out} fixtures had a body left out");
    assert!(scanned >= 5, "the scanner was sure of only {scanned} Rust fixtures");
    // This repository's own sources: Rust, TypeScript, JavaScript, Python, a little of the rest.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (compared, left_out, scanned) =
        compare_tree(&["server", "tests", "examples", "editors", "bench"].map(|d| root.join(d)));
    assert!(
        compared > 100 && left_out > 50 && scanned > 100,
        "{compared} files compared, {left_out} with bodies left out, {scanned} scanned"
    );
}

/// The same on a corpus of real code, run by hand:
/// `CONCORD_PARSE_CORPUS=dir1:dir2 cargo test --release --lib shortcuts_on_a_corpus -- --ignored --nocapture`
#[test]
#[ignore]
fn shortcuts_on_a_corpus() {
    let dirs: Vec<std::path::PathBuf> = std::env::var("CONCORD_PARSE_CORPUS")
        .expect("CONCORD_PARSE_CORPUS")
        .split(':')
        .map(Into::into)
        .collect();
    let (compared, left_out, scanned) = compare_tree(&dirs);
    eprintln!("{compared} files compared, {left_out} with bodies left out, {scanned} Rust files scanned");
}

#[test]
fn the_rust_scanner_finds_what_the_parse_finds_on_hard_cases() {
    // Each case is Rust the scanner is sure of; `same_either_way` compares it with the whole
    // parse by the queries.
    let cases = [
        // A where clause whose bound has parentheses; a tuple struct with one.
        "pub(crate) struct G<T, F>\nwhere\n    F: FnMut(&mut T),\n{\n    f: F,\n}\nstruct P<T>(T) where T: Fn(u8) -> u8;\n",
        // Trait impls (public items), a negative impl, inherent impls, generic defaults.
        "/// TD-0001\nimpl<T: Iterator<Item = u8>> From<T> for Vec<Box<dyn Fn() -> T>> where T: Clone {\n    fn from(t: T) -> Self { todo!() }\n}\nimpl !Send for X {}\nimpl<const N: usize> A<{ N }> { pub fn n(&self) {} fn m() {} }\nstruct D<T = u8>(T);\n",
        // Literals that hold braces, comment markers and quotes; lifetimes and labels.
        "fn a<'a>(x: &'a str) -> char {\n    let s = \"} // {\"; let r = r#\"}\"#; let b = b'{'; let c = '\\'';\n    'outer: loop { break 'outer; }\n    '}'\n}\n",
        // Items in function bodies, after attributes, in blocks of values; none in macros.
        "const _: () = {\n    impl Q { fn q() {} }\n};\nfn outer() {\n    #[derive(Debug)]\n    struct Inner;\n    unsafe { fn in_unsafe() {} }\n    let f: fn(u8) = g;\n    quote! { fn not_an_item() {} }\n    ::std::println!(\"{}\", 1)\n}\n",
        // Test attributes, cfg(test) modules, inner attributes and doc comments.
        "//! Crate docs.\n#![allow(dead_code)]\n\n#[cfg(test)]\nmod tests {\n    //! Inner.\n    use super::*;\n    #[test]\n    // between\n    #[should_panic]\n    fn t() {}\n    #[tokio::test]\n    async fn u() {}\n    #[cfg(all(test, unix))]\n    mod not_test {}\n}\n",
        // Traits with signatures and defaults, extern blocks, macros at the top level.
        "pub unsafe trait T: Send + for<'a> F<'a> {\n    const C: u8;\n    type A: B;\n    fn sig(&self) -> impl Iterator<Item = u8>;\n    fn def(&self) {}\n}\nextern \"C\" {\n    fn ext(x: i32) -> i32;\n    static S: u8;\n}\n::windows_targets::link!(\"k\" \"system\" fn F() -> u8);\nmacro_rules! m { ($x:tt) => { fn g() {} } }\nunion U { a: u8, b: u16 }\npub enum E { A { x: u8 } = 1, B(u8) }\n",
        // Qualified functions, raw identifiers, contextual keywords as names.
        // Windows line ends: a comment holds its `\r`, a doc comment its `\r\n`.
        "// plain\r\nfn a() {}\r\n/// doc\r\n#[test]\r\nfn b() {}\r\n",
        "pub const unsafe extern \"C\" fn a() {}\nasync fn r#try() {}\nfn union() { let union = 1; let default = union; }\nstatic mut N: u8 = { fn in_static() -> u8 { 1 } in_static() };\n",
    ];
    for text in cases {
        assert!(rust_scan::scan(text).is_some(), "the scanner gave up on:\n{text}");
        let (_, scanned) = same_either_way(Language::Rust, text).unwrap_or_else(|e| panic!("{e}"));
        assert!(scanned, "{text}");
    }
}

/// Random Rust made of the constructs items live among: comments and doc comments (with and
/// without a blank line before the item), attributes, visibility, nested modules, impls and
/// traits, functions whose bodies hold statements, literals, macros and nested items.
fn random_rust(rng: &mut Rng, out: &mut String, depth: usize, container: &str) {
    let pick = |rng: &mut Rng, options: &[&'static str]| options[rng.below(options.len())];
    for _ in 0..1 + rng.below(4) {
        out.push_str(pick(rng, &["", "\n", "\n\n", "// TD-0001\n", "/* TD-0002 */\n", "/// Doc.\n", "    "]));
        if rng.below(3) == 0 {
            out.push_str(pick(
                rng,
                &[
                    "#[test]\n",
                    "#[cfg(test)]\n",
                    "#[derive(Debug)]\n",
                    "#[tokio::test]\n",
                    "#[cfg(all(test, unix))]\n",
                    "#[doc = \"x\"]\n",
                ],
            ));
            out.push_str(pick(rng, &["", "// between\n", "#[inline]\n"]));
        }
        let visibility = if container == "impl" && rng.below(2) == 0 {
            ""
        } else {
            pick(rng, &["", "pub ", "pub(crate) "])
        };
        let nest = depth < 3;
        match (container, rng.below(if nest { 10 } else { 6 })) {
            ("trait", n) if n % 2 == 0 => out.push_str("fn sig(&self) -> impl Iterator<Item = u8>;\n"),
            ("trait" | "impl", n) if n % 3 == 0 => out.push_str("const C: u8 = 1;\n"),
            ("trait" | "impl", _) => {
                out.push_str(pick(rng, &["fn ", "async fn ", "unsafe fn "]));
                out.push_str(pick(rng, &["m", "r#try", "union"]));
                out.push_str("<'a, T: Fn(&'a u8) -> u8>(&self, t: T) where T: Clone ");
                random_body(rng, out, depth);
            }
            (_, 0) => out.push_str("use std::{fmt, io::{self, Read}};\n"),
            (_, 1) => {
                out.push_str(visibility);
                out.push_str(pick(
                    rng,
                    &[
                        "struct S { f: [u8; 4], g: Box<dyn Fn() -> u8> }\n",
                        "struct T<X = u8>(X) where X: Copy;\n",
                        "struct U;\n",
                        "enum E { A { x: u8 } = 1, B(u8), C }\n",
                        "union N { a: u8, b: u16 }\n",
                    ],
                ));
            }
            (_, 2) => out.push_str(pick(
                rng,
                &[
                    "m! { fn hidden() {} }\n",
                    "crate::m!(fn hidden() {});\n",
                    "macro_rules! mac { ($x:tt) => { fn h() {} } }\n",
                ],
            )),
            (_, 3) => {
                out.push_str(visibility);
                out.push_str(pick(
                    rng,
                    &[
                        "static mut N: u8 = { fn in_static() -> u8 { 1 } in_static() };\n",
                        "const _: () = {};\n",
                        "type A<T> = Vec<T>;\n",
                    ],
                ));
            }
            (_, 4 | 5) => {
                out.push_str(visibility);
                out.push_str(pick(rng, &["fn ", "const fn ", "async fn ", "extern \"C\" fn "]));
                out.push_str(pick(rng, &["f", "g", "default"]));
                out.push_str(pick(rng, &["() ", "<T>(x: T) -> Option<T> ", "(s: &str) -> impl Fn() -> u8 "]));
                random_body(rng, out, depth);
            }
            (_, 6 | 7) => {
                out.push_str(pick(
                    rng,
                    &[
                        "impl<T> Tr for Vec<T> where T: X ",
                        "impl S ",
                        "unsafe impl Send for S ",
                        "impl !Sync for S ",
                    ],
                ));
                out.push_str("{\n");
                random_rust(rng, out, depth + 1, "impl");
                out.push_str("}\n");
            }
            (_, 8) => {
                out.push_str(visibility);
                out.push_str("trait Tr: Send + for<'a> F<'a> {\n");
                random_rust(rng, out, depth + 1, "trait");
                out.push_str("}\n");
            }
            _ => {
                out.push_str(visibility);
                out.push_str("mod m {\n");
                out.push_str(pick(rng, &["", "//! Inner.\n", "#![allow(x)]\n"]));
                random_rust(rng, out, depth + 1, "mod");
                out.push_str("}\n");
            }
        }
    }
}

fn random_body(rng: &mut Rng, out: &mut String, depth: usize) {
    out.push_str("{\n");
    for _ in 0..rng.below(5) {
        match rng.below(9) {
            0 => out.push_str("    let s = \"} // {\"; let r = r#\"}\"#; let c = '{'; let q = '\\'';\n"),
            1 => out.push_str("    if a < b { c(); } else { 'l: loop { break 'l; } }\n"),
            2 => out.push_str("    // TD-0003 in a body\n"),
            3 => out.push_str("    let f: fn(u8) -> u8 = |x| { x };\n"),
            4 => out.push_str("    unsafe { g() }; async move {}; vec![1, 2];\n"),
            5 => out.push_str("    match x { Some(y) => { y } None => 0 };\n"),
            6 if depth < 3 => {
                out.push_str("    ");
                random_rust(rng, out, depth + 1, "block");
            }
            _ => out.push_str("    quote! { impl X { fn no() {} } };\n"),
        }
    }
    out.push_str("}\n");
}

#[test]
fn the_rust_scanner_finds_what_the_parse_finds_on_random_rust() {
    let mut rng = Rng(0x5EED);
    let rounds: usize =
        std::env::var("CONCORD_RANDOM_RUST_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
    let mut scanned = 0;
    for _ in 0..rounds {
        let mut text = String::new();
        random_rust(&mut rng, &mut text, 0, "file");
        let (_, sure) = same_either_way(Language::Rust, &text).unwrap_or_else(|e| panic!("{text}\n{e}"));
        scanned += usize::from(sure);
    }
    // Most of what the generator writes is valid Rust the scanner is sure of.
    assert!(scanned * 10 > rounds * 8, "scanned {scanned} of {rounds}");
}
