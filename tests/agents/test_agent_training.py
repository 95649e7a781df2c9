"""train_every inside a run, with the scripted LLM and a stand-in trainer (no model loads).

The scripted scorer walks FrozenLake-4x4's safe path from whatever cell the prompt's
observation names, so every episode succeeds and each round has data; a scorer that only
says "left" never succeeds, so rounds are skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.training import EpochTrainer, check_trainable, due_after, loop_train_config
from memplay.app.cli import main
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM, prompt_text
from memplay.memory import HashEmbedder
from memplay.trainers import loop
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.modeling import save_model
from memplay.trainers.records import ChatRecord, PreferencePair
from memplay.trainers.result import TrainResult
from memplay.trainers.rounds import describe_rounds, read_rounds
from memplay.trainers.version import ModelVersion, list_versions, read_version
from memplay.types import EpisodeResult, Step, Trajectory

PLAN = {(0, 0): "down", (1, 0): "down", (2, 0): "right", (2, 1): "right", (2, 2): "down",
        (3, 2): "right"}


def solver(prompt: Any, action: str) -> float:
    """Score 0 for the safe path's move from the cell the observation names, else -20."""
    cells = re.findall(r"You are at row (\d), column (\d)", prompt_text(prompt))
    row, col = map(int, cells[-1])
    return 0.0 if PLAN.get((row, col)) == action else -20.0


@dataclass
class ReloadableLLM(ScriptedLLM):
    """The scripted LLM plus the reload method the weight loop needs."""

    loaded: list[Path] = field(default_factory=list)

    def reload(self, model: str | Path | None = None) -> None:
        self.loaded.append(Path(str(model)))


class FakeTrainer:
    """Stands in for SFTTrainer/DPOTrainer: records its inputs, saves a weightless folder."""

    made: ClassVar[list[FakeTrainer]] = []
    fail: ClassVar[bool] = False

    def __init__(self, start: Any, config: Any) -> None:
        self.start, self.config, self.data = start, config, []
        FakeTrainer.made.append(self)

    def train(self, data: list[Any]) -> TrainResult:
        if FakeTrainer.fail:
            raise RuntimeError("out of memory (simulated)")
        self.data = data
        return TrainResult(losses=[2.0, 0.5], steps=2, seconds=0.1, examples=len(data))

    def save(self, out: Path, version: int | None = None, run_dir: Any = None,
             **fields: Any) -> ModelVersion:
        record = ModelVersion(path=str(out), method="sft", base_model=str(self.start),
                              version=version, run_dir=str(run_dir), examples=len(self.data),
                              losses=[2.0, 0.5], config={"max_steps": self.config.max_steps},
                              **fields)
        return read_version(save_model(Saver(), Saver(), out, record))


class Saver:
    def save_pretrained(self, folder: str, **_: object) -> None:
        (Path(folder) / "weights").write_text("w")


