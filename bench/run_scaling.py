#!/usr/bin/env python3
"""How the figures grow with the workspace: 1k, 10k, 50k and 100k files.

    nice -n 10 python3 bench/run_scaling.py --sizes 1000,10000,50000,100000 --runs 3

Per size, the full workspace (five languages, 1,000 chunks with 1,536-float embeddings, 100
locks, a 10,000-line file): `concord check` and `rg -c` (same regex, same files) interleaved,
with peak RSS; then one language-server session: init→first diagnostics, all diagnostics,
VmRSS/VmHWM, hover p50/p99 and change→diagnostics. Writes OUT/results/scaling.json; report.py
turns it into the plot.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (RG_PATTERN, base_parser, check_tools, describe_machine, fmt_time, interleaved,  # noqa: E402
                    machine, main_guard, paired_ratio, save, summarize)
from run_check import full_workspace  # noqa: E402
from run_lsp import session  # noqa: E402


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.set_defaults(runs=3, warmup=1)
    p.add_argument("--sizes", default="1000,10000,50000,100000")
    p.add_argument("--hovers", type=int, default=2000)
    p.add_argument("--changes", type=int, default=60)
    args = p.parse_args()
    check_tools(args, "rg")
    print(describe_machine(machine()))
    points = []
    for n in [int(s) for s in args.sizes.split(",")]:
        ws, manifest = full_workspace(args, n)
        c = manifest["counts"]
        print(f"{n} files ({c['bytes'] / 1e6:.0f} MB):")
        skip = ["-g", "!docs/blueprints/blueprint_index.json", "-g", "!docs/blueprints/crosswalk.json"]
        commands = {"concord-check": {"argv": [args.concord, "check", str(ws), "--format", "json",
                                               "--fail-on", "never"]},
                    "rg": {"argv": ["rg", "-c", *skip, RG_PATTERN, str(ws)], "ok": (0, 1)}}
        samples = interleaved(commands, args.runs, args.warmup, log=None)
        summary = summarize(samples)
        ratio = paired_ratio(samples, "concord-check", "rg")
        print(f"  check {fmt_time(summary['concord-check']['wall']['median'])} "
              f"({summary['concord-check']['maxrss_mb']['median']:.0f} MB peak), rg "
              f"{fmt_time(summary['rg']['wall']['median'])}: {ratio['median']:.2f}x")
        lsp = session(args.concord, ws, manifest, args.hovers, args.changes)
        points.append({"files": n, "workspace": c, "summary": summary, "ratio": ratio, "lsp": lsp,
                       "load": machine()["load"]})
    path = save(args, "scaling", {"points": points})
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
