#!/usr/bin/env python3
"""The MCP server: how long each read tool takes to answer, after start-up.

    nice -n 10 python3 bench/run_mcp.py --files 50000 --calls 200

`concord mcp -C WS` over stdio (newline-delimited JSON-RPC, as the MCP stdio transport frames
it), driven from here with the standard library only. Per workspace — the demo workspace
(examples/marketplace) and a generated one of --files files with 1,000 chunks and 100 locks —
one server process: `initialize`, then the first call (which builds the model: the start-up),
then --calls calls of each read tool one after another. Latencies are client-side round trips
(they bound the server's time from above). Every call re-checks that the model's inputs did not
change (a stat of every scanned file and folder), so this measures that check too.

Targets (issue: the MCP server): every read tool under 50 ms on the demo and under 200 ms on a
50,000-file workspace, after start-up.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (REPO, BenchError, base_parser, check_tools, describe_machine, fmt_time, machine,  # noqa: E402
                    main_guard, percentile, save)
from run_check import full_workspace  # noqa: E402

ID = re.compile(r"\b(?:(?:NT|TD)-[0-9]{4}|WBS-[0-9]{3}[A-Z]?)\b")


class Server:
    def __init__(self, concord: str, ws: Path, agent: str):
        env = dict(os.environ, CONCORD_AGENT=agent)
        env.pop("CONCORD_LOG", None)
        self.proc = subprocess.Popen([concord, "mcp", "-C", str(ws)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
                                     bufsize=1)
        self.next_id = 0

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        wanted = self.next_id
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": wanted, "method": method, "params": params}) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            message = json.loads(line)
            if message.get("id") == wanted:
                if "error" in message:
                    raise BenchError(f"{method}: {message['error']}")
                return message["result"]
        raise BenchError(f"the server closed before answering {method}")

    def notify(self, method: str) -> None:
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
        self.proc.stdin.flush()

    def call(self, tool: str, arguments: dict) -> dict:
        result = self.request("tools/call", {"name": tool, "arguments": arguments})
        if result.get("isError"):
            raise BenchError(f"{tool} {arguments}: {result.get('content')}")
        return result

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def targets(ws: Path) -> dict:
    """What the tools are asked about: a chunk, a work item, a code file naming IDs, an agent."""
    index = json.loads((ws / "docs/blueprints/blueprint_index.json").read_text())
    chunks = index if isinstance(index, list) else index.get("chunks", [])
    wbs = json.loads((ws / "ops/wbs.json").read_text())
    items = wbs if isinstance(wbs, list) else wbs.get("items", [])
    locks = sorted((ws / "ops/locks").glob("*.lock"))
    if not chunks or not items or not locks:
        raise BenchError(f"{ws} needs chunks, work items and a lock")
    lock = json.loads(locks[0].read_text())
    # A code file naming an ID, else any code file (suggest_ids and check_changes take any).
    code = None
    candidates = sorted(p for p in ws.rglob("*") if p.suffix in (".py", ".rs") and ".concord" not in p.parts)
    for path in candidates:
        if ID.search(path.read_text(errors="replace")):
            code = path.relative_to(ws).as_posix()
            break
    if code is None and candidates:
        code = candidates[0].relative_to(ws).as_posix()
    if code is None:
        raise BenchError(f"no Python or Rust file in {ws}")
    title_words = re.findall(r"[A-Za-z]{5,}", chunks[len(chunks) // 2].get("title", ""))[:2]
    return {"chunk": chunks[len(chunks) // 2]["id"], "item": items[0]["id"], "code": code,
            "agent": lock["agent"], "query": " ".join(title_words) or "payment refund"}


def calls_for(t: dict) -> dict[str, dict]:
    return {
        "whoami_scope": {},
        "lookup": {"id": t["chunk"]},
        "search_spec": {"query": t["query"], "limit": 10},
        "suggest_ids": {"path": t["code"], "limit": 5},
        "check_changes": {"paths": [t["code"]]},
        "coverage": {"id": t["chunk"]},
        "task": {},
    }


def measure(concord: str, ws: Path, calls: int, log=print) -> dict:
    t = targets(ws)
    server = Server(concord, ws, t["agent"])
    try:
        started = time.perf_counter()
        server.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                      "clientInfo": {"name": "bench", "version": "0"}})
        server.notify("notifications/initialized")
        initialized = time.perf_counter() - started
        first = time.perf_counter()
        server.call("coverage", {})
        startup = time.perf_counter() - first
        log(f"  initialize {fmt_time(initialized)}, first call (builds the model) {fmt_time(startup)}")
        tools = {}
        for tool, arguments in calls_for(t).items():
            latencies = []
            for _ in range(calls):
                t0 = time.perf_counter()
                server.call(tool, arguments)
                latencies.append(time.perf_counter() - t0)
            latencies.sort()
            tools[tool] = {"median": percentile(latencies, 50), "p99": percentile(latencies, 99),
                           "max": latencies[-1], "calls": calls}
            log(f"  {tool:<14} median {fmt_time(tools[tool]['median'])}  p99 {fmt_time(tools[tool]['p99'])}")
        return {"initialize_s": initialized, "startup_s": startup, "tools": tools, "targets": t}
    finally:
        server.close()


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=50000, help="the generated workspace's size (0: demo only)")
    p.add_argument("--calls", type=int, default=200, help="calls of each tool per workspace")
    p.add_argument("--workspace", action="append", default=[],
                   help="also measure this workspace (needs chunks, work items and a lock), e.g. real code "
                        "with the demo's docs/ and ops/ copied in; repeatable")
    args = p.parse_args()
    check_tools(args)
    print(describe_machine(machine()))
    result = {"calls": args.calls, "workspaces": {}}
    demo = REPO / "examples/marketplace"
    print(f"demo workspace ({demo}):")
    result["workspaces"]["demo"] = measure(args.concord, demo, args.calls)
    if args.files:
        ws, manifest = full_workspace(args, args.files)
        print(f"generated workspace: {manifest['counts']['files']} files:")
        result["workspaces"][f"files-{args.files}"] = {"files": manifest["counts"]["files"],
                                                       **measure(args.concord, ws, args.calls)}
    for extra in args.workspace:
        ws = Path(extra).resolve()
        print(f"workspace {ws}:")
        result["workspaces"][ws.name] = measure(args.concord, ws, args.calls)
    for name, limit in [("demo", 0.050), (f"files-{args.files}", 0.200)]:
        measured = result["workspaces"].get(name)
        if measured:
            worst = max(v["p99"] for v in measured["tools"].values())
            print(f"{name}: slowest tool p99 {fmt_time(worst)} against {fmt_time(limit)}: "
                  f"{'met' if worst < limit else 'NOT met'}")
    path = save(args, "mcp", result)
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
