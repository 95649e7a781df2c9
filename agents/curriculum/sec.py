"""SEC-style curriculum: a bandit over task categories, rewarded by absolute learning progress.

Self-Evolving Curriculum (SEC) treats each category of tasks as a bandit arm, keeps a value
per arm updated by temporal difference, ``Q <- (1 - alpha) Q + alpha r``, and samples the
next tasks' categories from ``softmax(Q / temperature)``. Its reward is how much training on
the category currently changes the learner. For an agent that learns from memory rather than
from policy gradients that is the *absolute learning progress* of the arm (as in ALP-GMM):
``|mean(last W results) - mean(the W before)|`` (0 before the first result), so arms the
agent is getting better (or worse) at are practised and arms it has mastered or cannot
touch fade. Arms never tried are tried first; ``explore`` keeps a floor on every arm.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.agents.curriculum.base import CurriculumSetup, Outcome, Planned, Task
    >>> cfg = AgentConfig(curriculum={"name": "sec", "options": {
    ...     "categories": {"easy": [0, 1], "hard": [10, 11]}}})
    >>> sec = SECSampler(CurriculumSetup(cfg))
    >>> [t.category for t in sec.choose([Planned(0, 0, 0), Planned(1, 0, 1)])]
    ['easy', 'hard']
    >>> sec.observe([Outcome(Task(0, "easy"), 0, 0, True), Outcome(Task(10, "hard"), 1, 0,
    ...                                                              False)])
    >>> sec.q["easy"] > sec.q["hard"]
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from memplay.agents.curriculum.base import (
    ArmBook,
    CurriculumSetup,
    Outcome,
    Planned,
    SamplerOptions,
    Task,
    TaskSampler,
    pick_arms,
)

__all__ = ["SECOptions", "SECSampler", "learning_progress"]


class SECOptions(SamplerOptions):
    """SEC's settings (``curriculum.options``)."""

    alpha: float = Field(default=0.5, gt=0.0, le=1.0, description="TD step of arm values.")
    temperature: float = Field(default=0.2, gt=0.0, description="Boltzmann temperature.")
    explore: float = Field(default=0.1, ge=0.0, le=1.0, description="Uniform share of draws.")
    window: int = Field(default=4, ge=1, description="Results per window of progress.")


def learning_progress(results: Sequence[float], window: int) -> float:
    """``|mean(last window) - mean(the window before)|``; the window before an arm's first
    results counts as 0 (nothing solved before practice).

    >>> learning_progress([0, 0, 1, 1], 2), learning_progress([1, 1, 1, 1], 2)
    (1.0, 0.0)
    >>> learning_progress([1.0], 2)
    1.0
    """
    if not results:
        return 0.0
    recent = list(results[-window:])
    older = list(results[-2 * window:-window]) or [0.0]
    return abs(sum(recent) / len(recent) - sum(older) / len(older))


class SECSampler(TaskSampler):
    """Bandit over the task space's arms by absolute learning progress (module docstring)."""

    name = "sec"
    Options = SECOptions

    def __init__(self, setup: CurriculumSetup) -> None:
        super().__init__(setup)
        self.book = ArmBook(self.space.arms)
        self.q = dict.fromkeys(self.space.arms, 0.0)

    def choose(self, batch: Sequence[Planned]) -> list[Task]:
        """Untried arms first, then draws from softmax(Q / temperature) mixed with explore."""
        opts = self.options
        picks = pick_arms(self.book, self.q, len(batch), opts.temperature, opts.explore,
                          self.rng(batch))
        return self.book.tasks(self.space, picks)

    def observe(self, outcomes: Sequence[Outcome]) -> None:
        """Record the results, then move each played arm's Q toward its learning progress."""
        self.book.record(outcomes)
        for arm in dict.fromkeys(o.task.category for o in outcomes):
            if arm in self.q:
                lp = learning_progress(self.book.results[arm], self.options.window)
                self.q[arm] += self.options.alpha * (lp - self.q[arm])

    def summary(self) -> dict[str, Any]:
        """Arm values and the tasks drawn per arm."""
        return {"q": dict(self.q), "drawn": dict(self.book.drawn)}
