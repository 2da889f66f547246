#!/usr/bin/env python3
"""Index load: a blueprint index of 1,000 chunks with 1,536-float embeddings (~21 MB of JSON).

    nice -n 10 python3 bench/run_index.py --runs 10 --warmup 2

Concord has no load-only command, so the figure is `concord check` on a workspace that is
almost only the index (100 small code files), next to the same workspace whose index has no
embeddings: the difference is what the embedding bytes cost. Peers on the same file in the
same run: Python's json.load (a C parser that builds every float; the work a Python tool
reading this index does) and `cat` (reading the bytes: the limit).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (base_parser, check_tools, describe_machine, interleaved, machine, main_guard,  # noqa: E402
                    paired_ratio, print_table, save, summarize, workspace)


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--chunks", type=int, default=1000)
    p.add_argument("--dim", type=int, default=1536)
    p.add_argument("--files", type=int, default=100)
    args = p.parse_args()
    check_tools(args)
    print(describe_machine(machine()))
    base = ["--files", str(args.files), "--chunks", str(args.chunks)]
    plain, _ = workspace(args, f"index-{args.chunks}-0", base)
    emb, manifest = workspace(args, f"index-{args.chunks}-{args.dim}",
                              base + ["--embedding-dim", str(args.dim), "--link-code", str(plain)])
    index = emb / "docs/blueprints/blueprint_index.json"
    size = index.stat().st_size
    print(f"index: {args.chunks} chunks x {args.dim} floats, {size / 1e6:.1f} MB")
    check = lambda ws: {"argv": [args.concord, "check", str(ws), "--format", "json", "--fail-on", "never"]}
    commands = {
        "concord-with-embeddings": check(emb),
        "concord-no-embeddings": check(plain),
        "python-json.load": {"argv": [sys.executable, "-c", "import json,sys; json.load(open(sys.argv[1]))",
                                      str(index)]},
        "cat": {"argv": ["cat", str(index)]},
    }
    samples = interleaved(commands, args.runs, args.warmup, log=None if args.quiet else print)
    summary = summarize(samples)
    print_table(summary, f"index load, {size / 1e6:.1f} MB ({args.runs} runs)")
    marginal = (summary["concord-with-embeddings"]["wall"]["median"]
                - summary["concord-no-embeddings"]["wall"]["median"])
    ratios = {"concord-with-embeddings/python-json.load": paired_ratio(samples, "concord-with-embeddings",
                                                                        "python-json.load"),
              "concord-with-embeddings/cat": paired_ratio(samples, "concord-with-embeddings", "cat")}
    print(f"  embeddings cost (difference of medians): {marginal * 1e3:.1f} ms "
          f"= {size / 1e6 / max(marginal, 1e-9):.0f} MB/s")
    for name, r in ratios.items():
        print(f"  {name:<42} {r['median']:.2f}x (paired {r['min']:.2f}..{r['max']:.2f})")
    path = save(args, "index", {"chunks": args.chunks, "dim": args.dim, "index_bytes": size,
                                "summary": summary, "ratios": ratios, "embedding_cost_s": marginal})
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
