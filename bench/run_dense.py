#!/usr/bin/env python3
"""Per-reference cost: one file where every line carries an ID.

    nice -n 10 python3 bench/run_dense.py --mb 5 --runs 3 --warmup 1

For each case (a Markdown file and a Rust file, every line naming a known ID `TD-0001`, or an
unknown one `TD-9999` that becomes an `unknown-id` finding per line), a workspace holding that
one file, a blueprint index of `--chunks` chunks (TD-0001…) and a one-item WBS is generated, and `concord check
--format json` runs on it with its report sent to /dev/null. Printed per case: wall and CPU
time, peak RSS, the report's size and its finding count, and the cost per MB of input.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (base_parser, check_tools, describe_machine, interleaved, machine, main_guard,  # noqa: E402
                    print_table, save, summarize)

CASES = {
    "md-known": ("docs/notes.md", "- The booking rule of TD-0001 applies here.\n"),
    "md-unknown": ("docs/notes.md", "- The booking rule of TD-9999 applies here.\n"),
    "rs-known": ("src/lib.rs", "pub const A: u32 = 1; // implements TD-0001\n"),
    "rs-unknown": ("src/lib.rs", "pub const A: u32 = 1; // implements TD-9999\n"),
}


def generate(root: Path, path: str, line: str, size: int, chunks: int) -> None:
    """The workspace, written once per (case, size, chunks): same arguments, same bytes."""
    marker = root / ".bench-done"
    if marker.exists() and marker.read_text() == f"{path}\n{line}{size} {chunks}\n":
        return
    (root / "docs/blueprints").mkdir(parents=True, exist_ok=True)
    (root / "ops").mkdir(parents=True, exist_ok=True)
    (root / "docs/blueprints/blueprint_index.json").write_text(json.dumps([
        {"id": f"TD-{n:04d}", "title": f"Rule {n}"} for n in range(1, chunks + 1)]))
    (root / "ops/wbs.json").write_text(json.dumps({"items": [{
        "id": "WBS-001", "title": "Bookings", "blueprint_ids": ["TD-0001", "TD-0002"],
        "scope_paths": ["src/**", "docs/**"]}]}))
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w") as f:
        block = line * 1024
        written = 0
        while written < size:
            f.write(block)
            written += len(block)
    marker.write_text(f"{path}\n{line}{size} {chunks}\n")


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=5.0, help="size of the dense file")
    p.add_argument("--chunks", type=int, default=1000,
                   help="chunks in the index (the candidates an unknown ID is compared with)")
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    args = p.parse_args()
    check_tools(args)
    print(describe_machine(machine()))
    size = int(args.mb * 1e6)
    commands, facts = {}, {}
    for name in args.cases.split(","):
        path, line = CASES[name]
        root = Path(args.out) / "ws" / f"dense-{name}-{size}-{args.chunks}"
        generate(root, path, line, size, args.chunks)
        argv = [args.concord, "check", str(root), "--format", "json", "--fail-on", "never"]
        report = subprocess.run(argv, capture_output=True, check=True).stdout
        facts[name] = {"report_bytes": len(report), "findings": len(json.loads(report)["findings"])}
        commands[name] = {"argv": argv}
    samples = interleaved(commands, args.runs, args.warmup, log=None if args.quiet else print)
    summary = summarize(samples)
    print_table(summary, f"dense file, {size / 1e6:.1f} MB, every line an ID, {args.chunks} chunks ({args.runs} runs)")
    for name, f in facts.items():
        s = summary[name]
        print(f"  {name:<11} {f['findings']:>8} findings, report {f['report_bytes'] / 1e6:7.1f} MB; "
              f"per MB of input: {s['wall']['median'] / (size / 1e6) * 1e3:6.1f} ms wall, "
              f"{s['maxrss_mb']['median'] / (size / 1e6):6.1f} MB peak RSS")
    path = save(args, "dense", {"bytes": size, "chunks": args.chunks, "summary": summary, "facts": facts})
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
