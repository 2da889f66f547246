//! The CLI end to end: the real binary on fixtures and on the demo workspace.

use crate::common;

use serde_json::Value;

fn json_report(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["check", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let out = common::concord(&args, Some(dir));
    let value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", common::stdout(&out)));
    (out.status.code(), value)
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = common::fixture("basic");
    assert_eq!(common::concord(&["check", "."], Some(&dir)).status.code(), Some(1));
    assert_eq!(common::concord(&["check", ".", "--fail-on", "never"], Some(&dir)).status.code(), Some(0));
    let clean = common::workspace(&[("README.md", b"nothing to trace\n")]);
    assert_eq!(common::concord(&["check", "."], Some(clean.path())).status.code(), Some(0));
    // Warnings only: fail on warning, pass on error.
    let warn = common::workspace(&[("src/a.py", b"x = 1\n")]);
    assert_eq!(common::concord(&["check", "."], Some(warn.path())).status.code(), Some(0));
    assert_eq!(
        common::concord(&["check", ".", "--fail-on", "warning"], Some(warn.path())).status.code(),
        Some(1)
    );
    // Usage errors.
    assert_eq!(common::concord(&["check", "/definitely/not/here"], None).status.code(), Some(2));
    assert_eq!(common::concord(&["check", "--format", "xml"], None).status.code(), Some(2));
}

#[test]
fn json_output_matches_its_schema() {
    let (code, report) = json_report(&common::fixture("basic"), &[]);
    assert_eq!(code, Some(1));
    let errors = common::validate(&common::repo_root().join("docs/schemas/findings.schema.json"), &report);
    assert!(errors.is_empty(), "{errors:#?}");
    let codes: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    for code in [
        "unknown-id",
        "untraced-file",
        "unknown-reference",
        "uncovered-chunk",
        "malformed-file",
        "duplicate-id",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert_eq!(report["summary"]["gate"]["passed"], Value::Bool(false));
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let dir = common::fixture("basic");
    let out = common::concord(&["check", ".", "--format", "sarif"], Some(&dir));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = common::validate(&common::sarif_schema(), &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r["help"]["text"].as_str().is_some_and(|t| !t.is_empty())));
    for result in run["results"].as_array().unwrap() {
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/') && !uri.contains("://"), "relative URIs only: {uri}");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], result["ruleId"]);
    }
}

#[test]
fn text_output_is_compiler_style_with_a_summary() {
    let dir = common::fixture("basic");
    let out = common::concord(&["check", "."], Some(&dir));
    let text = common::stdout(&out);
    assert!(text.contains("services/payments/refunds.py:2:7: error[unknown-id]: TD-0130 is not a known ID. Did you mean TD-0103"), "{text}");
    assert!(text.contains("coverage gate: FAILED"), "{text}");
    assert!(text.contains("coverage: 2/5 chunks covered"), "{text}");
}

#[test]
fn output_file_is_written_whole() {
    let dir = common::fixture("basic");
    let target = tempfile::tempdir().unwrap();
    let file = target.path().join("report.sarif");
    let out =
        common::concord(&["check", ".", "--format", "sarif", "--output", file.to_str().unwrap()], Some(&dir));
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).is_empty());
    let _: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // `concord check --format json | head -c 20`: the report is streamed, and a closed pipe
    // ends the write quietly with the check's own exit code.
    use std::io::Read;
    let dir = common::demo(); // its report is larger than a pipe's buffer
    let full = common::concord(&["check", ".", "--format", "json"], Some(&dir));
    assert!(full.stdout.len() > 1 << 16, "the demo's report is {} bytes", full.stdout.len());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["check", ".", "--format", "json"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 20];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"{"), "{}", String::from_utf8_lossy(&first));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), full.status.code(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn crosswalk_is_deterministic_atomic_and_checkable() {
    let src = common::fixture("basic");
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&src, dir.path());
    let target = dir.path().join("docs/blueprints/crosswalk.json");

    let check = common::concord(&["crosswalk", ".", "--check"], Some(dir.path()));
    assert_eq!(check.status.code(), Some(1), "missing crosswalk is out of date");
    assert!(!target.exists(), "--check writes nothing");

    let first = common::concord(&["crosswalk", "."], Some(dir.path()));
    assert_eq!(first.status.code(), Some(0), "{}", common::stderr(&first));
    assert!(common::stdout(&first).contains("coverage: 2/5 chunks covered"));
    let written = std::fs::read_to_string(&target).unwrap();
    let crosswalk: Value = serde_json::from_str(&written).unwrap();
    let errors =
        common::validate(&common::repo_root().join("docs/schemas/crosswalk.schema.json"), &crosswalk);
    assert!(errors.is_empty(), "{errors:#?}");
    let td0103 =
        crosswalk["chunks"].as_array().unwrap().iter().find(|c| c["blueprint_id"] == "TD-0103").unwrap();
    assert_eq!(td0103["status"], "covered");
    assert_eq!(td0103["code_paths"], serde_json::json!(["services/payments/stripe.py"]));
    assert_eq!(td0103["test_paths"], serde_json::json!(["tests/test_stripe.py"]));

    let second = common::concord(&["crosswalk", "."], Some(dir.path()));
    assert!(common::stdout(&second).contains("up to date"));
    assert_eq!(written, std::fs::read_to_string(&target).unwrap(), "byte-identical on rerun");
    assert_eq!(common::concord(&["crosswalk", ".", "--check"], Some(dir.path())).status.code(), Some(0));
    let leftovers: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");
}

