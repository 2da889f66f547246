#!/usr/bin/env python3
"""Tracing check of a Python project: Concord against BMW LOBSTER and plain regex tracers.

    nice -n 10 python3 bench/run_trace.py --files 5000 --runs 3 --warmup 0 [--level item]

Commands (interleaved):
  concord       concord check WS --format json --fail-on never > /dev/null. With --level item the
                workspace gets a concord.toml with `[trace] level = "item"` (tree-sitter, each
                function and class); a build that does not know the key is reported, and the run
                stops (use --level file).
  lobster       lobster-python --out OUT WS   (pip install bmw-lobster-tool-python; libcst, one
                item per function, multi-process by default). Skipped when not installed.
  regex-tracer  python3 bench/regex_tracer.py WS   (20 lines: IDs per file, untraced files)
  rg            rg -c '(?-u)\\b(NT|TD)-[0-9]{4}\\b|\\bWBS-[0-9]{3}[A-Z]?\\b' WS

Python tags are `# lobster-trace: TD-0123` in the function body: LOBSTER's syntax and a plain
Concord reference at once.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (BENCH, RG_PATTERN, BenchError, base_parser, check_tools, describe_machine,  # noqa: E402
                    interleaved, machine, main_guard, paired_ratio, print_table, save, summarize,
                    tool_version, workspace)


def find_lobster(explicit: str | None) -> str | None:
    for candidate in [explicit, shutil.which("lobster-python"), "/tmp/lobster-venv/bin/lobster-python"]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.set_defaults(runs=3, warmup=0)
    p.add_argument("--files", type=int, default=5000)
    p.add_argument("--lines", type=int, default=30, help="mean lines per Python file (LOBSTER's time grows "
                   "with the square of the function count, so say what you chose)")
    p.add_argument("--level", choices=["file", "item"], default="file", help="Concord's [trace] level")
    p.add_argument("--lobster", default=None, help="path of lobster-python")
    p.add_argument("--no-lobster", action="store_true")
    args = p.parse_args()
    check_tools(args, "rg")
    print(describe_machine(machine()))
    ws, manifest = workspace(args, f"trace-{args.files}-{args.lines}-{args.level}",
                             ["--files", str(args.files), "--langs", "py", "--lines", str(args.lines),
                              "--tag-density", "0.5", "--trace-level", args.level])
    c = manifest["counts"]
    print(f"workspace: {c['files']} files ({args.files} Python), {c['bytes'] / 1e6:.1f} MB, "
          f"{c['functions']} functions, {c['tagged_functions']} tagged, {c['untagged_files']} files untagged")

    concord = [args.concord, "check", str(ws), "--format", "json", "--fail-on", "never"]
    probe = subprocess.run(concord, capture_output=True, text=True)
    if probe.returncode == 2:
        raise BenchError(f"concord check refused the workspace (level {args.level}): {probe.stderr.strip()}"
                         + ("\nThis build has no item-level tracing yet; measure with --level file." if
                            args.level == "item" else ""))
    report = json.loads(probe.stdout)
    by_code = report["summary"]["by_code"]
    label = "item-level (tree-sitter)" if args.level == "item" else "file-level"
    print(f"concord ({label}): {report['summary']['files_scanned']} files, findings by code {by_code}")

    tmp = Path(tempfile.mkdtemp(prefix="concord-bench-trace-"))
    commands = {"concord": {"argv": concord}}
    lobster = None if args.no_lobster else find_lobster(args.lobster)
    if lobster:
        commands["lobster"] = {"argv": [lobster, "--out", str(tmp / "out.lobster"), str(ws)], "ok": (0, 1)}
    else:
        print("lobster-python not found: LOBSTER skipped (pip install bmw-lobster-tool-python)")
    commands["regex-tracer"] = {"argv": [sys.executable, str(BENCH / "regex_tracer.py"), str(ws)]}
    commands["rg"] = {"argv": ["rg", "-c", RG_PATTERN, str(ws)], "ok": (0, 1)}

    samples = interleaved(commands, args.runs, args.warmup, log=None if args.quiet else print)
    summary = summarize(samples)
    print_table(summary, f"tracing check, {args.files} Python files, Concord {label} ({args.runs} runs)")
    ratios = {}
    if lobster:
        items = len(json.loads((tmp / "out.lobster").read_text())["data"])
        print(f"  lobster traced {items} items")
        ratios["lobster/concord"] = paired_ratio(samples, "lobster", "concord")
    ratios["regex-tracer/concord"] = paired_ratio(samples, "regex-tracer", "concord")
    ratios["concord/rg"] = paired_ratio(samples, "concord", "rg")
    for name, r in ratios.items():
        target = "  target >= 50x" if name.startswith("lobster") else ""
        print(f"  {name:<22} {r['median']:.2f}x (paired rounds {r['min']:.2f}..{r['max']:.2f}){target}")
    shutil.rmtree(tmp, ignore_errors=True)
    path = save(args, f"trace-{args.level}", {
        "files": args.files, "level": args.level, "label": label, "workspace": c, "concord_by_code": by_code,
        "summary": summary, "ratios": ratios,
        "versions": {"lobster": tool_version([lobster, "--version"]) if lobster else None,
                     "rg": tool_version(["rg", "--version"])}})
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
