"""memplay.demos: the demo file format, its reader (every line validated, file:line errors,
nothing returned on error) and its atomic writer."""

from __future__ import annotations

import ast
import doctest
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import memplay.demos
from memplay.demos import DemoEpisode, read_demos, write_demos
from memplay.errors import ConfigError, DataNotFound
from memplay.types import Step, Trajectory

ENV = "FrozenLake-4x4-v0"


def step_row(episode: Any = 1, action: str = "right", **fields: Any) -> dict[str, Any]:
    row = {"episode": episode, "env_id": ENV, "seed": 0, "goal": "reach G",
           "observation": "o", "action": action, "reward": 0.0}
    row.update(fields)
    return row


def write_rows(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_a_runs_trajectories_file_reads_as_demos(tmp_path: Path) -> None:
    # exactly what agents/run_files.py appends: Trajectory.model_dump_json() per line
    runs = [Trajectory(env_id=ENV, goal="g", seed=s, success=s == 1, total_reward=float(s == 1),
                       steps=[Step(observation="o", action="down", reward=float(s == 1),
                                   admissible_actions=["down"], info={"state": "S", "visits": 2})])
            for s in range(2)]
    path = tmp_path / "trajectories.jsonl"
    path.write_text("".join(t.model_dump_json() + "\n" for t in runs), encoding="utf-8")
    demos = read_demos(path, provenance="import")
    assert [d.trajectory for d in demos] == runs
    assert {d.provenance for d in demos} == {"import"}
    assert demos[0].source == str(path) and demos[1].origins == [f"{path}:2"]
    assert demos[0].name == f"{ENV} seed 0"


def test_step_lines_group_by_episode_in_file_order(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "d.jsonl", [
        step_row("a", "down"), step_row("b", "right", seed=1, reward=0.5), "",
        step_row("a", "right", reward=1.0), step_row("b", "left", seed=1, success=False),
    ])
    first, second = read_demos(path)
    assert (first.episode, first.trajectory.actions, first.trajectory.seed) == \
        ("a", ["down", "right"], 0)
    assert first.trajectory.success and first.trajectory.total_reward == 1.0
    assert (second.trajectory.success, second.trajectory.total_reward) == (False, 0.5)
    assert first.origins == [f"{path}:1", f"{path}:4"] and second.origin(1) == f"{path}:5"


def test_task_is_an_alias_of_seed(tmp_path: Path) -> None:
    row = step_row(task="7")
    del row["seed"]
    [demo] = read_demos(write_rows(tmp_path / "d.jsonl", [row]))
    assert demo.trajectory.seed == 7


def test_provenance_and_source_come_from_lines_unless_overridden(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "d.jsonl", [step_row(provenance="self", source="my run")])
    assert (read_demos(path)[0].provenance, read_demos(path)[0].source) == ("self", "my run")
    overridden = read_demos(path, provenance="demo", source="expert")[0]
    assert (overridden.provenance, overridden.source) == ("demo", "expert")
    with pytest.raises(ConfigError, match="provenance='stolen' is unknown"):
        read_demos(path, provenance="stolen")  # type: ignore[arg-type]


@pytest.mark.parametrize(("rows", "message"), [
    ([step_row(), "{not json"], r"d.jsonl:2: not valid JSON"),
    ([[1, 2]], r"d.jsonl:1: a line must be a JSON object, got list"),
    ([{k: v for k, v in step_row().items() if k != "observation"}],
     r"d.jsonl:1: observation: required field is missing"),
    ([step_row(reward="lots")], r"d.jsonl:1: reward='lots'"),
    ([step_row(seed="3")], r"d.jsonl:1: seed='3'"),
    ([step_row(acton="up")], r"d.jsonl:1: acton: unknown field"),
    ([{"env_id": ENV, "observation": "o"}], r"d.jsonl:1: a line needs 'steps'"),
    ([step_row(), step_row(env_id="Sokoban-v0")],
     r"d.jsonl:2: episode 1 has env_id='Sokoban-v0' here but env_id='FrozenLake-4x4-v0' at "
     r".*d.jsonl:1"),
    ([step_row(), step_row(seed=4)], r"d.jsonl:2: episode 1 has seed=4 here but seed=0"),
    ([step_row(task="kitchen")], r"d.jsonl:1: task='kitchen' must be an integer reset seed"),
    ([step_row(task=2)], r"d.jsonl:1: task=2 and seed=0 disagree"),
    ([step_row(provenance="stolen")], r"d.jsonl:1: provenance='stolen'"),
    ([{"env_id": ENV, "steps": [{"observation": "o"}]}],
     r"d.jsonl:1: steps.0.action: required field is missing"),
    ([{"env_id": ENV, "steps": [], "provenance": "bought"}], r"d.jsonl:1: provenance='bought'"),
    (["", "  "], r"d.jsonl: holds no demo lines"),
])
def test_bad_lines_stop_the_read_naming_file_and_line(tmp_path: Path, rows: list[Any],
                                                      message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_demos(write_rows(tmp_path / "d.jsonl", rows))


def test_a_missing_file_is_data_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFound, match="does not exist"):
        read_demos(tmp_path / "nope.jsonl")


def test_write_then_read_keeps_everything_but_origins(tmp_path: Path) -> None:
    demo = DemoEpisode(trajectory=Trajectory(env_id=ENV, seed=2, success=True, total_reward=1.0,
                                             steps=[Step(observation="o", action="down",
                                                         reward=1.0, info={"view": {"a": 1}})]),
                       provenance="self", source="run 3", episode="e9", origins=["x.jsonl:1"])
    path = tmp_path / "sub" / "out.jsonl"
    assert write_demos(path, [demo, demo]) == 2
    back = read_demos(path)
    assert [b.model_copy(update={"origins": []}) for b in back] == \
        [demo.model_copy(update={"origins": []})] * 2
    assert back[0].origins == [f"{path}:1"]
    assert [p.name for p in path.parent.iterdir()] == ["out.jsonl"]  # no temp file left


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    demo = DemoEpisode(trajectory=Trajectory(env_id=ENV))
    write_demos(path, [demo])
    before = path.read_text(encoding="utf-8")

    def broken() -> Any:
        yield demo
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_demos(path, broken())
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_core_layer_imports_only_core_modules() -> None:
    tree = ast.parse(Path(memplay.demos.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    allowed = {"memplay.types", "memplay.errors", "memplay.config", "memplay._atomic", "pydantic",
               "__future__"}
    for name in imported:
        assert name in allowed or name.split(".")[0] in sys.stdlib_module_names, name


def test_docstring_examples() -> None:
    assert doctest.testmod(memplay.demos).failed == 0
