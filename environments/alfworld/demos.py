"""Demonstrations for ALFWorld: the train split's stored walkthroughs, or alfworld's expert.

Each demo is *played* in :class:`ALFWorldEnv`, so its observations, admissible actions and views
are exactly what an agent sees; every :class:`~memplay.types.Step` carries the portable view in
``info["view"]`` and its state text in ``info["state"]``, and the trajectory's metadata says
``{"provenance": "demo", "source": ..., "game": ..., "task_type": ...}``.

Playing all 3,553 train games takes a while (about 2 s to load a game, 0.1-0.3 s a step), so
:func:`alfworld_demos` writes each finished demo to a JSONL cache as it goes (one trajectory per
line, appended whole and flushed; a partial last line left by a crash is dropped on resume),
plays games in worker processes, and takes a subset (games per task type) for tests.

    >>> demos = alfworld_demos("train", per_task_type=1, cache="demos.jsonl")  # doctest: +SKIP
    >>> demo_statistics(demos)["games"]                                      # doctest: +SKIP
    6
"""

from __future__ import annotations

import multiprocessing
import os
import random
import zlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from memplay.environments.alfworld.env import (
    TASK_TYPES,
    ALFWorldEnv,
    alfworld_data_dir,
    collect_games,
    task_type_of,
)
from memplay.environments.alfworld.view import VIEW_VERSION, AlfredTracker
from memplay.errors import ConfigError
from memplay.types import Step, Trajectory

__all__ = ["DEMO_SOURCES", "DemoCache", "alfworld_demos", "demo_games", "demo_statistics",
           "play_demo", "revise_views"]

DEMO_SOURCES = ("walkthrough", "expert")
ENV_ID = "ALFWorld-v0"


