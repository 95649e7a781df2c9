"""Run metrics from episode rows, and the learning-curve plot.

    >>> from memplay.types import EpisodeResult
    >>> rows = [EpisodeResult(episode=i, epoch=i // 2, task=str(i % 2), env_id="x",
    ...                       success=(i == 1 or i == 2), reward=0.0, steps=1) for i in range(4)]
    >>> m = compute_metrics(rows, tasks=["0", "1"], epochs=2)
    >>> m["success_per_epoch"], m["cumulative_success"], m["last_epoch_success"]
    ([0.5, 0.5], [0.5, 1.0], 0.5)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from memplay.types import EpisodeResult

__all__ = ["compute_metrics", "error_lines", "error_messages", "plot_learning_curves"]

# How many distinct error messages metrics keep (the most frequent first).
TOP_ERRORS = 5


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def compute_metrics(rows: Sequence[EpisodeResult], tasks: Sequence[str], epochs: int
                    ) -> dict[str, Any]:
    """Success per epoch, cumulative success (tasks solved at least once) and totals.

    Errored episodes count as failures. Epochs with no rows yet are None.
    """
    per_epoch: list[float | None] = []
    cumulative: list[float | None] = []
    solved: set[str] = set()
    for epoch in range(epochs):
        mine = [r for r in rows if r.epoch == epoch]
        per_epoch.append(_mean([float(r.success) for r in mine]))
        solved |= {r.task for r in mine if r.success}
        cumulative.append(len(solved) / len(tasks) if mine and tasks else None)
    done = [v for v in per_epoch if v is not None]
    return {
        "episodes": len(rows),
        "epochs": epochs,
        "tasks": list(tasks),
        "success_per_epoch": per_epoch,
        "cumulative_success": cumulative,
        "last_epoch_success": done[-1] if done else None,
        "success_rate": _mean([float(r.success) for r in rows]),
        "errored": sum(r.errored for r in rows),
        "error_messages": error_messages(rows),
        "llm_faults": sum(r.llm_faults for r in rows),
        "mean_steps": _mean([float(r.steps) for r in rows]),
        "invalid_actions": sum(r.invalid_actions for r in rows),
    }


def error_messages(rows: Sequence[EpisodeResult], top: int = TOP_ERRORS
                   ) -> list[list[Any]]:
    """The most frequent distinct errors of errored episodes: ``[[message, count], ...]``.

    >>> rows = [EpisodeResult(episode=i, epoch=0, task="0", env_id="x", success=False,
    ...                       reward=0.0, steps=0, errored=True, error="LLM failed: down")
    ...         for i in range(3)]
    >>> error_messages(rows)
    [['LLM failed: down', 3]]
    """
    counts = Counter(r.error or "unknown error" for r in rows if r.errored)
    return [[message, count] for message, count in counts.most_common(top)]


def error_lines(metrics: Mapping[str, Any]) -> list[str]:
    """What a summary says about errored episodes: nothing when none errored, else their
    count and the most frequent messages with their counts.

    >>> error_lines({"episodes": 4, "errored": 0})
    []
    >>> error_lines({"episodes": 4, "errored": 3, "error_messages": [["LLM failed: x", 3]]})
    ['3 of 4 episodes errored (they count as failures):', '  3x LLM failed: x']
    """
    errored = int(metrics.get("errored") or 0)
    if not errored:
        return []
    lines = [f"{errored} of {metrics.get('episodes', '?')} episodes errored (they count as "
             "failures):"]
    messages = metrics.get("error_messages") or []
    lines += [f"  {count}x {message}" for message, count in messages]
    shown = sum(count for _, count in messages)
    if shown < errored:
        lines.append(f"  {errored - shown}x other errors (see episodes.jsonl)")
    return lines


def plot_learning_curves(curves: Mapping[str, Sequence[float | None]], path: str | Path,
                         title: str = "success per epoch") -> Path:
    """Save a PNG with one success-per-epoch line per variant (matplotlib, no display).

    >>> import tempfile, os
    >>> p = plot_learning_curves({"memrl": [0.0, 1.0]}, os.path.join(tempfile.mkdtemp(), "c.png"))
    >>> p.stat().st_size > 0
    True
    """
    import matplotlib

    matplotlib.use("Agg")  # headless machines (CI) have no display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        xs = [i + 1 for i, v in enumerate(values) if v is not None]
        ax.plot(xs, [v for v in values if v is not None], marker="o", label=name)
    ax.set(xlabel="epoch", ylabel="success rate", ylim=(-0.05, 1.05), title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
