#!/usr/bin/env python3
"""Acquire latency of locks shared through a git remote, against a local `git daemon`.

    nice -n 10 python3 bench/run_remote_locks.py --concord target/release/concord --runs 200

A bare repository is served by `git daemon` on 127.0.0.1 (a free port, --enable=receive-pack);
one clone acts as the machine, with `[locks] remote = "origin"`. Before the timed rounds,
--locks other locks are taken (on disjoint scopes), so each acquire checks its scope against
them. Each round times `concord lock acquire` (fetch the lock ref, check overlap, build the
commit with plumbing, compare-and-swap push) and then `concord lock release` (the same with the
lock removed); the floors are `concord --version` and a bare `git fetch` of the lock ref.
Uncontended: one machine, so no push loses a race. Prints p50/p90/p99 and the mean.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import describe_machine, machine, percentile  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    return elapsed


def summary(name: str, values: list[float]) -> str:
    v = sorted(values)
    ms = lambda x: f"{x * 1000:.1f} ms"  # noqa: E731
    return (f"| {name} | {ms(percentile(v, 50))} | {ms(percentile(v, 90))} | {ms(percentile(v, 99))} "
            f"| {ms(sum(v) / len(v))} | {len(v)} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--concord", default="target/release/concord")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--locks", type=int, default=20)
    args = p.parse_args()
    concord = str(Path(args.concord).resolve())
    print(describe_machine(machine()))
    print(subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "served"
        base.mkdir()
        subprocess.run(["git", "init", "-q", "--bare", str(base / "origin.git")], check=True)
        port = free_port()
        daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
                                   "--export-all", "--enable=receive-pack", f"--base-path={base}", str(base)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.02)
            ws = Path(tmp) / "machine"
            ws.mkdir()
            subprocess.run(["git", "-C", str(ws), "init", "-q"], check=True)
            subprocess.run(["git", "-C", str(ws), "remote", "add", "origin",
                            f"git://127.0.0.1:{port}/origin.git"], check=True)
            (ws / "concord.toml").write_text('[locks]\nremote = "origin"\n')
            for i in range(args.locks):
                timed([concord, "lock", "acquire", "--agent", f"OTHER-{i}", "--task", "WBS-002",
                       "--scope", f"other/{i}/**", "-C", str(ws)])
            acquire = [concord, "lock", "acquire", "--agent", "BENCH", "--task", "WBS-001",
                       "--scope", "bench/**", "-C", str(ws)]
            release = [concord, "lock", "release", "--agent", "BENCH", "-C", str(ws)]
            fetch = ["git", "-C", str(ws), "fetch", "-q", "--no-auto-maintenance", "origin",
                     "+refs/concord/locks:refs/concord/remote-locks"]
            results: dict[str, list[float]] = {"acquire": [], "release": [], "--version": [], "git fetch": []}
            for _ in range(5):
                timed(acquire)
                timed(release)
            for _ in range(args.runs):
                results["acquire"].append(timed(acquire))
                results["release"].append(timed(release))
                results["--version"].append(timed([concord, "--version"]))
                results["git fetch"].append(timed(fetch))
        finally:
            daemon.kill()
            daemon.wait()
    print(f"{args.locks} other live locks, {args.runs} rounds, git daemon on 127.0.0.1")
    print("| command | p50 | p90 | p99 | mean | runs |")
    print("|---|---|---|---|---|---|")
    for name, values in results.items():
        print(summary(name, values))


if __name__ == "__main__":
    main()
