#!/usr/bin/env bash
# Every full-size figure in one go (about half an hour on 2 cores), then the report.
# Run it niced on a shared machine:  nice -n 10 bench/run_all.sh
# Needs python3, ripgrep, git, /usr/bin/time (package `time`, for peak RSS); LOBSTER from
# `pip install bmw-lobster-tool-python` (or LOBSTER=/path/to/lobster-python) for the trace figure.
set -euo pipefail
cd "$(dirname "$0")/.."
lobster=()
[ -n "${LOBSTER:-}" ] && lobster=(--lobster "$LOBSTER")
python3 bench/run_scan.py --files 50000 --runs 10 --warmup 2 --unicode
python3 bench/run_check.py --files 50000 --runs 3 --warmup 1
python3 bench/run_index.py --runs 10 --warmup 2
# LOBSTER always traces functions, so it is held against the item-level check; the file-level
# check is timed against the regex tracers only.
python3 bench/run_trace.py --files 5000 --runs 3 --warmup 0 --level item "${lobster[@]}"
python3 bench/run_trace.py --files 5000 --runs 5 --warmup 1 --level file --no-lobster
python3 bench/run_lsp.py --files 20000 --sessions 3 --hovers 10000 --changes 300 --memory-files 100000
python3 bench/run_locks.py --runs 200 --warmup 5 --locks 100 --parallel 2 --seconds 10
python3 bench/run_ingest.py --runs 10 --warmup 2
python3 bench/run_scaling.py --sizes 1000,10000,50000,100000 --runs 3 --warmup 1
python3 bench/report.py
