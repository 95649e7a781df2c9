"""Replay of start states (ExIt): restart from the states of earlier episodes worth revisiting.

Expert Iteration restarts the apprentice from states of earlier games instead of always from
the beginning, so practice goes where it is needed. Text environments cannot be cloned, so a
start state is *replayed*: the env is reset with the task's seed and the recorded prefix of
actions is played again before the agent takes over (:class:`StartFrom`; the same honest
route as the critique search in :mod:`memplay.agents.methods.critique.mcts`). It needs an env that
is deterministic given the seed; an action that no longer fits stops the replay early.

Which states: every failed episode (not errored) of at least ``min_steps`` moves adds the
state ``back`` moves before its end (where it went wrong) to a book of starts; a share of
each batch (``share``) restarts from the newest starts, each used at most ``max_uses``
times and retired once the agent succeeds from it. The rest of the batch plays the fixed
schedule (``config.tasks``), as the uniform sampler does. An episode from a replayed start is
recorded with task ``"<seed>@<moves replayed>"``.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.agents.curriculum.base import CurriculumSetup, Outcome, Planned, Task
    >>> cfg = AgentConfig(tasks=[0, 1], curriculum={"name": "replay", "options": {"back": 1}})
    >>> replay = ReplaySampler(CurriculumSetup(cfg))
    >>> replay.observe([Outcome(Task(0, "tasks"), 0, 0, False, actions=("down", "right"))])
    >>> [t.label for t in replay.choose([Planned(2, 1, 0), Planned(3, 1, 1)])]
    ['0', '0@1']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from memplay.agents.curriculum.base import (
    CurriculumSetup,
    Outcome,
    Planned,
    SamplerOptions,
    Task,
    TaskSampler,
)
from memplay.environments.core import StepResult, TextEnv
from memplay.environments.wrappers import Wrapper

__all__ = ["ReplayOptions", "ReplaySampler", "Start", "StartFrom"]


class ReplayOptions(SamplerOptions):
    """The replay sampler's settings (``curriculum.options``)."""

    share: float = Field(default=0.5, ge=0.0, le=1.0,
                         description="Share of each batch that restarts from a replayed state.")
    back: int = Field(default=2, ge=1, description="Moves before a failure's end to restart.")
    min_steps: int = Field(default=2, ge=1, description="Shortest failed episode kept.")
    max_uses: int = Field(default=2, ge=1, description="Replays of one start at most.")
    book_size: int = Field(default=64, ge=1, description="Starts kept (newest).")


@dataclass
class Start:
    """A start state: the task's seed and the moves that reach it."""

    seed: int
    category: str
    prefix: tuple[str, ...]
    uses: int = 0


class ReplaySampler(TaskSampler):
    """ExIt-style restarts from states of failed episodes; see the module docstring."""

    name = "replay"
    Options = ReplayOptions

    def __init__(self, setup: CurriculumSetup) -> None:
        super().__init__(setup)
        self.book: list[Start] = []

    def choose(self, batch: Sequence[Planned]) -> list[Task]:
        """The last ``share`` of the batch restarts from the newest usable starts."""
        tasks = [Task(p.seed, self.space.category(p.seed)) for p in batch]
        usable = [s for s in reversed(self.book) if s.uses < self.options.max_uses]
        count = min(round(self.options.share * len(batch)), len(usable))
        for i, start in zip(range(len(batch) - count, len(batch)), usable):
            tasks[i] = Task(start.seed, start.category, start.prefix)
        return tasks

    def observe(self, outcomes: Sequence[Outcome]) -> None:
        """Use up (or retire, on success) replayed starts; add starts from new failures."""
        for outcome in outcomes:
            task = outcome.task
            if task.prefix:
                self._used(task, outcome.success)
            if outcome.success or outcome.errored or len(outcome.actions) < \
                    self.options.min_steps:
                continue
            path = (*task.prefix, *outcome.actions)
            prefix = path[:max(len(path) - self.options.back, 1)]
            if all(s.prefix != prefix or s.seed != task.seed for s in self.book):
                self.book.append(Start(task.seed, task.category, prefix))
        del self.book[:-self.options.book_size]

    def _used(self, task: Task, success: bool) -> None:
        for start in self.book:
            if start.seed == task.seed and start.prefix == task.prefix:
                start.uses += 1
                if success:
                    self.book.remove(start)
                return

    def summary(self) -> dict[str, Any]:
        """Starts in the book and their uses."""
        return {"starts": len(self.book), "uses": [s.uses for s in self.book]}


class StartFrom(Wrapper):
    """Plays ``prefix`` right after every reset, so the episode starts where it left off.

    An action the env no longer accepts, or one that would end the episode, stops the
    replay there; ``info["replayed"]`` says how many moves were replayed.

        >>> from memplay.environments import make
        >>> env = StartFrom(make("FrozenLake-4x4-v0"), ("down", "down"))
        >>> obs, info = env.reset(seed=0)
        >>> info["replayed"], "row 2, column 0" in obs
        (2, True)
    """

    def __init__(self, env: TextEnv, prefix: Sequence[str] = ()) -> None:
        super().__init__(env)
        self.prefix = tuple(prefix)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        """Reset, then replay the prefix (the observation is the replayed state's)."""
        obs, info = self.env.reset(seed=seed, options=options)
        for done, action in enumerate(self.prefix):
            if action not in info.get("admissible_actions", []):
                return obs, {**info, "replayed": done}
            result = self.env.step(action)
            if result[2] or result[3]:  # the move ends the episode: start just before it
                obs, info = self.env.reset(seed=seed, options=options)
                for earlier in self.prefix[:done]:
                    obs, _, _, _, info = self.env.step(earlier)
                return obs, {**info, "replayed": done}
            obs, info = result[0], result[4]
        return obs, {**info, "replayed": len(self.prefix)}

    def step(self, action: str) -> StepResult:
        """Forward to the wrapped env."""
        return self.env.step(action)
