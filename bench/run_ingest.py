#!/usr/bin/env python3
"""Ingest: `concord ingest` on a generated 500,000-word spec (900 chunks in 60 files).

    nice -n 10 python3 bench/run_ingest.py --runs 10 --warmup 2

The spec is markdown under docs/blueprints/: per file a `# Area` heading, `## Topic` headings,
chunk headings `### TD-0001 Title` (NT- in every third file) with sections of about 560 words
in paragraphs and lists, some `#### Detail` sub-headings, a `Priority: must` line in every fifth
chunk, and YAML front matter in every fourth file. No network: extractive summaries only.
Figures:
- `fresh`: the index does not exist; ingest derives and writes all of it (the index is removed
  before each run, by the same shell that runs ingest);
- `up-to-date`: the index is what ingest would write; ingest derives it and writes nothing;
- `assign-ids-dry-run`: the same spec with every tenth chunk heading's ID taken away;
  `--assign-ids --dry-run` plans the new IDs, prints the diff and derives the index.
Target: under 2 s for each.

With `--real-source DIR` (repeatable) the same figures are also taken on real public markdown:
every `.md` file over 2 KB under those folders (e.g. the crates of `~/.cargo/registry/src`:
READMEs, changelogs, guides), copied flat under docs/blueprints/. Those files carry no IDs:
`real-assign-ids-dry-run` plans IDs for their headings; one `--assign-ids` run then numbers a
copy, on which `real-fresh` and `real-up-to-date` are taken.
"""
from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (base_parser, check_tools, describe_machine, interleaved, machine, main_guard,  # noqa: E402
                    print_table, run_once, save, summarize)

WORDS = ("payment card refund receipt checkout order customer account signup login session token "
         "invoice ledger balance currency tax shipping address catalogue search filter price stock "
         "supplier review rating message notification email retry timeout audit report export import "
         "schedule webhook queue worker limit quota region tenant role permission consent privacy "
         "must should may never always within days hours seconds each every other the a an of to in "
         "for with by on at from and or not when if then after before until").split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def section(rng: random.Random, words: int) -> list[str]:
    lines: list[str] = []
    count = 0
    while count < words:
        if rng.random() < 0.2:
            items = [f"- {sentence(rng)}" for _ in range(rng.randint(2, 5))]
            lines += items + [""]
            count += sum(len(i.split()) - 1 for i in items)
        else:
            para = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
            lines += [para, ""]
            count += len(para.split())
        if rng.random() < 0.08:
            lines += [f"#### Detail {rng.randint(1, 99)}", ""]
    return lines


