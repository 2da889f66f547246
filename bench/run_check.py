#!/usr/bin/env python3
"""`concord check` end to end, cold process, with its peak memory; ripgrep on the same tree
in the same run for scale.

    nice -n 10 python3 bench/run_check.py --files 50000 --runs 5 --warmup 1 [--no-item]

The workspace is the full kind: code in five languages, 1,000 chunks whose index carries
1,536-float embeddings (~21 MB), a WBS of 333 items, a queue and 100 live locks.
"Cold process" means a new process each run (no server, nothing cached in memory by Concord);
the page cache is warm (dropping it needs privileges a shared machine does not give). The cold
rows run with `--no-cache` (no facts cache); the `-warm` rows use the facts cache (primed once)
with one file edited before each run (an appended line), the case of a re-check after a change.
Peak memory is the kernel's maximum resident set size of the process (getrusage via wait4, the
number `/usr/bin/time -v` prints as "Maximum resident set size"; one extra run under
/usr/bin/time -v, when installed, cross-checks it).
concord-check-item runs the same check with `[trace] level = "item"` (the same code, hard-linked):
every file in the five languages goes through tree-sitter. Bytes parsed per second is the
source text over the CPU time item-level adds to the file-level check (a marginal figure: it
includes extracting items and comments, and checking and ranking suggestions for them).
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (RG_PATTERN, base_parser, check_tools, describe_machine, interleaved, machine,  # noqa: E402
                    main_guard, paired_ratio, print_table, save, summarize, tool_version, workspace)


def full_workspace(args, files: int, level: str = "file"):
    code, _ = workspace(args, f"code-{files}", ["--files", str(files), "--no-ops", "--big-file-lines", "10000"])
    suffix = "" if level == "file" else f"-{level}"
    return workspace(args, f"full-{files}{suffix}", ["--files", str(files), "--big-file-lines", "10000",
                                                     "--embedding-dim", "1536", "--locks", "100",
                                                     "--trace-level", level, "--link-code", str(code)])


def cached_variants(commands: dict, name: str, argv: list[str], changed: Path) -> None:
    """`name` cold (--no-cache), and warm with `changed` edited before each run (the cache is
    primed once here)."""
    commands[name] = {"argv": [*argv, "--no-cache"]}
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
    edit = f"echo '# edited' >> {shlex.quote(str(changed))} && exec " + " ".join(shlex.quote(a) for a in argv)
    commands[f"{name}-warm"] = {"argv": ["sh", "-c", edit + " > /dev/null"]}


def ci_variants(commands: dict, name: str, ws: Path, flags: list[str], slots: int, concord: str,
                work: Path) -> None:
    """CI-like warm runs: each run checks a fresh clone of `ws` made a git repository (every file
    has a new time, git's index matches it), with the facts cache in a folder kept between runs
    and primed once from the repository (its concord.toml sets `[cache] git_index = true`).
    `NAME-ci` has git on the PATH (clean tracked files are
    taken by blob id); `NAME-ci-nogit` has none (every file is read and hashed, the path before
    the blob key); `NAME-ci-refreshed` has git and clones whose index git has refreshed (`git
    update-index --refresh`, as `git status` does when it may write): right after a checkout the
    files written in the same second as the index are "racily clean", and git reads those to
    tell whether they changed. The clones are made under `work` here, before any run is timed."""
    repo = work / f"{ws.name}-git"
    if not (repo / ".git").is_dir():
        shutil.rmtree(repo, ignore_errors=True)
        # Hard links: the tree keeps the generator's old times, as an earlier checkout would.
        subprocess.run(["cp", "-al", str(ws), str(repo)], check=True)
        shutil.rmtree(repo / ".concord", ignore_errors=True)
        # The blob key is opt-in: the repository's settings turn it on (a fresh file, not the
        # hard link to the original's).
        config = repo / "concord.toml"
        text = config.read_text() if config.exists() else ""
        config.unlink(missing_ok=True)
        config.write_text(text + "\n[cache]\ngit_index = true\n")
        git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "bench"], check=True)
    for variant, path_env, refresh in ((f"{name}-ci", None, False), (f"{name}-ci-nogit", "/var/empty", False),
                                       (f"{name}-ci-refreshed", None, True)):
        base = work / "ci" / variant
        shutil.rmtree(base, ignore_errors=True)
        clones = base / "clones"
        clones.mkdir(parents=True)
        cache = base / "cache"
        subprocess.run([concord, "check", str(repo), *flags, "--cache-dir", str(cache)],
                       stdout=subprocess.DEVNULL, check=False)
        for n in range(slots):
            subprocess.run(["git", "clone", "-q", str(repo), str(clones / f"{n:03}")], check=True)
            if refresh:
                time.sleep(1.1)  # the index is written in a later second than every file
                subprocess.run(["git", "-C", str(clones / f"{n:03}"), "update-index", "-q", "--refresh"],
                               check=True)
        check = " ".join(shlex.quote(a) for a in [concord, "check"])
        rest = " ".join(shlex.quote(a) for a in [*flags, "--cache-dir", str(cache)])
        env = f"env PATH={path_env} " if path_env else ""
        # The next clone no run has checked yet (a hidden marker: neither scanned nor tracked).
        script = (f'for d in {shlex.quote(str(clones))}/*; do [ -e "$d/.taken" ] && continue; '
                  f'touch "$d/.taken"; exec {env}{check} "$d" {rest} > /dev/null; done; exit 3')
        commands[variant] = {"argv": ["sh", "-c", script]}


def blob_key_ratios(samples: dict, name: str) -> dict:
    """The CI-like runs with git against the one without (printed)."""
    out = {}
    for ci in (f"{name}-ci", f"{name}-ci-refreshed"):
        if ci in samples:
            r = out[f"{ci}/{name}-ci-nogit"] = paired_ratio(samples, ci, f"{name}-ci-nogit")
            print(f"  {ci}/{name}-ci-nogit {r['median']:.2f}x (paired {r['min']:.2f}..{r['max']:.2f})")
    return out


def first_code_file(root: Path) -> Path:
    for suffix in (".py", ".rs", ".ts", ".go", ".java", ".c"):
        found = sorted(p for p in root.rglob(f"*{suffix}") if ".concord" not in p.parts)
        if found:
            return found[len(found) // 2]
    raise SystemExit(f"no code file under {root}")


def time_v(argv: list[str]) -> dict:
    if not Path("/usr/bin/time").exists():
        return {}
    out = subprocess.run(["/usr/bin/time", "-v", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True).stderr
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.+)", out)
    return {"maxrss_mb": int(rss.group(1)) / 1024 if rss else None, "elapsed": wall.group(1) if wall else None}


def main() -> None:
    p = base_parser(__doc__.split("\n\n")[0])
    p.set_defaults(runs=5, warmup=1)
    p.add_argument("--files", type=int, default=50000)
    p.add_argument("--no-item", action="store_true", help="skip the item-level check")
    p.add_argument("--ci", action="store_true", help="add CI-like warm runs of the file-level check: a "
                   "fresh clone per run, the facts cache kept, with and without git (see ci_variants)")
    p.add_argument("--baseline", action="append", default=[], metavar="NAME=BINARY",
                   help="with --real-tree: an earlier build of concord, timed in the same run as a paired row "
                        "named NAME (repeat for several)")
    p.add_argument("--real-tree", default=None, help="a tree of real code built by bench/real_tree.py: "
                   "time the item-level check on it against rg instead of a generated workspace")
    args = p.parse_args()
    check_tools(args, "rg")
    print(describe_machine(machine()))
    if args.real_tree:
        real_tree(args)
        return
    ws, manifest = full_workspace(args, args.files)
    item_ws = None if args.no_item else full_workspace(args, args.files, "item")[0]
    c = manifest["counts"]
    print(f"workspace: {c['files']} files, {c['bytes'] / 1e6:.0f} MB of text + {c['index_bytes'] / 1e6:.0f} MB "
          f"index, {c['chunks']} chunks, {c['work_items']} work items, {c['locks']} locks")
    concord = [args.concord, "check", str(ws), "--format", "json", "--fail-on", "never"]
    skip = ["-g", "!docs/blueprints/blueprint_index.json", "-g", "!docs/blueprints/crosswalk.json"]
    commands = {"rg": {"argv": ["rg", "-c", *skip, RG_PATTERN, str(ws)], "ok": (0, 1)}}
    cached_variants(commands, "concord-check", concord, first_code_file(ws))
    if args.ci:
        ci_variants(commands, "concord-check", ws, ["--format", "json", "--fail-on", "never"],
                    args.warmup + args.runs, args.concord, ws.parent)
    if item_ws:
        cached_variants(commands, "concord-check-item",
                        [args.concord, "check", str(item_ws), "--format", "json", "--fail-on", "never"],
                        first_code_file(item_ws))
    samples = interleaved(commands, args.runs, args.warmup, log=None if args.quiet else print)
    summary = summarize(samples)
    print_table(summary, f"concord check end to end, {args.files} files, cold process ({args.runs} runs)")
    ratio = paired_ratio(samples, "concord-check", "rg")
    warm = {name: paired_ratio(samples, name, "rg") for name in samples
            if name.endswith("-warm") or "-ci" in name}
    for name, r in warm.items():
        print(f"  {name}/rg {r['median']:.2f}x (paired {r['min']:.2f}..{r['max']:.2f})")
    by_blob = blob_key_ratios(samples, "concord-check")
    item = {}
    if item_ws:
        extra_cpu = summary["concord-check-item"]["cpu"]["median"] - summary["concord-check"]["cpu"]["median"]
        item = {"ratio_to_file_level": paired_ratio(samples, "concord-check-item", "concord-check"),
                "parsed_bytes": c["bytes"], "extra_cpu_s": extra_cpu,
                "parsed_mb_per_cpu_s": c["bytes"] / 1e6 / max(extra_cpu, 1e-9)}
        print(f"  item-level: {summary['concord-check-item']['wall']['median']:.2f} s wall, "
              f"{item['ratio_to_file_level']['median']:.2f}x the file-level check; "
              f"{c['bytes'] / 1e6:.0f} MB parsed at {item['parsed_mb_per_cpu_s']:.1f} MB per CPU second "
              f"({extra_cpu:.2f} s CPU more than file-level)")
    tv = time_v([*concord, "--no-cache"])
    print(f"  concord-check/rg {ratio['median']:.2f}x (paired {ratio['min']:.2f}..{ratio['max']:.2f}); "
          f"peak RSS {summary['concord-check']['maxrss_mb']['median']:.0f} MB"
          + (f" (/usr/bin/time -v: {tv['maxrss_mb']:.0f} MB)" if tv.get("maxrss_mb") else ""))
    path = save(args, "check", {"files": args.files, "workspace": c, "summary": summary,
                                "ratios": {"concord-check/rg": ratio, **{f"{k}/rg": v for k, v in warm.items()},
                                           **by_blob},
                                "time_v": tv, "item": item,
                                "versions": {"rg": tool_version(["rg", "--version"])}})
    print(f"results: {path}")


def real_tree(args) -> None:
    """The item-level check (its `concord.toml` says `level = "item"`) on real code, and rg on
    the same tree in the same run."""
    import json
    root = Path(args.real_tree)
    manifest = json.loads((root / "real-tree.json").read_text())
    print(f"real tree {root}: {manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB, tagged {manifest['tagged']}")
    concord = [args.concord, "check", str(root), "--format", "json", "--fail-on", "never"]
    commands = {"rg": {"argv": ["rg", "-c", RG_PATTERN, str(root)], "ok": (0, 1)}}
    cached_variants(commands, "concord-check-item", concord, first_code_file(root))
    baselines = dict(b.split("=", 1) if "=" in b else ("baseline", b) for b in args.baseline)
    for name, binary in baselines.items():
        # A build older than the facts cache has no --no-cache (and nothing to turn off).
        help_text = subprocess.run([binary, "check", "--help"], capture_output=True, text=True).stdout
        no_cache = ["--no-cache"] if "--no-cache" in help_text else []
        commands[f"{name}-check-item"] = {"argv": [binary, *concord[1:], *no_cache]}
    if args.ci:
        ci_variants(commands, "concord-check-item", root, ["--format", "json", "--fail-on", "never"],
                    args.warmup + args.runs, args.concord, Path(args.out) / "ws")
    samples = interleaved(commands, args.runs, args.warmup, log=None if args.quiet else print)
    summary = summarize(samples)
    print_table(summary, f"item-level concord check on real code, {manifest['files']} files ({args.runs} runs)")
    ratio = paired_ratio(samples, "concord-check-item", "rg")
    warm = {name: paired_ratio(samples, name, "rg") for name in samples
            if name.endswith("-warm") or "-ci" in name}
    for name, r in warm.items():
        print(f"  {name}/rg {r['median']:.2f}x (paired {r['min']:.2f}..{r['max']:.2f})")
    by_blob = blob_key_ratios(samples, "concord-check-item")
    against_baseline = {}
    for name in baselines:
        r = against_baseline[f"{name}/concord-check-item"] = paired_ratio(samples, f"{name}-check-item",
                                                                          "concord-check-item")
        print(f"  {name}/concord {r['median']:.2f}x faster now (paired {r['min']:.2f}..{r['max']:.2f}); "
              f"{name} peak RSS {summary[f'{name}-check-item']['maxrss_mb']['median']:.0f} MB")
    cpu = summary["concord-check-item"]["cpu"]["median"]
    tv = time_v([*concord, "--no-cache"])
    print(f"  concord/rg {ratio['median']:.1f}x; {manifest['bytes'] / 1e6 / max(cpu, 1e-9):.1f} MB per CPU second; "
          f"peak RSS {summary['concord-check-item']['maxrss_mb']['median']:.0f} MB"
          + (f" (/usr/bin/time -v: {tv['maxrss_mb']:.0f} MB)" if tv.get("maxrss_mb") else ""))
    path = save(args, "check-real", {"tree": manifest, "summary": summary,
                                     "ratios": {"concord/rg": ratio, **{f"{k}/rg": v for k, v in warm.items()},
                                                **by_blob, **against_baseline},
                                     "time_v": tv, "versions": {"rg": tool_version(["rg", "--version"])}})
    print(f"results: {path}")


if __name__ == "__main__":
    main_guard(main)
