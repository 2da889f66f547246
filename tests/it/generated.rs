//! What is derived from one table in the code must agree with it. Generated (on drift a test
//! fails and prints the expected text; `UPDATE_DOCS=1 cargo test --test generated` rewrites the
//! generated parts in place): the finding-code tables in docs/findings.md and
//! docs/configuration.md and the code list in findings.schema.json, from `findings::CODES`.
//! The file-type table in docs/configuration.md, from `languages::LANGUAGES`.
//! The quality-gate table in docs/formats.md and the `quality_gates` entries of
//! wbs.schema.json, from `model::quality_gates::KINDS`.
//! Checked: the agent presets the editor extensions offer, against `ops::agents::PRESETS`.

use std::path::{Path, PathBuf};

use concord::findings::{CodeSpec, CODES};
use concord::languages::{Role, LANGUAGES};
use concord::model::quality_gates::{self, KINDS};
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn write(rel: &str, text: &str) {
    concord::fsutil::write_atomic(&repo_root().join(rel), text.as_bytes())
        .unwrap_or_else(|e| panic!("cannot write {rel}: {e}"));
}

/// The part of `text` between the marker comments of `section`, and where it is.
fn generated_part(text: &str, rel: &str, section: &str) -> std::ops::Range<usize> {
    let begin = format!("<!-- generated: {section} -->\n");
    let end = format!("<!-- end generated: {section} -->");
    let start = text.find(&begin).unwrap_or_else(|| panic!("{rel} has no `{}` marker", begin.trim_end()))
        + begin.len();
    let stop = text[start..]
        .find(&end)
        .unwrap_or_else(|| panic!("{rel} has no `{end}` marker after its begin marker"))
        + start;
    start..stop
}

/// Compare the generated section of a docs page with `expected`; rewrite it when updating.
fn check_section(rel: &str, section: &str, expected: &str) {
    let text = read(rel);
    let range = generated_part(&text, rel, section);
    if text[range.clone()] == *expected {
        return;
    }
    if updating() {
        let mut updated = text.clone();
        updated.replace_range(range, expected);
        write(rel, &updated);
        return;
    }
    panic!(
        "the `{section}` part of {rel} does not match the table it is generated from; \
         run `UPDATE_DOCS=1 cargo test --test generated` or replace it with:\n\n{expected}"
    );
}

/// A markdown table cell: no line breaks, and `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

fn default_column(spec: &CodeSpec) -> String {
    if spec.default_note.is_empty() {
        spec.default_severity.as_str().to_string()
    } else {
        format!("{}; {}", spec.default_severity.as_str(), spec.default_note)
    }
}

fn findings_table() -> String {
    let mut out = String::from("| code | default | what it means | what to do |\n|---|---|---|---|\n");
    for spec in &CODES {
        out.push_str(&format!(
            "| <a id=\"{name}\"></a>`{name}` | {} | {} | {} |\n",
            cell(&default_column(spec)),
            cell(spec.summary),
            cell(spec.help),
            name = spec.name,
        ));
    }
    out
}

fn severity_keys_table() -> String {
    let mut out = String::from("| key | default | reported when |\n|---|---|---|\n");
    for spec in &CODES {
        out.push_str(&format!(
            "| [`{name}`](findings.md#{name}) | `\"{}\"`{} | {} |\n",
            spec.default_severity.as_str(),
            if spec.default_note.is_empty() {
                String::new()
            } else {
                format!("; {}", cell(spec.default_note))
            },
            cell(spec.summary),
            name = spec.name,
        ));
    }
    out
}

fn file_types_table() -> String {
    let mut out =
        String::from("| file type | extensions | role | tag comment | parsed |\n|---|---|---|---|---|\n");
    for spec in LANGUAGES {
        let extensions: Vec<String> = spec.extensions.iter().map(|e| format!("`.{e}`")).collect();
        let role = match spec.role {
            Role::Source => "source",
            Role::Doc => "doc",
            Role::Other => "other",
        };
        out.push_str(&format!(
            "| {} | {} | {role} | `{}` | {} |\n",
            spec.name,
            cell(&extensions.join(" ")),
            cell(concord::languages::tag_comment(&format!("a.{}", spec.extensions[0]), "TD-0103").trim_end()),
            if spec.parser.is_some() { "yes" } else { "" },
        ));
    }
    out
}