def demo_games(split: str = "train", per_task_type: int | None = None,
               data_dir: str | None = None,
               task_types: Sequence[str] = TASK_TYPES,
               exclude: Collection[str] = ()) -> list[str]:
    """The game files of a split; with ``per_task_type``, that many per type, evenly spread
    over the games not in ``exclude``.

        >>> len(demo_games("train", per_task_type=2))  # doctest: +SKIP
        12
    """
    if per_task_type is not None and (isinstance(per_task_type, bool)
                                      or not isinstance(per_task_type, int) or per_task_type < 1):
        raise ConfigError(f"per_task_type={per_task_type!r} must be a positive int or None")
    root = alfworld_data_dir(data_dir, split)
    games = [g for g in collect_games(str(root), split, tuple(task_types)) if g not in exclude]
    if per_task_type is None:
        return games
    chosen: list[str] = []
    for task_type in task_types:
        pool = [g for g in games if task_type_of(g) == task_type]
        step = max(1, len(pool) // per_task_type)
        chosen.extend(pool[::step][:per_task_type])
    return sorted(chosen)


def _expert_seed(key: str) -> int:
    # the handcoded expert breaks ties with `random`; a seed per game makes demos repeatable
    return zlib.crc32(key.encode("utf-8"))


def play_demo(env: ALFWorldEnv, game_file: str, source: str = "walkthrough",
              max_steps: int = 50) -> Trajectory:
    """Play one game by its walkthrough or by alfworld's handcoded expert; return the episode.

    The expert's opening ``look`` (its way to read the room) changes nothing in the game and is
    played but not recorded, so no demo teaches "look" at the start.

        >>> env = ALFWorldEnv(split="train")                             # doctest: +SKIP
        >>> play_demo(env, env.games[0]).success                         # doctest: +SKIP
        True
    """
    if source not in DEMO_SOURCES:
        raise ConfigError(f"source={source!r} is unknown; use one of {list(DEMO_SOURCES)}")
    if source == "expert" and not env.expert:
        raise ConfigError("source='expert' needs ALFWorldEnv(expert=True)")
    key = os.path.relpath(game_file, env.root)
    random.seed(_expert_seed(key))
    obs, info = env.reset(options={"game": game_file})
    plan = iter(env.walkthrough()) if source == "walkthrough" else None
    if plan is None and info.get("expert_action") == "look":
        _, _, _, _, info = env.step("look")
    steps: list[Step] = []
    reward, done = 0.0, False
    while not done and len(steps) < max_steps:
        action = next(plan, None) if plan is not None else info.get("expert_action")
        if action is None or action not in info["admissible_actions"]:
            break
        view = info["view"]
        steps.append(Step(observation=obs, action=action, admissible_actions=list(
            info["admissible_actions"]), info={"view": view, "state": view["state"]}))
        obs, reward, done, _, info = env.step(action)
        steps[-1].reward = float(reward)
    return Trajectory(env_id=ENV_ID, goal=info["goal"], steps=steps, success=bool(info["won"]),
                      total_reward=sum(s.reward for s in steps),
                      metadata={"provenance": "demo", "source": source, "game": key,
                                "task_type": task_type_of(game_file),
                                "view_version": VIEW_VERSION})


def revise_views(demo: Trajectory) -> Trajectory:
    """The demo with every step's view recomputed by today's :class:`AlfredTracker`.

    The view is a function of the text the agent saw (goal, first observation, then each
    action and the observation after it), all of which a demo stores, so an older demo does
    not need to be played again when the view changes.

        >>> from memplay.types import Step
        >>> old = Trajectory(env_id="ALFWorld-v0", goal="put a apple in fridge", steps=[Step(
        ...     observation="you see a fridge 1.", action="go to fridge 1",
        ...     admissible_actions=["go to fridge 1"], info={"view": {}, "state": ""})])
        >>> revise_views(old).steps[0].info["view"]["actions"]["go to fridge 1"]["kind"]
        'go to fridge'
    """
    if not demo.steps:
        return demo
    tracker = AlfredTracker(demo.goal, demo.steps[0].observation)
    steps = []
    for number, step in enumerate(demo.steps):
        view = tracker.view(step.admissible_actions)
        steps.append(step.model_copy(update={"info": {**step.info, "view": view,
                                                      "state": view["state"]}}))
        following = demo.steps[number + 1].observation if number + 1 < len(demo.steps) else ""
        tracker.update(step.action, following)
    return demo.model_copy(update={"steps": steps, "metadata": {
        **demo.metadata, "view_version": VIEW_VERSION}})


class DemoCache:
    """A JSONL file of demo trajectories, keyed by (source, game path under the data folder).

    Each line is one :class:`Trajectory` as JSON; a line is appended whole and flushed to disk
    before the next, so a crash can only leave a partial *last* line, which is dropped.

        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "demos.jsonl")
        >>> cache = DemoCache(path)
        >>> cache.append(Trajectory(env_id="ALFWorld-v0", metadata={
        ...     "source": "walkthrough", "game": "g/1", "view_version": VIEW_VERSION}))
        >>> DemoCache(path).current(("walkthrough", "g/1")) is not None
        True
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.items: dict[tuple[str, str], Trajectory] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):  # a crash mid-append: drop the partial tail
            with self.path.open("r+b") as handle:
                handle.truncate(len(complete))
        for number, line in enumerate(complete.decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                trajectory = Trajectory.model_validate_json(line)
            except ValueError as exc:
                raise ConfigError(f"{self.path}:{number}: not a demo trajectory ({exc}); "
                                  "delete the file or that line to rebuild it") from exc
            self.items[self.key(trajectory)] = trajectory

    @staticmethod
    def key(trajectory: Trajectory) -> tuple[str, str]:
        """The cache key of a demo: (source, game path relative to the data folder)."""
        meta = trajectory.metadata
        return str(meta.get("source", "")), str(meta.get("game", ""))

    def __contains__(self, key: object) -> bool:
        return key in self.items

    def current(self, key: tuple[str, str]) -> Trajectory | None:
        """The cached demo for ``key`` (views recomputed if recorded with an older view)."""
        found = self.items.get(key)
        if found is not None and found.metadata.get("view_version") != VIEW_VERSION:
            found = self.items[key] = revise_views(found)
        return found

    def __len__(self) -> int:
        return len(self.items)

    def append(self, trajectory: Trajectory) -> None:
        """Write one demo at the end of the file (whole line, flushed and synced)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = trajectory.model_dump_json() + "\n"
        with self.path.open("ab") as handle:
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        self.items[self.key(trajectory)] = trajectory


# ---- worker processes -------------------------------------------------------------------------
_WORKER_ENV: ALFWorldEnv | None = None


def _worker_start(split: str, data_dir: str, expert: bool) -> None:
    global _WORKER_ENV
    _WORKER_ENV = ALFWorldEnv(split=split, data_dir=data_dir, expert=expert)


def _worker_play(job: tuple[str, str, int]) -> str:
    game_file, source, max_steps = job
    if _WORKER_ENV is None:
        raise RuntimeError("demo worker used before its environment was built")
    return play_demo(_WORKER_ENV, game_file, source, max_steps).model_dump_json()


def _played(split: str, root: str, games: list[str], source: str, max_steps: int,
            workers: int) -> Iterator[Trajectory]:
    """Play ``games`` in order, in this process or in ``workers`` spawned processes."""
    expert = source == "expert"
    jobs = [(g, source, max_steps) for g in games]
    if workers <= 1 or len(games) <= 1:
        _worker_start(split, root, expert)
        for job in jobs:
            yield Trajectory.model_validate_json(_worker_play(job))
        return
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(min(workers, len(games)), initializer=_worker_start,
                        initargs=(split, root, expert))
    finished = False
    try:
        for text in pool.imap(_worker_play, jobs, chunksize=1):
            yield Trajectory.model_validate_json(text)
        finished = True
    finally:
        if finished:
            pool.close()
        else:  # the caller stopped early or a worker failed: stop the others now
            pool.terminate()
        pool.join()


def alfworld_demos(split: str = "train", games: Iterable[str | int] | None = None,
                   source: str = "walkthrough", *, per_task_type: int | None = None,
                   data_dir: str | None = None, cache: str | os.PathLike[str] | None = None,
                   workers: int = 1, max_steps: int = 50) -> Iterator[Trajectory]:
    """Demo trajectories of a split, played in the real environment, in game order.

    Args:
        split: "train" (the demonstrations of issue 16) or an eval split.
        games: Game files or indices into the split's games (default: all, or a subset).
        source: "walkthrough" (the stored solution) or "expert" (alfworld's handcoded expert).
        per_task_type: Take only this many games per task type (evenly spread).
        cache: JSONL file: demos found there are not played again, new ones are appended.
        workers: Worker processes that play games in parallel (spawned; 1 plays in-process).
        max_steps: Stop a demo after this many steps (the expert can wander).

        >>> next(alfworld_demos("train", games=[0])).metadata["provenance"]  # doctest: +SKIP
        'demo'
    """
    if source not in DEMO_SOURCES:
        raise ConfigError(f"source={source!r} is unknown; use one of {list(DEMO_SOURCES)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r} must be an int >= 1")
    root = str(alfworld_data_dir(data_dir, split))
    chosen = _choose_games(split, games, per_task_type, root)
    store = DemoCache(cache) if cache is not None else None
    key_of = {g: (source, os.path.relpath(g, root)) for g in chosen}
    cached = {g: store.current(key_of[g]) for g in chosen} if store is not None else {}
    missing = [g for g in chosen if cached.get(g) is None]
    fresh = _played(split, root, missing, source, max_steps, workers) if missing else iter(())
    for game in chosen:
        found = cached.get(game)
        if found is not None:
            yield found
            continue
        trajectory = next(fresh)
        if store is not None:
            store.append(trajectory)
        yield trajectory


def _choose_games(split: str, games: Iterable[str | int] | None, per_task_type: int | None,
                  root: str) -> list[str]:
    if games is None:
        return demo_games(split, per_task_type, root)
    if per_task_type is not None:
        raise ConfigError("pass either games= or per_task_type=, not both")
    every = collect_games(root, split, TASK_TYPES)
    chosen = []
    for game in games:
        if isinstance(game, int) and not isinstance(game, bool) and 0 <= game < len(every):
            chosen.append(every[game])
        elif isinstance(game, str) and game in every:
            chosen.append(game)
        else:
            raise ConfigError(f"game {game!r} is not a game of split {split!r}; pass an index "
                              f"in 0..{len(every) - 1} or a path from demo_games()")
    return chosen


def demo_statistics(trajectories: Iterable[Trajectory]) -> dict[str, Any]:
    """Count, success rate and mean length of demos, overall and per task type.

        >>> t = Trajectory(env_id="ALFWorld-v0", success=True,
        ...                metadata={"task_type": "look_at_obj_in_light"})
        >>> demo_statistics([t])["per_task_type"]["look_at_obj_in_light"]["success_rate"]
        1.0
    """
    groups: dict[str, list[Trajectory]] = {}
    for trajectory in trajectories:
        groups.setdefault(str(trajectory.metadata.get("task_type", "unknown")), []).append(
            trajectory)
    per_type = {name: _summary(items) for name, items in sorted(groups.items())}
    everything = [t for items in groups.values() for t in items]
    return {**_summary(everything), "per_task_type": per_type}


def _summary(items: list[Trajectory]) -> dict[str, Any]:
    count = len(items)
    return {"games": count,
            "success_rate": sum(t.success for t in items) / count if count else 0.0,
            "mean_steps": sum(len(t.steps) for t in items) / count if count else 0.0}

