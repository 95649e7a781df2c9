"""Per-epoch numbers of a run: success, steps, retrieval hits, time, and the memory's Q-values.

The runner's epoch hook (:class:`~memplay.agents.run_log.epoch_log.EpochLog`) writes one row
per epoch to ``<run>/memory_stats.jsonl`` with :func:`epoch_row`; the HTML report and
TensorBoard read the same numbers, so they always agree.

    >>> from memplay.types import EpisodeResult
    >>> rows = [EpisodeResult(episode=i, env_id="x", success=i == 0, reward=0.0, steps=2 + i,
    ...                       memories_used=["a"] if i else []) for i in range(2)]
    >>> s = epoch_summary(rows, uses_task_memory=True)
    >>> s["success_rate"], s["mean_steps"], s["retrieval_hit_rate"]
    (0.5, 2.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memplay.memory.item import MemoryItem
from memplay.memory.jsonio import read_jsonl
from memplay.run_dir import RunDir
from memplay.types import EpisodeResult

__all__ = ["Q_EDGES", "epoch_row", "epoch_summary", "per_epoch", "q_histogram",
           "read_memory_stats", "task_memory_stats"]

# MemRL's rewards are +1/-1, so Q stays in [-1, 1]; values outside land in the end bins
# (q_min/q_max say by how much).
Q_EDGES: tuple[float, ...] = tuple(round(-1.0 + 0.1 * i, 1) for i in range(21))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def epoch_summary(rows: Sequence[EpisodeResult], *, uses_task_memory: bool) -> dict[str, Any]:
    """Success rate, mean steps, retrieval hit rate (share of episodes that were shown at least
    one task memory; None for a variant without task memory) and summed times of ``rows``."""
    return {
        "episodes": len(rows),
        "success_rate": _mean([float(r.success) for r in rows]),
        "mean_steps": _mean([float(r.steps) for r in rows]),
        "retrieval_hit_rate": _mean([float(bool(r.memories_used)) for r in rows])
        if uses_task_memory else None,
        "seconds": sum(r.seconds for r in rows),
        "llm_seconds": sum(r.llm_seconds for r in rows),
        "env_seconds": sum(r.env_seconds for r in rows),
    }


def per_epoch(rows: Sequence[EpisodeResult], *, uses_task_memory: bool
              ) -> list[dict[str, Any]]:
    """:func:`epoch_summary` of each epoch from the first to the last one played (an epoch
    with no rows yet gets None values).

    >>> rows = [EpisodeResult(episode=0, epoch=1, env_id="x", success=True, reward=1, steps=3)]
    >>> [s["success_rate"] for s in per_epoch(rows, uses_task_memory=False)]
    [None, 1.0]
    """
    epochs = max((r.epoch for r in rows), default=-1) + 1
    return [epoch_summary([r for r in rows if r.epoch == e], uses_task_memory=uses_task_memory)
            for e in range(epochs)]


def q_histogram(values: Sequence[float]) -> list[int]:
    """Counts of ``values`` in the bins of :data:`Q_EDGES` (clipped into the end bins).

    >>> q_histogram([-1.0, 0.0, 0.05, 1.0, 3.0])[9:11], sum(q_histogram([-1.0, 3.0]))
    ([0, 2], 2)
    """
    counts = [0] * (len(Q_EDGES) - 1)
    lo, width = Q_EDGES[0], Q_EDGES[1] - Q_EDGES[0]
    for q in values:
        counts[min(max(int((q - lo) / width + 1e-9), 0), len(counts) - 1)] += 1
    return counts


def task_memory_stats(items: Sequence[MemoryItem]) -> dict[str, Any]:
    """Size and Q-value distribution of a task memory.

    >>> task_memory_stats([MemoryItem(intent="a", q=0.5), MemoryItem(intent="b", q=-0.5)])["q_mean"]
    0.0
    """
    qs = [float(i.q) for i in items]
    return {"items": len(qs), "q_mean": _mean(qs), "q_min": min(qs, default=None),
            "q_max": max(qs, default=None), "q_edges": list(Q_EDGES), "q_hist": q_histogram(qs),
            "unused": sum(1 for i in items if i.visits == 0)}


def epoch_row(epoch: int, summary: dict[str, Any], items: Sequence[MemoryItem] | None,
              step_rows: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    """One row of ``memory_stats.jsonl``: the epoch's summary plus memory snapshots (None for
    a memory the run does not have).

    >>> epoch_row(0, {"episodes": 1}, None, [{"state": "s", "actions": {"up": {}}}])["step_memory"]
    {'states': 1, 'pairs': 1}
    """
    steps = None if step_rows is None else {
        "states": len(step_rows), "pairs": sum(len(r["actions"]) for r in step_rows)}
    return {"epoch": epoch, **summary,
            "task_memory": None if items is None else task_memory_stats(items),
            "step_memory": steps}


def read_memory_stats(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of ``<run_dir>/memory_stats.jsonl`` by epoch (empty for runs without one).

    >>> read_memory_stats("/nonexistent")
    []
    """
    rows = read_jsonl(RunDir(run_dir).memory_stats)
    return sorted((r for r in rows if isinstance(r, dict) and "epoch" in r),
                  key=lambda r: int(r["epoch"]))
