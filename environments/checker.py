"""``check_env``: verify that an environment keeps the memplay text-environment contract.

It checks return types and ``info`` keys, that the same seed replays the same episode, that
admissible actions are accepted, that invalid actions change nothing and are counted, and that
an out-of-range seed is refused. When ``info`` carries a portable ``view``, it checks its
structure (keys, one entry per admissible action, strings, JSON) and that it replays too.
It raises :class:`EnvironmentFault` naming the first broken rule.

    >>> from memplay.environments import make, check_env
    >>> check_env(make("FrozenLake-4x4-v0"))
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from memplay.environments.core import StepResult, TextEnv
from memplay.environments.view import view_problem
from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["INVALID_PROBES", "check_env"]

INVALID_PROBES = ("", "   ", "xyzzy plugh 42", "!@#$%^&*()", "left" * 50, "\x00\x07")
_INFO_TYPES: dict[str, type | tuple[type, ...]] = {
    "goal": str, "admissible_actions": list, "invalid_actions": int, "success": bool,
}


def check_env(env: TextEnv, *, seed: int = 0, rollout_steps: int = 20,
              probe_actions: int = 3) -> None:
    """Run every contract check on ``env``; raise EnvironmentFault on the first failure.

    Args:
        env: The environment (wrapped or not) to check; it is left freshly reset.
        seed: Reset seed used by the checks.
        rollout_steps: Length of the random rollouts compared for reproducibility.
        probe_actions: How many admissible first actions are tried one by one.

        >>> from memplay.environments import make
        >>> check_env(make("FrozenLake-8x8-v0"), rollout_steps=5)
    """
    if not isinstance(env, TextEnv):
        raise EnvironmentFault(f"check_env needs a TextEnv, got {type(env).__name__}")
    name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    _check_reset(env, seed, name)
    _check_seed_validation(env, name)
    _check_reproducible(env, seed, rollout_steps, name)
    _check_admissible(env, seed, probe_actions, name)
    _check_invalid(env, seed, name)
    env.reset(seed=seed)


def _fail(name: str, message: str) -> EnvironmentFault:
    return EnvironmentFault(f"check_env({name}): {message}")


def _check_info(info: object, name: str, where: str) -> dict[str, Any]:
    if not isinstance(info, dict):
        raise _fail(name, f"{where} returned info of type {type(info).__name__}, not dict")
    for key, kind in _INFO_TYPES.items():
        if not isinstance(info.get(key), kind):
            raise _fail(name, f"{where}: info[{key!r}]={info.get(key)!r} is not {kind}")
    if not all(isinstance(a, str) for a in info["admissible_actions"]):
        raise _fail(name, f"{where}: info['admissible_actions'] holds non-strings")
    if "view" in info:
        problem = view_problem(info["view"], info["admissible_actions"])
        if problem is not None:
            joint = "" if problem.startswith("[") else " "
            raise _fail(name, f"{where}: info['view']{joint}{problem} (the portable view "
                              "contract: docs/CONTRACTS.md, 'Portable views')")
    return info


def _view_text(info: dict[str, Any]) -> str:
    return json.dumps(info.get("view"), sort_keys=True)


def _check_step(result: object, name: str, action: str) -> StepResult:
    where = f"step({action!r})"
    if not isinstance(result, tuple) or len(result) != 5:
        raise _fail(name, f"{where} must return (obs, reward, terminated, truncated, info)")
    obs, reward, terminated, truncated, info = result
    if not isinstance(obs, str):
        raise _fail(name, f"{where} returned obs of type {type(obs).__name__}, not str")
    if isinstance(reward, bool) or not isinstance(reward, (int, float, np.floating)):
        raise _fail(name, f"{where} returned reward={reward!r}, not a float")
    if not isinstance(terminated, bool) or not isinstance(truncated, bool):
        raise _fail(name, f"{where}: terminated/truncated must be bool, got "
                          f"{terminated!r}/{truncated!r}")
    return obs, float(reward), terminated, truncated, _check_info(info, name, where)


def _check_reset(env: TextEnv, seed: int, name: str) -> None:
    result = env.reset(seed=seed)
    if not isinstance(result, tuple) or len(result) != 2 or not isinstance(result[0], str):
        raise _fail(name, "reset() must return (obs: str, info: dict)")
    info = _check_info(result[1], name, "reset()")
    if info["invalid_actions"] != 0:
        raise _fail(name, f"reset() must zero info['invalid_actions'], got "
                          f"{info['invalid_actions']}")
    if not info["goal"].strip():
        raise _fail(name, "reset(): info['goal'] is empty; describe the task in words")


def _check_seed_validation(env: TextEnv, name: str) -> None:
    for bad in (-1, 2**64):
        try:
            env.reset(seed=bad)
        except ConfigError:
            continue
        raise _fail(name, f"reset(seed={bad}) must raise ConfigError (seed out of range)")


def _rollout(env: TextEnv, seed: int, steps: int, name: str) -> list[tuple[Any, ...]]:
    obs, info = env.reset(seed=seed)
    trace: list[tuple[Any, ...]] = [(obs, info["goal"], tuple(info["admissible_actions"]),
                                     _view_text(info))]
    chooser = np.random.default_rng(seed)
    for _ in range(steps):
        choices = info["admissible_actions"]
        if not choices:
            break
        action = choices[int(chooser.integers(len(choices)))]
        before = info["invalid_actions"]
        obs, reward, term, trunc, info = _check_step(env.step(action), name, action)
        if info["invalid_actions"] != before:
            raise _fail(name, f"admissible action {action!r} was counted as invalid")
        trace.append((action, obs, reward, term, trunc, tuple(info["admissible_actions"]),
                      _view_text(info)))
        if term or trunc:
            break
    return trace


def _check_reproducible(env: TextEnv, seed: int, steps: int, name: str) -> None:
    first = _rollout(env, seed, steps, name)
    second = _rollout(env, seed, steps, name)
    if first != second:
        diffs = [i for i, (a, b) in enumerate(zip(first, second)) if a != b]
        at = diffs[0] if diffs else min(len(first), len(second))
        raise _fail(name, f"reset(seed={seed}) is not reproducible: the two rollouts differ "
                          f"at step {at}; draw all randomness from env.np_random")


def _check_admissible(env: TextEnv, seed: int, count: int, name: str) -> None:
    _, info = env.reset(seed=seed)
    for action in list(info["admissible_actions"])[:count]:
        env.reset(seed=seed)
        _, _, _, _, after = _check_step(env.step(action), name, action)
        if after["invalid_actions"] != 0:
            raise _fail(name, f"admissible action {action!r} was rejected as invalid")


def _check_invalid(env: TextEnv, seed: int, name: str) -> None:
    _, info = env.reset(seed=seed)
    expected = 0
    for bad in INVALID_PROBES:
        before, view_before = env.render(), _view_text(info)
        obs, reward, terminated, truncated, info = _check_step(env.step(bad), name, bad)
        expected += 1
        if terminated or reward != 0.0:
            raise _fail(name, f"invalid action {bad!r} ended the episode or gave reward {reward}")
        if env.render() != before:
            raise _fail(name, f"invalid action {bad!r} changed the state")
        if not truncated and _view_text(info) != view_before:
            raise _fail(name, f"invalid action {bad!r} changed info['view']")
        if info["invalid_actions"] != expected or not obs.strip():
            raise _fail(name, f"invalid action {bad!r}: info['invalid_actions'] should be "
                              f"{expected} (got {info['invalid_actions']}) with a non-empty obs")
        if truncated:  # a tight step limit ended the episode: start again and keep probing
            _, info = env.reset(seed=seed)
            expected = 0
