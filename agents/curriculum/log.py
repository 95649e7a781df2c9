"""The runner's side of a curriculum: choose each batch's tasks, record them, resume.

:class:`Curriculum` is what :func:`memplay.agents.runner.run_episodes` holds. For every batch
it lets the sampler choose (or, for the proposer, run its graph), prepares the environments of
replayed starts, runs the agent's batch, and appends one row per episode to
``<run>/curriculum.jsonl`` (:class:`~memplay.agents.curriculum.base.Outcome` rows: the task,
its arm, the replayed prefix, the result and the agent's actions) *before* the runner writes
``episodes.jsonl``. A resumed run rebuilds the sampler by observing, batch by batch, the rows
of the episodes ``episodes.jsonl`` holds (the last row per episode wins), so it continues
with the state and the choices an uninterrupted run would have. The uniform sampler depends
on nothing observed and writes no file.

    >>> from memplay.agents.curriculum.base import Task
    >>> outcome_of(Task(3, "a"), batch=0, slot=_done_slot())
    Outcome(task=Task(seed=3, category='a', prefix=()), episode=5, batch=0, success=True, \
reward=1.0, steps=1, truncated=False, errored=False, actions=('up',))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from memplay.agents.context import AgentContext
from memplay.agents.curriculum.base import (
    CurriculumSetup,
    Outcome,
    Planned,
    Task,
    TaskSampler,
)
from memplay.agents.curriculum.registry import CURRICULA
from memplay.agents.curriculum.replay import StartFrom
from memplay.agents.state import Slot, StepRecord
from memplay.environments.executors.workers import LocalEnvs
from memplay.errors import ConfigError
from memplay.memory.jsonio import append_jsonl, read_jsonl
from memplay.run_dir import RunDir

__all__ = ["Curriculum", "make_sampler", "outcome_of", "read_outcomes"]
RunBatch = Callable[[list[Task]], list[Slot]]


def make_sampler(ctx: AgentContext) -> TaskSampler:
    """The sampler ``ctx.config.curriculum`` names, over the task space of the run's envs.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(curriculum="sec"))
    >>> make_sampler(ctx).name
    'sec'
    """
    cfg = ctx.config
    factory = CURRICULA.get(cfg.curriculum.name)
    env = ctx.env_at(0)
    if env is None and ctx.workers.num_envs > 0:  # envs in worker processes: one here
        from memplay.agents.components import make_env

        env = make_env(cfg)
    sampler: TaskSampler = factory(CurriculumSetup(cfg, env, ctx.llm))
    return sampler


def outcome_of(task: Task, batch: int, slot: Slot) -> Outcome:
    """The outcome row of one finished slot."""
    return Outcome(task, slot.episode, batch, slot.success, slot.reward, len(slot.steps),
                   slot.truncated, slot.error is not None, tuple(s.action for s in slot.steps))


def read_outcomes(path: Path, done: set[int]) -> list[list[Outcome]]:
    """The recorded outcomes of ``done`` episodes, grouped by batch, in order.

    >>> read_outcomes(Path("/no/such/curriculum.jsonl"), {0})
    []
    """
    latest: dict[int, Outcome] = {}
    for row in read_jsonl(path):
        outcome = Outcome.from_row(row)
        if outcome.episode in done:
            latest[outcome.episode] = outcome
    batches: dict[int, list[Outcome]] = {}
    for episode in sorted(latest):
        batches.setdefault(latest[episode].batch, []).append(latest[episode])
    return [batches[b] for b in sorted(batches)]


class Curriculum:
    """One run's sampler, its record file and the replayed starts (see the module doc).

    Args:
        ctx: The run's context (its envs get wrapped for replayed starts).
        root: The run directory (None: keep no record).
        done: Episodes already recorded (their outcomes rebuild the sampler).
    """

    def __init__(self, ctx: AgentContext, root: Path | None, done: set[int]) -> None:
        self.ctx = ctx
        self.sampler = make_sampler(ctx)
        self.path = RunDir(root).curriculum if root is not None else None
        if self.path is not None and self.sampler.stateful:
            for outcomes in read_outcomes(self.path, done):
                self.sampler.observe(outcomes)

    def play(self, batch: Sequence[Planned], run: RunBatch) -> list[Slot]:
        """Tasks for ``batch`` from the sampler, played by ``run``; returns the slots."""
        played: list[Slot] = []

        def solve(tasks: list[Task]) -> list[Outcome]:
            self._prepare_starts(tasks)
            slots = run(tasks)
            outcomes = [outcome_of(t, batch[0].episode, s) for t, s in zip(tasks, slots)]
            if self.path is not None and self.sampler.stateful:
                append_jsonl(self.path, [o.to_row() for o in outcomes])
            played[:] = slots
            return outcomes

        self.sampler.run_batch(batch, solve)
        return played

    def _prepare_starts(self, tasks: Sequence[Task]) -> None:
        """Environments of replayed starts replay their prefix at reset; others do not."""
        workers = self.ctx.workers
        if not isinstance(workers, LocalEnvs):
            if any(task.prefix for task in tasks):
                raise ConfigError(f"the {self.sampler.name!r} curriculum replays start states, "
                                  "which needs the envs in this process; set "
                                  "env_workers='local'")
            return
        for i, task in enumerate(tasks):
            env = workers.envs[i]
            if isinstance(env, StartFrom):
                env.prefix = task.prefix
            elif task.prefix:
                workers.envs[i] = StartFrom(env, task.prefix)

    def summary(self) -> dict[str, Any]:
        """The sampler's current beliefs."""
        return self.sampler.summary()


def _done_slot() -> Slot:
    return Slot(0, episode=5, success=True, reward=1.0, done=True,
                steps=[StepRecord("o", "up", 1.0)])
