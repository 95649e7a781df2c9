"""A Gymnasium-facing view of a memplay text environment (``Text`` observations, ``Discrete``
actions), so Gymnasium tools such as ``gymnasium.utils.env_checker.check_env`` can run on it.

Action ``i`` is the i-th entry of the game's ``action_vocabulary()``; observations are the text
observations (non-printable characters replaced by ``?``).

    >>> from memplay.environments import make
    >>> from memplay.environments.gym_adapter import GymnasiumTextEnv
    >>> genv = GymnasiumTextEnv(make("FrozenLake-4x4-v0"))
    >>> int(genv.action_space.n), genv.actions[2]
    (4, 'right')
"""

from __future__ import annotations

import string
from functools import partial
from typing import Any

import gymnasium
from gymnasium import spaces

from memplay.environments.core import TextEnv
from memplay.environments.registry import list_envs, make
from memplay.errors import ConfigError

__all__ = ["CHARSET", "GymnasiumTextEnv", "register_gymnasium_envs"]

CHARSET = string.printable
_ALLOWED = frozenset(CHARSET)


class GymnasiumTextEnv(gymnasium.Env[str, int]):
    """Wrap a :class:`TextEnv` whose action set is finite as a ``gymnasium.Env``.

    Args:
        env: The text environment (its ``action_vocabulary()`` must not be None).
        max_length: Longest observation, in characters, the ``Text`` space allows.

        >>> from memplay.environments import make
        >>> genv = GymnasiumTextEnv(make("FrozenLake-4x4-v0"))
        >>> obs, info = genv.reset(seed=0)
        >>> obs in genv.observation_space
        True
    """

    def __init__(self, env: TextEnv, max_length: int = 8192) -> None:
        vocabulary = env.action_vocabulary()
        if vocabulary is None:
            raise ConfigError(f"{type(env.unwrapped).__name__} has an open-ended action set; "
                              "GymnasiumTextEnv needs a game with action_vocabulary()")
        self.env = env
        self.actions = list(vocabulary)
        self.render_mode = "ansi"
        self.metadata = {"render_modes": ["ansi"], "render_fps": 4}
        self.action_space: spaces.Discrete = spaces.Discrete(len(self.actions))  # type: ignore[assignment]
        self.observation_space = spaces.Text(max_length, min_length=0, charset=CHARSET)
        self._max_length = max_length

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Reset; the inner env is reseeded from this env's generator so seeding is one chain."""
        super().reset(seed=seed)
        obs, info = self.env.reset(seed=int(self.np_random.integers(2**31)), options=options)
        return self._clean(obs), info

    def step(self, action: int) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Apply action index ``action`` (out-of-range indices raise ConfigError)."""
        if not self.action_space.contains(action):
            raise ConfigError(f"action={action!r} is not in Discrete({len(self.actions)}); "
                              f"use an index into {self.actions[:8]}")
        obs, reward, terminated, truncated, info = self.env.step(self.actions[int(action)])
        return self._clean(obs), reward, terminated, truncated, info

    def render(self) -> str:  # type: ignore[override]
        """The current state as text."""
        return self._clean(self.env.render())

    def close(self) -> None:
        """Close the inner env."""
        self.env.close()

    def _clean(self, text: str) -> str:
        cleaned = "".join(ch if ch in _ALLOWED else "?" for ch in text)
        return cleaned[: self._max_length]


def _make_gymnasium(env_id: str, render_mode: str | None = None,
                    **kwargs: Any) -> GymnasiumTextEnv:
    # gymnasium.make passes render_mode; text is the only mode there is
    if render_mode not in (None, "ansi"):
        raise ConfigError(f"render_mode={render_mode!r} is not supported; use 'ansi' or None")
    return GymnasiumTextEnv(make(env_id, **kwargs))


def register_gymnasium_envs(namespace: str = "memplay") -> list[str]:
    """Register every finite-action memplay env in Gymnasium's registry as ``namespace/<id>``.

    ``gymnasium.make`` then builds the Gymnasium view (step limits stay memplay's TimeLimit).
    ALFWorld and TextWorld-gen are left out: their commands are open-ended.

        >>> import gymnasium
        >>> ids = register_gymnasium_envs()
        >>> gymnasium.make("memplay/FrozenLake-4x4-v0").action_space
        Discrete(4)
    """
    registered = []
    for env_id in list_envs():
        if env_id.startswith(("ALFWorld", "TextWorld")):
            continue
        full_id = f"{namespace}/{env_id}"
        if full_id not in gymnasium.registry:
            gymnasium.register(id=full_id, entry_point=partial(_make_gymnasium, env_id))
        registered.append(full_id)
    return registered