#[test]
fn the_demo_shows_every_core_finding_code() {
    let (code, report) = json_report(&common::demo(), &[]);
    assert_eq!(code, Some(1));
    let codes: std::collections::BTreeSet<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    for code in [
        "unknown-id",
        "untraced-file",
        "unknown-reference",
        "uncovered-chunk",
        "malformed-file",
        "duplicate-id",
    ] {
        assert!(codes.contains(code), "the demo should show {code}; it shows {codes:?}");
    }
    assert!(report["summary"]["coverage"]["chunks"].as_u64().unwrap() >= 300);
    assert_eq!(report["summary"]["gate"]["passed"], Value::Bool(false));
}

#[test]
fn explain_lists_every_code() {
    let out = common::concord(&["explain"], None);
    assert_eq!(out.status.code(), Some(0));
    for code in concord::findings::Code::ALL {
        assert!(common::stdout(&out).contains(code.as_str()));
    }
    assert_eq!(common::concord(&["explain", "no-such-code"], None).status.code(), Some(2));
}

/// A Stripe-shaped key made at run time: the repository holds no key-shaped literal.
fn generated_stripe_key(seed: u64) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = seed | 1;
    let body: String = (0..32)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            alphabet[(state % alphabet.len() as u64) as usize] as char
        })
        .collect();
    ["sk", "live", &body].join("_")
}

