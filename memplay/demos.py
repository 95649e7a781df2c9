"""Demonstrations: episodes the agent did not play, read from and written to JSONL files.

A demo file holds one of two line shapes (they may be mixed):

* one :class:`~memplay.types.Trajectory` per line, as runs write ``trajectories.jsonl``, with
  optional ``provenance``, ``source`` and ``episode`` keys next to the trajectory's fields;
* one step per line, ``{"episode": <id>, "env_id": ..., "seed": <int> (or "task"), "goal": ...,
  "observation": ..., "action": ..., "reward": ...}`` (optional: ``admissible_actions``,
  ``thought``, ``info``, ``success``, ``provenance``, ``source``); lines with the same episode id
  form one episode, steps and episodes in file order.

Every line is validated; the first bad one stops the read with a :class:`ConfigError` naming
``file:line`` and the fix (a missing file is :class:`DataNotFound`), so a caller either gets
every episode or none. Each episode carries its ``provenance`` ("demo" by default, "import" for
another run's archive, "self" for the agent's own play) and a free-text ``source``.

    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "demos.jsonl"
    >>> rows = [{"episode": 7, "env_id": "FrozenLake-4x4-v0", "seed": 0, "goal": "reach G",
    ...          "observation": "at S", "action": "right", "reward": 0.0},
    ...         {"episode": 7, "env_id": "FrozenLake-4x4-v0", "seed": 0, "goal": "reach G",
    ...          "observation": "next to S", "action": "down", "reward": 1.0}]
    >>> _ = path.write_text("\\n".join(json.dumps(r) for r in rows))
    >>> [demo] = read_demos(path)
    >>> demo.trajectory.actions, demo.trajectory.success, demo.provenance
    (['right', 'down'], True, 'demo')
    >>> demo.origins[1].endswith("demos.jsonl:2")
    True
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memplay._atomic import write_text_atomic
from memplay.config import format_validation_error
from memplay.errors import ConfigError, DataNotFound
from memplay.types import Step, Trajectory

__all__ = ["PROVENANCES", "DemoEpisode", "Provenance", "read_demos", "write_demos"]

Provenance = Literal["demo", "import", "self"]
PROVENANCES: tuple[str, ...] = ("demo", "import", "self")
_EPISODE_KEYS = ("provenance", "source", "episode")  # demo keys allowed beside a trajectory
_SAME_IN_EPISODE = ("env_id", "seed", "goal", "provenance", "source")


class DemoEpisode(BaseModel):
    """One demonstration: a trajectory plus where it came from.

        >>> d = DemoEpisode(trajectory=Trajectory(env_id="x", seed=3), source="bfs-solver")
        >>> d.provenance, d.name, d.origin(0)
        ('demo', 'x seed 3', '')
    """

    model_config = ConfigDict(extra="forbid")

    trajectory: Trajectory
    provenance: Provenance = Field(default="demo", description="demo, import or self.")
    source: str = Field(default="", description="Free text: a solver's name, a file path.")
    episode: str = Field(default="", description="The episode id it had in its file.")
    origins: list[str] = Field(default_factory=list,
                               description="'file:line' of each step, when read from a file.")

    @property
    def name(self) -> str:
        """The episode's id in its file, else ``"<env_id> seed <seed>"``."""
        return self.episode or f"{self.trajectory.env_id} seed {self.trajectory.seed}"

    def origin(self, step: int) -> str:
        """``file:line`` of step ``step`` (0-based), or "" when the demo was not read from a file.

        >>> DemoEpisode(trajectory=Trajectory(env_id="x"), origins=["d.jsonl:4"]).origin(0)
        'd.jsonl:4'
        """
        return self.origins[step] if 0 <= step < len(self.origins) else ""


class _StepLine(BaseModel):
    """One line of the step-per-line shape."""

    model_config = ConfigDict(extra="forbid", strict=True)

    episode: str | int
    env_id: str
    seed: int | None = None
    task: str | int | None = None
    goal: str = ""
    observation: str
    action: str
    reward: float = 0.0
    admissible_actions: list[str] = Field(default_factory=list)
    thought: str | None = None
    info: dict[str, Any] = Field(default_factory=dict)
    success: bool | None = None
    provenance: Provenance | None = None
    source: str | None = None


