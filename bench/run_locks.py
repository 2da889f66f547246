#!/usr/bin/env python3
"""Lock acquisition with 100 live locks: one `concord lock acquire` process per acquisition.

    nice -n 10 python3 bench/run_locks.py --runs 200 --locks 100 --parallel 2

Each round (interleaved, rotating order): `concord lock acquire --agent BENCH --task WBS-001
--scope bench/BENCH/**` (checked against every live lock's globs, under the folder's mutex,
written whole and hard-linked into place), `concord lock release --agent BENCH`, and the floors:
`concord --version` (starting the process at all) and `git rev-parse --verify -q HEAD` (acquire
records the base commit, so it runs git once). The workspace is a git repository.
Then --parallel workers acquire and release their own agents' locks in a loop for --seconds:
the throughput under contention for the folder's mutex.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (BenchError, base_parser, check_tools, describe_machine, fmt_time, interleaved,  # noqa: E402
                    machine, main_guard, percentile, print_table, run_once, save, stats, summarize, workspace)


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.set_defaults(runs=200, warmup=5)
    p.add_argument("--locks", type=int, default=100)
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    check_tools(args, "git")
    print(describe_machine(machine()))
    ws, manifest = workspace(args, f"locks-{args.locks}", ["--files", "20", "--chunks", "30",
                                                          "--locks", str(args.locks)])
    if not (ws / ".git").exists():
        git = ["git", "-C", str(ws), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
        subprocess.run(git + ["init", "-q"], check=True)
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-q", "-m", "bench"], check=True)
    live = len(list((ws / "ops/locks").glob("*.lock")))
    if live != args.locks:
        raise BenchError(f"{ws}/ops/locks has {live} locks, expected {args.locks}")
    subprocess.run([args.concord, "lock", "release", "--agent", "BENCH", "-C", str(ws)],
                   capture_output=True)
    acquire = [args.concord, "lock", "acquire", "--agent", "BENCH", "--task", "WBS-001",
               "--scope", "bench/BENCH/**", "-C", str(ws)]
    commands = {
        "acquire": {"argv": acquire, "rss": False},
        "release": {"argv": [args.concord, "lock", "release", "--agent", "BENCH", "-C", str(ws)], "rss": False},
        "concord --version": {"argv": [args.concord, "--version"], "rss": False},
        "git rev-parse": {"argv": ["git", "-C", str(ws), "rev-parse", "--verify", "-q", "HEAD"], "rss": False},
    }
    # acquire and release must alternate: keep them in that order, rotate only the floors.
    samples = {n: [] for n in commands}
    for r in range(args.warmup + args.runs):
        order = ["acquire", "release"]
        floors = ["concord --version", "git rev-parse"]
        order = (floors + order) if r % 2 else (order + floors)
        for name in order:
            c = commands[name]
            s = run_once(c["argv"], rss=False)
            if r >= args.warmup:
                samples[name].append(s)
    summary = summarize(samples)
    print_table(summary, f"lock acquire/release with {args.locks} live locks ({args.runs} runs each)")
    acq = sorted(s.wall for s in samples["acquire"])
    latency = {"p50": percentile(acq, 50), "p90": percentile(acq, 90), "p99": percentile(acq, 99)}
    floor = summary["concord --version"]["wall"]["median"]
    print(f"  acquire latency p50 {fmt_time(latency['p50'])}, p90 {fmt_time(latency['p90'])}, "
          f"p99 {fmt_time(latency['p99'])}; sequential throughput {1 / latency['p50']:.0f} acquisitions/s; "
          f"{latency['p50'] / floor:.1f}x the bare process start ({fmt_time(floor)})")

    # Contention: N workers, each its own agent and scope, acquire+release in a loop.
    counts = [0] * args.parallel
    errors: list[str] = []
    stop = time.perf_counter() + args.seconds

    def worker(k: int) -> None:
        agent = f"BENCH-P{k}"
        acq = [args.concord, "lock", "acquire", "--agent", agent, "--task", "WBS-001", "--scope",
               f"bench/{agent}/**", "-C", str(ws)]
        rel = [args.concord, "lock", "release", "--agent", agent, "-C", str(ws)]
        while time.perf_counter() < stop:
            try:
                run_once(acq, rss=False)
                counts[k] += 1
                run_once(rel, rss=False)
            except BenchError as e:
                errors.append(str(e))
                return

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    if errors:
        raise BenchError(f"a parallel acquire failed: {errors[0]}")
    throughput = sum(counts) / took
    print(f"  {args.parallel} parallel workers (acquire+release loops): {sum(counts)} acquisitions in "
          f"{took:.1f} s = {throughput:.0f} acquisitions/s")
    path = save(args, "locks", {"live_locks": args.locks, "summary": summary, "acquire_latency": latency,
                                "sequential_per_s": 1 / latency["p50"], "parallel": args.parallel,
                                "parallel_per_s": throughput, "acquire_over_process_start": latency["p50"] / floor})
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