#[test]
fn secrets_are_reported_redacted_allowed_inline_and_baselined() {
    let key = generated_stripe_key(42);
    let code = format!("# TD-0001\nimport os\nSTRIPE = \"{key}\"\n");
    let allowed = format!("# TD-0001\nSTRIPE = \"{key}\"  # concord:allow-secret\n");
    let dir = common::workspace(&[
        ("docs/blueprints/blueprint_index.json", br#"[{"id": "TD-0001", "title": "Payments"}]"#),
        ("src/pay.py", code.as_bytes()),
        ("src/allowed.py", allowed.as_bytes()),
    ]);
    for format in ["text", "json", "sarif"] {
        let out = common::concord(&["check", ".", "--format", format], Some(dir.path()));
        assert_eq!(out.status.code(), Some(1));
        let printed = common::stdout(&out) + &common::stderr(&out);
        assert!(!printed.contains(&key), "{format} output prints the secret");
        assert!(!printed.contains(&key[8..]), "{format} output prints most of the secret");
    }
    let (_, report) = json_report(dir.path(), &[]);
    let secrets: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "secret").collect();
    assert_eq!(secrets.len(), 1, "the inline allow comment silences src/allowed.py: {secrets:?}");
    assert_eq!(secrets[0]["path"], "src/pay.py");
    assert_eq!(secrets[0]["range"]["start"], serde_json::json!({ "line": 2, "character": 10 }));
    assert_eq!(secrets[0]["severity"], "error");

    // Accepting it in the baseline silences it.
    let rule = secrets[0]["data"]["id"].as_str().unwrap();
    let baseline = serde_json::json!({ "accepted": [{ "fingerprint": concord::secrets::fingerprint(rule, &key), "rule": rule, "path": "src/pay.py", "reason": "test key" }] });
    std::fs::create_dir_all(dir.path().join("ops")).unwrap();
    std::fs::write(dir.path().join("ops/secrets-baseline.json"), baseline.to_string()).unwrap();
    let (_, report) = json_report(dir.path(), &[]);
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["code"] != "secret"), "{report}");
}

#[test]
fn refs_lists_and_counts_references_like_grep_tools() {
    let dir = common::workspace(&[
        ("a.py", "# TD-0001\nx = 1  # é TD-0002 and WBS-003A\n".as_bytes()),
        ("b/c.md", b"TD-0001 TD-0001\n"),
        ("docs/blueprints/blueprint_index.json", br#"[{"id": "TD-0001", "title": "skipped: definitions"}]"#),
        ("bin.dat", b"\x00TD-0001"),
    ]);
    let out = common::concord(&["refs", "."], Some(dir.path()));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        common::stdout(&out),
        "a.py:1:3:TD-0001\na.py:2:13:TD-0002\na.py:2:25:WBS-003A\nb/c.md:1:1:TD-0001\nb/c.md:1:9:TD-0001\n"
    );
    let out = common::concord(&["refs", ".", "--count", "--id", "TD-0001"], Some(dir.path()));
    assert_eq!(common::stdout(&out), "a.py:1\nb/c.md:2\n");
    assert_eq!(common::concord(&["refs", ".", "--id", "NT-9999"], Some(dir.path())).status.code(), Some(1));
}

/// Every extension a grammar reads is source code: a tag in `.mts` covers its chunk, an untagged
/// `.cts` is untraced, and the tag offered for a `.pyi` stub is a Python comment.
#[test]
fn every_parsed_extension_counts_as_source_with_its_own_tag_comment() {
    let dir = common::workspace(&[
        ("docs/blueprints/spec.md", b"# Spec\n\n## TD-0001 Payments\n\nTake payments.\n"),
        ("web/a.mts", b"// implements TD-0001\nexport const pay = 1;\n"),
        ("web/c.cts", b"export const x = 1;\n"),
        ("web/b.pyi", b"def f() -> int: ...\n"),
        ("lib/d.hh", b"int d();\n"),
    ]);
    let (_, report) = json_report(dir.path(), &[]);
    let findings = report["findings"].as_array().unwrap();
    let untraced: Vec<&str> = findings
        .iter()
        .filter(|f| f["code"] == "untraced-file")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(untraced, ["lib/d.hh", "web/b.pyi", "web/c.cts"], "{findings:#?}");
    let stub = findings.iter().find(|f| f["path"] == "web/b.pyi").unwrap();
    assert_eq!(stub["fix"]["edits"][0]["new_text"], "# implements TD-0001\n", "{stub:#}");

    let out = common::concord(&["crosswalk", "."], Some(dir.path()));
    assert!(out.status.success(), "{}", common::stderr(&out));
    let crosswalk: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("docs/blueprints/crosswalk.json")).unwrap())
            .unwrap();
    assert_eq!(crosswalk["chunks"][0]["code_paths"], serde_json::json!(["web/a.mts"]));
}
