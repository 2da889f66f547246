#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (Debian packages,
# npm packages for the editor extension), checks formatting and lints, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
# The editor tests use the release binary (it is what the extension bundles).
cargo build --release
# The benchmark harness builds and runs on a tiny workspace (no timing is asserted).
bench/smoke.sh
# VS Code and Cursor extension: unit, protocol contract, packaging, and a real VS Code
# (code-server with Debian's chromium; installed once into a cache outside the clone).
editors/vscode/scripts/test-all.sh
# The Rust suite last, so that its summary closes the output.
cargo test --workspace
