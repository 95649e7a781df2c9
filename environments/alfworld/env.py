"""ALFWorld (text household tasks) behind the memplay contract, over ``alfworld==0.4.2``.

Game files are collected by alfworld's own ``AlfredTWEnv`` (same splits, task-type filter and
solvable check as the papers); each episode then runs one game in the TextWorld environment
that ``AlfredTWEnv.init_env`` builds for a batch of one (same ``AlfredDemangler`` and
``AlfredInfos`` wrappers), so the game is chosen by us: by index, task type or reset seed.
alfworld is imported lazily, so the rest of memplay works without it.

Data: ``$ALFWORLD_DATA`` (or ``data_dir=``) must contain ``json_2.1.1/<split>``.

    >>> env = ALFWorldEnv(split="eval_in_distribution")       # doctest: +SKIP
    >>> obs, info = env.reset(seed=0)                          # doctest: +SKIP
    >>> info["task_type"] in TASK_TYPES                        # doctest: +SKIP
    True
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import hashlib
import io
import json
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from memplay.environments.alfworld.goals import AchievedGoals
from memplay.environments.alfworld.view import AlfredTracker
from memplay.environments.core import Outcome, TextEnv
from memplay.errors import ConfigError, DataNotFound

__all__ = ["SPLITS", "TASK_TYPES", "ALFWorldEnv", "alfworld_data_dir", "floorplan_of",
           "read_walkthrough", "task_type_of"]

TASK_TYPES = ("pick_and_place_simple", "look_at_obj_in_light", "pick_clean_then_place_in_recep",
              "pick_heat_then_place_in_recep", "pick_cool_then_place_in_recep",
              "pick_two_obj_and_place")
SPLITS = {"train": "train", "eval_in_distribution": "valid_seen", "valid_seen": "valid_seen",
          "eval_out_of_distribution": "valid_unseen", "valid_unseen": "valid_unseen"}
_GET_DATA = ("get the data with `pip install alfworld==0.4.2 && alfworld-download` (needs "
             "internet) or unpack an offline copy, then set ALFWORLD_DATA to the folder that "
             "contains json_2.1.1")
_TASK_RE = re.compile(r"Your task is to:\s*(.+)")


def alfworld_data_dir(data_dir: str | os.PathLike[str] | None = None, split: str = "train") -> Path:
    """The ALFWorld data folder (``data_dir`` or ``$ALFWORLD_DATA``), checked for ``split``.

        >>> alfworld_data_dir("/nonexistent", "train")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        memplay.errors.DataNotFound: ALFWorld data not found: ...
        >>> alfworld_data_dir("/nonexistent", "valid_unsen")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        memplay.errors.ConfigError: split='valid_unsen' is unknown; did you mean 'valid_unseen'? ...
    """
    if split not in SPLITS:
        close = difflib.get_close_matches(str(split), list(SPLITS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(f"split={split!r} is unknown; {hint}use one of {', '.join(SPLITS)}")
    root = data_dir if data_dir is not None else os.environ.get("ALFWORLD_DATA")
    if not root:
        raise DataNotFound(f"ALFWorld data not found: ALFWORLD_DATA is not set; {_GET_DATA}")
    folder = Path(root) / "json_2.1.1" / SPLITS[split]
    if not folder.is_dir():
        raise DataNotFound(f"ALFWorld data not found: {str(folder)!r} does not exist "
                           f"(split {split!r}); {_GET_DATA}")
    return Path(root)


def read_walkthrough(game_file: str | os.PathLike[str]) -> list[str]:
    """The stored solution of a game (``walkthrough`` inside ``game.tw-pddl``).

        >>> read_walkthrough("missing.tw-pddl")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        memplay.errors.DataNotFound: ...
    """
    path = Path(game_file)
    if not path.is_file():
        raise DataNotFound(f"ALFWorld game file {str(path)!r} does not exist; {_GET_DATA}")
    return list(json.loads(path.read_text(encoding="utf-8")).get("walkthrough", []))


def _alfworld_config(root: Path, task_ids: tuple[int, ...]) -> dict[str, Any]:
    base = root / "json_2.1.1"
    return {
        "env": {"type": "AlfredTWEnv", "goal_desc_human_anns_prob": 0.0,
                "domain_randomization": False, "task_types": list(task_ids),
                "expert_type": "handcoded"},
        "dataset": {"data_path": str(base / "train"), "eval_id_data_path": str(base / "valid_seen"),
                    "eval_ood_data_path": str(base / "valid_unseen"),
                    "num_train_games": -1, "num_eval_games": -1},
        "general": {"training_method": "dagger"},
        "dagger": {"training": {"max_nb_steps_per_episode": 50}},
    }


@lru_cache(maxsize=8)
def collect_games(root: str, split: str, task_types: tuple[str, ...]) -> tuple[str, ...]:
    """Game files of a split, filtered by task type, via ``AlfredTWEnv`` (cached per process).

        >>> collect_games("/data/alfworld", "eval_in_distribution", TASK_TYPES)  # doctest: +SKIP
    """
    os.environ.setdefault("ALFWORLD_DATA", root)  # else importing alfworld writes to ~/.cache
    from alfworld.agents.environment.alfred_tw_env import AlfredTWEnv

    ids = tuple(TASK_TYPES.index(t) + 1 for t in task_types)
    train_eval = {"valid_seen": "eval_in_distribution", "valid_unseen":
                  "eval_out_of_distribution"}.get(SPLITS[split], "train")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        files = AlfredTWEnv(_alfworld_config(Path(root), ids), train_eval=train_eval).game_files
    return tuple(sorted(files))


def task_type_of(game_file: str) -> str:
    """The task type of a game file, read from its folder name.

        >>> task_type_of("json_2.1.1/train/pick_and_place_simple-Apple-None-Fridge-1/t/g.tw-pddl")
        'pick_and_place_simple'
    """
    # trial folders are named <task_type>-<Object>-<Movable>-<Parent>-<scene>/trial_...
    name = Path(game_file).parent.parent.name
    return next((t for t in TASK_TYPES if name.startswith(t + "-")), "unknown")


def floorplan_of(game_file: str) -> str:
    """The AI2-THOR floor plan (scene number) of a game file, read from its folder name.

        >>> floorplan_of("valid_seen/look_at_obj_in_light-Bowl-None-DeskLamp-308/trial_1/g.tw-pddl")
        '308'
    """
    return Path(game_file).parent.parent.name.rsplit("-", 1)[-1]


# ---- faster loading and stepping --------------------------------------------------------------
# Measured (cProfile, valid_seen games): a new game costs four PDDL->SAS translations, because
# TextWorld builds the planning state in ``load`` and again in ``reset``, each time translating
# twice (a plain copy to play on, and an optimised copy that only the PDDL planner reads, for
# ``policy_commands``, which memplay never requests); and every ``derive`` of a feedback or
# command text re-parses the same grammar strings with tatsu. Both are pure functions of their
# text, so while :func:`fast_textworld` is active they are memoised per process (the planner's
# copy reuses the plain translation; parsed grammar symbols are deep-copied on each use, since
# the deriver mutates them).
# After that (cProfile, 42 valid_seen games played flat), two more costs were most of a step:
# the admissible commands' derivations parse the same conjunctive queries ("obj :: in(o, r)")
# with tatsu again for every command of every step, and each derivation deep-copies its
# context's variables and mapping (entity infos, placeholders) several times, though it only
# ever adds keys to those dicts. So queries are memoised too (a Rule is only read by the state
# that matches it), and a context copy copies the two dicts, not the objects they hold.
_SAS_MEMO: OrderedDict[str, tuple[Any, str]] = OrderedDict()
_SAS_MEMO_SIZE = 4
_GRAMMAR_MEMO: OrderedDict[tuple[str, str], Any] = OrderedDict()
_GRAMMAR_MEMO_SIZE = 20_000
_QUERY_MEMO: OrderedDict[str, Any] = OrderedDict()
_QUERY_MEMO_SIZE = 5_000


def _remember(memo: OrderedDict[Any, Any], key: Any, size: int, compute: Any) -> Any:
    if key not in memo:
        memo[key] = compute()
        while len(memo) > size:
            memo.popitem(last=False)
    memo.move_to_end(key)
    return memo[key]


def _memo_translate(domain: str, problem: str, verbose: bool = False,
                    optimize: bool = False) -> tuple[Any, str]:
    key = hashlib.sha1(f"{domain}\0{problem}".encode()).hexdigest()
    translate = _ORIGINALS["pddl2sas"]
    return _remember(_SAS_MEMO, key, _SAS_MEMO_SIZE,  # optimize: see the note above
                     lambda: translate(domain, problem, verbose=verbose))


def _memo_parse(text: str, rule_name: str, trace: bool = False) -> Any:
    parse = _ORIGINALS["_parse_and_convert"]
    symbols = _remember(_GRAMMAR_MEMO, (text, rule_name), _GRAMMAR_MEMO_SIZE,
                        lambda: parse(text, rule_name=rule_name, trace=trace))
    return copy.deepcopy(symbols)


def _memo_query(cls: Any, expression: str) -> Any:
    parse = _ORIGINALS["parse_conjunctive_query"].__func__
    return _remember(_QUERY_MEMO, expression, _QUERY_MEMO_SIZE, lambda: parse(cls, expression))


def _copy_context(context: dict[str, Any]) -> dict[str, Any]:
    # textgen's own copy deep-copies "variables" and "mapping"; derivations only add keys
    return {**context, "variables": dict(context["variables"]),
            "mapping": dict(context["mapping"])}


_ORIGINALS: dict[str, Any] = {}
_ACTIVE = {"depth": 0}
_PATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def fast_textworld() -> Iterator[None]:
    """While active, PDDL translation, grammar parsing and TextWorld's conjunctive queries are
    memoised, and derivations copy their contexts shallowly (see the note above).

    Nested or concurrent uses share one installation; the originals come back when the last
    one ends.

        >>> with fast_textworld():                    # doctest: +SKIP
        ...     env.load(game_file); state = env.reset(); env.step("look")
    """
    with _PATCH_LOCK:
        if _ACTIVE["depth"] == 0:
            _install_speedups()
        _ACTIVE["depth"] += 1
    argv = list(sys.argv)
    try:
        yield
    finally:
        sys.argv[:] = argv  # fast-downward's translator overwrites sys.argv
        with _PATCH_LOCK:
            _ACTIVE["depth"] -= 1
            if _ACTIVE["depth"] == 0:
                _restore_originals()


def _patch_points() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, memplay's replacement) for every speed-up: one list, so that
    installing and restoring cannot drift apart."""
    import fast_downward
    import textworld.envs.pddl.textgen as textgen
    from textworld.logic import Rule

    return [(fast_downward, "pddl2sas", _memo_translate),
            (textgen, "_parse_and_convert", _memo_parse),
            (textgen, "copy_context", _copy_context),
            (Rule, "parse_conjunctive_query", classmethod(_memo_query))]


