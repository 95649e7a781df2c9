"""Benchmark the episodic memory: add/search latency, recall, and LangGraph's InMemoryStore.

Real sentences: the human-written task and step descriptions of the ALFWorld games in
../shared/data/alfworld (about 6,800 distinct sentences), embedded with all-MiniLM-L6-v2
(384-d). Larger stores are built by duplicating those embeddings with Gaussian noise
(per-row sigma drawn from U(0.02, 0.05), i.e. cosine about 0.8-0.95 to the source sentence) and
renormalising, so the corpus keeps the clustered geometry of real sentence embeddings. Queries
are held-out sentences never added to the store.

For each size: FAISS flat (exact), HNSW and IVF through ``FaissMemoryStore`` (the full memplay
path: ids, items, hits), and LangGraph's ``InMemoryStore`` given the same vectors through a
lookup "embedding" function. Search is one query at a time, k=10. recall@10 is measured
against flat. Prints a table, writes bench/results/bench_memory.json and .png.

    python bench/bench_memory.py --quick     # 1e3 and 1e4 items, about a minute
    python bench/bench_memory.py             # 1e4, 1e5, 1e6 items
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import tarfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import add_common_args, finish

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ALFWORLD_TAR = (Path(__file__).resolve().parents[2] / "shared" / "data" / "alfworld"
                / "alfworld_json_2.1.1_train_valid_seen_valid_train.tar.gz")
K = 10


def load_sentences(path: Path = ALFWORLD_TAR) -> list[str]:
    """Distinct human-written sentences from the ALFWorld annotations, sorted."""
    sentences: set[str] = set()
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if not member.name.endswith("traj_data.json"):
                continue
            handle = tar.extractfile(member)
            data = json.load(handle) if handle else {}
            for ann in data.get("turk_annotations", {}).get("anns", []):
                sentences.update(s.strip() for s in [ann.get("task_desc", ""),
                                                      *ann.get("high_descs", [])] if s.strip())
    return sorted(sentences)


def make_corpus(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors: the base rows, then noisy duplicates of them (see module doc)."""
    rows = np.arange(n) % len(base)
    noise = rng.standard_normal((n, base.shape[1])).astype(np.float32)
    sigma = rng.uniform(0.02, 0.05, size=(n, 1)).astype(np.float32)
    sigma[: min(n, len(base))] = 0.0  # the first copy of each sentence is exact
    out = base[rows] + sigma * noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p99 in milliseconds."""
    ms = np.asarray(seconds) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def time_calls(fn: Callable[[int], Any], n: int) -> tuple[list[float], list[Any]]:
    """Call ``fn(i)`` for i < n; return per-call seconds and results."""
    times, outs = [], []
    for i in range(n):
        start = time.perf_counter()
        outs.append(fn(i))
        times.append(time.perf_counter() - start)
    return times, outs


class FixedEmbedder:
    """Embedder stand-in for the store: vectors are always passed in, never computed."""

    name = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("the benchmark passes vectors explicitly")


def bench_faiss(config: Any, corpus: np.ndarray, queries: np.ndarray,
                extra: np.ndarray) -> dict[str, Any]:
    """Fill a FaissMemoryStore, then time single adds and single-query searches."""
    from memplay.memory import FaissMemoryStore, MemoryItem

    store = FaissMemoryStore(FixedEmbedder(corpus.shape[1]), index=config)
    items = [MemoryItem(id=str(i), intent=f"sentence {i}") for i in range(len(corpus))]
    start = time.perf_counter()
    store.add(items, vectors=corpus)
    fill_s = time.perf_counter() - start
    search_t, hits = time_calls(lambda i: store.search(queries[i : i + 1], k=K)[0],
                                len(queries))
    ids = [[int(h.item.id) for h in row] for row in hits]
    add_t, _ = time_calls(lambda i: store.add(
        [MemoryItem(id=f"extra-{i}", intent="x")], vectors=extra[i : i + 1]), len(extra))
    # An episode's end updates the Q of the k2=3 memories it injected: time that call.
    picks = np.random.default_rng(0).integers(len(corpus), size=(len(extra), 3))
    update_t, _ = time_calls(lambda i: store.update_values(
        {str(j): 0.5 for j in picks[i]}), len(extra))
    return {"fill_s": fill_s, "add": percentiles(add_t), "search": percentiles(search_t),
            "update_q3": percentiles(update_t), **disk_use(store), "ids": ids,
            "kind": store.index.kind}


def disk_use(store: Any) -> dict[str, float]:
    """Save the store to a temporary folder; bytes on disk per item and the save time.

    >>> # disk_use(FaissMemoryStore(...)) -> {"save_s": 0.01, "bytes_per_item": 1710.2}
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        store.save(tmp)
        save_s = time.perf_counter() - start
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    return {"save_s": save_s, "bytes_per_item": size / max(len(store), 1)}


