"""Resuming a run keeps what it played with: the memory directory, the backend, the weights."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

import memplay.agents.agent as agent_module
from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.app.cli import main
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM
from memplay.memory import HashEmbedder


def _args(*extra: str) -> list[str]:
    return ["--env", "FrozenLake-4x4-v0", "--llm", "scripted", "--embedder", "hash",
            "--tasks", "2", "--max-steps", "6", "--no-progress", *extra]


def _visits(memory: Path) -> int:
    rows = [json.loads(line) for line in
            (memory / "steps" / "states.jsonl").read_text().splitlines()]
    return sum(a["visits"] for row in rows for a in row["actions"].values())


def _saved(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((run / "config.yaml").read_text())
    return data


class OwnLLM(ScriptedLLM):
    """A user's backend class that is not in the LLM registry."""


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMPLAY_DEBUG", raising=False)


def test_resume_continues_on_the_memory_dir_the_run_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, other = tmp_path / "first", tmp_path / "other"
    first.mkdir(), other.mkdir()
    monkeypatch.chdir(first)  # a relative --memory-dir, resumed from another directory
    assert main(["run", *_args("--epochs", "1", "--run-dir", "run", "--memory-dir", "mem")]) == 0
    memory, run = first / "mem", first / "run"
    assert _saved(run)["memory_dir"] == str(memory)
    before = _visits(memory)

    monkeypatch.chdir(other)
    assert main(["run", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert not (run / "memory").exists() and not (other / "mem").exists()
    assert _visits(memory) > before  # epoch 2 learned into the same memory
    assert _saved(run)["memory_dir"] == str(memory)


def test_default_memory_dir_is_recorded_as_the_runs_own(tmp_path: Path) -> None:
    assert main(["run", *_args("--epochs", "1", "--run-dir", str(tmp_path / "run"))]) == 0
    assert _saved(tmp_path / "run")["memory_dir"] is None  # <run>/memory moves with the run
    assert (tmp_path / "run" / "memory" / "store").is_dir()


def test_python_rerun_of_a_run_dir_finds_its_recorded_memory(tmp_path: Path) -> None:
    first = Agent("FrozenLake-4x4-v0", llm=ScriptedLLM(), embedder=HashEmbedder(256),
                  max_steps=6)
    first.run(epochs=1, tasks=[0, 1], run_dir=tmp_path / "run", memory_dir=tmp_path / "mem",
              progress=False)
    first.close()
    before = _visits(tmp_path / "mem")
    again = Agent("FrozenLake-4x4-v0", llm=ScriptedLLM(), embedder=HashEmbedder(256),
                  max_steps=6)
    again.run(epochs=2, tasks=[0, 1], run_dir=tmp_path / "run", progress=False)
    again.close()
    assert _visits(tmp_path / "mem") > before and not (tmp_path / "run" / "memory").exists()


def test_an_llm_object_from_the_registry_is_recorded_by_its_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = Agent("FrozenLake-4x4-v0", llm=ScriptedLLM(), embedder=HashEmbedder(256),
                  max_steps=6, memory={"embedder": "hash"})
    assert agent.config.llm == "scripted"  # not the config's default, transformers
    agent.run(epochs=1, tasks=[0, 1], run_dir=tmp_path / "run", progress=False)
    agent.close()
    assert _saved(tmp_path / "run")["llm"] == "scripted"
    played = json.loads((tmp_path / "run" / "llm.json").read_text())
    assert played == {"llm": "scripted", "class": "memplay.llm.fake.ScriptedLLM",
                      "name": "scripted"}

    built: list[str] = []
    real = agent_module.make_llm
    monkeypatch.setattr(agent_module, "make_llm",
                        lambda config: built.append(config.llm) or real(config))
    assert main(["run", "--resume", str(tmp_path / "run"), "--epochs", "2",
                 "--no-progress"]) == 0
    assert built == ["scripted"]  # not the embedded model
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["episodes"] == 4


def test_an_unregistered_llm_object_must_be_passed_again_to_resume(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    agent = Agent("FrozenLake-4x4-v0", llm=OwnLLM(), embedder=HashEmbedder(256), max_steps=6,
                  memory={"embedder": "hash"})
    agent.run(epochs=1, tasks=[0, 1], run_dir=run, progress=False)
    agent.close()
    assert json.loads((run / "llm.json").read_text())["llm"] is None

    assert main(["run", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "test_agent_resume.OwnLLM" in err and "--llm NAME" in err and "\n" not in err.strip()
    with pytest.raises(ConfigError, match=r"OwnLLM.*Agent\(llm=\.\.\.\)"):
        Agent("FrozenLake-4x4-v0", memory={"embedder": "hash"}).run(
            epochs=2, tasks=[0, 1], run_dir=run, progress=False)
    assert json.loads((run / "metrics.json").read_text())["episodes"] == 2  # nothing ran

    # naming a registered backend resumes, and the run now records it
    assert main(["run", "--resume", str(run), "--llm", "scripted", "--epochs", "2",
                 "--no-progress"]) == 0
    assert json.loads((run / "llm.json").read_text())["llm"] == "scripted"
    assert json.loads((run / "metrics.json").read_text())["episodes"] == 4
    # and passing an object again works in Python
    again = Agent("FrozenLake-4x4-v0", llm=OwnLLM(), embedder=HashEmbedder(256), max_steps=6)
    again.run(epochs=3, tasks=[0, 1], run_dir=run, progress=False)
    again.close()
    assert json.loads((run / "metrics.json").read_text())["episodes"] == 6


def _trained(run: Path, versions: int) -> None:
    for n in range(1, versions + 1):
        (run / "models" / f"v{n}").mkdir(parents=True)
        (run / "models" / f"v{n}" / "version.json").write_text("{}")
    (run / "models" / f"v{versions + 1}").mkdir()  # cut off mid-save: no version.json


def test_resume_plays_with_the_runs_latest_hand_trained_version(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    models: list[str | None] = []

    def stand_in(config: AgentConfig) -> ScriptedLLM:  # records the model, loads nothing
        models.append(config.model)
        return ScriptedLLM()

    monkeypatch.setattr(agent_module, "make_llm", stand_in)
    run = tmp_path / "run"
    assert main(["run", "--env", "FrozenLake-4x4-v0", "--embedder", "hash", "--tasks", "2",
                 "--max-steps", "6", "--epochs", "1", "--run-dir", str(run),
                 "--no-progress"]) == 0
    assert models == [None]
    _trained(run, versions=2)  # e.g. two `memplay train` rounds by hand (train_every 0)

    with caplog.at_level(logging.WARNING, logger="memplay.agents.agent"):
        assert main(["run", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert models[-1] == str(run / "models" / "v2")
    assert "latest trained version" in caplog.text and str(run / "models" / "v2") in caplog.text
    assert _saved(run)["model"] is None  # a later round by hand is picked up next time

    assert main(["run", "--resume", str(run), "--epochs", "3", "--model", "/base",
                 "--no-progress"]) == 0
    assert models[-1] == "/base"  # a chosen model wins
    again = Agent(config=run / "config.yaml")
    again.run(epochs=4, run_dir=run, progress=False)
    again.close()
    assert models[-1] == "/base"  # config.yaml now records the chosen model


def test_run_record_reads_memory_dir_alone(tmp_path: Path) -> None:
    from memplay.agents.agent import RunRecord

    # a variant registered only by the program that ran it: inspect/export still find memory
    (tmp_path / "config.yaml").write_text("variant: memrl+mine\nmemory_dir: /data/mem\n")
    assert RunRecord.read(tmp_path).memory_dir == Path("/data/mem")
    (tmp_path / "config.yaml").write_text("variant: memrl\n")
    assert RunRecord.read(tmp_path).memory_dir == tmp_path / "memory"
    (tmp_path / "config.yaml").write_text("memory_dir: [1, 2]\n")
    with pytest.raises(ConfigError, match=r"memory_dir=\[1, 2\].*must be a path"):
        RunRecord.read(tmp_path)
    (tmp_path / "llm.json").write_text("{not json")
    (tmp_path / "config.yaml").write_text("variant: memrl\n")
    with pytest.raises(ConfigError, match=r"llm\.json.*not readable JSON"):
        RunRecord.read(tmp_path)
