"""RunDir alone knows a run directory's files: no other module spells their names, and a run
writes nothing RunDir does not name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import tomllib
import yaml

from memplay.errors import ConfigError
from memplay.run_dir import RunDir

ROOT = Path(__file__).resolve().parents[2]
RUN_FILES = ("config.yaml", "llm.json", "episodes.jsonl", "trajectories.jsonl", "metrics.json",
             "learning_curve.png", "memory_stats.jsonl", "curriculum.jsonl", "rounds.jsonl",
             "measures.jsonl", "games.jsonl", "report.html")
# a string that is one of the names, or a path ending in one ("selfplay/measures.jsonl")
NAMED = re.compile(r"(?:^|/)(" + "|".join(map(re.escape, RUN_FILES)) + r")$")


def package_sources() -> list[Path]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    folders = data["tool"]["setuptools"]["package-dir"].values()
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def names_in(path: Path) -> set[str]:
    """Run-file names spelled by a string of ``path``'s code (docstrings left out: they may
    name a file to explain it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return {m[1] for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and (m := NAMED.search(node.value))}


def test_only_the_run_dir_module_names_run_files() -> None:
    spelled = {str(p.relative_to(ROOT)): names for p in package_sources() if (names := names_in(p))}
    assert set(spelled) == {"memplay/run_dir.py"}, spelled
    assert spelled["memplay/run_dir.py"] == set(RUN_FILES)  # the scan finds what is there


def test_the_scan_ignores_docstrings_and_messages(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text('"""Reads config.yaml."""\nx = "no config.yaml here"\n'
                      'y = root / "selfplay/measures.jsonl"\n', encoding="utf-8")
    assert names_in(source) == {"measures.jsonl"}


def test_a_run_writes_only_what_run_dir_names(tmp_path: Path) -> None:
    from memplay.agents import Agent

    agent = Agent("FrozenLake-4x4-v0", variant="memrl", epochs=2, tasks=[0, 1],
                  parallel_envs=2, config={"llm": "scripted", "memory": {"embedder": "hash"}})
    agent.run(run_dir=tmp_path, progress=False)
    agent.close()
    run = RunDir(tmp_path)
    named = {getattr(run, p).relative_to(run.root).parts[0] for p, v in vars(RunDir).items()
             if isinstance(v, property)}
    named.add(run.episodes_lock.name + ".lock")  # the file DirectoryLock(episodes_lock) holds
    written = {p.name for p in tmp_path.iterdir()}
    assert written - named == set(), f"RunDir should name {written - named}"
    assert {"config.yaml", "llm.json", "episodes.jsonl", "metrics.json", "memory"} <= written


def test_recorded_memory_dir_follows_config_yaml(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    assert run.recorded_memory_dir() is None  # no run here yet
    run.config.write_text(yaml.safe_dump({"env_id": "x"}), encoding="utf-8")
    assert run.recorded_memory_dir() == run.memory
    elsewhere = tmp_path / "elsewhere"
    run.config.write_text(yaml.safe_dump({"memory_dir": run.memory_dir_setting(elsewhere)}),
                          encoding="utf-8")
    assert run.recorded_memory_dir() == elsewhere.resolve()
    assert run.memory_dir_setting(run.memory) is None  # the default moves with the run


def test_a_bad_memory_dir_names_the_file(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.config.write_text("memory_dir: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"memory_dir=\[1, 2\] in .*config\.yaml"):
        run.recorded_memory_dir()


def test_an_unwritable_run_dir_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="not writable"):
        RunDir(blocker / "run").ensure_writable()
