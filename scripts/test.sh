#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (Debian packages, the
# MCP SDK, npm packages and code-server for the editor extension), checks formatting and lints,
# then runs every test. Prints each stage's time.
#
# One cargo profile (dev, dependencies optimised) builds the tests and the binary that the
# benchmark smoke run, the editor tests and the end-to-end tests start, so dependencies compile
# once. The installs need the network more than the CPU, so they run in the background while
# cargo compiles.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
stage() {
    local name="$1" t0=$SECONDS
    shift
    echo "=== $name"
    "$@"
    echo "=== $name: ok ($((SECONDS - t0)) s, $((SECONDS - started)) s in all)"
}

installs_log="$(mktemp /tmp/concord-test-installs.XXXXXX)"
install_everything() {
    scripts/install-test-deps.sh
    editors/vscode/scripts/test-all.sh --prepare
}
install_everything >"$installs_log" 2>&1 &
installs=$!
trap 'kill "$installs" 2>/dev/null || true' EXIT

stage "cargo fmt --check" cargo fmt --all -- --check
stage "cargo clippy" cargo clippy --all-targets -- -D warnings
stage "build the binary and the tests" cargo test --workspace --no-run

t0=$SECONDS
echo "=== installs (running since the start)"
if wait "$installs"; then
    cat "$installs_log"
    echo "=== installs: ok (waited $((SECONDS - t0)) s, $((SECONDS - started)) s in all)"
else
    cat "$installs_log"
    echo "=== installs: FAILED" >&2
    exit 1
fi
trap - EXIT
rm -f "$installs_log"

export CONCORD="$PWD/target/debug/concord" CONCORD_BIN="$PWD/target/debug/concord"
# The benchmark harness runs on a tiny workspace (no timing is asserted).
stage "benchmark smoke run" bench/smoke.sh
# VS Code and Cursor extension: unit, protocol contract, packaging, and a real VS Code
# (code-server with Debian's chromium).
stage "editor tests" editors/vscode/scripts/test-all.sh --prepared
# The Rust suite last, so that its summary closes the output.
echo "=== cargo test (from $((SECONDS - started)) s)"
cargo test --workspace
