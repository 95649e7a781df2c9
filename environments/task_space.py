"""A task space: several generators behind one environment, the reset seed picking the task.

A curriculum chooses among *arms*: generator settings such as "FrozenLake 5x5 with 20% holes"
or "Sokoban 6x6 with one box and two walls". :class:`TaskSpaceEnv` holds a list of arms and
reads every reset seed as a *task id*: ``seed = arm * stride + instance`` (larger seeds wrap
around); the arm's env is reset with the instance seed, so the same task id always gives the
same level. Everything
else (actions, views, success) is the arm's own game; ``info`` adds ``category`` (the arm's
name) and ``arm_kwargs`` (its generator settings).

Arms are plain dicts (``name``, ``env_id``, ``kwargs``), so a task space is YAML config and
any registered env can be an arm; the default space mixes random FrozenLake maps and
generated Sokoban levels from easy to hopeless for a small model.

    >>> env = TaskSpaceEnv()
    >>> env.arm_names[:2]
    ['lake-4x4', 'lake-5x5']
    >>> obs, info = env.reset(seed=env.task_id("soko-5x5-1box", 7))
    >>> info["category"], info["arm_kwargs"]["num_boxes"]
    ('soko-5x5-1box', 1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from memplay.environments.core import MAX_SEED, StepResult, TextEnv, validate_seed
from memplay.environments.registry import make
from memplay.environments.task_sets import LAYOUTS, register_layout
from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["DEFAULT_ARMS", "STRIDE", "TaskSpaceEnv", "task_space_layout", "validate_arms"]

STRIDE = 1_000_000

DEFAULT_ARMS: tuple[dict[str, Any], ...] = (
    {"name": "lake-4x4", "env_id": "FrozenLake-random-v0", "kwargs": {"size": 4, "p": 0.8}},
    {"name": "lake-5x5", "env_id": "FrozenLake-random-v0", "kwargs": {"size": 5, "p": 0.8}},
    {"name": "lake-7x7-holes", "env_id": "FrozenLake-random-v0",
     "kwargs": {"size": 7, "p": 0.7}},
    {"name": "soko-5x5-1box", "env_id": "Sokoban-gen-v0",
     "kwargs": {"height": 5, "width": 5, "num_boxes": 1, "max_walls": 0}},
    {"name": "soko-6x6-1box", "env_id": "Sokoban-gen-v0",
     "kwargs": {"height": 6, "width": 6, "num_boxes": 1, "max_walls": 2}},
    {"name": "soko-7x7-2box", "env_id": "Sokoban-gen-v0",
     "kwargs": {"height": 7, "width": 7, "num_boxes": 2, "max_walls": 3}},
)


def validate_arms(arms: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check arms: each a dict with a unique ``name``, an ``env_id`` and optional ``kwargs``.

    >>> validate_arms([{"name": "a", "env_id": "FrozenLake-random-v0"}])[0]["kwargs"]
    {}
    >>> validate_arms([{"name": "a"}])
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: task space arm 0 ({'name': 'a'}) needs 'name' and 'env_id' ...
    """
    if isinstance(arms, (str, bytes)) or not isinstance(arms, Sequence) or not arms:
        raise ConfigError(f"arms={arms!r} must be a non-empty list of dicts with name, env_id "
                          "and kwargs")
    out, names = [], set()
    for i, arm in enumerate(arms):
        if not isinstance(arm, Mapping) or not isinstance(arm.get("name"), str) \
                or not isinstance(arm.get("env_id"), str):
            raise ConfigError(f"task space arm {i} ({arm!r}) needs 'name' and 'env_id' strings "
                              "(and optional 'kwargs')")
        if arm["name"] in names:
            raise ConfigError(f"task space arm name {arm['name']!r} is used twice; names must "
                              "be unique")
        kwargs = arm.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise ConfigError(f"task space arm {arm['name']!r}: kwargs={kwargs!r} must be a dict")
        names.add(arm["name"])
        out.append({"name": arm["name"], "env_id": arm["env_id"], "kwargs": dict(kwargs)})
    return out


