#!/usr/bin/env python3
"""Builds a benchmark workspace from real public source code already on the machine.

    python3 bench/real_tree.py OUT --source DIR [--source DIR ...] [--max-files N]

Copies the source files Concord parses item by item (Rust, Python, TypeScript, TSX, JavaScript,
Go, Java, C, C++) from each DIR (for example the crates under ~/.cargo/registry/src, a
`cargo vendor` directory, an unpacked sdist, /usr/lib/python3.*) into OUT/src/<n>/..., then
tags a third of them the way real code is tagged: every sixth file gets a file header
(a comment naming a chunk, a blank line below it), and every sixth, offset by three, gets a tag
directly above its first function. It writes a blueprint index of 1,000 chunks and a
`concord.toml` with `[trace] level = "item"`. Nothing is generated: the code is the sources'
own. OUT is replaced; it must not be inside the repository.

`--ops N` adds the ops files of a planned project: a WBS of N work items, each planning three
chunks with a real folder of the tree as its `scope_paths`, a queue with a status for each, and
a lock for every tenth item. `--level file` writes no `concord.toml` (the file-level check).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from pathlib import Path

EXTENSIONS = {".rs": "//", ".py": "#", ".ts": "//", ".tsx": "//", ".js": "//", ".go": "//", ".java": "//",
              ".c": "//", ".h": "//", ".cc": "//", ".cpp": "//", ".hpp": "//"}
SKIP_DIRS = {".git", "node_modules", "target", "__pycache__"}
FIRST_FUNCTION = {
    "//": re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(async\s+)?(fn|func|function)\s|^\s*(public|private|static)\s.*\(", re.M),
    "#": re.compile(r"^\s*(async\s+)?def\s", re.M),
}
WORDS = ("payment refund ledger account session token cache index parser query router worker queue "
         "schedule retry timeout buffer stream socket client server request response header body "
         "config option error report metric trace span event channel lock thread pool task future "
         "file path directory glob pattern match regex encode decode format number string vector map").split()


def chunk_id(n: int) -> str:
    return f"TD-{n:04d}" if n % 2 else f"NT-{n:04d}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--source", action="append", required=True, help="a directory of real source code")
    p.add_argument("--max-files", type=int, default=0, help="stop after this many files (0: all)")
    p.add_argument("--max-size", type=int, default=1 << 20, help="skip files larger than this (bytes)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--ops", type=int, default=0, help="work items in ops/wbs.json, with a queue and locks (0: none)")
    p.add_argument("--level", choices=("item", "file"), default="item", help="file: no concord.toml")
    args = p.parse_args()
    out = Path(args.out).resolve()
    if Path(__file__).resolve().parent.parent in out.parents:
        sys.exit("real_tree: OUT must be outside the repository (never commit the tree)")
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(args.seed)
    files = 0
    total = 0
    tagged = {"header": 0, "item": 0}
    for s, source in enumerate(args.source):
        root = Path(source).expanduser()
        for path in sorted(root.rglob("*")):
            if args.max_files and files >= args.max_files:
                break
            if path.suffix not in EXTENSIONS or not path.is_file() or SKIP_DIRS & set(path.parts):
                continue
            if path.stat().st_size > args.max_size:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            marker = EXTENSIONS[path.suffix]
            tag = chunk_id(rng.randrange(1, 1001))
            if files % 6 == 0:
                text = f"{marker} implements {tag}\n\n{text}"
                tagged["header"] += 1
            elif files % 6 == 3:
                m = FIRST_FUNCTION[marker].search(text)
                if m:
                    indent = re.match(r"\s*", text[m.start():]).group(0).replace("\n", "")
                    text = f"{text[:m.start()]}{indent}{marker} implements {tag}\n{text[m.start():]}"
                    tagged["item"] += 1
            target = out / "src" / str(s) / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            files += 1
            total += len(text.encode())
    index = [{"id": chunk_id(n), "title": " ".join(rng.sample(WORDS, 3)),
              "summary": " ".join(rng.sample(WORDS, 12))} for n in range(1, 1001)]
    (out / "docs/blueprints").mkdir(parents=True, exist_ok=True)
    (out / "docs/blueprints/blueprint_index.json").write_text(json.dumps(index, indent=1) + "\n")
    if args.level == "item":
        (out / "concord.toml").write_text('[trace]\nlevel = "item"\n')
    if args.ops:
        write_ops(out, args.ops, rng)
    manifest = {"files": files, "bytes": total, "tagged": tagged, "sources": args.source}
    (out / "real-tree.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{out}: {files} files, {total / 1e6:.1f} MB, tagged {tagged}")


def write_ops(out: Path, items: int, rng: random.Random) -> None:
    """A WBS of `items` work items scoped to real folders of OUT/src, a queue and locks."""
    folders = sorted({str(p.parent.relative_to(out)) for p in (out / "src").glob("*/*/*/*") if p.is_file()}
                     | {str(p.relative_to(out)) for p in (out / "src").glob("*/*/*") if p.is_dir()})
    wbs = []
    for n in range(1, items + 1):
        wbs.append({"id": f"WBS-{n:03d}", "title": " ".join(rng.sample(WORDS, 3)), "phase": f"P{n % 4 + 1}",
                    "blueprint_ids": [chunk_id(rng.randrange(1, 1001)) for _ in range(3)],
                    "scope_paths": [f"{rng.choice(folders)}/**"],
                    "acceptance_criteria": [" ".join(rng.sample(WORDS, 6))],
                    "risk_level": rng.choice(["low", "medium", "high"]), "autopilot_mode": "full"})
    (out / "ops/locks").mkdir(parents=True, exist_ok=True)
    (out / "ops/wbs.json").write_text(json.dumps({"items": wbs}, indent=1) + "\n")
    statuses = ["todo", "in_progress", "review", "done", "blocked"]
    queue = [json.dumps({"id": item["id"], "status": rng.choice(statuses)}) for item in wbs]
    (out / "ops/queue.jsonl").write_text("\n".join(queue) + "\n")
    for n, item in enumerate(wbs[::10]):
        lock = {"agent": f"AGENT-{n + 1}", "task_id": item["id"], "scope_paths": item["scope_paths"],
                "acquired_at": "2026-12-01T00:00:00Z"}
        (out / f"ops/locks/AGENT-{n + 1}.lock").write_text(json.dumps(lock, indent=1) + "\n")


if __name__ == "__main__":
    main()
