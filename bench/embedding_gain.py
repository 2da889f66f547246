#!/usr/bin/env python3
"""Do semantic embeddings, beside Concord's ranking, improve ID suggestions on the demo?

    /tmp/embedvenv/bin/python bench/embedding_gain.py --dump          # runs the Rust dump first
    /tmp/embedvenv/bin/python bench/embedding_gain.py --cases FILE    # or reads one made before

The cases come from the ignored test `items::dump_suggestion_cases` (tests/it/items.rs): every
item of examples/marketplace (item-level tracing) tagged directly with a known ID, its own tag
hidden, with its query text (`name + doc`), its true IDs and Concord's ranked candidates with their
scores (scaled so the best is 1), and the text of every chunk and work item. The model is the one
of bench/embed_server.py (set it up as its first lines say), run in this process.

Rankers compared, each over every chunk and work item (Concord suggests both):
- concord: Concord's own order (BM25 text match, scope and nearby IDs), as in the Rust test;
- embed: cosine of the query's and the document's embeddings alone;
- concord + w*embed: Concord's score (0 where it has none; its best is 1) plus w times the
  cosine scaled to 0..1 over the documents for that query (min-max), for w on a grid;
- rrf: reciprocal-rank fusion, 1/(60 + rank in concord) + 1/(60 + rank by cosine) (documents that
  Concord does not rank get no first term).

A weight read off the grid is fitted to these same cases, so the default weight is chosen by
leave-one-out: for each case the best w on the other cases (first rate, then top-three rate,
then the smaller w) ranks that case; that rate is the honest one.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from embed_server import MiniLM, make_handler  # noqa: E402

GRID = [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0]
RRF_K = 60


def dump(path: Path) -> None:
    env = dict(os.environ, CONCORD_SUGGESTION_CASES=str(path))
    env.setdefault("CARGO_TARGET_DIR", str(REPO / "target"))
    cmd = ["cargo", "test", "--test", "it", "items::dump_suggestion_cases", "--", "--ignored", "--nocapture"]
    if os.environ.get("CARGO_LOCK"):  # a shared machine: one cargo at a time
        cmd = ["flock", os.environ["CARGO_LOCK"]] + cmd
    print("$", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=REPO, env=env, check=True)


ID = re.compile(r"\b(?:NT|TD)-\d{4}\b|\bWBS-\d{3}[A-Z]?\b")


def model_query(text: str) -> str:
    """The query as the model reads it: an ID written in the doc comment is left out (it is the
    hidden tag; Concord's word splitting drops it too)."""
    return re.sub(r"\s+", " ", ID.sub(" ", text)).strip()


def split_identifiers(text: str) -> str:
    """`createPaymentIntent refund_requests` -> `create Payment Intent refund requests`: the
    model's word pieces read words, not identifiers (Concord's BM25 splits them the same way)."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return re.sub(r"[_\W]+", " ", text).strip()


def doc_texts(data: dict, with_topic: bool) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for c in data["chunks"]:
        parts = [c["title"], c["summary"]] + ([c["topic"]] if with_topic and c.get("topic") else [])
        ids.append(c["id"])
        texts.append(". ".join(p for p in parts if p))
    for w in data["work"]:
        ids.append(w["id"])
        texts.append(". ".join([w["title"]] + w["criteria"]))
    return ids, texts


def rank_of(order: list[int]) -> dict[int, int]:
    return {doc: r for r, doc in enumerate(order)}


def ranked(scores: np.ndarray, ids: list[str], tiebreak: np.ndarray | None = None) -> list[int]:
    """Documents by score, highest first; ties by `tiebreak` (lower first) then ID."""
    tb = tiebreak if tiebreak is not None else np.zeros(len(ids))
    return sorted(range(len(ids)), key=lambda d: (-scores[d], tb[d], ids[d]))


def hits(order: list[int], truth: set[int]) -> tuple[bool, bool]:
    return order[0] in truth, any(d in truth for d in order[:3])


class Cases:
    """The per-case inputs of every ranker, as arrays over the documents."""

    def __init__(self, data: dict, ids: list[str], cosines: np.ndarray):
        self.ids = ids
        at = {id_: n for n, id_ in enumerate(ids)}
        self.n = len(data["cases"])
        self.truth = [{at[t] for t in case["truth"] if t in at} for case in data["cases"]]
        self.concord = np.zeros((self.n, len(ids)))
        # Concord's rank of each document (its own order; unranked documents after all).
        self.concord_rank = np.full((self.n, len(ids)), len(ids), dtype=float)
        self.concord_order = []
        for i, case in enumerate(data["cases"]):
            order = []
            for r, c in enumerate(case["candidates"]):
                d = at[c["id"]]
                self.concord[i, d] = c["score"]
                self.concord_rank[i, d] = r
                order.append(d)
            self.concord_order.append(order)
        self.cos = cosines
        lo, hi = cosines.min(1, keepdims=True), cosines.max(1, keepdims=True)
        self.cos01 = (cosines - lo) / np.maximum(hi - lo, 1e-12)

    def concord_hits(self, i: int) -> tuple[bool, bool]:
        order = self.concord_order[i]
        return (bool(order) and order[0] in self.truth[i]), any(d in self.truth[i] for d in order[:3])

    def embed_hits(self, i: int) -> tuple[bool, bool]:
        return hits(ranked(self.cos[i], self.ids), self.truth[i])

    def linear_hits(self, i: int, w: float) -> tuple[bool, bool]:
        if w == 0.0:
            return self.concord_hits(i)
        # Ties (Concord's scores are rounded to 0.001) keep Concord's order.
        return hits(ranked(self.concord[i] + w * self.cos01[i], self.ids, self.concord_rank[i]), self.truth[i])

    def rrf_hits(self, i: int, weight: float = 1.0) -> tuple[bool, bool]:
        fused = np.where(self.concord_rank[i] < len(self.ids), 1.0 / (RRF_K + 1 + self.concord_rank[i]), 0.0)
        embed_rank = np.empty(len(self.ids))
        embed_rank[ranked(self.cos[i], self.ids)] = np.arange(len(self.ids))
        fused = fused + weight / (RRF_K + 1 + embed_rank)
        return hits(ranked(fused, self.ids, self.concord_rank[i]), self.truth[i])


def rates(results: list[tuple[bool, bool]]) -> tuple[float, float]:
    n = len(results)
    return sum(a for a, _ in results) / n, sum(b for _, b in results) / n


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test p-value for wins against losses (ties dropped)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    p = sum(math.comb(n, j) for j in range(k + 1)) / 2 ** n
    return min(1.0, 2 * p)


def leave_one_out(cases: Cases, table: dict[float, list[tuple[bool, bool]]]) -> tuple[list[tuple[bool, bool]], dict]:
    """Each case ranked with the w that is best on all the other cases."""
    first = {w: sum(a for a, _ in r) for w, r in table.items()}
    top3 = {w: sum(b for _, b in r) for w, r in table.items()}
    out, chosen = [], {}
    for i in range(cases.n):
        best = max(table, key=lambda w: (first[w] - table[w][i][0], top3[w] - table[w][i][1], -w))
        chosen[best] = chosen.get(best, 0) + 1
        out.append(table[best][i])
    return out, chosen


def two_fold(cases: Cases, table: dict[float, list[tuple[bool, bool]]]) -> tuple[list[tuple[bool, bool]], list]:
    """A fixed split: w chosen on the even-numbered cases ranks the odd ones, and the reverse."""
    out: list = [None] * cases.n
    chosen = []
    for fit, held in ((0, 1), (1, 0)):
        fit_cases = range(fit, cases.n, 2)
        best = max(table, key=lambda w: (sum(table[w][i][0] for i in fit_cases),
                                         sum(table[w][i][1] for i in fit_cases), -w))
        chosen.append(best)
        for i in range(held, cases.n, 2):
            out[i] = table[best][i]
    return out, chosen


def serve_latency(model: MiniLM, queries: list[str]) -> list[float]:
    """Per-query round trips to the OpenAI-style server on 127.0.0.1 (one text a request)."""
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(model))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/embeddings"
    times = []
    try:
        for q in queries:
            body = json.dumps({"model": "all-MiniLM-L6-v2", "input": q}).encode()
            started = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}),
                                        timeout=30) as reply:
                answer = json.load(reply)
            times.append(time.perf_counter() - started)
            assert len(answer["data"][0]["embedding"]) == 384
    finally:
        server.shutdown()
    return times


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", default="/tmp/concord_suggestion_cases.json")
    p.add_argument("--dump", action="store_true",
                   help="run the Rust dump into --cases first (CARGO_LOCK=file runs cargo under flock)")
    p.add_argument("--json", help="also write the measured numbers here")
    args = p.parse_args()
    path = Path(args.cases)
    if args.dump or not path.exists():
        dump(path)
    data = json.loads(path.read_text())
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; numpy {np.__version__}; "
          f"load average at start {os.getloadavg()[0]:.2f}")

    started = time.perf_counter()
    model = MiniLM()
    load_s = time.perf_counter() - started

    queries = {"raw": [model_query(c["query"]) for c in data["cases"]],
               "split": [split_identifiers(model_query(c["query"])) for c in data["cases"]]}
    docs = {"title+summary": doc_texts(data, with_topic=False), "title+summary+topic": doc_texts(data, with_topic=True)}
    ids = docs["title+summary"][0]

    # Timing: every chunk and work item in one call (batches of 32), after a warm-up; then each
    # query alone, as an editor would ask.
    model.encode(docs["title+summary"][1][:8])
    doc_vectors, doc_seconds = {}, {}
    for name, (_, texts) in docs.items():
        started = time.perf_counter()
        doc_vectors[name] = model.encode(texts)[0]
        doc_seconds[name] = time.perf_counter() - started
    query_times = []
    query_vectors = {}
    for name, texts in queries.items():
        rows = []
        for q in texts:
            started = time.perf_counter()
            rows.append(model.encode([q])[0][0])
            query_times.append(time.perf_counter() - started)
        query_vectors[name] = np.stack(rows)
    http_times = serve_latency(model, queries["split"][:60])

    n_docs, n_chunks = len(ids), len(data["chunks"])
    print(f"{len(data['cases'])} cases; {n_docs} documents ({n_chunks} chunks, {n_docs - n_chunks} work items)")
    print(f"model load {load_s:.2f} s; embedding all {n_docs} documents: "
          + ", ".join(f"{s:.2f} s ({name})" for name, s in doc_seconds.items()) + f"; one query: median {1000 * statistics.median(query_times):.1f} ms, "
          f"p95 {1000 * sorted(query_times)[int(0.95 * len(query_times))]:.1f} ms over {len(query_times)}; "
          f"one query over HTTP: median {1000 * statistics.median(http_times):.1f} ms over {len(http_times)}")

    report: dict = {"cases": len(data["cases"]), "documents": n_docs, "chunks": n_chunks,
                    "timing": {"model_load_s": load_s, "embed_all_documents_s": doc_seconds,
                               "query_median_ms": 1000 * statistics.median(query_times),
                               "query_http_median_ms": 1000 * statistics.median(http_times)},
                    "rows": []}
    rows: list[tuple[str, list[tuple[bool, bool]]]] = []

    def add(name: str, results: list[tuple[bool, bool]]) -> None:
        rows.append((name, results))

    base_cases = None
    for dname in docs:
        for qname in queries:
            cases = Cases(data, ids, query_vectors[qname] @ doc_vectors[dname].T)
            if base_cases is None:
                base_cases = cases
                add("concord (BM25 + scope + nearby)", [cases.concord_hits(i) for i in range(cases.n)])
            add(f"embed alone [query {qname}, doc {dname}]", [cases.embed_hits(i) for i in range(cases.n)])

    # The hybrids on the variant chosen before looking: identifiers split (as Concord's own words
    # are), chunk title and summary (Concord's BM25 documents).
    cases = Cases(data, ids, query_vectors["split"] @ doc_vectors["title+summary"].T)
    table = {w: [cases.linear_hits(i, w) for i in range(cases.n)] for w in GRID}
    for w in GRID[1:]:
        add(f"concord + {w:g}*embed", table[w])
    add("rrf (k=60)", [cases.rrf_hits(i) for i in range(cases.n)])
    loo, chosen = leave_one_out(cases, table)
    add("concord + w*embed, w by leave-one-out", loo)
    halves, halves_chosen = two_fold(cases, table)
    add("concord + w*embed, w by two-fold split", halves)

    base = rows[0][1]
    print()
    print(f"| ranker | first | first three | first: won / lost vs concord | sign test p |")
    print(f"| --- | --- | --- | --- | --- |")
    for name, results in rows:
        at1, at3 = rates(results)
        wins = sum(r[0] and not b[0] for r, b in zip(results, base))
        losses = sum(b[0] and not r[0] for r, b in zip(results, base))
        p_value = sign_test(wins, losses)
        print(f"| {name} | {pct(at1)} | {pct(at3)} | {wins} / {losses} | {p_value:.2f} |")
        report["rows"].append({"ranker": name, "first": at1, "top3": at3, "won": wins, "lost": losses, "p": p_value})
    print()
    print(f"leave-one-out chose w = " + ", ".join(f"{w:g} ({n}×)" for w, n in sorted(chosen.items())))
    print("two-fold split chose w = " + " (even half), ".join(f"{w:g}" for w in halves_chosen) + " (odd half)")
    report["loo_chosen"] = {str(w): n for w, n in chosen.items()}
    report["two_fold_chosen"] = halves_chosen
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
