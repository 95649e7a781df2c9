"""EnvSpec: how one registered environment is built (its own module, so the environment base
class can name it without importing the registry).

    >>> EnvSpec("Demo-v0", "memplay.environments.frozenlake.env:FrozenLakeEnv").max_episode_steps
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["EnvSpec"]


@dataclass(frozen=True)
class EnvSpec:
    """How to build one registered environment.

    >>> EnvSpec("Demo-v0", "memplay.environments.frozenlake.env:FrozenLakeEnv").kwargs
    {}
    """

    id: str
    entry_point: str
    max_episode_steps: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
