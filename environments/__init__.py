"""Text environments with the Gymnasium contract: registry, checker, wrappers and games.

    >>> from memplay.environments import make, check_env
    >>> env = make("FrozenLake-4x4-v0")
    >>> obs, info = env.reset(seed=0)
    >>> info["goal"].startswith("Walk on the frozen lake")
    True
"""

from memplay.environments.canonical import canonical_action
from memplay.environments.catalog import register_builtin_envs
from memplay.environments.checker import check_env
from memplay.environments.core import TextEnv
from memplay.environments.registry import EnvSpec, list_envs, make, register, registry
from memplay.environments.view import build_view, validate_view
from memplay.environments.wrappers import TimeLimit, Wrapper

__all__ = [
    "EnvSpec",
    "TextEnv",
    "TimeLimit",
    "Wrapper",
    "build_view",
    "canonical_action",
    "check_env",
    "list_envs",
    "make",
    "register",
    "registry",
    "validate_view",
]

register_builtin_envs()
