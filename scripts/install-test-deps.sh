#!/usr/bin/env bash
# Installs what the end-to-end tests need and a fresh machine lacks. Idempotent.
set -euo pipefail

need=()
command -v nvim >/dev/null || need+=(neovim)
command -v git >/dev/null || need+=(git)
command -v rg >/dev/null || need+=(ripgrep)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need[*]} (install them with apt-get, or run as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
