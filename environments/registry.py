"""The environment registry: ids mapped to string entry points, and ``make``.

Entry points are strings (``"module:Class"``) so registering imports nothing: ALFWorld's heavy
dependencies load only when someone makes ``ALFWorld-v0``.

    >>> from memplay.environments import make, list_envs
    >>> "FrozenLake-4x4-v0" in list_envs()
    True
    >>> env = make("FrozenLake-4x4-v0")
    >>> env.spec.max_episode_steps
    30
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import replace
from typing import Any

from memplay._lazy import import_target
from memplay.environments.core import TextEnv
from memplay.environments.default_view import DefaultView
from memplay.environments.spec import EnvSpec
from memplay.environments.wrappers import TimeLimit
from memplay.errors import ConfigError, EnvironmentNotFound

__all__ = ["EnvSpec", "list_envs", "load_entry_point", "make", "register", "registry"]


registry: dict[str, EnvSpec] = {}


def register(
    id: str,
    entry_point: str,
    max_episode_steps: int | None = None,
    kwargs: dict[str, Any] | None = None,
) -> EnvSpec:
    """Register an environment id; registering the same spec twice is a no-op.

    >>> from memplay.environments import register, registry
    >>> spec = register("MyLake-v0", "memplay.environments.frozenlake.env:FrozenLakeEnv",
    ...                 max_episode_steps=10, kwargs={"map_name": "8x8"})
    >>> registry["MyLake-v0"].kwargs
    {'map_name': '8x8'}
    """
    if not isinstance(id, str) or not id.strip():
        raise ConfigError(f"environment id={id!r} must be a non-empty string like 'Game-v0'")
    if not isinstance(entry_point, str) or ":" not in entry_point:
        raise ConfigError(f"entry_point={entry_point!r} must be a string 'module.path:ClassName'")
    _check_steps(max_episode_steps, id)
    spec = EnvSpec(id, entry_point, max_episode_steps, dict(kwargs or {}))
    if id in registry and registry[id] != spec:
        raise ConfigError(f"environment id {id!r} is already registered with a different "
                          f"spec ({registry[id].entry_point}); pick another id")
    registry[id] = spec
    return spec


def list_envs() -> list[str]:
    """The registered ids, sorted.

    >>> from memplay.environments import list_envs
    >>> list_envs()[:2]
    ['ALFWorld-v0', 'FrozenLake-4x4-v0']
    """
    return sorted(registry)


def make(id: str, **kwargs: Any) -> TextEnv:
    """Build a registered environment; ``max_episode_steps=`` overrides the spec's limit.

    An env that gives no portable view gets the default one, derived from its text
    (:mod:`~memplay.environments.default_view`); ``view_source="default"`` uses the default
    view even where the env has its own.

    >>> from memplay.environments import make
    >>> env = make("FrozenLake-8x8-v0", max_episode_steps=5)
    >>> env.spec.max_episode_steps
    5
    >>> make("FrozenLake-4x4")
    Traceback (most recent call last):
    ...
    memplay.errors.EnvironmentNotFound: no environment 'FrozenLake-4x4'; did you mean ...
    """
    spec = _lookup(id)
    steps = kwargs.pop("max_episode_steps", spec.max_episode_steps)
    _check_steps(steps, id)
    env_cls = load_entry_point(spec.entry_point)
    merged = {**spec.kwargs, **kwargs}
    source = merged.pop("view_source", "own")
    _check_kwargs(env_cls, merged, id)
    env = DefaultView(env_cls(**merged), source)
    shown = merged if source == "own" else {**merged, "view_source": source}
    env.spec = replace(spec, max_episode_steps=steps, kwargs=shown)
    return TimeLimit(env, steps) if steps is not None else env


def load_entry_point(entry_point: str) -> type[TextEnv]:
    """Import ``"module:Class"`` and return the class.

    >>> load_entry_point("memplay.environments.frozenlake.env:FrozenLakeEnv").__name__
    'FrozenLakeEnv'
    """
    env_cls = import_target(entry_point, "entry_point")
    if not (inspect.isclass(env_cls) and issubclass(env_cls, TextEnv)):
        raise ConfigError(f"entry_point {entry_point!r} is not a TextEnv subclass; fix the "
                          "class name")
    return env_cls


def _lookup(id: str) -> EnvSpec:
    if isinstance(id, str) and id in registry:
        return registry[id]
    text = str(id)
    lowered = {k.lower(): k for k in registry}
    close = difflib.get_close_matches(text, list(registry), n=3, cutoff=0.5)
    close += [lowered[m] for m in difflib.get_close_matches(text.lower(), list(lowered), n=3)
              if lowered[m] not in close]
    hint = f"did you mean {', '.join(repr(c) for c in close[:3])}?" if close else "no close match"
    raise EnvironmentNotFound(f"no environment {text!r}; {hint} "
                              f"(list_envs() shows all {len(registry)} ids)")


def _check_kwargs(env_cls: type[TextEnv], kwargs: dict[str, Any], id: str) -> None:
    params = inspect.signature(env_cls).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    for name in kwargs:
        if name not in params:
            allowed = ", ".join(sorted(params)) or "none"
            raise ConfigError(f"make({id!r}): unknown argument {name!r}; "
                              f"{env_cls.__name__} accepts: {allowed}")


def _check_steps(steps: object, id: str) -> None:
    if steps is None:
        return
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"{id!r}: max_episode_steps={steps!r} must be a positive int or None")