@pytest.fixture(autouse=True)
def fake_trainer(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeTrainer.made, FakeTrainer.fail = [], False
    monkeypatch.setattr(loop, "_make_trainer", FakeTrainer)


def _agent(llm: Any, **overrides: Any) -> Agent:
    # the scripted solver reads the observation: trained versions keep the run's prompt here
    # (test_a_trained_version_plays_as_its_recipe_says checks the play settings)
    settings: dict[str, Any] = {"max_steps": 8, "parallel_envs": 2, "play_as_trained": False,
                                "policy": {"temperature": 0.0, "calibrate": False}, **overrides}
    settings.setdefault("variant", "memrl")
    return Agent("FrozenLake-4x4-v0", llm=llm, embedder=HashEmbedder(64), **settings)


def _run(run_dir: Path, llm: Any, epochs: int, **overrides: Any) -> Any:
    agent = _agent(llm, **overrides)
    try:
        return agent.run(epochs=epochs, tasks=[0, 1], run_dir=run_dir, progress=False)
    finally:
        agent.close()


def test_rounds_follow_train_every_and_never_the_last_epoch() -> None:
    def rounds(k: int, epochs: int) -> list[int]:
        return [e for e in range(epochs) if due_after(AgentConfig(train_every=k, epochs=epochs),
                                                       e)]
    assert rounds(2, 6) == [1, 3]
    assert rounds(1, 3) == [0, 1]
    assert rounds(3, 3) == [] and rounds(0, 5) == []


def test_rounds_train_save_reload_and_record_success(tmp_path: Path) -> None:
    llm = ReloadableLLM(scores=solver)
    result = _run(tmp_path, llm, 3, train_every=1, train={"max_steps": 7, "learning_rate": 1e-3})
    assert result.success_per_epoch == [1.0, 1.0, 1.0]  # the run went on after each round
    v1, v2 = list_versions(tmp_path)
    assert llm.loaded == [v1, v2]  # each new version was loaded right after its round
    first, second = read_version(v1), read_version(v2)
    assert (first.after_epoch, second.after_epoch) == (0, 1)
    assert first.episodes == {"total": 2, "successes": 2}
    assert second.episodes == {"total": 4, "successes": 4}
    assert first.success_per_epoch == {1: 1.0} and second.success_per_epoch == {2: 1.0}
    assert second.success_after == 1.0
    # rounds compound, with the run's settings and the prompt the agent plays with
    assert [t.start for t in FakeTrainer.made] == [None, v1]
    cfg = FakeTrainer.made[0].config
    assert (cfg.max_steps, cfg.learning_rate, cfg.use_lora) == (7, 1e-3, True)
    record = FakeTrainer.made[0].data[0]
    assert isinstance(record, ChatRecord) and "down: down to ice" in record.messages[-2]["content"]
    assert len(FakeTrainer.made[0].data) == 6  # the 6 steps of the safe path, deduplicated
    assert [(r.after_epoch, r.status, r.version) for r in read_rounds(tmp_path)] == [
        (0, "trained", 1), (1, "trained", 2)]
    assert describe_rounds(tmp_path)[0].startswith(
        "after epoch 1: models/v1, 6 examples (successes), loss 2.000 -> 0.500, ")
    assert read_rounds(tmp_path)[0].losses == [2.0, 0.5]
    assert read_rounds(tmp_path)[0].recipe == first.recipe == "successes"


def test_no_success_skips_the_round_and_the_run_goes_on(tmp_path: Path) -> None:
    llm = ReloadableLLM(scores={"left": 0.0}, default_score=-20.0)
    result = _run(tmp_path, llm, 2, train_every=1)
    assert result.metrics["episodes"] == 4 and result.success_per_epoch == [0.0, 0.0]
    (skipped,) = read_rounds(tmp_path)
    assert skipped.status == "skipped" and "0 successes" in str(skipped.reason)
    assert list_versions(tmp_path) == [] and llm.loaded == [] and FakeTrainer.made == []
    assert describe_rounds(tmp_path) == [f"after epoch 1: skipped ({skipped.reason})"]


def test_too_few_examples_skip_the_round(tmp_path: Path) -> None:
    llm = ReloadableLLM(scores=solver)
    _run(tmp_path, llm, 2, train_every=1, train={"min_examples": 100})
    (skipped,) = read_rounds(tmp_path)
    assert skipped.examples == 6
    assert skipped.reason == "6 examples, fewer than train.min_examples=100"
    assert list_versions(tmp_path) == [] and FakeTrainer.made == []


def test_resume_loads_the_latest_version_and_trains_no_round_twice(tmp_path: Path) -> None:
    _run(tmp_path, ReloadableLLM(scores=solver), 2, train_every=1)  # v1 after epoch 0
    (v1,) = list_versions(tmp_path)
    llm = ReloadableLLM(scores=solver)
    _run(tmp_path, llm, 2, train_every=1)  # finished: nothing to play, nothing to train
    assert llm.loaded == [v1] and len(FakeTrainer.made) == 1
    llm = ReloadableLLM(scores=solver)
    result = _run(tmp_path, llm, 4, train_every=1)  # extended: epochs 1 and 2 are no longer last
    assert llm.loaded[0] == v1  # plays with the latest weights, not the base model
    assert [read_version(p).after_epoch for p in list_versions(tmp_path)] == [0, 1, 2]
    assert len(FakeTrainer.made) == 3 and result.metrics["episodes"] == 8


def test_a_round_cut_off_by_a_crash_is_done_on_resume(tmp_path: Path) -> None:
    FakeTrainer.fail = True
    with pytest.raises(RuntimeError, match="simulated"):
        _run(tmp_path, ReloadableLLM(scores=solver), 2, train_every=1)
    assert list_versions(tmp_path) == [] and read_rounds(tmp_path) == []
    FakeTrainer.fail = False
    llm = ReloadableLLM(scores=solver)
    result = _run(tmp_path, llm, 2, train_every=1)
    (v1,) = list_versions(tmp_path)
    assert read_version(v1).after_epoch == 0 and llm.loaded == [v1]
    assert result.metrics["episodes"] == 4 and read_version(v1).success_per_epoch == {1: 1.0}


def test_backend_without_reload_is_a_config_error_before_any_episode(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"train_every=1 needs an LLM backend that can reload.*"
                       r"llm='transformers'.*train_every=0"):
        _run(tmp_path, ScriptedLLM(scores=solver), 2, train_every=1)
    assert not (tmp_path / "episodes.jsonl").exists()
    _run(tmp_path, ScriptedLLM(scores=solver), 1, train_every=0)  # without training it runs


def test_model_that_is_not_a_local_folder_is_a_config_error(tmp_path: Path) -> None:
    config = AgentConfig(train_every=2, model=str(tmp_path / "model.gguf"))
    with pytest.raises(ConfigError, match=r"not a local transformers folder.*save_pretrained"):
        check_trainable(config, ReloadableLLM())


def test_dpo_rounds_train_on_preference_pairs(tmp_path: Path) -> None:
    env = "FrozenLake-4x4-v0"
    won = Trajectory(env_id=env, goal="g", seed=0, success=True,
                     steps=[Step(observation="a", action="down"),
                            Step(observation="b", action="right")])
    lost = won.model_copy(update={"success": False, "steps": [
        won.steps[0], Step(observation="b", action="left")]})
    (tmp_path / "trajectories.jsonl").write_text(won.model_dump_json() + "\n"
                                                 + lost.model_dump_json() + "\n")
    rows = [EpisodeResult(episode=i, epoch=i // 2, env_id=env, success=i == 0, reward=0.0,
                          steps=2) for i in range(2)]
    (tmp_path / "episodes.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in rows))
    config = AgentConfig(train_every=1, epochs=3, tasks=[0, 1], train={"method": "dpo"})
    assert isinstance(loop_train_config(config), DPOConfig)
    resets: list[str] = []
    trainer = EpochTrainer(tmp_path, ReloadableLLM(), config,
                           on_reload=lambda path: resets.append("bias"))
    record = trainer.on_epoch_end(0)
    assert record is not None and record.status == "trained" and resets == ["bias"]
    (pair,) = FakeTrainer.made[0].data
    assert isinstance(pair, PreferencePair) and (pair.chosen, pair.rejected) == ("right", "left")
    assert trainer.on_epoch_end(0) is None and len(FakeTrainer.made) == 1  # idempotent


def test_cli_train_every_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--env", "FrozenLake-4x4-v0", "--llm", "scripted", "--embedder", "hash",
            "--tasks", "2", "--epochs", "2", "--max-steps", "4", "--no-progress",
            "--run-dir", str(tmp_path / "r"), "--train-every", "1"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "train_every=1 needs an LLM backend that can reload" in err and "\n" not in err
    assert main([*args[:-1], "0"]) == 0
    saved = json.dumps((tmp_path / "r" / "config.yaml").read_text())
    assert "train_every: 0" in saved


def test_rounds_train_on_the_critique_memorys_revisions(tmp_path: Path) -> None:
    # The LLM walks along the top row and never wins, so the only data is what the critique
    # search found: its revision trajectories (rows of <memory>/critiques/revisions.jsonl).
    llm = ReloadableLLM(scores={"right": -0.1}, default_score=-9.0)
    _run(tmp_path, llm, 2, train_every=1, variant="memrl+critique",
         reflection={"critique_iterations": 300})
    (record,) = read_rounds(tmp_path)
    assert record.status == "trained" and record.examples >= 1
    assert {r.source for r in FakeTrainer.made[0].data} == {"revision"}


def test_vllm_backend_trains_and_restarts_its_engine_on_the_new_version(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the README says of train_every with vllm: accepted, the round trains, then a new
    engine starts on models/vN with the same engine settings (a fake vllm module; no GPU)."""
    import sys
    import types

    from memplay.llm.vllm_backend import VLLMBackend

    engines: list[tuple[str, dict[str, Any]]] = []

    def engine(model: str, **kwargs: Any) -> Any:
        engines.append((model, kwargs))
        return types.SimpleNamespace(get_tokenizer=lambda: None)

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=engine))
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    config = AgentConfig(llm="vllm", model=str(base), train_every=1, epochs=3, tasks=[0],
                         llm_kwargs={"gpu_memory_utilization": 0.4})
    llm = VLLMBackend(str(base), require_gpu=False, gpu_memory_utilization=0.4)
    check_trainable(config, llm)  # no ConfigError: vllm can reload weights
    won = Trajectory(env_id="FrozenLake-4x4-v0", goal="g", seed=0, success=True,
                     steps=[Step(observation="a", action="down", admissible_actions=["down"])])
    (tmp_path / "trajectories.jsonl").write_text(won.model_dump_json() + "\n")
    row = EpisodeResult(episode=0, epoch=0, env_id=won.env_id, success=True, reward=1.0,
                        steps=1)
    (tmp_path / "episodes.jsonl").write_text(row.model_dump_json() + "\n")
    record = EpochTrainer(tmp_path, llm, config).on_epoch_end(0)
    assert record is not None and record.status == "trained"
    assert FakeTrainer.made[0].start == str(base)  # trained from the model vllm served
    (v1,) = list_versions(tmp_path)
    assert engines == [(str(base), {"enable_prefix_caching": True,
                                    "gpu_memory_utilization": 0.4}),
                       (str(v1), {"enable_prefix_caching": True,
                                  "gpu_memory_utilization": 0.4})]
    assert llm.name == "vllm:v1"
