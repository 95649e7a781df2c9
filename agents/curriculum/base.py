"""What every task sampler shares: tasks, outcomes, the task space, the sampler protocol.

A run is still ``epochs x len(config.tasks)`` episodes in batches of ``parallel_envs``; a
:class:`TaskSampler` decides which task each episode of the next batch plays
(:meth:`TaskSampler.choose`) and learns from how they went (:meth:`TaskSampler.observe`).
Everything a sampler knows must come from what it observed, so a resumed run rebuilds it
by observing the recorded outcomes again (``curriculum.jsonl``, see
:mod:`memplay.agents.curriculum.log`), and its random draws are seeded per batch, so the
rebuilt sampler makes the same choices.

A *task* is a reset seed, plus (for replayed start states) an action prefix the env plays
before the agent takes over. Samplers group tasks into the *arms* of a :class:`TaskSpace`:
the arms of a :class:`~memplay.environments.task_space.TaskSpaceEnv` (generator settings),
the ``categories`` option (name -> seeds), or one arm holding ``config.tasks``.

    >>> from memplay.agents.config import AgentConfig
    >>> space = TaskSpace.from_config(AgentConfig(tasks=[3, 4]), env=None)
    >>> space.arms, space.task("tasks", 3), space.category(4)
    (['tasks'], 4, 'tasks')
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memplay.agents.config import AgentConfig
from memplay.config import format_validation_error
from memplay.environments.task_space import TaskSpaceEnv
from memplay.errors import ConfigError
from memplay.llm.base import LLM

__all__ = ["ArmBook", "CurriculumSetup", "Outcome", "Planned", "SamplerOptions", "Solve", "Task",
           "TaskSampler", "TaskSpace", "UniformSampler", "boltzmann", "pick_arms"]


class Planned(NamedTuple):
    """One scheduled episode of a run (the runner's schedule; the seed is the fixed one)."""

    episode: int
    epoch: int
    seed: int


@dataclass(frozen=True)
class Task:
    """One episode's task: the reset seed, its arm, and a prefix of actions replayed first.

    >>> Task(7, "lake").label, Task(7, "lake", ("down", "down")).label
    ('7', '7@2')
    """

    seed: int
    category: str = ""
    prefix: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The episode's ``task`` field: the seed, ``@k`` when it starts after k moves."""
        return f"{self.seed}@{len(self.prefix)}" if self.prefix else str(self.seed)


@dataclass(frozen=True)
class Outcome:
    """How one episode of a task went (a row of ``curriculum.jsonl``).

    ``actions`` are the agent's own, after the task's prefix.

    >>> o = Outcome(Task(1, "a"), episode=0, batch=0, success=True, actions=("up",))
    >>> Outcome.from_row(o.to_row()) == o
    True
    """

    task: Task
    episode: int
    batch: int
    success: bool
    reward: float = 0.0
    steps: int = 0
    truncated: bool = False
    errored: bool = False
    actions: tuple[str, ...] = ()

    def to_row(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"episode": self.episode, "batch": self.batch, "seed": self.task.seed,
                "category": self.task.category, "prefix": list(self.task.prefix),
                "success": self.success, "reward": self.reward, "steps": self.steps,
                "truncated": self.truncated, "errored": self.errored,
                "actions": list(self.actions)}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Outcome:
        """Read a row written by :meth:`to_row`."""
        task = Task(int(row["seed"]), str(row["category"]), tuple(row["prefix"]))
        return cls(task, int(row["episode"]), int(row["batch"]), bool(row["success"]),
                   float(row["reward"]), int(row["steps"]), bool(row["truncated"]),
                   bool(row["errored"]), tuple(row["actions"]))


Solve = Callable[[list[Task]], list[Outcome]]
"""Plays one batch of tasks (one per planned episode, in order) and returns the outcomes."""


@dataclass
class TaskSpace:
    """Named arms, each an endless sequence of task seeds (``task(arm, k)``: its k-th task).

    >>> space = TaskSpace.from_categories({"easy": [1, 2], "hard": [9]})
    >>> space.task("easy", 3), space.category(9)
    (2, 'hard')
    """

    arms: list[str]
    task: Callable[[str, int], int]
    category: Callable[[int], str]
    details: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_categories(cls, categories: Mapping[str, Sequence[int]]) -> TaskSpace:
        """Arms given as lists of seeds (cycled through)."""
        if not categories or any(not list(s) for s in categories.values()):
            raise ConfigError(f"categories={dict(categories)!r} must map each name to a "
                              "non-empty list of seeds")
        lists = {name: [int(s) for s in seeds] for name, seeds in categories.items()}
        owner = {seed: name for name, seeds in lists.items() for seed in seeds}
        return cls(list(lists), lambda arm, k: lists[arm][k % len(lists[arm])],
                   lambda seed: owner.get(seed, ""))

    @classmethod
    def from_config(cls, config: AgentConfig, env: Any,
                    categories: Mapping[str, Sequence[int]] | None = None,
                    instances: int = 16) -> TaskSpace:
        """The arms of a task-space env (``instances`` tasks each), else ``categories``,
        else one arm ``"tasks"`` holding ``config.tasks``."""
        if categories:
            return cls.from_categories(categories)
        inner = getattr(env, "unwrapped", env)
        if isinstance(inner, TaskSpaceEnv):
            details = {a["name"]: f"{a['env_id']} " + " ".join(
                f"{k}={v}" for k, v in a["kwargs"].items()) for a in inner.arms}
            return cls(inner.arm_names, lambda arm, k: inner.task_id(arm, k % instances),
                       inner.category, details)
        return cls.from_categories({"tasks": config.tasks})


@dataclass
class CurriculumSetup:
    """What a sampler is built from: the run's config, one of its environments (for the
    task space) and the agent's LLM (for samplers that ask it, such as the LLM proposer).

    >>> from memplay.agents.config import AgentConfig
    >>> CurriculumSetup(AgentConfig()).env is None
    True
    """

    config: AgentConfig
    env: Any = None
    llm: LLM | None = None


class SamplerOptions(BaseModel):
    """Options every sampler accepts (``curriculum.options``)."""

    model_config = ConfigDict(extra="forbid")

    categories: dict[str, list[int]] | None = Field(
        default=None, description="Arms as lists of seeds (for envs without a task space).")
    instances: int = Field(default=16, ge=1, description="Tasks per arm of a task-space env.")


class TaskSampler:
    """Base class: decides the next batch's tasks and learns from their outcomes.

    Subclasses set ``name``, an ``Options`` model (validated from ``curriculum.options``)
    and override :meth:`choose` / :meth:`observe`. ``stateful = False`` (uniform) means the
    choices depend on nothing observed, so no ``curriculum.jsonl`` is written.
    """

    name: ClassVar[str] = "base"
    stateful: ClassVar[bool] = True
    Options: ClassVar[type[SamplerOptions]] = SamplerOptions

    def __init__(self, setup: CurriculumSetup) -> None:
        self.setup = setup
        self.config = setup.config
        self.options = self.parse_options(setup.config.curriculum.options)
        self.space = TaskSpace.from_config(setup.config, setup.env, self.options.categories,
                                           self.options.instances)

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> Any:
        """Validate ``curriculum.options`` against this sampler's ``Options``."""
        try:
            return cls.Options.model_validate(dict(options))
        except ValidationError as exc:
            raise ConfigError(f"curriculum {cls.name!r}: bad options: "
                              f"{format_validation_error(exc)}") from None

    def rng(self, batch: Sequence[Planned]) -> random.Random:
        """The batch's own generator: the same batch draws the same numbers after a resume."""
        first = batch[0].episode if batch else 0
        return random.Random(self.config.seed * 1_000_003 + first)

    def choose(self, batch: Sequence[Planned]) -> list[Task]:
        """One task per planned episode (override)."""
        raise NotImplementedError(f"{type(self).__name__} must implement choose")

    def observe(self, outcomes: Sequence[Outcome]) -> None:
        """Learn from one batch's outcomes (all state changes happen here)."""

    def run_batch(self, batch: Sequence[Planned], solve: Solve) -> list[Outcome]:
        """Choose, solve, observe. The proposer runs these as a LangGraph graph."""
        outcomes = solve(self.choose(batch))
        self.observe(outcomes)
        return outcomes

    def summary(self) -> dict[str, Any]:
        """What the sampler believes now, for logs and plots (JSON)."""
        return {}


class UniformSampler(TaskSampler):
    """Today's fixed schedule: episode ``e`` plays ``config.tasks[e % len(tasks)]``.

    >>> from memplay.agents.config import AgentConfig
    >>> sampler = UniformSampler(CurriculumSetup(AgentConfig(tasks=[5, 6])))
    >>> [t.seed for t in sampler.choose([Planned(0, 0, 5), Planned(1, 0, 6)])]
    [5, 6]
    """

    name = "uniform"
    stateful = False

    def choose(self, batch: Sequence[Planned]) -> list[Task]:
        """The planned seeds, unchanged."""
        return [Task(p.seed, self.space.category(p.seed)) for p in batch]


def boltzmann(values: Mapping[str, float], temperature: float, explore: float,
              rng: random.Random) -> str:
    """Draw a key with probability ``(1 - explore) * softmax(values / T) + explore / n``.

    >>> boltzmann({"a": 0.0, "b": 5.0}, 0.1, 0.0, random.Random(0))
    'b'
    """
    keys = list(values)
    top = max(values.values())
    weights = [math.exp((values[k] - top) / max(temperature, 1e-6)) for k in keys]
    total = sum(weights)
    probs = [(1 - explore) * w / total + explore / len(keys) for w in weights]
    return rng.choices(keys, weights=probs)[0]


class ArmBook:
    """Per arm: the results of its tasks (1.0 success, 0.0 failure) and how many were drawn.

    Replayed starts (tasks with a prefix) and errored episodes do not count as results.

    >>> book = ArmBook(["a", "b"])
    >>> book.record([Outcome(Task(0, "a"), 0, 0, True), Outcome(Task(1, "a"), 1, 0, False)])
    >>> book.results["a"], book.drawn, book.untried()
    ([1.0, 0.0], {'a': 2, 'b': 0}, ['b'])
    """

    def __init__(self, arms: Sequence[str]) -> None:
        self.results: dict[str, list[float]] = {a: [] for a in arms}
        self.drawn: dict[str, int] = dict.fromkeys(arms, 0)

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Count each outcome of a fresh task under its arm."""
        for outcome in outcomes:
            arm = outcome.task.category
            if outcome.task.prefix or arm not in self.drawn:
                continue
            self.drawn[arm] += 1
            if not outcome.errored:
                self.results[arm].append(float(outcome.success))

    def untried(self) -> list[str]:
        """Arms never drawn, in order."""
        return [a for a, n in self.drawn.items() if n == 0]

    def tasks(self, space: TaskSpace, picks: Sequence[str]) -> list[Task]:
        """The next task of each picked arm (an arm picked twice gets two tasks)."""
        extra: dict[str, int] = {}
        out = []
        for arm in picks:
            k = self.drawn[arm] + extra.get(arm, 0)
            extra[arm] = extra.get(arm, 0) + 1
            out.append(Task(space.task(arm, k), arm))
        return out

    def rate(self, arm: str, window: int) -> float:
        """Success rate over the arm's last ``window`` results with a uniform prior,
        ``(s + 1) / (n + 2)`` (0.5 before any result).

        >>> book = ArmBook(["a"]); book.results["a"] = [1.0, 1.0, 0.0]
        >>> book.rate("a", 2)
        0.5
        """
        recent = self.results[arm][-window:]
        return (sum(recent) + 1.0) / (len(recent) + 2.0)


def pick_arms(book: ArmBook, values: Mapping[str, float], count: int, temperature: float,
              explore: float, rng: random.Random) -> list[str]:
    """``count`` arms: arms never tried first (in order), then Boltzmann draws on ``values``.

    >>> pick_arms(ArmBook(["a", "b"]), {"a": 0.0, "b": 1.0}, 3, 0.01, 0.0, random.Random(0))
    ['a', 'b', 'b']
    """
    untried = book.untried()
    return [untried.pop(0) if untried else boltzmann(values, temperature, explore, rng)
            for _ in range(count)]
