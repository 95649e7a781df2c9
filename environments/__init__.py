"""Text environments with the Gymnasium contract: registry, checker, wrappers and games.

    >>> from memplay.environments import make, check_env
    >>> env = make("FrozenLake-4x4-v0")
    >>> obs, info = env.reset(seed=0)
    >>> info["goal"].startswith("Walk on the frozen lake")
    True
"""

from memplay.environments.catalog import register_builtin_envs
from memplay.environments.checker import check_env
from memplay.environments.core import TextEnv
from memplay.environments.registry import EnvSpec, list_envs, make, register, registry
from memplay.environments.wrappers import TimeLimit, Wrapper

__all__ = [
    "EnvSpec",
    "TextEnv",
    "TimeLimit",
    "Wrapper",
    "check_env",
    "list_envs",
    "make",
    "register",
    "registry",
]

register_builtin_envs()
