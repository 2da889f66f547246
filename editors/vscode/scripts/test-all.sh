#!/usr/bin/env bash
# Everything the editor extensions need, as CI runs it (after `cargo build --release`):
#   npm ci → typecheck and build → unit tests → protocol contract tests against the release
#   binary → VSIX packages (VS Code and Cursor, with and without the server) and their checks →
#   the end-to-end test in code-server with chromium (installed once into a cache outside the
#   clone). Exits non-zero when any stage fails. Screenshots and logs: editors/vscode/test-results/.
#
#   CONCORD_BIN   the server binary (default: target/release/concord)
#   --no-e2e      skip the code-server stage (for a quick local run)
#   --prepare     only install: npm ci, Debian's chromium and code-server (needs no server
#                 binary, so scripts/test.sh runs it while cargo compiles)
#   --prepared    everything but those installs (after a --prepare)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CONCORD_BIN="${CONCORD_BIN:-$repo/target/release/concord}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
run_e2e=1
mode=all
for arg in "$@"; do
    case "$arg" in
        --no-e2e) run_e2e=0 ;;
        --prepare) mode=prepare ;;
        --prepared) mode=prepared ;;
        *) echo "usage: $0 [--no-e2e] [--prepare|--prepared]" >&2; exit 2 ;;
    esac
done

cd "$here"
mkdir -p test-results
passed=()
failed=()
started=$SECONDS

stage() {
    local name="$1"
    shift
    local t0=$SECONDS
    echo
    echo "=== $name"
    if "$@"; then
        passed+=("$name")
        echo "=== $name: ok ($((SECONDS - t0)) s)"
        return 0
    else
        failed+=("$name")
        echo "=== $name: FAILED ($((SECONDS - t0)) s)"
        return 1
    fi
}

summary() {
    echo
    echo "=== editor tests: ${#passed[@]} stages passed, ${#failed[@]} failed, $((SECONDS - started)) s"
    for f in "${failed[@]}"; do echo "    failed: $f"; done
    echo "${#passed[@]} passed, ${#failed[@]} failed"
    [[ ${#failed[@]} -eq 0 ]]
}

preflight() {
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    if [[ "$major" != 20 ]]; then
        echo "Node $major: the toolchain here (vsce 3.9, code-server 4.100.3) is pinned for Node 20" >&2
        return 1
    fi
    if [[ ! -x "$CONCORD_BIN" ]]; then
        echo "no server binary at $CONCORD_BIN: run \`cargo build --release\` first (or set CONCORD_BIN)" >&2
        return 1
    fi
}

install_chromium() {
    command -v chromium >/dev/null && return 0
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        echo "chromium is missing: install Debian's chromium package" >&2
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
    command -v chromium >/dev/null
}

install_code_server() {
    bash "$here/scripts/install-code-server.sh" >/dev/null
}

e2e() {
    local entry
    entry="$(bash "$here/scripts/install-code-server.sh")" || return 1
    CODE_SERVER_ENTRY="$entry" node out/test/e2e/run.js
}

if [[ $mode == prepare ]]; then
    stage "npm ci" npm ci --no-audit --no-fund || { summary; exit 1; }
    if [[ $run_e2e == 1 ]]; then
        stage "chromium (Debian)" install_chromium || { summary; exit 1; }
        stage "code-server" install_code_server || { summary; exit 1; }
    fi
    summary
    exit
fi

stage "preflight (Node 20, server binary)" preflight || { summary; exit 1; }
if [[ $mode == all ]]; then
    stage "npm ci" npm ci --no-audit --no-fund || { summary; exit 1; }
fi
stage "typecheck" npx --no-install tsc -p tsconfig.json --noEmit || { summary; exit 1; }
stage "build (esbuild)" node scripts/build.js || { summary; exit 1; }
stage "compile tests" npx --no-install tsc -p tsconfig.test.json || { summary; exit 1; }
stage "cursor manifest in sync" node scripts/cursor-manifest.js --check
stage "unit tests" node --require ./out/test/unit/setup.js --test out/test/unit/
stage "protocol contract tests" node --test out/test/contract/
if stage "package VSIX files" bash scripts/package.sh; then
    stage "VSIX contents" node --test out/test/package/
    if [[ $run_e2e == 1 ]]; then
        if [[ $mode == all ]]; then
            stage "chromium (Debian)" install_chromium && stage "end to end in code-server" e2e
        else
            stage "end to end in code-server" e2e
        fi
    fi
fi
summary
