"""A no-LLM ALFWorld baseline built from demonstrations (a benchmark row, never the agent).

Issue 16 asks a learning agent to beat what plain statistics of the demonstrations already do.
:func:`fit_baseline` reads demo trajectories (:mod:`memplay.environments.alfworld.demos`) and
keeps two things:

- per task type, the usual sequence of *goal actions* with objects abstracted
  (``take OBJ``, ``clean OBJ``, ``move OBJ``, ``use LAMP``...), navigation left out;
- per object class (and per floor plan), at which receptacle class each goal action was done
  (apples are taken from countertops, fridges...; the desk lamp is used at desks, sidetables...).

:class:`BaselinePolicy` then plays a game by walking that sequence: it does the next goal action
when it is admissible, and otherwise searches receptacles in the order of those statistics
(this floor plan first, then the object class anywhere, then every other receptacle), opening
closed ones. It reads only the text of the episode (an :class:`AlfredTracker` of its own).
:func:`evaluate_baseline` plays games in worker processes
(:mod:`memplay.environments.executors.workers`).

    >>> stats = fit_baseline([])                      # no demos: search everything in order
    >>> stats.sequence("pick_and_place_simple")
    ['take', 'move']
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memplay.environments.alfworld.env import floorplan_of, task_type_of
from memplay.environments.alfworld.view import AlfredTracker, object_class, parse_goal
from memplay.environments.executors.workers import EnvRecipe, EnvWorkers, LocalEnvs, ProcessEnvs
from memplay.errors import ConfigError, EnvironmentFault
from memplay.types import Trajectory

__all__ = ["BaselinePolicy", "BaselineStats", "evaluate_baseline", "fit_baseline"]

# The goal actions of ALFWorld and the part of the action naming where it was done.
_GOAL_VERBS = ("take", "clean", "heat", "cool", "move", "use")
# Used when no demo of a task type was seen (the task types' definitions).
_DEFAULT_SEQUENCES = {
    "pick_and_place_simple": ["take", "move"],
    "look_at_obj_in_light": ["take", "use"],
    "pick_clean_then_place_in_recep": ["take", "clean", "move"],
    "pick_heat_then_place_in_recep": ["take", "heat", "move"],
    "pick_cool_then_place_in_recep": ["take", "cool", "move"],
    "pick_two_obj_and_place": ["take", "move", "take", "move"],
}


def _goal_action(action: str, at: str | None) -> tuple[str, str, str] | None:
    """(verb, object class, receptacle class where it happened) for a goal action, else None.

        >>> _goal_action("take apple 1 from fridge 1", None)
        ('take', 'apple', 'fridge')
        >>> _goal_action("use desklamp 1", "sidetable 2")
        ('use', 'desklamp', 'sidetable')
    """
    verb, _, rest = action.partition(" ")
    if verb not in _GOAL_VERBS:
        return None
    if verb == "use":
        return verb, object_class(rest), object_class(at) if at else "start"
    separator = {"take": " from ", "move": " to "}.get(verb, " with ")
    obj, _, place = rest.partition(separator)
    return verb, object_class(obj), object_class(place)


@dataclass
class BaselineStats:
    """What the demos say: goal-action sequences per task type, and where goal actions happen.

    ``where[(verb, object_class)]`` and ``where_plan[(verb, object_class, floorplan)]`` count
    receptacle classes. JSON round trip: :meth:`to_json` / :meth:`from_json`.

        >>> s = BaselineStats()
        >>> s.where_counts("take", "apple", "1")
        {}
    """

    sequences: dict[str, Counter[tuple[str, ...]]] = field(
        default_factory=lambda: defaultdict(Counter))
    where: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter))
    where_plan: dict[tuple[str, str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter))
    demos: int = 0

    def sequence(self, task_type: str) -> list[str]:
        """The most frequent goal-action sequence of a task type (the definition if unseen)."""
        counts = self.sequences.get(task_type)
        if counts:
            return list(counts.most_common(1)[0][0])
        return list(_DEFAULT_SEQUENCES.get(task_type, ["take", "move"]))

    def where_counts(self, verb: str, obj: str, floorplan: str) -> dict[str, float]:
        """Receptacle class -> score; this floor plan's counts outweigh the object's overall."""
        scores: dict[str, float] = {}
        for place, count in self.where.get((verb, obj), Counter()).items():
            scores[place] = float(count)
        for place, count in self.where_plan.get((verb, obj, floorplan), Counter()).items():
            scores[place] = scores.get(place, 0.0) + 1000.0 * count
        return scores

    def to_json(self) -> str:
        """The statistics as JSON text (keys joined with '|')."""
        return json.dumps({
            "demos": self.demos,
            "sequences": {t: [[list(s), n] for s, n in c.items()]
                          for t, c in self.sequences.items()},
            "where": {"|".join(k): dict(c) for k, c in self.where.items()},
            "where_plan": {"|".join(k): dict(c) for k, c in self.where_plan.items()},
        })

    @classmethod
    def from_json(cls, text: str) -> BaselineStats:
        """Read :meth:`to_json` output back.

            >>> BaselineStats.from_json(fit_baseline([]).to_json()).demos
            0
        """
        data = json.loads(text)
        stats = cls(demos=int(data["demos"]))
        for task_type, rows in data["sequences"].items():
            stats.sequences[task_type] = Counter({tuple(s): int(n) for s, n in rows})
        for key, counts in data["where"].items():
            verb, obj = key.split("|")
            stats.where[(verb, obj)] = Counter(counts)
        for key, counts in data["where_plan"].items():
            verb, obj, plan = key.split("|")
            stats.where_plan[(verb, obj, plan)] = Counter(counts)
        return stats


def fit_baseline(demos: Iterable[Trajectory]) -> BaselineStats:
    """Count goal-action sequences and places from successful demo trajectories.

        >>> from memplay.types import Step
        >>> demo = Trajectory(env_id="ALFWorld-v0", success=True, metadata={
        ...     "task_type": "pick_and_place_simple", "game": "x/pick-Apple-None-Fridge-7/t/g"},
        ...     steps=[Step(observation="", action=a) for a in (
        ...         "go to countertop 1", "take apple 1 from countertop 1",
        ...         "go to fridge 1", "move apple 1 to fridge 1")])
        >>> fit_baseline([demo]).where_counts("take", "apple", "7")
        {'countertop': 1001.0}
    """
    stats = BaselineStats()
    for demo in demos:
        if not demo.success:
            continue
        stats.demos += 1
        task_type = str(demo.metadata.get("task_type", "unknown"))
        plan = floorplan_of(str(demo.metadata.get("game", "")))
        at: str | None = None
        sequence = []
        for step in demo.steps:
            if step.action.startswith("go to "):
                at = step.action[len("go to "):]
            goal = _goal_action(step.action, at)
            if goal is None:
                continue
            verb, obj, place = goal
            sequence.append(verb)
            stats.where[(verb, obj)][place] += 1
            stats.where_plan[(verb, obj, plan)][place] += 1
        stats.sequences[task_type][tuple(sequence)] += 1
    return stats


class BaselinePolicy:
    """Plays one ALFWorld episode from :class:`BaselineStats` (see the module docstring).

    Call :meth:`act` with each observation and the admissible actions; it keeps its own
    tracker of the episode.

        >>> intro = "you see a countertop 1, and a fridge 1."
        >>> policy = BaselinePolicy(fit_baseline([]), "put a apple in fridge", intro, "1")
        >>> policy.act(["go to countertop 1", "go to fridge 1", "look"])
        'go to countertop 1'
    """

    def __init__(self, stats: BaselineStats, goal: str, intro: str, floorplan: str) -> None:
        self.stats, self.floorplan = stats, floorplan
        self.tracker = AlfredTracker(goal, intro)
        self.task = parse_goal(goal)
        self.plan = stats.sequence(self.task.task_type)
        self.done = 0  # goal actions of the plan completed so far
        self._last: str | None = None

    def observe(self, feedback: str) -> None:
        """Take in the feedback of the last action (advances the plan when a goal action worked)."""
        if self._last is None:
            return
        self.tracker.update(self._last, feedback)
        worked = not feedback.startswith("Nothing happens")
        if worked and self.done < len(self.plan) and self._last.startswith(self.plan[self.done]):
            self.done += 1

    def act(self, admissible: Sequence[str]) -> str:
        """The next action: the plan's goal action if admissible, else a search move."""
        verb = self.plan[self.done] if self.done < len(self.plan) else "move"
        action = self._goal_now(verb, admissible) or self._navigate(verb, admissible)
        self._last = action
        return action

    # ---- goal actions ---------------------------------------------------------------------

    def _goal_now(self, verb: str, admissible: Sequence[str]) -> str | None:
        task, held = self.task, self.tracker.held
        for action in admissible:
            goal = _goal_action(action, self.tracker.at)
            if goal is None or goal[0] != verb:
                continue
            _, obj, place = goal
            if verb == "take" and obj == task.obj and not self._placed(action):
                return action
            if verb == "use" and obj == task.lamp:
                return action
            if verb == "move" and held and object_class(held) == task.obj and place == task.parent:
                return action
            if verb in {"clean", "heat", "cool"} and held and object_class(held) == task.obj:
                return action
        return None

    def _placed(self, take_action: str) -> bool:
        obj = take_action[len("take "):].partition(" from ")[0]
        return obj in self.tracker.placed

    # ---- search ---------------------------------------------------------------------------

    def _navigate(self, verb: str, admissible: Sequence[str]) -> str:
        here = self.tracker.at
        if here is not None and self.tracker.closed.get(here) and f"open {here}" in admissible:
            return f"open {here}"
        goes = [a[len("go to "):] for a in admissible if a.startswith("go to ")]
        for place in self._order(verb, goes):
            return f"go to {place}"
        return "look" if "look" in admissible else admissible[0]

    def _order(self, verb: str, places: list[str]) -> list[str]:
        """Where to go next for the plan's next goal action."""
        task, tracker = self.task, self.tracker
        if verb == "move" or verb in _PROCESS_VERBS:
            scores = self.stats.where_counts(verb, task.obj, self.floorplan)
            wanted = {task.parent} if verb == "move" else set(scores) | {_device(task)}
            fitting = [p for p in places if object_class(p) in wanted]
            if fitting:
                return sorted(fitting, key=lambda p: (p in tracker.visited,
                                                      -scores.get(object_class(p), 0.0)))
        sought = task.lamp if verb == "use" else task.obj
        scores = self.stats.where_counts(verb, sought, self.floorplan)
        known = [p for p in places if any(object_class(o) == sought and o not in tracker.placed
                                          for o in tracker.contents.get(p, []))]
        fresh = [p for p in places if p not in tracker.contents]
        fresh.sort(key=lambda p: -scores.get(object_class(p), 0.0))
        return known + fresh


