"""Generated text games: TextWorld's own generator, with knobs a curriculum can turn.

Every reset seed is a new game made by ``textworld.generator.make_game`` (the engine behind
``tw-make custom``) from three knobs: ``rooms``, ``objects`` and ``quest_length`` (the
number of actions the quest needs). Games are compiled once and cached under
``$MEMPLAY_CACHE/textworld/`` (default ``~/.cache/memplay/textworld``), so a seed costs a few
seconds the first time and nothing after; all of it runs offline (textworld ships the
Inform 7 compiler). textworld is an optional dependency: ``pip install memplay[textworld]``
(the ``alfworld`` extra brings it too).

``info`` has the quest as ``goal``, TextWorld's admissible commands, and ``success`` once the
quest is won; the reward is the game's score increase (1 when the quest is done). The
observation is TextWorld's feedback followed by the state: the room description and the
inventory (what ``render()`` returns and step memory keys by). Commands are lower case (the
parser ignores case). :meth:`walkthrough` gives the generator's solution (for demonstrations;
it is never put in ``info``).

    >>> env = TextWorldGenEnv(rooms=2, objects=2, quest_length=1)  # doctest: +SKIP
    >>> obs, info = env.reset(seed=0)                               # doctest: +SKIP
    >>> for action in env.walkthrough():                            # doctest: +SKIP
    ...     obs, reward, done, _, info = env.step(action)
    >>> info["success"]                                             # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from memplay.environments.core import Outcome, TextEnv
from memplay.errors import ConfigError, EnvironmentFault

__all__ = ["TextWorldGenEnv", "clear_cache", "game_cache_dir"]

_INSTALL = "install it with `pip install memplay[textworld]` (offline: textworld 1.7 wheel)"


def game_cache_dir() -> Path:
    """Where generated games are kept: ``$MEMPLAY_CACHE/textworld`` (or XDG's cache).

    >>> game_cache_dir().name
    'textworld'
    """
    # the same root as the embedded model's cache (memplay.llm.embedded.cache_dir);
    # environments sit below the LLM layer, so the three lines are repeated here
    root = os.environ.get("MEMPLAY_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "memplay")
    return Path(root).expanduser() / "textworld"


def _check_knob(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"TextWorld generator: {name}={value!r} must be an int in "
                          f"[{low}, {high}]")
    return value


class TextWorldGenEnv(TextEnv):
    """A generated TextWorld game per reset seed (see the module docstring).

    Args:
        rooms: Rooms in the world (1-20). objects: Objects besides the quest's (0-40).
        quest_length: Actions the quest takes (1-10).
        cache_dir: Folder of compiled games (default :func:`game_cache_dir`).
    """

    def __init__(self, rooms: int = 2, objects: int = 3, quest_length: int = 2,
                 cache_dir: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        self.rooms = _check_knob("rooms", rooms, 1, 20)
        self.objects = _check_knob("objects", objects, 0, 40)
        self.quest_length = _check_knob("quest_length", quest_length, 1, 10)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else game_cache_dir()
        self._game: Any = None  # the running textworld environment
        self._path: Path | None = None
        self._state: Any = None  # textworld's GameState after the last command
        self._start_state: Any = None
        self._score = 0.0

    # ---- games --------------------------------------------------------------------------

    def game_file(self, seed: int) -> Path:
        """The compiled game of ``seed`` (generated and cached on first use)."""
        folder = self.cache_dir / f"r{self.rooms}-o{self.objects}-q{self.quest_length}"
        path = folder / f"seed{seed}.z8"
        if not path.exists():
            self._generate(seed, path)
        return path

    def _generate(self, seed: int, path: Path) -> None:
        textworld = _textworld()
        from textworld.generator import compile_game, make_game

        options = textworld.GameOptions()
        options.seeds = seed
        options.nb_rooms, options.nb_objects = self.rooms, self.objects
        options.quest_length = self.quest_length
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".gen-") as tmp:
            options.path = str(Path(tmp) / path.name)
            options.force_recompile = True
            try:
                compile_game(make_game(options), options)
            except Exception as exc:  # textworld raises assorted errors for impossible knobs
                raise EnvironmentFault(
                    f"TextWorld could not generate a game with rooms={self.rooms}, objects="
                    f"{self.objects}, quest_length={self.quest_length}, seed={seed}: "
                    f"{type(exc).__name__}: {exc}; try a shorter quest or more rooms") from exc
            # the metadata first, the game last: a game file present means both are complete
            os.replace(Path(tmp) / path.with_suffix(".json").name, path.with_suffix(".json"))
            os.replace(Path(tmp) / path.name, path)

    def layout(self) -> str:
        """The running game's world as text: its initial facts with the names of the rooms
        and objects (two seeds with the same layout are the same game).

        >>> TextWorldGenEnv().layout()
        ''
        """
        if self._path is None:
            return ""
        data = json.loads(self._path.with_suffix(".json").read_text(encoding="utf-8"))
        names = {key: (info.get("name") or key) for key, info in data.get("infos", [])}
        facts = []
        for fact in data.get("world", []):
            args = ", ".join(names.get(a["name"], a["name"]) for a in fact["arguments"])
            facts.append(f"{fact['name']}({args})")
        return "\n".join(sorted(facts))

    def walkthrough(self) -> list[str]:
        """The generator's solution of the running game (reset first)."""
        if self._start_state is None:
            raise EnvironmentFault("TextWorldGenEnv.walkthrough(): call reset() first")
        return [str(a).lower() for a in self._start_state["extra.walkthrough"]]

    # ---- TextEnv hooks ------------------------------------------------------------------

    def _reset_game(self, options: dict[str, Any]) -> str:
        seed = int(self.np_random.integers(2**31))  # derived from the reset seed
        path = self.game_file(seed)
        if self._path != path:
            self.close()
            textworld = _textworld()
            infos = textworld.EnvInfos(admissible_commands=True, objective=True, won=True,
                                       lost=True, description=True, inventory=True,
                                       score=True, extras=["walkthrough"])
            with warnings.catch_warnings():  # jericho: "not fully supported" (textworld
                warnings.simplefilter("ignore")  # tracks the score itself, so it is harmless)
                self._game = textworld.start(str(path), request_infos=infos)
            self._path = path
        self._state = self._start_state = self._game.reset()
        self._score = float(self._state["score"] or 0)
        return f"{self._state['objective'].strip()}\n{self._observe()}"

    def _observe(self) -> str:
        if self._state is None:
            return ""
        description = str(self._state["description"] or "").strip()
        return f"{description}\n{str(self._state['inventory'] or '').strip()}"

    def _goal(self) -> str:
        return str(self._state["objective"]).strip() if self._state is not None else ""

    def _admissible(self) -> list[str]:
        if self._state is None:
            return []
        # lower case: agents' actions are normalised to it (TextWorld's parser ignores case)
        return sorted({str(a).lower() for a in self._state["admissible_commands"] or []})

    def _apply(self, action: str) -> Outcome:
        self._state, score, done = self._game.step(action)
        reward, self._score = float(score) - self._score, float(score)
        won = bool(self._state["won"])
        message = _clean(str(self._state.feedback or ""))
        return Outcome(message, reward, bool(done) or won or bool(self._state["lost"]), won)

    def _extra_info(self) -> dict[str, Any]:
        return {"knobs": {"rooms": self.rooms, "objects": self.objects,
                          "quest_length": self.quest_length}}

    def close(self) -> None:
        """Stop the running game."""
        if self._game is not None:
            self._game.close()
        self._game, self._path = None, None


def _clean(feedback: str) -> str:
    """TextWorld's feedback without the prompt line, the end-of-game banner and blank runs."""
    text = feedback.split("\n>")[0].split("*** The End ***")[0]
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


def _textworld() -> Any:
    try:
        import textworld
    except ImportError:
        raise ConfigError(f"TextWorld-gen-v0 needs the textworld package; {_INSTALL}") \
            from None
    return textworld


def clear_cache(cache_dir: str | os.PathLike[str] | None = None) -> None:
    """Delete every cached generated game.

    >>> clear_cache("/tmp/memplay-no-such-cache")
    """
    shutil.rmtree(Path(cache_dir) if cache_dir is not None else game_cache_dir(),
                  ignore_errors=True)