def _install_speedups() -> None:
    for owner, name, replacement in _patch_points():
        _ORIGINALS[name] = vars(owner)[name]  # a classmethod stays a classmethod
        setattr(owner, name, replacement)


def _restore_originals() -> None:
    for owner, name, _ in _patch_points():
        setattr(owner, name, _ORIGINALS[name])


class ALFWorldEnv(TextEnv):
    """One ALFWorld game per episode; reward 1 when the task is done.

    Args:
        split: "train" or "eval_in_distribution" (alias "valid_seen").
        task_types: Keep only these task types (names from ``TASK_TYPES``).
        game: Always play this game (index into ``games``) unless reset options say otherwise.
        data_dir: Folder containing ``json_2.1.1`` (default ``$ALFWORLD_DATA``).
        expert: Run alfworld's handcoded expert alongside; ``info["expert_action"]`` is its
            next action (it reads the game's facts, so steps are slower).
        fast_load: Reuse one TextWorld environment across games and memoise PDDL translation
            and grammar parsing (see :func:`fast_textworld`); False runs TextWorld as it is.

    ``reset(options={"game": i})`` picks game ``i`` (or a game-file path, absolute or relative
    to the data root as demos record it); ``options={"task_type": name}`` draws among that
    type; otherwise the seed draws a game, or, with ``games_by_seed=True``, seed ``i`` plays
    game ``i`` (modulo the number of games: task seeds are game indices, as benchmarks want).
    While an episode runs, ``info["view"]`` holds the portable view of the state and actions
    (:mod:`memplay.environments.alfworld.view`); ``info["achieved_goals"]`` lists the goals
    the last step achieved, whatever the task (:mod:`memplay.environments.alfworld.goals`:
    what hindsight relabelling learns from). ``timings`` adds up seconds spent loading
    games, resetting and stepping.

        >>> env = ALFWorldEnv(data_dir="/nowhere")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        memplay.errors.DataNotFound: ALFWorld data not found: ...
    """

    def __init__(self, split: str = "eval_in_distribution",
                 task_types: list[str] | tuple[str, ...] | None = None,
                 game: int | None = None, data_dir: str | None = None,
                 expert: bool = False, fast_load: bool = True,
                 games_by_seed: bool = False) -> None:
        super().__init__()
        self.root = alfworld_data_dir(data_dir, split)
        types = tuple(task_types) if task_types is not None else TASK_TYPES
        unknown = [t for t in types if t not in TASK_TYPES]
        if unknown or not types:
            raise ConfigError(f"task_types={list(types)!r}: unknown {unknown}; use names from "
                              f"{list(TASK_TYPES)}")
        self.split = split
        self.games = collect_games(str(self.root), split, types)
        if not self.games:
            raise DataNotFound(f"no ALFWorld games of types {list(types)} in split {split!r} "
                               f"under {str(self.root)!r}; {_GET_DATA}")
        self.fixed_game = None if game is None else self._game_index(game)
        self.expert, self.fast_load = bool(expert), bool(fast_load)
        self.games_by_seed = bool(games_by_seed)
        self._seed: int | None = None
        self.timings = {"load_s": 0.0, "reset_s": 0.0, "step_s": 0.0,
                        "loads": 0, "resets": 0, "steps": 0}
        self._tw: Any = None
        self._tw_file: str | None = None
        self.game_file = self.games[0]
        self._last = ""
        self._goal_text = "Complete the household task."
        self._state: Any = None
        self._tracker: AlfredTracker | None = None
        self._achieved = AchievedGoals()
        self._new_goals: list[str] = []

    def _game_index(self, game: object) -> int:
        if isinstance(game, bool) or not isinstance(game, int) or not 0 <= game < len(self.games):
            raise ConfigError(f"game={game!r} is not a game index; use 0..{len(self.games) - 1}")
        return game

    def walkthrough(self) -> list[str]:
        """The stored solution of the current game.

            >>> env.walkthrough()[:1]  # doctest: +SKIP
            ['go to desk 1']
        """
        return read_walkthrough(self.game_file)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        """Start a game (see the class docstring for how it is chosen).

            >>> env = ALFWorldEnv(games_by_seed=True)             # doctest: +SKIP
            >>> env.reset(seed=3)[1]["game_file"] == env.games[3]  # doctest: +SKIP
            True
        """
        self._seed = seed
        return super().reset(seed=seed, options=options)

    def _pick(self, options: dict[str, Any]) -> str:
        by_seed = self._seed % len(self.games) if self.games_by_seed and self._seed is not None \
            else None
        choice = options.get("game", self.fixed_game if by_seed is None else by_seed)
        if isinstance(choice, str):
            if choice not in self.games:  # a demo's portable name: relative to the data root
                choice = str(self.root / choice) if not os.path.isabs(choice) else choice
            if choice not in self.games:
                raise ConfigError(f"options['game']={choice!r} is not a game file of split "
                                  f"{self.split!r}; pass an index or one of env.games")
            return choice
        if choice is not None:
            return self.games[self._game_index(choice)]
        pool = list(self.games)
        if "task_type" in options:
            pool = [g for g in pool if task_type_of(g) == options["task_type"]]
            if not pool:
                raise ConfigError(f"options['task_type']={options['task_type']!r} matches no "
                                  f"game; use one of {list(TASK_TYPES)}")
        return pool[int(self.np_random.integers(len(pool)))]

    def _reset_game(self, options: dict[str, Any]) -> str:
        self.game_file = self._pick(options)
        if self._tw is None or self._tw_file != self.game_file:
            self._load(self.game_file)
        started = time.perf_counter()
        with self._speedups():
            self._state = self._tw.reset()
        self._count("reset", started)
        self._last = self._state.feedback.split("-= Welcome to TextWorld, ALFRED! =-")[-1].strip()
        # the task is stated once, in the first observation: keep it as the goal
        match = _TASK_RE.search(self._last)
        self._goal_text = match.group(1).strip().rstrip(".") if match else "Complete the task."
        self._tracker = AlfredTracker(self._goal_text, self._last)
        self._achieved, self._new_goals = AchievedGoals(), []
        return self._last

    def _speedups(self) -> contextlib.AbstractContextManager[None]:
        return fast_textworld() if self.fast_load else contextlib.nullcontext()

    def _count(self, phase: str, started: float) -> None:
        self.timings[f"{phase}_s"] += time.perf_counter() - started
        self.timings[f"{phase}s"] += 1

    def _load(self, game_file: str) -> None:
        started = time.perf_counter()
        with self._speedups():
            if self.fast_load and self._tw is not None:
                self._tw.load(game_file)  # same wrappers and fast-downward library, new game
            else:
                self._start(game_file)
        self._tw_file = game_file
        self._count("load", started)

    def _start(self, game_file: str) -> None:
        import textworld
        from alfworld.agents.environment.alfred_tw_env import (
            AlfredDemangler,
            AlfredExpert,
            AlfredInfos,
        )

        self.close()
        request = textworld.EnvInfos(won=True, admissible_commands=True, extras=["gamefile"])
        wrappers: list[Any] = [AlfredDemangler(shuffle=False), AlfredInfos]
        if self.expert:
            wrappers.append(AlfredExpert(expert_type="handcoded"))
            request.extras.append("expert_plan")
        self._tw = textworld.start(game_file, request, wrappers=wrappers)

    def _apply(self, action: str) -> Outcome:
        started = time.perf_counter()
        with self._speedups():
            self._state, _, _ = self._tw.step(action)
        self._count("step", started)
        self._last = str(self._state.feedback).strip()
        if self._tracker is not None:
            self._tracker.update(action, self._last)
        self._new_goals = self._achieved.update(action, self._last)
        won = bool(self._state.won)
        return Outcome("", 1.0 if won else 0.0, won, won)

    def _observe(self) -> str:
        return self._last

    def _goal(self) -> str:
        return self._goal_text

    def _admissible(self) -> list[str]:
        return list(self._state.admissible_commands) if self._state is not None else []

    def _extra_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "task_type": task_type_of(self.game_file), "game_file": self.game_file,
            "won": bool(self._state.won) if self._state is not None else False,
            "achieved_goals": list(self._new_goals)}
        running = self._state is not None and not self._done
        if self._tracker is not None:
            if running:
                info["view"] = self._tracker.view(self._admissible())
            # loops and no-ops are found by what the agent knows (once the view has noticed
            # what can be taken here)
            info["state"] = self._tracker.exact_state()
        if not running:
            return info
        if self.expert:
            plan = self._state.get("extra.expert_plan") or []
            info["expert_action"] = str(plan[0]) if plan else None
        return info

    def close(self) -> None:
        """Close the TextWorld game (it is restarted on the next reset)."""
        if self._tw is not None:
            self._tw.close()
        self._tw, self._tw_file = None, None