fn quality_gates_table() -> String {
    let mut out = String::from("| gate | argument | what it checks | example |\n|---|---|---|---|\n");
    for kind in &KINDS {
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` |\n",
            cell(&quality_gates::shape(kind)),
            kind.argument.as_str(),
            cell(kind.description),
            cell(kind.example),
        ));
    }
    out
}

#[test]
fn formats_page_lists_every_quality_gate_from_the_table() {
    check_section("docs/formats.md", "quality gates", &quality_gates_table());
}

const WBS_SCHEMA: &str = "docs/schemas/wbs.schema.json";

/// The description and the entry pattern of `quality_gates` in wbs.schema.json, as the table
/// says they are. The pattern is the canonical spelling (lower case, no spaces around the name).
fn schema_quality_gates() -> (String, String) {
    let shapes: Vec<String> = KINDS.iter().map(|k| format!("`{}`", quality_gates::shape(k))).collect();
    let description = format!(
        "Gates `concord review` runs on the item's work, one per entry, each named `quality <entry>`: {}. \
         An entry that is not understood is a `malformed-file` finding, and the review fails it. See docs/formats.md#quality-gates.",
        shapes.join(", ")
    );
    let alternatives: Vec<String> = KINDS
        .iter()
        .map(|k| match k.argument {
            quality_gates::Argument::None => k.name.to_string(),
            quality_gates::Argument::Count => format!("{}: *[1-9][0-9]*", k.name),
            quality_gates::Argument::Command => format!("{}: *\\S.*", k.name),
        })
        .collect();
    (description, format!("^({})$", alternatives.join("|")))
}

/// The schema is hand-formatted, so an update swaps the two values' text and leaves the rest.
#[test]
fn wbs_schema_lists_every_quality_gate_from_the_table() {
    let text = read(WBS_SCHEMA);
    let schema: Value = serde_json::from_str(&text).expect("wbs.schema.json is JSON");
    let gates = &schema["$defs"]["item"]["properties"]["quality_gates"];
    let (description, pattern) = schema_quality_gates();
    if gates["description"] == description.as_str() && gates["items"]["pattern"] == pattern.as_str() {
        // The pattern takes what the loader takes: every example, and no misspelling.
        let pattern = regex::Regex::new(&pattern).unwrap();
        for kind in &KINDS {
            assert!(pattern.is_match(kind.example), "{}", kind.example);
        }
        for bad in ["max-file:3", "max-files:0", "command:", "tests-changed:yes"] {
            assert!(!pattern.is_match(bad), "{bad}");
        }
        return;
    }
    let line = |key: &str, v: &Value| format!("\"{key}\": {}", serde_json::to_string(v).unwrap());
    let old = [line("description", &gates["description"]), line("pattern", &gates["items"]["pattern"])];
    let new = [line("description", &Value::from(description)), line("pattern", &Value::from(pattern))];
    if updating() && old.iter().all(|o| text.matches(o.as_str()).count() == 1) {
        write(WBS_SCHEMA, &text.replace(&old[0], &new[0]).replace(&old[1], &new[1]));
        return;
    }
    panic!(
        "{WBS_SCHEMA}: $defs.item.properties.quality_gates does not describe the gates of \
         model::quality_gates::KINDS; run `UPDATE_DOCS=1 cargo test --test it generated::` or set, \
         on one line each:\n{}\n{}",
        new[0], new[1]
    );
}

#[test]
fn configuration_page_lists_every_file_type_from_the_table() {
    check_section("docs/configuration.md", "file types", &file_types_table());
}

#[test]
fn findings_page_lists_every_code_from_the_table() {
    check_section("docs/findings.md", "finding codes", &findings_table());
}

#[test]
fn configuration_page_lists_every_severity_key_from_the_table() {
    check_section("docs/configuration.md", "severity keys", &severity_keys_table());
}

const FINDINGS_SCHEMA: &str = "docs/schemas/findings.schema.json";

/// The two values of findings.schema.json that list the codes, as the table says they are.
fn schema_code_list() -> (String, Vec<String>) {
    let names: Vec<String> = CODES.iter().map(|c| c.name.to_string()).collect();
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let description = format!(
        "A stable, kebab-case name for the kind of finding. Known codes: {}. More codes may be added, \
         so readers must accept codes they do not know.",
        quoted.join(", ")
    );
    (description, names)
}

/// The schema is hand-formatted, so an update swaps the two values' text and leaves the rest.
#[test]
fn findings_schema_lists_every_code_from_the_table() {
    let text = read(FINDINGS_SCHEMA);
    let schema: Value = serde_json::from_str(&text).expect("findings.schema.json is JSON");
    let code = &schema["$defs"]["finding"]["properties"]["code"];
    let (description, names) = schema_code_list();
    let expected_examples = Value::from(names.clone());
    if code["description"] == description.as_str() && code["examples"] == expected_examples {
        return;
    }
    let inline = |v: &Value| -> String {
        match v {
            Value::Array(items) => format!(
                "[{}]",
                items.iter().map(|i| serde_json::to_string(i).unwrap()).collect::<Vec<_>>().join(", ")
            ),
            other => serde_json::to_string(other).unwrap(),
        }
    };
    let old_description = format!("\"description\": {}", inline(&code["description"]));
    let old_examples = format!("\"examples\": {}", inline(&code["examples"]));
    let new_description = format!("\"description\": {}", inline(&Value::from(description.clone())));
    let new_examples = format!("\"examples\": {}", inline(&expected_examples));
    if updating() && text.matches(&old_description).count() == 1 && text.matches(&old_examples).count() == 1 {
        let updated = text.replace(&old_description, &new_description).replace(&old_examples, &new_examples);
        write(FINDINGS_SCHEMA, &updated);
        return;
    }
    panic!(
        "{FINDINGS_SCHEMA}: $defs.finding.properties.code does not list the codes of findings::CODES; \
         run `UPDATE_DOCS=1 cargo test --test generated` or set, on one line each:\n{new_description}\n{new_examples}"
    );
}

#[test]
fn explain_and_the_severity_keys_know_every_code_of_the_table() {
    for spec in &CODES {
        assert_eq!(concord::findings::Code::parse(spec.name), Some(spec.code));
        assert_eq!(spec.code.spec(), spec);
        let toml = format!("[severity]\n{} = \"hint\"\n", spec.name);
        let config = concord::config::Config::parse(Some(&toml)).expect("a table name is a severity key");
        assert_eq!(config.severity(spec.code), Some(concord::findings::Severity::Hint), "{}", spec.name);
    }
    let err = concord::config::Config::parse(Some("[severity]\nuntraced-files = \"off\"\n")).unwrap_err();
    assert!(err.message.contains("unknown finding code `untraced-files`"), "{}", err.message);
    assert!(err.message.contains("`untraced-file`"), "the error lists the known codes: {}", err.message);
    assert_eq!(err.span.map(|s| s.start.line), Some(1), "the error is at the key");
}

/// The names in backticks inside the parentheses after `a preset (` in a setting's description.
fn presets_offered(description: &str) -> Option<Vec<String>> {
    let list = description.split_once("a preset (")?.1.split_once(')')?.0;
    Some(list.split(',').map(|name| name.trim().trim_matches('`').to_string()).collect())
}

#[test]
fn every_listed_preset_resolves_to_the_command_it_names() {
    use concord::ops::agents::{preset, PRESETS};
    for name in PRESETS {
        let cli = preset(name).unwrap_or_else(|| panic!("{name} is listed in PRESETS but has no preset"));
        assert_eq!(cli.argv.first().map(String::as_str), Some(*name), "a preset is named after its command");
    }
    assert!(preset("claude-code").is_none(), "the server knows Claude Code as `claude`, its command");
}

#[test]
fn the_editor_extensions_offer_the_servers_presets() {
    let presets: Vec<String> = concord::ops::agents::PRESETS.iter().map(|p| p.to_string()).collect();
    for manifest in ["editors/vscode/package.json", "editors/cursor/package.json"] {
        let json: Value = serde_json::from_str(&read(manifest)).unwrap_or_else(|e| panic!("{manifest}: {e}"));
        let setting = &json["contributes"]["configuration"]["properties"]["concord.agent.preset"];
        let description = setting["markdownDescription"].as_str().unwrap_or_default();
        assert_eq!(
            presets_offered(description).as_ref(),
            Some(&presets),
            "{manifest}: concord.agent.preset must say \"a preset (`{}`)\" (ops::agents::PRESETS); it says {description:?}",
            presets.join("`, `"),
        );
        // Custom `[agents.NAME]` entries are valid too, so the setting takes any string.
        let default =
            setting["default"].as_str().unwrap_or_else(|| panic!("{manifest}: the default is a string"));
        assert!(
            default.is_empty() || presets.iter().any(|p| p == default),
            "{manifest}: default {default:?}"
        );
    }
}

/// Every schema generated from a type in `formats` is committed as generated.
#[test]
fn format_schemas_are_generated_from_their_types() {
    let mut stale = Vec::new();
    for schema in concord::formats::SCHEMAS {
        let rel = format!("docs/schemas/{}", schema.file);
        let expected = schema.render();
        let current = std::fs::read_to_string(repo_root().join(&rel)).unwrap_or_default();
        if current == expected {
            continue;
        }
        if updating() {
            write(&rel, &expected);
        } else {
            stale.push(format!("{rel}:\n{expected}"));
        }
    }
    assert!(
        stale.is_empty(),
        "these schemas differ from what their types in server/src/formats.rs generate; \
         run `UPDATE_DOCS=1 cargo test --test generated` or write:\n\n{}",
        stale.join("\n")
    );
}

/// A schema under docs/schemas/: generated from its type, or written by hand.
fn format_schema(file: &str) -> jsonschema::Validator {
    let schema: Value = match concord::formats::SCHEMAS.iter().find(|s| s.file == file) {
        Some(generated) => serde_json::from_str(&generated.render()).unwrap(),
        None => serde_json::from_str(&read(&format!("docs/schemas/{file}"))).unwrap(),
    };
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{file} is not a valid schema: {e}"))
}

fn assert_valid(file: &str, instance: &Value) {
    let errors: Vec<String> =
        format_schema(file).iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{file} rejects {instance}: {errors:?}");
}

/// What the writer wrote reads back into the type and serializes to the same JSON.
fn assert_round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(written: &Value) {
    let typed: T = serde_json::from_value(written.clone())
        .unwrap_or_else(|e| panic!("{written} does not read as the type: {e}"));
    assert_eq!(&serde_json::to_value(&typed).unwrap(), written);
}

#[test]
fn each_schema_accepts_its_own_examples() {
    for schema in concord::formats::SCHEMAS {
        let generated: Value = serde_json::from_str(&schema.render()).unwrap();
        for example in generated["examples"].as_array().into_iter().flatten() {
            assert_valid(schema.file, example);
        }
    }
}

#[test]
fn what_the_writers_write_fits_the_types_and_schemas() {
    use concord::formats::{Crosswalk, LockFile, QueueEvent};
    // Queue event, as ops::queue appends it.
    let event = concord::ops::queue::Event {
        attempt: Some(2),
        run: Some("WBS-005-2"),
        host: Some("build-1"),
        pid: Some(4242),
        review: Some("docs/reviews/WBS-005-2.json"),
        ..concord::ops::queue::Event::new(
            "WBS-005",
            concord::model::Status::Review,
            "AGENT-2",
            "run finished",
        )
    };
    let written: Value = serde_json::from_str(&event.line("2026-11-20T10:02:11Z")).unwrap();
    assert_valid("queue-event.schema.json", &written);
    assert_round_trip::<QueueEvent>(&written);

    // Crosswalk, as `concord crosswalk` writes it for a fixture workspace.
    let ws = concord::workspace::Workspace::load(&repo_root().join("tests/fixtures/basic"))
        .expect("fixture loads");
    let files = concord::coverage::files_of(&ws.config, &ws.model, ws.facts());
    let written: Value =
        serde_json::from_str(&concord::analysis::analyze(&ws).coverage.to_crosswalk_json(&files)).unwrap();
    assert_valid("crosswalk.schema.json", &written);
    assert_round_trip::<Crosswalk>(&written);

    // Lock, as `concord lock acquire` writes it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("ops")).unwrap();
    std::fs::write(
        dir.path().join("ops/wbs.json"),
        r#"[{"id": "WBS-001", "title": "t", "scope_paths": ["src/**"]}]"#,
    )
    .unwrap();
    let config = concord::config::Config::default();
    let locks = concord::ops::locks::LockDir::new(dir.path(), &config);
    locks.acquire(dir.path(), &config, "AGENT-1", "WBS-001", None).expect("the lock is taken");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ops/locks/AGENT-1.lock")).unwrap())
            .unwrap();
    assert_valid("lock.schema.json", &written);
    assert_round_trip::<LockFile>(&written);
}

#[test]
fn review_decision_schema_is_what_the_reviewers_are_held_to() {
    let decision = serde_json::json!({
        "wbs_id": "WBS-005", "decision": "partial", "recommended_status": "todo", "summary": "One test gap.",
        "risks": [{ "id": "R1", "severity": "low", "description": "d", "evidence": null }],
        "missing_deliverables": [], "test_gaps": ["refund of zero"],
        "followups": [{ "title": "t", "summary": "s", "blocking": false, "scope_paths": ["src/**"] }],
        "acceptance": [{ "criterion": "c", "result": "unknown" }],
        "owner_questions": [{ "question": "Tax shown?", "options": ["With tax.", "Without."], "recommended": null, "reason": "law" }],
    });
    assert_valid("review-decision.schema.json", &decision);
    assert_round_trip::<concord::formats::ReviewDecision>(&decision);
    let provider_schema = concord::ops::llm::decision_schema();
    concord::ops::llm::validate(&provider_schema, &decision, "decision").expect("the local check accepts it");
    let mut extra = decision.clone();
    extra["risks"][0]["note"] = Value::from("x");
    assert!(
        concord::ops::llm::validate(&provider_schema, &extra, "decision").is_err(),
        "nested objects are closed"
    );
    assert!(format_schema("review-decision.schema.json").iter_errors(&extra).next().is_some());
    let gates = serde_json::json!({ "wbs_id": "WBS-005", "report": "", "passed": true, "gates": [{ "name": "tests", "passed": true, "detail": "ok" }] });
    assert_valid("gates.schema.json", &gates);
    assert_round_trip::<concord::formats::GatesFile>(&gates);
}

/// The loaders and the schemas agree on real files: every ops file of the demo workspace is
/// valid under its schema and loads without a finding, and so does what the writers write.
#[test]
fn the_loaders_read_what_the_schemas_accept() {
    let demo = repo_root().join("examples/marketplace");
    let config = concord::config::Config::parse(None).unwrap();
    let text = |rel: &str| std::fs::read_to_string(demo.join(rel)).unwrap();
    let json = |rel: &str| -> Value { serde_json::from_str(&text(rel)).unwrap() };
    let no_findings = |what: &str, findings: Vec<concord::findings::Finding>| {
        assert!(findings.is_empty(), "{what}: {findings:?}");
    };

    let wbs = "ops/wbs.json";
    assert_valid("wbs.schema.json", &json(wbs));
    let (items, findings) = concord::model::parse_wbs(&config, wbs, &text(wbs));
    no_findings(wbs, findings);
    assert!(items.len() > 10);

    let index = "docs/blueprints/blueprint_index.json";
    assert_valid("blueprint-index.schema.json", &json(index));
    let (chunks, findings) = concord::model::parse_index(&config, index, &text(index));
    no_findings(index, findings);
    assert!(chunks.len() > 100);

    let access = "ops/access/status.json";
    assert_valid("access-status.schema.json", &json(access));
    no_findings(access, concord::model::parse_access(access, &text(access)).1);

    // The demo's queue holds one deliberately torn line: the loader reports exactly the lines
    // that are not JSON, and every other line is a valid event.
    let queue = "ops/queue.jsonl";
    let mut torn = Vec::new();
    for (n, line) in text(queue).lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(line) {
            Ok(event) => assert_valid("queue-event.schema.json", &event),
            Err(_) => torn.push(n as u32),
        }
    }
    let findings = concord::model::parse_queue(queue, &text(queue)).1;
    assert_eq!(findings.iter().map(|f| f.span.start.line).collect::<Vec<_>>(), torn, "{findings:?}");

    for line in text("ops/model-decisions.jsonl").lines().filter(|l| !l.trim().is_empty()) {
        assert_valid("model-decision.schema.json", &serde_json::from_str(line).unwrap());
    }

    let lock = "ops/locks/AGENT-2.lock";
    assert_valid("lock.schema.json", &json(lock));
    assert!(concord::model::parse_lock(lock, &text(lock)).is_ok());

    // What the writers write loads again: the crosswalk of the demo, a queue line, a lock.
    let ws = concord::workspace::Workspace::load(&demo).expect("the demo loads");
    let files = concord::coverage::files_of(&ws.config, &ws.model, ws.facts());
    let crosswalk = concord::analysis::analyze(&ws).coverage.to_crosswalk_json(&files);
    assert_valid("crosswalk.schema.json", &serde_json::from_str(&crosswalk).unwrap());
    no_findings("crosswalk", concord::model::parse_crosswalk("crosswalk.json", &crosswalk).1);
    let line = concord::ops::queue::Event {
        run: Some("WBS-005-1"),
        ..concord::ops::queue::Event::new("WBS-005", concord::model::Status::Todo, "concord", "requeued")
    }
    .line("2026-11-20T10:02:11Z");
    no_findings("queue line", concord::model::parse_queue("q.jsonl", &line).1);
    for example in json_schema_examples("lock.schema.json") {
        assert!(concord::model::parse_lock("ops/locks/AGENT-3.lock", &example.to_string()).is_ok());
    }
}

fn json_schema_examples(file: &str) -> Vec<Value> {
    let schema: Value = serde_json::from_str(&read(&format!("docs/schemas/{file}"))).unwrap();
    schema["examples"].as_array().cloned().unwrap_or_default()
}
