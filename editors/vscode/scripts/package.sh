#!/usr/bin/env bash
# Package the VSIX files into editors/vscode/vsix/:
#   concord-linux-x64-<version>.vsix          the VS Code extension with the release binary
#   concord-<version>.vsix                    the VS Code extension without a server (uses
#                                             CONCORD_SERVER_PATH, concord.server.path or PATH)
#   concord-cursor-linux-x64-<version>.vsix   the same two for Cursor / Open VSX
#   concord-cursor-<version>.vsix
#
#   CONCORD_BIN   the server binary to bundle (default: target/release/concord)
#   --cursor      only the Cursor packages; --vscode only the VS Code ones
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
cursor="$repo/editors/cursor"
out="$here/vsix"
vsce="$here/node_modules/.bin/vsce"
binary="${CONCORD_BIN:-$repo/target/release/concord}"

which_ones=both
case "${1:-}" in
    --cursor) which_ones=cursor ;;
    --vscode) which_ones=vscode ;;
    "") ;;
    *) echo "usage: $0 [--vscode|--cursor]" >&2; exit 2 ;;
esac

[[ -x "$vsce" ]] || { echo "package: run npm ci in editors/vscode first" >&2; exit 1; }
[[ -x "$binary" ]] || { echo "package: no server binary at $binary (cargo build --release, or set CONCORD_BIN)" >&2; exit 1; }
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=linux-x64 ;;
    Linux-aarch64) target=linux-arm64 ;;
    Darwin-arm64) target=darwin-arm64 ;;
    Darwin-x86_64) target=darwin-x64 ;;
    *) echo "package: no VSIX target for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

version="$(node -p "require('$here/package.json').version")"
mkdir -p "$out"
flags=(--no-dependencies --allow-missing-repository)

# Package one folder twice: with the binary (platform) and without (universal).
# The bundled copy is stripped (the release profile keeps line tables: 40 MB instead of ~8).
package_folder() {
    local folder="$1" name="$2"
    shift 2
    (
        cd "$folder"
        rm -rf server
        mkdir -p server
        if command -v strip >/dev/null && strip -o server/concord "$binary" 2>/dev/null; then :; else cp "$binary" server/concord; fi
        chmod 755 server/concord
        "$vsce" package "${flags[@]}" "$@" --target "$target" -o "$out/$name-$target-$version.vsix"
        rm -rf server
        "$vsce" package "${flags[@]}" "$@" -o "$out/$name-$version.vsix"
    )
}

if [[ "$which_ones" != cursor ]]; then
    package_folder "$here" concord
fi
if [[ "$which_ones" != vscode ]]; then
    node "$here/scripts/cursor-manifest.js" --check
    # The Cursor folder has no sources of its own: the license and changelog come from here.
    cp "$here/LICENSE" "$here/CHANGELOG.md" "$cursor/"
    package_folder "$cursor" concord-cursor
    rm -f "$cursor/LICENSE" "$cursor/CHANGELOG.md"
fi
ls -l "$out"
