#!/usr/bin/env bash
# Install code-server (a real VS Code served to a browser) once into a cache directory outside
# the clone, for the end-to-end tests. Prints the path of the code-server entry point.
#
#   CONCORD_CODE_SERVER_CACHE   where to install (default $HOME/.cache/concord-test/code-server)
#   CODE_SERVER_VERSION         default 4.100.3: the newest release that runs on Node 20
#
# Nothing here downloads anything but npm packages: the native modules are compiled from source
# (they would otherwise be fetched prebuilt), and @vscode/ripgrep's download is answered from a
# cache seeded with the system's own `rg`. code-server's install scripts (and those of the modules
# it installs for itself) must run, whatever npm's default for dependency scripts is.
set -euo pipefail

version="${CODE_SERVER_VERSION:-4.100.3}"
cache="${CONCORD_CODE_SERVER_CACHE:-$HOME/.cache/concord-test/code-server}"
prefix="$cache/$version"
entry="$prefix/node_modules/code-server/out/node/entry.js"
stamp="$prefix/.installed"

log() { echo "install-code-server: $*" >&2; }

if [[ -f "$stamp" && -f "$entry" ]]; then
    echo "$entry"
    exit 0
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$node_major" != 20 ]]; then
    log "code-server $version needs Node 20; this is Node $node_major"
    exit 1
fi

# System packages the build needs: a C++ toolchain, Kerberos headers (the kerberos module),
# pkg-config, Node's headers, and ripgrep.
missing=()
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v rg >/dev/null || missing+=(ripgrep)
[[ -f /usr/include/krb5.h || -f /usr/include/gssapi/gssapi.h ]] || missing+=(libkrb5-dev)
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 \
            || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2; }
    else
        log "missing system packages: ${missing[*]} (install them, then run this again)"
        exit 1
    fi
fi

nodedir=/usr
if [[ ! -f "$nodedir/include/node/node.h" ]]; then
    nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
fi
if [[ ! -f "$nodedir/include/node/node.h" ]]; then
    log "Node's headers were not found (looked in /usr/include/node and $nodedir/include/node)"
    exit 1
fi

rm -rf "$prefix"
mkdir -p "$prefix/tmp"
export TMPDIR="$prefix/tmp"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "fetching code-server@$version"
(cd "$work" && npm pack --silent "code-server@$version" >/dev/null)
tarball="$(ls "$work"/code-server-*.tgz)"
tar -xzf "$tarball" -C "$work" package/lib/vscode/npm-shrinkwrap.json package/lib/vscode/extensions/npm-shrinkwrap.json 2>/dev/null \
    || tar -xzf "$tarball" -C "$work" package/lib/vscode/npm-shrinkwrap.json

# Seed @vscode/ripgrep's download cache with the system rg, for every version the install uses.
case "$(uname -m)" in
    x86_64) target=x86_64-unknown-linux-musl ;;
    aarch64) target=aarch64-unknown-linux-musl ;;
    *) log "unsupported architecture $(uname -m)"; exit 1 ;;
esac
rg_versions="$(node -e '
    const fs = require("fs");
    const seen = new Set();
    for (const f of process.argv.slice(1)) {
        if (!fs.existsSync(f)) continue;
        const lock = JSON.parse(fs.readFileSync(f, "utf8"));
        for (const [k, v] of Object.entries(lock.packages || {}))
            if (k.endsWith("node_modules/@vscode/ripgrep")) seen.add(v.version);
    }
    console.log([...seen].join(" "));
' "$work/package/lib/vscode/npm-shrinkwrap.json" "$work/package/lib/vscode/extensions/npm-shrinkwrap.json")"
mkdir -p "$work/rg"
cp "$(command -v rg)" "$work/rg/rg"
for v in ${rg_versions:-1.15.11}; do
    for rgv in v13.0.0-10 v13.0.0-4; do
        mkdir -p "$TMPDIR/vscode-ripgrep-cache-$v"
        tar -czf "$TMPDIR/vscode-ripgrep-cache-$v/ripgrep-$rgv-$target.tar.gz" -C "$work/rg" rg
    done
done

log "installing code-server $version into $prefix (compiles native modules; about 2 minutes)"
started=$SECONDS
(
    cd "$prefix"
    echo '{"name":"concord-code-server-cache","private":true}' > package.json
    npm_config_unsafe_perm=true \
    npm_config_dangerously_allow_all_scripts=true \
    npm_config_nodedir="$nodedir" \
    npm_config_yes=true \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false \
    npm_config_jobs=2 \
    JOBS=2 \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm install --no-save --loglevel=error "$tarball" >&2
)
[[ -f "$entry" ]] || { log "the install finished but $entry is missing"; exit 1; }
XDG_CONFIG_HOME="$prefix/tmp" XDG_DATA_HOME="$prefix/tmp" node "$entry" --version >&2
touch "$stamp"
log "installed in $((SECONDS - started)) s"
echo "$entry"
