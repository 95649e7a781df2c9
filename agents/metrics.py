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

from memplay.types import DecisionStats, EpisodeResult

__all__ = ["compute_metrics", "decision_line", "decision_metrics", "error_lines",
           "error_messages", "plot_learning_curves"]

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
        "hindsight_successes": sum(r.hindsight for r in rows),
        **decision_metrics(rows),
    }


def decision_metrics(rows: Sequence[EpisodeResult]) -> dict[str, Any]:
    """How the decisions were made: the summed :class:`~memplay.types.DecisionStats`, the
    fraction of decisions that called the model and the fraction of candidate actions it
    scored (None when no decision was recorded, e.g. rows of an older run).

    >>> from memplay.types import DecisionStats
    >>> row = EpisodeResult(episode=0, env_id="x", success=True, reward=1.0, steps=4,
    ...                     decision_stats=DecisionStats(decisions=4, model_calls=1,
    ...                                                  candidates=16, scored=3))
    >>> m = decision_metrics([row])
    >>> m["model_call_fraction"], m["scored_fraction"]
    (0.25, 0.1875)
    """
    total = sum((r.decision_stats for r in rows), DecisionStats())
    return {"decision_stats": total.model_dump(),
            "model_call_fraction": total.model_calls / total.decisions
            if total.decisions else None,
            "scored_fraction": total.scored / total.candidates if total.candidates else None}


def decision_line(metrics: Mapping[str, Any]) -> str | None:
    """One sentence on how a run's decisions were made (None for runs that did not record it).

    >>> print(decision_line({"decision_stats": {"decisions": 40, "model_calls": 10,
    ...       "candidates": 160, "scored": 30, "pruned_by_view": 4, "pruned_by_value": 6}}))
    ... # doctest: +NORMALIZE_WHITESPACE
    model called in 10 of 40 decisions (25%); 30 of 160 candidate actions scored
    (pruned: 4 by the view, 6 by memory values)
    """
    stats = metrics.get("decision_stats") or {}
    decisions = int(stats.get("decisions") or 0)
    if not decisions:
        return None
    calls, candidates = int(stats.get("model_calls") or 0), int(stats.get("candidates") or 0)
    line = (f"model called in {calls} of {decisions} decisions ({calls / decisions:.0%}); "
            f"{stats.get('scored', 0)} of {candidates} candidate actions scored (pruned: "
            f"{stats.get('pruned_by_view', 0)} by the view, {stats.get('pruned_by_value', 0)} "
            "by memory values)")
    reused = int(stats.get("reused") or 0)
    if reused:
        line += f"; {reused} kept scores reused (policy.reuse_scores)"
    audited = int(stats.get("audited") or 0)
    if audited:
        line += (f"; audit: the gate would have settled {audited}, agreeing on "
                 f"{stats.get('audit_agreed', 0)}")
    return line


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
