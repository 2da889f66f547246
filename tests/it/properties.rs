//! Invariants that are easier to state than to enumerate, checked on generated input (bounded,
//! so the suite stays fast; a failure prints the shrunk case to reproduce).

use concord::globs::may_overlap;
use concord::json::{self, Json};
use concord::text::{utf16_to_byte, LineIndex};
use globset::GlobBuilder;
use proptest::prelude::*;
use serde_json::Value;

// ---------------------------------------------------------------- glob overlap vs brute force

/// Segment patterns whose witnesses are at most two characters long over {a, b}.
const SEGMENTS: &[&str] = &["a", "b", "ab", "*", "?", "a*", "*b", "[ab]", "[!a]", "{a,ba}", "**"];

fn glob() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SEGMENTS), 1..=3).prop_map(|segments| segments.join("/"))
}

/// Every path of depth 1..=4 whose names are one or two of `a`, `b`: enough to hold a witness
/// for any two generated globs (each names at most three segments, two of them at most
/// two characters apart).
fn universe() -> &'static [String] {
    static PATHS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        let names = ["a", "b", "aa", "ab", "ba", "bb"];
        let mut paths: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut last = paths.clone();
        for _ in 1..4 {
            last = last.iter().flat_map(|p| names.iter().map(move |n| format!("{p}/{n}"))).collect();
            paths.extend(last.iter().cloned());
        }
        paths
    })
}

fn matcher(pattern: &str) -> globset::GlobMatcher {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .expect("generated globs compile")
        .compile_matcher()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The overlap decision agrees with globset, the matcher every scope check uses: two globs
    /// overlap exactly when some path matches both.
    #[test]
    fn glob_overlap_agrees_with_globset_on_every_path(a in glob(), b in glob()) {
        let (left, right) = (matcher(&a), matcher(&b));
        let witness = universe().iter().find(|p| left.is_match(p.as_str()) && right.is_match(p.as_str()));
        prop_assert_eq!(may_overlap(&a, &b), witness.is_some(), "{} vs {}: witness {:?}", a, b, witness);
        prop_assert_eq!(may_overlap(&a, &b), may_overlap(&b, &a), "symmetric");
    }
}

// ---------------------------------------------------------------- the positioned JSON reader

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"\\\\é]{0,4}", inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Our tree, as serde_json's (numbers through their source text).
fn to_serde(json: &Json) -> Value {
    match &json.value {
        json::Value::Null => Value::Null,
        json::Value::Bool(b) => Value::Bool(*b),
        json::Value::Number(text) => serde_json::from_str(text).expect("a number's source text is a number"),
        json::Value::String(s) => Value::String(s.to_string()),
        json::Value::Array(items) => Value::Array(items.iter().map(to_serde).collect()),
        json::Value::Object(members) => {
            Value::Object(members.iter().map(|m| (m.key.to_string(), to_serde(&m.value))).collect())
        }
        json::Value::Skipped => panic!("nothing is skipped here"),
    }
}

/// Every value's span holds exactly that value's text, and every key's offset its quote.
fn check_spans(text: &str, json: &Json) -> Result<(), TestCaseError> {
    let slice = &text[json.start..json.end];
    let reparsed: Value =
        serde_json::from_str(slice).map_err(|e| TestCaseError::fail(format!("{slice:?}: {e}")))?;
    prop_assert_eq!(&reparsed, &to_serde(json));
    match &json.value {
        json::Value::Array(items) => items.iter().try_for_each(|item| check_spans(text, item)),
        json::Value::Object(members) => members.iter().try_for_each(|m| {
            prop_assert_eq!(&text[m.key_start..m.key_start + 1], "\"");
            check_spans(text, &m.value)
        }),
        _ => Ok(()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// What serde_json writes, compact or pretty, reads back as the same value, with every span
    /// exact.
    #[test]
    fn json_round_trips_with_exact_spans(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }.unwrap();
        let parsed = json::parse(&text, &[]).map_err(|e| TestCaseError::fail(format!("{text}: {e:?}")))?;
        prop_assert_eq!(to_serde(&parsed), value);
        check_spans(&text, &parsed)?;
    }

    /// Arbitrary text never panics the reader, and an error's offset lies inside the text.
    #[test]
    fn json_errors_are_positioned_inside_the_text(text in "[\\[\\]{}\":,0-9a-z\\\\ \n.eE+-]{0,40}") {
        if let Err(error) = json::parse(&text, &[]) {
            prop_assert!(error.offset <= text.len(), "{:?} at {}", text, error.offset);
            prop_assert!(!error.message.is_empty());
        }
    }
}

// ---------------------------------------------------------------- UTF-16 / UTF-8 positions

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every character boundary maps to a (line, UTF-16 column) that maps back to it, as an
    /// editor's positions must; and UTF-8 columns agree with byte offsets.
    #[test]
    fn positions_round_trip_through_utf16(text in "(a|é|𝄞|\n|\r\n|\t| |中){0,40}") {
        let index = LineIndex::new(&text);
        for (offset, _) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            let at = index.line_col(&text, offset);
            let line_start = index.line_start(at.line as usize).expect("the line exists");
            let line_text = index.line_text(&text, at.line as usize);
            if offset - line_start > line_text.len() {
                continue; // inside the line break itself
            }
            prop_assert_eq!(line_start + utf16_to_byte(line_text, at.utf16 as usize), offset);
            prop_assert_eq!(at.utf8 as usize, offset - line_start);
        }
    }
}