def read_demos(path: str | Path, *, provenance: Provenance | None = None,
               source: str | None = None) -> list[DemoEpisode]:
    """Read and validate a demo file; every episode or a ConfigError naming ``file:line``.

    Args:
        path: A JSONL file of trajectories and/or steps (see the module docstring).
        provenance: Overrides every episode's provenance (else the file's, else "demo").
        source: Overrides every episode's source (else the file's, else the path).

        >>> read_demos("no/such/file.jsonl")
        Traceback (most recent call last):
        ...
        memplay.errors.DataNotFound: demo file 'no/such/file.jsonl' does not exist; check the path
    """
    if provenance is not None and provenance not in PROVENANCES:
        raise ConfigError(f"provenance={provenance!r} is unknown; use one of {PROVENANCES}")
    where = Path(path)
    if not where.is_file():
        raise DataNotFound(f"demo file {str(where)!r} does not exist; check the path")
    # episode key -> its lines, in order of first appearance; a trajectory line is an episode
    # of its own, keyed by where it is
    episodes: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for line_no, obj in _json_lines(where):
        origin = f"{where}:{line_no}"
        if "steps" in obj:
            episodes[("line", origin)] = [(origin, _trajectory_line(obj, origin))]
        elif "action" in obj:
            step = _validated(_StepLine, obj, origin)
            episodes.setdefault(("id", str(step.episode)), []).append((origin, step))
        else:
            raise ConfigError(f"{origin}: a line needs 'steps' (one trajectory) or 'action' (one "
                              "step); see memplay.demos for the two line shapes")
    if not episodes:
        raise ConfigError(f"{where}: holds no demo lines; write one trajectory or step per line")
    demos = [_episode(lines) for lines in episodes.values()]
    return [d.model_copy(update={"provenance": provenance or d.provenance,
                                 "source": source or d.source or str(where)}) for d in demos]


def _json_lines(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{line_no}: not valid JSON ({exc.msg} at column "
                                  f"{exc.colno}); write one JSON object per line") from None
            if not isinstance(obj, dict):
                raise ConfigError(f"{path}:{line_no}: a line must be a JSON object, got "
                                  f"{type(obj).__name__}")
            yield line_no, obj


def _validated(model: type[_StepLine] | type[Trajectory], obj: dict[str, Any], origin: str
               ) -> Any:
    try:
        return model.model_validate(obj, strict=True)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {format_validation_error(exc)}") from None


def _trajectory_line(obj: dict[str, Any], origin: str) -> DemoEpisode:
    extra = {key: obj[key] for key in _EPISODE_KEYS if key in obj}
    trajectory = _validated(Trajectory, {k: v for k, v in obj.items() if k not in extra}, origin)
    if "episode" in extra and isinstance(extra["episode"], int):
        extra["episode"] = str(extra["episode"])
    try:
        demo = DemoEpisode.model_validate({"trajectory": trajectory, **extra}, strict=True)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {format_validation_error(exc)}") from None
    return demo.model_copy(update={"origins": [origin] * len(trajectory.steps)})


def _episode(lines: list[tuple[str, Any]]) -> DemoEpisode:
    first_origin, first = lines[0]
    if isinstance(first, DemoEpisode):
        return first
    seed = _seed(first, first_origin)
    for origin, step in lines[1:]:
        for key in _SAME_IN_EPISODE:
            mine = _seed(step, origin) if key == "seed" else getattr(step, key)
            theirs = seed if key == "seed" else getattr(first, key)
            if mine != theirs:
                raise ConfigError(f"{origin}: episode {first.episode!r} has {key}={mine!r} here "
                                  f"but {key}={theirs!r} at {first_origin}; one episode is one "
                                  "env and seed: fix the line or give it another episode id")
    steps = [Step(observation=s.observation, action=s.action, reward=s.reward,
                  admissible_actions=s.admissible_actions, thought=s.thought, info=s.info)
             for _, s in lines]
    total = sum(s.reward for s in steps)
    last = lines[-1][1]
    trajectory = Trajectory(env_id=first.env_id, goal=first.goal, seed=seed, steps=steps,
                            success=total > 0 if last.success is None else last.success,
                            total_reward=total)
    return DemoEpisode(trajectory=trajectory, provenance=first.provenance or "demo",
                       source=first.source or "", episode=str(first.episode),
                       origins=[origin for origin, _ in lines])


def _seed(step: _StepLine, origin: str) -> int | None:
    task = step.task
    if isinstance(task, str):
        if not task.isdecimal():
            raise ConfigError(f"{origin}: task={task!r} must be an integer reset seed (or use "
                              "'seed'); memplay runs name tasks by their seed")
        task = int(task)
    if task is not None and step.seed is not None and task != step.seed:
        raise ConfigError(f"{origin}: task={step.task!r} and seed={step.seed!r} disagree; give "
                          "only one of them")
    return step.seed if step.seed is not None else task


def write_demos(path: str | Path, demos: Iterable[DemoEpisode]) -> int:
    """Write demos atomically, one trajectory per line with its provenance; return the count.

    Step origins are not written (they point into the file the demo was read from).

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
        >>> demo = DemoEpisode(trajectory=Trajectory(env_id="x", seed=1), provenance="import")
        >>> write_demos(path, [demo]), read_demos(path)[0].provenance
        (1, 'import')
    """
    lines = []
    for demo in demos:
        row = demo.trajectory.model_dump(mode="json")
        row.update(provenance=demo.provenance, source=demo.source)
        if demo.episode:
            row["episode"] = demo.episode
        lines.append(json.dumps(row, ensure_ascii=False))
    write_text_atomic(Path(path), "".join(f"{line}\n" for line in lines))
    return len(lines)
