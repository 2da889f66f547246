#!/usr/bin/env python3
"""The plain regex tracer peer: what a team writes in twenty lines before adopting a tool.
Walks the tree (skipping hidden folders), finds IDs per source file, prints untraced files and
IDs that no definition names. File level only; no ops files, no coverage, no positions beyond
the line."""
import os, re, sys

ID = re.compile(rb"\b(?:(?:NT|TD)-[0-9]{4}|WBS-[0-9]{3}[A-Z]?)\b")
SOURCE = (".py", ".ts", ".rs", ".go", ".java")
root = sys.argv[1]
defined, uses, untraced = set(), [], []
for dirpath, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    for name in files:
        path = os.path.join(dirpath, name)
        with open(path, "rb") as f:
            data = f.read()
        if name.endswith(".md") or name.endswith(".json"):
            defined.update(m.group(1) for m in re.finditer(rb'(?:^#+ |"id": ")(' + ID.pattern + rb")", data, re.M))
        found = [(data.count(b"\n", 0, m.start()) + 1, m.group(0)) for m in ID.finditer(data)]
        uses += [(path, line, i) for line, i in found]
        if name.endswith(SOURCE) and not found:
            untraced.append(path)
unknown = [u for u in uses if defined and u[2] not in defined and not u[0].endswith(".json")]
for path in untraced:
    print(f"{path}: untraced")
for path, line, i in unknown:
    print(f"{path}:{line}: unknown {i.decode()}")
print(f"{len(untraced)} untraced files, {len(unknown)} unknown references", file=sys.stderr)
