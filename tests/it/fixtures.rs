//! Core findings as data: each workspace under tests/fixtures/ is checked and its JSON
//! report compared with tests/expected/<name>.json. `UPDATE_EXPECT=1 cargo test` rewrites
//! the expected files after an intended change; review the diff before committing it.

use crate::common;

use concord::analysis::analyze;
use concord::findings::Severity;
use concord::workspace::Workspace;

fn check_fixture(name: &str) {
    let ws = Workspace::load(&common::fixture(name)).expect("fixture loads");
    let report = analyze(&ws);
    let json = concord::render::render_json(&report, name, Severity::Hint);
    expect_test::expect_file![common::repo_root().join(format!("tests/expected/{name}.json"))]
        .assert_eq(&json);
}

#[test]
fn basic() {
    check_fixture("basic");
}

#[test]
fn unicode_and_crlf() {
    check_fixture("unicode");
}

#[test]
fn custom_config() {
    check_fixture("configured");
}

#[test]
fn no_ops_files() {
    check_fixture("bare");
}
