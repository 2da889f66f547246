#!/usr/bin/env python3
"""The language server: hover latency, change→diagnostics, initialize→first diagnostics, memory.

    nice -n 10 python3 bench/run_lsp.py --files 20000 --sessions 3 --hovers 10000 --changes 300 \\
        --memory-files 100000

`concord lsp` over stdio, driven by bench/lsp_client.py (Python, single-threaded, Content-Length
framing). Latencies are client-side round trips, which bound the server's time from above; for
hover the server's own time is also read from its log (CONCORD_LOG=concord::lsp::timing=debug:
one line per request, from dispatch to response). initializationOptions: {"debounceMs": 0}, so
change→diagnostics excludes the debounce.

Per session (a new server process each), a push client (the default diagnostics scope: open
files, ops files and files with errors):
  open file diagnostics   a code file is opened right after `initialized`: the time from
                          `initialized` to its first publishDiagnostics (target 300 ms whatever the
                          workspace size)
  end of indexing         from `initialized` to the end of the "Indexing" work-done progress
  init→first diagnostics  from sending `initialize` to the first textDocument/publishDiagnostics;
                          also the last one, and how many files were published
  memory                  VmRSS and VmHWM from /proc/<pid>/status at first diagnostics and after all
  save→republish          --saves saves of a code file that is not open, each adding or removing
                          an unknown ID (an error, so the file enters or leaves the scope), timed
                          from didSave to the publishDiagnostics for that file
First session only:
  hover                   --hovers textDocument/hover requests one after another on IDs in an open
                          code file; floor: the same number/5 of requests for an unknown method
                          (framing + dispatch + error reply, no work); also hovers on a file that
                          is not open (the server reads the line from disk)
  change→diagnostics      --changes incremental edits on an open 10,000-line file (insert a line
                          naming TD-0001, then delete it), each timed until publishDiagnostics
                          for that document version arrives
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (BenchError, base_parser, check_tools, describe_machine, fmt_time, machine,  # noqa: E402
                    main_guard, percentile, save, stats)
from lsp_client import Client, LspError, initialize, uri  # noqa: E402
from run_check import full_workspace  # noqa: E402

ID = re.compile(r"\b(?:(?:NT|TD)-[0-9]{4}|WBS-[0-9]{3}[A-Z]?)\b")


def is_publish(m: dict) -> bool:
    return m.get("method") == "textDocument/publishDiagnostics"


def hover_targets(ws: Path, count: int = 2) -> list[tuple[Path, list[tuple[int, int, str]]]]:
    """Code files with at least four IDs, and the (line, character, id) of each."""
    found = []
    for path in sorted((ws / "services").glob("svc-000/pkg-0*/*.py")):
        spots = [(n, m.start() + 2, m.group(0)) for n, line in enumerate(path.read_text().splitlines())
                 for m in ID.finditer(line)]
        if len(spots) >= 4:
            found.append((path, spots))
        if len(found) == count:
            return found
    raise BenchError(f"no Python file in {ws}/services/svc-000 names four IDs")


def summarize_latencies(values: list[float]) -> dict:
    v = sorted(values)
    return {"n": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90), "p99": percentile(v, 99),
            "max": v[-1] if v else float("nan"), "mean": stats(v).get("mean")}


def seen_or_wait(client: Client, predicate, timeout: float) -> tuple[float, dict]:
    """The first notification so far that satisfies `predicate`, else the next one."""
    for at, message in client.notifications:
        if predicate(message):
            return at, message
    return client.wait_for(predicate, timeout=timeout)


def code_files(ws: Path, count: int) -> list[Path]:
    """Python files under services/ (a generated workspace) or src/ (a real tree), in a fixed order."""
    found = sorted((ws / "services").glob("svc-00*/pkg-0*/*.py")) or sorted((ws / "src").glob("*/**/*.py"))
    if len(found) < count:
        raise BenchError(f"fewer than {count} Python files under {ws}/services")
    return found[:count]


def save_bench(client: Client, path: Path, saves: int, log) -> dict:
    doc = uri(path)
    original = path.read_text()
    times = []
    try:
        for k in range(saves):
            path.write_text(original + ("# TD-9999 unknown\n" if k % 2 == 0 else ""))
            start = time.perf_counter()
            client.notify("textDocument/didSave", {"textDocument": {"uri": doc}})
            at, _ = client.wait_for(lambda m: is_publish(m) and m["params"]["uri"] == doc, timeout=60)
            times.append(at - start)
    finally:
        path.write_text(original)
    s = summarize_latencies(times)
    # Which save was slowest (0: the first after indexing) tells a one-off from noise.
    s["slowest_save"] = max(range(len(times)), key=times.__getitem__) if times else None
    if log:
        log(f"  save→republish x{s['n']}: p50 {fmt_time(s['p50'])}, p90 {fmt_time(s['p90'])}, "
            f"p99 {fmt_time(s['p99'])}, slowest #{s['slowest_save']}  (target p99 < 50 ms)")
    return {"save": s}


def session(concord: str, ws: Path, manifest: dict, hovers: int = 0, changes: int = 0, saves: int = 0,
            quiet: float = 1.5, log=print) -> dict:
    out: dict = {}
    log_file = tempfile.TemporaryFile(prefix="concord-lsp-log-")
    env = dict(os.environ, CONCORD_LOG="warn,concord::lsp::timing=debug")
    client = Client([concord, "lsp"], env=env, stderr=log_file)
    try:
        start = time.perf_counter()
        rt, init = initialize(client, ws, {"debounceMs": 0})
        if "result" not in init:
            raise BenchError(f"initialize failed: {init}")
        out["initialize_s"] = rt
        opened, saved = code_files(ws, 2)
        client.notify("initialized", {})
        initialized = time.perf_counter()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri(opened), "languageId": "python",
                                                               "version": 1, "text": opened.read_text()}})
        at, first = client.wait_for(is_publish, timeout=900)
        out["first_diagnostics_s"] = at - start
        out["first_is_open_file"] = first["params"]["uri"] == uri(opened)
        at, _ = seen_or_wait(client, lambda m: is_publish(m) and m["params"]["uri"] == uri(opened), 900)
        out["open_file_diagnostics_s"] = at - initialized
        out["memory_at_first_mb"] = client.memory()
        at, _ = seen_or_wait(client, lambda m: m.get("method") == "$/progress"
                             and (m["params"].get("value") or {}).get("kind") == "end", 900)
        out["indexed_s"] = at - initialized
        client.drain_until_quiet(quiet, timeout=900)
        publishes = [(t, m) for t, m in client.notifications if is_publish(m)]
        nonempty = [t for t, m in publishes if m["params"]["diagnostics"]]
        if not nonempty:
            raise BenchError("the server published no diagnostics with findings")
        out["first_nonempty_diagnostics_s"] = nonempty[0] - start
        out["all_diagnostics_s"] = publishes[-1][0] - start
        out["published_files"] = len(publishes)
        out["files_with_findings"] = len(nonempty)
        out["memory_after_all_mb"] = client.memory()
        if log:
            log(f"  open file diagnostics {fmt_time(out['open_file_diagnostics_s'])} after initialized "
                f"(first of all: {out['first_is_open_file']}); indexed {fmt_time(out['indexed_s'])}; "
                f"init→first diagnostics {fmt_time(out['first_diagnostics_s'])}, last "
                f"{fmt_time(out['all_diagnostics_s'])}, {len(publishes)} files published; "
                f"RSS {out['memory_after_all_mb']['VmRSS']:.0f} MB, HWM {out['memory_after_all_mb']['VmHWM']:.0f} MB")
        if saves:
            out.update(save_bench(client, saved, saves, log))
        if hovers:
            out.update(hover_bench(client, ws, hovers, log))
        if changes:
            out.update(change_bench(client, ws, manifest, changes, log))
    finally:
        client.close()
        log_file.seek(0)
        server_log = log_file.read().decode(errors="replace")
        log_file.close()
    if hovers:
        out["hover_server"] = server_side(server_log, out.pop("hover_ids"))
        h = out["hover_server"]
        if log:
            log(f"  hover, server side x{h['n']}: p50 {fmt_time(h['p50'])}, p90 {fmt_time(h['p90'])}, "
                f"p99 {fmt_time(h['p99'])}, max {fmt_time(h['max'])}  (target p99 < 1 ms)")
    return out


TIMING = re.compile(r"(\S+) \(id (\d+)\) took (\d+) ns")


def server_side(server_log: str, ids: list[int]) -> dict:
    """The server's own time for the requests `ids`, from its timing log."""
    took = {int(m.group(2)): int(m.group(3)) / 1e9 for m in TIMING.finditer(server_log)}
    missing = [i for i in ids if i not in took]
    if missing:
        raise BenchError(f"the server logged no timing for {len(missing)} of {len(ids)} hovers "
                         f"(first: id {missing[0]}); does this build log concord::lsp::timing?")
    return summarize_latencies([took[i] for i in ids])


