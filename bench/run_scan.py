#!/usr/bin/env python3
"""Reference scan: Concord against ripgrep with the same regex, on the same files, in one run.

    nice -n 10 python3 bench/run_scan.py --files 50000 --runs 10 --warmup 2

Commands (interleaved: every round runs each once, in rotating order):
  rg            rg -c '(?-u)\\b(NT|TD)-[0-9]{4}\\b|\\bWBS-[0-9]{3}[A-Z]?\\b' WS   (ASCII boundaries:
                ripgrep's fastest correct form), on the code-only workspace
  rg-ops        the same on the workspace with ops files, told to skip the two files Concord does
                not scan as text (the blueprint index and the crosswalk)
  concord-refs  concord refs WS --count on the code-only workspace: the scan alone (walk, read,
                ID regex; `path:count` lines like rg -c). This is the figure held against the
                target (<= 1.5x rg); the runner checks both report the same files and total count
  concord-code  concord check WS --format json --fail-on never > /dev/null on the code-only
                workspace: walk + read + ID regex + secret rules + file kinds, then the analysis
                with an empty model (no definitions: no unknown-id checks), rendering the JSON
  concord-ops   the same with the spec and ops files present (1,000 chunks, no embeddings, WBS,
                queue): adds model building, coverage, unknown-id/did-you-mean and all findings
The two `concord check` figures include more than the scan: they are the whole job.
(The report goes to standard output redirected to /dev/null, never `-o /dev/null`: `-o` writes
atomically by renaming a temporary file over the target.)
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (RG_PATTERN, RG_PATTERN_UNICODE, BenchError, base_parser, check_tools, describe_machine,  # noqa: E402
                    hyperfine, interleaved, machine, main_guard, paired_ratio, print_table, results_dir, save,
                    summarize, tool_version, workspace)


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=50000)
    p.add_argument("--unicode", action="store_true", help="also time rg with Unicode word boundaries")
    p.add_argument("--hyperfine", action="store_true", help="cross-check with hyperfine afterwards")
    args = p.parse_args()
    check_tools(args, "rg")
    print(describe_machine(machine()))
    n = args.files
    code, _ = workspace(args, f"scan-{n}-code", ["--files", str(n), "--no-ops"])
    ops, manifest = workspace(args, f"scan-{n}-ops", ["--files", str(n), "--link-code", str(code)])
    c = manifest["counts"]
    print(f"workspace: {c['files']} files, {c['bytes'] / 1e6:.0f} MB of text ({n} source files)")

    # Same files: ripgrep and Concord must see the same set.
    rg_files = subprocess.run(["rg", "--files", str(code)], capture_output=True, text=True).stdout.count("\n")
    skip = ["-g", "!docs/blueprints/blueprint_index.json", "-g", "!docs/blueprints/crosswalk.json"]
    concord = lambda ws: {"argv": [args.concord, "check", str(ws), "--format", "json", "--fail-on", "never"]}
    commands = {
        "rg": {"argv": ["rg", "-c", RG_PATTERN, str(code)], "ok": (0, 1)},
        "concord-refs": {"argv": [args.concord, "refs", str(code), "--count"]},
        "concord-code": concord(code),
        "rg-ops": {"argv": ["rg", "-c", *skip, RG_PATTERN, str(ops)], "ok": (0, 1)},
        "concord-ops": concord(ops),
    }
    if args.unicode:
        commands["rg-unicode"] = {"argv": ["rg", "-c", RG_PATTERN_UNICODE, str(code)], "ok": (0, 1)}
    report = subprocess.run(concord(code)["argv"], capture_output=True, text=True)
    import json
    scanned = json.loads(report.stdout)["summary"]["files_scanned"]
    if scanned != rg_files:
        raise BenchError(f"concord scanned {scanned} files, rg lists {rg_files}: not the same input")
    print(f"same input: rg lists {rg_files} files, concord scanned {scanned}")
    totals = {}
    for name in ("rg", "concord-refs"):
        lines = subprocess.run(commands[name]["argv"], capture_output=True, text=True).stdout.splitlines()
        totals[name] = (len(lines), sum(int(line.rsplit(":", 1)[1]) for line in lines))
    if totals["rg"] != totals["concord-refs"]:
        raise BenchError(f"files with IDs and total count differ: rg {totals['rg']}, concord refs "
                         f"{totals['concord-refs']}")
    print(f"same answer: {totals['rg'][0]} files name IDs, {totals['rg'][1]} occurrences (rg -c and concord refs)")

    samples = interleaved(commands, args.runs, args.warmup, log=None if args.quiet else print)
    summary = summarize(samples)
    print_table(summary, f"reference scan, {n} source files ({args.runs} runs, {args.warmup} warm-up)")
    ratios = {
        "concord-refs/rg": paired_ratio(samples, "concord-refs", "rg"),
        "concord-code/rg": paired_ratio(samples, "concord-code", "rg"),
        "concord-ops/rg-ops": paired_ratio(samples, "concord-ops", "rg-ops"),
    }
    if args.unicode:
        ratios["rg-unicode/rg"] = paired_ratio(samples, "rg-unicode", "rg")
    for name, r in ratios.items():
        print(f"  {name:<22} {r['median']:.2f}x (paired rounds {r['min']:.2f}..{r['max']:.2f}; ratio of medians "
              f"{r['of_medians']:.2f}x)" + ("  target <= 1.5x" if name == "concord-refs/rg" else ""))
    extra = {}
    if args.hyperfine:
        extra["hyperfine"] = hyperfine({k: v["argv"] for k, v in commands.items()}, args.runs, args.warmup,
                                       results_dir(args) / "scan-hyperfine.json")
        for name, h in (extra["hyperfine"] or {}).items():
            print(f"  hyperfine {name:<20} median {h['median']:.3f} s (min {h['min']:.3f}, max {h['max']:.3f})")
    path = save(args, "scan", {
        "files": n, "workspace": c, "pattern": RG_PATTERN, "summary": summary, "ratios": ratios,
        "versions": {"rg": tool_version(["rg", "--version"])}, **extra})
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