def bench_langgraph(corpus: np.ndarray, queries: np.ndarray, n_queries: int) -> dict[str, Any]:
    """The same vectors and queries through LangGraph's InMemoryStore."""
    from langgraph.store.base import PutOp
    from langgraph.store.memory import InMemoryStore

    def lookup(texts: Sequence[str]) -> list[list[float]]:
        # Texts are "c<i>" (corpus row) or "q<j>" (query row): no model runs in the timing.
        src = {"c": corpus, "q": queries}
        return [src[t[0]][int(t[1:])].tolist() for t in texts]

    store = InMemoryStore(index={"dims": corpus.shape[1], "embed": lookup, "fields": ["text"]})
    start = time.perf_counter()
    for lo in range(0, len(corpus), 10_000):
        store.batch([PutOp(("bench",), str(i), {"text": f"c{i}"})
                     for i in range(lo, min(lo + 10_000, len(corpus)))])
    fill_s = time.perf_counter() - start
    search_t, hits = time_calls(
        lambda j: store.search(("bench",), query=f"q{j}", limit=K), n_queries)
    return {"fill_s": fill_s, "search": percentiles(search_t),
            "ids": [[int(h.key) for h in row] for row in hits]}


def recall(approx: list[list[int]], exact: list[list[int]]) -> float:
    """Mean fraction of the exact top-k found by the approximate search."""
    return statistics.fmean(len(set(a) & set(e)) / max(len(e), 1)
                            for a, e in zip(approx, exact))


def configs(n: int, hnsw_max: int) -> dict[str, Any]:
    """Index configurations benchmarked at size ``n``."""
    from memplay.memory import IndexConfig

    out = {"faiss-flat": IndexConfig(kind="flat")}
    if n <= hnsw_max:
        out["faiss-hnsw"] = IndexConfig(kind="hnsw", hnsw_m=32, hnsw_ef_construction=80,
                                        hnsw_ef_search=64)
    out["faiss-ivf"] = IndexConfig(kind="ivf", ivf_nlist=min(int(4 * math.sqrt(n)), 1024),
                                   ivf_nprobe=16)
    return out


def run_size(n: int, base: np.ndarray, queries: np.ndarray, args: argparse.Namespace,
             rng: np.random.Generator) -> list[dict[str, Any]]:
    """All backends at one store size; returns one row per backend."""
    corpus = make_corpus(base, n, rng)
    extra = make_corpus(base, args.adds, rng)
    rows = []
    for name, cfg in configs(n, args.hnsw_max).items():
        res = bench_faiss(cfg, corpus, queries, extra)
        rows.append({"size": n, "backend": name, **res})
        print(f"  {name:>12} n={n:>9,}: search p50 {res['search']['p50_ms']:.3f} ms")
    if n <= args.langgraph_max:
        res = bench_langgraph(corpus, queries, min(len(queries), args.langgraph_queries))
        rows.append({"size": n, "backend": "langgraph-inmemory", **res})
        print(f"  {'inmemory':>12} n={n:>9,}: search p50 {res['search']['p50_ms']:.3f} ms")
    exact = rows[0]["ids"]
    for row in rows:
        row["recall_at_10"] = recall(row["ids"], exact[: len(row["ids"])])
        del row["ids"]
    return rows


def add_speedups(rows: list[dict[str, Any]]) -> None:
    """Ratio of InMemoryStore's search p50 to each FAISS backend's, same size, same run."""
    lg = {r["size"]: r["search"]["p50_ms"] for r in rows if r["backend"] == "langgraph-inmemory"}
    for row in rows:
        ref = lg.get(row["size"])
        row["speedup_vs_inmemory"] = ref / row["search"]["p50_ms"] if ref else None


