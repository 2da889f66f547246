#!/usr/bin/env python3
"""Deterministic benchmark workspace generator.

    python3 bench/gen.py OUT --files 50000 [--langs py,ts,rs,go,java] [--lines 220]
        [--tag-density 0.35] [--untagged-files 0.10] [--unknown-rate 0.01]
        [--chunks 1000] [--embedding-dim 0] [--work-items N] [--locks 0]
        [--no-ops] [--big-file-lines 0] [--trace-level file|item] [--seed 7]

Same arguments, same bytes: every file is generated from its own seeded random stream
(`seed`, file number), so the first 1,000 files of a 10,000-file workspace are the files
of the 1,000-file workspace with the same other arguments. Standard library only.

Layout (the Concord defaults):
    services/svc-NNN/pkg-NN/*.{py,ts,rs,go,java}   code, one tag comment per traced function
    tests/svc-NNN/test_*.py ...                      tests (a fifth of the files)
    services/svc-NNN/README.md                       a little prose per service
    docs/blueprints/{narrative,technical}/*.md       chunk headings `## TD-0001 Title`
    docs/blueprints/blueprint_index.json             the chunks, with embeddings if asked
    ops/wbs.json ops/queue.jsonl ops/locks/*.lock ops/access/status.json

Python tags are written as `# lobster-trace: TD-0123`, the first line of the function's
body: that is LOBSTER's tag syntax and a plain Concord reference at once, so the peers read
the same tags. Other languages use `// implements TD-0123`.

A manifest (parameters and counts) is written to OUT/.bench/manifest.json; hidden folders
are scanned by neither Concord nor ripgrep. A finished workspace is not generated again
unless its parameters changed (or --force).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import sys
from pathlib import Path

GENERATOR_VERSION = 5
FILES_PER_DIR = 40
DIRS_PER_SERVICE = 10

WORDS = (
    "account booking studio payment refund invoice guest host listing calendar slot "
    "review rating message thread search filter price currency tax payout ledger audit "
    "session token email notice report export intake queue worker retry limit cache "
    "index shard region tenant policy consent profile photo upload storage quota plan "
    "coupon discount cart order checkout receipt dispute webhook event stream batch"
).split()
VERBS = "load save build check apply render parse merge split compute fetch send sync post emit".split()


def ident(rng: random.Random, parts: int = 2) -> str:
    return "_".join([rng.choice(VERBS)] + [rng.choice(WORDS) for _ in range(parts - 1)])


def camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


# Real code has some non-ASCII text in comments and strings (names, dashes, arrows); it is what
# makes a Unicode-aware \b slow, so a fair comparison needs it.
UNICODE_WORDS = ["café", "naïve", "Zürich", "São Paulo", "—", "→", "✓", "größe", "déjà vu", "Ω"]


def sentence(rng: random.Random, n: int = 8) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.05:
        words[rng.randrange(n)] = rng.choice(UNICODE_WORDS)
    return " ".join(words).capitalize() + "."


class Ids:
    """The ID universe of one workspace: what tags may name."""

    def __init__(self, chunks: int, work_items: int):
        half = chunks // 2
        self.chunks = [f"NT-{i:04d}" for i in range(1, half + 1)] + [
            f"TD-{i:04d}" for i in range(1, chunks - half + 1)
        ]
        self.work = [wbs_id(i) for i in range(1, work_items + 1)]

    def pick(self, rng: random.Random, unknown_rate: float) -> str:
        if rng.random() < unknown_rate:
            # A typo: a chunk number nobody defined, or a WBS number past the last one.
            return rng.choice([f"TD-{rng.randint(9000, 9999):04d}", f"WBS-{rng.randint(990, 999):03d}Z"])
        if self.work and rng.random() < 0.25:
            return rng.choice(self.work)
        if self.chunks:
            return rng.choice(self.chunks)
        return f"TD-{rng.randint(1, 9999):04d}"


def wbs_id(i: int) -> str:
    # WBS-001..WBS-999, then follow-ups WBS-001A.. (the ID pattern allows one letter).
    if i <= 999:
        return f"WBS-{i:03d}"
    n, letter = divmod(i - 1000, 26)
    return f"WBS-{(n % 999) + 1:03d}{chr(65 + letter)}"


# --------------------------------------------------------------------------- code bodies


def body_lines(rng: random.Random, indent: str, arg: str, lang: str) -> list[str]:
    n = rng.randint(3, 9)
    out = []
    for _ in range(n):
        kind = rng.random()
        name = ident(rng)
        num = rng.randint(2, 9999)
        if lang == "py":
            if kind < 0.3:
                out.append(f"{indent}{name} = {arg} * {num} + len({rng.choice(WORDS)!r})")
            elif kind < 0.5:
                out.append(f"{indent}# {sentence(rng, rng.randint(4, 10))}")
            elif kind < 0.7:
                out.append(f"{indent}if {arg} > {num}:")
                out.append(f"{indent}    {arg} -= {num}  # {rng.choice(WORDS)}")
            else:
                out.append(f"{indent}{arg} = self_check({arg}, \"{rng.choice(WORDS)}-{num}\")")
        else:
            semi = ";" if lang != "go" else ""
            decl = {"ts": "const", "rs": "let", "go": "", "java": "long"}[lang]
            assign = ":=" if lang == "go" else "="
            if kind < 0.3:
                lhs = f"{decl} {name}" if decl else name
                out.append(f"{indent}{lhs} {assign} {arg} * {num}{semi}")
            elif kind < 0.5:
                out.append(f"{indent}// {sentence(rng, rng.randint(4, 10))}")
            elif kind < 0.7:
                cond = f"if {arg} > {num}" if lang in ("rs", "go") else f"if ({arg} > {num})"
                out.append(f"{indent}{cond} {{")
                out.append(f"{indent}    {arg} = {arg} - {num}{semi} // {rng.choice(WORDS)}")
                out.append(f"{indent}}}")
            else:
                out.append(f"{indent}{arg} = selfCheck({arg}, \"{rng.choice(WORDS)}-{num}\"){semi}")
    return out


def function(rng: random.Random, lang: str, tag: str | None, method: bool) -> list[str]:
    name = ident(rng, 3)
    arg = rng.choice(WORDS)
    if lang == "py":
        ind = "    " if method else ""
        head = f"{ind}def {name}(self, {arg}: int) -> int:" if method else f"def {name}({arg}: int) -> int:"
        lines = [head]
        if rng.random() < 0.4:
            lines.append(f'{ind}    """{sentence(rng)}"""')
        if tag:
            lines.append(f"{ind}    # lobster-trace: {tag}")
        lines += body_lines(rng, ind + "    ", arg, lang)
        lines.append(f"{ind}    return {arg}")
        lines.append("")
        return lines
    if lang == "ts":
        ind = "  " if method else ""
        head = f"{ind}{camel(name)}({arg}: number): number {{" if method else f"export function {camel(name)}({arg}: number): number {{"
        sig_close = [f"{ind}  return {arg};", f"{ind}}}", ""]
    elif lang == "rs":
        ind = "    " if method else ""
        head = f"{ind}pub fn {name}(&self, mut {arg}: i64) -> i64 {{" if method else f"pub fn {name}(mut {arg}: i64) -> i64 {{"
        sig_close = [f"{ind}    {arg}", f"{ind}}}", ""]
    elif lang == "go":
        ind = ""
        head = f"func (s *Service) {camel(name)}({arg} int64) int64 {{" if method else f"func {camel(name)}({arg} int64) int64 {{"
        sig_close = [f"\treturn {arg}", "}", ""]
    else:  # java
        ind = "    "
        head = f"{ind}public long {camel(name)[0].lower() + camel(name)[1:]}(long {arg}) {{"
        sig_close = [f"{ind}    return {arg};", f"{ind}}}", ""]
    inner = "\t" if lang == "go" else ind + ("  " if lang == "ts" else "    ")
    lines = [head]
    if tag:
        lines.append(f"{inner}// implements {tag}")
    lines += body_lines(rng, inner, arg, lang)
    lines += sig_close
    return lines


def source_file(rng: random.Random, lang: str, target_lines: int, tagger, module: str) -> tuple[str, int, int]:
    """Returns (text, functions, tagged functions)."""
    lines: list[str] = []
    fns = tagged = 0
    if lang == "py":
        lines += [f'"""{module}: {sentence(rng)}"""', "import os", "from typing import Any", ""]
        lines.append(f"LIMIT = {rng.randint(10, 5000)}")
        lines.append("")
    elif lang == "ts":
        lines += [f"// {module}: {sentence(rng)}", "import { selfCheck } from '../util';", ""]
    elif lang == "rs":
        lines += [f"//! {module}: {sentence(rng)}", "use crate::util::self_check as selfCheck;", ""]
    elif lang == "go":
        lines += [f"// Package {module.split('/')[-2].replace('-', '')}: {sentence(rng)}",
                  f"package {module.split('/')[-2].replace('-', '')}", "", "type Service struct{}", ""]
    else:
        lines += [f"// {module}: {sentence(rng)}", "package com.example.bench;", "",
                  f"public class {camel(ident(rng))} {{", ""]
    in_class = False
    while len(lines) < target_lines:
        if lang == "py" and not in_class and rng.random() < 0.3:
            lines += [f"class {camel(ident(rng))}:", f'    """{sentence(rng)}"""', ""]
            in_class = True
        elif lang == "rs" and not in_class and rng.random() < 0.2:
            struct = camel(ident(rng))
            lines += [f"pub struct {struct};", "", f"impl {struct} {{"]
            in_class = True
        elif lang == "ts" and not in_class and rng.random() < 0.2:
            lines += [f"export class {camel(ident(rng))} {{"]
            in_class = True
        method = in_class or lang == "java" or (lang == "go" and rng.random() < 0.5)
        tag = tagger()
        fns += 1
        tagged += tag is not None
        lines += function(rng, lang, tag, method)
        if in_class and rng.random() < 0.25:
            if lang in ("rs", "ts"):
                lines += ["}", ""]
            else:
                lines.append("")
            in_class = False
    if in_class and lang in ("rs", "ts"):
        lines += ["}", ""]
    if lang == "java":
        lines += ["}", ""]
    return "\n".join(lines) + "\n", fns, tagged


EXT = {"py": "py", "ts": "ts", "rs": "rs", "go": "go", "java": "java"}


def file_plan(i: int, langs: list[str], tests_share: float, seed: int):
    rng = random.Random(f"{seed}/{i}")
    lang = langs[i % len(langs)]
    svc, rest = divmod(i, FILES_PER_DIR * DIRS_PER_SERVICE)
    pkg, n = divmod(rest, FILES_PER_DIR)
    is_test = rng.random() < tests_share
    if is_test:
        stem = {"py": f"test_{ident(rng)}_{n}", "go": f"{ident(rng)}_{n}_test", "java": f"{camel(ident(rng))}{n}Test",
                "ts": f"{camel(ident(rng))}{n}.test", "rs": f"{ident(rng)}_{n}"}[lang]
        path = f"tests/svc-{svc:03d}/pkg-{pkg:02d}/{stem}.{EXT[lang]}"
    else:
        stem = {"java": f"{camel(ident(rng))}{n}", "ts": f"{camel(ident(rng))}{n}"}.get(lang, f"{ident(rng)}_{n}")
        path = f"services/svc-{svc:03d}/pkg-{pkg:02d}/{stem}.{EXT[lang]}"
    return rng, lang, path


def write(root: Path, rel: str, text: str) -> int:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    path.write_bytes(data)
    return len(data)


def embedding(rng: random.Random, dim: int) -> str:
    # Roughly the look of a real embedding file: 7-9 significant digits, signed.
    return "[" + ", ".join(f"{rng.gauss(0, 0.03):.9f}" for _ in range(dim)) + "]"


def generate(args) -> dict:
    root = Path(args.out)
    langs = [l.strip() for l in args.langs.split(",") if l.strip()]
    for l in langs:
        if l not in EXT:
            sys.exit(f"gen.py: unknown language {l!r} (py, ts, rs, go, java)")
    ids = ids_of(args)
    counts = dict(files=0, bytes=0, functions=0, tagged_functions=0, untagged_files=0)
    if args.link_code:
        counts.update(link_code(Path(args.link_code), root, args))
    else:
        jobs = max(1, args.jobs)
        bounds = [(args.files * k // jobs, args.files * (k + 1) // jobs) for k in range(jobs)]
        work = [(str(root), vars(args), lo, hi) for lo, hi in bounds]
        if jobs > 1:
            with multiprocessing.Pool(jobs) as pool:
                parts = pool.starmap(code_range, work)
        else:
            parts = [code_range(*w) for w in work]
        for part in parts:
            for k, v in part.items():
                counts[k] += v

    if args.big_file_lines and not args.link_code:
        rng = random.Random(f"{args.seed}/big")
        tagger = lambda: ids.pick(rng, 0) if rng.random() < 0.5 else None
        text, fns, tagged = source_file(rng, "py", args.big_file_lines, tagger, "services/big/big_module.py")
        text = "\n".join(text.split("\n")[: args.big_file_lines]) + "\n"
        counts["files"] += 1
        counts["bytes"] += write(root, "services/big/big_module.py", text)
    if args.big_file_lines:
        counts["big_file"] = "services/big/big_module.py"

    if not args.no_ops and args.chunks:
        write_spec(root, args, ids, counts)
        write_ops(root, args, ids, counts)
    if args.trace_level != "file":
        write(root, "concord.toml", f'[trace]\nlevel = "{args.trace_level}"\n')
    return counts


def ids_of(args) -> Ids:
    # The ID universe does not depend on --no-ops, so a workspace with and one without ops
    # files (same other arguments) have identical code.
    work_items = args.work_items if args.work_items is not None else max(1, args.chunks // 3)
    return Ids(args.chunks, work_items)


def code_range(out: str, params: dict, lo: int, hi: int) -> dict:
    args = argparse.Namespace(**params)
    root = Path(out)
    ids = ids_of(args)
    langs = [l.strip() for l in args.langs.split(",") if l.strip()]
    counts = dict(files=0, bytes=0, functions=0, tagged_functions=0, untagged_files=0)
    for i in range(lo, hi):
        rng, lang, path = file_plan(i, langs, args.tests_share, args.seed)
        untagged = rng.random() < args.untagged_files

        def tagger(rng=rng, untagged=untagged):
            if untagged or rng.random() >= args.tag_density:
                return None
            return ids.pick(rng, args.unknown_rate)

        target = max(12, int(rng.gauss(args.lines, args.lines * 0.35)))
        text, fns, tagged = source_file(rng, lang, target, tagger, path)
        if tagged == 0:
            counts["untagged_files"] += 1
        counts["files"] += 1
        counts["functions"] += fns
        counts["tagged_functions"] += tagged
        counts["bytes"] += write(root, path, text)
        # One README per service, with prose that names a few IDs.
        if i % (FILES_PER_DIR * DIRS_PER_SERVICE) == 0:
            svc = i // (FILES_PER_DIR * DIRS_PER_SERVICE)
            r = random.Random(f"{args.seed}/readme/{svc}")
            prose = [f"# Service svc-{svc:03d}", ""] + [
                f"{sentence(r, 12)} See {ids.pick(r, 0)}." for _ in range(12)
            ]
            counts["files"] += 1
            counts["bytes"] += write(root, f"services/svc-{svc:03d}/README.md", "\n".join(prose) + "\n")
    return counts


CODE_KEYS = ["files", "langs", "lines", "tag_density", "untagged_files", "unknown_rate", "tests_share",
             "chunks", "work_items", "big_file_lines", "seed"]


def link_code(src: Path, root: Path, args) -> dict:
    """Hard-link the code of an identical-code workspace instead of generating it again."""
    manifest = json.loads((src / ".bench" / "manifest.json").read_text())
    mine = params_of(args)
    for key in CODE_KEYS:
        if manifest["params"].get(key) != mine.get(key):
            sys.exit(f"gen.py: --link-code {src}: its {key} is {manifest['params'].get(key)!r}, not {mine.get(key)!r}")
    for top in ("services", "tests"):
        for dirpath, _, names in os.walk(src / top):
            rel = Path(dirpath).relative_to(src)
            (root / rel).mkdir(parents=True, exist_ok=True)
            for name in names:
                os.link(Path(dirpath) / name, root / rel / name)
    c = manifest["counts"]
    spec = c.get("spec_files", 0)
    return {"files": c["files"] - spec, "bytes": c["bytes"] - c.get("spec_bytes", 0),
            "functions": c["functions"], "tagged_functions": c["tagged_functions"],
            "untagged_files": c["untagged_files"]}


def write_spec(root: Path, args, ids: Ids, counts: dict) -> None:
    rng = random.Random(f"{args.seed}/spec")
    entries = []
    per_file = 50
    for n in range(0, len(ids.chunks), per_file):
        block = ids.chunks[n : n + per_file]
        family = "narrative" if block[0].startswith("NT") else "technical"
        rel = f"docs/blueprints/{family}/part-{n // per_file:03d}.md"
        lines = [f"# Part {n // per_file}", ""]
        for cid in block:
            title = " ".join(w.capitalize() for w in (rng.choice(WORDS) for _ in range(3)))
            line = len(lines) + 1
            lines += [f"## {cid} {title}", "", sentence(rng, 30), sentence(rng, 20), ""]
            entries.append((cid, title, rel, line))
        size = write(root, rel, "\n".join(lines) + "\n")
        counts["bytes"] += size
        counts["files"] += 1
        counts["spec_bytes"] = counts.get("spec_bytes", 0) + size
        counts["spec_files"] = counts.get("spec_files", 0) + 1
    out = ['{\n  "version": 1,\n  "chunks": [']
    r = random.Random(f"{args.seed}/embeddings")
    for k, (cid, title, rel, line) in enumerate(entries):
        prio = ("must", "should", "could")[k % 3]
        fields = [
            f'"id": "{cid}"', f'"title": {json.dumps(title)}', f'"summary": {json.dumps(sentence(rng, 25))}',
            f'"source": "{rel}"', f'"line": {line}', f'"topic": "{rng.choice(WORDS)}"', f'"priority": "{prio}"',
        ]
        if args.embedding_dim:
            fields.append(f'"embedding": {embedding(r, args.embedding_dim)}')
        out.append("    {" + ", ".join(fields) + "}" + ("," if k + 1 < len(entries) else ""))
    out.append("  ]\n}\n")
    size = write(root, "docs/blueprints/blueprint_index.json", "\n".join(out))
    counts["index_bytes"] = size
    counts["chunks"] = len(entries)


def write_ops(root: Path, args, ids: Ids, counts: dict) -> None:
    rng = random.Random(f"{args.seed}/ops")
    services = max(1, -(-args.files // (FILES_PER_DIR * DIRS_PER_SERVICE)))
    items = []
    for k, wid in enumerate(ids.work):
        svc = k % services
        items.append({
            "id": wid,
            "title": " ".join(w.capitalize() for w in (rng.choice(WORDS) for _ in range(4))),
            "phase": f"P{1 + k % 4}",
            "blueprint_ids": sorted({rng.choice(ids.chunks) for _ in range(3)}),
            # A third of the items map code by scope; the rest rely on tags.
            "scope_paths": [f"services/svc-{svc:03d}/pkg-{k % DIRS_PER_SERVICE:02d}/**"] if k % 3 == 0 else [],
            "acceptance_criteria": [sentence(rng, 9) for _ in range(3)],
            "test_commands": [f"pytest tests/svc-{svc:03d}"],
            "risk_level": ("low", "medium", "high", "critical")[k % 4],
            "autopilot_mode": ("full", "review_only")[k % 2],
            "depends_on": [ids.work[k - 1]] if k else [],
        })
    write(root, "ops/wbs.json", json.dumps({"items": items}, indent=2) + "\n")
    statuses = ("todo", "in_progress", "review", "done", "blocked")
    queue = [json.dumps({"id": it["id"], "status": statuses[k % 5], "at": "2026-11-20T10:00:00Z", "by": "bench"})
             for k, it in enumerate(items)]
    write(root, "ops/queue.jsonl", "\n".join(queue) + "\n")
    for n in range(args.locks):
        lock = {"agent": f"AGENT-{n:03d}", "task_id": ids.work[n % len(ids.work)],
                "scope_paths": [f"services/held-{n:03d}/**", f"tests/held-{n:03d}/**"],
                "acquired_at": "2026-11-24T08:00:00Z", "host": "bench", "pid": 1000 + n}
        write(root, f"ops/locks/AGENT-{n:03d}.lock", json.dumps(lock) + "\n")
    write(root, "ops/access/status.json", json.dumps({"checks": {"stripe-test-keys": "PASS", "prod-db": "BLOCKED"}}) + "\n")
    counts["work_items"] = len(items)
    counts["locks"] = args.locks


def params_of(args) -> dict:
    keys = ["files", "langs", "lines", "tag_density", "untagged_files", "unknown_rate", "tests_share", "chunks",
            "embedding_dim", "work_items", "locks", "no_ops", "big_file_lines", "trace_level", "seed"]
    return {k: getattr(args, k) for k in keys} | {"generator": GENERATOR_VERSION}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--files", type=int, default=1000, help="source files (code and tests)")
    p.add_argument("--langs", default="py,ts,rs,go,java")
    p.add_argument("--lines", type=int, default=300, help="mean lines per source file")
    p.add_argument("--tag-density", type=float, default=0.35, help="share of functions carrying a tag")
    p.add_argument("--untagged-files", type=float, default=0.10, help="share of files with no tag at all")
    p.add_argument("--unknown-rate", type=float, default=0.01, help="share of tags naming an undefined ID")
    p.add_argument("--tests-share", type=float, default=0.2)
    p.add_argument("--chunks", type=int, default=1000)
    p.add_argument("--embedding-dim", type=int, default=0)
    p.add_argument("--work-items", type=int, default=None, help="default: chunks / 3")
    p.add_argument("--locks", type=int, default=0, help="live locks in ops/locks")
    p.add_argument("--no-ops", action="store_true", help="no spec index, WBS, queue or locks")
    p.add_argument("--big-file-lines", type=int, default=0, help="also write services/big/big_module.py")
    p.add_argument("--trace-level", default="file", choices=["file", "item"],
                   help="item: write concord.toml with [trace] level = \"item\"")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="generator processes")
    p.add_argument("--link-code", metavar="DIR",
                   help="hard-link services/ and tests/ from this generated workspace (same code arguments)")
    p.add_argument("--force", action="store_true")
    return p


def ensure(argv: list[str]) -> dict:
    """Generate unless an identical workspace is already there; returns the manifest."""
    args = parser().parse_args(argv)
    root = Path(args.out)
    manifest_path = root / ".bench" / "manifest.json"
    params = params_of(args)
    if manifest_path.exists() and not args.force:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params:
            return manifest
    if root.exists():
        if not (root / ".bench").exists() and any(root.iterdir()):
            sys.exit(f"gen.py: {root} exists and is not a generated workspace; refusing to delete it")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    counts = generate(args)
    manifest = {"params": params, "counts": counts,
                "id": hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]}
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


if __name__ == "__main__":
    m = ensure(sys.argv[1:])
    c = m["counts"]
    print(f"{sys.argv[1]}: {c['files']} files, {c['bytes'] / 1e6:.1f} MB, {c['functions']} functions "
          f"({c['tagged_functions']} tagged), {c.get('chunks', 0)} chunks")
