"""Train and held-out task sets whose maps never overlap.

A task is a reset seed. Distinct seeds do not always give distinct maps: FrozenLake's random
4x4 generator keeps most cells frozen, so the empty map and a few near-empty ones come up again
and again (seeds 0-31 and 1000-1031 share 4 maps; 7 of the 32 held-out episodes replay a train
map). :func:`distinct_seeds` walks seeds from a start and keeps those whose *layout* (the map
or level as text) is new, so a held-out set can exclude every train layout.

The benchmark's sets (:func:`benchmark_split`): train = the first 32 seeds from 0 with pairwise
distinct layouts, held-out = the first 32 seeds from 1000 whose layouts are distinct and not in
the train set. For games without a registered layout (Minesweeper places its mines at the first
reveal, so a seed fixes no board; the two-player games have no map) the sets are the plain
ranges 0-31 and 1000-1031.

    >>> train, held_out = benchmark_split("FrozenLake-random-v0", count=4)
    >>> train, held_out
    ([0, 1, 2, 3], [1000, 1001, 1002, 1003])
    >>> layouts = task_layouts("FrozenLake-random-v0", [*train, *held_out])
    >>> len(set(layouts.values()))
    8
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from memplay.environments.core import TextEnv
from memplay.environments.frozenlake.env import FrozenLakeEnv
from memplay.environments.registry import make
from memplay.environments.sokoban.env import SokobanEnv
from memplay.environments.textworld.env import TextWorldGenEnv
from memplay.errors import ConfigError

__all__ = ["HELD_OUT_START", "LAYOUTS", "SET_SIZE", "TRAIN_START", "benchmark_split",
           "distinct_seeds", "register_layout", "task_layouts"]

TRAIN_START, HELD_OUT_START, SET_SIZE = 0, 1000, 32

# game class -> the text of the current map or level (read right after reset)
LAYOUTS: dict[type[TextEnv], Callable[[Any], str]] = {
    FrozenLakeEnv: lambda env: "\n".join(env.desc),
    SokobanEnv: lambda env: env.level.render(),
    TextWorldGenEnv: lambda env: env.layout(),
}


def register_layout(env_cls: type[TextEnv], layout: Callable[[Any], str]) -> None:
    """Declare how to read the layout of ``env_cls`` after a reset (for distinct task sets).

        >>> register_layout(SokobanEnv, LAYOUTS[SokobanEnv])
    """
    LAYOUTS[env_cls] = layout


def task_layouts(env_id: str, seeds: Iterable[int], **env_kwargs: Any) -> dict[int, str]:
    """The layout text of each seed's task.

        >>> task_layouts("FrozenLake-4x4-v0", [0, 1])[1].splitlines()[0]
        'SFFF'
    """
    return dict(_layouts(env_id, seeds, env_kwargs))


def _layouts(env_id: str, seeds: Iterable[int], env_kwargs: dict[str, Any]
             ) -> Iterator[tuple[int, str]]:
    env = make(env_id, **env_kwargs)
    layout = LAYOUTS.get(type(env.unwrapped))
    if layout is None:
        raise ConfigError(f"{env_id}: no layout reader for {type(env.unwrapped).__name__}; "
                          "register_layout(cls, fn) declares one")
    for seed in seeds:
        env.reset(seed=seed)
        yield seed, layout(env.unwrapped)


def distinct_seeds(env_id: str, count: int, start: int = 0, exclude: Iterable[str] = (),
                   max_scan: int = 10_000, **env_kwargs: Any) -> list[int]:
    """The first ``count`` seeds from ``start`` whose layouts are new and not in ``exclude``.

        >>> distinct_seeds("FrozenLake-random-v0", 3, start=5)
        [5, 6, 7]
        >>> distinct_seeds("FrozenLake-4x4-v0", 2, max_scan=20)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        memplay.errors.ConfigError: FrozenLake-4x4-v0: only 1 distinct layouts among seeds 0-19...
    """
    return list(_distinct(env_id, count, start, exclude, max_scan, env_kwargs))


def _distinct(env_id: str, count: int, start: int, exclude: Iterable[str], max_scan: int,
              env_kwargs: dict[str, Any]) -> dict[int, str]:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"count={count!r} must be a positive int")
    seen, chosen = set(exclude), {}
    for seed, text in _layouts(env_id, range(start, start + max_scan), env_kwargs):
        if text not in seen:
            seen.add(text)
            chosen[seed] = text
            if len(chosen) == count:
                return chosen
    raise ConfigError(f"{env_id}: only {len(chosen)} distinct layouts among seeds "
                      f"{start}-{start + max_scan - 1}, {count} wanted; ask for fewer tasks or "
                      "use a random-map env (FrozenLake-random-v0, Sokoban-gen-v0)")


def benchmark_split(env_id: str, count: int = SET_SIZE, held_out_count: int | None = None,
                    **env_kwargs: Any) -> tuple[list[int], list[int]]:
    """The benchmark's (train, held-out) seeds for ``env_id``: no layout is in both.

    ``count`` train tasks and ``held_out_count`` held-out ones (default: as many).
    ``env_kwargs`` go to ``make`` (e.g. ``size=8``). Games without a registered layout get the
    plain ranges from 0 and from 1000.

        >>> benchmark_split("Minesweeper-v0", count=2)
        ([0, 1], [1000, 1001])
        >>> benchmark_split("Minesweeper-v0", count=3, held_out_count=1)
        ([0, 1, 2], [1000])
    """
    held = count if held_out_count is None else held_out_count
    if type(make(env_id, **env_kwargs).unwrapped) not in LAYOUTS:
        return (list(range(TRAIN_START, TRAIN_START + count)),
                list(range(HELD_OUT_START, HELD_OUT_START + held)))
    train = _distinct(env_id, count, TRAIN_START, (), 10_000, env_kwargs)
    held_out = _distinct(env_id, held, HELD_OUT_START, train.values(), 10_000, env_kwargs)
    return list(train), list(held_out)
