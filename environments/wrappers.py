"""Wrappers around a :class:`TextEnv`; ``TimeLimit`` ends episodes after a number of steps.

    >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
    >>> env = TimeLimit(FrozenLakeEnv(), max_episode_steps=2)
    >>> _ = env.reset(seed=0)
    >>> env.step("up")[3], env.step("up")[3]
    (False, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memplay.environments.core import StepResult, TextEnv
from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["TimeLimit", "Wrapper"]


class Wrapper(TextEnv):
    """Forwards everything to the wrapped env; subclasses override what they change.

    Unknown attributes (``shortest_path``, ``board``...) are looked up on the wrapped env.

        >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
        >>> Wrapper(FrozenLakeEnv()).unwrapped.__class__.__name__
        'FrozenLakeEnv'
    """

    def __init__(self, env: TextEnv) -> None:
        if not isinstance(env, TextEnv):
            raise ConfigError(f"{type(self).__name__} wraps a TextEnv, got {type(env).__name__}")
        super().__init__()
        self.env = env

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails; private names are not forwarded on purpose
        if name.startswith("_") or name == "env":
            raise AttributeError(name)
        return getattr(self.env, name)

    @property
    def spec(self) -> Any:  # type: ignore[override]
        """The wrapped env's spec (set by ``make``)."""
        return self.env.spec

    @spec.setter
    def spec(self, value: Any) -> None:
        """Set the spec on the wrapped env, so both views agree."""
        self.env.spec = value

    @property
    def metadata(self) -> dict[str, Any]:  # type: ignore[override]
        """The wrapped env's metadata."""
        return self.env.metadata

    @property
    def np_random(self) -> np.random.Generator:
        """The wrapped env's generator (wrappers draw no randomness of their own)."""
        return self.env.np_random

    @property
    def unwrapped(self) -> TextEnv:
        """The innermost env."""
        return self.env.unwrapped

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Forward to the wrapped env."""
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str) -> StepResult:
        """Forward to the wrapped env."""
        return self.env.step(action)

    def render(self) -> str:
        """Forward to the wrapped env."""
        return self.env.render()

    def close(self) -> None:
        """Forward to the wrapped env."""
        self.env.close()

    def action_vocabulary(self) -> list[str] | None:
        """Forward to the wrapped env."""
        return self.env.action_vocabulary()

    def portable_view(self) -> dict[str, Any] | None:
        """Forward to the wrapped env."""
        return self.env.portable_view()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}{self.env!r}>"


class TimeLimit(Wrapper):
    """Truncate an episode once ``max_episode_steps`` steps (invalid ones included) were taken.

    Invalid actions count on purpose: an agent stuck writing garbage must still end.
    ``info["elapsed_steps"]`` and ``info["max_episode_steps"]`` are added to every info; at
    truncation ``admissible_actions`` becomes empty and ``view`` is dropped.

        >>> from memplay.environments.frozenlake.env import FrozenLakeEnv
        >>> env = TimeLimit(FrozenLakeEnv(), 1)
        >>> _ = env.reset(seed=0)
        >>> env.step("xyz")[4]["elapsed_steps"]
        1
    """

    def __init__(self, env: TextEnv, max_episode_steps: int) -> None:
        if isinstance(max_episode_steps, bool) or not isinstance(max_episode_steps, int) \
                or max_episode_steps < 1:
            raise ConfigError(f"max_episode_steps={max_episode_steps!r} must be a positive int")
        super().__init__(env)
        self.max_episode_steps = max_episode_steps
        self._elapsed: int | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Reset the wrapped env and the step counter."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._elapsed = 0
        return obs, self._with_counts(info)

    def step(self, action: str) -> StepResult:
        """Step the wrapped env; set ``truncated`` once the limit is reached."""
        if self._elapsed is None:
            raise EnvironmentFault("TimeLimit.step() called before reset() or after truncation; "
                                   "call env.reset() first")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._elapsed += 1
        info = self._with_counts(info)
        if self._elapsed >= self.max_episode_steps and not terminated:
            truncated = True
            info["admissible_actions"] = []
            info.pop("view", None)  # views exist only while the episode runs
        if terminated or truncated:
            self._elapsed = None
        return obs, reward, terminated, truncated, info

    def portable_view(self) -> dict[str, Any] | None:
        """The wrapped env's view; None before reset and once the episode was truncated."""
        return None if self._elapsed is None else self.env.portable_view()

    def _with_counts(self, info: dict[str, Any]) -> dict[str, Any]:
        info["elapsed_steps"] = self._elapsed or 0
        info["max_episode_steps"] = self.max_episode_steps
        return info
