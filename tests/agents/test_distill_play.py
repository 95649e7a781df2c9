"""Play settings of trained versions, and distillation rounds inside a run (no model loads).

A stand-in trainer saves a weightless version folder, so a ``train_every`` run goes through
the real recipe, round record and reload path; the scripted LLM records every prompt, so the
test can see the trained version being played with its recipe's prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.distill.play import config_for_model, play_overrides, with_play
from memplay.agents.distill.recipe import ACTION_PLAY
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM, prompt_text
from memplay.memory import HashEmbedder
from memplay.trainers import loop
from memplay.trainers.modeling import save_model
from memplay.trainers.result import TrainResult
from memplay.trainers.rounds import read_rounds
from memplay.trainers.version import ModelVersion, list_versions, read_version


def version_folder(path: Path, play: dict[str, Any]) -> Path:
    path.mkdir(parents=True)
    ModelVersion(path=str(path), method="sft", base_model="b", play=play).save()
    return path


def test_a_version_plays_with_its_recipes_settings_unless_told_not_to(tmp_path: Path) -> None:
    model = version_folder(tmp_path / "v1", ACTION_PLAY)
    played = config_for_model(AgentConfig(), model)
    assert (played.prompt.state, played.prompt.memory_text, played.prompt.recent_steps) == (
        "view", False, 0)
    assert (played.policy.calibrate, played.policy.temperature) == (False, 0.0)
    assert played.policy.llm_weight == AgentConfig().policy.llm_weight  # not named: kept
    assert config_for_model(AgentConfig(play_as_trained=False), model) == AgentConfig(
        play_as_trained=False)
    assert config_for_model(AgentConfig(), tmp_path) == AgentConfig()  # not a version
    assert play_overrides(model)["policy"]["temperature"] == 0.0


def test_bad_play_settings_name_the_field_and_the_way_out() -> None:
    with pytest.raises(ConfigError, match=r"policy.temperature=-1.*play_as_trained=False"):
        with_play(AgentConfig(), {"policy": {"temperature": -1}})
    with pytest.raises(ConfigError, match="only \\['policy', 'prompt'\\]"):
        with_play(AgentConfig(), {"memory": {"k1": 2}})


def test_agent_on_a_version_folder_plays_its_settings(tmp_path: Path) -> None:
    model = version_folder(tmp_path / "v1", ACTION_PLAY)
    agent = Agent("FrozenLake-4x4-v0", variant="none", llm="scripted", model=str(model),
                  embedder=HashEmbedder(16))
    ctx = agent.context(tmp_path / "memory")
    assert ctx.config.prompt.state == "view" and ctx.config.policy.temperature == 0.0
    ctx.workers.close()


class WeightlessTrainer:
    """Records the data of each round and saves a version folder without weights."""

    made: list[WeightlessTrainer] = []  # noqa: RUF012 - a test's record of instances

    def __init__(self, start: Any, config: Any) -> None:
        self.config, self.data = config, []
        WeightlessTrainer.made.append(self)

    def train(self, data: list[Any]) -> TrainResult:
        self.data = data
        return TrainResult(losses=[1.5, 0.75, 0.5], steps=3, seconds=0.1, examples=len(data))

    def save(self, out: Path, version: int | None = None, run_dir: Any = None,
             **fields: Any) -> ModelVersion:
        record = ModelVersion(path=str(out), method="sft", base_model="b", version=version,
                              examples=len(self.data), losses=[1.5, 0.75, 0.5], **fields)
        return read_version(save_model(_Folder(), _Folder(), out, record))


class _Folder:
    def save_pretrained(self, folder: str, **_: object) -> None:
        (Path(folder) / "weights").write_text("w")


@dataclass
class ReloadableLLM(ScriptedLLM):
    loaded: list[Path] = field(default_factory=list)

    def reload(self, model: str | Path | None = None) -> None:
        self.loaded.append(Path(str(model)))


def test_a_memory_greedy_round_in_a_run_records_itself_and_plays_as_trained(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    WeightlessTrainer.made = []
    monkeypatch.setattr(loop, "_make_trainer", WeightlessTrainer)
    llm = ReloadableLLM(scores={"down": -0.1, "right": -0.5}, default_score=-3.0)
    agent = Agent("FrozenLake-4x4-v0", variant="memrl", llm=llm, embedder=HashEmbedder(64),
                  max_steps=8, parallel_envs=2, train_every=1,
                  train={"recipe": "memory-greedy", "max_steps": 3})
    try:
        agent.run(epochs=2, tasks=[0, 1], run_dir=tmp_path, progress=False)
    finally:
        agent.close()
    (round_,) = read_rounds(tmp_path)
    (v1,) = list_versions(tmp_path)
    assert round_.status == "trained" and round_.recipe == "memory-greedy"
    assert round_.losses == [1.5, 0.75, 0.5] and round_.examples == len(
        WeightlessTrainer.made[0].data) > 0
    version = read_version(v1)
    assert version.recipe == "memory-greedy" and version.play == ACTION_PLAY
    examples = WeightlessTrainer.made[0].data
    assert all("Situation:" in r.messages[1]["content"] for r in examples)
    assert llm.loaded == [v1]
    # epoch 1 read the map; epoch 2, with the trained version, read the portable view
    prompts = [prompt_text(p) for kind, batch in llm.calls if kind == "score" for p in batch]
    assert "Observation:" in prompts[0] and "Situation:" in prompts[-1]
    assert "Situation:" not in prompts[0] and "<hint>" not in prompts[-1]
