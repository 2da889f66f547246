#!/usr/bin/env bash
# Runs every benchmark runner once on a tiny generated workspace: checks that the harness
# builds and runs, not how fast anything is (no timing assertions). Well under a minute.
# Needs: python3 (standard library), ripgrep (`rg`), git, and the release binary (built here
# if missing). LOBSTER is used when installed and skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

concord="${CONCORD:-target/release/concord}"
if [ ! -x "$concord" ]; then
  if command -v flock >/dev/null; then
    flock /tmp/concord-cargo.lock cargo build --release
  else
    cargo build --release
  fi
fi
command -v rg >/dev/null || { echo "bench/smoke.sh: ripgrep is missing (apt-get install -y ripgrep)" >&2; exit 1; }

out="$(mktemp -d /tmp/concord-bench-smoke.XXXXXX)"
trap 'rm -rf "$out"' EXIT
common=(--concord "$concord" --out "$out" --quiet)
step() { echo "== bench/smoke.sh: $*"; }

step run_scan.py
python3 bench/run_scan.py "${common[@]}" --files 60 --runs 2 --warmup 0 >/dev/null
step run_check.py
python3 bench/run_check.py "${common[@]}" --files 60 --runs 2 --warmup 0 >/dev/null
step run_dense.py
python3 bench/run_dense.py "${common[@]}" --mb 0.05 --chunks 20 --runs 1 --warmup 0 >/dev/null
step run_index.py
python3 bench/run_index.py "${common[@]}" --chunks 20 --dim 16 --files 10 --runs 2 --warmup 0 >/dev/null
step run_trace.py
python3 bench/run_trace.py "${common[@]}" --files 40 --runs 1 --warmup 0 >/dev/null
step run_lsp.py
python3 bench/run_lsp.py "${common[@]}" --files 60 --sessions 1 --hovers 50 --changes 6 --saves 6 --memory-files 0 >/dev/null
step run_locks.py
python3 bench/run_locks.py "${common[@]}" --locks 5 --runs 3 --warmup 1 --seconds 1 >/dev/null
step run_scaling.py
python3 bench/run_scaling.py "${common[@]}" --sizes 30,60 --runs 1 --warmup 0 --hovers 20 --changes 4 >/dev/null
step run_mcp.py
python3 bench/run_mcp.py "${common[@]}" --files 60 --calls 3 >/dev/null
step run_ingest.py
python3 bench/run_ingest.py "${common[@]}" --chunks 20 --files 4 --words 2000 --runs 1 --warmup 0 >/dev/null
step report.py
python3 bench/report.py --results "$out/results" >/dev/null
test -s "$out/results/scaling.svg"
for f in scan check index trace-file lsp locks scaling mcp ingest; do
  test -s "$out/results/$f.json" || { echo "bench/smoke.sh: no $f.json" >&2; exit 1; }
done
echo "bench/smoke.sh: every runner ran"