class TaskSpaceEnv(TextEnv):
    """Arms of generated tasks behind one env; the seed is ``arm * stride + instance``.

    Args:
        arms: Dicts ``{"name", "env_id", "kwargs"}`` (default :data:`DEFAULT_ARMS`).
        stride: Task ids per arm (instances ``0 .. stride-1``).

        >>> env = TaskSpaceEnv(arms=[{"name": "tiny", "env_id": "FrozenLake-random-v0",
        ...                           "kwargs": {"size": 3}}])
        >>> env.arm_of(env.task_id("tiny", 5))
        ('tiny', 5)
    """

    def __init__(self, arms: Sequence[Mapping[str, Any]] | None = None,
                 stride: int = STRIDE) -> None:
        super().__init__()
        self.arms = validate_arms(DEFAULT_ARMS if arms is None else arms)
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1 \
                or stride * len(self.arms) > MAX_SEED:
            raise ConfigError(f"stride={stride!r} must be a positive int with "
                              f"stride * {len(self.arms)} arms <= {MAX_SEED}")
        self.stride = stride
        self._envs: dict[int, TextEnv] = {}
        self._current: TextEnv | None = None
        self._arm = 0
        self._instance = 0

    @property
    def arm_names(self) -> list[str]:
        """The arms' names, in task-id order."""
        return [a["name"] for a in self.arms]

    def task_id(self, arm: str | int, instance: int) -> int:
        """The reset seed of ``instance`` of ``arm`` (a name or an index).

        >>> TaskSpaceEnv().task_id("lake-5x5", 3)
        1000003
        """
        index = self.arm_names.index(arm) if arm in self.arm_names else arm
        if not isinstance(index, int) or not 0 <= index < len(self.arms):
            raise ConfigError(f"arm={arm!r} is not in the task space; use one of "
                              f"{self.arm_names}")
        if not 0 <= instance < self.stride:
            raise ConfigError(f"instance={instance} must be in [0, {self.stride})")
        return index * self.stride + instance

    def arm_of(self, task_id: int) -> tuple[str, int]:
        """``(arm name, instance)`` of a task id; ids past the last arm wrap around (so any
        seed, such as the ones Gymnasium's reset draws, names a task).

        >>> env = TaskSpaceEnv(); env.arm_of(len(env.arms) * env.stride + 3)
        ('lake-4x4', 3)
        """
        index, instance = divmod(int(task_id) % (len(self.arms) * self.stride), self.stride)
        return self.arms[index]["name"], instance

    def category(self, task_id: int) -> str:
        """The arm name of a task id (what curricula group tasks by)."""
        return self.arm_of(task_id)[0]

    def _env(self, index: int) -> TextEnv:
        if index not in self._envs:
            arm = self.arms[index]
            self._envs[index] = make(arm["env_id"], max_episode_steps=None, **arm["kwargs"])
        return self._envs[index]

    @property
    def current(self) -> TextEnv:
        """The arm env of the running task."""
        if self._current is None:
            raise EnvironmentFault("TaskSpaceEnv: call reset() before step() or render()")
        return self._current

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        """Start task ``seed`` (a task id); no seed draws one from the env's generator."""
        checked = validate_seed(seed)
        if checked is None:
            checked = self.task_id(int(self.np_random.integers(len(self.arms))),
                                   int(self.np_random.integers(self.stride)))
        name, instance = self.arm_of(checked)
        self._arm, self._instance = self.arm_names.index(name), instance
        self._current = self._env(self._arm)
        obs, info = self._current.reset(seed=instance, options=options)
        return obs, self._tag(info)

    def step(self, action: str) -> StepResult:
        """The running task's step."""
        obs, reward, terminated, truncated, info = self.current.step(action)
        return obs, reward, terminated, truncated, self._tag(info)

    def _tag(self, info: dict[str, Any]) -> dict[str, Any]:
        arm = self.arms[self._arm]
        return {**info, "category": arm["name"], "arm_kwargs": dict(arm["kwargs"])}

    def render(self) -> str:
        """The running task's state."""
        return self.current.render()

    def portable_view(self) -> dict[str, Any] | None:
        """The running task's view (None before a reset)."""
        return self._current.portable_view() if self._current is not None else None

    def action_vocabulary(self) -> list[str] | None:
        """Every arm's actions together (None when an arm's are open-ended).

        >>> TaskSpaceEnv().action_vocabulary()[:4]
        ['left', 'down', 'right', 'up']
        """
        words: list[str] = []
        for index in range(len(self.arms)):
            vocabulary = self._env(index).action_vocabulary()
            if vocabulary is None:
                return None
            words.extend(w for w in vocabulary if w not in words)
        return words

    def close(self) -> None:
        """Close every arm env made so far."""
        for env in self._envs.values():
            env.close()


def task_space_layout(env: TaskSpaceEnv) -> str:
    """The running task's layout for distinct task sets: the arm's name, then the arm game's
    own layout when it has a reader (else the instance number).

    >>> env = TaskSpaceEnv(); _ = env.reset(seed=env.task_id("lake-4x4", 0))
    >>> task_space_layout(env).splitlines()[:2]
    ['lake-4x4', 'SFHF']
    """
    inner = env.current.unwrapped
    reader = LAYOUTS.get(type(inner))
    own = reader(inner) if reader is not None else f"instance {env._instance}"
    return f"{env.arms[env._arm]['name']}\n{own}"


register_layout(TaskSpaceEnv, task_space_layout)