def generate(root: Path, chunks: int, files: int, words: int, drop_every: int, seed: int = 7) -> int:
    """Write the spec under root; returns the number of words written."""
    rng = random.Random(seed)
    spec = root / "docs/blueprints"
    if root.exists():
        shutil.rmtree(root)
    spec.mkdir(parents=True)
    per_word = words // chunks
    total = 0
    numbers = {"TD": 0, "NT": 0}
    n = 0
    for f in range(files):
        family = "NT" if f % 3 == 2 else "TD"
        lines: list[str] = []
        if f % 4 == 0:
            lines += ["---", f"topic: Area {f}", "priority: should", "owner: spec-team", "---"]
        lines += [f"# Area {f}", "", sentence(rng), ""]
        in_file = chunks // files + (1 if f < chunks % files else 0)
        for c in range(in_file):
            if c % 5 == 0:
                lines += [f"## Topic {f}.{c // 5}", ""]
            numbers[family] += 1
            n += 1
            chunk_id = f"{family}-{numbers[family]:04d} " if drop_every == 0 or n % drop_every else ""
            lines += [f"### {chunk_id}Chunk {f}.{c} {rng.choice(WORDS)} {rng.choice(WORDS)}", ""]
            if n % 5 == 0:
                lines += ["Priority: must", ""]
            body = section(rng, per_word)
            total += sum(len(line.split()) for line in body if not line.startswith("#"))
            lines += body
        (spec / f"area-{f:03d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return total


def real_commands(args, out: Path) -> dict:
    """Workspaces of real markdown: one as found (no IDs), one numbered by `--assign-ids`."""
    plain = out / "ingest-real"
    if plain.exists():
        shutil.rmtree(plain)
    blueprints = plain / "docs/blueprints"
    blueprints.mkdir(parents=True)
    files = sorted(f for source in args.real_source for f in Path(source).expanduser().rglob("*.md")
                   if f.is_file() and f.stat().st_size > 2048)
    for n, f in enumerate(files):
        shutil.copyfile(f, blueprints / f"{n:05d}-{f.name}")
    size = sum(f.stat().st_size for f in blueprints.glob("*.md"))
    words = sum(len(f.read_text(errors="replace").split()) for f in blueprints.glob("*.md"))
    numbered = out / "ingest-real-numbered"
    if numbered.exists():
        shutil.rmtree(numbered)
    shutil.copytree(plain, numbered)
    run_once([args.concord, "ingest", "--assign-ids", "-C", str(numbered)])
    index = numbered / "docs/blueprints/blueprint_index.json"
    chunks = index.read_text().count('"fingerprint"')
    print(f"real spec: {len(files)} files, {words} words, {size / 1e6:.1f} MB of markdown, {chunks} chunks once numbered")
    fresh = out / "ingest-real-fresh"
    if fresh.exists():
        shutil.rmtree(fresh)
    shutil.copytree(numbered, fresh)
    fresh_index = fresh / "docs/blueprints/blueprint_index.json"
    return {
        "facts": {"files": len(files), "words": words, "markdown_bytes": size, "chunks": chunks},
        "commands": {
            "real-assign-ids-dry-run": {"argv": [args.concord, "ingest", "--assign-ids", "--dry-run", "-C", str(plain)]},
            "real-fresh": {"argv": ["sh", "-c", f'rm -f "{fresh_index}" && exec "{args.concord}" ingest -C "{fresh}"']},
            "real-up-to-date": {"argv": [args.concord, "ingest", "-C", str(numbered)]},
        },
    }


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--chunks", type=int, default=900)
    p.add_argument("--files", type=int, default=60)
    p.add_argument("--words", type=int, default=500_000)
    p.add_argument("--real-source", action="append", default=[], metavar="DIR",
                   help="also measure on the real .md files (over 2 KB) under DIR")
    args = p.parse_args()
    check_tools(args)
    print(describe_machine(machine()))
    out = Path(args.out) / "ws"
    full = out / f"ingest-{args.chunks}"
    partial = out / f"ingest-{args.chunks}-unnumbered"
    words = generate(full, args.chunks, args.files, args.words, drop_every=0)
    generate(partial, args.chunks, args.files, args.words, drop_every=10)
    size = sum(f.stat().st_size for f in (full / "docs/blueprints").glob("*.md"))
    print(f"spec: {words} words in {args.chunks} chunks, {args.files} files, {size / 1e6:.1f} MB of markdown")
    index = full / "docs/blueprints/blueprint_index.json"
    run_once([args.concord, "ingest", "-C", str(partial)])  # an index for the partial spec
    fresh_ws = out / f"ingest-{args.chunks}-fresh"
    if fresh_ws.exists():
        shutil.rmtree(fresh_ws)
    shutil.copytree(full, fresh_ws)
    fresh_index = fresh_ws / "docs/blueprints/blueprint_index.json"
    run_once([args.concord, "ingest", "-C", str(full)])
    commands = {
        "fresh": {"argv": ["sh", "-c", f'rm -f "{fresh_index}" && exec "{args.concord}" ingest -C "{fresh_ws}"']},
        "up-to-date": {"argv": [args.concord, "ingest", "-C", str(full)]},
        "assign-ids-dry-run": {"argv": [args.concord, "ingest", "--assign-ids", "--dry-run", "-C", str(partial)]},
    }
    real = {}
    if args.real_source:
        real = real_commands(args, out)
        commands.update(real["commands"])
    samples = interleaved(commands, args.runs, args.warmup, log=None if args.quiet else print)
    if fresh_index.read_bytes() != index.read_bytes():
        raise SystemExit("the fresh index differs from the up-to-date one")
    summary = summarize(samples)
    print_table(summary, f"concord ingest, {words} words, {args.chunks} chunks ({args.runs} runs)")
    path = save(args, "ingest", {"words": words, "chunks": args.chunks, "files": args.files,
                                 "markdown_bytes": size, "index_bytes": index.stat().st_size,
                                 "real": real.get("facts"), "summary": summary})
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
