#!/usr/bin/env bash
# Installs what the end-to-end tests need and a fresh machine lacks. Idempotent.
set -euo pipefail

# Debian packages, all in one apt-get call: the editors and tools the end-to-end tests drive
# (Neovim, git, ripgrep, Chromium), and what code-server's native modules compile with.
need=()
command -v nvim >/dev/null || need+=(neovim)
command -v git >/dev/null || need+=(git)
command -v rg >/dev/null || need+=(ripgrep)
command -v chromium >/dev/null || need+=(chromium)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -f /usr/include/krb5.h ] || [ -f /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need[*]} (install them with apt-get, or run as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The MCP end-to-end test (tests/it/mcp.rs) drives `concord mcp` with the official MCP Python SDK,
# installed from PyPI into a virtual environment kept outside the clone.
mcp_venv="${CONCORD_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/concord-test}/mcp-venv"
if ! "$mcp_venv/bin/python" -c 'import mcp.client.stdio' 2>/dev/null; then
  python3 -m venv "$mcp_venv"
  "$mcp_venv/bin/pip" install --quiet --disable-pip-version-check 'mcp>=2.3,<3'
fi
