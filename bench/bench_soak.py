"""Soak test: thousands of episodes with the fake LLM; RSS, file handles and memory stay bounded.

One long memrl run on FrozenLake-4x4 (ScriptedLLM + HashEmbedder: no model, so only
memplay's own costs show) in chunks of epochs over 16 task seeds, resumed in the same run
directory as a user would. After each chunk it samples the process RSS (/proc/self/status),
the open file descriptors (/proc/self/fd), the task-memory item count and step-memory state
count, and the wall time. "Bounded" is checked on the second half of the run: RSS may not grow
by more than 10% or 40 MiB there, fds may not grow at all, and memory counts by at most 25%
(they saturate because FrozenLake has few distinct tasks and states).

    python bench/bench_soak.py --quick     # 1,000 episodes, ~1 minute on 2 cores
    python bench/bench_soak.py             # 5,000 episodes
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import add_common_args, write_record

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TASKS = 16


def rss_mib() -> float:
    """Resident set size of this process in MiB, from /proc/self/status (Linux).

    >>> rss_mib() > 1
    True
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    """Number of open file descriptors of this process.

    >>> open_fds() >= 3  # stdin, stdout, stderr
    True
    """
    return len(os.listdir("/proc/self/fd"))


def sample(agent: Any, episodes: int, start: float) -> dict[str, float]:
    """One row of the time series."""
    memory = agent.memory
    return {"episodes": episodes, "seconds": round(time.perf_counter() - start, 2),
            "rss_mib": round(rss_mib(), 1), "fds": open_fds(),
            "items": len(memory.store) if memory else 0,
            "states": len(memory.step_memory) if memory else 0}


def soak(total: int, chunk_epochs: int, seed: int, run_dir: Path) -> list[dict[str, float]]:
    """Run ``total`` episodes in chunks; return the samples taken after each chunk."""
    from memplay.agents import Agent
    from memplay.llm.fake import ScriptedLLM
    from memplay.memory import HashEmbedder

    llm = ScriptedLLM()
    agent = Agent("FrozenLake-4x4-v0", variant="memrl", llm=llm,
                  embedder=HashEmbedder(64), parallel_envs=4, max_steps=20, seed=seed)
    start = time.perf_counter()
    rows, epochs = [], 0
    while epochs * TASKS < total:
        epochs += chunk_epochs
        agent.run(epochs=epochs, tasks=range(TASKS), run_dir=run_dir, progress=False)
        # The fake records every prompt it saw (for test assertions); that log is the test
        # double's growth, not memplay's, so it is dropped before sampling.
        llm.calls.clear()
        rows.append(sample(agent, epochs * TASKS, start))
    agent.close()
    return rows


def bounded(rows: list[dict[str, float]]) -> dict[str, bool]:
    """The bounded-growth checks described in the module docstring.

    >>> row = {"rss_mib": 100.0, "fds": 9, "items": 4, "states": 10}
    >>> bounded([row, row, {**row, "fds": 12}])["fds"]
    False
    """
    mid, end = rows[len(rows) // 2], rows[-1]
    return {
        "rss": end["rss_mib"] - mid["rss_mib"] <= max(0.10 * mid["rss_mib"], 40.0),
        "fds": end["fds"] <= mid["fds"],
        "items": end["items"] <= 1.25 * max(mid["items"], 1),
        "states": end["states"] <= 1.25 * max(mid["states"], 1),
    }


def print_table(rows: list[dict[str, float]]) -> None:
    """Print the time series with rich."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="memplay soak: FrozenLake-4x4, ScriptedLLM + HashEmbedder")
    for key in rows[0]:
        table.add_column(key, justify="right")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)


def plot(rows: list[dict[str, float]], path: Path) -> None:
    """RSS, fds and memory counts against episodes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    eps = [r["episodes"] for r in rows]
    for ax, keys, label in zip(axes, [["rss_mib"], ["fds"], ["items", "states"]],
                               ["RSS (MiB)", "open fds", "memory size"]):
        for key in keys:
            ax.plot(eps, [r[key] for r in rows], marker=".", label=key)
        ax.set_xlabel("episodes")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.legend()
    fig.suptitle("Soak test: resource use over a long run")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def versions() -> dict[str, str]:
    """Versions of the packages that matter here."""
    import faiss
    import langgraph
    import numpy

    import memplay
    return {"python": sys.version.split()[0], "memplay": memplay.__version__,
            "numpy": numpy.__version__, "faiss": faiss.__version__,
            "langgraph": getattr(langgraph, "__version__", "?")}


def summarize(rows: list[dict[str, float]]) -> dict[str, Any]:
    """Bounded-growth verdicts, median time per episode and second-half RSS growth."""
    per_ep = [(b["seconds"] - a["seconds"]) / (b["episodes"] - a["episodes"])
              for a, b in itertools.pairwise(rows)]
    return {"episodes": rows[-1]["episodes"], "bounded": bounded(rows),
            "median_ms_per_episode": round(1000 * statistics.median(per_ep), 2),
            "rss_growth_second_half_mib": round(rows[-1]["rss_mib"]
                                                - rows[len(rows) // 2]["rss_mib"], 1)}


def write_results(name: str, rows: list[dict[str, float]], summary: dict[str, Any],
                  args: argparse.Namespace, wall: float) -> None:
    """JSON (machine, versions, seed, wall time, samples) and the PNG plot."""
    out = write_record(args.out, name, args.quick, {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "processor": platform.processor(), "load_avg_1m": os.getloadavg()[0]},
        "versions": versions(), "seed": args.seed,
        "wall_seconds": round(wall, 1), "wall_s": round(wall, 1), "summary": summary,
        "samples": rows})
    plot(rows, out.with_suffix(".png"))


def main() -> int:
    """Run the soak, print the table and summary, write results; exit 1 if unbounded."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)  # --quick: 1,000 episodes instead of 5,000
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    total, chunk = (1000, 4) if args.quick else (5000, 16)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = soak(total, chunk, args.seed, Path(tmp) / "run")
    print_table(rows)
    summary = summarize(rows)
    print(json.dumps(summary, indent=2))
    write_results("bench_soak", rows, summary, args,
                  time.perf_counter() - wall)
    return 0 if all(summary["bounded"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