_PROCESS_VERBS = ("clean", "heat", "cool")


def _device(task: Any) -> str:
    process = task.process
    return process[2] if process else ""


# ---- evaluation -------------------------------------------------------------------------------

def evaluate_baseline(stats: BaselineStats, games: Sequence[str], split: str,
                      max_steps: int = 30, workers: int = 2,
                      data_dir: str | None = None) -> list[dict[str, Any]]:
    """Play each game once with :class:`BaselinePolicy`; one result row per game, in order.

    Games run ``workers`` at a time in worker processes (in this process when ``workers`` is
    1); each row has ``game``, ``task_type``, ``success``, ``steps`` and ``error``.

        >>> rows = evaluate_baseline(stats, games[:2], "eval_in_distribution")  # doctest: +SKIP
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r} must be an int >= 1")
    kwargs: dict[str, Any] = {"split": split, "max_episode_steps": max_steps}
    if data_dir is not None:
        kwargs["data_dir"] = data_dir
    recipe = EnvRecipe("ALFWorld-v0", kwargs)
    slots = min(workers, len(games)) or 1
    envs: EnvWorkers = (ProcessEnvs(recipe, slots) if workers > 1 else LocalEnvs(recipe, 1))
    try:
        return _play_all(envs, slots, stats, list(games))
    finally:
        envs.close()


def _play_all(envs: EnvWorkers, slots: int, stats: BaselineStats,
              games: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{} for _ in games]
    queue = list(range(len(games)))
    running: dict[int, tuple[int, BaselinePolicy, dict[str, Any]]] = {}
    while queue or running:
        idle = [s for s in range(slots) if s not in running][: len(queue)]
        starting = [queue.pop(0) for _ in idle]
        resets = envs.reset_many(idle, options=[{"game": games[g]} for g in starting])
        for slot, game, result in zip(idle, starting, resets):
            if isinstance(result, EnvironmentFault):
                rows[game] = _row(games[game], False, 0, str(result))
                continue
            obs, info = result
            policy = BaselinePolicy(stats, info["goal"], obs, floorplan_of(games[game]))
            running[slot] = (game, policy, info)
        order = sorted(running)
        actions = [running[s][1].act(running[s][2]["admissible_actions"]) for s in order]
        for slot, result in zip(order, envs.step_many(order, actions)):
            game, policy, _ = running[slot]
            if isinstance(result, EnvironmentFault):
                rows[game] = _row(games[game], False, policy.done, str(result))
                del running[slot]
                continue
            obs, _, terminated, truncated, info = result
            policy.observe(obs)
            running[slot] = (game, policy, info)
            if terminated or truncated:
                rows[game] = _row(games[game], bool(info["success"]), int(info["steps"]), None)
                del running[slot]
    return rows


def _row(game: str, success: bool, steps: int, error: str | None) -> dict[str, Any]:
    return {"game": os.path.join(*Path(game).parts[-4:]), "task_type": task_type_of(game),
            "success": success, "steps": steps, "error": error}