def hover_bench(client: Client, ws: Path, hovers: int, log) -> dict:
    (open_path, spots), (closed_path, closed_spots) = hover_targets(ws)
    doc = uri(open_path)
    client.notify("textDocument/didOpen", {"textDocument": {"uri": doc, "languageId": "python", "version": 1,
                                                           "text": open_path.read_text()}})

    def hover(u, line, char):
        return client.request("textDocument/hover", {"textDocument": {"uri": u},
                                                     "position": {"line": line, "character": char}})

    for k in range(min(500, hovers)):  # warm-up, and a check that hover answers with the ID
        line, char, ident = spots[k % len(spots)]
        _, resp = hover(doc, line, char)
        if k < len(spots) and ident not in (resp.get("result") or {}).get("contents", {}).get("value", ""):
            raise BenchError(f"hover on {ident} at {open_path}:{line + 1} did not show it: {resp}")
    times, ids = [], []
    for k in range(hovers):
        line, char, _ = spots[k % len(spots)]
        rt, _ = hover(doc, line, char)
        times.append(rt)
        ids.append(client.next_id)
    floor = []
    for k in range(max(1, hovers // 5)):
        rt, resp = client.request("concord/benchNoop", {})
        if "error" not in resp:
            raise BenchError(f"the no-op request was answered: {resp}")
        floor.append(rt)
    closed = []
    cu = uri(closed_path)
    for k in range(max(1, hovers // 5)):
        line, char, _ = closed_spots[k % len(closed_spots)]
        rt, _ = hover(cu, line, char)
        closed.append(rt)
    h, f, c = summarize_latencies(times), summarize_latencies(floor), summarize_latencies(closed)
    if log:
        log(f"  hover (open file) x{h['n']}: p50 {fmt_time(h['p50'])}, p90 {fmt_time(h['p90'])}, "
            f"p99 {fmt_time(h['p99'])}, max {fmt_time(h['max'])}  (client round trip)")
        log(f"  no-op round trip x{f['n']}: p50 {fmt_time(f['p50'])}, p99 {fmt_time(f['p99'])}")
        log(f"  hover (file not open) x{c['n']}: p50 {fmt_time(c['p50'])}, p99 {fmt_time(c['p99'])}")
    return {"hover": h, "hover_ids": ids, "noop": f, "hover_closed_file": c}


def change_bench(client: Client, ws: Path, manifest: dict, changes: int, log) -> dict:
    big = manifest["counts"].get("big_file")
    if not big:
        raise BenchError("the workspace has no 10,000-line file (gen.py --big-file-lines)")
    path = ws / big
    doc = uri(path)
    text = path.read_text()
    lines = text.count("\n")
    client.notify("textDocument/didOpen", {"textDocument": {"uri": doc, "languageId": "python", "version": 1,
                                                           "text": text}})
    for_version = lambda v: (lambda m: is_publish(m) and m["params"]["uri"] == doc
                             and m["params"].get("version") == v)
    client.wait_for(for_version(1), timeout=60)
    times = []
    for k in range(changes):
        version = k + 2
        line = (lines // 2 + 37 * (k // 2)) % (lines - 2)
        if k % 2 == 0:
            change = {"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                      "text": "# implements TD-0001\n"}
        else:
            change = {"range": {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}},
                      "text": ""}
        start = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": doc, "version": version},
                                                 "contentChanges": [change]})
        at, _ = client.wait_for(for_version(version), timeout=60)
        times.append(at - start)
    s = summarize_latencies(times)
    if log:
        log(f"  change→diagnostics on a {lines}-line file x{s['n']}: p50 {fmt_time(s['p50'])}, "
            f"p90 {fmt_time(s['p90'])}, p99 {fmt_time(s['p99'])} (debounce 0)")
    return {"change": s, "big_file_lines": lines}


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=20000)
    p.add_argument("--sessions", type=int, default=3, help="server processes for init→first diagnostics")
    p.add_argument("--hovers", type=int, default=10000)
    p.add_argument("--changes", type=int, default=300)
    p.add_argument("--saves", type=int, default=200, help="save→republish round trips (first session)")
    p.add_argument("--memory-files", type=int, default=100000, help="0: skip the large memory session")
    p.add_argument("--real-tree", default=None, help="a tree of real code built by bench/real_tree.py: one "
                   "session on it (open-file diagnostics, indexing, saves) instead of generated workspaces")
    args = p.parse_args()
    check_tools(args)
    print(describe_machine(machine()))
    if args.real_tree:
        root = Path(args.real_tree)
        print(f"real tree {root}:")
        result = {"real_tree": str(root), "session": session(args.concord, root, {}, 0, 0, args.saves)}
        print(f"results: {save(args, 'lsp-real', result)}")
        return
    ws, manifest = full_workspace(args, args.files)
    c = manifest["counts"]
    print(f"workspace: {c['files']} files, {c['bytes'] / 1e6:.0f} MB + {c['index_bytes'] / 1e6:.0f} MB index "
          f"({c['chunks']} chunks with embeddings), {c['locks']} locks")
    sessions = []
    for k in range(args.sessions):
        print(f"session {k + 1}/{args.sessions}:")
        sessions.append(session(args.concord, ws, manifest, args.hovers if k == 0 else 0,
                                args.changes if k == 0 else 0, args.saves if k == 0 else 0))
    opens = [s["open_file_diagnostics_s"] for s in sessions]
    indexed = [s["indexed_s"] for s in sessions]
    firsts = [s["first_diagnostics_s"] for s in sessions]
    alls = [s["all_diagnostics_s"] for s in sessions]
    result = {"files": args.files, "workspace": c, "sessions": sessions, "open_file_diagnostics": stats(opens),
              "indexed": stats(indexed), "first_diagnostics": stats(firsts), "all_diagnostics": stats(alls)}
    print(f"open file diagnostics on {args.files} files: median {fmt_time(result['open_file_diagnostics']['median'])} "
          f"(target 300 ms); end of indexing: median {fmt_time(result['indexed']['median'])}")
    print(f"init→first diagnostics on {args.files} files: median {fmt_time(result['first_diagnostics']['median'])} "
          f"(min {fmt_time(min(firsts))}, max {fmt_time(max(firsts))}); target < 2 s "
          f"= {result['first_diagnostics']['median'] / 2:.2f}x the limit")
    if args.memory_files:
        mws, mman = full_workspace(args, args.memory_files)
        print(f"memory session on {mman['counts']['files']} files:")
        result["memory_session"] = session(args.concord, mws, mman)
        result["memory_files"] = args.memory_files
    path = save(args, "lsp", result)
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
