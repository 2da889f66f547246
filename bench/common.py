"""Shared pieces of the benchmark runners: the machine, timing of processes (interleaved),
statistics, workspaces and results. Standard library only."""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_OUT = BENCH / "out"

# The ID pattern, ripgrep's fastest correct form: ASCII word boundaries (IDs are ASCII).
# Concord compiles the same families into `(?-u)\b(?:(?:NT-\d{4})|(?:TD-\d{4})|(?:WBS-\d{3}[A-Z]?))\b`.
RG_PATTERN = r"(?-u)\b(NT|TD)-[0-9]{4}\b|\bWBS-[0-9]{3}[A-Z]?\b"
RG_PATTERN_UNICODE = r"\b(NT|TD)-[0-9]{4}\b|\bWBS-[0-9]{3}[A-Z]?\b"


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------- arguments


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--concord", default=os.environ.get("CONCORD", str(REPO / "target/release/concord")))
    p.add_argument("--out", default=str(DEFAULT_OUT), help="generated workspaces go to OUT/ws")
    p.add_argument("--results", default=None, help="write the results JSON here (default OUT/results)")
    p.add_argument("--runs", type=int, default=10, help="measured runs per command")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured runs per command first")
    p.add_argument("--quiet", action="store_true")
    return p


def check_tools(args, *tools: str) -> None:
    if not os.access(args.concord, os.X_OK):
        raise BenchError(f"{args.concord} is not an executable: build it with `cargo build --release` "
                         "or pass --concord PATH")
    for tool in tools:
        if not shutil.which(tool):
            raise BenchError(f"{tool} is not installed (apt-get install -y {apt_name(tool)})")


def apt_name(tool: str) -> str:
    return {"rg": "ripgrep", "valgrind": "valgrind", "git": "git"}.get(tool, tool)


# --------------------------------------------------------------------------- the machine


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", lscpu)
        info["cpu"] = m.group(1).strip() if m else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    try:
        mem = Path("/proc/meminfo").read_text()
        info["mem_gib"] = round(int(re.search(r"MemTotal:\s+(\d+)", mem).group(1)) / 2**20, 1)
    except (OSError, AttributeError):
        pass
    info["load"] = loadavg()
    info["nice"] = os.nice(0)
    return info


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def tool_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def describe_machine(m: dict) -> str:
    return (f"machine: {m.get('cpu', '?')}, {m['nproc']} CPUs, {m.get('mem_gib', '?')} GiB, "
            f"kernel {m['kernel']}, nice {m['nice']}, load {' '.join(map(str, m['load']))}")


# --------------------------------------------------------------------------- timing


class Sample:
    __slots__ = ("wall", "cpu", "maxrss_kb", "code")

    def __init__(self, wall: float, cpu: float, maxrss_kb: int, code: int):
        self.wall, self.cpu, self.maxrss_kb, self.code = wall, cpu, maxrss_kb, code


TIME = "/usr/bin/time"


