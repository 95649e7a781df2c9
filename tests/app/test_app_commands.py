"""The agent CLI commands: a scripted end-to-end run, and one-line errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memplay.app.cli import main


def _fast(run_dir: Path, *extra: str) -> list[str]:
    return ["--env", "FrozenLake-4x4-v0", "--llm", "scripted", "--embedder", "hash",
            "--tasks", "2", "--max-steps", "8", "--run-dir", str(run_dir), "--no-progress",
            *extra]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMPLAY_DEBUG", raising=False)


def test_run_eval_inspect_export_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    run = tmp_path / "run"
    assert main(["run", *_fast(run, "--epochs", "2")]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["episodes"] == 4 and len(metrics["success_per_epoch"]) == 2
    items = (run / "memory" / "store" / "items.jsonl").read_text()
    states = (run / "memory" / "steps" / "states.jsonl").read_text()

    assert main(["eval", *_fast(tmp_path / "eval", "--memory-dir", str(run / "memory"))]) == 0
    assert (run / "memory" / "store" / "items.jsonl").read_text() == items  # frozen
    assert (run / "memory" / "steps" / "states.jsonl").read_text() == states
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["episodes"] == 2

    capsys.readouterr()
    assert main(["inspect", str(run)]) == 0
    out = capsys.readouterr().out
    assert "memories by Q" in out and "step memory" in out and "success rate per epoch" in out

    archive = tmp_path / "mem.tar.gz"
    assert main(["export", str(run), str(archive)]) == 0
    assert main(["import", str(archive), str(tmp_path / "copy"), "--embedder", "hash"]) == 0
    assert (tmp_path / "copy" / "store" / "items.jsonl").read_text().count("\n") == \
        items.count("\n")


def test_a_gated_run_records_and_shows_its_model_calls(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["run", *_fast(run, "--epochs", "3", "--gate", "on", "--llm-clip", "1",
                               "--temperature", "0", "--list-actions", "candidates")]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    rows = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    stats = metrics["decision_stats"]
    assert stats["decisions"] == sum(r["steps"] for r in rows)
    assert 0 < stats["model_calls"] < stats["decisions"]  # memory settled some choices
    assert stats["model_calls"] == sum(r["decision_stats"]["model_calls"] for r in rows)
    assert metrics["model_call_fraction"] == stats["model_calls"] / stats["decisions"]
    assert "list_actions: candidates" in (run / "config.yaml").read_text()
    capsys.readouterr()
    assert main(["inspect", str(run)]) == 0
    shown = f"model called in {stats['model_calls']} of {stats['decisions']} decisions"
    assert shown in capsys.readouterr().out


def test_the_gate_without_a_bound_is_one_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *_fast(tmp_path / "run", "--gate", "on")]) == 2
    assert "--llm-clip" in _one_line_error(capsys)


def test_unknown_env_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--env", "FrozenLak-4x4-v0", "--run-dir", str(tmp_path)]) == 2
    err = _one_line_error(capsys)
    assert "FrozenLak-4x4-v0" in err and "FrozenLake-4x4-v0" in err


def test_bad_config_field_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("epochz: 3\n")
    assert main(["run", "--config", str(cfg), "--run-dir", str(tmp_path / "r")]) == 2
    assert "epochz" in _one_line_error(capsys)
    assert main(["run", *_fast(tmp_path / "r", "--epochs", "0")]) == 2
    assert "epochs=0" in _one_line_error(capsys)


def test_unwritable_run_dir_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["run", *_fast(tmp_path / "file" / "run")]) == 2
    assert "not writable" in _one_line_error(capsys)


def test_memory_from_another_embedder_is_one_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem

    store = FaissMemoryStore(HashEmbedder(32))
    store.add([MemoryItem(intent="reach G")])
    store.save(tmp_path / "mem" / "store")
    store.close()
    args = _fast(tmp_path / "r", "--memory-dir", str(tmp_path / "mem"))
    assert main(["eval", *args]) == 2
    assert "embedder" in _one_line_error(capsys).lower()


def test_eval_without_memory_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    assert main(["eval", *_fast(tmp_path / "r")]) == 2
    assert "--memory-dir" in _one_line_error(capsys)


def test_resume_continues_a_run_with_its_saved_config(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["run", *_fast(run, "--epochs", "1")]) == 0
    first = (run / "episodes.jsonl").read_text().splitlines()
    # Only --resume and the new epoch count: env, LLM, embedder and tasks come from config.yaml.
    assert main(["run", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    assert (run / "episodes.jsonl").read_text().splitlines()[:2] == first
    assert sorted(r["episode"] for r in rows) == [0, 1, 2, 3]  # nothing run twice
    assert json.loads((run / "metrics.json").read_text())["episodes"] == 4


def test_resume_refuses_a_directory_that_is_not_a_run(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--resume", str(tmp_path)]) == 2
    assert "is not a memplay run directory" in _one_line_error(capsys)


def test_inspect_shows_the_rules_and_playbook_a_run_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from memplay.agents import Agent
    from memplay.llm.fake import ScriptedLLM
    from memplay.memory import HashEmbedder

    llm = ScriptedLLM(responses=["- Falling into a hole H ends the episode.",
                                 "- Move down twice, then right to reach the goal G."])
    agent = Agent("FrozenLake-4x4-v0", variant="memrl+playbook", max_steps=6, llm=llm,
                  embedder=HashEmbedder(64), reflection={"rewrite_every": 1})
    agent.run(epochs=1, tasks=[0], run_dir=tmp_path / "run", progress=False)
    agent.close()
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "rules and playbook: FrozenLake" in out
    assert "Move down twice, then right to reach the goal G." in out


def _trained_run(tmp_path: Path, versions: int = 1) -> Path:
    """A run folder with a memory and ``versions`` complete model versions (plus a partial)."""
    run = tmp_path / "trained"
    (run / "memory" / "store").mkdir(parents=True)
    for n in range(1, versions + 1):
        (run / "models" / f"v{n}").mkdir(parents=True)
        (run / "models" / f"v{n}" / "version.json").write_text("{}")
    (run / "models" / f"v{versions + 1}").mkdir()  # cut off mid-save: no version.json
    return run


def test_eval_model_picks_the_runs_latest_complete_version(tmp_path: Path) -> None:
    from memplay.agents import AgentConfig
    from memplay.app.commands.run import eval_model

    run = _trained_run(tmp_path, versions=2)
    config, note = eval_model(AgentConfig(), run / "memory")
    assert config.model == str(run / "models" / "v2") and "--model" in note
    chosen = AgentConfig(model="/my/model")
    assert eval_model(chosen, run / "memory") == (chosen, "")  # the user's choice wins
    scripted = AgentConfig(llm="scripted")
    assert eval_model(scripted, run / "memory") == (scripted, "")  # cannot load weights
    untrained = tmp_path / "plain" / "memory"
    assert eval_model(AgentConfig(), untrained)[0].model is None


def test_eval_command_plays_with_the_trained_version(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import memplay.agents.agent
    from memplay.errors import ConfigError

    class StopAgent:  # stands in for Agent: shows the config eval built, loads nothing
        def __init__(self, config: object, llm: object = None) -> None:
            raise ConfigError(f"stop: model={config.model}")  # type: ignore[attr-defined]

    monkeypatch.setattr(memplay.agents.agent, "Agent", StopAgent)
    run = _trained_run(tmp_path)
    args = ["--env", "FrozenLake-4x4-v0", "--memory-dir", str(run / "memory"),
            "--run-dir", str(tmp_path / "eval"), "--no-progress"]
    assert main(["eval", *args]) == 2
    out, err = capsys.readouterr()
    assert f"model={run / 'models' / 'v1'}" in err and "latest trained version" in out
    assert main(["eval", *args, "--model", "/base"]) == 2
    assert "model=/base" in capsys.readouterr().err


@pytest.mark.parametrize(("variant", "folder", "heading"), [
    ("reflexion", "reflexion", "reflexion: "), ("expel", "insights", "insights: FrozenLake")])
def test_reflexion_and_expel_variants_run_inspect_and_travel_in_archives(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str, folder: str,
        heading: str) -> None:
    run = tmp_path / "run"
    assert main(["run", *_fast(run, "--epochs", "2", "--variant", variant)]) == 0
    assert any((run / "memory" / folder).iterdir())  # the reflection wrote its files
    capsys.readouterr()
    assert main(["inspect", str(run)]) == 0
    assert heading in capsys.readouterr().out
    assert main(["export", str(run), str(tmp_path / "m.tar.gz")]) == 0
    assert main(["import", str(tmp_path / "m.tar.gz"), str(tmp_path / "copy")]) == 0
    assert sorted(p.name for p in (tmp_path / "copy" / folder).iterdir()) == \
        sorted(p.name for p in (run / "memory" / folder).iterdir())


def test_unknown_variant_names_the_closest_one(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *_fast(tmp_path / "r", "--variant", "memrl+reflexon")]) == 2
    assert "did you mean 'reflexion'" in _one_line_error(capsys)