def print_table(rows: list[dict[str, Any]]) -> None:
    """Rich table of the results."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"memory: single-query search (k={K}) and single add, 384-d")
    for col in ["size", "backend", "fill s", "add p50 ms", "add p99 ms", "update p50 ms",
                "search p50 ms", "search p99 ms", "recall@10", "x InMemoryStore", "B/item"]:
        table.add_column(col, justify="right")
    for r in rows:
        add = r.get("add", {})
        speed = r["speedup_vs_inmemory"]
        table.add_row(f"{r['size']:,}", r["backend"], f"{r['fill_s']:.2f}",
                      f"{add.get('p50_ms', float('nan')):.3f}",
                      f"{add.get('p99_ms', float('nan')):.3f}",
                      f"{r.get('update_q3', {}).get('p50_ms', float('nan')):.3f}",
                      f"{r['search']['p50_ms']:.3f}", f"{r['search']['p99_ms']:.3f}",
                      f"{r['recall_at_10']:.3f}", f"{speed:.0f}x" if speed else "-",
                      f"{r['bytes_per_item']:.0f}" if "bytes_per_item" in r else "-")
    Console(width=170).print(table)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Search p50 against store size, one line per backend (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for backend in dict.fromkeys(r["backend"] for r in rows):
        pts = [(r["size"], r["search"]["p50_ms"]) for r in rows if r["backend"] == backend]
        ax.plot(*zip(*pts), marker="o", label=backend)
    ax.set(xscale="log", yscale="log", xlabel="items in memory", ylabel="search p50 (ms)",
           title="single-query search latency, k=10, 384-d")
    ax.axhline(2.0, color="grey", linestyle=":", label="2 ms goal")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def environment() -> dict[str, Any]:
    """Machine and library versions for the JSON record."""
    from importlib.metadata import version

    import faiss

    from memplay.memory.faiss_index import gpu_count

    packages = ["numpy", "faiss-cpu", "langgraph", "sentence-transformers", "torch"]
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
            "faiss_threads": faiss.omp_get_max_threads(), "gpus": gpu_count(),
            **{name: version(name) for name in packages}}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; --quick shrinks everything."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", help="store sizes (overrides the default)")
    p.add_argument("--queries", type=int, default=200, help="held-out query sentences")
    p.add_argument("--adds", type=int, default=100, help="single adds timed per store")
    p.add_argument("--base", type=int, default=4000, help="real sentences embedded")
    p.add_argument("--hnsw-max", type=int, default=100_000, help="largest size built as HNSW")
    p.add_argument("--langgraph-max", type=int, default=100_000, help="largest InMemoryStore")
    p.add_argument("--langgraph-queries", type=int, default=10, help="InMemoryStore queries")
    p.add_argument("--seed", type=int, default=0)
    add_common_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or [1_000, 10_000]
        args.base, args.queries = min(args.base, 1500), min(args.queries, 100)
    args.sizes = args.sizes or [10_000, 100_000, 1_000_000]
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return the JSON record it writes."""
    from memplay.memory import default_embedder

    args = parse_args(argv)
    wall = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    sentences = load_sentences()
    order = rng.permutation(len(sentences))
    chosen = [sentences[i] for i in order[: args.queries + args.base]]
    start = time.perf_counter()
    vecs = default_embedder().embed(chosen)
    embed_rate = len(chosen) / (time.perf_counter() - start)
    queries, base = vecs[: args.queries], vecs[args.queries :]
    print(f"embedded {len(chosen)} sentences at {embed_rate:.0f}/s")
    rows = [row for n in args.sizes for row in run_size(n, base, queries, args, rng)]
    add_speedups(rows)
    print_table(rows)
    record = {"benchmark": "memory", "args": {k: str(v) for k, v in vars(args).items()},
              "seed": args.seed, "environment": environment(), "sentences_available":
              len(sentences), "embed_sentences_per_s": embed_rate, "results": rows,
              "wall_s": time.perf_counter() - wall}
    finish(args.out, "bench_memory", args.quick, record, lambda png: plot(rows, png))
    return record


if __name__ == "__main__":
    main()