def run_once(argv: list[str], cwd: str | None = None, env: dict | None = None, stdout=None,
             ok_codes=(0,), rss: bool = True) -> Sample:
    """Run a process to its end; wall time, CPU (user+sys, its children included) and peak RSS.

    The peak RSS comes from GNU time (`/usr/bin/time -f %M`, what `-v` prints as "Maximum resident
    set size") wrapped around the command: a process started straight from Python inherits the
    Python process's high-water mark in its rusage (Linux keeps it across exec), so wait4's
    ru_maxrss would be wrong for small processes. Without /usr/bin/time, or with rss=False, the
    peak is reported as 0 (unknown)."""
    out = stdout if stdout is not None else subprocess.DEVNULL
    rss_file = None
    if rss and os.path.exists(TIME):
        rss_file = f"/tmp/.concord-bench-rss-{os.getpid()}"
        argv = [TIME, "-f", "%M", "-o", rss_file, *argv]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, cwd=cwd, env=env)
    # Read stderr in full so a chatty process never blocks; wait4 gives its resource use.
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    maxrss = 0
    if rss_file:
        try:
            text = Path(rss_file).read_text()
            maxrss = int(text.strip().splitlines()[-1])
            m = re.search(r"exit status (\d+)", text)
            if m:
                proc.returncode = int(m.group(1))
        except (OSError, ValueError, IndexError):
            pass
    if proc.returncode not in ok_codes:
        raise BenchError(f"{' '.join(argv)} exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, maxrss, proc.returncode)


def interleaved(commands: dict[str, dict], runs: int, warmup: int, log=print) -> dict[str, list[Sample]]:
    """Run every command `warmup` times, then `runs` rounds in which each runs once; the order
    inside a round rotates, so a burst of load on the shared machine hits every command alike.
    `commands`: name -> {"argv": [...], "ok": (0,), "cwd": ..., "env": ...}."""
    names = list(commands)
    for _ in range(warmup):
        for name in names:
            c = commands[name]
            run_once(c["argv"], c.get("cwd"), c.get("env"), ok_codes=c.get("ok", (0,)), rss=c.get("rss", True))
    samples: dict[str, list[Sample]] = {n: [] for n in names}
    for r in range(runs):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            c = commands[name]
            samples[name].append(run_once(c["argv"], c.get("cwd"), c.get("env"), ok_codes=c.get("ok", (0,)),
                                          rss=c.get("rss", True)))
        if log:
            log(f"  round {r + 1}/{runs}: " + "  ".join(f"{n} {samples[n][-1].wall:.3f}s" for n in names))
    return samples


def stats(values: list[float]) -> dict:
    v = sorted(values)
    n = len(v)
    if n == 0:
        return {"n": 0}
    q = statistics.quantiles(v, n=4, method="inclusive") if n >= 2 else [v[0], v[0], v[0]]
    return {"n": n, "median": statistics.median(v), "min": v[0], "max": v[-1], "q1": q[0], "q3": q[2],
            "mean": statistics.fmean(v), "stdev": statistics.stdev(v) if n >= 2 else 0.0}


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summarize(samples: dict[str, list[Sample]]) -> dict:
    out = {}
    for name, ss in samples.items():
        out[name] = {"wall": stats([s.wall for s in ss]), "cpu": stats([s.cpu for s in ss]),
                     "maxrss_mb": stats([s.maxrss_kb / 1024 for s in ss]),
                     "walls": [round(s.wall, 5) for s in ss]}
    return out


def paired_ratio(samples: dict[str, list[Sample]], a: str, b: str) -> dict:
    """a/b per round (the two ran back to back), then the median and range of those ratios."""
    ratios = [x.wall / y.wall for x, y in zip(samples[a], samples[b])]
    s = stats(ratios)
    s["of_medians"] = stats([x.wall for x in samples[a]])["median"] / stats([y.wall for y in samples[b]])["median"]
    return s


def fmt_time(seconds: float) -> str:
    if seconds != seconds:
        return "n/a"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def print_table(summary: dict, title: str) -> None:
    print(f"\n{title}")
    print(f"  {'command':<34} {'median':>10} {'q1..q3':>21} {'min..max':>21} {'cpu':>9} {'maxrss':>9}")
    for name, s in summary.items():
        w = s["wall"]
        print(f"  {name:<34} {fmt_time(w['median']):>10} "
              f"{fmt_time(w['q1']) + '..' + fmt_time(w['q3']):>21} "
              f"{fmt_time(w['min']) + '..' + fmt_time(w['max']):>21} "
              f"{fmt_time(s['cpu']['median']):>9} {s['maxrss_mb']['median']:>7.0f}MB")


def hyperfine(commands: dict[str, list[str]], runs: int, warmup: int, export: Path) -> dict | None:
    """A cross-check with hyperfine (not interleaved: it runs each command's runs together)."""
    if not shutil.which("hyperfine"):
        return None
    argv = ["hyperfine", "-N", "--style", "basic", "--warmup", str(warmup), "--runs", str(runs),
            "--export-json", str(export), "-i"]
    for name, cmd in commands.items():
        argv += ["-n", name, " ".join(shell_quote(a) for a in cmd)]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    data = json.loads(export.read_text())
    return {r["command"]: {"median": r["median"], "min": r["min"], "max": r["max"], "stddev": r["stddev"]}
            for r in data["results"]}


def shell_quote(a: str) -> str:
    return a if re.fullmatch(r"[\w@%+=:,./-]+", a) else "'" + a.replace("'", "'\"'\"'") + "'"


# --------------------------------------------------------------------------- workspaces


def workspace(args, name: str, gen_args: list[str], log=print) -> tuple[Path, dict]:
    """Generate (or reuse) OUT/ws/NAME with gen.py arguments; returns (root, manifest)."""
    sys.path.insert(0, str(BENCH))
    import gen  # noqa: E402

    root = Path(args.out) / "ws" / name
    t = time.perf_counter()
    manifest = gen.ensure([str(root)] + gen_args)
    took = time.perf_counter() - t
    c = manifest["counts"]
    if log and took > 0.5:
        log(f"  generated {root}: {c['files']} files, {c['bytes'] / 1e6:.0f} MB in {took:.0f} s")
    return root, manifest


def results_dir(args) -> Path:
    d = Path(args.results) if args.results else Path(args.out) / "results"
    d.mkdir(parents=True, exist_ok=True)
    return d


def save(args, runner: str, data: dict) -> Path:
    path = results_dir(args) / f"{runner}.json"
    data = {"runner": runner, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(), **data}
    data.setdefault("versions", {})["concord"] = tool_version([args.concord, "--version"])
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def main_guard(fn) -> None:
    try:
        fn()
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
