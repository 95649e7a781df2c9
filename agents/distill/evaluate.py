"""Scores that separate the two learners: each model alone, memory alone, and both together.

For every model (the base and each trained version) the same held-out tasks are played
frozen (nothing is written anywhere) with memory off (variant ``none``: the weights alone)
and, given a memory directory, with memory on (``memrl``, reading that memory); memory is
also scored alone, with an LLM that scores every action alike (the ``scripted`` backend), so
its row does not depend on any weights. Every model plays as it was trained to
(:mod:`~memplay.agents.distill.play`); the base model plays with the config's settings.
Each score carries its task count and a 95% Wilson interval: 32 maps are few.

    >>> wilson(16, 32)
    (0.336, 0.664)
    >>> LearnerScore("v1", "off", 32, 20, 12.0).rate
    0.625
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from memplay.agents.distill.play import play_overrides

__all__ = ["LearnerScore", "score_learners", "score_model", "wilson"]

Memory = Literal["off", "on", "alone"]


def wilson(solved: int, tasks: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a success rate (95% by default), rounded to 3 places.

    >>> wilson(0, 32)
    (0.0, 0.107)
    """
    if tasks == 0:
        return (0.0, 1.0)
    p = solved / tasks
    centre = (p + z * z / (2 * tasks)) / (1 + z * z / tasks)
    half = z * math.sqrt(p * (1 - p) / tasks + z * z / (4 * tasks * tasks)) / (1 + z * z / tasks)
    return (round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3))


@dataclass(frozen=True)
class LearnerScore:
    """One row: which model, with memory off / on / alone, tasks solved of tasks played."""

    model: str
    memory: Memory
    tasks: int
    solved: int
    seconds: float

    @property
    def rate(self) -> float:
        """Share of tasks solved."""
        return self.solved / self.tasks if self.tasks else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready fields, rate and interval included.

        >>> LearnerScore("base", "on", 4, 1, 2.0).to_dict()["interval"]
        (0.046, 0.699)
        """
        return {**asdict(self), "rate": self.rate, "interval": wilson(self.solved, self.tasks)}


def score_model(env_id: str, tasks: Sequence[int], llm: Any, run_dir: Path, *,
                memory_dir: Path | None = None, model: str | Path | None = None,
                **agent: Any) -> tuple[int, float]:
    """Tasks solved (and seconds) by ``llm`` on ``tasks``, played frozen, memory on when
    ``memory_dir`` is given; the agent plays ``model``'s version settings, if it is one."""
    from memplay.agents.agent import Agent

    variant = "memrl" if memory_dir is not None else "none"
    built = Agent(env_id, variant=variant, llm=llm, **{**agent, **play_overrides(model)})
    started = time.perf_counter()
    try:
        result = built.run(epochs=1, tasks=list(tasks), run_dir=run_dir, memory_dir=memory_dir,
                           frozen=True, progress=False)
    finally:
        built.close()
    rate = result.success_per_epoch[0] or 0.0
    return round(rate * len(tasks)), time.perf_counter() - started


def score_learners(env_id: str, tasks: Sequence[int], llm: Any,
                   models: Mapping[str, str | Path | None], work_dir: Path, *,
                   memory_dir: Path | None = None, flat_llm: Any = None, **agent: Any
                   ) -> list[LearnerScore]:
    """Every model with memory off (and on, given ``memory_dir``), plus memory alone (given
    ``flat_llm``, an LLM that scores every action alike). ``llm`` must reload weights: it
    is loaded with each model in turn (None: the base weights) and left on the last one.

    ``agent`` are Agent settings shared by every row (max_steps, parallel_envs, env_kwargs,
    memory settings...).
    """
    rows = []
    for name, model in models.items():
        llm.reload(model)
        for memory in (None, memory_dir) if memory_dir is not None else (None,):
            solved, seconds = score_model(
                env_id, tasks, llm, work_dir / f"{name}-{'on' if memory else 'off'}",
                memory_dir=memory, model=model, **agent)
            rows.append(LearnerScore(name, "on" if memory else "off", len(tasks), solved,
                                     round(seconds, 1)))
    if memory_dir is not None and flat_llm is not None:
        solved, seconds = score_model(env_id, tasks, flat_llm, work_dir / "memory-alone",
                                      memory_dir=memory_dir, **agent)
        rows.append(LearnerScore("memory", "alone", len(tasks), solved, round(seconds, 1)))
    return rows