// ---------------------------------------------------------------- ops files and config, mutated

/// Valid examples of each ops file, mutated by the strategy below.
const SEEDS: &[(&str, &str)] = &[
    ("ops/queue.jsonl", "{\"id\":\"WBS-001\",\"status\":\"todo\",\"at\":\"2026-11-20T10:00:00Z\"}\n{\"id\":\"WBS-001\",\"status\":\"in_progress\",\"agent\":\"A1\"}\n"),
    ("ops/wbs.json", "{\"items\":[{\"id\":\"WBS-001\",\"title\":\"Pay\",\"blueprint_ids\":[\"TD-0001\"],\"scope_paths\":[\"src/**\"],\"risk_level\":\"low\",\"depends_on\":[]}]}"),
    ("ops/locks/A1.lock", "{\"agent\":\"A1\",\"task_id\":\"WBS-001\",\"scope_paths\":[\"src/{a,b}/**\"],\"acquired_at\":\"2026-11-20T10:00:00Z\"}"),
    ("docs/blueprints/blueprint_index.json", "{\"version\":1,\"chunks\":[{\"id\":\"TD-0001\",\"title\":\"Pay\",\"summary\":\"s\",\"source\":\"docs/a.md\",\"line\":3,\"priority\":\"must\"}]}"),
    ("ops/access/status.json", "{\"checks\":[{\"id\":\"stripe\",\"status\":\"PASS\"}]}"),
];

const CONFIG_SEED: &str = "[paths]\nwbs = \"ops/wbs.json\"\n\n[trace]\ninclude = [\"src/**\"]\nlevel = \"item\"\n\n[locks]\nstale_after = \"24h\"\n";

/// A seed with a few bytes replaced, inserted or deleted, from an alphabet of JSON and TOML
/// punctuation, digits, letters, quotes, escapes, line breaks and multi-byte characters.
fn mutated(seed: &'static str) -> impl Strategy<Value = String> {
    let alphabet = prop::sample::select(vec![
        "{", "}", "[", "]", "\"", ":", ",", "\\", "\\u", "\n", "\r", " ", "0", "-1", "1e999", "null", "true",
        "x", "é", "𝄞", "\u{0}", "=", "#", "**", "..", "/",
    ]);
    prop::collection::vec((0..seed.len() + 1, 0usize..4, alphabet), 1..6).prop_map(move |edits| {
        let mut text = seed.to_string();
        for (at, cut, insert) in edits {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.replace_range(at..end.max(at), insert);
        }
        text
    })
}

fn every_finding_is_inside(text: &str, findings: &[concord::findings::Finding]) -> Result<(), TestCaseError> {
    let lines = LineIndex::new(text).line_count().max(1) as u32;
    for finding in findings {
        prop_assert!(finding.span.start.line <= lines, "{finding:?} past the end of {text:?}");
        prop_assert!(!finding.message.is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// A mutated ops file never panics its reader, and every finding is positioned in the file.
    #[test]
    fn mutated_ops_files_give_positioned_findings(
        (path, text) in (0..SEEDS.len()).prop_flat_map(|i| (Just(SEEDS[i].0), mutated(SEEDS[i].1)))
    ) {
        let config = concord::config::Config::default();
        if let Some(findings) = concord::model::ops_file_findings(&config, path, &text) {
            every_finding_is_inside(&text, &findings)?;
        }
    }

    /// A mutated concord.toml is read or refused with a message, never a panic; a position,
    /// when given, is inside the file.
    #[test]
    fn mutated_config_is_read_or_refused_with_a_position(text in mutated(CONFIG_SEED)) {
        if let Err(error) = concord::config::Config::parse(Some(&text)) {
            prop_assert!(!error.message.is_empty());
            if let Some(span) = error.span {
                // Lines as editors count them: a lone `\r` ends one too.
                let lines = LineIndex::new(&text).line_count().max(1);
                prop_assert!(span.start.line as usize <= lines, "{error:?} in {text:?}");
            }
        }
    }
}
