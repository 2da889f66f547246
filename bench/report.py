#!/usr/bin/env python3
"""Turn the runners' results into the tables and the scaling plot of docs/benchmarks.md.

    python3 bench/report.py [--results bench/out/results] [--publish]

Prints a markdown table of every figure found in the results folder and writes
RESULTS/scaling.svg (hand-written SVG: no plotting library, no network). With --publish it
copies the results JSON and the SVG to bench/results/ and replaces the generated part of
docs/benchmarks.md (between the `<!-- generated:begin -->` and `<!-- generated:end -->` lines).
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH, DEFAULT_OUT, REPO, fmt_time  # noqa: E402

BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"


def load(results: Path) -> dict:
    out = {}
    for f in sorted(results.glob("*.json")):
        try:
            data = json.loads(f.read_text())
        except json.JSONDecodeError:
            continue
        if "runner" in data:
            out[f.stem] = data
    return out


def spread(w: dict) -> str:
    return f"(IQR {fmt_time(w['q1'])}–{fmt_time(w['q3'])}, range {fmt_time(w['min'])}–{fmt_time(w['max'])})"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def table(r: dict) -> str:
    rows = []

    def row(figure, concord, peer, ratio, target, ok, note=""):
        rows.append(f"| {figure} | {concord} | {peer} | {ratio} | {target} | {verdict(ok)} | {note} |")

    if "scan" in r:
        s = r["scan"]["summary"]
        ra = r["scan"]["ratios"]
        n = r["scan"]["files"]
        rows_of = [("concord-refs", "rg", f"reference scan, {n:,} files: `concord refs --count`", True),
                   ("concord-code", "rg", f"`concord check`, {n:,} files, no ops files", False),
                   ("concord-ops", "rg-ops", f"`concord check`, {n:,} files, with ops files", False)]
        for key, peer, label, scan in rows_of:
            if key not in s:
                continue
            ratio = ra[f"{key}/{peer}"]
            row(label, f"{fmt_time(s[key]['wall']['median'])} {spread(s[key]['wall'])}",
                f"rg -c {fmt_time(s[peer]['wall']['median'])} {spread(s[peer]['wall'])}",
                f"{ratio['median']:.2f}× (paired {ratio['min']:.2f}–{ratio['max']:.2f})", "≤ 1.5×" if scan else "—",
                ratio["median"] <= 1.5 if scan else None,
                f"CPU {fmt_time(s[key]['cpu']['median'])} vs {fmt_time(s[peer]['cpu']['median'])}; "
                f"peak RSS {s[key]['maxrss_mb']['median']:.0f} vs {s[peer]['maxrss_mb']['median']:.0f} MB"
                + ("; same files, same counts" if scan else "; the whole job: secrets, model, findings, report"))
        if "rg-unicode" in s:
            u = ra["rg-unicode/rg"]
            row(f"(reference) rg with Unicode `\\b`, {n:,} files", "—",
                f"rg-unicode {fmt_time(s['rg-unicode']['wall']['median'])} {spread(s['rg-unicode']['wall'])}",
                f"{u['median']:.2f}× the ASCII form", "—", None, "why the ASCII form is the fair floor")
    for key in ("trace-item", "trace-file"):
        if key in r:
            t = r[key]
            s, ra = t["summary"], t["ratios"]
            if "lobster/concord" in ra:
                x = ra["lobster/concord"]
                row(f"trace {t['files']:,} Python files ({t['label']}) vs LOBSTER",
                    f"{fmt_time(s['concord']['wall']['median'])} {spread(s['concord']['wall'])}",
                    f"lobster-python {fmt_time(s['lobster']['wall']['median'])} {spread(s['lobster']['wall'])}",
                    f"{x['median']:.1f}× faster (paired {x['min']:.1f}–{x['max']:.1f})", "≥ 50× faster",
                    x["median"] >= 50, f"{t['workspace']['functions']:,} functions")
            x = ra["regex-tracer/concord"]
            row(f"trace {t['files']:,} Python files ({t['label']}) vs regex tracer",
                fmt_time(s["concord"]["wall"]["median"]),
                f"regex_tracer.py {fmt_time(s['regex-tracer']['wall']['median'])}; rg -c "
                f"{fmt_time(s['rg']['wall']['median'])}",
                f"{x['median']:.2f}× faster than the tracer; {ra['concord/rg']['median']:.1f}× rg", "—", None)
    if "check" in r:
        c = r["check"]
        s = c["summary"]["concord-check"]
        ratio = c["ratios"]["concord-check/rg"]
        tv = c.get("time_v", {}).get("maxrss_mb")
        row(f"`concord check` end to end, {c['files']:,} files, cold process",
            f"{fmt_time(s['wall']['median'])} {spread(s['wall'])}",
            f"rg {fmt_time(c['summary']['rg']['wall']['median'])}",
            f"{ratio['median']:.2f}× rg", "—", None,
            f"peak RSS {s['maxrss_mb']['median']:.0f} MB" + (f" (`time -v`: {tv:.0f} MB)" if tv else ""))
        if c.get("item"):
            it, si = c["item"], c["summary"]["concord-check-item"]
            row(f"item-level `concord check`, {c['files']:,} files in five languages",
                f"{fmt_time(si['wall']['median'])} {spread(si['wall'])}",
                f"file-level check {fmt_time(s['wall']['median'])}",
                f"{it['ratio_to_file_level']['median']:.1f}× the file-level check", "—", None,
                f"{it['parsed_bytes'] / 1e6:.0f} MB through tree-sitter at {it['parsed_mb_per_cpu_s']:.1f} MB per "
                f"CPU second (CPU added over file-level, items and suggestions included); peak RSS "
                f"{si['maxrss_mb']['median']:.0f} MB")
    if "index" in r:
        i = r["index"]
        s = i["summary"]
        ra = i["ratios"]
        row(f"index load: {i['chunks']:,} chunks × {i['dim']:,} floats ({i['index_bytes'] / 1e6:.0f} MB)",
            f"{fmt_time(s['concord-with-embeddings']['wall']['median'])} (without embeddings "
            f"{fmt_time(s['concord-no-embeddings']['wall']['median'])}: the embeddings cost "
            f"{fmt_time(i['embedding_cost_s'])})",
            f"python json.load {fmt_time(s['python-json.load']['wall']['median'])}; cat "
            f"{fmt_time(s['cat']['wall']['median'])}",
            f"{ra['concord-with-embeddings/python-json.load']['median']:.2f}× json.load; "
            f"{ra['concord-with-embeddings/cat']['median']:.0f}× cat", "—", None,
            f"{i['index_bytes'] / 1e6 / max(i['embedding_cost_s'], 1e-9):.0f} MB/s through the embeddings")
    if "lsp" in r:
        l = r["lsp"]
        s0 = l["sessions"][0]
        if "hover_server" in s0:
            h = s0["hover_server"]
            row(f"hover, {h['n']:,} requests, server side (dispatch to response, from the server's log)",
                f"p50 {fmt_time(h['p50'])}, p99 {fmt_time(h['p99'])}, max {fmt_time(h['max'])}", "—",
                f"p99 = {h['p99'] / 1e-3:.2f}× the 1 ms limit", "p99 < 1 ms", h["p99"] < 1e-3, "")
        if "hover" in s0:
            h, f = s0["hover"], s0["noop"]
            row(f"hover, {h['n']:,} requests, client round trip",
                f"p50 {fmt_time(h['p50'])}, p99 {fmt_time(h['p99'])}, max {fmt_time(h['max'])}",
                f"no-op request p50 {fmt_time(f['p50'])}, p99 {fmt_time(f['p99'])}",
                f"p99 = {h['p99'] / 1e-3:.2f}× 1 ms", "—", None,
                f"file not open: p50 {fmt_time(s0['hover_closed_file']['p50'])}, p99 "
                f"{fmt_time(s0['hover_closed_file']['p99'])}")
        if "change" in s0:
            ch = s0["change"]
            row(f"change→diagnostics, {s0['big_file_lines']:,}-line file, debounce 0",
                f"p50 {fmt_time(ch['p50'])}, p99 {fmt_time(ch['p99'])}", "—",
                f"p99 = {ch['p99'] / (1 / 60):.2f}× a 60 Hz frame", "—", None, f"{ch['n']} edits")
        fd = l["first_diagnostics"]
        row(f"initialize→first diagnostics, {l['files']:,} files (first publish: the empty one for "
            "concord.toml, sent right after the load)",
            f"{fmt_time(fd['median'])} (min {fmt_time(fd['min'])}, max {fmt_time(fd['max'])}, "
            f"{fd['n']} sessions)", "—", f"{fd['median'] / 2:.2f}× the 2 s limit", "< 2 s", fd["median"] < 2, "")
        ne = sorted(x["first_nonempty_diagnostics_s"] for x in l["sessions"])
        al = sorted(x["all_diagnostics_s"] for x in l["sessions"])
        med = ne[len(ne) // 2]
        row(f"initialize→first diagnostics **with findings**, {l['files']:,} files",
            f"{fmt_time(med)} (min {fmt_time(ne[0])}, max {fmt_time(ne[-1])})", "—",
            f"{med / 2:.2f}× the 2 s limit", "< 2 s", med < 2,
            f"all {l['sessions'][0]['published_files']:,} files' diagnostics: median {fmt_time(al[len(al) // 2])}")
        if "memory_session" in l:
            m = l["memory_session"]
            row(f"server memory, {l['memory_files']:,} files, 1,000 chunks with embeddings",
                f"VmRSS {m['memory_after_all_mb']['VmRSS']:.0f} MB, VmHWM {m['memory_after_all_mb']['VmHWM']:.0f} MB",
                "—", "—", "—", None,
                f"at first diagnostics: RSS {m['memory_at_first_mb']['VmRSS']:.0f} MB; init→first diagnostics "
                f"{fmt_time(m['first_diagnostics_s'])}")
    if "locks" in r:
        k = r["locks"]
        lat = k["acquire_latency"]
        row(f"lock acquire, {k['live_locks']} live locks, a process each",
            f"p50 {fmt_time(lat['p50'])}, p99 {fmt_time(lat['p99'])}: {k['sequential_per_s']:.0f}/s sequential, "
            f"{k['parallel_per_s']:.0f}/s with {k['parallel']} workers",
            f"`concord --version` {fmt_time(k['summary']['concord --version']['wall']['median'])}",
            f"{k['acquire_over_process_start']:.0f}× the process start", "—", None)
    head = ("| figure | Concord | peer / limit (same run) | ratio | target | verdict | notes |\n"
            "|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows)


def machine_line(r: dict) -> str:
    lines = []
    for name, d in r.items():
        m = d["machine"]
        lines.append(f"- `{name}` ({d['when']}): {m.get('cpu')}, {m['nproc']} CPUs, {m.get('mem_gib')} GiB, "
                     f"nice {m['nice']}, load at the end {' '.join(str(x) for x in m['load'])}; "
                     f"{d.get('versions', {}).get('concord', '')}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the plot


def svg_plot(points: list[dict]) -> str:
    W, H = 900, 380
    panels = [
        ("time (s, log)", [("concord check", lambda p: p["summary"]["concord-check"]["wall"]["median"], "#d62728"),
                           ("rg -c, same regex", lambda p: p["summary"]["rg"]["wall"]["median"], "#1f77b4"),
                           ("LSP init→first diagnostics", lambda p: p["lsp"]["first_diagnostics_s"], "#2ca02c"),
                           ("LSP all diagnostics", lambda p: p["lsp"]["all_diagnostics_s"], "#9467bd")]),
        ("memory (MB, log)", [("check peak RSS", lambda p: p["summary"]["concord-check"]["maxrss_mb"]["median"], "#d62728"),
                              ("rg peak RSS", lambda p: p["summary"]["rg"]["maxrss_mb"]["median"], "#1f77b4"),
                              ("LSP VmHWM", lambda p: p["lsp"]["memory_after_all_mb"]["VmHWM"], "#2ca02c"),
                              ("LSP VmRSS after load", lambda p: p["lsp"]["memory_after_all_mb"]["VmRSS"], "#9467bd")]),
    ]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" '
           f'font-size="12"><rect width="{W}" height="{H}" fill="white"/>']
    xs = [p["files"] for p in points]
    pw, ph, top, left_pad = 340, 240, 40, 70
    for k, (ylabel, series) in enumerate(panels):
        x0 = left_pad + k * (pw + 110)
        vals = [f(p) for _, f, _ in series for p in points if f(p) and f(p) > 0]
        if not vals:
            continue
        lo, hi = math.floor(math.log10(min(vals))), math.ceil(math.log10(max(vals)))
        if hi == lo:
            hi += 1
        xlo, xhi = math.log10(min(xs)), math.log10(max(xs))
        if xhi == xlo:
            xhi += 1
        X = lambda v: x0 + (math.log10(v) - xlo) / (xhi - xlo) * pw
        Y = lambda v: top + ph - (math.log10(v) - lo) / (hi - lo) * ph
        out.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
        for e in range(lo, hi + 1):
            y = Y(10 ** e)
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + pw}" y2="{y:.1f}" stroke="#eee"/>')
            out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:g}</text>')
        for v in xs:
            x = X(v)
            out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
            out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{v // 1000}k</text>')
        out.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 34}" text-anchor="middle">files</text>')
        out.append(f'<text x="{x0}" y="{top - 10}">{ylabel}</text>')
        for j, (name, f, color) in enumerate(series):
            pts = [(X(p["files"]), Y(f(p))) for p in points if f(p) and f(p) > 0]
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                       % (color, " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)))
            for x, y in pts:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
            ly = top + ph + 52 + j * 0  # legend below, in a row
            lx = x0 + (j % 2) * 175
            ly = top + ph + 52 + (j // 2) * 16
            out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 18}" y2="{ly - 4}" stroke="{color}" stroke-width="2"/>')
            out.append(f'<text x="{lx + 22}" y="{ly}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def scaling_table(points: list[dict]) -> str:
    rows = ["| files | MB | `concord check` | rg | ratio | check peak RSS | LSP init→first diag. | LSP all diag. | "
            "LSP VmRSS / VmHWM | hover p50 / p99 | change p50 / p99 | load |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in points:
        s, l = p["summary"], p["lsp"]
        rows.append(
            f"| {p['files']:,} | {p['workspace']['bytes'] / 1e6:.0f} | {fmt_time(s['concord-check']['wall']['median'])} "
            f"| {fmt_time(s['rg']['wall']['median'])} | {p['ratio']['median']:.2f}× "
            f"| {s['concord-check']['maxrss_mb']['median']:.0f} MB | {fmt_time(l['first_diagnostics_s'])} "
            f"| {fmt_time(l['all_diagnostics_s'])} | {l['memory_after_all_mb']['VmRSS']:.0f} / "
            f"{l['memory_after_all_mb']['VmHWM']:.0f} MB "
            f"| {fmt_time(l['hover']['p50'])} / {fmt_time(l['hover']['p99'])} "
            f"| {fmt_time(l['change']['p50'])} / {fmt_time(l['change']['p99'])} | {p['load'][0]} |")
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default=str(DEFAULT_OUT / "results"))
    p.add_argument("--publish", action="store_true")
    args = p.parse_args()
    results = Path(args.results)
    r = load(results)
    if not r:
        sys.exit(f"report.py: no results in {results}")
    text = ["### Figures", "", table(r), ""]
    if "scaling" in r:
        pts = r["scaling"]["points"]
        (results / "scaling.svg").write_text(svg_plot(pts))
        text += ["### Scaling", "", "![scaling](../bench/results/scaling.svg)", "", scaling_table(pts), ""]
    text += ["### Machine and runs", "", machine_line(r), ""]
    body = "\n".join(text)
    print(body)
    if args.publish:
        dest = BENCH / "results"
        dest.mkdir(exist_ok=True)
        for f in results.glob("*.json"):
            shutil.copy(f, dest / f.name)
        if (results / "scaling.svg").exists():
            shutil.copy(results / "scaling.svg", dest / "scaling.svg")
        doc = REPO / "docs" / "benchmarks.md"
        current = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
        if BEGIN not in current or END not in current:
            sys.exit(f"report.py: {doc} has no {BEGIN} … {END} section to replace")
        head, rest = current.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
        print(f"published to {doc} and {dest}/")


if __name__ == "__main__":
    main()
