//! `concord report` on the demo: the dashboard's numbers are `concord check`'s, the history grows by
//! one snapshot a report, and the second report says what changed since the first.

use serde_json::Value;

use crate::common;

#[test]
fn the_dashboard_shows_the_checks_numbers_and_what_changed_since_the_last_report() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&common::demo(), dir.path());
    let root = dir.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let out = common::concord(args, None);
        assert!(out.status.success(), "{args:?}: {}", common::stderr(&out));
        common::stdout(&out)
    };
    let first = run(&["report", "-C", root]);
    let dashboard = std::fs::read_to_string(dir.path().join("docs/OWNER_DASHBOARD.md")).unwrap();

    // The same coverage as `concord check --format json` reports.
    let (covered, chunks) = check_counts(dir.path());
    let headline = format!("**{covered} of {chunks} spec chunks are covered");
    assert!(dashboard.contains(&headline), "{headline}\n{dashboard}");
    assert!(first.contains(&format!("{covered} of {chunks} chunks covered")), "{first}");
    assert!(dashboard.contains("This is the first report."));
    // The loop's health, as `concord health` says it, in words.
    let health = common::concord(&["health", "--format", "json", "-C", root], None);
    let health: Value = serde_json::from_slice(&health.stdout).unwrap();
    let level = health["level"].as_str().unwrap();
    let heading = format!(
        "## Health of the agent loop\n\n**{}{}**: {}",
        level[..1].to_uppercase(),
        &level[1..],
        health["summary"].as_str().unwrap()
    );
    assert!(dashboard.contains(&heading), "{heading}\n{dashboard}");
    for reason in health["reasons"].as_array().unwrap() {
        assert!(dashboard.contains(reason["next"].as_str().unwrap()), "{reason}\n{dashboard}");
    }
    // Code places link to their line, relative to docs/ (the dashboard is committed: no absolute path).
    assert!(
        dashboard.contains("[services/search/src/filters.rs:2](../services/search/src/filters.rs#L2)"),
        "{dashboard}"
    );
    assert!(!dashboard.contains(root), "{dashboard}");
    // Items awaiting approval lead the board; each status is a word in its own column.
    let board = dashboard.split("## Work board").nth(1).unwrap();
    let first_row = board.lines().find(|l| l.starts_with("| **")).unwrap();
    assert!(first_row.contains("| awaiting_approval |"), "{first_row}");

    // A work item moves and an owner question is asked: the next report says so.
    let queue = dir.path().join("ops/queue.jsonl");
    let mut text = std::fs::read_to_string(&queue).unwrap();
    text.push_str("{\"id\":\"WBS-006A\",\"status\":\"in_progress\",\"at\":\"2026-12-05T20:00:00Z\",\"by\":\"A1\",\"reason\":\"test\"}\n");
    std::fs::write(&queue, text).unwrap();
    run(&[
        "ask",
        "Ship search filters before typo tolerance?",
        "--option",
        "Yes.",
        "--option",
        "No.",
        "--wbs",
        "WBS-006A",
        "-C",
        root,
    ]);
    run(&["report", "-C", root]);
    let dashboard = std::fs::read_to_string(dir.path().join("docs/OWNER_DASHBOARD.md")).unwrap();
    assert!(dashboard.contains("- WBS-006A: todo → in_progress"), "{dashboard}");
    assert!(
        dashboard.contains("| **Q-0001** Ship search filters before typo tolerance? | WBS-006A |"),
        "{dashboard}"
    );
    assert!(dashboard.contains("Trend (covered of all chunks"), "{dashboard}");
    let history = std::fs::read_to_string(dir.path().join("ops/coverage-history.jsonl")).unwrap();
    let lines: Vec<Value> = history.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["items"]["WBS-006A"], "in_progress");
    assert_eq!(lines[1]["by_status"]["covered"], covered);
}

/// The covered and total chunk counts as `concord check --format json` reports them.
fn check_counts(root: &std::path::Path) -> (usize, usize) {
    let out =
        common::concord(&["check", root.to_str().unwrap(), "--format", "json", "--fail-on", "never"], None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let coverage = &report["summary"]["coverage"];
    let count = |v: &Value| v.as_u64().unwrap_or(0) as usize;
    (count(&coverage["by_status"]["covered"]), count(&coverage["chunks"]))
}

/// Build the HTML report of `root` and read it in Debian's chromium (tests/report/browser.mjs):
/// the numbers shown are `concord check`'s and the health level `concord health`'s, a click opens
/// a chunk whose places link to their lines, the board filters, axe-core finds no serious or
/// critical violation, and printed every section is open. Screenshots go to
/// target/test-results/report/NAME/.
fn open_in_chromium(root: &std::path::Path, name: &str, board_id: &str) -> Value {
    let out = common::concord(&["report", "--format", "html", "-C", root.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let html = root.join(".concord/report/index.html");
    let size = std::fs::metadata(&html).unwrap().len();
    assert!(size < 5 * 1024 * 1024, "{name}: the page is {size} bytes, over 5 MB");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("http://") && !page.contains("https://"), "{name}: the page links outside itself");
    let (covered, chunks) = check_counts(root);
    let health = common::concord(&["health", "--format", "json", "-C", root.to_str().unwrap()], None);
    let health: Value = serde_json::from_slice(&health.stdout).unwrap();
    let level = health["level"].as_str().unwrap().to_string();
    let shots = common::repo_root().join("target/test-results/report").join(name);
    std::fs::create_dir_all(&shots).unwrap();
    let browser = std::process::Command::new("node")
        .arg(common::repo_root().join("tests/report/browser.mjs"))
        .args([
            html.to_str().unwrap(),
            &covered.to_string(),
            &chunks.to_string(),
            board_id,
            shots.to_str().unwrap(),
            &level,
        ])
        .output()
        .expect("node runs (the README's set-up installs it)");
    let result: Value = serde_json::from_slice(&browser.stdout)
        .unwrap_or_else(|_| panic!("{name}: {}{}", common::stdout(&browser), common::stderr(&browser)));
    assert!(browser.status.success(), "{name}: {result}");
    assert!(shots.join("report-chunk.png").is_file());
    println!("{name}: {size} bytes, {result}");
    result
}

#[test]
fn the_html_report_opens_in_chromium_and_shows_the_checks_numbers() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&common::demo(), dir.path());
    open_in_chromium(dir.path(), "demo", "WBS-010");

    // A spec of 5,000 chunks and 500 work items: the page stays small and opens fast.
    let big = tempfile::tempdir().unwrap();
    let generated = std::process::Command::new("python3")
        .arg(common::repo_root().join("bench/gen.py"))
        .arg(big.path())
        .args(["--files", "60", "--chunks", "5000", "--work-items", "500", "--jobs", "1", "--force"])
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", common::stderr(&generated));
    let result = open_in_chromium(big.path(), "5000-chunks", "WBS-001");
    assert_eq!(result["chunks"], "5000");
}
